package emulator_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dynlocal/dynlocal/emulator"
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
