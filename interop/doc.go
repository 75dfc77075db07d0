// Package interop runs the dynamics-web-api test project against a real emulator process.
//
// The Node project beside this file (package.json, test/*.test.mjs) drives the emulator through
// dynamics-web-api 2.5.0, a widely used JavaScript client for the Dataverse Web API that nobody in
// this project wrote. Its requests are what real applications send, so it checks the emulator from
// the outside in a way the Go client cannot. The Go test builds cmd/emulator, starts it on a free
// loopback port (and with --tls on another), installs the pinned library with npm ci and runs
// node --test, then test/https.test.mjs over HTTPS trusting the emulator's development CA. See
// README.md.
package interop
