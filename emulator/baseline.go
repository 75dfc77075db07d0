package emulator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

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
	// loaded is set once st is usable.
	loaded atomic.Bool
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

// builtinKey is the key of the built-in set. The set is part of the binary, so its name says
// enough, and a start that finds its baseline cached need not expand the files at all.
const builtinKey = "built-in"

// fixtureSet returns the key of the set this server starts from and a function that gives the set.
func (s *Server) fixtureSet() (string, func() (*fixtures.Set, error)) {
	if set := s.cfg.Fixtures; set != nil {
		return setKey(set), func() (*fixtures.Set, error) { return set, nil }
	}
	return builtinKey, func() (*fixtures.Set, error) {
		set, err := builtin()
		if err != nil {
			return nil, fmt.Errorf("emulator: fixtures: %w", err)
		}
		return set, nil
	}
}

// baselineLoaded reports whether this process holds the baseline of a set already.
func baselineLoaded(key string) bool {
	baselines.mu.Lock()
	b := baselines.m[key]
	baselines.mu.Unlock()
	return b != nil && b.loaded.Load()
}

// baseline returns the process's database of the server's fixture set, loading it on first use.
func (s *Server) baseline(ctx context.Context) (*store.Store, error) {
	key, set := s.fixtureSet()
	baselines.mu.Lock()
	b, ok := baselines.m[key]
	if !ok {
		b = &baseline{}
		baselines.m[key] = b
	}
	baselines.mu.Unlock()
	b.once.Do(func() {
		b.st, b.err = s.loadBaseline(ctx, key, set)
		b.loaded.Store(b.err == nil)
	})
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

// baselineFormat is part of the name of every cached baseline file. The binary's identity is
// too, so a rebuilt emulator never reads a file an older one wrote; bump this for a change that
// could keep the binary's path, size and time, which no build does.
const baselineFormat = 1

// cachePath is where the cache directory keeps the baseline of a set: a name made of the running
// binary (its path, size and modification time: the built-in set and the code that loads any set
// are in it) and of the set's key. Without a cache directory, or when the binary cannot be
// identified, there is none.
func (s *Server) cachePath(key string) string {
	if s.cfg.CacheDir == "" {
		return ""
	}
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	info, err := os.Stat(exe)
	if err != nil {
		return ""
	}
	h := sha256.New()
	fmt.Fprintf(h, "format %d\nbinary %s %d %d\nset %s\n", baselineFormat, exe, info.Size(), info.ModTime().UnixNano(), key)
	return filepath.Join(s.cfg.CacheDir, "baseline-"+hex.EncodeToString(h.Sum(nil))[:32]+".sqlite")
}

// loadBaseline returns the baseline of a set from the cache directory, or loads it and saves it
// there. A cached file that cannot be read is loaded again and replaced; a cache that cannot be
// written is only logged, since the server works without it.
func (s *Server) loadBaseline(ctx context.Context, key string, set func() (*fixtures.Set, error)) (*store.Store, error) {
	path := s.cachePath(key)
	if path != "" {
		if _, err := os.Stat(path); err == nil {
			b, err := store.Open(ctx, store.Options{})
			if err != nil {
				return nil, err
			}
			err = b.ReadFile(ctx, path)
			if err == nil {
				return b, nil
			}
			s.log.Warn("cached fixture database unusable; loading the fixtures again", "path", path, "err", err)
			b.Close()
		}
	}
	fs, err := set()
	if err != nil {
		return nil, err
	}
	b, err := s.loadSet(ctx, fs)
	if err != nil {
		return nil, err
	}
	if path != "" {
		if err := b.WriteFile(ctx, path); err != nil {
			s.log.Warn("cannot cache the fixture database", "path", path, "err", err)
		} else {
			pruneCache(s.cfg.CacheDir, maxCachedBaselines)
		}
	}
	return b, nil
}

// loadSet loads set into a new in-memory store and records which set it is.
func (s *Server) loadSet(ctx context.Context, set *fixtures.Set) (*store.Store, error) {
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

// maxCachedBaselines is how many fixture databases the cache directory keeps. Every build of the
// emulator writes its own, so the oldest go.
const maxCachedBaselines = 8

// pruneCache removes all but the keep most recently written fixture databases of dir. Failures are
// ignored: a file left behind costs only space.
func pruneCache(dir string, keep int) {
	files, err := filepath.Glob(filepath.Join(dir, "baseline-*.sqlite"))
	if err != nil || len(files) <= keep {
		return
	}
	mod := make(map[string]time.Time, len(files))
	for _, f := range files {
		if info, err := os.Stat(f); err == nil {
			mod[f] = info.ModTime()
		}
	}
	sort.Slice(files, func(i, j int) bool { return mod[files[i]].After(mod[files[j]]) })
	for _, f := range files[keep:] {
		os.Remove(f)
	}
}
