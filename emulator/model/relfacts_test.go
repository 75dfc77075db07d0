package model

import (
	"encoding/json"
	"reflect"
	"testing"
)

// A relationship's packed facts rebuild it whole; facts an older build wrote as JSON still do; a
// pack cut short or followed by more bytes is an error, never a panic.
func TestRelationshipFacts(t *testing.T) {
	docs := []string{
		`{"SchemaName":"contact_customer_accounts","MetadataId":"6f1a3d3e-5e0b-4a8e-9a36-0b0fd8a0c001","RelationshipType":"OneToManyRelationship",
		 "ReferencedEntity":"account","ReferencedAttribute":"accountid","ReferencingEntity":"contact","ReferencingAttribute":"parentcustomerid",
		 "ReferencingEntityNavigationPropertyName":"parentcustomerid_account","ReferencedEntityNavigationPropertyName":"contact_customer_accounts",
		 "CascadeConfiguration":{"Delete":"Cascade"}}`,
		`{"SchemaName":"accountleads_association","RelationshipType":"ManyToManyRelationship","Entity1LogicalName":"account","Entity2LogicalName":"lead",
		 "IntersectEntityName":"accountleads","Entity1IntersectAttribute":"accountid","Entity2IntersectAttribute":"leadid",
		 "Entity1NavigationPropertyName":"accountleads_association","Entity2NavigationPropertyName":"accountleads_association"}`,
	}
	for _, d := range docs {
		want, err := ParseRelationship(json.RawMessage(d))
		if err != nil {
			t.Fatal(err)
		}
		facts, err := want.Facts()
		if err != nil {
			t.Fatal(err)
		}
		got, err := RelationshipFromFacts(facts, want.Raw)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("packed facts of %s: %+v, %v; want %+v", want.SchemaName, got, err, want)
		}
		old, _ := json.Marshal(want)
		if got, err := RelationshipFromFacts(old, want.Raw); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("JSON facts of %s: %+v, %v", want.SchemaName, got, err)
		}
		for n := 1; n < len(facts); n++ {
			if _, err := RelationshipFromFacts(facts[:n], want.Raw); err == nil {
				t.Errorf("%s: facts cut to %d bytes were accepted", want.SchemaName, n)
			}
		}
		if _, err := RelationshipFromFacts(append(facts, 0), want.Raw); err == nil {
			t.Errorf("%s: facts with a trailing byte were accepted", want.SchemaName)
		}
	}
}
