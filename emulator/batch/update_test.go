package batch

import (
	"bytes"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// update makes the golden tests rewrite their .golden files from the current output:
// go test ./... -update regenerates every golden file of the module.
//
// go test hands -update to the test binary of every package it runs, and a binary that does not
// define a flag it is given fails ("flag provided but not defined: -update"). So every package
// with tests defines the flag, with this same text, in its own update_test.go: as `var update` where
// golden tests read it, as `var _` elsewhere. The file carries no build constraint, so that
// CGO_ENABLED=0 go test ./emulator/fetchxml -update fails no more than without -update.
// TestEveryTestPackageAcceptsUpdate keeps new packages in line.
var update = flag.Bool("update", false, "rewrite the golden files from the current output")

// TestEveryTestPackageAcceptsUpdate checks that every directory of the module with tests defines
// -update in a file that builds everywhere, so that go test ./... -update cannot fail in a package
// that has no golden files.
func TestEveryTestPackageAcceptsUpdate(t *testing.T) {
	t.Parallel()
	const decl = `flag.Bool("update", false, "rewrite the golden files from the current output")`
	root := moduleRoot(t)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if path != root {
			name := d.Name()
			if name == "testdata" || name == "node_modules" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir // another module
			}
		}
		tests, err := filepath.Glob(filepath.Join(path, "*_test.go"))
		if err != nil || len(tests) == 0 {
			return err
		}
		for _, f := range tests {
			b, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			if bytes.Contains(b, []byte(decl)) && !buildConstraint.Match(b) {
				return nil
			}
		}
		rel, _ := filepath.Rel(root, path)
		t.Errorf("%s: no test file without a build constraint declares %s, so go test ./... -update fails there (add an update_test.go)", rel, decl)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// buildConstraint finds a //go:build line.
var buildConstraint = regexp.MustCompile(`(?m)^//go:build `)

// moduleRoot returns the directory of the go.mod above the package under test.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the package")
		}
		dir = parent
	}
}
