package emulator_test

import (
	"fmt"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/dynlocal/dynlocal/emulator"
	"github.com/google/go-cmp/cmp"
)

// batchPart is one operation for buildBatch.
type batchPart struct {
	method, target, body string
	contentID            string
	headers              []string
}

// buildBatch writes a $batch body the way dynamics-web-api does (bare boundary, CRLF, body starting
// with a line break); parts inside changeSet go into one change set.
func buildBatch(single []batchPart, changeSet []batchPart) (string, string) {
	var b strings.Builder
	b.WriteString("\r\n")
	write := func(boundary string, p batchPart) {
		b.WriteString("--" + boundary + "\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n")
		if p.contentID != "" {
			b.WriteString("Content-ID: " + p.contentID + "\r\n")
		}
		b.WriteString("\r\n" + p.method + " " + p.target + " HTTP/1.1\r\n")
		if p.body != "" {
			b.WriteString("Content-Type: application/json\r\n")
		}
		for i := 0; i+1 < len(p.headers); i += 2 {
			b.WriteString(p.headers[i] + ": " + p.headers[i+1] + "\r\n")
		}
		b.WriteString("\r\n" + p.body + "\r\n")
	}
	for _, p := range single {
		write("dwa_batch_1", p)
	}
	if len(changeSet) > 0 {
		b.WriteString("--dwa_batch_1\r\nContent-Type: multipart/mixed;boundary=changeset_1\r\n\r\n")
		for _, p := range changeSet {
			write("changeset_1", p)
		}
		b.WriteString("--changeset_1--\r\n")
	}
	b.WriteString("--dwa_batch_1--\r\n")
	return b.String(), "multipart/mixed;boundary=dwa_batch_1"
}

// batchResult is one part of a batch response.
type batchResult struct {
	ContentID string
	Status    int
	Header    http.Header
	Body      string
}

// parseBatchResponse reads a multipart batch response, flattening change sets.
func parseBatchResponse(t *testing.T, r result) []batchResult {
	t.Helper()
	if !strings.HasPrefix(string(r.Body), "--batchresponse_") {
		t.Fatalf("batch body must start with its boundary: %.80q", r.Body)
	}
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	var out []batchResult
	var read func(body string, boundary string)
	read = func(body string, boundary string) {
		mr := multipart.NewReader(strings.NewReader(body), boundary)
		for {
			p, err := mr.NextPart()
			if err != nil {
				return
			}
			var sb strings.Builder
			buf := make([]byte, 4096)
			for {
				n, err := p.Read(buf)
				sb.Write(buf[:n])
				if err != nil {
					break
				}
			}
			if mt, ps, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); mt == "multipart/mixed" {
				read(sb.String(), ps["boundary"])
				continue
			}
			text := sb.String()
			head, body, _ := strings.Cut(text, "\r\n\r\n")
			lines := strings.Split(head, "\r\n")
			var status int
			fmt.Sscanf(lines[0], "HTTP/1.1 %d", &status)
			h := http.Header{}
			for _, l := range lines[1:] {
				k, v, _ := strings.Cut(l, ": ")
				h.Add(k, v)
			}
			out = append(out, batchResult{ContentID: p.Header.Get("Content-ID"), Status: status, Header: h, Body: strings.TrimSpace(body)})
		}
	}
	read(string(r.Body), params["boundary"])
	return out
}

