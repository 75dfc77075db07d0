package dynlocaltest_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/dynlocal/dynlocal/client"
	"github.com/dynlocal/dynlocal/dynlocaltest"
	"github.com/dynlocal/dynlocal/emulator"
	"github.com/dynlocal/dynlocal/fixtures"
)

// create creates an account named name and returns its id.
func create(t testing.TB, c *client.Client, name string) string {
	t.Helper()
	_, resp, err := c.CreateRecord(context.Background(), "accounts", client.Record{"name": name}, nil)
	if err != nil {
		t.Fatalf("create account %q: %v", name, err)
	}
	if resp.ID == "" {
		t.Fatalf("create account %q: no id in the response", name)
	}
	return resp.ID
}

// count counts the accounts whose name is name.
func count(t testing.TB, c *client.Client, name string) int64 {
	t.Helper()
	n, _, err := c.Count(context.Background(), "accounts", fmt.Sprintf("name eq '%s'", name))
	if err != nil {
		t.Fatalf("count accounts named %q: %v", name, err)
	}
	return n
}

// accountName reads an account's name; a missing account is "".
func accountName(t testing.TB, c *client.Client, id string) string {
	t.Helper()
	rec, _, err := c.GetRecord(context.Background(), "accounts", id, &client.GetOptions{Select: []string{"name"}})
	if errors.Is(err, client.ErrNotFound) {
		return ""
	}
	if err != nil {
		t.Fatalf("read account %s: %v", id, err)
	}
	name, _ := rec["name"].(string)
	return name
}

func TestNewClientCreateRead(t *testing.T) {
	t.Parallel()
	dv := dynlocaltest.New(t)
	c := dv.Client()
	if c == nil || dv.Client() != c {
		t.Fatal("Client() is not one client")
	}
	id := create(t, c, "Contoso")
	if got := accountName(t, c, id); got != "Contoso" {
		t.Errorf("read back name %q, want Contoso", got)
	}

	if !strings.HasPrefix(dv.URL(), "http://127.0.0.1:") || strings.HasSuffix(dv.URL(), "/") {
		t.Errorf("URL() = %q, want http://127.0.0.1:<port>", dv.URL())
	}
	if want := dv.URL() + "/api/data/v9.2/"; dv.APIURL() != want || c.APIURL() != want {
		t.Errorf("APIURL() = %q, client's %q, want %q", dv.APIURL(), c.APIURL(), want)
	}
	if want := dv.URL() + "/" + emulator.DefaultTenantID + "/oauth2/v2.0/token"; dv.TokenURL() != want {
		t.Errorf("TokenURL() = %q, want %q", dv.TokenURL(), want)
	}
	if c.OrgURL() != dv.URL() || dv.Server().URL() != dv.URL() {
		t.Errorf("client's org URL %q, server's URL %q, want %q", c.OrgURL(), dv.Server().URL(), dv.URL())
	}
	cfg := dv.Config()
	if cfg.ClientID != emulator.DefaultClientID || cfg.ClientSecret != emulator.DefaultClientSecret || cfg.TenantID != emulator.DefaultTenantID {
		t.Errorf("Config() credentials %q %q %q, want the development app's", cfg.TenantID, cfg.ClientID, cfg.ClientSecret)
	}

	// The URLs are the ones the server answers on, to other clients too.
	resp, err := http.Get(dv.URL() + "/_emulator/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /_emulator/health: %s", resp.Status)
	}
}

func TestNewClientOptions(t *testing.T) {
	t.Parallel()
	dv := dynlocaltest.New(t)
	c := dv.NewClient(client.WithUserAgent("dynlocaltest-test"))
	if c == dv.Client() {
		t.Fatal("NewClient returned the shared client")
	}
	id := create(t, c, "Fabrikam")
	if got := accountName(t, dv.Client(), id); got != "Fabrikam" {
		t.Errorf("shared client reads %q, want Fabrikam", got)
	}
}

// Two organisations started by one test are two databases.
func TestOrgsAreSeparate(t *testing.T) {
	t.Parallel()
	a, b := dynlocaltest.New(t), dynlocaltest.New(t)
	if a.URL() == b.URL() {
		t.Fatalf("both organisations listen on %s", a.URL())
	}
	create(t, a.Client(), "Only in A")
	if n := count(t, a.Client(), "Only in A"); n != 1 {
		t.Errorf("A has %d accounts named 'Only in A', want 1", n)
	}
	if n := count(t, b.Client(), "Only in A"); n != 0 {
		t.Errorf("B has %d accounts named 'Only in A', want 0", n)
	}
}

