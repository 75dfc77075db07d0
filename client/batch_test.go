package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// batchPartReq is one request of a $batch body, as the test server reads it.
type batchPartReq struct {
	ChangeSet   bool   // inside the change set
	ContentID   string // Content-ID header of the part
	RequestLine string
	Headers     []string // inner headers, "Name: value", in order
	Body        string
}

// batchReq is a $batch request body read with mime/multipart.
type batchReq struct {
	Boundary, ChangeSet string
	Parts               []batchPartReq
}

var (
	batchBoundaryPattern     = regexp.MustCompile(`^batch_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	changeSetBoundaryPattern = regexp.MustCompile(`^changeset_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
)

// parseBatchRequest checks the envelope of a $batch request and reads its parts.
func parseBatchRequest(t *testing.T, r seen) batchReq {
	t.Helper()
	if r.Method != http.MethodPost || r.Path != "/api/data/v9.2/$batch" {
		t.Fatalf("request %s %s, want POST /api/data/v9.2/$batch", r.Method, r.Path)
	}
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "multipart/mixed" || !batchBoundaryPattern.MatchString(params["boundary"]) {
		t.Fatalf("Content-Type %q, want multipart/mixed; boundary=batch_<uuid>", ct)
	}
	if ct != "multipart/mixed; boundary="+params["boundary"] {
		t.Errorf("Content-Type %q is not written as multipart/mixed; boundary=<b>", ct)
	}
	if strings.Contains(strings.ReplaceAll(r.Body, "\r\n", ""), "\n") {
		t.Errorf("body has a line end that is not CRLF:\n%q", r.Body)
	}
	out := batchReq{Boundary: params["boundary"]}
	mr := multipart.NewReader(strings.NewReader(r.Body), out.Boundary)
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("batch part: %v", err)
		}
		pct := p.Header.Get("Content-Type")
		if !strings.HasPrefix(pct, "multipart/") {
			out.Parts = append(out.Parts, readPartReq(t, p, false))
			continue
		}
		_, cparams, err := mime.ParseMediaType(pct)
		if err != nil || !changeSetBoundaryPattern.MatchString(cparams["boundary"]) {
			t.Fatalf("change set Content-Type %q, want multipart/mixed; boundary=changeset_<uuid>", pct)
		}
		if out.ChangeSet != "" {
			t.Fatalf("more than one change set")
		}
		out.ChangeSet = cparams["boundary"]
		cr := multipart.NewReader(p, out.ChangeSet)
		for {
			q, err := cr.NextRawPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("change set part: %v", err)
			}
			out.Parts = append(out.Parts, readPartReq(t, q, true))
		}
	}
}

func readPartReq(t *testing.T, p *multipart.Part, inChangeSet bool) batchPartReq {
	t.Helper()
	if g := p.Header.Get("Content-Type"); g != "application/http" {
		t.Errorf("part Content-Type %q, want application/http", g)
	}
	if g := p.Header.Get("Content-Transfer-Encoding"); g != "binary" {
		t.Errorf("part Content-Transfer-Encoding %q, want binary", g)
	}
	data, err := io.ReadAll(p)
	if err != nil {
		t.Fatalf("read part: %v", err)
	}
	head, body, ok := strings.Cut(string(data), "\r\n\r\n")
	if !ok {
		t.Fatalf("part without a blank line after its request head: %q", data)
	}
	lines := strings.Split(head, "\r\n")
	return batchPartReq{
		ChangeSet:   inChangeSet,
		ContentID:   p.Header.Get("Content-ID"),
		RequestLine: lines[0],
		Headers:     lines[1:],
		Body:        body,
	}
}

