package batch

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// statusLine is the part status line dynamics-web-api can read: a reason of letters, digits and
// single spaces.
var statusLine = regexp.MustCompile(`^HTTP/1\.1 [1-5][0-9][0-9] [A-Za-z0-9]+( [A-Za-z0-9]+)*$`)

var uuidBoundary = regexp.MustCompile(`^multipart/mixed; boundary=batchresponse_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// answer builds the responses an emulator might give the parsed requests: GETs a JSON page naming
// the target, POSTs a 204 with OData-EntityId, other writes echo their body and Content-Type (as
// return=representation would), a bodiless one is a bare 204.
func answer(parts []Part) []ResponsePart {
	n := 0
	one := func(r *Request) *Response {
		n++
		h := http.Header{}
		h.Set("OData-Version", "4.0")
		resp := &Response{ContentID: r.ContentID, Status: http.StatusNoContent, Header: h}
		switch {
		case r.Method == http.MethodGet:
			target, _ := json.Marshal(r.Target)
			h.Set("Content-Type", "application/json; odata.metadata=minimal")
			resp.Status, resp.Body = http.StatusOK, []byte(fmt.Sprintf(`{"target":%s,"value":[]}`, target))
		case r.Method == http.MethodPost:
			h.Set("OData-EntityId", fmt.Sprintf("%saccounts(00000000-0000-0000-0000-%012d)", org, n))
		case r.Body != nil:
			if ct := r.Header.Get("Content-Type"); ct != "" {
				h.Set("Content-Type", ct)
			}
			resp.Status, resp.Body = http.StatusOK, r.Body
		}
		return resp
	}
	out := make([]ResponsePart, 0, len(parts))
	for _, p := range parts {
		if !p.IsChangeSet() {
			out = append(out, ResponsePart{Response: one(p.Request)})
			continue
		}
		cs := make([]*Response, 0, len(p.ChangeSet))
		for _, r := range p.ChangeSet {
			cs = append(cs, one(r))
		}
		out = append(out, ResponsePart{ChangeSet: cs})
	}
	return out
}

// readOp is one operation as another reader sees it.
type readOp struct {
	ContentID string
	Status    int
	Header    http.Header
	Body      string
}

// readPart mirrors ResponsePart.
type readPart struct {
	Op        *readOp
	ChangeSet []readOp
}

// expect is what a reader should find in Write's output for parts: values as sanitized and
// trimmed, JSON bodies without trailing line breaks, no Content-Length.
func expect(parts []ResponsePart) []readPart {
	op := func(r *Response) readOp {
		h := http.Header{}
		for name, vs := range r.Header {
			if strings.EqualFold(name, "Content-Length") {
				continue
			}
			for _, v := range vs {
				h.Add(name, strings.Trim(headerValue(v), " \t"))
			}
		}
		body := r.Body
		if isJSON(r.Header.Get("Content-Type")) {
			body = bytes.TrimRight(body, " \t\r\n")
		}
		return readOp{ContentID: strings.Trim(headerValue(r.ContentID), " \t"), Status: r.Status, Header: h, Body: string(body)}
	}
	out := []readPart{}
	for _, p := range parts {
		if p.Response != nil {
			o := op(p.Response)
			out = append(out, readPart{Op: &o})
			continue
		}
		cs := []readOp{}
		for _, r := range p.ChangeSet {
			cs = append(cs, op(r))
		}
		out = append(out, readPart{ChangeSet: cs})
	}
	return out
}

// readBack reads a written batch response with the standard library's mime/multipart and
// net/http, independently of this package's parser, checking the framing as it goes.
func readBack(t testing.TB, contentType string, body []byte) []readPart {
	t.Helper()
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "multipart/mixed" || !strings.HasPrefix(params["boundary"], "batchresponse_") {
		t.Fatalf("content type %q: %v", contentType, err)
	}
	if !bytes.HasPrefix(body, []byte("--"+params["boundary"])) {
		t.Fatalf("body does not begin with the delimiter: %q", body[:min(len(body), 80)])
	}
	out := []readPart{}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("next part: %v", err)
		}
		ct := p.Header.Get("Content-Type")
		if ct == "application/http" {
			op := readOperation(t, p)
			out = append(out, readPart{Op: &op})
			continue
		}
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil || mt != "multipart/mixed" || !strings.HasPrefix(params["boundary"], "changesetresponse_") {
			t.Fatalf("part content type %q: %v", ct, err)
		}
		cs := []readOp{}
		cr := multipart.NewReader(p, params["boundary"])
		for {
			op, err := cr.NextRawPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("next change set part: %v", err)
			}
			if got := op.Header.Get("Content-Type"); got != "application/http" {
				t.Fatalf("change set part content type %q", got)
			}
			cs = append(cs, readOperation(t, op))
		}
		out = append(out, readPart{ChangeSet: cs})
	}
	return out
}

func readOperation(t testing.TB, p *multipart.Part) readOp {
	t.Helper()
	if got := p.Header.Get("Content-Transfer-Encoding"); got != "binary" {
		t.Fatalf("Content-Transfer-Encoding %q", got)
	}
	raw, err := io.ReadAll(p)
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	if bytes.ContainsAny(head, "{}") {
		t.Fatalf("a brace in the part's headers: %q", head)
	}
	line, _, _ := bytes.Cut(head, []byte("\r\n"))
	if !statusLine.Match(line) {
		t.Fatalf("status line %q", line)
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
	if err != nil {
		t.Fatalf("read response %q: %v", raw, err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	ids := p.Header.Values("Content-Id")
	id := ""
	if len(ids) > 0 {
		id = ids[0]
	}
	return readOp{ContentID: id, Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

// TestRoundTrip parses every valid testdata request, answers it, writes the response and reads
// it back with the standard library: same structure, Content-IDs, statuses, headers and bodies.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, file := range inputFiles(t) {
		if strings.HasPrefix(filepath.Base(file), "err_") {
			continue
		}
		t.Run(filepath.Base(file), func(t *testing.T) {
			in := readInput(t, file)
			parts, err := Parse(in.contentType, in.body)
			if err != nil {
				t.Fatal(err)
			}
			roundTrip(t, parts)
		})
	}
}

func roundTrip(t testing.TB, parts []Part) {
	t.Helper()
	resps := answer(parts)
	var b bytes.Buffer
	ct, err := Write(&b, resps, counterID())
	if err != nil {
		t.Fatal(err)
	}
	got := readBack(t, ct, b.Bytes())
	if diff := cmp.Diff(expect(resps), got); diff != "" {
		t.Errorf("read back (-want +got):\n%s", diff)
	}
	for i, p := range parts {
		if p.IsChangeSet() != (got[i].Op == nil) {
			t.Errorf("part %d: change set %v, read back %+v", i, p.IsChangeSet(), got[i])
		}
	}
}
