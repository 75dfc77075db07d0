package contracts

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// seenRequest is what a test keeps of a request the emulator received.
type seenRequest struct {
	method, path, query string
	header              http.Header
	body                []byte
}

// recordRequests is middleware that keeps every request whose path contains one of the fragments.
func recordRequests(mu *sync.Mutex, seen *[]seenRequest, fragments ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for _, f := range fragments {
				if strings.Contains(r.URL.Path, f) {
					body, _ := io.ReadAll(r.Body)
					r.Body = io.NopCloser(bytes.NewReader(body))
					mu.Lock()
					*seen = append(*seen, seenRequest{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body})
					mu.Unlock()
					break
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

func runPassing(t *testing.T, s *Suite, target Target) *Report {
	t.Helper()
	rep, err := Run(context.Background(), s, target)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed() > 0 {
		var buf bytes.Buffer
		rep.WriteText(&buf)
		t.Fatalf("%s", buf.String())
	}
	return rep
}

// TestMetadataActionInputs checks that the metadata actions send what their inputs say: a spec
// rendered by the client, a JSON definition as it is, the cast of a type, MSCRM.MergeLabels and
// MSCRM.SolutionUniqueName; and that a step sees what the client returned.
func TestMetadataActionInputs(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		seen []seenRequest
	)
	target := startEmulator(t, recordRequests(&mu, &seen, "/EntityDefinitions"))
	s := mustParse(t, `{"name":"inputs","cases":[{"name":"c","steps":[
		{"action":"CreateAttribute","input":{"entity":"account","solutionUniqueName":"dynlocaltests",
			"spec":{"type":"Money","schemaName":"new_in{{newkey k}}","displayName":"Balance","precisionSource":2,"minValue":0}},
			"expect":{"status":204,"body":{"id":"{{capture col}}"}}},
		{"action":"GetAttribute","input":{"entity":"account","attribute":"new_in{{k}}","type":"Money","select":["LogicalName","PrecisionSource"]},
			"expect":{"status":200,"body":{"MetadataId":"{{col}}","LogicalName":"new_in{{k}}","PrecisionSource":2}}},
		{"action":"UpdateAttribute","input":{"entity":"account","mergeLabels":true,
			"definition":{"@odata.type":"Microsoft.Dynamics.CRM.MoneyAttributeMetadata","MetadataId":"{{col}}","SchemaName":"new_in{{k}}","DisplayName":{"LocalizedLabels":[{"Label":"Solde","LanguageCode":1036}]}}},
			"expect":{"status":204}},
		{"action":"QueryAttributes","input":{"entity":"account","type":"Money","select":["LogicalName"],"filter":"LogicalName eq 'new_in{{k}}'"},
			"expect":{"status":200,"body":{"value":[{"LogicalName":"new_in{{k}}","MetadataId":"{{col}}"}]}}},
		{"action":"ListAttributes","input":{"entity":"account","type":"Money"},
			"expect":{"status":200,"body":{"customCount":1,"byType":{"Money":"{{number}}"},"attributes":{"$contains":[{"LogicalName":"new_in{{k}}"}]}}}},
		{"action":"GetEntityMetadata","input":{"entity":"accounts","select":["LogicalName"]},
			"expect":{"status":200,"body":{"LogicalName":"account"}}},
		{"action":"GetEntitiesMetadata","input":{"names":["Account"],"defaultSelected":["account"]},
			"expect":{"status":200,"body":{"value":[{"object":{"key":"{{guid}}","label":"Account"},"defaultSelected":true,"fields":{"$contains":[{"key":"new_in{{k}}","label":"Balance"}]}}]}}},
		{"action":"ListEntityTypes","expect":{"status":200,"body":{"entities":{"$contains":[{"name":"accounts","kind":"EntitySet","url":"accounts"}]},"hasMore":false,"nextLink":""}}},
		{"action":"DeleteAttribute","input":{"entity":"account","attribute":"{{col}}"},"expect":{"status":204}}]}]}`)
	runPassing(t, s, target)

	mu.Lock()
	defer mu.Unlock()
	var create, update *seenRequest
	for i := range seen {
		switch seen[i].method {
		case http.MethodPost:
			create = &seen[i]
		case http.MethodPut:
			update = &seen[i]
		}
	}
	if create == nil || update == nil {
		t.Fatalf("no create or update among %d requests", len(seen))
	}
	var def map[string]any
	if err := json.Unmarshal(create.body, &def); err != nil {
		t.Fatal(err)
	}
	if def["@odata.type"] != "Microsoft.Dynamics.CRM.MoneyAttributeMetadata" || def["AttributeType"] != "Money" || def["PrecisionSource"] != 2.0 || def["MinValue"] != 0.0 {
		t.Errorf("the spec was not rendered as a Money definition: %s", create.body)
	}
	if got := create.header.Get("MSCRM.SolutionUniqueName"); got != "dynlocaltests" {
		t.Errorf("MSCRM.SolutionUniqueName = %q", got)
	}
	if !strings.HasSuffix(update.path, "/Microsoft.Dynamics.CRM.MoneyAttributeMetadata") || update.header.Get("MSCRM.MergeLabels") != "true" || update.header.Get("If-Match") != "*" {
		t.Errorf("update: PUT %s with MergeLabels %q, If-Match %q", update.path, update.header.Get("MSCRM.MergeLabels"), update.header.Get("If-Match"))
	}
	if !bytes.Contains(update.body, []byte(`"Solde"`)) {
		t.Errorf("the JSON definition was not sent as it is: %s", update.body)
	}
}

func TestMetadataInputChecks(t *testing.T) {
	t.Parallel()
	step := func(s string) string { return `{"name":"s","cases":[{"name":"c","steps":[` + s + `]}]}` }
	tests := []struct {
		name, text, err string
	}{
		{"definition and spec", step(`{"action":"CreateAttribute","input":{"entity":"account","definition":{},"spec":{"type":"String","schemaName":"new_x"}},"expect":{}}`), "exactly one of definition and spec"},
		{"neither definition nor spec", step(`{"action":"UpdateAttribute","input":{"entity":"account","attribute":"name"},"expect":{}}`), "exactly one of definition and spec"},
		{"table without a definition", step(`{"action":"CreateEntity","input":{},"expect":{}}`), "exactly one of definition and spec"},
		{"unknown spec field", step(`{"action":"CreateAttribute","input":{"entity":"account","spec":{"type":"String","schemaName":"new_x","length":4}},"expect":{}}`), `unknown field "length"`},
		{"row and column cleanup", step(`{"action":"WhoAmI","expect":{},"cleanup":[{"entitySet":"accounts","key":"k","table":"account"}]}`), "not both"},
		{"column without table", step(`{"action":"WhoAmI","expect":{},"cleanup":[{"column":"new_x"}]}`), "needs its table"},
		{"matcher in a cleanup column", step(`{"action":"WhoAmI","expect":{},"cleanup":[{"table":"account","column":"{{guid}}"}]}`), "cannot appear in an input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tt.text))
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("err = %v, want it to contain %q", err, tt.err)
			}
		})
	}
	// A spec whose fields come from templates is checked when it runs.
	if _, err := Parse([]byte(step(`{"action":"CreateAttribute","input":{"entity":"account","spec":{"type":"String","schemaName":"new_{{newkey k}}","maxLength":"{{n}}"}},"expect":{}}`))); err != nil {
		t.Errorf("templated spec: %v", err)
	}
}

