package batch

import (
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dynlocal/dynlocal/emulator/dverr"
)

// TestParseGolden parses every testdata/parse/<case>.txt and compares the parts (or the error)
// with <case>.golden.
func TestParseGolden(t *testing.T) {
	for _, file := range inputFiles(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".txt")
		t.Run(name, func(t *testing.T) {
			in := readInput(t, file)
			parts, err := Parse(in.contentType, in.body)
			if strings.HasPrefix(name, "err_") != (err != nil) {
				t.Errorf("error = %v; cases named err_ must fail, the others must not", err)
			}
			got := renderParse(parts, err, in.body)
			checkGolden(t, strings.TrimSuffix(file, ".txt")+".golden", []byte(got))
		})
	}
}

// ops builds a batch body from parts written as "GET" (a top-level GET) or "CS n" (a change set
// of n POSTs).
func ops(items ...string) []byte {
	var b strings.Builder
	get := "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET accounts HTTP/1.1\r\n\r\n"
	for _, it := range items {
		b.WriteString("--batch_n\r\n")
		if it == "GET" {
			b.WriteString(get)
			continue
		}
		var n int
		fmt.Sscanf(it, "CS %d", &n)
		b.WriteString("Content-Type: multipart/mixed; boundary=cs_n\r\n\r\n")
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&b, "--cs_n\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: %d\r\n\r\nPOST accounts HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{}\r\n", i)
		}
		b.WriteString("--cs_n--\r\n")
	}
	b.WriteString("--batch_n--\r\n")
	return []byte(b.String())
}

