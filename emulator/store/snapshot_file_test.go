package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dynlocal/dynlocal/emulator/model"
)

// openWithSnapshots opens a file store that keeps its snapshots as files in dir/snapshots.
func openWithSnapshots(t *testing.T, dir string) *Store {
	t.Helper()
	return openTestWith(t, Options{Path: filepath.Join(dir, "db.sqlite"), SnapshotDir: filepath.Join(dir, "snapshots")})
}

func insertAccount(t *testing.T, s *Store, id, name string) {
	t.Helper()
	acc, _ := s.Schema().Entity("account")
	if err := s.Write(context.Background(), func(tx *Tx) error {
		_, err := tx.Insert(acc, model.Row{"accountid": id, "name": name})
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// sqliteFile writes a SQLite database made by ddl to path.
func sqliteFile(t *testing.T, path, ddl string) {
	t.Helper()
	db, err := sql.Open(driverName, "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(ddl); err != nil {
		t.Fatal(err)
	}
}

// A snapshot file that is not a complete dynlocal database (what an interrupted save or a stray
// file leaves) is refused before anything is copied, and the live data stays as it was.
func TestRestoreRefusesDamagedSnapshot(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		make func(t *testing.T, good []byte, path string)
	}{
		{"empty file", func(t *testing.T, _ []byte, path string) { os.WriteFile(path, nil, 0o644) }},
		{"truncated", func(t *testing.T, good []byte, path string) { os.WriteFile(path, good[:len(good)/2], 0o644) }},
		{"first page only", func(t *testing.T, good []byte, path string) { os.WriteFile(path, good[:4096], 0o644) }},
		{"not sqlite", func(t *testing.T, _ []byte, path string) {
			os.WriteFile(path, []byte("this is not a database, just some text long enough to look like one"), 0o644)
		}},
		{"foreign database", func(t *testing.T, _ []byte, path string) { sqliteFile(t, path, `CREATE TABLE t (x)`) }},
		{"no version counters", func(t *testing.T, _ []byte, path string) {
			sqliteFile(t, path, `CREATE TABLE "_dynlocal" (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
				CREATE TABLE "_meta_entity" (logicalname TEXT PRIMARY KEY)`)
		}},
		{"zeroed pages", func(t *testing.T, good []byte, path string) {
			bad := append([]byte(nil), good...)
			for i := 4096; i < len(bad); i++ {
				bad[i] = 0
			}
			os.WriteFile(path, bad, 0o644)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			s := openWithSnapshots(t, dir)
			ctx := context.Background()
			acc, _ := s.Schema().Entity("account")
			insertAccount(t, s, "00000000-0000-4000-8000-000000000001", "kept")
			if err := s.Snapshot(ctx, "good"); err != nil {
				t.Fatal(err)
			}
			good, err := os.ReadFile(filepath.Join(dir, "snapshots", "good.sqlite"))
			if err != nil {
				t.Fatal(err)
			}
			insertAccount(t, s, "00000000-0000-4000-8000-000000000002", "also kept")
			before := dump(t, s, acc)
			tc.make(t, good, filepath.Join(dir, "snapshots", "bad.sqlite"))

			if err := s.Restore(ctx, "bad"); err == nil || !errors.Is(err, ErrBadSnapshot) {
				t.Errorf("restore of a damaged snapshot: %v, want ErrBadSnapshot", err)
			}
			if d := cmp.Diff(before, dump(t, s, acc)); d != "" {
				t.Errorf("live data changed (-want +got):\n%s", d)
			}
			// The store still works, and a good snapshot still restores.
			insertAccount(t, s, "00000000-0000-4000-8000-000000000003", "after")
			if err := s.Restore(ctx, "good"); err != nil {
				t.Fatal(err)
			}
			if n := len(dump(t, s, acc)); n != 1 {
				t.Errorf("after restoring the good snapshot: %d accounts, want 1", n)
			}
		})
	}
}

// A save writes a temporary file and renames it: nothing but the finished snapshot is left, and
// it is one self-contained file. What an interrupted save leaves is never listed and is removed
// when the store opens again.
func TestSnapshotFilesAreAtomic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	snaps := filepath.Join(dir, "snapshots")
	s := openWithSnapshots(t, dir)
	ctx := context.Background()
	insertAccount(t, s, "00000000-0000-4000-8000-000000000001", "kept")
	if err := s.Snapshot(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	if err := s.Snapshot(ctx, "p"); err != nil { // replacing one
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"p.sqlite"}, dirNames(t, snaps)); d != "" {
		t.Errorf("snapshot directory (-want +got):\n%s", d)
	}
	head, err := os.ReadFile(filepath.Join(snaps, "p.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	// Bytes 18 and 19 of a SQLite header are 1 for a rollback journal, 2 for WAL.
	if head[18] != 1 || head[19] != 1 {
		t.Errorf("snapshot file format bytes = %d %d, want 1 1 (no WAL file needed)", head[18], head[19])
	}

	// An interrupted save: a temporary file and its journal.
	for _, n := range []string{snapshotTempPrefix + "q-123", snapshotTempPrefix + "q-123-journal"} {
		if err := os.WriteFile(filepath.Join(snaps, n), []byte("half"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	names, err := s.Snapshots()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"p"}, names); d != "" {
		t.Errorf("snapshots (-want +got):\n%s", d)
	}
	if err := s.Restore(ctx, "q"); !errors.Is(err, ErrNoSnapshot) {
		t.Errorf("restore of an unfinished save: %v, want ErrNoSnapshot", err)
	}
	s.Close()
	s = openWithSnapshots(t, dir)
	if d := cmp.Diff([]string{"p.sqlite"}, dirNames(t, snaps)); d != "" {
		t.Errorf("snapshot directory after opening (-want +got):\n%s", d)
	}
	if err := s.Restore(ctx, "p"); err != nil {
		t.Fatal(err)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func TestDeleteSnapshot(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"memory", "file"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			var s *Store
			if mode == "file" {
				s = openWithSnapshots(t, t.TempDir())
			} else {
				s = openTest(t, "")
			}
			ctx := context.Background()
			for _, n := range []string{"a", "b"} {
				if err := s.Snapshot(ctx, n); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.DeleteSnapshot("a"); err != nil {
				t.Fatal(err)
			}
			names, _ := s.Snapshots()
			if d := cmp.Diff([]string{"b"}, names); d != "" {
				t.Errorf("snapshots (-want +got):\n%s", d)
			}
			if err := s.DeleteSnapshot("a"); !errors.Is(err, ErrNoSnapshot) {
				t.Errorf("second delete: %v, want ErrNoSnapshot", err)
			}
			if err := s.Restore(ctx, "a"); !errors.Is(err, ErrNoSnapshot) {
				t.Errorf("restore of a deleted snapshot: %v, want ErrNoSnapshot", err)
			}
			if err := s.DeleteSnapshot("../x"); !errors.Is(err, ErrBadSnapshotName) {
				t.Errorf("bad name: %v", err)
			}
			if err := s.Restore(ctx, "b"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestReadFile reads back what WriteFile wrote, schema and rows, and refuses a file with a page
// overwritten: the store's copy is checked as it is made.
func TestReadFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := openTest(t, "")
	acc, _ := src.Schema().Entity("account")
	if err := src.Write(ctx, func(tx *Tx) error {
		for i := range 200 {
			if _, err := tx.Insert(acc, model.Row{"accountid": fmt.Sprintf("00000000-0000-4000-8000-%012d", i), "name": strings.Repeat("x", 300)}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "db.sqlite")
	if err := src.WriteFile(ctx, path); err != nil {
		t.Fatal(err)
	}
	dst := openTest(t, "")
	if err := dst.ReadFile(ctx, path); err != nil {
		t.Fatal(err)
	}
	if _, ok := dst.Schema().Entity("account"); !ok {
		t.Fatal("the schema read back has no account table")
	}
	var n int
	if err := dst.Read(ctx, func(tx *Tx) error {
		res, err := tx.Select(&model.Query{Entity: acc})
		n = len(res.Rows)
		return err
	}); err != nil || n != 200 {
		t.Fatalf("rows read back = %d, %v; want 200", n, err)
	}

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The last page holds account rows; overwrite it with garbage.
	for i := len(b) - 4096; i < len(b); i++ {
		b[i] = 0xA5
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := openTest(t, "").ReadFile(ctx, path); err == nil {
		t.Fatal("ReadFile took a file with a damaged page")
	}
}
