package contracts

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseAcceptsTypedTemplates(t *testing.T) {
	t.Parallel()
	// A template can stand for a boolean or a number; only the run knows its value.
	if _, err := Parse([]byte(`{"name":"s","cases":[{"name":"c","steps":[
		{"action":"CreateRecord","input":{"entitySet":"accounts","data":{},"returnRepresentation":"{{flag}}"},"expect":{}}]}]}`)); err != nil {
		t.Error(err)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	step := func(s string) string { return `{"name":"s","cases":[{"name":"c","steps":[` + s + `]}]}` }
	tests := []struct {
		name, text, err string
	}{
		{"not JSON", `{`, "decode suite"},
		{"unknown field", `{"name":"s","cases":[],"colour":1}`, "unknown field"},
		{"no name", `{"cases":[{"name":"c","steps":[{"action":"WhoAmI","expect":{}}]}]}`, "no name"},
		{"no cases", `{"name":"s","cases":[]}`, "no cases"},
		{"duplicate case", `{"name":"s","cases":[{"name":"c","steps":[{"action":"WhoAmI","expect":{}}]},{"name":"c","steps":[{"action":"WhoAmI","expect":{}}]}]}`, "appears twice"},
		{"no steps", `{"name":"s","cases":[{"name":"c","steps":[]}]}`, "no steps"},
		{"unknown action", step(`{"action":"Frobnicate","expect":{}}`), `unknown action "Frobnicate"`},
		{"unknown input field", step(`{"action":"GetRecord","input":{"entitySet":"accounts","key":"k","colums":["a"]},"expect":{}}`), `unknown field "colums"`},
		{"input of the wrong type", step(`{"action":"GetRecord","input":{"entitySet":"accounts","key":"k","select":"name"},"expect":{}}`), "cannot unmarshal"},
		{"wrong type without templates", step(`{"action":"CreateRecord","input":{"entitySet":"accounts","data":{},"returnRepresentation":"yes"},"expect":{}}`), "cannot unmarshal"},
		{"matcher in input", step(`{"action":"GetRecord","input":{"entitySet":"accounts","key":"{{guid}}"},"expect":{}}`), "cannot appear in an input"},
		{"bad expectation", step(`{"action":"WhoAmI","expect":{"body":{"a":"{{newkey k}}"}}}`), "only appear in an input"},
		{"bad header expectation", step(`{"action":"WhoAmI","expect":{"headers":{"ETag":"{{etag"}}}`), "unclosed"},
		{"auth with both", step(`{"action":"WhoAmI","auth":{"token":"t","anonymous":true},"expect":{}}`), "exactly one"},
		{"cleanup without key", step(`{"action":"WhoAmI","expect":{},"cleanup":[{"entitySet":"accounts"}]}`), "cleanup entries need"},
		{"unknown expect field", step(`{"action":"WhoAmI","expect":{"stauts":200}}`), "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tt.text))
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("err = %v, want it to contain %q", err, tt.err)
			}
		})
	}
}

// TestCommittedSuitesAreCanonical checks that the committed files are in the format Format writes
// (which recording produces), so that a drift shows up as a real difference.
func TestCommittedSuitesAreCanonical(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("suites/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no suites: %v", err)
	}
	for _, f := range files {
		want, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Load(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Format(s)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not in canonical form at %s", f, firstDifference(want, got))
		}
		if s.Schema != SchemaRef {
			t.Errorf("%s: $schema = %q, want %q", f, s.Schema, SchemaRef)
		}
	}
}

// TestSchemaMatchesActions keeps suite.schema.json in step with the runner: the same actions, and
// for each action the same input fields as the struct its input decodes into.
func TestSchemaMatchesActions(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("suite.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Defs map[string]json.RawMessage `json:"$defs"`
	}
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	var step struct {
		Properties struct {
			Action struct {
				Enum []string `json:"enum"`
			} `json:"action"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(schema.Defs["step"], &step); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(ActionNames(), step.Properties.Action.Enum); d != "" {
		t.Errorf("schema actions (-runner +schema):\n%s", d)
	}
	for _, name := range ActionNames() {
		var def struct {
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if err := json.Unmarshal(schema.Defs[name], &def); err != nil {
			t.Errorf("schema has no input definition for %s: %v", name, err)
			continue
		}
		inSchema := []string{}
		for k := range def.Properties {
			inSchema = append(inSchema, k)
		}
		sort.Strings(inSchema)
		inGo := jsonFields(reflect.TypeOf(actions[name].newInput()).Elem())
		if d := cmp.Diff(inGo, inSchema); d != "" {
			t.Errorf("%s input fields (-Go +schema):\n%s", name, d)
		}
	}
}

// jsonFields lists the JSON names of a struct's fields, embedded structs flattened, sorted.
func jsonFields(t reflect.Type) []string {
	out := []string{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func TestLoadAll(t *testing.T) {
	t.Parallel()
	dir, err := LoadAll("suites")
	if err != nil {
		t.Fatal(err)
	}
	builtin, err := LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	if len(dir) != len(builtin) {
		t.Fatalf("directory has %d suites, built-in %d", len(dir), len(builtin))
	}
	for i := range dir {
		if dir[i].Name != builtin[i].Name || len(dir[i].Cases) != len(builtin[i].Cases) {
			t.Errorf("suite %d: directory %s (%d cases), built-in %s (%d cases)", i, dir[i].Name, len(dir[i].Cases), builtin[i].Name, len(builtin[i].Cases))
		}
	}
	if _, err := LoadAll(t.TempDir()); err == nil {
		t.Error("an empty directory loaded")
	}
}
