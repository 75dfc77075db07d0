package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dynlocal/dynlocal/client"
	"github.com/dynlocal/dynlocal/fixtures"
)

// getCSDL reads an emulator's $metadata and resolves its tables.
func getCSDL(t *testing.T, c *client.Client) (string, *csdlSchema) {
	t.Helper()
	raw, err := c.Do(context.Background(), &client.RawRequest{Method: "GET", Path: "/api/data/v9.2/$metadata", ResponseType: client.ResponseText})
	if err != nil {
		t.Fatalf("GET $metadata: %v", err)
	}
	doc, err := readCSDL(strings.NewReader(raw.Text))
	if err != nil {
		t.Fatal(err)
	}
	s, err := tablesOf(doc)
	if err != nil {
		t.Fatal(err)
	}
	return raw.Text, s
}

// csdlView is what CSDL says about a table, with navigation properties limited to those leading
// to tables in the set (the copy has no tables beyond the imported ones).
type csdlView struct {
	EntitySet  string
	Key        []csdlPropertyRef
	Properties []csdlPropertyElem
	Navs       []csdlNavigation
}

func viewOf(s *csdlSchema, name string, in map[string]bool) csdlView {
	t := s.tables[name]
	v := csdlView{EntitySet: s.doc.Sets[name], Key: t.Key}
	navigable := map[string]bool{}
	for _, n := range t.Navs {
		if target, _ := n.target(); in[target] {
			v.Navs = append(v.Navs, n)
			for _, c := range n.Constraints {
				navigable[c.Property] = true
			}
		}
	}
	// A lookup that leads to no table of the document (createdbyexternalparty, slaid) cannot
	// be imported: CSDL names a lookup's tables only through its navigation properties.
	for _, p := range t.Properties {
		if _, isLookup := lookupColumn(p.Name); !isLookup || navigable[p.Name] {
			v.Properties = append(v.Properties, p)
		}
	}
	return v
}

// TestImportCSDL imports an emulator's own $metadata for a few tables, starts a second emulator on
// the result and compares what both documents say about every imported table: entity set, key,
// properties with their Edm types, and navigation properties with partners and constraints.
func TestImportCSDL(t *testing.T) {
	set, err := fixtures.Default()
	if err != nil {
		t.Fatal(err)
	}
	tenant, _ := startEmulator(t, set)
	text, want := getCSDL(t, tenant)

	dir := t.TempDir()
	file := filepath.Join(dir, "metadata.xml")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "fixtures")
	var stderr strings.Builder
	if code := runEnv(context.Background(), []string{"import-csdl", "--out", out, "--tables", "account,contact,task,msevtmgt_event", file},
		nil, &stderr, func(string) (string, bool) { return "", false }); code != exitOK {
		t.Fatalf("import-csdl: exit %d\n%s", code, stderr.String())
	}
	imported, err := fixtures.LoadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	// The copy has no rows; the tenant's users and what they need come along so that the
	// development credentials sign in.
	for _, r := range set.Rows {
		if slices.Contains([]string{"organizations", "businessunits", "systemusers", "teams", "transactioncurrencies"}, r.EntitySet) {
			imported.Rows = append(imported.Rows, r)
		}
	}
	copyClient, _ := startEmulator(t, imported)
	_, got := getCSDL(t, copyClient)

	for _, name := range []string{"account", "contact", "task", "msevtmgt_event"} {
		if !slices.Contains(got.order, name) {
			t.Errorf("the copy has no table %s", name)
		}
	}
	in := map[string]bool{}
	for _, name := range got.order {
		in[name] = true
	}
	for _, name := range got.order {
		if want.tables[name] == nil {
			t.Errorf("the copy has table %s, which the tenant does not", name)
			continue
		}
		if diff := cmp.Diff(viewOf(want, name, in), viewOf(got, name, in)); diff != "" {
			t.Errorf("table %s differs (-tenant +copy):\n%s", name, diff)
		}
	}
}
