package emulator_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dynlocal/dynlocal/emulator"
)

// With a data directory, a snapshot file that an interrupted save or a stray copy left damaged is
// refused with a 409 and a Dataverse error body, and the data stays as it was; snapshots can be
// deleted.
func TestAdminSnapshotsOnDisk(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := newEnvWith(t, emulator.Config{DataDir: dir})
	count := func() string { return string(e.do("GET", "accounts/$count", nil).expect(t, 200).Body) }
	e.do("POST", "accounts", map[string]any{"name": "written before the snapshot"}).expect(t, 204)
	e.do("PUT", "/_emulator/snapshots/good", nil).expect(t, 204)
	e.do("POST", "accounts", map[string]any{"name": "written after"}).expect(t, 204)
	want := count()

	snaps := filepath.Join(dir, "snapshots")
	good, err := os.ReadFile(filepath.Join(snaps, "good.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{"empty": nil, "half": good[:len(good)/2], "text": []byte("not a database")} {
		if err := os.WriteFile(filepath.Join(snaps, name+".sqlite"), content, 0o644); err != nil {
			t.Fatal(err)
		}
		r := e.do("POST", "/_emulator/snapshots/"+name+"/restore", nil).expect(t, 409)
		if _, msg := r.Error(t); !strings.Contains(msg, "damaged or incomplete") {
			t.Errorf("%s: message %q", name, msg)
		}
		if c := count(); c != want {
			t.Errorf("%s: %s accounts after a refused restore, want %s", name, c, want)
		}
		e.do("DELETE", "/_emulator/snapshots/"+name, nil).expect(t, 204)
	}
	// A save that never finished is not a snapshot.
	if err := os.WriteFile(filepath.Join(snaps, ".tmp-p-1"), good[:100], 0o644); err != nil {
		t.Fatal(err)
	}
	list := e.do("GET", "/_emulator/snapshots", nil).expect(t, 200).JSON(t)
	if d := cmp.Diff([]any{"good"}, list["value"]); d != "" {
		t.Errorf("snapshots (-want +got):\n%s", d)
	}
	e.do("POST", "/_emulator/snapshots/good/restore", nil).expect(t, 204)
	e.do("DELETE", "/_emulator/snapshots/good", nil).expect(t, 204)
	e.do("DELETE", "/_emulator/snapshots/good", nil).expect(t, 404)
	e.do("DELETE", "/_emulator/snapshots/bad%20name", nil).expect(t, 400)
	list = e.do("GET", "/_emulator/snapshots", nil).expect(t, 200).JSON(t)
	if d := cmp.Diff([]any{}, list["value"]); d != "" {
		t.Errorf("snapshots after delete (-want +got):\n%s", d)
	}
}

// In memory (no data directory), snapshots save, restore and delete as before.
func TestAdminSnapshotsInMemoryDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.do("PUT", "/_emulator/snapshots/m", nil).expect(t, 204)
	e.do("POST", "/_emulator/snapshots/m/restore", nil).expect(t, 204)
	e.do("DELETE", "/_emulator/snapshots/m", nil).expect(t, 204)
	e.do("DELETE", "/_emulator/snapshots/m", nil).expect(t, 404)
	e.do("POST", "/_emulator/snapshots/m/restore", nil).expect(t, 404)
}
