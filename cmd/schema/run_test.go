package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPullRefusesAFullDirectory checks that a pull never writes over an existing fixture set:
// files a previous pull left would load beside the new ones.
func TestPullRefusesAFullDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	env := func(string) (string, bool) { return "", false }
	code := runEnv(context.Background(), []string{"pull", "--out", dir, "account"}, &stdout, &stderr, env)
	if code != exitUsage || !strings.Contains(stderr.String(), "not empty") {
		t.Fatalf("pull into a full directory: exit %d, stderr %q", code, stderr.String())
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "README.md")); string(b) != "mine" {
		t.Error("the directory's file was changed")
	}
}
