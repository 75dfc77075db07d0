package client_test

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/dynlocal/dynlocal/client"
	"github.com/dynlocal/dynlocal/emulator"
)

// This file mirrors the Go snippet of the repository's README ("The same with the Go client"):
// createReadUpdate below is printed there word for word, ExampleClient_readme runs it against an
// in-process emulator and checks what it prints, and TestREADMESnippetInSync fails when the README's
// copy differs from this one. Change both together.

// createReadUpdate creates an account, reads it back, renames it only if nobody changed it since it
// was read, and shows what a stale ETag gets.
func createReadUpdate(ctx context.Context, base string) error {
	c, err := client.New(base, client.WithClientCredentials(
		base+"/4d2c9a10-5e1f-4b7a-9c3d-0000000000f0/oauth2/v2.0/token",
		"4d2c9a10-5e1f-4b7a-9c3d-0000000000c0", "dynlocal-dev-secret"))
	if err != nil {
		return err
	}
	// Create answers 204: the new row's id comes from its OData-EntityId header.
	_, created, err := c.CreateRecord(ctx, "accounts", client.Record{"name": "Contoso"}, nil)
	if err != nil {
		return err
	}
	id := created.ID
	acct, read, err := c.GetRecord(ctx, "accounts", id, &client.GetOptions{Select: []string{"name"}})
	if err != nil {
		return err
	}
	fmt.Println("read back:", acct["name"])
	// Update only if the row still has the ETag it was read with.
	updated, _, err := c.UpdateRecord(ctx, "accounts", id, client.Record{"name": "Contoso Ltd"},
		&client.UpdateOptions{IfMatch: read.ETag, ReturnRepresentation: true, Select: []string{"name"}})
	if err != nil {
		return err
	}
	fmt.Println("updated:", updated["name"])
	// That update changed the ETag, so read.ETag is stale now: the same condition fails with 412.
	_, _, err = c.UpdateRecord(ctx, "accounts", id, client.Record{"name": "Contoso Inc"},
		&client.UpdateOptions{IfMatch: read.ETag})
	if errors.Is(err, client.ErrPreconditionFailed) {
		fmt.Println("stale ETag refused: someone else changed the row")
		return nil
	}
	return err
}

// The README's snippet against an emulator started in-process, in place of the one the README
// starts on http://127.0.0.1:8080.
func ExampleClient_readme() {
	ctx := context.Background()
	srv, err := emulator.New(ctx, emulator.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()

	if err := createReadUpdate(ctx, hs.URL); err != nil {
		fmt.Println(err)
	}
	// Output:
	// read back: Contoso
	// updated: Contoso Ltd
	// stale ETag refused: someone else changed the row
}

// TestREADMESnippetInSync checks that the README shows createReadUpdate exactly as this file
// defines it, doc comment included.
func TestREADMESnippetInSync(t *testing.T) {
	const file = "example_readme_test.go"
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	var snippet string
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == "createReadUpdate" {
			snippet = string(src[fset.Position(fd.Doc.Pos()).Offset:fset.Position(fd.End()).Offset])
		}
	}
	if snippet == "" {
		t.Fatalf("%s: no func createReadUpdate with a doc comment", file)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	// The Go blocks of the README: the text after each "```go" line, up to its closing fence.
	blocks := strings.Split(string(readme), "\n```go\n")[1:]
	for _, b := range blocks {
		if b, _, _ = strings.Cut(b, "\n```"); strings.Contains(b+"\n", snippet+"\n") {
			return
		}
	}
	t.Errorf("no Go block of README.md (of %d) shows createReadUpdate as %s has it; copy this into it:\n%s", len(blocks), file, snippet)
}
