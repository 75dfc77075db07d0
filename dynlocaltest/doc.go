// Package dynlocaltest starts an emulated Dataverse organisation inside a Go test: the dynlocal
// emulator on a loopback port, with an in-memory database of its own and a client signed in as the
// development app, closed when the test ends. It is to the emulator what net/http/httptest is to
// an http.Handler.
//
//	func TestSync(t *testing.T) {
//		t.Parallel()
//		dv := dynlocaltest.New(t)
//		c := dv.Client() // a *client.Client for dv.URL()
//
//		_, created, err := c.CreateRecord(t.Context(), "accounts", client.Record{"name": "Contoso"}, nil)
//		...
//		runSync(t.Context(), dv.URL(), dv.TokenURL()) // code under test, with its own client
//	}
//
// # The organisation
//
// New starts an emulator.Server with the built-in fixtures (package fixtures: the standard tables,
// their relationships, a few sample rows and the development identities) and makes it listen on
// 127.0.0.1 at a free port. The Org it returns gives
//
//   - Client, a ready *client.Client signed in with the client credentials of the development
//     app, and NewClient for one with more client options;
//   - URL, the org URL any Dataverse client takes; APIURL, the Web API root (URL/api/data/v9.2/);
//     TokenURL, the tenant's OAuth 2.0 token endpoint; Config, the credentials and the rest of the
//     configuration the server runs with, for code under test that builds its own client;
//   - Server, the *emulator.Server, for what this package does not wrap.
//
// The test's cleanup (t.Cleanup) stops the listener and closes the database. Nothing is written
// to disk unless WithConfig sets a DataDir.
//
// # Fixtures and options
//
// Options change what New starts: WithFixtures, WithFixturesDir and WithFixturesFS start from
// another fixture set (fixtures/README.md describes the files; a set needs the systemuser, team,
// businessunit, organization and transactioncurrency tables, and gets the development identities
// added when it lacks them); WithClock gives the emulator a clock, so createdon, modifiedon and the
// like are known in advance; WithConfig changes any other field of emulator.Config. Options apply
// in order.
//
// # Parallel tests and cost
//
// Every New is a separate organisation with its own database and snapshots, so tests that call
// t.Parallel never see each other's rows, and a test may start several organisations. The first
// New of a fixture set in a test binary loads the set (about a second for the built-in one); the
// emulator keeps the result as the process's baseline for that set, and every later New copies it.
// On a 2-core machine a later New and its cleanup take about 6 ms, and the client's first request,
// which fetches a token, about 3 ms more (BenchmarkNew). So a test that needs a clean organisation
// can simply start one rather than share one and clean up after itself. WithFixturesDir and
// WithFixturesFS read and expand the fixture files on every New (about 0.4 s for a set the size of
// the built-in one); a package with many tests on one custom set loads it once (fixtures.LoadDir
// in a sync.OnceValues) and passes it with WithFixtures.
//
// # One emulator for the package: Shared
//
// By default each New starts an emulator with a listener of its own. With the Shared option, the
// tests of the binary share one emulator, started by the first of them, and each New creates an
// environment in it: a separate organisation served under <emulator>/env/<test name>-<n>, made from
// the same baseline in about 3 ms, and deleted by the test's cleanup. The isolation is the same;
// a test sees its environment's URL in URL() and may share it with code under test as any org URL.
// This is the in-process form of what a CI job does with a running emulator (POST
// /_emulator/environments, see the README).
// # Snapshots and reset
//
// Within a test, Snapshot saves the organisation's whole state under a name, Restore goes back to
// it (as often as needed), and Reset goes back to the fixtures: the admin API's snapshot and reset
// operations (/_emulator/), run in process. Like the other methods that can fail, they fail the
// test through the testing.TB given to New.
//
// # Journal and faults
//
// Journal returns the requests the organisation served, newest first, with their status, caller,
// bodies and, for a refusal, the reason in words: what the code under test sent, for a test to
// assert on. Inject adds a fault rule (answer a status, add latency, reset the connection) for the
// requests it matches, for testing retries and error handling: the admin API's journal and faults
// (/_emulator/requests, /_emulator/faults), in process.
package dynlocaltest
