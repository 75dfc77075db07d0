package odata

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/model/modeltest"
)

// The query parsers' tests share a small schema built from EntityMetadata documents: account,
// contact, systemuser and task, with the relationships account_primary_contact (account N:1
// contact), Account_Tasks (account 1:N task), lk_contactbase_createdby (contact N:1 systemuser)
// and accountcontacts_association (account N:N contact).
var testEntityDocs = []string{
	`{"LogicalName":"account","SchemaName":"Account","EntitySetName":"accounts","PrimaryIdAttribute":"accountid","PrimaryNameAttribute":"name","Attributes":[
		{"LogicalName":"accountid","AttributeType":"Uniqueidentifier","IsPrimaryId":true},
		{"LogicalName":"name","AttributeType":"String","IsPrimaryName":true,"MaxLength":160},
		{"LogicalName":"description","AttributeType":"Memo"},
		{"LogicalName":"revenue","AttributeType":"Money"},
		{"LogicalName":"exchangerate","AttributeType":"Decimal","Precision":10},
		{"LogicalName":"address1_latitude","AttributeType":"Double"},
		{"LogicalName":"numberofemployees","AttributeType":"Integer"},
		{"LogicalName":"versionnumber","AttributeType":"BigInt"},
		{"LogicalName":"donotemail","AttributeType":"Boolean"},
		{"LogicalName":"createdon","AttributeType":"DateTime","Format":"DateAndTime"},
		{"LogicalName":"accountcategorycode","AttributeType":"Picklist","OptionSet":{"Options":[{"Value":1},{"Value":2}]}},
		{"LogicalName":"statecode","AttributeType":"State"},
		{"LogicalName":"primarycontactid","AttributeType":"Lookup","Targets":["contact"]},
		{"LogicalName":"primarycontactidname","AttributeType":"String","AttributeOf":"primarycontactid"},
		{"LogicalName":"ownerid","AttributeType":"Owner","Targets":["systemuser","team"]},
		{"LogicalName":"tags","AttributeType":"Virtual","AttributeTypeName":{"Value":"MultiSelectPicklistType"},"OptionSet":{"Options":[{"Value":1},{"Value":2},{"Value":3}]}},
		{"LogicalName":"entityimage","AttributeType":"Virtual","AttributeTypeName":{"Value":"ImageType"}}
	]}`,
	`{"LogicalName":"contact","SchemaName":"Contact","EntitySetName":"contacts","PrimaryIdAttribute":"contactid","PrimaryNameAttribute":"fullname","Attributes":[
		{"LogicalName":"contactid","AttributeType":"Uniqueidentifier","IsPrimaryId":true},
		{"LogicalName":"fullname","AttributeType":"String","IsPrimaryName":true},
		{"LogicalName":"firstname","AttributeType":"String"},
		{"LogicalName":"lastname","AttributeType":"String"},
		{"LogicalName":"numberofchildren","AttributeType":"Integer"},
		{"LogicalName":"birthdate","AttributeType":"DateTime","Format":"DateOnly"},
		{"LogicalName":"createdby","AttributeType":"Lookup","Targets":["systemuser"]}
	]}`,
	`{"LogicalName":"systemuser","SchemaName":"SystemUser","EntitySetName":"systemusers","PrimaryIdAttribute":"systemuserid","PrimaryNameAttribute":"fullname","Attributes":[
		{"LogicalName":"systemuserid","AttributeType":"Uniqueidentifier","IsPrimaryId":true},
		{"LogicalName":"fullname","AttributeType":"String","IsPrimaryName":true}
	]}`,
	`{"LogicalName":"task","SchemaName":"Task","EntitySetName":"tasks","PrimaryIdAttribute":"activityid","PrimaryNameAttribute":"subject","IsActivity":true,"Attributes":[
		{"LogicalName":"activityid","AttributeType":"Uniqueidentifier","IsPrimaryId":true},
		{"LogicalName":"subject","AttributeType":"String","IsPrimaryName":true},
		{"LogicalName":"scheduledend","AttributeType":"DateTime"},
		{"LogicalName":"regardingobjectid","AttributeType":"Lookup","Targets":["account"]}
	]}`,
}

