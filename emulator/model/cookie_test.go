package model

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// foreignCookies are inner paging cookies that do not fit cookieQueries' first query (ordered by
// name): malformed XML, a missing order column, another table, another order column.
var foreignCookies = []string{
	"",
	"<cookie",
	`<cookie page="1"><accountid last="{x}" /></cookie>`,
	`<cookie page="1"><name last="a" /><contactid last="{x}" /></cookie>`,
	`<cookie page="1"><revenue last="1" /><accountid last="{x}" /></cookie>`,
	// Keys that are not GUIDs: EncodePosition could not write them back as they were read.
	`<cookie page="1"><name last="a" /><accountid last="&quot;x" /></cookie>`,
	`<cookie page="1"><name last="a" /><accountid last="{ı0000000-0000-4000-8000-000000000001}" /></cookie>`,
}

// TestPositionRejectsWhatItCannotWriteBack checks values that parse but would not survive a round
// trip: a date with a fraction of a second, a lookup that is not a GUID.
func TestPositionRejectsWhatItCannotWriteBack(t *testing.T) {
	t.Parallel()
	q := cookieQueries(t)[1]
	good := EncodePosition(q, &Position{Values: []any{"a", int64(1), true, 1.5, Decimal{Unscaled: 10000, Scale: 4},
		time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), cookieFirstID}, ID: cookieID, Page: 1}, cookieFirstID)
	if _, err := DecodePosition(q, good); err != nil {
		t.Fatalf("DecodePosition(%s): %v", good, err)
	}
	for _, bad := range []string{
		strings.Replace(good, "2024-01-01T00:00:00Z", "2024-01-01T00:00:00.5Z", 1),
		strings.Replace(good, "2024-01-01T00:00:00Z", "2024-01-01T01:00:00+01:00", 1),
		strings.Replace(good, `parentaccountid last="`+cookieFirstID, `parentaccountid last="not-a-guid`, 1),
	} {
		if bad == good {
			t.Fatalf("the replacement did not apply to %s", good)
		}
		if _, err := DecodePosition(q, bad); !errors.Is(err, ErrBadPosition) {
			t.Errorf("DecodePosition(%s) = %v, want ErrBadPosition", bad, err)
		}
	}
}

// cookieQueries returns two queries on account: one ordered by name, one ordered by a column of
// each type a position can hold.
func cookieQueries(tb testing.TB) []*Query {
	tb.Helper()
	acc, err := ParseEntity([]byte(`{"LogicalName":"account","EntitySetName":"accounts","PrimaryIdAttribute":"accountid","Attributes":[
		{"LogicalName":"accountid","AttributeType":"Uniqueidentifier"},
		{"LogicalName":"name","AttributeType":"String"},
		{"LogicalName":"numberofemployees","AttributeType":"Integer"},
		{"LogicalName":"creditonhold","AttributeType":"Boolean"},
		{"LogicalName":"address1_latitude","AttributeType":"Double"},
		{"LogicalName":"revenue","AttributeType":"Money"},
		{"LogicalName":"createdon","AttributeType":"DateTime"},
		{"LogicalName":"parentaccountid","AttributeType":"Lookup","Targets":["account"]}]}`))
	if err != nil {
		tb.Fatal(err)
	}
	order := func(names ...string) []Order {
		var o []Order
		for _, n := range names {
			a, ok := acc.Attribute(n)
			if !ok {
				tb.Fatalf("no account.%s", n)
			}
			o = append(o, Order{Column: &Column{Attr: a}})
		}
		return o
	}
	return []*Query{
		{Entity: acc, Order: order("name")},
		{Entity: acc, Order: order("name", "numberofemployees", "creditonhold", "address1_latitude", "revenue", "createdon", "parentaccountid")},
	}
}

const (
	cookieID      = "00000000-0000-4000-8000-000000000001"
	cookieFirstID = "00000000-0000-4000-8000-000000000000"
)

// cookiePositions are positions of cookieQueries' second query: values of every type, and nulls.
var cookiePositions = []*Position{
	{Values: []any{"Contoso", int64(42), true, 47.25, Decimal{Unscaled: 15000, Scale: 4}, time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC), "00000000-0000-4000-8000-0000000000aa"}, ID: cookieID, Page: 2},
	{Values: []any{"", int64(-7), false, -0.5, Decimal{Unscaled: -1, Scale: 4}, time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), nil}, ID: cookieID, Page: 1},
	{Values: []any{nil, nil, nil, nil, nil, nil, nil}, ID: cookieID, Page: 9},
}