// Parallel tests each start an organisation and write to it at the same time; none sees another's
// rows.
func TestParallelTestsAreIsolated(t *testing.T) {
	t.Run("own emulators", func(t *testing.T) { parallelTestsAreIsolated(t) })
	t.Run("shared emulator", func(t *testing.T) { parallelTestsAreIsolated(t, dynlocaltest.Shared()) })
}

func parallelTestsAreIsolated(t *testing.T, opts ...dynlocaltest.Option) {
	const rows = 3
	// As many tests as go test runs at once (-parallel, GOMAXPROCS by default), from 2 to 4. Each
	// waits, after writing, until all have written, so that the counts below are taken while every
	// test's rows exist; with -parallel 1 they run one after the other and cannot wait.
	limit := parallelLimit(t)
	tests := min(max(limit, 2), 4)
	wait := limit >= tests
	var written sync.WaitGroup
	written.Add(tests)
	allWritten := make(chan struct{})
	go func() { written.Wait(); close(allWritten) }()
	for i := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			dv := dynlocaltest.New(t, opts...)
			c := dv.Client()
			before, _, err := c.Count(context.Background(), "accounts", "")
			if err != nil {
				t.Fatal(err)
			}
			for j := range rows {
				create(t, c, fmt.Sprintf("test %d row %d", i, j))
			}
			written.Done()
			if wait {
				select {
				case <-allWritten:
				case <-time.After(10 * time.Second): // another test failed before it wrote
					t.Log("the other tests did not write within 10s; counting anyway")
				}
			}
			after, _, err := c.Count(context.Background(), "accounts", "")
			if err != nil {
				t.Fatal(err)
			}
			if after != before+rows {
				t.Errorf("%d accounts after creating %d in %d, want %d", after, rows, before, before+rows)
			}
			for other := range tests {
				want := int64(0)
				if other == i {
					want = 1
				}
				if n := count(t, c, fmt.Sprintf("test %d row 0", other)); n != want {
					t.Errorf("%d rows of test %d, want %d", n, other, want)
				}
			}
		})
	}
}

// parallelLimit returns the -test.parallel flag: how many parallel tests go test runs at once.
func parallelLimit(t *testing.T) int {
	if f := flag.Lookup("test.parallel"); f != nil {
		if g, ok := f.Value.(flag.Getter); ok {
			if n, ok := g.Get().(int); ok {
				return n
			}
		}
	}
	t.Fatal("no -test.parallel flag")
	return 0
}

func TestSnapshotRestoreReset(t *testing.T) {
	t.Parallel()
	t.Run("own emulator", func(t *testing.T) { t.Parallel(); snapshotRestoreReset(t) })
	t.Run("shared emulator", func(t *testing.T) { t.Parallel(); snapshotRestoreReset(t, dynlocaltest.Shared()) })
}

func snapshotRestoreReset(t *testing.T, opts ...dynlocaltest.Option) {
	dv := dynlocaltest.New(t, opts...)
	c := dv.Client()
	first := create(t, c, "First")
	dv.Snapshot("first")
	second := create(t, c, "Second")
	if _, err := c.DeleteRecord(context.Background(), "accounts", first, nil); err != nil {
		t.Fatal(err)
	}
	dv.Snapshot("second-only")

	dv.Restore("first")
	if got, gone := accountName(t, c, first), accountName(t, c, second); got != "First" || gone != "" {
		t.Errorf("after restoring 'first': accounts First %q, Second %q; want First, none", got, gone)
	}
	dv.Restore("second-only")
	if gone, got := accountName(t, c, first), accountName(t, c, second); got != "Second" || gone != "" {
		t.Errorf("after restoring 'second-only': accounts First %q, Second %q; want none, Second", gone, got)
	}
	dv.Restore("first") // a snapshot stays after a restore
	if got := accountName(t, c, first); got != "First" {
		t.Errorf("after restoring 'first' again: account First %q", got)
	}

	dv.Reset()
	if a, b := accountName(t, c, first), accountName(t, c, second); a != "" || b != "" {
		t.Errorf("after reset: accounts First %q, Second %q; want none", a, b)
	}
	dv.Restore("second-only") // snapshots survive a reset
	if got := accountName(t, c, second); got != "Second" {
		t.Errorf("after reset and restore: account Second %q", got)
	}
}

// Each organisation keeps its own snapshots.
func TestSnapshotsAreSeparate(t *testing.T) {
	t.Parallel()
	dynlocaltest.New(t).Snapshot("mine")
	st := &stubT{}
	st.run(func(t testing.TB) { dynlocaltest.New(t).Restore("mine") })
	if !st.Failed() {
		t.Error("another organisation restored the snapshot")
	}
}