// httpPart renders one application/http part of a batch answer: statusLine such as
// "204 No Content", headers as "Name: value".
func httpPart(contentID, statusLine, body string, headers ...string) string {
	var b strings.Builder
	b.WriteString("Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n")
	if contentID != "" {
		b.WriteString("Content-ID: " + contentID + "\r\n")
	}
	b.WriteString("\r\nHTTP/1.1 " + statusLine + "\r\n")
	if body != "" {
		headers = append([]string{"Content-Type: application/json; odata.metadata=minimal"}, headers...)
	}
	headers = append(headers, "OData-Version: 4.0")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n" + body)
	return b.String()
}

// changeSetPart renders a changesetresponse part holding parts.
func changeSetPart(parts ...string) string {
	const cs = "changesetresponse_0a1b2c3d-0000-4000-8000-000000000001"
	return "Content-Type: multipart/mixed; boundary=" + cs + "\r\n\r\n--" + cs + "\r\n" +
		strings.Join(parts, "\r\n--"+cs+"\r\n") + "\r\n--" + cs + "--"
}

// writeBatchAnswer answers in Dataverse's batch format: the body starts with the boundary line.
func writeBatchAnswer(w http.ResponseWriter, status int, parts ...string) {
	const b = "batchresponse_5ecd1cb3-0000-4000-8000-000000000002"
	w.Header().Set("Content-Type", "multipart/mixed; boundary="+b)
	w.Header().Set("OData-Version", "4.0")
	w.WriteHeader(status)
	io.WriteString(w, "--"+b+"\r\n"+strings.Join(parts, "\r\n--"+b+"\r\n")+"\r\n--"+b+"--\r\n")
}

const (
	otherAccountID = "3a3e8a41-6f5c-4e22-9c1b-000000000002"
	newContactID   = "5b5e8a41-6f5c-4e22-9c1b-000000000003"
	kidContactID   = "6c6e8a41-6f5c-4e22-9c1b-000000000004"
)

// ignoreHeader leaves BatchResult.Header out of comparisons (the tests check chosen headers).
var ignoreHeader = cmpopts.IgnoreFields(BatchResult{}, "Header")

