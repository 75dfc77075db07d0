package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const notFoundBody = `{"error":{"code":"0x80040217","message":"Entity 'account' With Id = ` + accountID + ` Does Not Exist"}}`

// wantRequest is the part of a request a table case checks; empty fields are not checked, except
// that headers listed with an empty value must be absent.
type wantRequest struct {
	Method   string
	Path     string
	RawQuery string
	Headers  map[string]string
	Body     string
}

func checkRequest(t *testing.T, want wantRequest, got seen) {
	t.Helper()
	if got.Method != want.Method {
		t.Errorf("method = %s, want %s", got.Method, want.Method)
	}
	if got.Path != want.Path {
		t.Errorf("path = %s, want %s", got.Path, want.Path)
	}
	if got.RawQuery != want.RawQuery {
		t.Errorf("query = %q, want %q", got.RawQuery, want.RawQuery)
	}
	for k, v := range want.Headers {
		if g := got.Header.Get(k); g != v {
			t.Errorf("header %s = %q, want %q", k, g, v)
		}
	}
	if want.Body != "" || got.Body != "" {
		if diff := cmp.Diff(want.Body, got.Body); diff != "" {
			t.Errorf("body (-want +got):\n%s", diff)
		}
	}
}

func TestCreateRecord(t *testing.T) {
	t.Parallel()
	entityURL := func(base string) string { return base + "/api/data/v9.2/accounts(" + accountID + ")" }
	tests := []struct {
		name       string
		set        string
		data       Record
		opts       *CreateOptions
		answer     func(w http.ResponseWriter, base string)
		want       wantRequest
		wantRecord Record
		wantID     string
		wantStatus int
		wantErr    error
	}{
		{
			name: "no representation",
			set:  "accounts",
			data: Record{"name": "Contoso", "revenue": json.Number("20000.0000"), "description": nil},
			answer: func(w http.ResponseWriter, base string) {
				reply(w, http.StatusNoContent, "", "OData-EntityId", entityURL(base))
			},
			want: wantRequest{
				Method: "POST", Path: "/api/data/v9.2/accounts",
				Headers: map[string]string{"Content-Type": "application/json; charset=utf-8", "Prefer": ""},
				Body:    `{"description":null,"name":"Contoso","revenue":20000.0000}`,
			},
			wantID:     accountID,
			wantStatus: http.StatusNoContent,
		},
		{
			name: "representation with select",
			set:  "accounts",
			data: Record{"name": "Contoso", "primarycontactid@odata.bind": Bind("contacts", contactID)},
			opts: &CreateOptions{ReturnRepresentation: true, Select: []string{"name", "revenue"}},
			answer: func(w http.ResponseWriter, base string) {
				reply(w, http.StatusCreated,
					`{"@odata.context":"`+base+`/api/data/v9.2/$metadata#accounts(name,revenue)/$entity","@odata.etag":"W/\"1001\"","name":"Contoso","revenue":20000.0000,"accountid":"`+accountID+`"}`,
					"Preference-Applied", "return=representation", "ETag", `W/"1001"`)
			},
			want: wantRequest{
				Method: "POST", Path: "/api/data/v9.2/accounts", RawQuery: "$select=name,revenue",
				Headers: map[string]string{"Prefer": "return=representation"},
				Body:    `{"name":"Contoso","primarycontactid@odata.bind":"/contacts(` + contactID + `)"}`,
			},
			wantRecord: Record{
				"@odata.context": "BASE/api/data/v9.2/$metadata#accounts(name,revenue)/$entity",
				"@odata.etag":    `W/"1001"`, "name": "Contoso", "revenue": json.Number("20000.0000"), "accountid": accountID,
			},
			wantStatus: http.StatusCreated,
		},
		{
			name: "impersonation and execution headers",
			set:  "accounts",
			data: nil,
			opts: &CreateOptions{
				Caller:                     Caller{ID: "{" + userID + "}", ObjectID: contactID},
				SuppressDuplicateDetection: new(false), BypassCustomPluginExecution: true,
			},
			answer: func(w http.ResponseWriter, base string) {
				reply(w, http.StatusNoContent, "", "OData-EntityId", entityURL(base))
			},
			want: wantRequest{
				Method: "POST", Path: "/api/data/v9.2/accounts",
				Headers: map[string]string{
					"MSCRMCallerID": userID, "CallerObjectId": contactID,
					"MSCRM.SuppressDuplicateDetection": "false", "MSCRM.BypassCustomPluginExecution": "true",
				},
				Body: `{}`,
			},
			wantID:     accountID,
			wantStatus: http.StatusNoContent,
		},
		{
			name: "validation error from the service",
			set:  "accounts",
			data: Record{"Name": "x"},
			answer: func(w http.ResponseWriter, _ string) {
				reply(w, http.StatusBadRequest, `{"error":{"code":"0x0","message":"Invalid property 'Name' was found in entity 'Microsoft.Dynamics.CRM.account'."}}`)
			},
			want:       wantRequest{Method: "POST", Path: "/api/data/v9.2/accounts", Body: `{"Name":"x"}`},
			wantStatus: http.StatusBadRequest,
			wantErr:    &Error{StatusCode: 400, Code: "0x0"},
		},
		{name: "bad entity set", set: "accounts?x", wantErr: ErrInvalidInput},
		{name: "bad impersonation id", set: "accounts", opts: &CreateOptions{Caller: Caller{ID: "bob"}}, wantErr: ErrInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) { tt.answer(w, "http://"+r.Host) })
			base := f.srv.URL
			c := newTestClient(t, f)
			rec, resp, err := c.CreateRecord(context.Background(), tt.set, tt.data, tt.opts)
			if tt.answer == nil {
				if !errors.Is(err, tt.wantErr) || f.count() != 0 {
					t.Fatalf("err = %v after %d requests, want %v before any request", err, f.count(), tt.wantErr)
				}
				return
			}
			checkRequest(t, tt.want, f.last(t))
			checkErr(t, err, tt.wantErr)
			if resp == nil || resp.StatusCode != tt.wantStatus {
				t.Fatalf("response = %+v, want status %d", resp, tt.wantStatus)
			}
			if resp.ID != tt.wantID {
				t.Errorf("ID = %q, want %q", resp.ID, tt.wantID)
			}
			want := replaceBase(tt.wantRecord, base)
			if diff := cmp.Diff(want, rec); diff != "" {
				t.Errorf("record (-want +got):\n%s", diff)
			}
		})
	}
}