func TestWithFixturesFS(t *testing.T) {
	t.Parallel()
	dv := dynlocaltest.New(t, dynlocaltest.WithFixturesFS(tinyFixtures))
	checkTinyFixtures(t, dv)
}

func TestWithFixturesDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.CopyFS(dir, tinyFixtures); err != nil {
		t.Fatal(err)
	}
	dv := dynlocaltest.New(t, dynlocaltest.WithFixturesDir(dir))
	checkTinyFixtures(t, dv)
}

func TestWithFixtures(t *testing.T) {
	t.Parallel()
	set, err := fixtures.LoadFS(tinyFixtures)
	if err != nil {
		t.Fatal(err)
	}
	dv := dynlocaltest.New(t, dynlocaltest.WithFixtures(set))
	checkTinyFixtures(t, dv)
}

// checkTinyFixtures checks that dv runs on tinyFixtures: its widget row is there, widgets can be
// created, and there are no accounts.
func checkTinyFixtures(t *testing.T, dv *dynlocaltest.Org) {
	t.Helper()
	ctx := context.Background()
	c := dv.Client()
	w, _, err := c.GetRecord(ctx, "cr1a2_widgets", "00000000-0000-0000-0000-00000000a001", nil)
	if err != nil {
		t.Fatalf("read the fixture widget: %v", err)
	}
	if w["cr1a2_name"] != "Sprocket" {
		t.Errorf("fixture widget named %v, want Sprocket", w["cr1a2_name"])
	}
	_, created, err := c.CreateRecord(ctx, "cr1a2_widgets", client.Record{"cr1a2_name": "Gear", "cr1a2_quantity": 3}, nil)
	if err != nil {
		t.Fatalf("create a widget: %v", err)
	}
	if n, _, err := c.Count(ctx, "cr1a2_widgets", ""); err != nil || n != 2 {
		t.Errorf("count widgets: %d, %v; want 2", n, err)
	}
	dv.Reset()
	if _, _, err := c.GetRecord(ctx, "cr1a2_widgets", created.ID, nil); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("read the created widget after reset: %v, want not found", err)
	}
	if _, _, err := c.Count(ctx, "accounts", ""); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("count accounts: %v, want not found (the set has no account table)", err)
	}
}

func TestWithClock(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Date(2024, 2, 29, 23, 59, 58, 0, time.UTC)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	dv := dynlocaltest.New(t, dynlocaltest.WithClock(clock))
	c := dv.Client()
	id := create(t, c, "Clocked")
	mu.Lock()
	now = now.Add(3 * time.Second)
	mu.Unlock()
	if _, _, err := c.UpdateRecord(context.Background(), "accounts", id, client.Record{"name": "Clocked again"}, nil); err != nil {
		t.Fatal(err)
	}
	rec, _, err := c.GetRecord(context.Background(), "accounts", id, &client.GetOptions{Select: []string{"createdon", "modifiedon"}})
	if err != nil {
		t.Fatal(err)
	}
	if rec["createdon"] != "2024-02-29T23:59:58Z" || rec["modifiedon"] != "2024-03-01T00:00:01Z" {
		t.Errorf("createdon %v, modifiedon %v; want 2024-02-29T23:59:58Z, 2024-03-01T00:00:01Z", rec["createdon"], rec["modifiedon"])
	}
}

// WithConfig reaches the emulator, and the client follows the credentials it sets.
func TestWithConfig(t *testing.T) {
	t.Parallel()
	const secret = "another-secret"
	dv := dynlocaltest.New(t,
		dynlocaltest.WithClock(time.Now),
		dynlocaltest.WithConfig(func(c *emulator.Config) { c.ClientSecret = secret }))
	if got := dv.Config().ClientSecret; got != secret {
		t.Errorf("Config().ClientSecret = %q, want %q", got, secret)
	}
	create(t, dv.Client(), "Signed in with another secret")

	stale, err := client.New(dv.URL(), client.WithClientCredentials(dv.TokenURL(), emulator.DefaultClientID, emulator.DefaultClientSecret))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := stale.Count(context.Background(), "accounts", ""); err == nil {
		t.Error("the default secret still signs in")
	}
}