func TestBatchChangeSet(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		api := "http://" + r.Host + "/api/data/v9.2/"
		// Answer out of order: results are matched by Content-ID.
		writeBatchAnswer(w, http.StatusOK, changeSetPart(
			httpPart("kid", "204 No Content", "", "OData-EntityId: "+api+"contacts("+kidContactID+")"),
			httpPart("6", "204 No Content", "", "OData-EntityId: "+api+"accounts("+otherAccountID+")"),
			httpPart("5", "204 No Content", ""),
			httpPart("4", "200 OK", `{"@odata.etag":"W/\"6\"","accountid":"`+accountID+`","name":"Contoso 2","revenue":20000.0000}`,
				`ETag: W/"6"`, "Preference-Applied: return=representation"),
			httpPart("3", "204 No Content", ""),
			httpPart("2", "201 Created", `{"@odata.etag":"W/\"1\"","contactid":"`+newContactID+`","lastname":"Smith","numberofchildren":2}`,
				"Location: "+api+"contacts("+newContactID+")", "OData-EntityId: "+api+"contacts("+newContactID+")"),
			httpPart("1", "204 No Content", "", "Location: "+api+"accounts("+accountID+")", "OData-EntityId: "+api+"accounts("+accountID+")"),
		))
	})
	c := newTestClient(t, f)
	actions := []BatchAction{
		{Collection: "accounts", Action: "create", Data: Record{"name": "Contoso"}},
		{Collection: "contacts", Action: "create", ReturnRepresentation: true,
			Data: Record{"lastname": "Smith", "parentcustomerid_account@odata.bind": "$1"}},
		{Collection: "accounts", Action: "update", Key: "{" + accountID + "}", Data: Record{"telephone1": "555-0100"}},
		{Action: "Update", Key: "$1", Data: Record{"name": "Contoso 2"}, IfMatch: `W/"5"`, ReturnRepresentation: true},
		{Collection: "accounts", Action: "delete", Key: `accountnumber="A 1"`},
		{Collection: "accounts", Action: "upsert", Key: otherAccountID, Data: Record{"name": "Fabrikam", "description": nil}},
		{Collection: "$1/contact_customer_accounts", Action: "create", Data: Record{"lastname": "Kid"}, ContentID: "kid"},
	}
	results, resp, err := c.Batch(context.Background(), actions, &BatchOptions{Caller: Caller{ID: userID}})
	if err != nil {
		t.Fatalf("Batch: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d", resp.StatusCode)
	}

	got := f.last(t)
	req := parseBatchRequest(t, got)
	if req.ChangeSet == "" {
		t.Fatal("no change set")
	}
	for k, want := range map[string]string{"MSCRMCallerID": userID, "Prefer": "", "Authorization": "Bearer " + testToken, "OData-Version": "4.0"} {
		if g := got.Header.Get(k); g != want {
			t.Errorf("batch header %s = %q, want %q", k, g, want)
		}
	}
	api := f.srv.URL + "/api/data/v9.2/"
	part := func(id, line, body string, headers ...string) string {
		return "--" + req.ChangeSet + "\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: " + id +
			"\r\n\r\n" + line + " HTTP/1.1\r\n" + strings.Join(append(headers, "MSCRMCallerID: "+userID), "\r\n") + "\r\n\r\n" + body + "\r\n"
	}
	const ctJSON = "Content-Type: application/json"
	want := "--" + req.Boundary + "\r\n" +
		"Content-Type: multipart/mixed; boundary=" + req.ChangeSet + "\r\n\r\n" +
		part("1", "POST "+api+"accounts", `{"name":"Contoso"}`, ctJSON) +
		part("2", "POST "+api+"contacts", `{"lastname":"Smith","parentcustomerid_account@odata.bind":"$1"}`, ctJSON, "Prefer: return=representation") +
		part("3", "PATCH "+api+"accounts("+accountID+")", `{"telephone1":"555-0100"}`, ctJSON, "If-Match: *") +
		part("4", "PATCH $1", `{"name":"Contoso 2"}`, ctJSON, "Prefer: return=representation", `If-Match: W/"5"`) +
		part("5", "DELETE "+api+"accounts(accountnumber='A%201')", "", ctJSON) +
		part("6", "PATCH "+api+"accounts("+otherAccountID+")", `{"description":null,"name":"Fabrikam"}`, ctJSON) +
		part("kid", "POST $1/contact_customer_accounts", `{"lastname":"Kid"}`, ctJSON) +
		"--" + req.ChangeSet + "--\r\n" +
		"--" + req.Boundary + "--\r\n"
	if diff := cmp.Diff(want, got.Body); diff != "" {
		t.Errorf("batch body (-want +got):\n%s", diff)
	}
	var ids []string
	for _, p := range req.Parts {
		if !p.ChangeSet {
			t.Errorf("part %q outside the change set", p.RequestLine)
		}
		ids = append(ids, p.ContentID)
	}
	if diff := cmp.Diff([]string{"1", "2", "3", "4", "5", "6", "kid"}, ids); diff != "" {
		t.Errorf("Content-IDs (-want +got):\n%s", diff)
	}

	wantResults := []BatchResult{
		{StatusCode: 204, ID: accountID},
		{StatusCode: 201, ID: newContactID, Record: Record{"@odata.etag": `W/"1"`, "contactid": newContactID, "lastname": "Smith", "numberofchildren": json.Number("2")}},
		{StatusCode: 204},
		{StatusCode: 200, Record: Record{"@odata.etag": `W/"6"`, "accountid": accountID, "name": "Contoso 2", "revenue": json.Number("20000.0000")}},
		{StatusCode: 204},
		{StatusCode: 204, ID: otherAccountID},
		{StatusCode: 204, ID: kidContactID},
	}
	if diff := cmp.Diff(wantResults, results, ignoreHeader); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if g := results[3].Header.Get("ETag"); g != `W/"6"` {
		t.Errorf("result 4 ETag header %q", g)
	}
}

