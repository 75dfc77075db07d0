package batch

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// counterID returns ids 00000000-0000-4000-8000-000000000001, ...002, ... so goldens are stable.
func counterID() func() string {
	n := 0
	return func() string {
		n++
		return fmt.Sprintf("00000000-0000-4000-8000-%012d", n)
	}
}

const org = "https://org.example.crm.dynamics.com/api/data/v9.2/"

func created(contentID, set, id string) *Response {
	h := http.Header{}
	h.Set("OData-Version", "4.0")
	h.Set("Location", org+set+"("+id+")")
	h.Set("OData-EntityId", org+set+"("+id+")")
	return &Response{ContentID: contentID, Status: http.StatusNoContent, Header: h}
}

func jsonResponse(status int, body string) *Response {
	h := http.Header{}
	h.Set("OData-Version", "4.0")
	h.Set("Content-Type", "application/json; odata.metadata=minimal; odata.streaming=true")
	return &Response{Status: status, Header: h, Body: []byte(body)}
}

var validationError = `{"error":{"code":"0x80044331","message":"A validation error occurred.  The length of the 'subject' attribute of the 'task' entity exceeded the maximum allowed length of '200'."}}`

var writeTests = []struct {
	name  string
	parts []ResponsePart
}{
	{
		// The documented change set answer: two creates echoing their Content-IDs, then a GET
		// whose JSON body came from an encoder with a trailing newline.
		name: "docs_changeset",
		parts: []ResponsePart{
			{ChangeSet: []*Response{
				created("1", "tasks", "a59c24e6-fa8f-ec11-b400-000d3a31e39d"),
				created("2", "tasks", "a69c24e6-fa8f-ec11-b400-000d3a31e39d"),
			}},
			{Response: jsonResponse(http.StatusOK, `{"@odata.context":"`+org+`$metadata#tasks(subject)","value":[{"@odata.etag":"W/\"77180907\"","subject":"Task 1 in batch","activityid":"a59c24e6-fa8f-ec11-b400-000d3a31e39d"}]}`+"\n")},
		},
	},
	{
		// Processing stopped at a failure: the batch holds only the failing part, with Dataverse's
		// REQ_ID header, written through http.Header.Set (which spells it Req_id).
		name: "stopped_on_error",
		parts: []ResponsePart{
			{Response: func() *Response {
				r := jsonResponse(http.StatusBadRequest, validationError)
				r.Header.Set("Content-Type", "application/json; odata.metadata=minimal")
				r.Header.Set("REQ_ID", "5ecd1cb3-1e2b-4c1d-9a8b-7f6e5d4c3b2a")
				return r
			}()},
		},
	},
	{
		// A failed change set without continue-on-error: the failing operation alone, inside its
		// changesetresponse, as dynamics-web-api's fixtures model it.
		name: "failed_changeset",
		parts: []ResponsePart{
			{ChangeSet: []*Response{func() *Response {
				r := jsonResponse(http.StatusNotFound, `{"error":{"code":"0x80040217","message":"Entity 'account' With Id = 5b4ced1c-88e1-ee11-904c-6045bd05e9d4 Does Not Exist"}}`)
				r.ContentID = "100002"
				return r
			}()}},
		},
	},
	{
		// With odata.continue-on-error every part is answered: a create, an update, a failing
		// delete, a 412, a count as text/plain and a GET.
		name: "continue_on_error",
		parts: []ResponsePart{
			{ChangeSet: []*Response{
				created("1", "accounts", "5b4ced1c-88e1-ee11-904c-6045bd05e9d4"),
				{ContentID: "100002", Status: http.StatusNoContent, Header: http.Header{"Odata-Version": {"4.0"}, "Odata-Entityid": {org + "accounts(5b4ced1c-88e1-ee11-904c-6045bd05e9d4)"}}},
			}},
			{Response: jsonResponse(http.StatusNotFound, `{"error":{"code":"0x80040217","message":"Entity 'account' With Id = 00000000-0000-0000-0000-000000000009 Does Not Exist"}}`)},
			{Response: &Response{Status: http.StatusPreconditionFailed, Header: http.Header{"Odata-Version": {"4.0"}}}},
			{Response: &Response{Status: http.StatusOK, Header: http.Header{"Odata-Version": {"4.0"}, "Content-Type": {"text/plain"}}, Body: []byte("5")}},
			{Response: jsonResponse(http.StatusOK, `{"value":[]}`)},
		},
	},
	{
		name:  "empty",
		parts: nil,
	},
	{
		name:  "empty_changeset",
		parts: []ResponsePart{{ChangeSet: []*Response{}}, {Response: jsonResponse(http.StatusOK, `{}`)}},
	},
	{
		// Header values lose braces and line breaks; Content-Length is dropped; several values
		// of one header are written one per line in order; reason phrases keep letters, digits
		// and spaces only.
		name: "sanitized",
		parts: []ResponsePart{
			{Response: &Response{ContentID: "{1}", Status: http.StatusNoContent, Header: http.Header{
				"Odata-Version":      {"4.0"},
				"Odata-Entityid":     {org + "accounts(accountnumber='{A}')"},
				"X-Injected":         {"a\r\nX-Evil: 1"},
				"Content-Length":     {"0"},
				"Preference-Applied": {"return=representation", `odata.include-annotations="*"`},
				"Etag":               {`W/"1234"`},
			}}},
			{Response: &Response{Status: http.StatusNonAuthoritativeInfo, Header: http.Header{}}},
			{Response: &Response{Status: http.StatusTeapot}},
			{Response: &Response{Status: 299}},
		},
	},
}

