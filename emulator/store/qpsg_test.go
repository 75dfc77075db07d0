package store

import (
	"context"
	"testing"

	"github.com/mattn/go-sqlite3"
)

// TestQueryPlannerStability checks that every connection of the store has the query planner
// stability guarantee on (qpsg.go): readers and the writer, in a file and in memory.
func TestQueryPlannerStability(t *testing.T) {
	ctx := context.Background()
	for _, opts := range []Options{{}, {Path: t.TempDir() + "/db.sqlite"}} {
		s, err := Open(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name  string
			write bool
		}{{"reader", false}, {"writer", true}} {
			tx, err := s.Begin(ctx, tc.write)
			if err != nil {
				t.Fatal(err)
			}
			var on bool
			err = tx.conn.Raw(func(dc any) error {
				var err error
				on, err = setQPSG(dc.(*sqlite3.SQLiteConn), -1)
				return err
			})
			tx.Rollback()
			if err != nil || !on {
				t.Errorf("%+v %s: QPSG on = %v, %v", opts, tc.name, on, err)
			}
		}
		s.Close()
	}
}
