package emulator_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dynlocal/dynlocal/emulator/wire"
)

// A read that asks for no annotations is written straight from the row's values; one that asks
// for them goes through the general shaper. Apart from the annotations, both write the same
// members in the same order, for every kind of column: lookups set and empty, a polymorphic
// customer, dates with and without a time, money, floats, choices, booleans, text that needs
// escaping.
func TestPlainAndAnnotatedReadsAgree(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	parent := idFromEntityID(t, e.do("POST", "accounts", map[string]any{"name": "Parent"}).expect(t, 204).Header)
	acc := idFromEntityID(t, e.do("POST", "accounts", map[string]any{
		"name": "Quote \" back\\slash\ttab \u2028 é", "revenue": 1234.5, "numberofemployees": 42,
		"parentaccountid@odata.bind": "/accounts(" + parent + ")", "address1_latitude": 47.25,
		"creditonhold": true, "accountcategorycode": 2,
	}).expect(t, 204).Header)
	con := idFromEntityID(t, e.do("POST", "contacts", map[string]any{
		"firstname": "Ada", "lastname": "Lovelace", "birthdate": "1815-12-10",
		"parentcustomerid_account@odata.bind": "/accounts(" + acc + ")",
	}).expect(t, 204).Header)
	annotated := `odata.include-annotations="*"`
	for _, path := range []string{
		"accounts(" + acc + ")",
		"accounts(" + acc + ")?$select=name,revenue,parentaccountid,createdon",
		"contacts(" + con + ")",
		"accounts?$filter=accountid eq " + acc,
		"contacts?$select=fullname,birthdate,parentcustomerid&$filter=contactid eq " + con,
		"accounts?$select=name,createdon&$orderby=name&$top=2",
	} {
		path = strings.ReplaceAll(path, " ", "%20")
		plain := e.do("GET", path, nil).expect(t, 200)
		full := e.do("GET", path, nil, "Prefer", annotated).expect(t, 200)
		if got, want := members(t, plain.Body, true), members(t, full.Body, false); got != want {
			t.Errorf("GET %s:\nplain     %s\nannotated %s", path, got, want)
		}
		if !strings.Contains(string(full.Body), "@OData.Community.Display.V1.FormattedValue") {
			t.Errorf("GET %s with annotations has none: %s", path, full.Body)
		}
	}
}

// members lists an answer's members, and those of each row of its value, as name=raw value,
// leaving out annotations other than @odata.* when annotations is false.
func members(t *testing.T, body []byte, annotations bool) string {
	t.Helper()
	o, err := wire.ParseObject(body)
	if err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	var out []string
	for _, m := range o.Members() {
		raw := m.Value.(json.RawMessage)
		if !annotations && strings.Contains(m.Name, "@") && !strings.HasPrefix(m.Name, "@odata.") {
			continue
		}
		if m.Name == "value" {
			var rows []json.RawMessage
			if err := json.Unmarshal(raw, &rows); err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				out = append(out, "{"+members(t, r, annotations)+"}")
			}
			continue
		}
		out = append(out, m.Name+"="+string(raw))
	}
	return strings.Join(out, "\n")
}
