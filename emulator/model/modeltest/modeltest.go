// Package modeltest holds what the tests of the packages built on model share: a fixed Env,
// comparison options that match metadata by name (so that expectations can use bare stand-ins),
// and short constructors for expected conditions and times.
package modeltest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dynlocal/dynlocal/emulator/model"
)

// Env is a Wednesday morning, 2024-05-15 10:30 UTC, with a calling user, their business unit and
// two teams; fiscal years are calendar years.
var Env = model.Env{
	Now:            time.Date(2024, 5, 15, 10, 30, 0, 0, time.UTC),
	UserID:         "11111111-1111-1111-1111-111111111111",
	BusinessUnitID: "22222222-2222-2222-2222-222222222222",
	TeamIDs:        []string{"33333333-3333-3333-3333-333333333333", "44444444-4444-4444-4444-444444444444"},
}

// ByName compares attributes, entities and navigation properties by name.
var ByName = cmp.Options{
	cmp.Comparer(func(a, b *model.Attribute) bool {
		if a == nil || b == nil {
			return a == b
		}
		return a.LogicalName == b.LogicalName
	}),
	cmp.Comparer(func(a, b *model.Entity) bool {
		if a == nil || b == nil {
			return a == b
		}
		return a.LogicalName == b.LogicalName
	}),
	cmp.Comparer(func(a, b *model.Nav) bool {
		if a == nil || b == nil {
			return a == b
		}
		return a.Name == b.Name
	}),
}

// Day is midnight UTC of a date.
func Day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// At is a UTC time of day.
func At(y int, m time.Month, d, h, mi int) time.Time {
	return time.Date(y, m, d, h, mi, 0, 0, time.UTC)
}

// Compare is the comparison of a column with a value.
func Compare(c *model.Column, op model.CompareOp, v any) model.Compare {
	return model.Compare{Left: c, Op: op, Value: v}
}

// And is the conjunction of terms.
func And(terms ...model.Expr) model.And { return model.And{Terms: terms} }

// Or is the disjunction of terms.
func Or(terms ...model.Expr) model.Or { return model.Or{Terms: terms} }

// Schema builds a schema from EntityMetadata and relationship metadata documents.
func Schema(tb testing.TB, entityDocs, relationshipDocs []string) *model.Schema {
	tb.Helper()
	var ents []*model.Entity
	for _, d := range entityDocs {
		e, err := model.ParseEntity(json.RawMessage(d))
		if err != nil {
			tb.Fatal(err)
		}
		ents = append(ents, e)
	}
	var rels []*model.Relationship
	for _, d := range relationshipDocs {
		r, err := model.ParseRelationship(json.RawMessage(d))
		if err != nil {
			tb.Fatal(err)
		}
		rels = append(rels, r)
	}
	sch, err := model.NewSchema(ents, rels, 1)
	if err != nil {
		tb.Fatal(err)
	}
	return sch
}
