package odata

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dynlocal/dynlocal/emulator/dverr"
)

// docFilterDocs are three EntityMetadata-like documents, decoded as the emulator decodes them.
var docFilterDocs = func() []map[string]any {
	texts := []string{
		`{"LogicalName":"account","SchemaName":"Account","ObjectTypeCode":1,"OwnershipType":"UserOwned","IsCustomEntity":false,
		  "IsCustomizable":{"Value":true,"CanBeChanged":false},"CreatedOn":"1900-01-01T00:00:00Z","Description":null,
		  "DisplayName":{"UserLocalizedLabel":{"Label":"Account"}}}`,
		`{"LogicalName":"new_bankaccount","SchemaName":"new_BankAccount","ObjectTypeCode":10009,"OwnershipType":"UserOwned","IsCustomEntity":true,
		  "IsCustomizable":{"Value":true,"CanBeChanged":true},"CreatedOn":"2026-03-14T15:09:26Z","Description":"O'Brian's accounts"}`,
		`{"LogicalName":"organization","SchemaName":"Organization","ObjectTypeCode":1019,"OwnershipType":"OrganizationOwned","IsCustomEntity":false,
		  "IsCustomizable":{"Value":false,"CanBeChanged":false},"CreatedOn":null}`,
	}
	var out []map[string]any
	for _, s := range texts {
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			panic(err)
		}
		out = append(out, m)
	}
	return out
}()

var entitySchema = DocSchema{
	TypeName: "Microsoft.Dynamics.CRM.EntityMetadata",
	Has: func(n string) bool {
		switch n {
		case "LogicalName", "SchemaName", "ObjectTypeCode", "OwnershipType", "IsCustomEntity", "IsCustomizable", "CreatedOn", "Description", "DisplayName":
			return true
		}
		return false
	},
}

func TestParseDocFilter(t *testing.T) {
	t.Parallel()
	aliases := map[string]string{"@p1": "'account'", "@own": "Microsoft.Dynamics.CRM.OwnershipTypes'OrganizationOwned'", "@n": "1000"}
	tests := []struct {
		name, filter string
		want         []string // logical names that match
	}{
		{"eq string", "LogicalName eq 'account'", []string{"account"}},
		{"eq ignores case", "SchemaName eq 'ACCOUNT'", []string{"account"}},
		{"ne", "LogicalName ne 'account'", []string{"new_bankaccount", "organization"}},
		{"or", "LogicalName eq 'account' or LogicalName eq 'organization'", []string{"account", "organization"}},
		{"enum literal", "OwnershipType eq Microsoft.Dynamics.CRM.OwnershipTypes'UserOwned'", []string{"account", "new_bankaccount"}},
		{"enum ne", "OwnershipType ne Microsoft.Dynamics.CRM.OwnershipTypes'UserOwned'", []string{"organization"}},
		{"bool", "IsCustomEntity eq true", []string{"new_bankaccount"}},
		{"bare bool", "IsCustomEntity", []string{"new_bankaccount"}},
		{"not bare bool", "not IsCustomEntity", []string{"account", "organization"}},
		{"complex path", "IsCustomizable/Value eq true", []string{"account", "new_bankaccount"}},
		{"complex path and", "IsCustomizable/Value eq true and IsCustomizable/CanBeChanged eq false", []string{"account"}},
		{"number gt", "ObjectTypeCode gt 1000", []string{"new_bankaccount", "organization"}},
		{"number le", "ObjectTypeCode le 1019", []string{"account", "organization"}},
		{"number decimal", "ObjectTypeCode lt 1.5", []string{"account"}},
		{"null", "Description eq null", []string{"account", "organization"}},
		{"not null", "Description ne null", []string{"new_bankaccount"}},
		{"missing is null", "CreatedOn eq null", []string{"organization"}},
		{"datetime", "CreatedOn gt 2000-01-01T00:00:00Z", []string{"new_bankaccount"}},
		{"date", "CreatedOn lt 2000-01-01", []string{"account"}},
		{"ordering with null", "Description gt 'a'", []string{"new_bankaccount"}},
		{"contains", "contains(LogicalName,'ACCOUNT')", []string{"account", "new_bankaccount"}},
		{"startswith", "startswith(LogicalName,'new_')", []string{"new_bankaccount"}},
		{"endswith", "endswith(SchemaName,'tion')", []string{"organization"}},
		{"not contains", "not contains(LogicalName,'account')", []string{"organization"}},
		{"quote escape", "Description eq 'O''Brian''s accounts'", []string{"new_bankaccount"}},
		{"kind mismatch eq", "IsCustomEntity eq 'true'", nil},
		{"kind mismatch ne", "ObjectTypeCode ne 'x'", []string{"account", "new_bankaccount", "organization"}},
		{"string alias", "LogicalName eq @p1", []string{"account"}},
		{"enum alias", "OwnershipType eq @own", []string{"organization"}},
		{"number alias", "ObjectTypeCode gt @n", []string{"new_bankaccount", "organization"}},
		{"unassigned alias", "Description eq @nothing", []string{"account", "organization"}},
		{"parentheses", "(LogicalName eq 'account' or IsCustomEntity) and not (ObjectTypeCode eq 1)", []string{"new_bankaccount"}},
		{"literal on the left", "'account' eq LogicalName", []string{"account"}},
		{"complex missing", "IsCustomizable/Nope eq null", []string{"account", "new_bankaccount", "organization"}},
		{"label complex", "DisplayName/UserLocalizedLabel eq null", []string{"new_bankaccount", "organization"}},
		{"function compared", "contains(LogicalName,'account') eq false", []string{"organization"}},
		{"two properties, case ignored", "LogicalName eq SchemaName", []string{"account", "new_bankaccount", "organization"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := ParseDocFilter(tt.filter, aliases, entitySchema)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range docFilterDocs {
				if f.Match(d) {
					got = append(got, d["LogicalName"].(string))
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.filter, diff)
			}
		})
	}
}

func TestParseDocFilterErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, filter, message string
		pos                   int
	}{
		{"unknown property", "Nope eq 1", "Could not find a property named 'Nope' on type 'Microsoft.Dynamics.CRM.EntityMetadata'.", 0},
		{"unknown later", "LogicalName eq 'a' and Foo eq 1", "Could not find a property named 'Foo' on type 'Microsoft.Dynamics.CRM.EntityMetadata'.", 23},
		{"too deep", "DisplayName/UserLocalizedLabel/Label eq 'x'", "", 31},
		{"unterminated", "LogicalName eq 'a", "There is an unterminated literal at position 17 in 'LogicalName eq 'a'.", 17},
		{"syntax", "LogicalName eq", "Expression expected at position 14 in 'LogicalName eq'.", 14},
		{"lambda", "LogicalName/any(x:x eq 1)", "", 12},
		{"query function", "Microsoft.Dynamics.CRM.In(PropertyName='LogicalName',PropertyValues=[\"a\"])", "", 0},
		{"unknown function", "tolower(LogicalName) eq 'a'", "The function 'tolower' is not supported.", 0},
		{"contains arity", "contains(LogicalName)", "", 0},
		{"contains literal first", "contains('a','b')", "The first argument of 'contains' must be a property.", 9},
		{"contains number", "contains(LogicalName,1)", "The second argument of 'contains' must be a string value.", 21},
		{"not boolean", "'account'", "The $filter expression must evaluate to a single boolean value.", 0},
		{"foreign enum", "OwnershipType eq Other.Types'X'", "The type 'Other.Types' is not an enumeration type of this service.", 17},
		{"list", "LogicalName eq ['a']", "", 15},
		{"nested comparison", "(LogicalName eq 'a') eq true", "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseDocFilter(tt.filter, nil, entitySchema)
			de, ok := dverr.As(err)
			if !ok {
				t.Fatalf("err = %v, want a *dverr.Error", err)
			}
			if de.Status != 400 || de.Position != tt.pos || (tt.message != "" && de.Message != tt.message) {
				t.Errorf("err = %d %q at %d, want 400 %q at %d", de.Status, de.Message, de.Position, tt.message, tt.pos)
			}
		})
	}
}

func TestParseDocFilterAcceptsAnyNameWithoutSchema(t *testing.T) {
	t.Parallel()
	f, err := ParseDocFilter("Anything eq 'x'", nil, DocSchema{})
	if err != nil {
		t.Fatal(err)
	}
	if !f.Match(map[string]any{"Anything": "X"}) || f.Match(map[string]any{}) {
		t.Error("filter without a schema does not evaluate")
	}
	var nilFilter *DocFilter
	if !nilFilter.Match(nil) {
		t.Error("a nil filter must match")
	}
}

func FuzzParseDocFilter(f *testing.F) {
	for _, s := range []string{
		"LogicalName eq 'account'", "IsCustomizable/Value eq true", "OwnershipType eq Microsoft.Dynamics.CRM.OwnershipTypes'UserOwned'",
		"contains(LogicalName,'a') and not (ObjectTypeCode gt 10000 or Description eq null)", "CreatedOn ge 2024-01-01T00:00:00Z",
		"LogicalName eq @p1", "x/y/z eq 1", "((", "'", "Microsoft.Dynamics.CRM.In(PropertyName='a',PropertyValues=[1])",
	} {
		f.Add(s)
	}
	doc := docFilterDocs[1]
	aliases := map[string]string{"@p1": "Microsoft.Dynamics.CRM.OwnershipTypes'UserOwned'"}
	f.Fuzz(func(t *testing.T, text string) {
		flt, err := ParseDocFilter(text, aliases, DocSchema{})
		if err != nil {
			de, ok := dverr.As(err)
			if !ok || de.Position < 0 || de.Position > len(text) {
				t.Fatalf("ParseDocFilter(%q): error without a position in the text: %v", text, err)
			}
			return
		}
		flt.Match(doc)
		if flt.String() != text {
			t.Fatalf("String() = %q, want %q", flt.String(), text)
		}
	})
}