const lengthErrorBody = `{"error":{"code":"0x80044331","message":"A validation error occurred.  The length of the 'subject' attribute of the 'task' entity exceeded the maximum allowed length of '200'."}}`

func TestBatchChangeSetFails(t *testing.T) {
	t.Parallel()
	actions := []BatchAction{
		{Collection: "tasks", Action: "create", Data: Record{"subject": "one"}},
		{Collection: "tasks", Action: "create", Data: Record{"subject": strings.Repeat("x", 201)}},
		{Collection: "tasks", Action: "delete", Key: accountID},
	}
	failing := httpPart("2", "400 Bad Request", lengthErrorBody, "REQ_ID: 5ecd1cb3-0000-4000-8000-000000000009")
	tests := []struct {
		name       string
		answer     []string
		wantFailed int // 1-based action with Err; 0: none attributed
		wantCode   string
	}{
		{name: "only the failing part, in a change set", answer: []string{changeSetPart(failing)}, wantFailed: 2, wantCode: "0x80044331"},
		{
			name: "parts before the failure are rolled back",
			answer: []string{changeSetPart(
				httpPart("1", "204 No Content", "", "OData-EntityId: http://x/api/data/v9.2/tasks("+accountID+")"), failing)},
			wantFailed: 2, wantCode: "0x80044331",
		},
		{
			name:     "a bare failure that names no action",
			answer:   []string{httpPart("", "400 Bad Request", lengthErrorBody)},
			wantCode: "0x80044331",
		},
		{
			name:       "not found",
			answer:     []string{changeSetPart(httpPart("3", "404 Not Found", notFoundBody))},
			wantFailed: 3, wantCode: "0x80040217",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
				writeBatchAnswer(w, http.StatusBadRequest, tt.answer...)
			})
			c := newTestClient(t, f)
			results, resp, err := c.Batch(context.Background(), actions, nil)
			if resp == nil || resp.StatusCode != http.StatusBadRequest {
				t.Errorf("resp = %+v, want status 400", resp)
			}
			var apiErr *Error
			if !errors.As(err, &apiErr) || apiErr.Code != tt.wantCode {
				t.Fatalf("err = %v, want one wrapping an *Error with code %s", err, tt.wantCode)
			}
			if len(results) != len(actions) {
				t.Fatalf("%d results, want %d", len(results), len(actions))
			}
			for i, res := range results {
				if i+1 == tt.wantFailed {
					if res.NotRun || res.Err == nil || res.Err != apiErr || res.StatusCode != apiErr.StatusCode {
						t.Errorf("result %d = %+v, want the failure", i+1, res)
					}
					continue
				}
				if diff := cmp.Diff(BatchResult{NotRun: true}, res); diff != "" {
					t.Errorf("result %d (-want +got):\n%s", i+1, diff)
				}
			}
			if tt.wantFailed > 0 && !strings.Contains(err.Error(), fmt.Sprintf("action %d", tt.wantFailed)) {
				t.Errorf("error %q does not name action %d", err, tt.wantFailed)
			}
			if tt.wantCode == "0x80040217" && !errors.Is(err, ErrNotFound) {
				t.Errorf("errors.Is(err, ErrNotFound) = false for %v", err)
			}
			if apiErr.Header.Get("REQ_ID") == "" && tt.wantCode == "0x80044331" && tt.wantFailed > 0 {
				t.Errorf("part error lost its headers: %v", apiErr.Header)
			}
		})
	}
}