func TestDecodePositionRejectsForeignCookies(t *testing.T) {
	t.Parallel()
	q := cookieQueries(t)[0]
	for _, c := range foreignCookies {
		if _, err := DecodePosition(q, c); err == nil {
			t.Errorf("DecodePosition(%q) accepted", c)
		}
	}
	good := EncodePosition(q, &Position{Values: []any{`a "quoted" <name>`}, ID: cookieID, Page: 3}, cookieFirstID)
	p, err := DecodePosition(q, good)
	if err != nil || p.Values[0] != `a "quoted" <name>` || p.Page != 3 {
		t.Errorf("round trip: %+v %v (%s)", p, err, good)
	}
}

func TestPositionRoundTrip(t *testing.T) {
	t.Parallel()
	q := cookieQueries(t)[1]
	for _, want := range cookiePositions {
		c := EncodePosition(q, want, cookieFirstID)
		got, err := DecodePosition(q, c)
		if err != nil {
			t.Fatalf("DecodePosition(%s): %v", c, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("DecodePosition(%s) (-want +got):\n%s", c, diff)
		}
	}
}

// FuzzDecodePosition checks that DecodePosition never panics, rejects with ErrBadPosition, and
// that a position it accepts is written back by EncodePosition as a cookie that reads the same.
func FuzzDecodePosition(f *testing.F) {
	qs := cookieQueries(f)
	f.Add(EncodePosition(qs[0], &Position{Values: []any{`a "quoted" <name>`}, ID: cookieID, Page: 3}, cookieFirstID))
	for _, p := range cookiePositions {
		f.Add(EncodePosition(qs[1], p, cookieFirstID))
	}
	for _, c := range foreignCookies {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, cookie string) {
		for _, q := range qs {
			p, err := DecodePosition(q, cookie)
			if err != nil {
				if !errors.Is(err, ErrBadPosition) {
					t.Fatalf("DecodePosition(%q) = %v, want ErrBadPosition", cookie, err)
				}
				continue
			}
			again := EncodePosition(q, p, cookieFirstID)
			p2, err := DecodePosition(q, again)
			if err != nil {
				t.Fatalf("DecodePosition(%q) = %+v, written back as %q, which is rejected: %v", cookie, p, again, err)
			}
			if diff := cmp.Diff(p, p2, cmpopts.EquateNaNs()); diff != "" {
				t.Fatalf("DecodePosition(%q), written back as %q, reads differently (-first +second):\n%s", cookie, again, diff)
			}
		}
	})
}

// FuzzParsePagingCookie checks that ParsePagingCookie never panics, rejects with ErrBadPosition,
// and that what it accepts is written back by PagingCookie as a cookie that reads the same.
func FuzzParsePagingCookie(f *testing.F) {
	qs := cookieQueries(f)
	f.Add(PagingCookie(EncodePosition(qs[0], &Position{Values: []any{"a b+c%d"}, ID: cookieID, Page: 1}, cookieFirstID), 2))
	for _, p := range cookiePositions {
		f.Add(PagingCookie(EncodePosition(qs[1], p, cookieFirstID), p.Page+1))
	}
	for _, c := range []string{
		"", "<cookie", "<cookie />",
		`<cookie pagenumber="0" pagingcookie="" />`,
		`<cookie pagenumber="x" pagingcookie="" />`,
		`<cookie pagenumber="2" pagingcookie="%zz" />`,
		`<cookie pagenumber="2" pagingcookie="%25zz" />`,
	} {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, s string) {
		inner, page, err := ParsePagingCookie(s)
		if err != nil {
			if !errors.Is(err, ErrBadPosition) {
				t.Fatalf("ParsePagingCookie(%q) = %v, want ErrBadPosition", s, err)
			}
			return
		}
		again := PagingCookie(inner, page)
		inner2, page2, err := ParsePagingCookie(again)
		if err != nil {
			t.Fatalf("ParsePagingCookie(%q) = %q, %d, written back as %q, which is rejected: %v", s, inner, page, again, err)
		}
		if inner2 != inner || page2 != page {
			t.Fatalf("ParsePagingCookie(%q) = %q, %d, written back as %q, which reads %q, %d", s, inner, page, again, inner2, page2)
		}
	})
}
