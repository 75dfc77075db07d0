package batch

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/dynlocal/dynlocal/emulator/dverr"
)

// testInput is a testdata/parse/<case>.txt file: a few "Key: value" lines ('#' lines are
// comments), a blank line, then the batch body.
//
//	Content-Type:   the request's Content-Type ("" when absent)
//	Line-Endings:   CRLF (default) turns every LF of the body into CRLF; LF keeps the file's bytes
//	Final-Newline:  "no" drops the body's last line ending
type testInput struct {
	contentType string
	body        []byte
}

func readInput(t testing.TB, path string) testInput {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	meta, body, ok := strings.Cut(string(data), "\n\n")
	if !ok {
		t.Fatalf("%s: no blank line after the test header", path)
	}
	var in testInput
	crlf, final := true, true
	for _, line := range strings.Split(meta, "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("%s: bad test header line %q", path, line)
		}
		v = strings.TrimSpace(v)
		switch k {
		case "Content-Type":
			in.contentType = v
		case "Line-Endings":
			crlf = v == "CRLF"
		case "Final-Newline":
			final = v != "no"
		default:
			t.Fatalf("%s: unknown test header %q", path, k)
		}
	}
	if !final {
		body = strings.TrimSuffix(body, "\n")
	}
	if crlf {
		body = strings.ReplaceAll(body, "\n", "\r\n")
	}
	in.body = []byte(body)
	return in
}

// renderParse is the golden text of a Parse result: one block per part, every value quoted so
// spaces, quotes and line endings show.
func renderParse(parts []Part, err error, body []byte) string {
	var b strings.Builder
	if err != nil {
		var de *dverr.Error
		if !errors.As(err, &de) {
			return fmt.Sprintf("error (not a *dverr.Error): %v\n", err)
		}
		fmt.Fprintf(&b, "error: status %d code %q position %d\n", de.Status, de.Code, de.Position)
		fmt.Fprintf(&b, "message: %s\n", de.Message)
		if de.Position >= 0 && de.Position <= len(body) {
			near := body[de.Position:]
			if len(near) > 40 {
				near = near[:40]
			}
			fmt.Fprintf(&b, "at: %q\n", near)
		}
		return b.String()
	}
	fmt.Fprintf(&b, "parts: %d\n", len(parts))
	for i, p := range parts {
		if p.IsChangeSet() {
			fmt.Fprintf(&b, "part %d: change set %q, operations: %d\n", i+1, p.ChangeSetBoundary, len(p.ChangeSet))
			for j, r := range p.ChangeSet {
				fmt.Fprintf(&b, "  operation %d\n", j+1)
				renderRequest(&b, "    ", r)
			}
			continue
		}
		fmt.Fprintf(&b, "part %d: request\n", i+1)
		renderRequest(&b, "  ", p.Request)
	}
	return b.String()
}

func renderRequest(b *strings.Builder, indent string, r *Request) {
	fmt.Fprintf(b, "%smethod: %s\n", indent, r.Method)
	fmt.Fprintf(b, "%starget: %q\n", indent, r.Target)
	if r.ContentID != "" {
		fmt.Fprintf(b, "%scontent-id: %q\n", indent, r.ContentID)
	}
	names := make([]string, 0, len(r.Header))
	for name := range r.Header {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, v := range r.Header[name] {
			fmt.Fprintf(b, "%sheader: %s: %q\n", indent, name, v)
		}
	}
	if r.Body == nil {
		fmt.Fprintf(b, "%sbody: none\n", indent)
	} else {
		fmt.Fprintf(b, "%sbody: %d bytes %q\n", indent, len(r.Body), r.Body)
	}
}

// checkGolden compares got with testdata file path, or rewrites it with -update.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs (run go test -update after checking):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

// inputFiles lists testdata/parse/*.txt.
func inputFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "parse", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test inputs: %v", err)
	}
	return files
}