func TestBatchIndependent(t *testing.T) {
	t.Parallel()
	actions := []BatchAction{
		{Collection: "accounts", Action: "create", Data: Record{"name": "A"}},
		{Collection: "accounts", Action: "update", Key: otherAccountID, Data: Record{"name": "B"}},
		{Collection: "accounts", Action: "get", Key: accountID},
		{Collection: "accounts", Action: "delete", Key: accountID, IfMatch: `W/"7"`},
	}
	created := httpPart("", "204 No Content", "", "OData-EntityId: http://x/api/data/v9.2/accounts("+newContactID+")")
	missing := httpPart("", "404 Not Found", notFoundBody)
	row := httpPart("", "200 OK", `{"@odata.etag":"W/\"7\"","accountid":"`+accountID+`","name":"A"}`)
	deleted := httpPart("", "204 No Content", "")
	tests := []struct {
		name        string
		continueErr bool
		status      int
		answer      []string
		want        []BatchResult
		wantErr     bool
	}{
		{
			name: "continue on error", continueErr: true, status: http.StatusOK,
			answer: []string{created, missing, row, deleted},
			want: []BatchResult{
				{StatusCode: 204, ID: newContactID},
				{StatusCode: 404},
				{StatusCode: 200, Record: Record{"@odata.etag": `W/"7"`, "accountid": accountID, "name": "A"}},
				{StatusCode: 204},
			},
		},
		{
			name: "stops at the first failure", status: http.StatusBadRequest,
			answer: []string{created, missing},
			want: []BatchResult{
				{StatusCode: 204, ID: newContactID},
				{StatusCode: 404},
				{NotRun: true},
				{NotRun: true},
			},
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
				writeBatchAnswer(w, tt.status, tt.answer...)
			})
			c := newTestClient(t, f)
			results, _, err := c.Batch(context.Background(), actions, &BatchOptions{Independent: true, ContinueOnError: tt.continueErr})
			if tt.wantErr {
				if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "action 2") {
					t.Errorf("err = %v, want the 404 of action 2", err)
				}
			} else if err != nil {
				t.Fatalf("Batch: %v", err)
			}
			if diff := cmp.Diff(tt.want, results, ignoreHeader, cmpopts.IgnoreFields(BatchResult{}, "Err")); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
			if e := results[1].Err; e == nil || e.Code != "0x80040217" || e.Method != "PATCH" ||
				e.URL != f.srv.URL+"/api/data/v9.2/accounts("+otherAccountID+")" {
				t.Errorf("result 2 Err = %#v", e)
			}
			for i, res := range results {
				if i != 1 && res.Err != nil {
					t.Errorf("result %d Err = %v", i+1, res.Err)
				}
			}

			got := f.last(t)
			wantPrefer := ""
			if tt.continueErr {
				wantPrefer = "odata.continue-on-error"
			}
			if g := got.Header.Get("Prefer"); g != wantPrefer {
				t.Errorf("Prefer = %q, want %q", g, wantPrefer)
			}
			req := parseBatchRequest(t, got)
			if req.ChangeSet != "" {
				t.Errorf("independent batch has a change set")
			}
			api := f.srv.URL + "/api/data/v9.2/"
			wantParts := []batchPartReq{
				{RequestLine: "POST " + api + "accounts HTTP/1.1", Headers: []string{"Content-Type: application/json"}, Body: `{"name":"A"}`},
				{RequestLine: "PATCH " + api + "accounts(" + otherAccountID + ") HTTP/1.1", Headers: []string{"Content-Type: application/json", "If-Match: *"}, Body: `{"name":"B"}`},
				{RequestLine: "GET " + api + "accounts(" + accountID + ") HTTP/1.1", Headers: []string{"Accept: application/json"}},
				{RequestLine: "DELETE " + api + "accounts(" + accountID + ") HTTP/1.1", Headers: []string{"Content-Type: application/json", `If-Match: W/"7"`}},
			}
			if diff := cmp.Diff(wantParts, req.Parts); diff != "" {
				t.Errorf("parts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBatchRefusedLocally(t *testing.T) {
	t.Parallel()
	f := newFake(t, nil)
	c := newTestClient(t, f)
	create := BatchAction{Collection: "accounts", Action: "create", Data: Record{"name": "A"}}
	many := make([]BatchAction, MaxBatchActions+1)
	for i := range many {
		many[i] = create
	}
	tests := []struct {
		name    string
		actions []BatchAction
		opts    *BatchOptions
		wantErr string
	}{
		{"no actions", nil, nil, "no actions"},
		{"more than 1000", many, nil, "1001 actions"},
		{"unknown action", []BatchAction{{Collection: "accounts", Action: "merge", Key: accountID}}, nil, `unknown action "merge"`},
		{"no action", []BatchAction{{Collection: "accounts", Data: Record{}}}, nil, "unknown action"},
		{"update without key", []BatchAction{{Collection: "accounts", Action: "update", Data: Record{}}}, nil, "update needs a Key"},
		{"delete without key", []BatchAction{{Collection: "accounts", Action: "delete"}}, nil, "delete needs a Key"},
		{"bad key", []BatchAction{{Collection: "accounts", Action: "delete", Key: "bad-id"}}, nil, "invalid key"},
		{"create with key", []BatchAction{{Collection: "accounts", Action: "create", Key: accountID, Data: Record{}}}, nil, "create takes no key"},
		{"create without data", []BatchAction{{Collection: "accounts", Action: "create"}}, nil, "create needs Data"},
		{"delete with data", []BatchAction{{Collection: "accounts", Action: "delete", Key: accountID, Data: Record{}}}, nil, "delete takes no Data"},
		{"delete with representation", []BatchAction{{Collection: "accounts", Action: "delete", Key: accountID, ReturnRepresentation: true}}, nil, "cannot return a representation"},
		{"create with If-Match", []BatchAction{{Collection: "accounts", Action: "create", Data: Record{}, IfMatch: "*"}}, nil, "takes no IfMatch"},
		{"missing collection", []BatchAction{{Action: "create", Data: Record{}}}, nil, "invalid entity set"},
		{"bad collection", []BatchAction{{Collection: "accounts?$top=1", Action: "create", Data: Record{}}}, nil, "invalid entity set"},
		{"get in a change set", []BatchAction{{Collection: "accounts", Action: "get", Key: accountID}}, nil, "not allowed in a change set"},
		{"forward reference", []BatchAction{{Action: "update", Key: "$2", Data: Record{}}, create}, nil, `"$2" names no earlier action`},
		{"self reference", []BatchAction{{Action: "update", Key: "$1", Data: Record{}}}, nil, `"$1" names no earlier action`},
		{"bind to no action", []BatchAction{create, {Collection: "contacts", Action: "create", Data: Record{"parentcustomerid_account@odata.bind": "$9"}}}, nil, `"$9" names no earlier action`},
		{"bad reference", []BatchAction{create, {Action: "update", Key: "$1/name", Data: Record{}}}, nil, "not a reference"},
		{"reference in collection to no action", []BatchAction{{Collection: "$3/contact_customer_accounts", Action: "create", Data: Record{}}}, nil, "names no earlier action"},
		{"bad navigation", []BatchAction{create, {Collection: "$1/a b", Action: "create", Data: Record{}}}, nil, "invalid navigation property"},
		{"reference when independent", []BatchAction{create, {Action: "update", Key: "$1", Data: Record{}}}, &BatchOptions{Independent: true}, "only work inside a change set"},
		{"Content-ID when independent", []BatchAction{{Collection: "accounts", Action: "create", Data: Record{}, ContentID: "a"}}, &BatchOptions{Independent: true}, "only exist inside a change set"},
		{"duplicate Content-ID", []BatchAction{create, {Collection: "accounts", Action: "create", Data: Record{}, ContentID: "1"}}, nil, `ContentID "1" is used twice`},
		{"bad Content-ID", []BatchAction{{Collection: "accounts", Action: "create", Data: Record{}, ContentID: "a b"}}, nil, "want letters"},
		{"continue on error in a change set", []BatchAction{create}, &BatchOptions{ContinueOnError: true}, "ContinueOnError needs Independent"},
		{"bad caller", []BatchAction{create}, &BatchOptions{Caller: Caller{ObjectID: "me"}}, "not a GUID"},
		{"unencodable data", []BatchAction{{Collection: "accounts", Action: "create", Data: Record{"x": make(chan int)}}}, nil, "encode Data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			results, resp, err := c.Batch(context.Background(), tt.actions, tt.opts)
			if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want ErrInvalidInput containing %q", err, tt.wantErr)
			}
			if results != nil || resp != nil {
				t.Errorf("results %v, resp %v, want none", results, resp)
			}
		})
	}
	t.Cleanup(func() {
		if n := f.count(); n != 0 {
			t.Errorf("%d requests reached the server, want 0", n)
		}
	})
}

