package client

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDoRequestShape(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		req  func(base string) *RawRequest
		want wantRequest
	}{
		{
			name: "path with query plus ordered parameters",
			req: func(string) *RawRequest {
				return &RawRequest{Method: "get", Path: "/api/data/v9.2/accounts?$select=name",
					Query: []KeyValue{{"$filter", "name eq 'A&B'"}, {"$top", 3}, {"$orderby", "name desc"}}}
			},
			want: wantRequest{Method: "GET", Path: "/api/data/v9.2/accounts",
				RawQuery: "$select=name&$filter=name%20eq%20'A%26B'&$top=3&$orderby=name%20desc",
				Headers: map[string]string{
					"Accept": "application/json", "OData-MaxVersion": "4.0", "OData-Version": "4.0",
					"Authorization": "Bearer " + testToken, "Content-Type": "",
				}},
		},
		{
			name: "path written with spaces, without a leading slash",
			req: func(string) *RawRequest {
				return &RawRequest{Method: "GET", Path: "api/data/v9.2/accounts?$filter=name eq 'A'&$expand=x($select=a;$top=1)"}
			},
			want: wantRequest{Method: "GET", Path: "/api/data/v9.2/accounts",
				RawQuery: "$filter=name%20eq%20'A'&$expand=x($select=a%3B$top=1)"},
		},
		{
			name: "absolute next link on the org host",
			req: func(base string) *RawRequest {
				return &RawRequest{Method: "GET", Path: base + "/api/data/v9.2/accounts?$skiptoken=%3Ccookie%20pagenumber=%222%22/%3E",
					Header: http.Header{"Prefer": {"odata.maxpagesize=2"}}}
			},
			want: wantRequest{Method: "GET", Path: "/api/data/v9.2/accounts",
				RawQuery: "$skiptoken=%3Ccookie%20pagenumber=%222%22/%3E",
				Headers:  map[string]string{"Prefer": "odata.maxpagesize=2"}},
		},
		{
			name: "json body and header overrides",
			req: func(string) *RawRequest {
				return &RawRequest{Method: "POST", Path: "/api/data/v9.2/WinOpportunity",
					JSON:   map[string]any{"Status": 3, "Subject": "<won> & done"},
					Header: http.Header{"Accept": {"application/xml"}, "Authorization": {"Bearer user-supplied"}, "MSCRM.SolutionUniqueName": {"sol"}}}
			},
			want: wantRequest{Method: "POST", Path: "/api/data/v9.2/WinOpportunity",
				Body: `{"Status":3,"Subject":"<won> & done"}`,
				Headers: map[string]string{
					"Content-Type": "application/json; charset=utf-8", "Accept": "application/xml",
					"Authorization": "Bearer " + testToken, "MSCRM.SolutionUniqueName": "sol",
				}},
		},
		{
			name: "raw body that is JSON",
			req: func(string) *RawRequest {
				return &RawRequest{Method: "PATCH", Path: "/api/data/v9.2/accounts(" + accountID + ")", Body: []byte(`{"name":"x"}`)}
			},
			want: wantRequest{Method: "PATCH", Path: "/api/data/v9.2/accounts(" + accountID + ")", Body: `{"name":"x"}`,
				Headers: map[string]string{"Content-Type": "application/json; charset=utf-8"}},
		},
		{
			name: "raw body with its content type",
			req: func(string) *RawRequest {
				return &RawRequest{Method: "PUT", Path: "/api/data/v9.2/annotations(" + accountID + ")/documentbody",
					Body: []byte("plain text"), ContentType: "text/plain"}
			},
			want: wantRequest{Method: "PUT", Path: "/api/data/v9.2/annotations(" + accountID + ")/documentbody", Body: "plain text",
				Headers: map[string]string{"Content-Type": "text/plain"}},
		},
		{
			name: "form fields in order",
			req: func(string) *RawRequest {
				return &RawRequest{Method: "POST", Path: "/hooks", Form: []KeyValue{{"b", "2 3"}, {"a", "x&y=z"}, {"b", 4}}}
			},
			want: wantRequest{Method: "POST", Path: "/hooks", Body: "b=2+3&a=x%26y%3Dz&b=4",
				Headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 204, "") })
			c := newTestClient(t, f)
			res, err := c.Do(context.Background(), tt.req(f.srv.URL))
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != 204 {
				t.Errorf("status = %d", res.StatusCode)
			}
			checkRequest(t, tt.want, f.last(t))
		})
	}
}