// The options apply in order: the last to set the fixtures wins.
func TestOptionsApplyInOrder(t *testing.T) {
	t.Parallel()
	dv := dynlocaltest.New(t,
		dynlocaltest.WithFixturesFS(tinyFixtures),
		dynlocaltest.WithConfig(func(c *emulator.Config) { c.Fixtures = nil }))
	if dv.Config().Fixtures != nil {
		t.Fatal("WithConfig did not override WithFixturesFS")
	}
	create(t, dv.Client(), "The built-in set has accounts")
}

// The test's cleanup stops the server.
func TestCleanupClosesTheServer(t *testing.T) {
	t.Parallel()
	st := &stubT{}
	var url string
	st.run(func(t testing.TB) {
		dv := dynlocaltest.New(t)
		url = dv.URL()
		create(t, dv.Client(), "Closed soon")
	})
	if st.Failed() {
		t.Fatalf("the organisation failed: %q", st.messages())
	}
	resp, err := http.Get(url + "/_emulator/health")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("GET %s after cleanup: %s, want a refused connection", url, resp.Status)
	}
}

// New and the methods fail the test, and stop it, when they cannot do what they were asked.
func TestFailures(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "missing")
	// dataDir holds a database made from the built-in fixtures.
	dataDir := t.TempDir()
	if st := (&stubT{}); !st.run(func(t testing.TB) {
		dynlocaltest.New(t, dynlocaltest.WithConfig(func(c *emulator.Config) { c.DataDir = dataDir }))
	}) {
		t.Fatalf("start an organisation in %s: %q", dataDir, st.messages())
	}
	bad := fstest.MapFS{"entities/x.json": {Data: []byte(`{"logicalName": "x", "unknownField": 1}`)}}
	for _, tc := range []struct {
		name string
		f    func(t testing.TB)
		want string
	}{
		{"missing fixture dir", func(t testing.TB) {
			dynlocaltest.New(t, dynlocaltest.WithFixturesDir(missing))
		}, "dynlocaltest: fixtures:"},
		{"bad fixture files", func(t testing.TB) {
			dynlocaltest.New(t, dynlocaltest.WithFixturesFS(bad))
		}, "unknownField"},
		{"nil fixture FS", func(t testing.TB) {
			dynlocaltest.New(t, dynlocaltest.WithFixturesFS(nil))
		}, "WithFixturesFS(nil)"},
		{"data dir made from other fixtures", func(t testing.TB) {
			dynlocaltest.New(t, dynlocaltest.WithFixturesFS(tinyFixtures),
				dynlocaltest.WithConfig(func(c *emulator.Config) { c.DataDir = dataDir }))
		}, "dynlocaltest: start the emulator:"},
		{"unknown snapshot", func(t testing.TB) {
			dynlocaltest.New(t).Restore("never-saved")
		}, `dynlocaltest: restore snapshot "never-saved": no snapshot of that name was saved`},
		{"bad snapshot name", func(t testing.TB) {
			dynlocaltest.New(t).Snapshot("a/b")
		}, `dynlocaltest: snapshot "a/b": a snapshot name is`},
		{"bad client option", func(t testing.TB) {
			dynlocaltest.New(t).NewClient(client.WithAPIVersion("nine"))
		}, "dynlocaltest: client: API version"},
		{"Shared with WithClock", func(t testing.TB) {
			dynlocaltest.New(t, dynlocaltest.WithClock(time.Now), dynlocaltest.Shared())
		}, "dynlocaltest: Shared cannot be combined with WithClock"},
		{"Shared with WithFixturesFS", func(t testing.TB) {
			dynlocaltest.New(t, dynlocaltest.Shared(), dynlocaltest.WithFixturesFS(tinyFixtures))
		}, "load the set once (fixtures.LoadDir) and pass it with WithFixtures"},
		{"bad fault rule", func(t testing.TB) {
			dynlocaltest.New(t).Inject(emulator.FaultRule{Response: &emulator.FaultResponse{Status: 99}})
		}, "dynlocaltest: inject:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := &stubT{}
			if st.run(tc.f) {
				t.Error("the test went on after the failure")
			}
			msgs := st.messages()
			if len(msgs) != 1 || !strings.Contains(msgs[0], tc.want) {
				t.Errorf("failed with %q, want one message containing %q", msgs, tc.want)
			}
		})
	}
}

// TestInjectAndJournal is the retry test the package exists for: a fault makes the next create
// answer 503, a client that retries writes recovers, and the journal shows both attempts.
func TestInjectAndJournal(t *testing.T) {
	t.Parallel()
	t.Run("own emulator", func(t *testing.T) { t.Parallel(); injectAndJournal(t) })
	t.Run("shared emulator", func(t *testing.T) { t.Parallel(); injectAndJournal(t, dynlocaltest.Shared()) })
}

