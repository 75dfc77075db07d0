package odata

import (
	"errors"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
)

// expandTests cover $expand with nested options. Every nested option is parsed, so a bad one is
// an error here, before any row is read.
var expandTests = []struct {
	name, in string
	// want describes the result as nav(select|filter?|order?|top)[children]; empty when an error
	// is expected.
	want    string
	wantErr string
	pos     int
}{
	{name: "single", in: "primarycontactid", want: "primarycontactid(*|-|-|0)"},
	{name: "ref", in: "primarycontactid/$ref", want: "primarycontactid/$ref(*|-|-|0)"},
	{name: "collection with options", in: "Account_Tasks($select=subject;$filter=subject eq 'x';$orderby=subject desc;$top=3)", want: "Account_Tasks(subject|f|o|3)"},
	{name: "nested", in: "primarycontactid($select=fullname;$expand=createdby($select=fullname))", want: "primarycontactid(fullname|-|-|0)[createdby(fullname|-|-|0)]"},
	{name: "many-to-many", in: "account_contacts($filter=fullname ne null)", want: "account_contacts(*|f|-|0)"},
	{name: "bad nested filter", in: "Account_Tasks($filter=garbage eq eq)", wantErr: dverr.CodeZero, pos: 22},
	{name: "unknown nested filter column", in: "Account_Tasks($filter=nosuch eq 1)", wantErr: dverr.CodeZero, pos: 22},
	{name: "bad nested orderby", in: "Account_Tasks($orderby=nosuch)", wantErr: dverr.CodeZero, pos: 23},
	{name: "bad nested select", in: "Account_Tasks($select=subject,nosuch)", wantErr: dverr.CodeZero, pos: 30},
	{name: "bad filter two levels down", in: "primarycontactid($expand=createdby($filter=x eq))", wantErr: dverr.CodeZero},
	{name: "orderby on single-valued", in: "primarycontactid($orderby=fullname)", wantErr: dverr.CodeExpandNotSupported, pos: 0},
	{name: "top on single-valued", in: "primarycontactid($top=1)", wantErr: dverr.CodeExpandNotSupported, pos: 0},
	{name: "orderby on a collection with a nested expand", in: "primarycontactid,Account_Tasks($orderby=subject;$expand=regardingobjectid_account_task)", wantErr: dverr.CodeExpandNotSupported, pos: 17},
	{name: "top on a collection with a nested expand", in: "Account_Tasks($top=1;$expand=regardingobjectid_account_task($select=name))", wantErr: dverr.CodeExpandNotSupported, pos: 0},
	{name: "collection with a nested expand", in: "Account_Tasks($select=subject;$filter=subject eq 'x';$expand=regardingobjectid_account_task($select=name))", want: "Account_Tasks(subject|f|-|0)[regardingobjectid_account_task(name|-|-|0)]"},
	{name: "unknown navigation", in: "nosuch", wantErr: dverr.CodeZero, pos: 0},
	{name: "unknown nested option", in: "Account_Tasks($foo=1)", wantErr: dverr.CodeZero, pos: 14},
	{name: "unclosed", in: "Account_Tasks($top=1", wantErr: dverr.CodeZero},
	{name: "ref with options", in: "primarycontactid/$ref($select=fullname)", wantErr: dverr.CodeZero},
}

func describeExpand(items []ExpandItem) string {
	out := ""
	for i, x := range items {
		if i > 0 {
			out += ","
		}
		out += x.Nav.Name
		if x.Ref {
			out += "/$ref"
		}
		sel := "*"
		if x.Select != nil {
			sel = ""
			for j, a := range x.Select {
				if j > 0 {
					sel += " "
				}
				sel += a.LogicalName
			}
		}
		f, o := "-", "-"
		if x.Filter != nil {
			f = "f"
		}
		if x.Order != nil {
			o = "o"
		}
		out += "(" + sel + "|" + f + "|" + o + "|" + itoa(x.Top) + ")"
		if len(x.Expand) > 0 {
			out += "[" + describeExpand(x.Expand) + "]"
		}
	}
	return out
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}