// TestWriteGolden renders each structure with counting boundary ids and compares the bytes with
// testdata/write/<name>.golden.
func TestWriteGolden(t *testing.T) {
	for _, tt := range writeTests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			ct, err := Write(&b, tt.parts, counterID())
			if err != nil {
				t.Fatal(err)
			}
			if want := "multipart/mixed; boundary=batchresponse_00000000-0000-4000-8000-000000000001"; ct != want {
				t.Errorf("content type = %q, want %q", ct, want)
			}
			checkGolden(t, filepath.Join("testdata", "write", tt.name+".golden"), b.Bytes())
			checkWritten(t, ct, b.Bytes(), tt.parts)
		})
	}
}

// checkWritten checks what dynamics-web-api relies on: the body starts with the delimiter, every
// line ends in CRLF, no part header holds '{', status lines match its pattern.
func checkWritten(t *testing.T, contentType string, body []byte, parts []ResponsePart) {
	t.Helper()
	boundary := strings.TrimPrefix(contentType, "multipart/mixed; boundary=")
	if !bytes.HasPrefix(body, []byte("--"+boundary+"\r\n")) && !bytes.Equal(body, []byte("--"+boundary+"--\r\n")) {
		t.Errorf("body does not begin with the delimiter: %q", body[:min(len(body), 60)])
	}
	if !bytes.HasSuffix(body, []byte("--"+boundary+"--\r\n")) {
		t.Errorf("body does not end with the closing delimiter and CRLF")
	}
	// Check the framing, outside the bodies: only bodies may hold bare LFs or braces.
	rest := string(body)
	for _, p := range parts {
		for _, r := range append([]*Response{p.Response}, p.ChangeSet...) {
			if r != nil && len(r.Body) > 0 {
				rest = strings.Replace(rest, strings.TrimRight(string(r.Body), "\r\n"), "<body>", 1)
			}
		}
	}
	if strings.Contains(strings.ReplaceAll(rest, "\r\n", ""), "\n") {
		t.Errorf("a line outside the bodies does not end in CRLF:\n%s", rest)
	}
	if strings.ContainsAny(rest, "{}") {
		t.Errorf("a brace outside the bodies:\n%s", rest)
	}
	for _, line := range strings.Split(rest, "\r\n") {
		if strings.HasPrefix(line, "HTTP/") && !statusLine.MatchString(line) {
			t.Errorf("status line %q does not match %s", line, statusLine)
		}
	}
}