var testRelationshipDocs = []string{
	`{"SchemaName":"account_primary_contact","RelationshipType":"OneToManyRelationship","ReferencedEntity":"contact","ReferencedAttribute":"contactid","ReferencingEntity":"account","ReferencingAttribute":"primarycontactid","ReferencingEntityNavigationPropertyName":"primarycontactid","ReferencedEntityNavigationPropertyName":"account_primary_contact"}`,
	`{"SchemaName":"Account_Tasks","RelationshipType":"OneToManyRelationship","ReferencedEntity":"account","ReferencedAttribute":"accountid","ReferencingEntity":"task","ReferencingAttribute":"regardingobjectid","ReferencingEntityNavigationPropertyName":"regardingobjectid_account_task","ReferencedEntityNavigationPropertyName":"Account_Tasks"}`,
	`{"SchemaName":"accountcontacts_association","RelationshipType":"ManyToManyRelationship","Entity1LogicalName":"account","Entity2LogicalName":"contact","IntersectEntityName":"accountcontacts","Entity1IntersectAttribute":"accountid","Entity2IntersectAttribute":"contactid","Entity1NavigationPropertyName":"account_contacts","Entity2NavigationPropertyName":"contact_accounts"}`,
	`{"SchemaName":"lk_contactbase_createdby","RelationshipType":"OneToManyRelationship","ReferencedEntity":"systemuser","ReferencedAttribute":"systemuserid","ReferencingEntity":"contact","ReferencingAttribute":"createdby","ReferencingEntityNavigationPropertyName":"createdby","ReferencedEntityNavigationPropertyName":"lk_contactbase_createdby"}`,
}

func testSchema(tb testing.TB) *model.Schema {
	tb.Helper()
	return modeltest.Schema(tb, testEntityDocs, testRelationshipDocs)
}

func entity(tb testing.TB, sch *model.Schema, name string) *model.Entity {
	tb.Helper()
	if name == "" {
		name = "account"
	}
	e, ok := sch.Entity(name)
	if !ok {
		tb.Fatalf("no entity %s", name)
	}
	return e
}

// exprOpts compares metadata by name, so expectations can use bare stand-ins; links by identity.
var exprOpts = cmp.Options{modeltest.ByName, cmp.Comparer(func(a, b *model.Link) bool { return a == b })}

// Shared stand-ins for expectations (see modeltest).
var (
	testEnv = modeltest.Env
	cmpx    = modeltest.Compare
	and     = modeltest.And
	or      = modeltest.Or
	day     = modeltest.Day
	at      = modeltest.At
)

// col builds an expected column: navigation property names, then the column's logical name.
func col(names ...string) *model.Column {
	c := &model.Column{Attr: &model.Attribute{LogicalName: names[len(names)-1]}}
	for _, n := range names[:len(names)-1] {
		c.Path = append(c.Path, &model.Nav{Name: n})
	}
	return c
}

// checkQueryErr checks that err is the expected 400 with message and position.
func checkQueryErr(t *testing.T, err error, msg string, pos int) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %q", msg)
	}
	de, ok := dverr.As(err)
	if !ok {
		t.Fatalf("error %T %v is not a *dverr.Error", err, err)
	}
	if de.Status != 400 {
		t.Errorf("status %d, want 400", de.Status)
	}
	if de.Message != msg {
		t.Errorf("message:\n got %q\nwant %q", de.Message, msg)
	}
	if de.Position != pos {
		t.Errorf("position %d, want %d", de.Position, pos)
	}
}

// checkFuzzErr is the fuzz targets' invariant: every error is a 400 naming a position in the text.
func checkFuzzErr(t *testing.T, err error, text string) {
	var de *dverr.Error
	if !errors.As(err, &de) {
		t.Fatalf("%q: error %T %v is not a *dverr.Error", text, err, err)
	}
	if de.Status != 400 || de.Position < 0 || de.Position > len(text) {
		t.Fatalf("%q: error status %d position %d: %s", text, de.Status, de.Position, de.Message)
	}
}