func injectAndJournal(t *testing.T, opts ...dynlocaltest.Option) {
	dv := dynlocaltest.New(t, opts...)
	c := dv.NewClient(client.WithRetry(client.RetryPolicy{MaxRetries: 2, RetryWrites: true}))
	id := dv.Inject(emulator.FaultRule{
		Match:    emulator.FaultMatch{Method: http.MethodPost, EntitySet: "accounts"},
		Response: &emulator.FaultResponse{Status: http.StatusServiceUnavailable},
		Times:    1,
	})
	if id == 0 {
		t.Fatal("Inject returned no rule id")
	}
	acc := create(t, c, "Retried")
	if got := accountName(t, c, acc); got != "Retried" {
		t.Fatalf("read back %q, want Retried", got)
	}
	if n := count(t, dv.Client(), "Retried"); n != 1 {
		t.Errorf("%d accounts named Retried, want 1: the fault must not write", n)
	}

	var creates []emulator.JournalEntry
	for _, e := range dv.Journal() {
		if e.Method == http.MethodPost && strings.HasSuffix(e.Path, "/accounts") {
			creates = append(creates, e)
		}
	}
	if len(creates) != 2 {
		t.Fatalf("journal has %d creates, want 2 (the refused one and the retry): %+v", len(creates), creates)
	}
	// Newest first: the retry, then the faulted attempt.
	if creates[0].Status != http.StatusNoContent || creates[0].Fault != 0 {
		t.Errorf("retry: status %d fault %d, want 204 and no fault", creates[0].Status, creates[0].Fault)
	}
	if creates[1].Status != http.StatusServiceUnavailable || creates[1].Fault != id || creates[1].Reason == "" {
		t.Errorf("faulted attempt: status %d fault %d reason %q, want 503, rule %d and a reason",
			creates[1].Status, creates[1].Fault, creates[1].Reason, id)
	}
}

// A Shared organisation is an environment of one emulator the test binary shares: its URL is under
// /env/, its token is for that URL, and its cleanup removes it.
func TestShared(t *testing.T) {
	t.Parallel()
	st := &stubT{name: "TestShared/with spaces#01"}
	var a, b *dynlocaltest.Org
	st.run(func(t testing.TB) {
		a, b = dynlocaltest.New(t, dynlocaltest.Shared()), dynlocaltest.New(t, dynlocaltest.Shared())
		if !strings.Contains(a.URL(), "/env/TestShared-with-spaces-01-") || a.URL() == b.URL() {
			t.Errorf("URLs %s and %s, want distinct environments named after the test", a.URL(), b.URL())
		}
		root, _, _ := strings.Cut(a.URL(), "/env/")
		if !strings.HasPrefix(b.URL(), root+"/env/") || a.TokenURL() != root+"/"+emulator.DefaultTenantID+"/oauth2/v2.0/token" {
			t.Errorf("B at %s and token URL %s, want both on the shared emulator %s", b.URL(), a.TokenURL(), root)
		}
		if want := a.URL() + "/api/data/v9.2/"; a.APIURL() != want || a.Client().APIURL() != want {
			t.Errorf("APIURL %s, client's %s, want %s", a.APIURL(), a.Client().APIURL(), want)
		}
		create(t, a.Client(), "Only in shared A")
		if n := count(t, b.Client(), "Only in shared A"); n != 0 {
			t.Errorf("B sees %d of A's accounts", n)
		}
		// A's token is for A: B's emulator refuses it.
		resp := rawGet(t, b.APIURL()+"WhoAmI", a.Client())
		if resp != http.StatusUnauthorized {
			t.Errorf("A's token on B: %d, want 401", resp)
		}
	})
	if st.Failed() {
		t.Fatalf("%q", st.messages())
	}
	// The cleanup deleted both environments; the shared emulator answers 404 for them.
	for _, o := range []*dynlocaltest.Org{a, b} {
		resp, err := http.Get(o.URL() + "/_emulator/health")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s/_emulator/health after cleanup: %d, want 404", o.URL(), resp.StatusCode)
		}
	}
}

// rawGet sends GET url with the token of c and returns the status.
func rawGet(t testing.TB, url string, c *client.Client) int {
	t.Helper()
	_, err := c.Do(context.Background(), &client.RawRequest{Method: http.MethodGet, Path: url})
	var ae *client.Error
	switch {
	case err == nil:
		return http.StatusOK
	case errors.As(err, &ae):
		return ae.StatusCode
	}
	t.Fatal(err)
	return 0
}
