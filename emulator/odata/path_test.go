package odata

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dynlocal/dynlocal/emulator/dverr"
)

func TestSplitPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []Segment
		err  bool
	}{
		{"set", "accounts", []Segment{{Name: "accounts"}}, false},
		{"key", "accounts(00000000-0000-0000-0000-000000000001)", []Segment{{Name: "accounts", HasParens: true, Parens: "00000000-0000-0000-0000-000000000001"}}, false},
		{"slash in key string", "accounts(name='a/b)c')/name", []Segment{{Name: "accounts", HasParens: true, Parens: "name='a/b)c'"}, {Name: "name", Pos: 23}}, false},
		{"function", "WhoAmI()", []Segment{{Name: "WhoAmI", HasParens: true}}, false},
		{"ref", "accounts(1)/primarycontactid/$ref", []Segment{{Name: "accounts", HasParens: true, Parens: "1"}, {Name: "primarycontactid", Pos: 12}, {Name: "$ref", Pos: 29}}, false},
		{"trailing slash", "accounts/", []Segment{{Name: "accounts"}}, false},
		{"unclosed", "accounts(1", nil, true},
		{"text after parens", "accounts(1)x", nil, true},
		{"empty segment", "accounts//name", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SplitPath(tt.in)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if d := cmp.Diff(tt.want, got); d != "" && !tt.err {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want *Key
		msg  string
	}{
		{"guid", "00000000-0000-0000-0000-00000000000A", &Key{Single: &Literal{Kind: LitGUID, Text: "00000000-0000-0000-0000-00000000000a"}}, ""},
		{"alternate", "accountnumber='A''1',count=5", &Key{Pairs: []KeyValue{{"accountnumber", Literal{LitString, "A'1"}}, {"count", Literal{LitNumber, "5"}}}}, ""},
		{"spaces", " a = 'x' , b = true ", &Key{Pairs: []KeyValue{{"a", Literal{LitString, "x"}}, {"b", Literal{LitBool, "true"}}}}, ""},
		{"lookup key", "_primarycontactid_value=00000000-0000-0000-0000-000000000001", &Key{Pairs: []KeyValue{{"_primarycontactid_value", Literal{LitGUID, "00000000-0000-0000-0000-000000000001"}}}}, ""},
		{"unterminated", "name='abc", nil, "There is an unterminated literal at position 5 in 'name='abc'."},
		{"bad word", "abc", nil, "Bad Request - Error in query syntax."},
		{"duplicate name", "a=1,a=2", nil, "Bad Request - Error in query syntax."},
		{"missing value", "a=", nil, "Bad Request - Error in query syntax."},
		{"empty", "", nil, "Bad Request - Error in query syntax."},
		{"bad number", "a=1.2.3", nil, "Bad Request - Error in query syntax."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseKey(tt.in)
			if tt.msg != "" {
				de, ok := dverr.As(err)
				if !ok || de.Message != tt.msg || de.Status != 400 {
					t.Fatalf("err = %v, want 400 %q", err, tt.msg)
				}
				if de.Position < 0 {
					t.Errorf("error has no position: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// FuzzParsePath checks that path and key parsing never panic and that every error is a
// Dataverse-shaped 400 with a position.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{
		"accounts", "accounts(00000000-0000-0000-0000-000000000001)", "accounts(accountnumber='A1')/name",
		"accounts(a='x',b=1)/primarycontactid/$ref", "WhoAmI()", "accounts(name='a/b')", "x('", "a(b(c))", "(", ")", "a//b",
		"accounts(1e5)", "a(@p1)", "a(-.5e-3)", "a(k='''')",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		segs, err := SplitPath(s)
		if err != nil {
			checkErr(t, err)
			return
		}
		for _, seg := range segs {
			if seg.HasParens {
				if _, err := ParseKey(seg.Parens); err != nil {
					checkErr(t, err)
				}
			}
		}
	})
}

func checkErr(t *testing.T, err error) {
	t.Helper()
	de, ok := dverr.As(err)
	if !ok || de.Status != 400 || de.Position < 0 {
		t.Fatalf("error %v is not a 400 with a position", err)
	}
}

// An unknown entity set names the one probably meant, within Dataverse's message; a name that
// differs only in case, or is close to nothing, keeps the message as Dataverse writes it.
func TestUnknownSetSuggestion(t *testing.T) {
	t.Parallel()
	sch := testSchema(t)
	for _, tt := range []struct{ name, want string }{
		{"account", "Resource not found for the segment 'account'. Did you mean 'accounts'?"},
		{"acounts", "Resource not found for the segment 'acounts'. Did you mean 'accounts'?"},
		{"Accounts", "Resource not found for the segment 'Accounts'."},
		{"nosuchthings", "Resource not found for the segment 'nosuchthings'."},
	} {
		segs, err := SplitPath(tt.name)
		if err != nil {
			t.Fatal(err)
		}
		_, err = ResolvePath(sch, segs, nil)
		var de *dverr.Error
		if !errors.As(err, &de) || de.Message != tt.want {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}