// TestMetadataCleanupAfterFailure checks that a case deletes the columns and tables it created, with
// the rows, newest first, when a later step fails: columns made by CreateAttribute and by a raw POST,
// a table made by CreateEntity, and a column named in a cleanup entry.
func TestMetadataCleanupAfterFailure(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		seen []seenRequest
	)
	target := startEmulator(t, recordRequests(&mu, &seen, "/api/data/"))
	s := mustParse(t, `{"name":"failing","cases":[{"name":"c","steps":[
		{"action":"CreateEntity","input":{"spec":{"schemaName":"new_cl{{newkey t}}","displayName":"T","displayCollectionName":"Ts","primaryName":{"schemaName":"new_cl{{newkey t}}name"}}},
			"expect":{"status":204,"body":{"id":"{{capture table}}"}}},
		{"action":"GetEntityMetadata","input":{"entity":"{{table}}","select":["EntitySetName"]},"expect":{"body":{"EntitySetName":"{{capture set}}"}}},
		{"action":"CreateAttribute","input":{"entity":"new_cl{{t}}","spec":{"type":"Integer","schemaName":"new_cl{{t}}n"}},
			"expect":{"status":204,"body":{"id":"{{capture tcol}}"}}},
		{"action":"CreateRecord","input":{"entitySet":"{{set}}","data":{"new_cl{{t}}name":"row"}},"expect":{"status":204}},
		{"action":"CreateAttribute","input":{"entity":"account","spec":{"type":"String","schemaName":"new_cla{{newkey a}}"}},
			"expect":{"status":204,"body":{"id":"{{capture acol}}"}}},
		{"action":"Do","input":{"method":"POST","path":"/api/data/v9.2/EntityDefinitions(LogicalName='account')/Attributes",
			"json":{"@odata.type":"Microsoft.Dynamics.CRM.StringAttributeMetadata","SchemaName":"new_clb{{a}}"}},
			"expect":{"status":204,"headers":{"OData-EntityId":"{{api}}EntityDefinitions({{any}})/Attributes({{capture bcol}})"}}},
		{"action":"Do","input":{"method":"PUT","path":"/api/data/v9.2/EntityDefinitions(LogicalName='account')/Attributes(LogicalName='new_clc{{a}}')",
			"json":{"@odata.type":"Microsoft.Dynamics.CRM.StringAttributeMetadata","SchemaName":"new_clc{{a}}"}},
			"expect":{},
			"cleanup":[{"table":"account","column":"new_clc{{a}}"}],
			"note":"Whatever PUT does with a missing column, the cleanup entry deletes one if it exists."},
		{"action":"WhoAmI","expect":{"status":418}},
		{"action":"WhoAmI","expect":{"status":200}}]}]}`)
	rep, err := Run(context.Background(), s, target)
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Cases[0]
	if len(c.Failures) != 1 || c.Failures[0].Step != 8 {
		t.Fatalf("failures = %+v, want one at step 8", c.Failures)
	}
	mu.Lock()
	var deletes []string
	for _, r := range seen {
		if r.method == http.MethodDelete {
			deletes = append(deletes, strings.TrimPrefix(r.path, "/api/data/v9.2/"))
		}
	}
	mu.Unlock()
	// Newest first: the cleanup entry's column, the raw POST's column, the account column, the row,
	// the table's column, the table.
	want := []string{
		"EntityDefinitions(LogicalName='account')/Attributes(LogicalName='new_clc",
		"EntityDefinitions(", // the raw POST's column, by the ids of its OData-EntityId
		"EntityDefinitions(LogicalName='account')/Attributes(",
		"new_cl", // the row of the new table
		"EntityDefinitions(LogicalName='new_cl",
		"EntityDefinitions(",
	}
	if len(deletes) != len(want) {
		t.Fatalf("cleanup sent %d deletes, want %d:\n%s", len(deletes), len(want), strings.Join(deletes, "\n"))
	}
	for i, w := range want {
		if !strings.HasPrefix(deletes[i], w) {
			t.Errorf("delete %d = %s, want it to start with %s", i+1, deletes[i], w)
		}
	}
	if !strings.Contains(deletes[1], ")/Attributes(") || strings.Contains(deletes[5], "/Attributes") {
		t.Errorf("the raw POST's column or the table was deleted the wrong way: %s, %s", deletes[1], deletes[5])
	}

	// Nothing is left: the table and every new column are gone.
	check := mustParse(t, `{"name":"after","cases":[{"name":"c","steps":[
		{"action":"QueryAttributes","input":{"entity":"account","select":["LogicalName"],"filter":"startswith(LogicalName,'new_cl')"},"expect":{"status":200,"body":{"value":[]}}},
		{"action":"Do","input":{"method":"GET","path":"/api/data/v9.2/EntityDefinitions","query":[{"key":"$select","value":"LogicalName"},{"key":"$filter","value":"startswith(LogicalName,'new_cl')"}]},
			"expect":{"status":200,"body":{"value":[]}}}]}]}`)
	runPassing(t, check, target)
}

