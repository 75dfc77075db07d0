package webapi

import (
	"strings"
	"testing"

	"github.com/dynlocal/dynlocal/emulator/dverr"
)

// TestParseEntityBody checks that a row write's body may be a JSON string holding the object, as
// some clients send it, and that every other body gets ParseObject's answer.
func TestParseEntityBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		want       string // the members' names, or "" for an error
		msg        string // part of the error message
	}{
		{name: "object", body: `{"name":"x","revenue":1}`, want: "name,revenue"},
		{name: "string holding an object", body: `"{\"name\":\"x\",\"revenue\":1}"`, want: "name,revenue"},
		{name: "string holding an object, with spaces", body: " \"  {\\\"name\\\":\\\"x\\\"} \" \n", want: "name"},
		{name: "string holding an empty object", body: `"{}"`, want: ""},
		{name: "string holding text", body: `"name"`, msg: "A JSON object was expected."},
		{name: "string holding an array", body: `"[{\"name\":\"x\"}]"`, msg: "A JSON object was expected."},
		{name: "string holding a string", body: `"\"{\\\"name\\\":\\\"x\\\"}\""`, msg: "A JSON object was expected."},
		{name: "string holding a broken object", body: `"{\"name\":"`, msg: "A JSON object was expected."},
		{name: "string holding a repeated name", body: `"{\"name\":\"x\",\"name\":\"y\"}"`, msg: "A JSON object was expected."},
		{name: "unterminated string", body: `"{\"name\":\"x\"}`, msg: "Invalid JSON."},
		{name: "number", body: `12`, msg: "A JSON object was expected."},
		{name: "empty", body: ``, msg: "The request body is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o, err := ParseEntityBody([]byte(tt.body), "accounts")
			if tt.msg != "" {
				de, ok := dverr.As(err)
				if !ok || de.Status != 400 || de.Code != dverr.CodePayloadError || !strings.Contains(de.Message, tt.msg) {
					t.Fatalf("ParseEntityBody(%q) = %v, want a payload error saying %q", tt.body, err, tt.msg)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseEntityBody(%q): %v", tt.body, err)
			}
			var names []string
			for _, m := range o.Members() {
				names = append(names, m.Name)
			}
			if got := strings.Join(names, ","); got != tt.want {
				t.Errorf("ParseEntityBody(%q) members = %q, want %q", tt.body, got, tt.want)
			}
		})
	}
}
