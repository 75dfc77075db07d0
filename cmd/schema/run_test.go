package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRefusesAFullDirectory checks that pull and import-csdl never write over an existing set:
// files a previous pull left would load beside the new ones.
func TestRefusesAFullDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := func(string) (string, bool) { return "", false }
	for _, args := range [][]string{{"pull", "--out", dir, "account"}, {"import-csdl", "--out", dir, "-"}} {
		var stdout, stderr strings.Builder
		code := runEnv(context.Background(), args, &stdout, &stderr, env)
		if code != exitUsage || !strings.Contains(stderr.String(), "not empty") {
			t.Fatalf("%v into a full directory: exit %d, stderr %q", args, code, stderr.String())
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "README.md")); string(b) != "mine" {
		t.Error("the directory's file was changed")
	}
}