func TestWriteErrors(t *testing.T) {
	t.Parallel()
	ok := &Response{Status: 204}
	tests := []struct {
		name  string
		parts []ResponsePart
		newID func() string
		want  string
	}{
		{name: "status too low", parts: []ResponsePart{{Response: &Response{Status: 99}}}, want: "batch: response part 0: status 99 out of range"},
		{name: "status too high", parts: []ResponsePart{{ChangeSet: []*Response{ok, {Status: 600}}}}, want: "batch: response part 0: change set response 1: status 600 out of range"},
		{name: "header name", parts: []ResponsePart{{Response: &Response{Status: 200, Header: http.Header{"Bad Name": {"x"}}}}}, want: `batch: response part 0: invalid header name "Bad Name"`},
		{name: "both", parts: []ResponsePart{{Response: ok, ChangeSet: []*Response{ok}}}, want: "batch: response part 0 has both a response and a change set"},
		{name: "nil in change set", parts: []ResponsePart{{ChangeSet: []*Response{nil}}}, want: "batch: response part 0: change set response 0 is nil"},
		{name: "bad id", parts: []ResponsePart{{Response: ok}}, newID: func() string { return "a b" }, want: `batch: boundary id "a b": want 1 to 50 letters, digits, '-', '_' or '.'`},
		{name: "empty id", parts: nil, newID: func() string { return "" }, want: `batch: boundary id "": want 1 to 50 letters, digits, '-', '_' or '.'`},
		{name: "every id collides", parts: []ResponsePart{{Response: &Response{Status: 200, Body: []byte("batchresponse_x")}}}, newID: func() string { return "x" }, want: errCollision.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			newID := tt.newID
			if newID == nil {
				newID = counterID()
			}
			var b bytes.Buffer
			_, err := Write(&b, tt.parts, newID)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
			if b.Len() != 0 {
				t.Errorf("wrote %d bytes despite the error", b.Len())
			}
		})
	}
}

// TestWriteAvoidsBoundaryInBody checks that a body holding the first boundary drawn makes Write
// draw again instead of ending the part early.
func TestWriteAvoidsBoundaryInBody(t *testing.T) {
	t.Parallel()
	body := []byte("--batchresponse_00000000-0000-4000-8000-000000000001\r\n")
	var b bytes.Buffer
	ct, err := Write(&b, []ResponsePart{{Response: &Response{Status: 200, Body: body}}}, counterID())
	if err != nil {
		t.Fatal(err)
	}
	if want := "multipart/mixed; boundary=batchresponse_00000000-0000-4000-8000-000000000002"; ct != want {
		t.Errorf("content type = %q, want %q", ct, want)
	}
}

// TestWriteRandomIDs checks the default ids: UUIDs, different each time.
func TestWriteRandomIDs(t *testing.T) {
	t.Parallel()
	var a, b bytes.Buffer
	cta, err := Write(&a, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctb, _ := Write(&b, nil, nil)
	if cta == ctb {
		t.Errorf("two batches got the same boundary %q", cta)
	}
	if !uuidBoundary.MatchString(cta) {
		t.Errorf("content type %q does not hold a UUID boundary", cta)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteReportsWriterError(t *testing.T) {
	t.Parallel()
	if _, err := Write(failWriter{}, nil, counterID()); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("error = %v, want the writer's", err)
	}
}

func TestReasonPhrase(t *testing.T) {
	t.Parallel()
	got := map[int]string{}
	for _, code := range []int{200, 204, 400, 404, 412, 203, 207, 418, 414, 505, 299} {
		got[code] = reasonPhrase(code)
	}
	want := map[int]string{
		200: "OK",
		204: "No Content",
		400: "Bad Request",
		404: "Not Found",
		412: "Precondition Failed",
		203: "Non Authoritative Information",
		207: "Multi Status",
		418: "Im a teapot",
		414: "Request URI Too Long",
		505: "HTTP Version Not Supported",
		299: "Unknown Status",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reason phrases (-want +got):\n%s", diff)
	}
	for code := 100; code < 600; code++ {
		if p := reasonPhrase(code); !statusLine.MatchString("HTTP/1.1 200 " + p) {
			t.Errorf("reason phrase %q for %d", p, code)
		}
	}
}