// replaceBase substitutes the test server URL for BASE in string values.
func replaceBase(r Record, base string) Record {
	if r == nil {
		return nil
	}
	out := Record{}
	for k, v := range r {
		if s, ok := v.(string); ok && len(s) >= 4 && s[:4] == "BASE" {
			v = base + s[4:]
		}
		out[k] = v
	}
	return out
}

// checkErr compares err with want: nil, a sentinel (errors.Is) or an *Error whose status and code must
// match.
func checkErr(t *testing.T, err, want error) {
	t.Helper()
	var wantAPI *Error
	switch {
	case want == nil:
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
	case errors.As(want, &wantAPI):
		var got *Error
		if !errors.As(err, &got) {
			t.Fatalf("err = %v, want an *Error", err)
		}
		if got.StatusCode != wantAPI.StatusCode || got.Code != wantAPI.Code {
			t.Fatalf("error = %d %q, want %d %q", got.StatusCode, got.Code, wantAPI.StatusCode, wantAPI.Code)
		}
	default:
		if !errors.Is(err, want) {
			t.Fatalf("err = %v, want %v", err, want)
		}
	}
}

func TestGetRecord(t *testing.T) {
	t.Parallel()
	row := `{"@odata.etag":"W/\"1001\"","name":"Contoso","revenue":20000.0000,"accountid":"` + accountID + `"}`
	tests := []struct {
		name       string
		key        string
		opts       *GetOptions
		status     int
		body       string
		headers    []string
		want       wantRequest
		wantRecord Record
		wantETag   string
		wantErr    error
	}{
		{
			name: "select and nested expand", key: accountID,
			opts: &GetOptions{
				Select: []string{"name", "revenue"},
				Expand: []Expand{
					{Property: "primarycontactid", Select: []string{"fullname"}},
					{Property: "Account_Tasks", Select: []string{"subject"}, Filter: "contains(subject,'a&b')",
						OrderBy: []string{"createdon desc"}, Top: 5,
						Expand: []Expand{{Property: "ownerid", Select: []string{"fullname"}}}},
				},
			},
			status: 200, body: row, headers: []string{"ETag", `W/"1001"`},
			want: wantRequest{
				Method: "GET", Path: "/api/data/v9.2/accounts(" + accountID + ")",
				RawQuery: "$select=name,revenue&$expand=primarycontactid($select=fullname)," +
					"Account_Tasks($select=subject%3B$filter=contains(subject,'a%26b')%3B$orderby=createdon%20desc%3B$top=5%3B$expand=ownerid($select=fullname))",
				Headers: map[string]string{"Prefer": "", "If-None-Match": ""},
			},
			wantRecord: Record{"@odata.etag": `W/"1001"`, "name": "Contoso", "revenue": json.Number("20000.0000"), "accountid": accountID},
			wantETag:   `W/"1001"`,
		},
		{
			name: "alternate key with braces stripped from a GUID value and annotations", key: `accountnumber="A 1",_primarycontactid_value={` + contactID + `}`,
			opts:   &GetOptions{IncludeAnnotations: "*", Caller: Caller{ObjectID: contactID}},
			status: 200, body: row,
			want: wantRequest{
				Method: "GET", Path: "/api/data/v9.2/accounts(accountnumber='A%201',_primarycontactid_value=" + contactID + ")",
				Headers: map[string]string{"Prefer": `odata.include-annotations="*"`, "CallerObjectId": contactID},
			},
			wantRecord: Record{"@odata.etag": `W/"1001"`, "name": "Contoso", "revenue": json.Number("20000.0000"), "accountid": accountID},
			wantETag:   `W/"1001"`, // from the body: no ETag header
		},
		{
			name: "not modified", key: accountID, opts: &GetOptions{IfNoneMatch: `W/"1001"`},
			status: 304,
			want: wantRequest{
				Method: "GET", Path: "/api/data/v9.2/accounts(" + accountID + ")",
				Headers: map[string]string{"If-None-Match": `W/"1001"`},
			},
		},
		{
			name: "missing row", key: "{" + accountID + "}", status: 404, body: notFoundBody,
			want:    wantRequest{Method: "GET", Path: "/api/data/v9.2/accounts(" + accountID + ")"},
			wantErr: &Error{StatusCode: 404, Code: "0x80040217"},
		},
		{name: "bad key", key: "bad-id", wantErr: ErrInvalidInput},
		{name: "bad select", key: accountID, opts: &GetOptions{Select: []string{"name&x=1"}}, wantErr: ErrInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, tt.status, tt.body, tt.headers...) })
			c := newTestClient(t, f)
			rec, resp, err := c.GetRecord(context.Background(), "accounts", tt.key, tt.opts)
			if tt.status == 0 {
				if !errors.Is(err, tt.wantErr) || f.count() != 0 {
					t.Fatalf("err = %v after %d requests, want %v before any request", err, f.count(), tt.wantErr)
				}
				return
			}
			checkRequest(t, tt.want, f.last(t))
			checkErr(t, err, tt.wantErr)
			if resp == nil || resp.StatusCode != tt.status {
				t.Fatalf("response = %+v, want status %d", resp, tt.status)
			}
			if resp.ETag != tt.wantETag {
				t.Errorf("ETag = %q, want %q", resp.ETag, tt.wantETag)
			}
			if diff := cmp.Diff(tt.wantRecord, rec); diff != "" {
				t.Errorf("record (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUpdateRecord(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		opts       *UpdateOptions
		status     int
		body       string
		want       wantRequest
		wantRecord Record
		wantErr    error
	}{
		{
			name: "update only by default", status: 204,
			want: wantRequest{
				Method: "PATCH", Path: "/api/data/v9.2/accounts(" + accountID + ")",
				Headers: map[string]string{"If-Match": "*", "Prefer": ""}, Body: `{"name":"New"}`,
			},
		},
		{
			name: "optimistic concurrency", opts: &UpdateOptions{IfMatch: `W/"1000"`}, status: 412,
			body: `{"error":{"code":"0x80060882","message":"The version of the existing record doesn't match the RowVersion property provided."}}`,
			want: wantRequest{
				Method: "PATCH", Path: "/api/data/v9.2/accounts(" + accountID + ")",
				Headers: map[string]string{"If-Match": `W/"1000"`}, Body: `{"name":"New"}`,
			},
			wantErr: ErrPreconditionFailed,
		},
		{
			name: "missing row is not created", status: 404, body: notFoundBody,
			want: wantRequest{
				Method: "PATCH", Path: "/api/data/v9.2/accounts(" + accountID + ")",
				Headers: map[string]string{"If-Match": "*"}, Body: `{"name":"New"}`,
			},
			wantErr: ErrNotFound,
		},
		{
			name: "representation", opts: &UpdateOptions{ReturnRepresentation: true, Select: []string{"name"}}, status: 200,
			body: `{"@odata.etag":"W/\"1002\"","name":"New","accountid":"` + accountID + `"}`,
			want: wantRequest{
				Method: "PATCH", Path: "/api/data/v9.2/accounts(" + accountID + ")", RawQuery: "$select=name",
				Headers: map[string]string{"If-Match": "*", "Prefer": "return=representation"}, Body: `{"name":"New"}`,
			},
			wantRecord: Record{"@odata.etag": `W/"1002"`, "name": "New", "accountid": accountID},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, tt.status, tt.body) })
			c := newTestClient(t, f)
			rec, resp, err := c.UpdateRecord(context.Background(), "accounts", accountID, Record{"name": "New"}, tt.opts)
			checkRequest(t, tt.want, f.last(t))
			checkErr(t, err, tt.wantErr)
			if resp == nil || resp.StatusCode != tt.status {
				t.Fatalf("response = %+v, want status %d", resp, tt.status)
			}
			if diff := cmp.Diff(tt.wantRecord, rec); diff != "" {
				t.Errorf("record (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUpsertRecord(t *testing.T) {
	t.Parallel()
	row := `{"@odata.etag":"W/\"5\"","accountnumber":"A1","name":"N"}`
	tests := []struct {
		name        string
		opts        *UpsertOptions
		status      int
		body        string
		headers     []string
		want        wantRequest
		wantCreated bool
		wantID      string
		wantRecord  Record
		wantErr     error
	}{
		{
			name: "plain upsert answers 204 either way", status: 204,
			headers: []string{"OData-EntityId", "http://x/api/data/v9.2/accounts(" + accountID + ")"},
			want: wantRequest{
				Method: "PATCH", Path: "/api/data/v9.2/accounts(accountnumber='A1')",
				Headers: map[string]string{"If-Match": "", "If-None-Match": "", "Prefer": ""}, Body: `{"name":"N"}`,
			},
			wantID: accountID,
		},
		{
			name: "created with representation", opts: &UpsertOptions{ReturnRepresentation: true}, status: 201, body: row,
			want: wantRequest{
				Method: "PATCH", Path: "/api/data/v9.2/accounts(accountnumber='A1')",
				Headers: map[string]string{"If-Match": "", "Prefer": "return=representation"}, Body: `{"name":"N"}`,
			},
			wantCreated: true,
			wantRecord:  Record{"@odata.etag": `W/"5"`, "accountnumber": "A1", "name": "N"},
		},
		{
			name: "updated with representation", opts: &UpsertOptions{ReturnRepresentation: true, Select: []string{"name"}}, status: 200, body: row,
			want: wantRequest{
				Method: "PATCH", Path: "/api/data/v9.2/accounts(accountnumber='A1')", RawQuery: "$select=name",
				Headers: map[string]string{"Prefer": "return=representation"}, Body: `{"name":"N"}`,
			},
			wantRecord: Record{"@odata.etag": `W/"5"`, "accountnumber": "A1", "name": "N"},
		},
		{
			name: "create only on an existing row", opts: &UpsertOptions{IfNoneMatch: "*"}, status: 412,
			body: `{"error":{"code":"0x80040237","message":"A record with matching key values already exists."}}`,
			want: wantRequest{
				Method: "PATCH", Path: "/api/data/v9.2/accounts(accountnumber='A1')",
				Headers: map[string]string{"If-None-Match": "*", "If-Match": ""}, Body: `{"name":"N"}`,
			},
			wantErr: &Error{StatusCode: 412, Code: "0x80040237"},
		},
		{
			name: "update only on a missing row", opts: &UpsertOptions{IfMatch: "*"}, status: 404, body: notFoundBody,
			want: wantRequest{
				Method: "PATCH", Path: "/api/data/v9.2/accounts(accountnumber='A1')",
				Headers: map[string]string{"If-Match": "*"}, Body: `{"name":"N"}`,
			},
			wantErr: ErrNotFound,
		},
		{name: "both conditions", opts: &UpsertOptions{IfMatch: "*", IfNoneMatch: "*"}, wantErr: ErrInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, tt.status, tt.body, tt.headers...) })
			c := newTestClient(t, f)
			key := AlternateKey(KeyValue{Key: "accountnumber", Value: "A1"})
			rec, resp, err := c.UpsertRecord(context.Background(), "accounts", key, Record{"name": "N"}, tt.opts)
			if tt.status == 0 {
				if !errors.Is(err, tt.wantErr) || f.count() != 0 {
					t.Fatalf("err = %v after %d requests, want %v before any request", err, f.count(), tt.wantErr)
				}
				return
			}
			checkRequest(t, tt.want, f.last(t))
			checkErr(t, err, tt.wantErr)
			if resp.Created != tt.wantCreated || resp.ID != tt.wantID {
				t.Errorf("Created, ID = %v, %q; want %v, %q", resp.Created, resp.ID, tt.wantCreated, tt.wantID)
			}
			if diff := cmp.Diff(tt.wantRecord, rec); diff != "" {
				t.Errorf("record (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeleteRecord(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    *DeleteOptions
		status  int
		body    string
		want    wantRequest
		wantErr error
	}{
		{
			name: "deleted", status: 204,
			want: wantRequest{Method: "DELETE", Path: "/api/data/v9.2/accounts(" + accountID + ")", Headers: map[string]string{"If-Match": "", "Content-Type": ""}},
		},
		{
			name: "missing", status: 404, body: notFoundBody,
			want:    wantRequest{Method: "DELETE", Path: "/api/data/v9.2/accounts(" + accountID + ")"},
			wantErr: &Error{StatusCode: 404, Code: "0x80040217"},
		},
		{
			name: "stale etag", opts: &DeleteOptions{IfMatch: `W/"1"`}, status: 412,
			body:    `{"error":{"code":"0x80060882","message":"The version of the existing record doesn't match the RowVersion property provided."}}`,
			want:    wantRequest{Method: "DELETE", Path: "/api/data/v9.2/accounts(" + accountID + ")", Headers: map[string]string{"If-Match": `W/"1"`}},
			wantErr: ErrPreconditionFailed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, tt.status, tt.body) })
			c := newTestClient(t, f)
			resp, err := c.DeleteRecord(context.Background(), "accounts", accountID, tt.opts)
			checkRequest(t, tt.want, f.last(t))
			checkErr(t, err, tt.wantErr)
			if resp == nil || resp.StatusCode != tt.status {
				t.Fatalf("response = %+v, want status %d", resp, tt.status)
			}
		})
	}
}

