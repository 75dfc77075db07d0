package contracts

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustJSON(t *testing.T, s string) any {
	t.Helper()
	v, err := decodeGeneric([]byte(s))
	if err != nil {
		t.Fatalf("bad JSON %s: %v", s, err)
	}
	return v
}

func TestCompare(t *testing.T) {
	t.Parallel()
	const id = "8f2a5b1c-0d3e-4f60-9a7b-1c2d3e4f5a6b"
	tests := []struct {
		name  string
		want  string
		got   string
		exact bool
		diffs []string
	}{
		{"equal literals", `{"a":"x","n":1.50,"b":true,"z":null}`, `{"a":"x","n":1.50,"b":true,"z":null}`, false, nil},
		{"number text matters", `{"revenue":20000.0000}`, `{"revenue":20000}`, false, []string{"body.revenue: want 20000.0000, got 20000"}},
		{"subset ignores extra keys", `{"a":1}`, `{"a":1,"b":2}`, false, nil},
		{"exact reports extra keys", `{"a":1}`, `{"a":1,"b":2}`, true, []string{"body.b: want (absent), got 2"}},
		{"missing key", `{"a":1,"b":2}`, `{"a":1}`, false, []string{"body.b: want 2, got (absent)"}},
		{"nested path", `{"error":{"code":"0x80040217"}}`, `{"error":{"code":"0x0"}}`, false, []string{`body.error.code: want "0x80040217", got "0x0"`}},
		{"odd keys are quoted", `{"@odata.etag":"W/\"1\""}`, `{"@odata.etag":"W/\"2\""}`, false, []string{`body["@odata.etag"]: want "W/\"1\"", got "W/\"2\""`}},
		{"guid", `{"id":"{{guid}}"}`, `{"id":"` + id + `"}`, false, nil},
		{"not a guid", `{"id":"{{guid}}"}`, `{"id":"nope"}`, false, []string{`body.id: want {{guid}}, got "nope"`}},
		{"etag and datetime", `{"e":"{{etag}}","d":"{{datetime}}"}`, `{"e":"W/\"12\"","d":"2026-03-14T15:09:26Z"}`, false, nil},
		{"bad datetime", `{"d":"{{datetime}}"}`, `{"d":"3/14/2026"}`, false, []string{`body.d: want {{datetime}}, got "3/14/2026"`}},
		{"any takes null but not absence", `{"a":"{{any}}","b":"{{any}}"}`, `{"a":null}`, false, []string{"body.b: want {{any}}, got (absent)"}},
		{"types", `{"s":"{{string}}","n":"{{number}}","b":"{{bool}}"}`, `{"s":"x","n":3,"b":false}`, false, nil},
		{"wrong type", `{"n":"{{number}}"}`, `{"n":"3"}`, false, []string{`body.n: want {{number}}, got "3"`}},
		{"absent holds", `{"a":"{{absent}}"}`, `{"b":1}`, false, nil},
		{"absent broken", `{"a":"{{absent}}"}`, `{"a":1}`, false, []string{"body.a: want {{absent}}, got 1"}},
		{"pattern", `{"u":"{{api}}accounts({{guid}})"}`, `{"u":"http://h/api/data/v9.2/accounts(` + id + `)"}`, false, nil},
		{"pattern mismatch", `{"u":"{{api}}contacts({{guid}})"}`, `{"u":"http://h/api/data/v9.2/accounts(` + id + `)"}`, false,
			[]string{`body.u: want {{api}}contacts({{guid}}), got "http://h/api/data/v9.2/accounts(` + id + `)"`}},
		{"pattern quotes its literal parts", `{"m":"a.c {{any}}"}`, `{"m":"abc x"}`, false, []string{`body.m: want a.c {{any}}, got "abc x"`}},
		{"open is a literal", `{"m":"{{open}}x}}"}`, `{"m":"{{x}}"}`, false, nil},
		{"approx inside", `{"v":{"$approx":1.0,"tolerance":0.01}}`, `{"v":1.005}`, false, nil},
		{"approx outside", `{"v":{"$approx":1.0,"tolerance":0.01}}`, `{"v":1.02}`, false, []string{`body.v: want {"$approx":1.0,"tolerance":0.01}, got 1.02`}},
		{"regex", `{"c":{"$regex":"^0x8004"}}`, `{"c":"0x80040217"}`, false, nil},
		{"in order", `{"l":[1,2]}`, `{"l":[2,1]}`, false, []string{"body.l[0]: want 1, got 2", "body.l[1]: want 2, got 1"}},
		{"unordered", `{"l":{"$unordered":[1,2,3]}}`, `{"l":[3,1,2]}`, false, nil},
		{"unordered subsets", `{"l":{"$unordered":[{"s":"b"},{"s":"a"}]}}`, `{"l":[{"s":"a","id":1},{"s":"b","id":2}]}`, false, nil},
		{"unordered pairs strictly", `{"l":{"$unordered":["{{any}}","x"]}}`, `{"l":["x","y"]}`, false, nil},
		{"unordered length", `{"l":{"$unordered":[1,2]}}`, `{"l":[1,2,2]}`, false, []string{`body.l: want {"$unordered":[1,2]}, got [1,2,2]`}},
		{"contains ignores other elements", `{"l":{"$contains":[{"n":"b"},2]}}`, `{"l":[1,{"n":"a"},2,{"n":"b","x":1}]}`, false, nil},
		{"contains pairs distinct elements", `{"l":{"$contains":[2,2]}}`, `{"l":[1,2,3]}`, false, []string{`body.l: want {"$contains":[2,2]}, got [1,2,3]`}},
		{"contains a missing element", `{"l":{"$contains":["x"]}}`, `{"l":["y","z"]}`, false, []string{`body.l: want {"$contains":["x"]}, got ["y","z"]`}},
		{"contains needs an array", `{"l":{"$contains":[]}}`, `{"l":{}}`, false, []string{`body.l: want {"$contains":[]}, got {}`}},
		{"contains nothing matches any array", `{"l":{"$contains":[]}}`, `{"l":[1]}`, false, nil},
		{"type change", `{"a":{"b":1}}`, `{"a":"b"}`, false, []string{`body.a: want {"b":1}, got "b"`}},
		{"whole body absent", `"{{absent}}"`, ``, false, nil},
		{"matchers shown as written", `{"error":{"code":"0x80040217","m":"Id = {{guid}}","n":{"$approx":1,"tolerance":0.5}}}`, `{"value":1}`, false,
			[]string{`body.error: want {"code":"0x80040217","m":"Id = {{guid}}","n":{"$approx":1,"tolerance":0.5}}, got (absent)`}},
	}
	vs := newVars(nil)
	vs.set(varAPI, "http://h/api/data/v9.2/")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, err := compileWant(mustJSON(t, tt.want), vs)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"body": w}
			got := map[string]any{}
			if tt.got != "" {
				got["body"] = mustJSON(t, tt.got)
			}
			var diffs []string
			for _, d := range compare(want, got, tt.exact) {
				diffs = append(diffs, d.String())
			}
			if d := cmp.Diff(tt.diffs, diffs); d != "" {
				t.Errorf("differences (-want +got):\n%s", d)
			}
		})
	}
}

func TestBindCaptures(t *testing.T) {
	t.Parallel()
	vs := newVars(nil)
	vs.set(varAPI, "http://h/api/data/v9.2/")
	want, err := compileWant(mustJSON(t, `{
		"headers": {"OData-EntityId": "{{api}}accounts({{capture account.id}})"},
		"body": {"@odata.etag": "{{capture tag}}", "rows": [{"id": "{{capture first}}"}], "missing": "{{capture nothing}}",
		         "set": {"$unordered": [{"id": "{{capture lost}}"}]}}}`), vs)
	if err != nil {
		t.Fatal(err)
	}
	got := mustJSON(t, `{
		"headers": {"OData-EntityId": "http://h/api/data/v9.2/accounts(abc)"},
		"body": {"@odata.etag": "W/\"7\"", "rows": [{"id": 5}], "set": [{"id": 1}]}}`)
	bound := map[string]any{}
	bindCaptures(want, got, func(name string, v any) { bound[name] = v })
	wantBound := map[string]any{"account.id": "abc", "tag": `W/"7"`, "first": json.Number("5")}
	if d := cmp.Diff(wantBound, bound); d != "" {
		t.Errorf("captures (-want +got):\n%s", d)
	}
}