func TestBatchChangeSetCommitsWithReferences(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body, ct := buildBatch(
		[]batchPart{{method: "GET", target: e.api + "accounts?$select=name&$filter=name eq 'batch parent'&$orderby=name desc", headers: []string{"Accept", "application/json"}}},
		[]batchPart{
			{method: "POST", target: e.api + "accounts", body: `{"name":"batch parent"}`, contentID: "1"},
			{method: "POST", target: "/api/data/v9.2/contacts", body: `{"lastname":"batch child","parentcustomerid_account@odata.bind":"$1"}`, contentID: "2"},
			{method: "PATCH", target: "$1", body: `{"telephone1":"555-0001"}`, contentID: "3", headers: []string{"If-Match", "*"}},
			{method: "PUT", target: "$2/jobtitle", body: `{"value":"Engineer"}`, contentID: "4"},
		})
	r := e.do("POST", "$batch", body, "Content-Type", ct).expect(t, 200)
	res := parseBatchResponse(t, r)
	if len(res) != 5 {
		t.Fatalf("parts = %d: %s", len(res), r.Body)
	}
	if res[0].Status != 200 || !strings.Contains(res[0].Body, `"value":[]`) || res[0].Header.Get("Content-Type") != "application/json; odata.metadata=minimal; odata.streaming=true" {
		t.Errorf("GET part: %+v", res[0])
	}
	for i, want := range []int{204, 204, 204, 204} {
		p := res[i+1]
		if p.Status != want || p.ContentID != fmt.Sprint(i+1) {
			t.Errorf("part %d: %+v", i+1, p)
		}
	}
	if res[1].Header.Get("Location") == "" || res[1].Header.Get("Location") != res[1].Header.Get("OData-EntityId") {
		t.Errorf("create part headers: %v", res[1].Header)
	}
	loc := res[1].Header.Get("OData-EntityId")
	acc := e.do("GET", loc[len(e.api):]+"?$select=telephone1&$expand=contact_customer_accounts($select=lastname,jobtitle)", nil).expect(t, 200).JSON(t)
	kids := acc["contact_customer_accounts"].([]any)
	if acc["telephone1"] != "555-0001" || len(kids) != 1 || kids[0].(map[string]any)["jobtitle"] != "Engineer" {
		t.Errorf("after change set: %v", acc)
	}
}

// fingerprint reads tables a batch may touch, so tests can compare database states.
func (e *env) fingerprint(t *testing.T) string {
	var b strings.Builder
	for _, set := range []string{"accounts", "contacts", "tasks"} {
		b.Write(e.do("GET", set+"?$orderby=createdon", nil).expect(t, 200).Body)
	}
	return b.String()
}

func TestBatchChangeSetRollsBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	before := e.fingerprint(t)
	body, ct := buildBatch(nil, []batchPart{
		{method: "POST", target: e.api + "accounts", body: `{"name":"rolled back"}`, contentID: "1"},
		{method: "POST", target: e.api + "tasks", body: `{"subject":"t","regardingobjectid_account_task@odata.bind":"$1"}`, contentID: "2"},
		{method: "POST", target: e.api + "tasks", body: `{"subject":"` + strings.Repeat("x", 201) + `"}`, contentID: "3"},
	})
	r := e.do("POST", "$batch", body, "Content-Type", ct).expect(t, 400)
	res := parseBatchResponse(t, r)
	if len(res) != 1 || res[0].Status != 400 || res[0].ContentID != "3" || !strings.Contains(res[0].Body, "0x80044331") || res[0].Header.Get("REQ_ID") == "" {
		t.Errorf("failure part: %+v", res)
	}
	if after := e.fingerprint(t); after != before {
		t.Errorf("a failed change set changed the database")
	}
}

func TestBatchContinueOnErrorAndErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body, ct := buildBatch([]batchPart{
		{method: "POST", target: e.api + "accounts", body: `{"name":"coe 1"}`},
		{method: "GET", target: e.api + "nosuchset"},
		{method: "POST", target: e.api + "accounts", body: `{"name":"coe 2"}`},
	}, nil)
	res := parseBatchResponse(t, e.do("POST", "$batch", body, "Content-Type", ct, "Prefer", "odata.continue-on-error").expect(t, 200))
	if len(res) != 3 || res[0].Status != 204 || res[1].Status != 404 || res[2].Status != 204 {
		t.Errorf("continue-on-error parts: %+v", res)
	}
	// Without it processing stops at the first failure; what ran before it is reported too.
	res = parseBatchResponse(t, e.do("POST", "$batch", body, "Content-Type", ct).expect(t, 400))
	if len(res) != 2 || res[0].Status != 204 || res[1].Status != 404 {
		t.Errorf("stop at first failure: %+v", res)
	}
	// A forward reference.
	body, ct = buildBatch(nil, []batchPart{{method: "PATCH", target: "$2", body: `{"name":"x"}`, contentID: "1"}})
	res = parseBatchResponse(t, e.do("POST", "$batch", body, "Content-Type", ct).expect(t, 400))
	if len(res) != 1 || !strings.Contains(res[0].Body, "Content-ID Reference: '$2' does not exist in the batch context.") {
		t.Errorf("forward reference: %+v", res)
	}
	// Limits and malformed bodies write nothing.
	before := e.fingerprint(t)
	var many []batchPart
	for i := 0; i < 1001; i++ {
		many = append(many, batchPart{method: "POST", target: e.api + "accounts", body: `{"name":"too many"}`})
	}
	body, ct = buildBatch(many, nil)
	e.do("POST", "$batch", body, "Content-Type", ct).expect(t, 400)
	e.do("POST", "$batch", "--x\r\nnot a batch", "Content-Type", "multipart/mixed; boundary=x").expect(t, 400)
	e.do("POST", "$batch", `{"requests":[]}`, "Content-Type", "application/json").expect(t, 415)
	body, ct = buildBatch([]batchPart{{method: "POST", target: e.api + "$batch", body: `{}`}}, nil)
	res = parseBatchResponse(t, e.do("POST", "$batch", body, "Content-Type", ct).expect(t, 400))
	if len(res) != 1 || res[0].Status != 400 {
		t.Errorf("nested batch: %+v", res)
	}
	if after := e.fingerprint(t); after != before {
		t.Errorf("a rejected batch changed the database")
	}
}

// TestBatchImpersonationPerOperation checks that an operation's own MSCRMCallerID or
// CallerObjectId header is honoured inside $batch exactly as on a direct request, in and out of a
// change set, and that a bad one fails only that operation.
func TestBatchImpersonationPerOperation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body, ct := buildBatch(
		[]batchPart{
			{method: "POST", target: "accounts", body: `{"name":"batch on behalf 1"}`, headers: []string{"MSCRMCallerID", emulator.DefaultHumanUserID}},
			{method: "POST", target: "accounts", body: `{"name":"batch as the app"}`},
		},
		[]batchPart{
			{method: "POST", target: "accounts", body: `{"name":"batch on behalf 2"}`, contentID: "1", headers: []string{"CallerObjectId", emulator.DefaultHumanUserObjectID}},
		})
	res := parseBatchResponse(t, e.do("POST", "$batch", body, "Content-Type", ct).expect(t, 200))
	if len(res) != 3 {
		t.Fatalf("parts = %d", len(res))
	}
	direct := idFromEntityID(t, e.do("POST", "accounts", map[string]any{"name": "direct on behalf"}, "MSCRMCallerID", emulator.DefaultHumanUserID).expect(t, 204).Header)
	const sel = "?$select=_createdby_value,_createdonbehalfby_value,_ownerid_value"
	want := e.do("GET", "accounts("+direct+")"+sel, nil).expect(t, 200).JSON(t)
	delete(want, "@odata.etag")
	delete(want, "accountid")
	for i, p := range res {
		if p.Status != 204 {
			t.Fatalf("part %d: %+v", i, p)
		}
		loc := p.Header.Get("OData-EntityId")
		got := e.do("GET", loc[len(e.api):]+sel, nil).expect(t, 200).JSON(t)
		delete(got, "@odata.etag")
		delete(got, "accountid")
		if i == 1 {
			if got["_createdonbehalfby_value"] != nil || got["_createdby_value"] != emulator.DefaultAppUserID {
				t.Errorf("part without impersonation: %v", got)
			}
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("part %d differs from the direct request (-direct +batch):\n%s", i, diff)
		}
	}
	body, ct = buildBatch([]batchPart{
		{method: "GET", target: "WhoAmI", headers: []string{"MSCRMCallerID", "00000000-0000-0000-0000-0000000000ff"}},
	}, nil)
	res = parseBatchResponse(t, e.do("POST", "$batch", body, "Content-Type", ct, "Prefer", "odata.continue-on-error").expect(t, 200))
	if len(res) != 1 || res[0].Status != 404 {
		t.Errorf("unknown impersonated user: %+v", res)
	}
}
