package emulator

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestPruneCache keeps the most recently written fixture databases and nothing else of theirs.
func TestPruneCache(t *testing.T) {
	dir := t.TempDir()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 5; i++ {
		f := filepath.Join(dir, "baseline-"+string(rune('a'+i))+".sqlite")
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(f, base, base.Add(time.Duration(i)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	other := filepath.Join(dir, "notes.txt")
	os.WriteFile(other, nil, 0o644)
	pruneCache(dir, 2)
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	want := map[string]bool{filepath.Join(dir, "baseline-d.sqlite"): true, filepath.Join(dir, "baseline-e.sqlite"): true, other: true}
	if len(left) != len(want) {
		t.Fatalf("left %v", left)
	}
	for _, f := range left {
		if !want[f] {
			t.Errorf("kept %s", f)
		}
	}
}
