package fetchxml

import (
	"testing"

	"github.com/dynlocal/dynlocal/emulator/model"
)

func TestDecodePositionRejectsForeignCookies(t *testing.T) {
	t.Parallel()
	acc, _ := testSchema(t).Entity("account")
	name, _ := acc.Attribute("name")
	q := &model.Query{Entity: acc, Order: []model.Order{{Column: &model.Column{Attr: name}}}}
	for _, c := range []string{"", "<cookie", "<cookie page=\"1\"><accountid last=\"{x}\" /></cookie>", "<cookie page=\"1\"><name last=\"a\" /><contactid last=\"{x}\" /></cookie>", "<cookie page=\"1\"><revenue last=\"1\" /><accountid last=\"{x}\" /></cookie>"} {
		if _, err := DecodePosition(q, c); err == nil {
			t.Errorf("DecodePosition(%q) accepted", c)
		}
	}
	good := EncodePosition(q, &model.Position{Values: []any{`a "quoted" <name>`}, ID: "00000000-0000-4000-8000-000000000001", Page: 3}, "00000000-0000-4000-8000-000000000000")
	p, err := DecodePosition(q, good)
	if err != nil || p.Values[0] != `a "quoted" <name>` || p.Page != 3 {
		t.Errorf("round trip: %+v %v (%s)", p, err, good)
	}
}