func TestBatchThousandActions(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		parts := make([]string, MaxBatchActions)
		for i := range parts {
			parts[i] = httpPart(fmt.Sprint(i+1), "204 No Content", "",
				fmt.Sprintf("OData-EntityId: http://x/api/data/v9.2/accounts(00000000-0000-4000-8000-%012d)", i+1))
		}
		writeBatchAnswer(w, http.StatusOK, changeSetPart(parts...))
	})
	c := newTestClient(t, f)
	actions := make([]BatchAction, MaxBatchActions)
	for i := range actions {
		actions[i] = BatchAction{Collection: "accounts", Action: "create", Data: Record{"name": fmt.Sprint("A", i)}}
	}
	results, _, err := c.Batch(context.Background(), actions, nil)
	if err != nil {
		t.Fatalf("Batch: %v", err)
	}
	if len(results) != MaxBatchActions || results[999].ID != "00000000-0000-4000-8000-000000001000" {
		t.Errorf("%d results, last %+v", len(results), results[len(results)-1])
	}
	if req := parseBatchRequest(t, f.last(t)); len(req.Parts) != MaxBatchActions {
		t.Errorf("%d parts sent", len(req.Parts))
	}
}

func TestBatchAnswerFormats(t *testing.T) {
	t.Parallel()
	// A server that quotes its boundary and ends lines with LF alone is still read.
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", `multipart/mixed; boundary="batchresponse_q"`)
		io.WriteString(w, "--batchresponse_q\n"+
			"Content-Type: multipart/mixed; boundary=\"changesetresponse_q\"\n\n"+
			"--changesetresponse_q\nContent-Type: application/http\nContent-Transfer-Encoding: binary\nContent-ID: 1\n\n"+
			"\nHTTP/1.1 201 Created\nContent-Type: application/json\nOData-EntityId: http://x/api/data/v9.2/accounts("+accountID+")\n\n"+
			`{"accountid":"`+accountID+`","name":"A"}`+"\n--changesetresponse_q--\n--batchresponse_q--\n")
	})
	c := newTestClient(t, f)
	results, _, err := c.Batch(context.Background(), []BatchAction{
		{Collection: "accounts", Action: "create", Data: Record{"name": "A"}, ReturnRepresentation: true},
	}, nil)
	if err != nil {
		t.Fatalf("Batch: %v", err)
	}
	want := []BatchResult{{StatusCode: 201, ID: accountID, Record: Record{"accountid": accountID, "name": "A"}}}
	if diff := cmp.Diff(want, results, ignoreHeader); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}