func TestParseExpand(t *testing.T) {
	t.Parallel()
	sch := testSchema(t)
	acct := entity(t, sch, "account")
	for _, tt := range expandTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseExpand(sch, acct, tt.in, nil, testEnv)
			if tt.wantErr != "" {
				var de *dverr.Error
				if !errors.As(err, &de) {
					t.Fatalf("ParseExpand(%q) = %v, want error %s", tt.in, err, tt.wantErr)
				}
				if de.Code != tt.wantErr || de.Status != 400 {
					t.Errorf("ParseExpand(%q) error %s %d %q, want code %s", tt.in, de.Code, de.Status, de.Message, tt.wantErr)
				}
				if tt.pos != 0 && de.Position != tt.pos {
					t.Errorf("ParseExpand(%q) error at %d, want %d", tt.in, de.Position, tt.pos)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseExpand(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, describeExpand(got)); diff != "" {
				t.Errorf("ParseExpand(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// TestRefExpandShowsLookup checks that nav/$ref shows the lookup property it follows, before the
// primary key, as in Dataverse's answer to $select=name&$expand=primarycontactid/$ref.
func TestRefExpandShowsLookup(t *testing.T) {
	t.Parallel()
	sch := testSchema(t)
	acct := entity(t, sch, "account")
	for _, query := range []string{"$select=name&$expand=primarycontactid/$ref", "$select=name,accountid&$expand=primarycontactid/$ref"} {
		opts, err := ParseOptions(query)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := ParseRecord(Request{Schema: sch, Env: testEnv}, acct, opts)
		if err != nil {
			t.Fatal(err)
		}
		c, err := ParseCollection(Request{Schema: sch, Env: testEnv}, acct, nil, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, cols := range [][]*model.Attribute{rec.Columns, c.Columns} {
			var names []string
			for _, a := range cols {
				names = append(names, a.LogicalName)
			}
			if diff := cmp.Diff([]string{"name", "primarycontactid", "accountid"}, names); diff != "" {
				t.Errorf("%s: columns (-want +got):\n%s", query, diff)
			}
		}
	}
}

// TestExpandColumns checks the columns expanded rows show: the selection completed with the
// primary key and, for one-to-many collections, the lookup back to the parent.
func TestExpandColumns(t *testing.T) {
	t.Parallel()
	sch := testSchema(t)
	got, err := ParseExpand(sch, entity(t, sch, "account"), "Account_Tasks($select=subject)", nil, testEnv)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range got[0].Columns {
		names = append(names, a.LogicalName)
	}
	if diff := cmp.Diff([]string{"subject", "activityid", "regardingobjectid"}, names); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
}

func TestParseCollection(t *testing.T) {
	t.Parallel()
	sch := testSchema(t)
	acct := entity(t, sch, "account")
	tests := []struct {
		name, query string
		maxPage     int
		top, page   int
		count       bool
		applied     bool
		expandPage  int
		wantErr     string
	}{
		{name: "defaults", query: "", page: MaxPageSize},
		{name: "top", query: "$top=3", top: 3},
		{name: "top capped", query: "$top=9000", top: MaxPageSize},
		{name: "maxpagesize ignores top", query: "$top=3", maxPage: 2, page: 2, applied: true},
		{name: "count", query: "$count=true", page: MaxPageSize, count: true},
		{name: "nested expand pages collections", query: "$expand=Account_Tasks($expand=regardingobjectid_account_task)", maxPage: 10, page: 10, applied: true, expandPage: 10},
		{name: "nested expand with paging refuses top", query: "$expand=Account_Tasks($top=2;$expand=regardingobjectid_account_task)", maxPage: 10, wantErr: dverr.CodeExpandNotSupported},
		{name: "bad count", query: "$count=yes", wantErr: dverr.CodeZero},
		{name: "bad top", query: "$top=-1", wantErr: dverr.CodeZero},
		{name: "skip refused", query: "$skip=1", wantErr: dverr.CodeZero},
		{name: "expand with apply", query: "$apply=groupby((name))&$expand=primarycontactid", wantErr: dverr.CodeZero},
		{name: "bad skiptoken", query: "$skiptoken=nonsense", wantErr: dverr.CodeZero},
		{name: "bad nested expand", query: "$expand=Account_Tasks($filter=garbage eq eq)", wantErr: dverr.CodeZero},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := ParseOptions(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			c, err := ParseCollection(Request{Schema: sch, Env: testEnv, MaxPageSize: tt.maxPage}, acct, nil, opts)
			if tt.wantErr != "" {
				de, ok := dverr.As(err)
				if !ok || de.Code != tt.wantErr {
					t.Fatalf("ParseCollection(%q) = %v, want %s", tt.query, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseCollection(%q): %v", tt.query, err)
			}
			got := []any{c.Query.Top, c.Query.PageSize, c.Count, c.PageSizeApplied, c.ExpandPageSize}
			want := []any{tt.top, tt.page, tt.count, tt.applied, tt.expandPage}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ParseCollection(%q) top, page, count, applied, expand page (-want +got):\n%s", tt.query, diff)
			}
		})
	}
}

// TestSkipTokenRoundTrip reads back the $skiptoken written for a page, and refuses it for another
// order.
func TestSkipTokenRoundTrip(t *testing.T) {
	t.Parallel()
	sch := testSchema(t)
	acct := entity(t, sch, "account")
	opts, _ := ParseOptions("$orderby=name")
	c, err := ParseCollection(Request{Schema: sch, Env: testEnv}, acct, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	pos := &model.Position{Values: []any{"Fabrikam & Co"}, ID: "00000000-0000-4000-8000-000000000002", Page: 1}
	token := SkipToken(c.Query, pos, "00000000-0000-4000-8000-000000000001")
	opts = append(opts, Option{Name: "$skiptoken", Value: token})
	c, err = ParseCollection(Request{Schema: sch, Env: testEnv}, acct, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(pos, c.Query.After); diff != "" {
		t.Errorf("position (-want +got):\n%s", diff)
	}
	other, _ := ParseOptions("$orderby=revenue&$skiptoken=" + url.QueryEscape(token))
	if _, err := ParseCollection(Request{Schema: sch, Env: testEnv}, acct, nil, other); err == nil {
		t.Error("a skip token written for another order was accepted")
	}
}

func FuzzParseExpand(f *testing.F) {
	for _, tt := range expandTests {
		f.Add(tt.in)
	}
	sch := testSchema(f)
	acct := entity(f, sch, "account")
	f.Fuzz(func(t *testing.T, text string) {
		if _, err := ParseExpand(sch, acct, text, nil, testEnv); err != nil {
			checkFuzzErr(t, err, text)
		}
	})
}

// FuzzParseSkipToken feeds arbitrary $skiptoken values: they are refused with a 400, never a panic.
func FuzzParseSkipToken(f *testing.F) {
	sch := testSchema(f)
	acct := entity(f, sch, "account")
	q := &model.Query{Entity: acct, Order: []model.Order{{Column: &model.Column{Attr: mustAttr(f, acct, "name")}}}}
	f.Add(SkipToken(q, &model.Position{Values: []any{"x"}, ID: "00000000-0000-4000-8000-000000000002", Page: 1}, "00000000-0000-4000-8000-000000000001"))
	f.Add(`<cookie pagenumber="2" pagingcookie="%253ccookie%2520page%253d%25221%2522%253e%253c%252fcookie%253e" istracking="False" />`)
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		pos, err := parseSkipToken(q, token)
		if err != nil {
			if de, ok := dverr.As(err); !ok || de.Status != 400 {
				t.Fatalf("%q: %v", token, err)
			}
			return
		}
		if pos.ID == "" || len(pos.Values) != 1 {
			t.Fatalf("%q: accepted an incomplete position %+v", token, pos)
		}
	})
}

func mustAttr(tb testing.TB, e *model.Entity, name string) *model.Attribute {
	tb.Helper()
	a, ok := e.Attribute(name)
	if !ok {
		tb.Fatalf("%s has no column %s", e.LogicalName, name)
	}
	return a
}