// TestParseTable holds the cases too big or too fiddly for a testdata file.
func TestParseTable(t *testing.T) {
	t.Parallel()
	const ct = "multipart/mixed; boundary=batch_n"
	longTarget := "http://127.0.0.1:8080/api/data/v9.2/accounts?fetchXml=" + strings.Repeat("%3Ccondition%20attribute%3D'name'%20operator%3D'eq'%20value%3D'x'%2F%3E", 1000)
	longTarget = longTarget[:64*1024]
	tests := []struct {
		name string
		body []byte
		// count is the number of operations expected; msg and pos the error.
		count int
		msg   string
		pos   int
	}{
		{name: "1000 top-level operations", body: ops(repeat("GET", 1000)...), count: 1000},
		{name: "1001 top-level operations", body: ops(repeat("GET", 1001)...),
			msg: "The current batch message contains too many parts. Only batch messages with a maximum number of '1000' query operations, including changeset operations, are allowed.",
			pos: len(ops(repeat("GET", 1000)...)) - len("--batch_n--\r\n") + len("--batch_n\r\n")},
		{name: "change set of 1000", body: ops("CS 1000"), count: 1000},
		{name: "change set of 1001", body: ops("CS 1001"),
			msg: "The current change set contains too many operations. A maximum number of '1000' operations are allowed in a change set.",
			pos: -1},
		{name: "operations counted across change sets", body: ops("GET", "CS 600", "CS 400"),
			msg: "The current batch message contains too many parts. Only batch messages with a maximum number of '1000' query operations, including changeset operations, are allowed.",
			pos: -1},
		{name: "two change sets within the limit", body: ops("CS 600", "CS 400"), count: 1000},
		{name: "1000 empty change sets", body: ops(repeat("CS 0", 1000)...), count: 0},
		{name: "1001 empty change sets", body: ops(repeat("CS 0", 1001)...),
			msg: "The current batch message contains too many parts. Only batch messages with a maximum number of '1000' query operations, including changeset operations, are allowed.",
			pos: len(ops(repeat("CS 0", 1000)...)) - len("--batch_n--\r\n") + len("--batch_n\r\n")},
		{name: "64 KB URL", body: []byte("--batch_n\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET " + longTarget + " HTTP/1.1\r\nAccept: application/json\r\n\r\n--batch_n--\r\n"), count: 1},
		{name: "mixed line endings", body: []byte("--batch_n\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\n\r\nPOST accounts HTTP/1.1\r\nContent-Type: application/json\n\n{}\r\n--batch_n--"), count: 1},
		// A lone CR does not end a line, so the first line is not a delimiter but preamble.
		{name: "bare CR is not a line ending", body: []byte("--batch_n\rContent-Type: application/http\r\n--batch_n--\r\n"), count: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			parts, err := Parse(ct, tt.body)
			if tt.msg != "" {
				var de *dverr.Error
				if !errors.As(err, &de) {
					t.Fatalf("error = %v, want a *dverr.Error", err)
				}
				if de.Status != http.StatusBadRequest || de.Message != tt.msg {
					t.Errorf("error = %d %q, want 400 %q", de.Status, de.Message, tt.msg)
				}
				if tt.pos >= 0 && de.Position != tt.pos {
					t.Errorf("position = %d, want %d", de.Position, tt.pos)
				}
				// pos -1: somewhere in the body, at the start of a part's headers.
				if tt.pos < 0 && !strings.HasPrefix(string(tt.body[de.Position:]), "Content-Type: application/http") {
					t.Errorf("position %d is not at a part: %q", de.Position, tt.body[de.Position:][:20])
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, p := range parts {
				if p.IsChangeSet() {
					n += len(p.ChangeSet)
				} else {
					n++
				}
			}
			if n != tt.count {
				t.Errorf("%d operations, want %d", n, tt.count)
			}
			if tt.name == "64 KB URL" {
				if diff := cmp.Diff(longTarget, parts[0].Request.Target); diff != "" {
					t.Errorf("target (-want +got):\n%s", diff)
				}
			}
			if tt.name == "mixed line endings" {
				want := &Request{Method: "POST", Target: "accounts", Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte("{}")}
				if diff := cmp.Diff(want, parts[0].Request); diff != "" {
					t.Errorf("request (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// TestParseErrorsArePositioned checks the error contract on every failing input: a *dverr.Error,
// 400 (or 415 for a body that is not multipart), with a position inside the body.
func TestParseErrorsArePositioned(t *testing.T) {
	t.Parallel()
	for _, file := range inputFiles(t) {
		in := readInput(t, file)
		_, err := Parse(in.contentType, in.body)
		if err == nil {
			continue
		}
		checkParseErr(t, in.contentType, in.body, err)
	}
}

func checkParseErr(t *testing.T, contentType string, body []byte, err error) {
	t.Helper()
	de, ok := dverr.As(err)
	if !ok {
		t.Fatalf("%q: error %T %v is not a *dverr.Error", body, err, err)
	}
	mt, _, _ := parseMediaType(contentType)
	switch {
	case de.Status == http.StatusUnsupportedMediaType && mt != "multipart/mixed" && strings.TrimSpace(contentType) != "":
	case de.Status == http.StatusBadRequest:
	default:
		t.Fatalf("%q %q: status %d: %s", contentType, body, de.Status, de.Message)
	}
	if de.Position < 0 || de.Position > len(body) {
		t.Fatalf("%q: position %d outside the body (%d bytes): %s", body, de.Position, len(body), de.Message)
	}
	if de.Message == "" || de.Code != dverr.CodeZero {
		t.Fatalf("%q: code %q message %q", body, de.Code, de.Message)
	}
}

func TestParseMediaType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		mt     string
		params [][2]string
		ok     bool
	}{
		{in: `multipart/mixed; boundary="batch_1"`, mt: "multipart/mixed", params: [][2]string{{"boundary", "batch_1"}}, ok: true},
		{in: `multipart/mixed;boundary=dwa_batch_1`, mt: "multipart/mixed", params: [][2]string{{"boundary", "dwa_batch_1"}}, ok: true},
		{in: ` Multipart/Mixed ; BOUNDARY = b ; charset=utf-8`, mt: "multipart/mixed", params: [][2]string{{"boundary", "b"}, {"charset", "utf-8"}}, ok: true},
		{in: `multipart/mixed; boundary="a\"b;c"`, mt: "multipart/mixed", params: [][2]string{{"boundary", `a"b;c`}}, ok: true},
		{in: `multipart/mixed; boundary`, mt: "multipart/mixed", ok: false},
		{in: `multipart/mixed; boundary="x" y; a=b`, mt: "multipart/mixed", params: [][2]string{{"boundary", "x"}, {"a", "b"}}, ok: false},
		{in: `multipart/mixed; boundary="x`, mt: "multipart/mixed", params: [][2]string{{"boundary", "x"}}, ok: false},
		{in: `application/json`, mt: "application/json", ok: true},
	}
	for _, tt := range tests {
		mt, params, ok := parseMediaType(tt.in)
		if diff := cmp.Diff([]any{tt.mt, tt.params, tt.ok}, []any{mt, params, ok}); diff != "" {
			t.Errorf("parseMediaType(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}
