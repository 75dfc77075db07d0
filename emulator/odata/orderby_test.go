package odata

import (
	"strings"
	"testing"

	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/google/go-cmp/cmp"
)

// orderByTests are $orderby texts on account and the keys or error they give.
var orderByTests = []struct {
	name string
	in   string
	want []model.Order
	msg  string
	pos  int
}{
	{name: "several keys", in: "revenue asc,name desc", want: []model.Order{{Column: col("revenue")}, {Column: col("name"), Desc: true}}},
	{name: "default ascending", in: "name", want: []model.Order{{Column: col("name")}}},
	{name: "spaces", in: " numberofemployees  desc , name ", want: []model.Order{{Column: col("numberofemployees"), Desc: true}, {Column: col("name")}}},
	{name: "choice sorts by value", in: "accountcategorycode", want: []model.Order{{Column: col("accountcategorycode")}}},
	{name: "lookup value", in: "_primarycontactid_value desc", want: []model.Order{{Column: col("primarycontactid"), Desc: true}}},
	{name: "navigation path", in: "primarycontactid/fullname desc", want: []model.Order{{Column: col("primarycontactid", "fullname"), Desc: true}}},
	{name: "multi-level path", in: "primarycontactid/createdby/fullname", want: []model.Order{{Column: col("primarycontactid", "createdby", "fullname")}}},
	{name: "duplicates kept", in: "name,name desc", want: []model.Order{{Column: col("name")}, {Column: col("name"), Desc: true}}},

	{name: "unknown name", in: "Name", msg: "Could not find a property named 'Name' on type 'Microsoft.Dynamics.CRM.account'.", pos: 0},
	{name: "unknown second name", in: "name,Revenue desc", msg: "Could not find a property named 'Revenue' on type 'Microsoft.Dynamics.CRM.account'.", pos: 5},
	{name: "unknown name on target", in: "primarycontactid/foo", msg: "Could not find a property named 'foo' on type 'Microsoft.Dynamics.CRM.contact'.", pos: 17},
	{name: "navigation property", in: "primarycontactid", msg: "The $orderby expression must evaluate to a single value of primitive type.", pos: 0},
	{name: "collection", in: "Account_Tasks", msg: "The navigation property 'Account_Tasks' is a collection; filter on its rows with Account_Tasks/any(...) or Account_Tasks/all(...).", pos: 0},
	{name: "lambda", in: "Account_Tasks/any()", msg: "The $orderby expression must evaluate to a single value of primitive type.", pos: 0},
	{name: "condition", in: "name eq 'x'", msg: "The $orderby expression must evaluate to a single value of primitive type.", pos: 0},
	{name: "function", in: "contains(name,'x')", msg: "The $orderby expression must evaluate to a single value of primitive type.", pos: 0},
	{name: "literal", in: "name,'x'", msg: "The $orderby expression must evaluate to a single value of primitive type.", pos: 5},
	{name: "image column", in: "entityimage", msg: "The property 'entityimage' of type 'Virtual' cannot be used in a query.", pos: 0},
	{name: "two directions", in: "name asc desc", msg: "Syntax error at position 9 in 'name asc desc'.", pos: 9},
	{name: "trailing comma", in: "name,", msg: "Expression expected at position 5 in 'name,'.", pos: 5},
	{name: "empty", in: "", msg: "Expression expected at position 0 in ''.", pos: 0},
	{name: "unterminated", in: "name eq 'x", msg: "There is an unterminated literal at position 10 in 'name eq 'x'.", pos: 10},
}

func TestParseOrderBy(t *testing.T) {
	t.Parallel()
	sch := testSchema(t)
	acct := entity(t, sch, "account")
	for _, tt := range orderByTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseOrderBy(sch, acct, tt.in, nil)
			if tt.msg != "" {
				checkQueryErr(t, err, tt.msg, tt.pos)
				return
			}
			if err != nil {
				t.Fatalf("ParseOrderBy(%q): %v", tt.in, err)
			}
			if d := cmp.Diff(tt.want, got, exprOpts); d != "" {
				t.Errorf("ParseOrderBy(%q) (-want +got):\n%s", tt.in, d)
			}
		})
	}
}

// TestParseOrderByAliases checks parameter aliases that stand for a property, as Dataverse's
// documented $orderby=@p1 asc,@p2 desc&@p1=revenue&@p2=name.
func TestParseOrderByAliases(t *testing.T) {
	t.Parallel()
	sch := testSchema(t)
	acct := entity(t, sch, "account")
	aliases := map[string]string{"@p1": "revenue", "@p2": "name", "p3": "primarycontactid/fullname", "@lit": "'name'", "@nav": "primarycontactid", "@bad": "nothere"}
	got, err := ParseOrderBy(sch, acct, "@p1 asc,@p2 desc,@p3", aliases)
	if err != nil {
		t.Fatal(err)
	}
	want := []model.Order{{Column: col("revenue")}, {Column: col("name"), Desc: true}, {Column: col("primarycontactid", "fullname")}}
	if d := cmp.Diff(want, got, exprOpts); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	for _, tt := range []struct{ in, msg string }{
		{"@lit", "The $orderby expression must evaluate to a single value of primitive type."},
		{"@none", "The $orderby expression must evaluate to a single value of primitive type."},
		{"@nav", "The $orderby expression must evaluate to a single value of primitive type."},
		{"name,@bad", "Could not find a property named 'nothere' on type 'Microsoft.Dynamics.CRM.account'."},
	} {
		_, err := ParseOrderBy(sch, acct, tt.in, aliases)
		pos := strings.IndexByte(tt.in, '@')
		checkQueryErr(t, err, tt.msg, pos)
	}
}

func FuzzParseOrderBy(f *testing.F) {
	for _, tt := range orderByTests {
		f.Add(tt.in)
	}
	sch := testSchema(f)
	acct := entity(f, sch, "account")
	f.Fuzz(func(t *testing.T, text string) {
		keys, err := ParseOrderBy(sch, acct, text, nil)
		if err != nil {
			checkFuzzErr(t, err, text)
			return
		}
		if len(keys) == 0 {
			t.Fatalf("%q: no keys without error", text)
		}
		for _, k := range keys {
			if k.Column == nil || k.Column.Attr == nil {
				t.Fatalf("%q: key without a column: %+v", text, k)
			}
		}
	})
}
