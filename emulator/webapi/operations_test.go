package webapi

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestParseLiteral(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		lit  string
		want any
	}{
		{"null", nil},
		{"true", true},
		{"false", false},
		{"42", json.Number("42")},
		{"-1.5", json.Number("-1.5")},
		{"'it''s'", "it's"},
		{"''", ""},
		{"4D2C9A10-5E1F-4B7A-9C3D-000000000001", "4d2c9a10-5e1f-4b7a-9c3d-000000000001"},
		{"['account','contact']", []any{"account", "contact"}},
		{`["a\"b",'c"d']`, []any{`a"b`, `c"d`}},
		{`{"@odata.id":"accounts(4d2c9a10-5e1f-4b7a-9c3d-000000000001)"}`, map[string]any{"@odata.id": "accounts(4d2c9a10-5e1f-4b7a-9c3d-000000000001)"}},
		{"Microsoft.Dynamics.CRM.AccessRights'ReadAccess'", "ReadAccess"},
	} {
		got, err := parseLiteral(tc.lit)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseLiteral(%s) = %#v, %v; want %#v", tc.lit, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "'open", "'a'b'", "abc", "[1,", "{}x", "Type'x"} {
		if v, err := parseLiteral(bad); err == nil {
			t.Errorf("parseLiteral(%q) = %#v, want an error", bad, v)
		}
	}
}

func TestCheckArgs(t *testing.T) {
	t.Parallel()
	op := &Operation{Name: "Op", Params: []Param{
		{Name: "S", Type: "Edm.String"}, {Name: "G", Type: "Edm.Guid", Optional: true}, {Name: "I", Type: "Edm.Int32", Optional: true},
		{Name: "B", Type: "Edm.Boolean", Optional: true}, {Name: "D", Type: "Edm.DateTimeOffset", Optional: true},
		{Name: "L", Type: "Collection(Edm.String)", Optional: true}, {Name: "E", Type: "mscrm.account", Optional: true},
	}}
	ok := map[string]any{"S": "x", "G": "4d2c9a10-5e1f-4b7a-9c3d-000000000001", "I": json.Number("3"), "B": true,
		"D": "2026-03-14T15:09:26Z", "L": []any{"a"}, "E": map[string]any{"name": "x"}, "@odata.type": "x"}
	if err := checkArgs(op, ok); err != nil {
		t.Fatalf("valid arguments refused: %v", err)
	}
	for name, bad := range map[string]map[string]any{
		"missing required":  {},
		"null required":     {"S": nil},
		"unknown parameter": {"S": "x", "Z": 1},
		"not a string":      {"S": json.Number("1")},
		"not a guid":        {"S": "x", "G": "nope"},
		"not an integer":    {"S": "x", "I": json.Number("1.5")},
		"not a bool":        {"S": "x", "B": "true"},
		"not a date":        {"S": "x", "D": "yesterday"},
		"not a list":        {"S": "x", "L": "a"},
		"list element":      {"S": "x", "L": []any{json.Number("1")}},
		"not a record":      {"S": "x", "E": []any{}},
	} {
		err := checkArgs(op, bad)
		if err == nil || !strings.Contains(err.Error(), "validating input parameters") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Function parameters come from URLs: whatever the text, parsing never panics.
func FuzzParseLiteral(f *testing.F) {
	for _, s := range []string{"'a''b'", "['x','y']", `{"a":[1,'b']}`, "Microsoft.Dynamics.CRM.X'Y'", "1e9", "null", "Name='x',Other=@p1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = parseLiteral(s)
		parts := splitParams(s)
		if strings.Join(parts, ",") != s {
			t.Errorf("splitParams(%q) = %q, which does not join back", s, parts)
		}
	})
}
