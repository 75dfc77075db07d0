package emulator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dynlocal/dynlocal/emulator"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/store"
)

// seedAccounts creates accounts through the API and returns their ids.
func (e *env) seedAccounts(t *testing.T, rows ...map[string]any) []string {
	t.Helper()
	var ids []string
	for _, r := range rows {
		ids = append(ids, idFromEntityID(t, e.do("POST", "accounts", r).expect(t, 204).Header))
	}
	return ids
}

func names(t *testing.T, body map[string]any) []string {
	t.Helper()
	var out []string
	for _, v := range body["value"].([]any) {
		n, _ := v.(map[string]any)["name"].(string)
		out = append(out, n)
	}
	return out
}

func TestQueryFilterOrderTop(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.do("POST", "/_emulator/reset", nil).expect(t, 204)
	e.seedAccounts(t,
		map[string]any{"name": "qa Alpha", "numberofemployees": 10, "revenue": 100, "accountcategorycode": 1},
		map[string]any{"name": "qa beta", "numberofemployees": 20, "revenue": 200, "accountcategorycode": 2},
		map[string]any{"name": "QA Gamma", "numberofemployees": 30, "accountcategorycode": 1},
		map[string]any{"name": "qa O'Brien", "numberofemployees": 40, "revenue": 400},
	)
	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{"startswith is case-insensitive", "$select=name&$filter=startswith(name,'QA ')&$orderby=name", []string{"qa Alpha", "qa beta", "QA Gamma", "qa O'Brien"}},
		{"eq ignores case", "$select=name&$filter=name eq 'QA ALPHA'", []string{"qa Alpha"}},
		{"quote escaping", "$select=name&$filter=name eq 'qa O''Brien'", []string{"qa O'Brien"}},
		{"and, gt, orderby desc", "$select=name&$filter=startswith(name,'qa') and numberofemployees gt 15&$orderby=numberofemployees desc", []string{"qa O'Brien", "QA Gamma", "qa beta"}},
		{"ne null", "$select=name&$filter=startswith(name,'qa') and revenue ne null&$orderby=revenue", []string{"qa Alpha", "qa beta", "qa O'Brien"}},
		{"eq null", "$select=name&$filter=startswith(name,'qa') and revenue eq null", []string{"QA Gamma"}},
		{"top", "$select=name&$filter=startswith(name,'qa')&$orderby=numberofemployees&$top=2", []string{"qa Alpha", "qa beta"}},
		{"not contains", "$select=name&$filter=startswith(name,'qa') and not contains(name,'m')&$orderby=name", []string{"qa Alpha", "qa beta", "qa O'Brien"}},
		{"In function with alias", "$select=name&$filter=Microsoft.Dynamics.CRM.In(PropertyName=@p1,PropertyValues=@p2)&@p1='numberofemployees'&@p2=[\"10\",\"40\"]&$orderby=name", []string{"qa Alpha", "qa O'Brien"}},
		{"choice value", "$select=name&$filter=startswith(name,'qa') and accountcategorycode eq 1&$orderby=name", []string{"qa Alpha", "QA Gamma"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := names(t, e.do("GET", "accounts?"+escapeQuery(tt.query), nil).expect(t, 200).JSON(t))
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// escapeQuery percent-encodes each option value the way a client library would.
func escapeQuery(q string) string {
	var parts []string
	for _, kv := range strings.Split(q, "&") {
		k, v, _ := strings.Cut(kv, "=")
		parts = append(parts, k+"="+url.QueryEscape(v))
	}
	return strings.Join(parts, "&")
}

func TestQueryShapeCountAndErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seedAccounts(t, map[string]any{"name": "shape one", "revenue": 5, "description": nil})
	r := e.do("GET", "accounts?"+escapeQuery("$select=name,description,revenue&$filter=name eq 'shape one'&$count=true"), nil).expect(t, 200)
	body := r.JSON(t)
	if body["@odata.context"] != e.api+"$metadata#accounts(name,description,revenue)" || body["@odata.count"] != json.Number("1") {
		t.Errorf("collection root: %v", body)
	}
	row := body["value"].([]any)[0].(map[string]any)
	for _, k := range []string{"@odata.etag", "name", "description", "revenue", "_transactioncurrencyid_value", "accountid"} {
		if _, ok := row[k]; !ok {
			t.Errorf("row lacks %s: %v", k, row)
		}
	}
	if row["description"] != nil {
		t.Errorf("selected null column = %v, want null", row["description"])
	}
	if !strings.HasPrefix(string(r.Body), `{"@odata.context":"`+e.api+`$metadata#accounts(name,description,revenue)","@odata.count":1,"value":[`) {
		t.Errorf("root key order: %.120s", r.Body)
	}
	n := string(e.do("GET", "accounts/$count?"+escapeQuery("$filter=name eq 'shape one'"), nil).expect(t, 200).Body)
	if n != "1" {
		t.Errorf("/$count with filter = %q", n)
	}
	tests := []struct {
		name, query string
		code, msg   string
	}{
		{"unknown filter property", "$filter=Name eq 'x'", "0x0", "Could not find a property named 'Name' on type 'Microsoft.Dynamics.CRM.account'."},
		{"unterminated literal", "$filter=lastname eq 'O'Bryan'", "0x0", ""},
		{"skip rejected", "$skip=1", "0x0", "The query parameter $skip is not supported"},
		{"search rejected", "$search=x", "0x0", "The query parameter $search is not supported"},
		{"bad top", "$top=-1", "0x0", ""},
		{"bad count", "$count=yes", "0x0", ""},
		{"bad skiptoken", "$skiptoken=nonsense", "0x0", ""},
		{"not around a function", "$filter=not Microsoft.Dynamics.CRM.Today(PropertyName='createdon')", "0x0", "Not operator along with the Custom Named Condition operators is not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.do("GET", "accounts?"+escapeQuery(tt.query), nil).expectError(t, 400, tt.code, tt.msg)
		})
	}
}

func TestQueryPagingAndNextLink(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var want []string
	for i := 0; i < 11; i++ {
		name := fmt.Sprintf("page %02d", i)
		want = append(want, name)
		e.seedAccounts(t, map[string]any{"name": name})
	}
	path := "accounts?" + escapeQuery("$select=name&$filter=startswith(name,'page ')&$orderby=name")
	var got []string
	pages := 0
	for path != "" {
		r := e.do("GET", path, nil, "Prefer", "odata.maxpagesize=4").expect(t, 200)
		if r.Header.Get("Preference-Applied") != "odata.maxpagesize=4" {
			t.Errorf("Preference-Applied = %q", r.Header.Get("Preference-Applied"))
		}
		body := r.JSON(t)
		got = append(got, names(t, body)...)
		path = ""
		if next, ok := body["@odata.nextLink"].(string); ok {
			if !strings.HasPrefix(next, e.api+"accounts?") || !strings.Contains(next, "$skiptoken=") {
				t.Fatalf("nextLink %q", next)
			}
			if !strings.HasSuffix(string(r.Body), `"}`) || !strings.Contains(string(r.Body), `],"@odata.nextLink":`) {
				t.Errorf("@odata.nextLink must be the last property: %.200s", r.Body)
			}
			path = next
		}
		pages++
	}
	if pages != 3 {
		t.Errorf("pages = %d, want 3", pages)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("rows across pages (-want +got):\n%s", d)
	}
}

// TestPagingWhileRowsChange pages over 10,000 rows seven at a time through the API while rows are
// inserted and deleted: every row that survives is returned exactly once.
func TestPagingWhileRowsChange(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	st := e.srv.Store()
	ctx := context.Background()
	acc, _ := st.Schema().Entity("account")
	rng := rand.New(rand.NewSource(7))
	var ids []string
	err := st.Write(ctx, func(tx *store.Tx) error {
		for i := 0; i < 10000; i++ {
			id := fmt.Sprintf("5a000000-0000-4000-8000-%012d", i)
			ids = append(ids, id)
			if _, err := tx.Insert(acc, model.Row{"accountid": id, "name": fmt.Sprintf("bulk %04d", rng.Intn(2000)), "statecode": int64(0)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	deleted := map[string]bool{}
	path := "accounts?" + escapeQuery("$select=name&$filter=startswith(name,'bulk ')&$orderby=name desc")
	for i := 0; path != ""; i++ {
		body := e.do("GET", path, nil, "Prefer", "odata.maxpagesize=7").expect(t, 200).JSON(t)
		for _, v := range body["value"].([]any) {
			seen[v.(map[string]any)["accountid"].(string)]++
		}
		path, _ = body["@odata.nextLink"].(string)
		victim := ids[rng.Intn(len(ids))]
		if !deleted[victim] {
			e.do("DELETE", "accounts("+victim+")", nil).expect(t, 204)
			deleted[victim] = true
		}
		e.do("POST", "accounts", map[string]any{"name": fmt.Sprintf("bulk %04d", rng.Intn(2000))}).expect(t, 204)
		if i > 3000 {
			t.Fatal("paging does not end")
		}
	}
	for _, id := range ids {
		if !deleted[id] && seen[id] != 1 {
			t.Fatalf("row %s seen %d times", id, seen[id])
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("row %s seen %d times", id, n)
		}
	}
}

func TestQueryExpandAndNavigationCollections(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	aid := idFromEntityID(t, e.do("POST", "accounts", map[string]any{
		"name":             "nav parent",
		"primarycontactid": map[string]any{"firstname": "Pat", "lastname": "Primary"},
		"Account_Tasks":    []any{map[string]any{"subject": "call b"}, map[string]any{"subject": "call a"}, map[string]any{"subject": "mail"}},
	}).expect(t, 204).Header)
	got := e.do("GET", "accounts?"+escapeQuery("$select=name&$filter=name eq 'nav parent'&$expand=primarycontactid($select=fullname),Account_Tasks($select=subject;$filter=startswith(subject,'call');$orderby=subject)"), nil).expect(t, 200).JSON(t)
	row := got["value"].([]any)[0].(map[string]any)
	if pc := row["primarycontactid"].(map[string]any); pc["fullname"] != "Pat Primary" {
		t.Errorf("primarycontactid = %v", pc)
	}
	var subjects []string
	for _, v := range row["Account_Tasks"].([]any) {
		subjects = append(subjects, v.(map[string]any)["subject"].(string))
	}
	if d := cmp.Diff([]string{"call a", "call b"}, subjects); d != "" {
		t.Errorf("expanded tasks (-want +got):\n%s", d)
	}
	if _, ok := row["Account_Tasks@odata.nextLink"]; !ok {
		t.Errorf("expanded collection lacks its nextLink: %v", row)
	}
	// The same collection as a resource, with its own options and /$count.
	nav := e.do("GET", "accounts("+aid+")/Account_Tasks?"+escapeQuery("$select=subject&$orderby=subject desc"), nil).expect(t, 200).JSON(t)
	if nav["@odata.context"] != e.api+"$metadata#tasks(subject)" || len(nav["value"].([]any)) != 3 {
		t.Errorf("navigation collection: %v", nav)
	}
	if n := string(e.do("GET", "accounts("+aid+")/Account_Tasks/$count", nil).expect(t, 200).Body); n != "3" {
		t.Errorf("navigation /$count = %q", n)
	}
	// Lambda operators and lookup paths.
	got = e.do("GET", "accounts?"+escapeQuery("$select=name&$filter=Account_Tasks/any(t:t/subject eq 'mail')"), nil).expect(t, 200).JSON(t)
	if d := cmp.Diff([]string{"nav parent"}, names(t, got)); d != "" {
		t.Errorf("any (-want +got):\n%s", d)
	}
	got = e.do("GET", "accounts?"+escapeQuery("$select=name&$filter=primarycontactid/fullname eq 'Pat Primary'"), nil).expect(t, 200).JSON(t)
	if d := cmp.Diff([]string{"nav parent"}, names(t, got)); d != "" {
		t.Errorf("lookup path (-want +got):\n%s", d)
	}
	e.do("GET", "accounts?$expand=Account_Tasks/$ref", nil).expectError(t, 400, "0x80060888", "Expand with $ref is only supported on lookup type navigation property.")
}

func TestQueryApply(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seedAccounts(t,
		map[string]any{"name": "agg a", "revenue": 100.25, "accountcategorycode": 1, "numberofemployees": 1},
		map[string]any{"name": "agg b", "revenue": 200.5, "accountcategorycode": 1, "numberofemployees": 2},
		map[string]any{"name": "agg c", "revenue": 50, "accountcategorycode": 2, "numberofemployees": 3},
	)
	r := e.do("GET", "accounts?"+escapeQuery("$apply=filter(startswith(name,'agg'))/groupby((accountcategorycode),aggregate(revenue with sum as total,$count as count))"), nil).expect(t, 200)
	body := r.JSON(t)
	want := []any{
		map[string]any{"accountcategorycode": json.Number("1"), "total": json.Number("300.750000000"), "count": json.Number("2")},
		map[string]any{"accountcategorycode": json.Number("2"), "total": json.Number("50.000000000"), "count": json.Number("1")},
	}
	if d := cmp.Diff(want, body["value"]); d != "" {
		t.Errorf("$apply (-want +got):\n%s", d)
	}
	if body["@odata.context"] != e.api+"$metadata#accounts" {
		t.Errorf("$apply context = %v", body["@odata.context"])
	}
}

func TestQueryApplyLimit(t *testing.T) {
	t.Parallel()
	clock := &testClock{}
	srv, err := emulator.New(context.Background(), emulator.Config{AggregateLimit: 3, Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	e := &env{t: t, srv: srv, url: hs.URL, api: hs.URL + "/api/data/v9.2/", clock: clock}
	clock.now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	e.token = e.clientCredentialsToken(hs.URL + "/.default")
	e.seedAccounts(t, map[string]any{"name": "lim 1"}, map[string]any{"name": "lim 2"}, map[string]any{"name": "lim 3"}, map[string]any{"name": "lim 4"})
	e.do("GET", "accounts?"+escapeQuery("$apply=filter(startswith(name,'lim'))/aggregate($count as n)"), nil).
		expectError(t, 400, "0x8004E023", "AggregateQueryRecordLimit exceeded. Cannot perform this operation.")
	got := e.do("GET", "accounts?"+escapeQuery("$apply=filter(name eq 'lim 1' or name eq 'lim 2')/aggregate($count as n)"), nil).expect(t, 200).JSON(t)
	if d := cmp.Diff([]any{map[string]any{"n": json.Number("2")}}, got["value"]); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestQueryApplyOrderAndContext(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seedAccounts(t, map[string]any{"name": "ord 1", "accountcategorycode": 1}, map[string]any{"name": "ord 2", "accountcategorycode": 2})
	e.do("GET", "accounts?"+escapeQuery("$apply=groupby((accountcategorycode),aggregate($count as count))&$orderby=count"), nil).
		expectError(t, 400, "0x0", "The query node SingleValueOpenPropertyAccess is not supported.")
	got := e.do("GET", "accounts?"+escapeQuery("$apply=filter(startswith(name,'ord'))/groupby((accountcategorycode))&$orderby=accountcategorycode desc"), nil).expect(t, 200).JSON(t)
	if d := cmp.Diff([]any{map[string]any{"accountcategorycode": json.Number("2")}, map[string]any{"accountcategorycode": json.Number("1")}}, got["value"]); d != "" {
		t.Errorf("order by a grouped column (-want +got):\n%s", d)
	}
	ctx := e.do("GET", "tasks?"+escapeQuery("$select=subject&$expand=regardingobjectid_account_task($select=name;$expand=primarycontactid($select=fullname))"), nil).expect(t, 200).JSON(t)["@odata.context"]
	if ctx != e.api+"$metadata#tasks(subject,regardingobjectid_account_task(name,primarycontactid(fullname)))" {
		t.Errorf("nested expand context = %v", ctx)
	}
}

// TestNestedExpandPagesCollections checks Dataverse's rule that with a nested $expand and
// odata.maxpagesize every expanded collection is paged, its nextLink carrying a $skiptoken that
// continues where the expansion stopped.
func TestNestedExpandPagesCollections(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	aid := idFromEntityID(t, e.do("POST", "accounts", map[string]any{
		"name":          "nested pager",
		"Account_Tasks": []any{map[string]any{"subject": "t1"}, map[string]any{"subject": "t2"}, map[string]any{"subject": "t3"}},
	}).expect(t, 204).Header)
	q := "$select=name&$filter=accountid eq " + aid + "&$expand=Account_Tasks($select=subject;$expand=regardingobjectid_account_task($select=name))"
	got := e.do("GET", "accounts?"+escapeQuery(q), nil, "Prefer", "odata.maxpagesize=2").expect(t, 200).JSON(t)
	row := got["value"].([]any)[0].(map[string]any)
	tasks := row["Account_Tasks"].([]any)
	link, _ := row["Account_Tasks@odata.nextLink"].(string)
	if len(tasks) != 2 || !strings.Contains(link, "$skiptoken=") {
		t.Fatalf("first page of the expansion: %d tasks, nextLink %q", len(tasks), link)
	}
	rest := e.do("GET", link, nil, "Prefer", "odata.maxpagesize=2").expect(t, 200).JSON(t)
	if n := len(rest["value"].([]any)); n != 1 {
		t.Errorf("the expansion's next page has %d tasks, want 1: %v", n, rest)
	}
	if _, more := rest["@odata.nextLink"]; more {
		t.Errorf("the last page of the expansion has a nextLink")
	}
}

// TestInvalidNestedOptionFailsWhateverTheData checks that options nested in $expand are parsed
// before any row is read: the same invalid URL answers 400 whether or not a row matches.
func TestInvalidNestedOptionFailsWhateverTheData(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.do("POST", "/_emulator/reset", nil).expect(t, 204)
	acct := e.seedAccounts(t, map[string]any{"name": "nested-expand parent"})[0]
	e.do("POST", "contacts", map[string]any{"lastname": "nested-expand child", "parentcustomerid_account@odata.bind": "/accounts(" + acct + ")"}).expect(t, 204)
	tests := []struct {
		name, path string
	}{
		{"collection filter", "accounts?$filter=name eq '%s'&$expand=contact_customer_accounts($filter=garbage eq eq)"},
		{"collection orderby", "accounts?$filter=name eq '%s'&$expand=contact_customer_accounts($orderby=nosuchcolumn)"},
		{"nested twice", "accounts?$filter=name eq '%s'&$expand=contact_customer_accounts($expand=parentcustomerid_account($filter=nosuch eq 1))"},
		{"single-valued orderby", "contacts?$filter=lastname eq '%s'&$expand=parentcustomerid_account($orderby=name)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, name := range []string{"none", "nested-expand parent", "nested-expand child"} {
				r := e.do("GET", fmt.Sprintf(tc.path, url.QueryEscape(strings.ReplaceAll(name, "'", "''"))), nil)
				if r.Status != 400 {
					t.Errorf("%s with %q: status %d, want 400: %s", tc.path, name, r.Status, r.Body)
				}
			}
		})
	}
	// The same holds for a single row.
	e.do("GET", "accounts("+acct+")?$expand=contact_customer_accounts($filter=garbage eq eq)", nil).expect(t, 400)
}
