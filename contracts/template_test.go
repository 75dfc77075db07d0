package contracts

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCheckTemplates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		value string
		input bool
		err   string // "" for valid
	}{
		{"plain text", `"hello"`, true, ""},
		{"reference", `"{{account.id}}"`, true, ""},
		{"generator in input", `"accountnumber='{{newkey n}}'"`, true, ""},
		{"matcher in expectation", `{"a":"{{guid}}","b":"x {{any}} y"}`, false, ""},
		{"capture in expectation", `"{{api}}accounts({{capture account.id}})"`, false, ""},
		{"unclosed", `"{{guid"`, false, "unclosed {{"},
		{"unknown word", `"{{capture}}"`, false, "needs a name"},
		{"two words", `"{{guid x}}"`, false, "bad template"},
		{"reserved name", `"{{capture api}}"`, false, "bad name"},
		{"matcher name", `"{{newguid guid}}"`, true, "bad name"},
		{"matcher in input", `{"key":"{{guid}}"}`, true, "cannot appear in an input"},
		{"capture in input", `"{{capture x}}"`, true, "cannot appear in an input"},
		{"generator in expectation", `"{{newguid x}}"`, false, "can only appear in an input"},
		{"absent inside text", `"x{{absent}}"`, false, "must be the whole value"},
		{"bad approx", `{"$approx":"x","tolerance":1}`, false, "must be numbers"},
		{"approx without tolerance", `{"$approx":1}`, false, "exactly"},
		{"generator in an input key", `{"data":{"new_c{{newkey c}}":1}}`, true, ""},
		{"matcher in an input key", `{"data":{"new_c{{guid}}":1}}`, true, "cannot appear in an input"},
		{"unknown dollar key", `{"$includes":[1]}`, false, "unknown matcher"},
		{"contains", `{"$contains":[1,"{{guid}}"]}`, false, ""},
		{"contains without an array", `{"$contains":1}`, false, "takes an array"},
		{"bad regex", `{"$regex":"("}`, false, "$regex"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := checkTemplates(mustJSON(t, tt.value), tt.input)
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("err = %v, want it to contain %q", err, tt.err)
			}
		})
	}
}

func TestResolveInput(t *testing.T) {
	t.Parallel()
	vs := newVars(nil)
	vs.set("id", "8f2a5b1c-0d3e-4f60-9a7b-1c2d3e4f5a6b")
	vs.set("n", json.Number("42"))
	vs.set("me", map[string]any{"UserId": "u1"})
	vs.set("tasks", []any{map[string]any{"activityid": "t1"}})
	in := mustJSON(t, `{
		"key": "{{id}}",
		"count": "{{n}}",
		"text": "n={{n}} id={{id}} {{open}}x}}",
		"user": "{{me.UserId}}",
		"task": "{{tasks.0.activityid}}",
		"list": ["/contacts({{id}})", 7],
		"data": {"new_c{{n}}": "{{n}}", "{{n}}": 1, "plain": 2}
	}`)
	got, err := resolveInput(in, vs)
	if err != nil {
		t.Fatal(err)
	}
	want := mustJSON(t, `{
		"key": "8f2a5b1c-0d3e-4f60-9a7b-1c2d3e4f5a6b",
		"count": 42,
		"text": "n=42 id=8f2a5b1c-0d3e-4f60-9a7b-1c2d3e4f5a6b {{x}}",
		"user": "u1",
		"task": "t1",
		"list": ["/contacts(8f2a5b1c-0d3e-4f60-9a7b-1c2d3e4f5a6b)", 7],
		"data": {"new_c42": 42, "42": 1, "plain": 2}
	}`)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("resolved (-want +got):\n%s", d)
	}
	if _, err := resolveInput("{{nothere}}", vs); err == nil || !strings.Contains(err.Error(), "is not set") {
		t.Errorf("unset reference: err = %v", err)
	}
	if _, err := resolveInput("{{tasks.3.activityid}}", vs); err == nil {
		t.Error("an index out of range resolved")
	}
	if _, err := resolveInput(mustJSON(t, `{"{{nothere}}x": 1}`), vs); err == nil || !strings.Contains(err.Error(), "is not set") {
		t.Errorf("unset reference in a key: err = %v", err)
	}
	if _, err := resolveInput(mustJSON(t, `{"x{{n}}": 1, "x42": 2}`), vs); err == nil || !strings.Contains(err.Error(), "two keys") {
		t.Errorf("keys that collide: err = %v", err)
	}
}

func TestGenerators(t *testing.T) {
	t.Parallel()
	vs := newVars(nil)
	a, err := resolveInput("{{newguid x}}", vs)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := resolveInput("accounts({{newguid x}})", vs)
	if !wholeGUID.MatchString(a.(string)) || b != "accounts("+a.(string)+")" {
		t.Errorf("newguid gave %v then %v", a, b)
	}
	k, _ := resolveInput("{{newkey k}}", vs)
	if s := k.(string); len(s) != 10 || strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
		t.Errorf("newkey = %q", s)
	}
	if !vs.isGenerated("x") || !vs.isGenerated("k") {
		t.Error("generated values are not marked")
	}
	if other, _ := resolveInput("{{newguid x}}", newVars(nil)); other == a {
		t.Error("two scopes generated the same GUID")
	}
}