// TestMetadataTracking covers what the tracker takes off its list when a step deletes a definition,
// and how it reads metadata URLs.
func TestMetadataTracking(t *testing.T) {
	t.Parallel()
	const col = "8f2a5b1c-0d3e-4f60-9a7b-1c2d3e4f5a6b"
	const tbl = "bc5cedb9-6081-5170-9165-301e66f0c591"
	urls := []struct {
		url, table, column string
		ok                 bool
	}{
		{"http://h/api/data/v9.2/EntityDefinitions(" + tbl + ")/Attributes(" + strings.ToUpper(col) + ")", tbl, col, true},
		{"/api/data/v9.2/EntityDefinitions(LogicalName='account')/Attributes(LogicalName='new_x')", "account", "new_x", true},
		{"/api/data/v9.2/EntityDefinitions(LogicalName='account')/Attributes({" + col + "})/Microsoft.Dynamics.CRM.StringAttributeMetadata", "account", col, true},
		{"http://h/api/data/v9.2/EntityDefinitions(" + tbl + ")", tbl, "", true},
		{"/api/data/v9.2/EntityDefinitions(LogicalName='account')/Keys(" + col + ")", "", "", false},
		{"http://h/api/data/v9.2/accounts(" + col + ")", "", "", false},
	}
	for _, u := range urls {
		table, column, ok := metadataURLParts(u.url)
		if table != u.table || column != u.column || ok != u.ok {
			t.Errorf("metadataURLParts(%s) = %q, %q, %v; want %q, %q, %v", u.url, table, column, ok, u.table, u.column, u.ok)
		}
	}

	tr := &tracker{}
	created := observation{status: 204, header: http.Header{}, body: map[string]any{"id": col}}
	tr.observe(&createAttributeInput{Entity: "account", definitionInput: definitionInput[attributeSpecInput]{Spec: &attributeSpecInput{SchemaName: "new_One"}}}, created)
	tr.observe(&createEntityInput{definitionInput: definitionInput[entitySpecInput]{Spec: &entitySpecInput{SchemaName: "new_Table"}}},
		observation{status: 204, header: http.Header{"Odata-Entityid": {"http://h/api/data/v9.2/EntityDefinitions(" + tbl + ")"}}})
	tr.observe(&createAttributeInput{Entity: "account"}, observation{status: 400, header: http.Header{}})
	if got := len(tr.items); got != 2 {
		t.Fatalf("tracked %d items, want the column and the table", got)
	}
	tr.observe(&deleteAttributeInput{Entity: "contact", Attribute: "new_one"}, observation{status: 204})
	if len(tr.items) != 2 {
		t.Error("a column of another table with the same name was forgotten")
	}
	tr.observe(&deleteAttributeInput{Entity: "LogicalName='account'", Attribute: "LogicalName='new_one'"}, observation{status: 204})
	tr.observe(&doInput{Method: "DELETE", Path: "/api/data/v9.2/EntityDefinitions(LogicalName='new_table')"}, observation{status: 204})
	if len(tr.items) != 0 {
		t.Errorf("still tracked after the deletes: %+v", tr.items)
	}
	tr.observe(&doInput{Method: "POST", Path: "/api/data/v9.2/EntityDefinitions(LogicalName='account')/Attributes"},
		observation{status: 204, header: http.Header{"Odata-Entityid": {"http://h/api/data/v9.2/EntityDefinitions(" + tbl + ")/Attributes(" + col + ")"}}})
	want := []tracked{{kind: trackedColumn, set: tbl, key: col}}
	if d := cmp.Diff(want, tr.items, cmp.AllowUnexported(tracked{})); d != "" {
		t.Errorf("a raw POST's column (-want +got):\n%s", d)
	}
	tr.observe(&deleteAttributeInput{Entity: "account", Attribute: "{" + strings.ToUpper(col) + "}"}, observation{status: 204})
	if len(tr.items) != 0 {
		t.Errorf("a column deleted by MetadataId through another table name is still tracked: %+v", tr.items)
	}
}
