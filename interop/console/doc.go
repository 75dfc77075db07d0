// Package console checks the emulator's web console ({base}/_emulator/ui/) in a real browser.
//
// The console is a page with its script and style sheet, embedded in the binary
// (emulator/console); everything it shows it reads through the admin API and the Web API. The
// tests here start an in-process emulator on a loopback port and drive Debian's headless Chromium
// (through chromedp, started by internal/browsertest) the way a developer uses the page: list the
// tables, open one, filter and open rows, edit a row (and meet a stale edit's 412), read the
// request journal, add and remove a fault rule, and save and restore a snapshot; and, with an
// admin token set, sign in first. What the page did is checked through the Web API from Go.
//
// Each page is captured as a PNG in the test's temporary directory; with -screenshots the
// captures are also written to docs/console/, the gallery that docs/console/README.md shows:
//
//	go test ./interop/console -run TestConsole -screenshots
//
// Without chromium the tests are skipped, except under CI=true where they fail.
package console
