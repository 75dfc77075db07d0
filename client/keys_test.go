package client

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestNormalizeKey(t *testing.T) {
	t.Parallel()
	const guid = "7d577253-3ef0-4a0a-bb7f-8335c2596e70"
	tests := []struct {
		name    string
		key     string
		want    string
		wantErr bool
	}{
		{name: "guid", key: guid, want: guid},
		{name: "guid in braces", key: "{" + guid + "}", want: guid},
		{name: "upper-case guid kept", key: "7D577253-3EF0-4A0A-BB7F-8335C2596E70", want: "7D577253-3EF0-4A0A-BB7F-8335C2596E70"},
		{name: "surrounding space", key: "  " + guid + " ", want: guid},
		{name: "alternate key", key: "accountnumber='A1'", want: "accountnumber='A1'"},
		{name: "double quotes become single", key: `accountnumber="A1"`, want: "accountnumber='A1'"},
		{name: "double-quoted value with a single quote", key: `name="O'Brien"`, want: "name='O''Brien'"},
		{name: "escaped quote kept", key: "name='O''Brien'", want: "name='O''Brien'"},
		{name: "comma inside quotes", key: "name='a,b',code=5", want: "name='a,b',code=5"},
		{name: "spaces around pairs", key: "a = 'x' , b = 2.5", want: "a='x',b=2.5"},
		{name: "lookup in key", key: "_primarycontactid_value={" + guid + "}", want: "_primarycontactid_value=" + guid},
		{name: "metadata key", key: "LogicalName='account'", want: "LogicalName='account'"},
		{name: "bare literals", key: "a=true,b=null,c=-3,d=1e5", want: "a=true,b=null,c=-3,d=1e5"},
		{name: "not a guid", key: "bad-id", wantErr: true},
		{name: "logical name", key: "account", wantErr: true},
		{name: "set name", key: "accounts", wantErr: true},
		{name: "empty", key: "", wantErr: true},
		{name: "unquoted string", key: "accountnumber=A1", wantErr: true},
		{name: "unterminated", key: "name='abc", wantErr: true},
		{name: "no name", key: "='x'", wantErr: true},
		{name: "bad name", key: "na-me='x'", wantErr: true},
		{name: "trailing comma", key: "a=1,", wantErr: true},
		{name: "missing comma", key: "a='x' b=2", wantErr: true},
		{name: "missing value", key: "a=", wantErr: true},
		{name: "short guid", key: "7d577253-3ef0-4a0a-bb7f", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := normalizeKey(tt.key)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidInput) {
					t.Fatalf("normalizeKey(%q) = %q, %v; want an ErrInvalidInput error", tt.key, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("normalizeKey(%q) = %q, %v; want %q", tt.key, got, err, tt.want)
			}
		})
	}
}

func TestAlternateKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		pairs []KeyValue
		want  string
	}{
		{name: "string", pairs: []KeyValue{{"accountnumber", "A1"}}, want: "accountnumber='A1'"},
		{name: "quote escaped", pairs: []KeyValue{{"name", "O'Brien"}}, want: "name='O''Brien'"},
		{name: "numbers and bools", pairs: []KeyValue{{"a", 5}, {"b", int64(-2)}, {"c", 2.5}, {"d", json.Number("1.0000")}, {"e", true}},
			want: "a=5,b=-2,c=2.5,d=1.0000,e=true"},
		{name: "guid and null", pairs: []KeyValue{{"_parentid_value", GUID("{7d577253-3ef0-4a0a-bb7f-8335c2596e70}")}, {"x", nil}},
			want: "_parentid_value=7d577253-3ef0-4a0a-bb7f-8335c2596e70,x=null"},
		{name: "guid as string is quoted", pairs: []KeyValue{{"code", "7d577253-3ef0-4a0a-bb7f-8335c2596e70"}},
			want: "code='7d577253-3ef0-4a0a-bb7f-8335c2596e70'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := AlternateKey(tt.pairs...)
			if got != tt.want {
				t.Fatalf("AlternateKey = %q, want %q", got, tt.want)
			}
			// Whatever AlternateKey builds, the key check accepts unchanged.
			norm, err := normalizeKey(got)
			if err != nil || norm != got {
				t.Fatalf("normalizeKey(%q) = %q, %v", got, norm, err)
			}
		})
	}
}

func TestIDFromEntityURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"https://org.crm.dynamics.com/api/data/v9.2/accounts(7d577253-3ef0-4a0a-bb7f-8335c2596e70)", "7d577253-3ef0-4a0a-bb7f-8335c2596e70"},
		{"https://org/api/data/v9.2/EntityDefinitions(LogicalName='account')/Attributes(7d577253-3ef0-4a0a-bb7f-8335c2596e70)", "7d577253-3ef0-4a0a-bb7f-8335c2596e70"},
		{"https://org/api/data/v9.2/accounts(accountnumber='A1')", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := idFromEntityURL(tt.in); got != tt.want {
			t.Errorf("idFromEntityURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