func TestDoMultipart(t *testing.T) {
	t.Parallel()
	type part struct{ Field, FileName, ContentType, Content string }
	var got []part
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/form-data" {
			http.Error(w, "want multipart/form-data", 400)
			return
		}
		mr := multipart.NewReader(r.Body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			data, _ := io.ReadAll(p)
			got = append(got, part{p.FormName(), p.FileName(), p.Header.Get("Content-Type"), string(data)})
		}
		reply(w, 200, `{"ok":true}`)
	})
	c := newTestClient(t, f)
	res, err := c.Do(context.Background(), &RawRequest{
		Method: "POST", Path: "/upload",
		Multipart: &Multipart{
			Fields: []KeyValue{{"description", "quarterly report"}, {"count", 2}},
			Files: []File{
				{Field: "file", FileName: `report "Q1".csv`, ContentType: "text/csv", Content: []byte("a,b\n1,2\n")},
				{Field: "blob", FileName: "data.bin", Content: []byte{0, 1, 2}},
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []part{
		{"description", "", "", "quarterly report"},
		{"count", "", "", "2"},
		{"file", `report "Q1".csv`, "text/csv", "a,b\n1,2\n"},
		{"blob", "data.bin", "application/octet-stream", "\x00\x01\x02"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]any{"ok": true}, res.JSON); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
}

func TestDoFormParsedByServer(t *testing.T) {
	t.Parallel()
	var form url.Values
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		form = r.PostForm
		reply(w, 204, "")
	})
	c := newTestClient(t, f)
	if _, err := c.Do(context.Background(), &RawRequest{Method: "POST", Path: "/form", Form: Pairs(url.Values{"name": {"A & B"}, "tags": {"x", "y"}})}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(url.Values{"name": {"A & B"}, "tags": {"x", "y"}}, form); diff != "" {
		t.Errorf("form (-want +got):\n%s", diff)
	}
}

func TestDoResponseTypes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		contentType string
		body        string
		typ         ResponseType
		wantJSON    any
		wantText    string
		wantNext    string
		wantCount   int64
		wantErr     bool
	}{
		{name: "json object", contentType: "application/json; odata.metadata=minimal",
			body:     `{"@odata.count":2,"value":[{"revenue":1.50}],"@odata.nextLink":"http://x/next"}`,
			wantJSON: map[string]any{"@odata.count": json.Number("2"), "value": []any{map[string]any{"revenue": json.Number("1.50")}}, "@odata.nextLink": "http://x/next"},
			wantNext: "http://x/next", wantCount: 2},
		{name: "count with a BOM", contentType: "text/plain", body: "\ufeff42", wantJSON: json.Number("42"), wantCount: -1},
		{name: "xml as a string", contentType: "application/xml", body: "<edmx:Edmx/>", wantJSON: "<edmx:Edmx/>", wantCount: -1},
		{name: "broken json", contentType: "application/json", body: `{"a":`, wantErr: true, wantCount: -1},
		{name: "text", contentType: "text/plain", body: "hello", typ: ResponseText, wantText: "hello", wantCount: -1},
		{name: "bytes", contentType: "application/octet-stream", body: "\x00\x01", typ: ResponseBytes, wantCount: -1},
		{name: "empty", body: "", wantCount: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
				reply(w, 200, tt.body, "Content-Type", tt.contentType)
			})
			c := newTestClient(t, f)
			res, err := c.Do(context.Background(), &RawRequest{Method: "GET", Path: "/api/data/v9.2/x", ResponseType: tt.typ})
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if string(res.Body) != tt.body {
				t.Errorf("Body = %q, want %q", res.Body, tt.body)
			}
			got := struct {
				JSON  any
				Text  string
				Next  string
				Count int64
			}{res.JSON, res.Text, res.NextLink, res.Count}
			want := struct {
				JSON  any
				Text  string
				Next  string
				Count int64
			}{tt.wantJSON, tt.wantText, tt.wantNext, tt.wantCount}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("decoded (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDoErrorKeepsResponse(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, 404, `{"error":{"code":"0x8006088a","message":"Resource not found for the segment 'Account'."}}`)
	})
	c := newTestClient(t, f)
	res, err := c.Do(context.Background(), &RawRequest{Method: "GET", Path: "/api/data/v9.2/Account"})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	if res == nil || res.StatusCode != 404 || !strings.Contains(string(res.Body), "0x8006088a") {
		t.Fatalf("response = %+v", res)
	}
}

func TestDoRejectsBadRequestsLocally(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		req     *RawRequest
		wantMsg string
	}{
		{name: "nil", req: nil},
		{name: "body and form", wantMsg: "client: cannot specify both a body and form or file data",
			req: &RawRequest{Method: "POST", Path: "/x", Body: []byte("a"), Form: []KeyValue{{"a", "b"}}}},
		{name: "json and multipart", wantMsg: "client: cannot specify both a body and form or file data",
			req: &RawRequest{Method: "POST", Path: "/x", JSON: 1, Multipart: &Multipart{}}},
		{name: "json and body", req: &RawRequest{Method: "POST", Path: "/x", JSON: 1, Body: []byte("a")}},
		{name: "form and multipart", req: &RawRequest{Method: "POST", Path: "/x", Form: []KeyValue{{"a", "b"}}, Multipart: &Multipart{}}},
		{name: "no method", req: &RawRequest{Path: "/x"}},
		{name: "bad method", req: &RawRequest{Method: "GET /", Path: "/x"}},
		{name: "no path", req: &RawRequest{Method: "GET"}},
		{name: "foreign host", wantMsg: "refusing to send credentials there",
			req: &RawRequest{Method: "GET", Path: "https://attacker.example/api/data/v9.2/accounts"}},
		{name: "bad retry policy", req: &RawRequest{Method: "GET", Path: "/x", Retry: &RetryPolicy{MaxRetries: -2}}},
		{name: "unnamed file", req: &RawRequest{Method: "POST", Path: "/x", Multipart: &Multipart{Files: []File{{FileName: "a"}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, nil)
			c := newTestClient(t, f)
			_, err := c.Do(context.Background(), tt.req)
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("err = %v, want ErrInvalidInput", err)
			}
			if tt.wantMsg != "" && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %q, want it to contain %q", err, tt.wantMsg)
			}
			if f.count() != 0 {
				t.Errorf("%d requests sent", f.count())
			}
		})
	}
}
