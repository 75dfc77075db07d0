//go:build cgo

package fetchxml

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dynlocal/dynlocal/emulator/store"
)

// TestGolden parses each testdata/<case>.xml and compares the SQL and arguments the store compiles
// it to, with the output columns and the paging, with testdata/<case>.golden. Every query also
// runs against a store holding the test schema.
func TestGolden(t *testing.T) {
	t.Parallel()
	s := testStore(t)
	sch := s.Schema()
	files, err := filepath.Glob(filepath.Join("testdata", "*.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no golden cases")
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".xml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			text, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			f, err := Parse(sch, string(text), testEnv)
			if err != nil {
				t.Fatal(err)
			}
			sql, args, err := store.Compile(f.Query)
			if err != nil {
				t.Fatal(err)
			}
			got := describe(f, sql, args)
			path := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("%s:\n got: %s\nwant: %s", name, got, want)
			}
			if err := s.Read(context.Background(), func(tx *store.Tx) error { _, err := tx.Select(f.Query); return err }); err != nil {
				t.Errorf("running %s: %v", name, err)
			}
		})
	}
}

// describe writes what a golden file holds: the SQL, its arguments, the output columns (key and
// source) and the paging.
func describe(f *Fetch, sql string, args []any) string {
	var b strings.Builder
	b.WriteString(sql + "\n")
	for i, a := range args {
		fmt.Fprintf(&b, "$%d = %#v\n", i+1, a)
	}
	b.WriteString("-- columns\n")
	for _, c := range f.Columns {
		src := c.Attr.LogicalName
		if c.Link != nil {
			src = c.Link.Alias + "." + src
		}
		switch {
		case c.Aggregate != "":
			src = string(c.Aggregate) + "(" + src + ")"
		case c.DatePart != "":
			src = "groupby " + c.DatePart + "(" + src + ")"
		case c.GroupBy:
			src = "groupby " + src
		}
		fmt.Fprintf(&b, "%s <- %s\n", c.Key, src)
	}
	fmt.Fprintf(&b, "-- page %d, count %d, skip %d, top %d, after %v, total count %v, aggregate limit %d\n",
		f.Page, f.Count, f.Skip, f.Top, f.Query.After != nil, f.ReturnTotalRecordCount, f.AggregateLimit)
	return b.String()
}