func TestBatchMalformedAnswers(t *testing.T) {
	t.Parallel()
	actions := []BatchAction{
		{Collection: "accounts", Action: "create", Data: Record{"name": "A"}},
		{Collection: "accounts", Action: "delete", Key: accountID},
	}
	ok1 := httpPart("1", "204 No Content", "")
	ok2 := httpPart("2", "204 No Content", "")
	tests := []struct {
		name    string
		answer  func(w http.ResponseWriter)
		wantErr string
		wantAPI int // status of an *Error the error must wrap; 0: none
	}{
		{
			name:    "not multipart",
			answer:  func(w http.ResponseWriter) { reply(w, http.StatusOK, `{"value":[]}`) },
			wantErr: "may have been applied",
		},
		{
			name: "no boundary",
			answer: func(w http.ResponseWriter) {
				w.Header().Set("Content-Type", "multipart/mixed")
				io.WriteString(w, "--x\r\n\r\n--x--\r\n")
			},
			wantErr: "want multipart/mixed with a boundary",
		},
		{
			name: "part is not HTTP",
			answer: func(w http.ResponseWriter) {
				writeBatchAnswer(w, 200, changeSetPart(ok1, "Content-Type: application/http\r\nContent-ID: 2\r\n\r\nhello"))
			},
			wantErr: "embedded HTTP response",
		},
		{
			name:    "missing response",
			answer:  func(w http.ResponseWriter) { writeBatchAnswer(w, 200, changeSetPart(ok1)) },
			wantErr: "no response for action 2",
		},
		{
			name: "unknown Content-ID",
			answer: func(w http.ResponseWriter) {
				writeBatchAnswer(w, 200, changeSetPart(ok1, httpPart("7", "204 No Content", "")))
			},
			wantErr: `Content-ID "7" answers no action`,
		},
		{
			name:    "Content-ID twice",
			answer:  func(w http.ResponseWriter) { writeBatchAnswer(w, 200, changeSetPart(ok1, ok1)) },
			wantErr: `two responses with Content-ID "1"`,
		},
		{
			name:    "too many responses",
			answer:  func(w http.ResponseWriter) { writeBatchAnswer(w, 200, changeSetPart(ok1, ok2, ok2)) },
			wantErr: "3 responses for 2 actions",
		},
		{
			name: "bad JSON",
			answer: func(w http.ResponseWriter) {
				writeBatchAnswer(w, 200, changeSetPart(httpPart("1", "201 Created", `{"name":`), ok2))
			},
			wantErr: "decode 201 body",
		},
		{
			name:    "no parts",
			answer:  func(w http.ResponseWriter) { writeBatchAnswer(w, 200) },
			wantErr: "cannot be read",
		},
		{
			name:    "change set in a change set",
			answer:  func(w http.ResponseWriter) { writeBatchAnswer(w, 200, changeSetPart(changeSetPart(ok1))) },
			wantErr: "nested in a change set",
		},
		{
			name: "truncated",
			answer: func(w http.ResponseWriter) {
				w.Header().Set("Content-Type", "multipart/mixed; boundary=batchresponse_t")
				io.WriteString(w, "--batchresponse_t\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 204 No Content\r\n")
			},
			wantErr: "cannot be read",
		},
		{
			name: "400 with an unreadable batch body",
			answer: func(w http.ResponseWriter) {
				writeBatchAnswer(w, 400, "Content-Type: application/http\r\n\r\nnonsense")
			},
			wantErr: "batch answer cannot be read",
			wantAPI: 400,
		},
		{
			name: "400 refusing the batch itself",
			answer: func(w http.ResponseWriter) {
				reply(w, http.StatusBadRequest, `{"error":{"code":"0x80048d19","message":"The batch request must contain at most 1000 requests."}}`)
			},
			wantErr: "0x80048d19",
			wantAPI: 400,
		},
		{
			name:    "401",
			answer:  func(w http.ResponseWriter) { reply(w, http.StatusUnauthorized, "") },
			wantErr: "401",
			wantAPI: 401,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) { tt.answer(w) })
			c := newTestClient(t, f)
			results, resp, err := c.Batch(context.Background(), actions, nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
			if results != nil {
				t.Errorf("results = %+v, want none", results)
			}
			if resp == nil {
				t.Errorf("no Response")
			}
			var apiErr *Error
			if got := errors.As(err, &apiErr); got != (tt.wantAPI != 0) || (got && apiErr.StatusCode != tt.wantAPI) {
				t.Errorf("errors.As(*Error) = %v (%v), want status %d", got, apiErr, tt.wantAPI)
			}
		})
	}
}
