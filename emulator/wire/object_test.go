package wire

import (
	"encoding/json"
	"testing"
)

// TestAppendStringMatchesEncodingJSON checks the hand-written string escaper against
// encoding/json (with HTML escaping off) on awkward inputs.
func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "plain", `quote " and \ slash`, "tab\tnl\ncr\r", "\x00\x1f", "Zürich ☃ 😀", "\u2028\u2029", "bad \xff utf8", "<&>"} {
		want, err := marshalStd(s)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	}
}

func marshalStd(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	// encoding/json escapes <, > and & by default; the emulator, like Dataverse, does not.
	var out []byte
	for i := 0; i < len(b); i++ {
		if i+5 < len(b) && string(b[i:i+4]) == `\u00` && (string(b[i+4:i+6]) == "3c" || string(b[i+4:i+6]) == "3e" || string(b[i+4:i+6]) == "26") {
			out = append(out, map[string]byte{"3c": '<', "3e": '>', "26": '&'}[string(b[i+4:i+6])])
			i += 5
			continue
		}
		out = append(out, b[i])
	}
	return string(out), nil
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"a", "\"", "\xff", "\u2028", "😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%q encoded as invalid JSON %s: %v", s, got, err)
		}
		want, _ := marshalStd(s)
		if string(got) != want {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	})
}