func TestPropertiesAndReferences(t *testing.T) {
	t.Parallel()
	rec := "/api/data/v9.2/accounts(" + accountID + ")"
	tests := []struct {
		name      string
		call      func(c *Client) (any, error)
		status    int
		body      string
		want      func(base string) wantRequest
		wantValue any
		wantErr   error
	}{
		{
			name: "get property",
			call: func(c *Client) (any, error) {
				v, _, err := c.GetProperty(context.Background(), "accounts", accountID, "revenue")
				return v, err
			},
			status: 200, body: `{"@odata.context":"x","value":5000000.0000}`,
			want:      func(string) wantRequest { return wantRequest{Method: "GET", Path: rec + "/revenue"} },
			wantValue: json.Number("5000000.0000"),
		},
		{
			name: "get null property",
			call: func(c *Client) (any, error) {
				v, _, err := c.GetProperty(context.Background(), "accounts", accountID, "description")
				return v, err
			},
			status: 204,
			want:   func(string) wantRequest { return wantRequest{Method: "GET", Path: rec + "/description"} },
		},
		{
			name: "set property",
			call: func(c *Client) (any, error) {
				_, err := c.SetProperty(context.Background(), "accounts", accountID, "telephone1", "555-0111")
				return nil, err
			},
			status: 204,
			want: func(string) wantRequest {
				return wantRequest{Method: "PUT", Path: rec + "/telephone1", Body: `{"value":"555-0111"}`,
					Headers: map[string]string{"Content-Type": "application/json; charset=utf-8"}}
			},
		},
		{
			name: "clear property",
			call: func(c *Client) (any, error) {
				_, err := c.ClearProperty(context.Background(), "accounts", accountID, "telephone1")
				return nil, err
			},
			status: 204,
			want:   func(string) wantRequest { return wantRequest{Method: "DELETE", Path: rec + "/telephone1"} },
		},
		{
			name: "associate",
			call: func(c *Client) (any, error) {
				_, err := c.Associate(context.Background(), "accounts", accountID, "contact_customer_accounts", "contacts", contactID)
				return nil, err
			},
			status: 204,
			want: func(base string) wantRequest {
				return wantRequest{Method: "POST", Path: rec + "/contact_customer_accounts/$ref",
					Body: `{"@odata.id":"` + base + `/api/data/v9.2/contacts(` + contactID + `)"}`}
			},
		},
		{
			name: "set reference",
			call: func(c *Client) (any, error) {
				_, err := c.SetReference(context.Background(), "accounts", accountID, "primarycontactid", "contacts", contactID)
				return nil, err
			},
			status: 204,
			want: func(base string) wantRequest {
				return wantRequest{Method: "PUT", Path: rec + "/primarycontactid/$ref",
					Body: `{"@odata.id":"` + base + `/api/data/v9.2/contacts(` + contactID + `)"}`}
			},
		},
		{
			name: "disassociate from a collection",
			call: func(c *Client) (any, error) {
				_, err := c.Disassociate(context.Background(), "accounts", accountID, "contact_customer_accounts", contactID)
				return nil, err
			},
			status: 204,
			want: func(string) wantRequest {
				return wantRequest{Method: "DELETE", Path: rec + "/contact_customer_accounts(" + contactID + ")/$ref"}
			},
		},
		{
			name: "clear a lookup",
			call: func(c *Client) (any, error) {
				_, err := c.Disassociate(context.Background(), "accounts", accountID, "primarycontactid", "")
				return nil, err
			},
			status: 204,
			want:   func(string) wantRequest { return wantRequest{Method: "DELETE", Path: rec + "/primarycontactid/$ref"} },
		},
		{
			name: "associate with a missing related row",
			call: func(c *Client) (any, error) {
				_, err := c.Associate(context.Background(), "accounts", accountID, "contact_customer_accounts", "contacts", contactID)
				return nil, err
			},
			status: 404, body: `{"error":{"code":"0x80040217","message":"Entity 'contact' With Id = ` + contactID + ` Does Not Exist"}}`,
			want: func(base string) wantRequest {
				return wantRequest{Method: "POST", Path: rec + "/contact_customer_accounts/$ref",
					Body: `{"@odata.id":"` + base + `/api/data/v9.2/contacts(` + contactID + `)"}`}
			},
			wantErr: ErrNotFound,
		},
		{
			name: "bad property name",
			call: func(c *Client) (any, error) {
				_, err := c.SetProperty(context.Background(), "accounts", accountID, "name/$ref", "x")
				return nil, err
			},
			wantErr: ErrInvalidInput,
		},
		{
			name: "bad related key",
			call: func(c *Client) (any, error) {
				_, err := c.Associate(context.Background(), "accounts", accountID, "contact_customer_accounts", "contacts", "contact")
				return nil, err
			},
			wantErr: ErrInvalidInput,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, tt.status, tt.body) })
			c := newTestClient(t, f)
			v, err := tt.call(c)
			if tt.want == nil {
				if !errors.Is(err, tt.wantErr) || f.count() != 0 {
					t.Fatalf("err = %v after %d requests, want %v before any request", err, f.count(), tt.wantErr)
				}
				return
			}
			checkRequest(t, tt.want(f.srv.URL), f.last(t))
			checkErr(t, err, tt.wantErr)
			if diff := cmp.Diff(tt.wantValue, v); diff != "" {
				t.Errorf("value (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWhoAmIAndCurrentUser(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch r.URL.Path {
		case "/api/data/v9.2/WhoAmI":
			reply(w, 200, `{"@odata.context":"x#Microsoft.Dynamics.CRM.WhoAmIResponse","BusinessUnitId":"b1","UserId":"`+userID+`","OrganizationId":"o1"}`)
		case "/api/data/v9.2/systemusers(" + userID + ")":
			reply(w, 200, `{"fullname":"Ada","systemuserid":"`+userID+`"}`)
		default:
			reply(w, 404, `{"error":{"code":"0x8006088a","message":"Resource not found"}}`)
		}
	})
	c := newTestClient(t, f)
	who, resp, err := c.WhoAmI(context.Background())
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("WhoAmI: %v, %+v", err, resp)
	}
	if diff := cmp.Diff(&WhoAmIResult{UserID: userID, BusinessUnitID: "b1", OrganizationID: "o1"}, who); diff != "" {
		t.Errorf("WhoAmI (-want +got):\n%s", diff)
	}
	user, _, err := c.GetCurrentUser(context.Background(), "fullname")
	if err != nil {
		t.Fatalf("GetCurrentUser: %v", err)
	}
	if diff := cmp.Diff(Record{"fullname": "Ada", "systemuserid": userID}, user); diff != "" {
		t.Errorf("user (-want +got):\n%s", diff)
	}
	var got []string
	for _, s := range f.requests() {
		got = append(got, s.Method+" "+s.Path+"?"+s.RawQuery)
	}
	want := []string{
		"GET /api/data/v9.2/WhoAmI?",
		"GET /api/data/v9.2/WhoAmI?",
		"GET /api/data/v9.2/systemusers(" + userID + ")?$select=fullname",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestWhoAmIUnauthorizedEmptyBody(t *testing.T) {
	t.Parallel()
	const challenge = `Bearer authorization_uri=https://login.microsoftonline.com/t/oauth2/authorize, resource_id=https://org.crm.dynamics.com/`
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, http.StatusUnauthorized, "", "WWW-Authenticate", challenge)
	})
	c := newTestClient(t, f)
	_, resp, err := c.WhoAmI(context.Background())
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("err = %v, want ErrUnauthorized", err)
	}
	if resp == nil || resp.StatusCode != 401 {
		t.Fatalf("response = %+v, want 401", resp)
	}
	want := "dataverse: GET " + f.srv.URL + "/api/data/v9.2/WhoAmI: 401: Unauthorized (WWW-Authenticate: " + challenge + ")"
	if err.Error() != want {
		t.Errorf("message:\n got %s\nwant %s", err, want)
	}
}
