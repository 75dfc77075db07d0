package contracts

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dynlocal/dynlocal/client"
)

func TestFetchPageBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		page *client.FetchPage
		want map[string]any
	}{
		{
			name: "last page",
			page: &client.FetchPage{Page: 3, TotalRecordCount: -1, Records: []client.Record{{"name": "a"}}},
			want: map[string]any{"page": json.Number("3"), "moreRecords": false, "value": []any{map[string]any{"name": "a"}}},
		},
		{
			name: "page with a cookie and a total count",
			page: &client.FetchPage{Page: 1, MoreRecords: true, PagingCookie: `<cookie page="1"/>`, TotalRecordCount: 7, Records: []client.Record{}},
			want: map[string]any{
				"page": json.Number("1"), "moreRecords": true, "pagingCookie": `<cookie page="1"/>`,
				"totalRecordCount": json.Number("7"), "value": []any{},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, fetchPageBody(tt.page)); d != "" {
				t.Errorf("fetchPageBody (-want +got):\n%s", d)
			}
		})
	}
}

func TestObserveBatchRefusedInput(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("client: batch has no actions: %w", client.ErrInvalidInput)
	obs := observeBatch(nil, nil, err)
	if obs.err != nil || obs.status != 0 || !obs.hasBody {
		t.Fatalf("observation = %+v", obs)
	}
	want := map[string]any{"error": map[string]any{"message": err.Error()}}
	if d := cmp.Diff(want, obs.body); d != "" {
		t.Errorf("body (-want +got):\n%s", d)
	}
	if obs := observeBatch(nil, nil, context.DeadlineExceeded); obs.err == nil {
		t.Errorf("an error without an answer that is not invalid input should fail the step")
	}
}

func TestBatchCreatedRows(t *testing.T) {
	t.Parallel()
	in := &batchInput{Actions: []batchActionInput{
		{Collection: "accounts", Action: "create"},
		{Collection: "$1/contact_customer_accounts", Action: "create"},
		{Collection: "accounts", Action: "update", Key: "$1"},
		{Collection: "contacts", Action: "create"},
	}}
	obs := observation{status: 400, body: map[string]any{"results": []any{
		map[string]any{"status": json.Number("204"), "id": "AAAAAAAA-0000-0000-0000-000000000001"},
		map[string]any{"status": json.Number("204"), "id": "00000000-0000-0000-0000-000000000002"},
		map[string]any{"status": json.Number("204"), "id": "00000000-0000-0000-0000-000000000001"},
		map[string]any{"status": json.Number("400"), "error": map[string]any{}},
	}}}
	want := []tracked{{kind: trackedRow, set: "accounts", key: "aaaaaaaa-0000-0000-0000-000000000001"}}
	if d := cmp.Diff(want, in.createdRows(obs), cmp.AllowUnexported(tracked{})); d != "" {
		t.Errorf("createdRows (-want +got):\n%s", d)
	}
}

// TestBatchRowsAreCleanedUp runs batches that create rows (a change set, and independent requests
// with continue-on-error and a failure among them) and checks that the case deleted them.
func TestBatchRowsAreCleanedUp(t *testing.T) {
	t.Parallel()
	target := startEmulator(t, nil)
	prefix := fmt.Sprintf("cleanup%d", time.Now().UnixNano())
	s := mustParse(t, strings.ReplaceAll(`{"name":"b","cases":[{"name":"c","steps":[
		{"action":"Batch","input":{"actions":[
			{"collection":"accounts","action":"create","data":{"name":"PFX cs"}},
			{"collection":"contacts","action":"create","data":{"lastname":"PFX","parentcustomerid_account@odata.bind":"$1"}}]},
			"expect":{"status":200}},
		{"action":"Batch","input":{"independent":true,"continueOnError":true,"actions":[
			{"collection":"accounts","action":"create","data":{"name":"PFX one"}},
			{"collection":"accounts","action":"update","key":"00000000-0000-0000-0000-00000000abcd","data":{"name":"x"}},
			{"collection":"accounts","action":"create","data":{"name":"PFX two"}}]},
			"expect":{"status":200}},
		{"action":"Count","input":{"entitySet":"accounts","filter":"startswith(name,'PFX')"},"expect":{"status":200,"body":{"value":3}}},
		{"action":"Count","input":{"entitySet":"contacts","filter":"lastname eq 'PFX'"},"expect":{"status":200,"body":{"value":1}}}]}]}`, "PFX", prefix))
	after := mustParse(t, strings.ReplaceAll(`{"name":"after","cases":[{"name":"c","steps":[
		{"action":"QueryRecords","input":{"entitySet":"accounts","select":["name"],"filter":"startswith(name,'PFX')"},"expect":{"status":200,"body":{"value":[]}}},
		{"action":"Count","input":{"entitySet":"contacts","filter":"lastname eq 'PFX'"},"expect":{"status":200,"body":{"value":0}}}]}]}`, "PFX", prefix))
	for _, suite := range []*Suite{s, after} {
		rep, err := Run(context.Background(), suite, target)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Failed() > 0 {
			var buf bytes.Buffer
			rep.WriteText(&buf)
			t.Fatalf("%s: %s", suite.Name, buf.String())
		}
	}
}
