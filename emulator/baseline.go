package emulator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"

	"github.com/dynlocal/dynlocal/emulator/store"
	"github.com/dynlocal/dynlocal/fixtures"
)

// A baseline is the database a fixture set loads into: what a new store starts from and what
// POST /_emulator/reset restores. Loading a set means expanding its files and writing every
// table, column and row through the Web API's write path, a cost that grows with the schema; a
// baseline is a plain SQLite database that SQLite's backup API copies page by page in a few
// milliseconds. So a set is loaded once per process, and every Server started from the same set
// (tests start hundreds) restores from the one baseline. webapi.Handler.LoadFixtures writes the
// same database whichever server runs it (rows do not take the server's clock or ids), which is
// what makes sharing sound. Baselines are never closed: they live as long as the process, and
// concurrent restores from one baseline take turns on its single connection.
var baselines = struct {
	mu sync.Mutex
	m  map[string]*baseline
}{m: map[string]*baseline{}}

// baseline is one set's database, built by the first server that needs it.
type baseline struct {
	once sync.Once
	st   *store.Store
	err  error
}

// builtin is the expansion of the embedded fixtures, shared by every Server started without
// Config.Fixtures. fixtures.Default still returns a fresh copy to its callers, who may change it;
// this one is only read.
var builtin = sync.OnceValues(func() (*fixtures.Set, error) { return fixtures.Default() })

// setKey identifies what a set loads: its name (stamped into the database) and its content.
// Digest leaves the global option sets out, so they are hashed here.
func setKey(set *fixtures.Set) string {
	h := sha256.New()
	fmt.Fprintf(h, "name %q\ndigest %s\n", set.Name, set.Digest())
	for _, d := range set.OptionSets {
		fmt.Fprintf(h, "optionset %d\n", len(d))
		h.Write(d)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// fixtureSet returns the set this server starts from.
func (s *Server) fixtureSet() (*fixtures.Set, error) {
	if s.cfg.Fixtures != nil {
		return s.cfg.Fixtures, nil
	}
	set, err := builtin()
	if err != nil {
		return nil, fmt.Errorf("emulator: fixtures: %w", err)
	}
	return set, nil
}

// baseline returns the process's database of the server's fixture set, loading it on first use.
func (s *Server) baseline(ctx context.Context) (*store.Store, error) {
	set, err := s.fixtureSet()
	if err != nil {
		return nil, err
	}
	key := setKey(set)
	baselines.mu.Lock()
	b, ok := baselines.m[key]
	if !ok {
		b = &baseline{}
		baselines.m[key] = b
	}
	baselines.mu.Unlock()
	b.once.Do(func() { b.st, b.err = s.loadBaseline(ctx, set) })
	if b.err != nil {
		// A failed load (a cancelled context, say) is not remembered: the next server tries again.
		baselines.mu.Lock()
		if baselines.m[key] == b {
			delete(baselines.m, key)
		}
		baselines.mu.Unlock()
	}
	return b.st, b.err
}

// loadBaseline loads set into a new in-memory store and records which set it is.
func (s *Server) loadBaseline(ctx context.Context, set *fixtures.Set) (*store.Store, error) {
	b, err := store.Open(ctx, store.Options{})
	if err != nil {
		return nil, err
	}
	if err := s.web.LoadFixtures(ctx, b, set); err != nil {
		b.Close()
		return nil, err
	}
	if err := stampFixtures(ctx, b, set); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}
