// Package browser checks the emulator's CORS support from a real browser.
//
// The emulator's own CORS tests (emulator/cors_test.go) send the headers a browser would send and
// look at the answer; they cannot tell whether a browser accepts that answer. The test here serves
// a page on one loopback origin, starts the emulator on another, and drives Debian's headless
// Chromium through the DevTools protocol (chromedp) to load the page. The page's script calls the
// token endpoint and the Web API with fetch(), as single-page apps and MSAL do, and reports what it
// could read: the token, OData-EntityId, ETag, statuses and a Dataverse error body. A second case
// configures the emulator for another origin and checks that the browser blocks the script. See
// README.md.
package browser
