package contracts

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dynlocal/dynlocal/client"
)

func TestPageBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		page *client.Page
		want map[string]any
	}{
		{
			name: "last page without a count",
			page: &client.Page{Count: -1, Context: "ctx", Records: []client.Record{{"name": "a"}}, Annotations: map[string]any{}},
			want: map[string]any{"@odata.context": "ctx", "value": []any{map[string]any{"name": "a"}}},
		},
		{
			name: "page with a count, a next link and annotations",
			page: &client.Page{Count: 12, Context: "ctx", NextLink: "next", Records: []client.Record{},
				Annotations: map[string]any{"@Microsoft.Dynamics.CRM.totalrecordcount": json.Number("12")}},
			want: map[string]any{
				"@odata.context": "ctx", "@odata.count": json.Number("12"), "@odata.nextLink": "next", "value": []any{},
				"@Microsoft.Dynamics.CRM.totalrecordcount": json.Number("12"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, pageBody(tt.page)); d != "" {
				t.Errorf("pageBody (-want +got):\n%s", d)
			}
		})
	}
}

// TestQueryWrongAnswerIsReported makes the emulator answer a query wrongly and checks that the
// QueryRecords and Count steps fail where they should.
func TestQueryWrongAnswerIsReported(t *testing.T) {
	t.Parallel()
	dropNextLink := func(r *http.Request, status int, body []byte) (int, []byte) {
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			t.Errorf("middleware: %v: %s", err, body)
			return status, body
		}
		delete(m, "@odata.nextLink")
		out, _ := json.Marshal(m)
		return status, out
	}
	tests := []struct {
		name  string
		suite *Suite
		match func(r *http.Request) bool
		edit  func(r *http.Request, status int, body []byte) (int, []byte)
		want  Failure
	}{
		{
			name:  "next page missing",
			suite: suiteWith(t, "paging", "maxpagesize pages follow nextLink to the end"),
			match: func(r *http.Request) bool { return strings.Contains(r.URL.RawQuery, "skiptoken") },
			edit:  dropNextLink,
			want:  Failure{Step: 2, Action: "QueryRecords", Difference: Difference{Path: `body["@odata.nextLink"]`, Want: "{{api}}accounts?{{capture page3}}", Got: "(absent)"}},
		},
		{
			name:  "wrong count",
			suite: suiteWith(t, "queries", "Count through /$count"),
			match: func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/$count") },
			edit:  func(_ *http.Request, status int, _ []byte) (int, []byte) { return status, []byte("5") },
			want:  Failure{Step: 1, Action: "Count", Difference: Difference{Path: "body.value", Want: "4", Got: "5"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			target := startEmulator(t, rewrite(tt.match, tt.edit))
			rep, err := Run(context.Background(), tt.suite, target)
			if err != nil {
				t.Fatal(err)
			}
			var failures []Failure
			for _, c := range rep.Cases {
				failures = append(failures, c.Failures...)
			}
			if len(failures) != 1 || failures[0] != tt.want {
				t.Fatalf("failures = %+v, want [%+v]", failures, tt.want)
			}
		})
	}
}

// TestQueryRecordsInputs checks that QueryRecords sends what its input says: parameter aliases, the
// page size as a Prefer header, and a next link as it is.
func TestQueryRecordsInputs(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		seen []*http.Request
	)
	record := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/accounts") {
				mu.Lock()
				seen = append(seen, r.Clone(context.Background()))
				mu.Unlock()
			}
			next.ServeHTTP(w, r)
		})
	}
	target := startEmulator(t, record)
	s := mustParse(t, `{"name":"inputs","cases":[{"name":"c","steps":[
		{"action":"QueryRecords","input":{"entitySet":"accounts","select":["name"],"filter":"name eq @p1",
			"params":[{"key":"@p1","value":"'nobody here'"}],"count":true,"top":3},
			"expect":{"status":200,"body":{"@odata.count":0,"value":[]}}},
		{"action":"QueryRecords","input":{"entitySet":"accounts","select":["name"],"orderBy":["name"],"pageSize":1},
			"expect":{"status":200,"headers":{"Preference-Applied":"odata.maxpagesize=1"},"body":{"@odata.nextLink":"{{api}}accounts?{{capture next}}"}}},
		{"action":"QueryRecords","input":{"entitySet":"ignored","nextLink":"{{api}}accounts?{{next}}","pageSize":1},
			"expect":{"status":200,"headers":{"Preference-Applied":"odata.maxpagesize=1"}}},
		{"action":"Count","input":{"entitySet":"accounts","filter":"name eq 'nobody here'"},"expect":{"status":200,"body":{"value":0}}}]}]}`)
	rep, err := Run(context.Background(), s, target)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed() > 0 {
		var buf bytes.Buffer
		rep.WriteText(&buf)
		t.Fatalf("%s", buf.String())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 4 {
		t.Fatalf("saw %d requests, want 4", len(seen))
	}
	q := seen[0].URL.Query()
	if q.Get("@p1") != "'nobody here'" || q.Get("$count") != "true" || q.Get("$top") != "3" || q.Get("$filter") != "name eq @p1" {
		t.Errorf("first request query = %v", q)
	}
	if p := seen[1].Header.Get("Prefer"); p != "odata.maxpagesize=1" {
		t.Errorf("second request Prefer = %q", p)
	}
	if !strings.HasPrefix(seen[2].URL.Path, "/api/data/v9.2/accounts") || seen[2].URL.Query().Get("$skiptoken") == "" {
		t.Errorf("third request %s does not follow the next link", seen[2].URL)
	}
	if !strings.HasSuffix(seen[3].URL.Path, "/accounts/$count") || seen[3].URL.Query().Get("$filter") != "name eq 'nobody here'" {
		t.Errorf("Count request = %s", seen[3].URL)
	}
}
