package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
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

// TestObject builds objects past the size at which they keep an index and checks order, replacement
// and removal.
func TestObject(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		build func(o *Object)
		want  string
	}{
		{"empty", func(o *Object) {}, `{}`},
		{"order kept", func(o *Object) { o.Set("b", 1); o.Set("a", "x") }, `{"b":1,"a":"x"}`},
		{"replace keeps position", func(o *Object) { o.Set("a", 1); o.Set("b", 2); o.Set("a", 3) }, `{"a":3,"b":2}`},
		{"remove", func(o *Object) { o.Set("a", 1); o.Set("b", 2); o.Set("c", 3); o.Remove("b"); o.Remove("z") }, `{"a":1,"c":3}`},
		{"large", func(o *Object) {
			for i := range 12 {
				o.Set(string(rune('a'+i)), i)
			}
			o.Remove("c")
			o.Set("k", "K")
			o.Set("c", nil)
		}, `{"a":0,"b":1,"d":3,"e":4,"f":5,"g":6,"h":7,"i":8,"j":9,"k":"K","l":11,"c":null}`},
		{"nested and lists", func(o *Object) {
			in := NewObject()
			in.Set("Value", true)
			o.Set("o", in)
			o.Set("list", []any{in, json.RawMessage(`[1, 2]`), json.Number("1.50"), nil})
			o.Set("objects", []*Object{in})
			o.Set("raw", []json.RawMessage{json.RawMessage(`{"a" : 1}`)})
			s := "R&D"
			o.Set("ptr", &s)
			o.Set("nilptr", (*int64)(nil))
		}, `{"o":{"Value":true},"list":[{"Value":true},[1, 2],1.50,null],"objects":[{"Value":true}],"raw":[{"a" : 1}],"ptr":"R&D","nilptr":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var o Object
			tt.build(&o)
			got, err := Marshal(&o)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			for _, m := range o.Members() {
				if v, ok := o.Get(m.Name); !ok || fmt.Sprint(v) != fmt.Sprint(m.Value) {
					t.Errorf("Get(%q) = %v, %v; want %v", m.Name, v, ok, m.Value)
				}
			}
		})
	}
}

// TestParseObject checks the order and raw values kept, and the strict reader's refusals.
func TestParseObject(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		in         string
		want       string // written back; empty when an error is expected
		wantErr    error
		wantStrict error
	}{
		{name: "order and raw text", in: ` {"b": [1, 2], "a":{"x" : "<&>"}, "c":1.50} `, want: `{"b":[1, 2],"a":{"x" : "<&>"},"c":1.50}`},
		{name: "duplicate", in: `{"a":1,"b":2,"a":3}`, want: `{"a":3,"b":2}`, wantStrict: &DuplicateError{Name: "a"}},
		{name: "trailing", in: `{"a":1} {}`, want: `{"a":1}`, wantStrict: ErrTrailing},
		{name: "empty", in: "  ", wantErr: ErrEmpty, wantStrict: ErrEmpty},
		{name: "array", in: `[1]`, wantErr: ErrNotObject, wantStrict: ErrNotObject},
		{name: "string", in: `"a"`, wantErr: ErrNotObject, wantStrict: ErrNotObject},
		{name: "cut short", in: `{"a":`, wantErr: io.EOF, wantStrict: io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o, err := ParseObject([]byte(tt.in))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("ParseObject error = %v, want %v", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if got, _ := Marshal(o); string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			_, err = ParseObjectStrict([]byte(tt.in))
			switch want := tt.wantStrict.(type) {
			case nil:
				if err != nil {
					t.Errorf("ParseObjectStrict error = %v", err)
				}
			case *DuplicateError:
				var dup *DuplicateError
				if !errors.As(err, &dup) || dup.Name != want.Name {
					t.Errorf("ParseObjectStrict error = %v, want %v", err, want)
				}
			default:
				if !errors.Is(err, want) {
					t.Errorf("ParseObjectStrict error = %v, want %v", err, want)
				}
			}
		})
	}
	var se *json.SyntaxError
	if _, err := ParseObjectStrict([]byte(`{"a" 1}`)); !errors.As(err, &se) {
		t.Errorf("syntax error = %v, want a *json.SyntaxError", err)
	}
}

func FuzzParseObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1,"a":2}`, `{"a":[1,{"b":null}]} x`, `[`, ``} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseObjectStrict([]byte(s))
		if err != nil {
			return
		}
		out, err := Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseObjectStrict(out)
		if err != nil {
			t.Fatalf("%q written back as %s does not read: %v", s, out, err)
		}
		if back.Len() != o.Len() {
			t.Fatalf("%q: %d members, %d after a round trip", s, o.Len(), back.Len())
		}
	})
}

func TestPutFirstAndAdd(t *testing.T) {
	o := NewObjectSize(2)
	for i := 0; i < 12; i++ {
		o.Add("k"+strconv.Itoa(i), i)
	}
	o.Set("k3", "three") // found through the index built on the first lookup
	o.PutFirst("@odata.context", "ctx")
	o.PutFirst("k5", "five")
	b, err := Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"k5":"five","@odata.context":"ctx","k0":0,"k1":1,"k2":2,"k3":"three","k4":4,"k6":6,"k7":7,"k8":8,"k9":9,"k10":10,"k11":11}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	if v, ok := o.Get("k11"); !ok || v != 11 {
		t.Errorf("Get after PutFirst = %v, %v", v, ok)
	}
}

func TestAddEncoded(t *testing.T) {
	o := NewObject()
	o.Add("@odata.etag", `W/"7"`)
	o.AddEncoded([]byte(`"a":1,"b":null`))
	o.AddEncoded(nil) // nothing to add: no stray comma
	o.Add("c", "x")
	o.PutFirst("@odata.context", "ctx")
	b, err := Marshal([]*Object{o, NewObject()})
	if err != nil {
		t.Fatal(err)
	}
	if want := `[{"@odata.context":"ctx","@odata.etag":"W/\"7\"","a":1,"b":null,"c":"x"},{}]`; string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	if _, ok := o.Get("a"); ok {
		t.Errorf("Get sees inside an encoded run")
	}
}
