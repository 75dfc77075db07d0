package model

import (
	"testing"
)

func TestDecodePositionRejectsForeignCookies(t *testing.T) {
	t.Parallel()
	acc, err := ParseEntity([]byte(`{"LogicalName":"account","EntitySetName":"accounts","PrimaryIdAttribute":"accountid","Attributes":[
		{"LogicalName":"accountid","AttributeType":"Uniqueidentifier"},
		{"LogicalName":"name","AttributeType":"String"},
		{"LogicalName":"revenue","AttributeType":"Money"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	name, _ := acc.Attribute("name")
	q := &Query{Entity: acc, Order: []Order{{Column: &Column{Attr: name}}}}
	for _, c := range []string{"", "<cookie", "<cookie page=\"1\"><accountid last=\"{x}\" /></cookie>", "<cookie page=\"1\"><name last=\"a\" /><contactid last=\"{x}\" /></cookie>", "<cookie page=\"1\"><revenue last=\"1\" /><accountid last=\"{x}\" /></cookie>"} {
		if _, err := DecodePosition(q, c); err == nil {
			t.Errorf("DecodePosition(%q) accepted", c)
		}
	}
	good := EncodePosition(q, &Position{Values: []any{`a "quoted" <name>`}, ID: "00000000-0000-4000-8000-000000000001", Page: 3}, "00000000-0000-4000-8000-000000000000")
	p, err := DecodePosition(q, good)
	if err != nil || p.Values[0] != `a "quoted" <name>` || p.Page != 3 {
		t.Errorf("round trip: %+v %v (%s)", p, err, good)
	}
}
