package dynlocaltest

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dynlocal/dynlocal/emulator"
	"github.com/dynlocal/dynlocal/fixtures"
)

// sharedEmulator is the emulator Shared organisations of one fixture set are environments of.
type sharedEmulator struct {
	once sync.Once
	srv  *emulator.Server
	cfg  emulator.Config
	err  error
}

var (
	sharedMu sync.Mutex
	// shared holds one emulator per fixture set (nil for the built-in one). They live as long as
	// the test binary: the process's exit closes their listeners and memory.
	shared = map[*fixtures.Set]*sharedEmulator{}
	// envSeq makes environment names unique within the process.
	envSeq atomic.Int64
)

// sharedFor returns the shared emulator of set, starting it on first use.
func sharedFor(set *fixtures.Set) (*emulator.Server, emulator.Config, error) {
	sharedMu.Lock()
	se := shared[set]
	if se == nil {
		se = &sharedEmulator{}
		shared[set] = se
	}
	sharedMu.Unlock()
	se.once.Do(func() {
		cfg := emulator.Config{Fixtures: set, TenantID: emulator.DefaultTenantID,
			ClientID: emulator.DefaultClientID, ClientSecret: emulator.DefaultClientSecret,
			// Environments are as many as the package's tests that run at once; the bound is
			// for a runaway loop, not for them.
			MaxEnvironments: 10000}
		srv, err := emulator.New(context.Background(), cfg)
		if err != nil {
			se.err = fmt.Errorf("start the shared emulator: %w", err)
			return
		}
		if err := srv.Listen("127.0.0.1:0"); err != nil {
			srv.Close()
			se.err = err
			return
		}
		se.srv, se.cfg = srv, cfg
	})
	return se.srv, se.cfg, se.err
}

// newShared makes a Shared organisation: an environment of the shared emulator of the set s names.
func newShared(tb testing.TB, s *settings) *Org {
	tb.Helper()
	switch {
	case s.changed != "":
		tb.Fatalf("dynlocaltest: Shared cannot be combined with %s: every test shares one emulator; drop Shared for an emulator of the test's own", s.changed)
	case s.fixturesFrom == "WithFixturesDir" || s.fixturesFrom == "WithFixturesFS":
		tb.Fatalf("dynlocaltest: Shared cannot be combined with %s, which reads the files on every New: load the set once (fixtures.LoadDir) and pass it with WithFixtures", s.fixturesFrom)
	}
	srv, cfg, err := sharedFor(s.cfg.Fixtures)
	if err != nil {
		tb.Fatalf("dynlocaltest: %v", err)
	}
	name := envName(tb.Name())
	env, err := srv.CreateEnvironment(context.Background(), name)
	if err != nil {
		tb.Fatalf("dynlocaltest: %v", err)
	}
	o := &Org{tb: tb, cfg: cfg, srv: env, url: srv.URL() + "/env/" + name, shared: srv, env: name}
	o.tokenURL = srv.URL() + "/" + cfg.TenantID + "/oauth2/v2.0/token"
	o.start()
	return o
}

// notInName is what an environment name may not hold.
var notInName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// envName names the environment of the test called test: its name made fit for a URL path
// segment, cut to keep the name under the emulator's 64 characters, and a number unique in the
// process.
func envName(test string) string {
	base := notInName.ReplaceAllString(test, "-")
	if len(base) > 48 {
		base = base[:48]
	}
	if base == "" || !isAlnum(base[0]) {
		base = "t" + base
	}
	return base + "-" + strconv.FormatInt(envSeq.Add(1), 10)
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
