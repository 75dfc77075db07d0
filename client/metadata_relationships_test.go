package client

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestListEntityRelationships(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, 200, `{"value":[{"SchemaName":"account_primary_contact","RelationshipType":"OneToManyRelationship"},`+
			`{"@odata.type":"#Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata","SchemaName":"typed"}]}`)
	})
	got, _, err := newTestClient(t, f).ListEntityRelationships(context.Background(), "LogicalName='contact'", OneToManyRelationships)
	if err != nil {
		t.Fatal(err)
	}
	if p := f.last(t).Path; p != "/api/data/v9.2/EntityDefinitions(LogicalName='contact')/OneToManyRelationships" {
		t.Errorf("path = %s", p)
	}
	want := []Record{
		{"@odata.type": "#Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata", "SchemaName": "account_primary_contact", "RelationshipType": "OneToManyRelationship"},
		{"@odata.type": "#Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata", "SchemaName": "typed"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("relationships (-want +got):\n%s", diff)
	}
	if _, _, err := newTestClient(t, f).ListEntityRelationships(context.Background(), "account", "Sideways"); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("unknown kind: err = %v, want ErrInvalidInput", err)
	}
}

func TestListGlobalOptionSets(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, 200, `{"value":[{"@odata.type":"#Microsoft.Dynamics.CRM.OptionSetMetadata","Name":"cr8a1_size","Options":[]}]}`)
	})
	got, _, err := newTestClient(t, f).ListGlobalOptionSets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if p := f.last(t).Path; p != "/api/data/v9.2/GlobalOptionSetDefinitions" {
		t.Errorf("path = %s", p)
	}
	if len(got) != 1 || got[0]["Name"] != "cr8a1_size" {
		t.Errorf("option sets = %v", got)
	}
}
