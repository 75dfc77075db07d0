package store

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
)

// TestQueriesBeyondSQLiteLimits runs queries larger than SQLite's own limits: each either works or
// answers a 400, never an internal error.
func TestQueriesBeyondSQLiteLimits(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, filepath.Join(t.TempDir(), "db.sqlite"))
	acc, _ := s.Schema().Entity("account")
	name, _ := acc.Attribute("name")
	num, _ := acc.Attribute("numberofemployees")
	if err := s.Write(ctx, func(tx *Tx) error {
		for i := range 3 {
			if _, err := tx.Insert(acc, model.Row{"accountid": fmt.Sprintf("00000000-0000-0000-0000-00000000000%d", i+1),
				"name": fmt.Sprintf("a%d", i), "numberofemployees": int64(i)}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	col := func(a *model.Attribute) *model.Column { return &model.Column{Attr: a} }
	var ors []model.Expr
	for i := range 1500 {
		ors = append(ors, model.Compare{Left: col(name), Op: model.Eq, Value: fmt.Sprintf("a%d", i)})
	}
	// A left-deep chain, as a parser of "a or b or c ..." builds it.
	var chain model.Expr = ors[0]
	for _, o := range ors[1:] {
		chain = model.Or{Terms: []model.Expr{chain, o}}
	}
	var many []any
	for i := range 40000 {
		many = append(many, int64(i))
	}
	var orders []model.Order
	for range 2100 {
		orders = append(orders, model.Order{Column: col(name)})
	}
	for _, tc := range []struct {
		name string
		q    model.Query
		rows int // -1: a 400 is expected
	}{
		{"1500 or terms", model.Query{Entity: acc, Filter: model.Or{Terms: ors}}, 3},
		{"1500 nested or terms", model.Query{Entity: acc, Filter: chain}, 3},
		{"40000 in values", model.Query{Entity: acc, Filter: model.In{Column: col(num), Values: many}}, 3},
		{"40000 not in values", model.Query{Entity: acc, Filter: model.In{Column: col(num), Values: many, Negate: true}}, 0},
		{"2100 order keys", model.Query{Entity: acc, Order: orders}, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var res *Result
			err := s.Read(ctx, func(tx *Tx) error {
				var err error
				res, err = tx.Select(&tc.q)
				if err == nil {
					_, err = tx.CountRows(&tc.q, 0)
				}
				return err
			})
			if tc.rows < 0 {
				if de, ok := dverr.As(err); !ok || de.Status != http.StatusBadRequest {
					t.Fatalf("err = %v, want a 400", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Rows) != tc.rows {
				t.Fatalf("%d rows, want %d", len(res.Rows), tc.rows)
			}
		})
	}
}
