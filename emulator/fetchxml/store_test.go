//go:build cgo

package fetchxml

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/store"
)

// The tests in files built only with cgo run the parsed queries on the SQLite store; the parser's
// own tests need no cgo.

func init() {
	// Every query the fuzz target accepts must also compile.
	compile = func(q *model.Query) error {
		_, _, err := store.Compile(q)
		return err
	}
}

// testStore opens an in-memory store holding the test schema, so that golden queries also run.
func testStore(tb testing.TB) *store.Store {
	tb.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	var ents, rels []json.RawMessage
	for _, d := range testEntityDocs {
		ents = append(ents, json.RawMessage(d))
	}
	for _, d := range testRelationshipDocs {
		rels = append(rels, json.RawMessage(d))
	}
	if err := s.Write(ctx, func(tx *store.Tx) error { return tx.PutMetadata(ents, rels) }); err != nil {
		tb.Fatal(err)
	}
	return s
}
