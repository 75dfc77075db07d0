package emulator_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynlocal/dynlocal/emulator"
	"github.com/dynlocal/dynlocal/emulator/store"
	"github.com/dynlocal/dynlocal/fixtures"
)

// TestFixtureSetMismatch checks that a data directory made from one fixture set is not silently
// opened with another: the start fails and names both, unless the data is reset to the new set.
func TestFixtureSetMismatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	builtin, err := fixtures.Default()
	if err != nil {
		t.Fatal(err)
	}
	other, err := fixtures.Default()
	if err != nil {
		t.Fatal(err)
	}
	other.Name = "./team-fixtures"
	other.Rows = other.Rows[:len(other.Rows)-1]

	open := func(cfg emulator.Config) (*emulator.Server, error) {
		cfg.DataDir = dir
		return emulator.New(ctx, cfg)
	}
	srv, err := open(emulator.Config{Fixtures: builtin})
	if err != nil {
		t.Fatal(err)
	}
	name, tables, err := srv.FixtureSet(ctx)
	if err != nil || name != "built-in" || tables == 0 {
		t.Errorf("FixtureSet() = %q, %d, %v; want built-in and its tables", name, tables, err)
	}
	srv.Close()

	_, err = open(emulator.Config{Fixtures: other})
	if !errors.Is(err, emulator.ErrFixturesMismatch) || !strings.Contains(err.Error(), `"built-in"`) || !strings.Contains(err.Error(), `"./team-fixtures"`) {
		t.Fatalf("opening with another set: %v; want ErrFixturesMismatch naming both sets", err)
	}

	// The same set, or none named, opens the directory as it is.
	for _, set := range []*fixtures.Set{builtin, nil} {
		srv, err := open(emulator.Config{Fixtures: set})
		if err != nil {
			t.Fatalf("reopening with %v: %v", set != nil, err)
		}
		srv.Close()
	}

	// ResetData replaces the data with the new set, which the directory then records.
	srv, err = open(emulator.Config{Fixtures: other, ResetData: true})
	if err != nil {
		t.Fatal(err)
	}
	if name, _, _ := srv.FixtureSet(ctx); name != "./team-fixtures" {
		t.Errorf("after ResetData the directory records %q", name)
	}
	srv.Close()
	if _, err := open(emulator.Config{Fixtures: builtin}); !errors.Is(err, emulator.ErrFixturesMismatch) {
		t.Errorf("the reset directory opened with the built-in set: %v", err)
	}
}

// TestFixturesIgnoreClockAndIDs checks that loading the fixtures takes nothing from the server's
// clock or id source, so one fixture database can serve every server started from the set.
func TestFixturesIgnoreClockAndIDs(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	calls := 0
	clock := func() time.Time { return time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC) }
	srv, err := emulator.New(context.Background(), emulator.Config{Clock: clock, NewID: func() string {
		mu.Lock()
		defer mu.Unlock()
		calls++
		return fmt.Sprintf("eeeeeeee-0000-4000-8000-%012d", calls)
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	mu.Lock()
	if calls != 0 {
		t.Errorf("loading the fixtures asked NewID for %d ids, want none", calls)
	}
	mu.Unlock()
	err = srv.Store().Read(context.Background(), func(tx *store.Tx) error {
		for _, e := range tx.Schema().Entities() {
			if _, ok := e.Attribute("createdon"); !ok {
				continue
			}
			id, err := tx.First(e)
			if errors.Is(err, store.ErrNotFound) || id == "" {
				continue
			} else if err != nil {
				return err
			}
			row, _, err := tx.Get(e, id, []string{"createdon"})
			if err != nil {
				return err
			}
			if c, ok := row["createdon"].(time.Time); ok && c.Year() == 2001 {
				t.Errorf("%s %s was created at the server's clock: %v", e.LogicalName, id, c)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestFixtureCacheDir checks the cache of fixture databases across processes: a start writes the
// set's database to the directory, a later process reads it back without writing, and a damaged
// file is loaded again and replaced. ForgetBaselines stands in for a new process.
func TestFixtureCacheDir(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	set, err := fixtures.Default()
	if err != nil {
		t.Fatal(err)
	}
	set.Name = "cache-test"
	start := func() {
		t.Helper()
		emulator.ForgetBaselines()
		srv, err := emulator.New(ctx, emulator.Config{CacheDir: dir, Fixtures: set})
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		name, tables, err := srv.FixtureSet(ctx)
		if err != nil || name != "cache-test" || tables == 0 {
			t.Fatalf("FixtureSet = %q, %d, %v", name, tables, err)
		}
	}
	file := func() (string, os.FileInfo) {
		t.Helper()
		m, err := filepath.Glob(filepath.Join(dir, "baseline-*.sqlite"))
		if err != nil || len(m) != 1 {
			t.Fatalf("cache files = %v, %v; want one", m, err)
		}
		info, err := os.Stat(m[0])
		if err != nil {
			t.Fatal(err)
		}
		return m[0], info
	}
	start()
	path, written := file()
	start()
	if _, read := file(); !read.ModTime().Equal(written.ModTime()) {
		t.Errorf("a start with the file cached wrote it again")
	}
	if err := os.WriteFile(path, []byte("not a database"), 0o644); err != nil {
		t.Fatal(err)
	}
	start()
	if b, err := os.ReadFile(path); err != nil || !strings.HasPrefix(string(b), "SQLite format 3") {
		t.Errorf("the damaged file was not replaced (%v)", err)
	}
}

// TestDevelopmentUsersJoinAnySet starts on a set without rows, as a schema pulled from a tenant
// is: the development credentials still sign in, and writes are stamped as usual.
func TestDevelopmentUsersJoinAnySet(t *testing.T) {
	t.Parallel()
	set, err := fixtures.Default()
	if err != nil {
		t.Fatal(err)
	}
	set.Name, set.Rows = "no rows", nil
	e := newEnvWith(t, emulator.Config{Fixtures: set})
	who := e.do("GET", "WhoAmI", nil).expect(t, 200).JSON(t)
	if who["UserId"] != emulator.DefaultAppUserID || who["BusinessUnitId"] != fixtures.DevelopmentBusinessUnitID {
		t.Errorf("WhoAmI = %v", who)
	}
	id := idFromEntityID(t, e.do("POST", "accounts", map[string]any{"name": "in a pulled schema"}).expect(t, 204).Header)
	got := e.do("GET", "accounts("+id+")?$select=_createdby_value,_owningbusinessunit_value", nil).expect(t, 200).JSON(t)
	if got["_createdby_value"] != emulator.DefaultAppUserID || got["_owningbusinessunit_value"] != fixtures.DevelopmentBusinessUnitID {
		t.Errorf("account stamps: %v", got)
	}
	users := e.do("GET", "systemusers?$select=fullname", nil).expect(t, 200).JSON(t)["value"].([]any)
	if len(users) != 3 {
		t.Errorf("systemusers: %v; want SYSTEM and the two development users", users)
	}
}
