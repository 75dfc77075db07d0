package fetchxml

import (
	"errors"
	"testing"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/model/modeltest"
)

// The tests share a small schema built from EntityMetadata documents: account, contact, task
// (whose regardingobjectid points at accounts and contacts), lead, systemuser and the intersect
// table accountleads, with these relationships:
//
//	account_primary_contact    contact 1:N account  (account.primarycontactid)
//	contact_customer_accounts  account 1:N contact  (contact.parentcustomerid)
//	account_parent_account     account 1:N account  (account.parentaccountid)
//	Account_Tasks              account 1:N task     (task.regardingobjectid)
//	Contact_Tasks              contact 1:N task     (task.regardingobjectid)
//	lk_accountbase_createdby   systemuser 1:N account (account.createdby)
//	accountleads_association   account N:N lead     (through accountleads)
var testEntityDocs = []string{
	`{"LogicalName":"account","SchemaName":"Account","EntitySetName":"accounts","PrimaryIdAttribute":"accountid","PrimaryNameAttribute":"name","Attributes":[
		{"LogicalName":"accountid","AttributeType":"Uniqueidentifier","IsPrimaryId":true},
		{"LogicalName":"name","AttributeType":"String","IsPrimaryName":true,"MaxLength":160},
		{"LogicalName":"accountnumber","AttributeType":"String","MaxLength":20},
		{"LogicalName":"description","AttributeType":"Memo"},
		{"LogicalName":"revenue","AttributeType":"Money"},
		{"LogicalName":"exchangerate","AttributeType":"Decimal","Precision":4},
		{"LogicalName":"address1_latitude","AttributeType":"Double"},
		{"LogicalName":"address1_city","AttributeType":"String"},
		{"LogicalName":"numberofemployees","AttributeType":"Integer"},
		{"LogicalName":"languagecode","AttributeType":"Integer"},
		{"LogicalName":"versionnumber","AttributeType":"BigInt"},
		{"LogicalName":"donotemail","AttributeType":"Boolean"},
		{"LogicalName":"createdon","AttributeType":"DateTime","Format":"DateAndTime"},
		{"LogicalName":"foundedon","AttributeType":"DateTime","Format":"DateOnly"},
		{"LogicalName":"accountcategorycode","AttributeType":"Picklist","OptionSet":{"Options":[{"Value":1},{"Value":2}]}},
		{"LogicalName":"statecode","AttributeType":"State"},
		{"LogicalName":"primarycontactid","AttributeType":"Lookup","Targets":["contact"]},
		{"LogicalName":"primarycontactidname","AttributeType":"String","AttributeOf":"primarycontactid"},
		{"LogicalName":"parentaccountid","AttributeType":"Lookup","Targets":["account"]},
		{"LogicalName":"createdby","AttributeType":"Lookup","Targets":["systemuser"]},
		{"LogicalName":"ownerid","AttributeType":"Owner","Targets":["systemuser","team"]},
		{"LogicalName":"owningbusinessunit","AttributeType":"Lookup","Targets":["businessunit"]},
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
		{"LogicalName":"parentcustomerid","AttributeType":"Customer","Targets":["account","contact"]},
		{"LogicalName":"versionnumber","AttributeType":"BigInt"}
	]}`,
	`{"LogicalName":"task","SchemaName":"Task","EntitySetName":"tasks","PrimaryIdAttribute":"activityid","PrimaryNameAttribute":"subject","IsActivity":true,"Attributes":[
		{"LogicalName":"activityid","AttributeType":"Uniqueidentifier","IsPrimaryId":true},
		{"LogicalName":"subject","AttributeType":"String","IsPrimaryName":true},
		{"LogicalName":"scheduledend","AttributeType":"DateTime"},
		{"LogicalName":"prioritycode","AttributeType":"Picklist","OptionSet":{"Options":[{"Value":0},{"Value":1},{"Value":2}]}},
		{"LogicalName":"regardingobjectid","AttributeType":"Lookup","Targets":["account","contact"]}
	]}`,
	`{"LogicalName":"lead","SchemaName":"Lead","EntitySetName":"leads","PrimaryIdAttribute":"leadid","PrimaryNameAttribute":"fullname","Attributes":[
		{"LogicalName":"leadid","AttributeType":"Uniqueidentifier","IsPrimaryId":true},
		{"LogicalName":"fullname","AttributeType":"String","IsPrimaryName":true},
		{"LogicalName":"subject","AttributeType":"String"},
		{"LogicalName":"estimatedvalue","AttributeType":"Money"}
	]}`,
	`{"LogicalName":"accountleads","SchemaName":"AccountLeads","EntitySetName":"accountleadscollection","PrimaryIdAttribute":"accountleadid","IsIntersect":true,"Attributes":[
		{"LogicalName":"accountleadid","AttributeType":"Uniqueidentifier","IsPrimaryId":true},
		{"LogicalName":"accountid","AttributeType":"Uniqueidentifier"},
		{"LogicalName":"leadid","AttributeType":"Uniqueidentifier"}
	]}`,
	`{"LogicalName":"systemuser","SchemaName":"SystemUser","EntitySetName":"systemusers","PrimaryIdAttribute":"systemuserid","PrimaryNameAttribute":"fullname","Attributes":[
		{"LogicalName":"systemuserid","AttributeType":"Uniqueidentifier","IsPrimaryId":true},
		{"LogicalName":"fullname","AttributeType":"String","IsPrimaryName":true}
	]}`,
}

var testRelationshipDocs = []string{
	`{"SchemaName":"account_primary_contact","RelationshipType":"OneToManyRelationship","ReferencedEntity":"contact","ReferencedAttribute":"contactid","ReferencingEntity":"account","ReferencingAttribute":"primarycontactid","ReferencingEntityNavigationPropertyName":"primarycontactid","ReferencedEntityNavigationPropertyName":"account_primary_contact"}`,
	`{"SchemaName":"contact_customer_accounts","RelationshipType":"OneToManyRelationship","ReferencedEntity":"account","ReferencedAttribute":"accountid","ReferencingEntity":"contact","ReferencingAttribute":"parentcustomerid","ReferencingEntityNavigationPropertyName":"parentcustomerid_account","ReferencedEntityNavigationPropertyName":"contact_customer_accounts"}`,
	`{"SchemaName":"account_parent_account","RelationshipType":"OneToManyRelationship","ReferencedEntity":"account","ReferencedAttribute":"accountid","ReferencingEntity":"account","ReferencingAttribute":"parentaccountid","ReferencingEntityNavigationPropertyName":"parentaccountid","ReferencedEntityNavigationPropertyName":"account_parent_account"}`,
	`{"SchemaName":"Account_Tasks","RelationshipType":"OneToManyRelationship","ReferencedEntity":"account","ReferencedAttribute":"accountid","ReferencingEntity":"task","ReferencingAttribute":"regardingobjectid","ReferencingEntityNavigationPropertyName":"regardingobjectid_account_task","ReferencedEntityNavigationPropertyName":"Account_Tasks"}`,
	`{"SchemaName":"Contact_Tasks","RelationshipType":"OneToManyRelationship","ReferencedEntity":"contact","ReferencedAttribute":"contactid","ReferencingEntity":"task","ReferencingAttribute":"regardingobjectid","ReferencingEntityNavigationPropertyName":"regardingobjectid_contact_task","ReferencedEntityNavigationPropertyName":"Contact_Tasks"}`,
	`{"SchemaName":"lk_accountbase_createdby","RelationshipType":"OneToManyRelationship","ReferencedEntity":"systemuser","ReferencedAttribute":"systemuserid","ReferencingEntity":"account","ReferencingAttribute":"createdby","ReferencingEntityNavigationPropertyName":"createdby","ReferencedEntityNavigationPropertyName":"lk_accountbase_createdby"}`,
	`{"SchemaName":"accountleads_association","RelationshipType":"ManyToManyRelationship","Entity1LogicalName":"account","Entity2LogicalName":"lead","IntersectEntityName":"accountleads","Entity1IntersectAttribute":"accountid","Entity2IntersectAttribute":"leadid","Entity1NavigationPropertyName":"accountleads_association","Entity2NavigationPropertyName":"accountleads_association"}`,
}

func testSchema(tb testing.TB) *model.Schema {
	tb.Helper()
	return modeltest.Schema(tb, testEntityDocs, testRelationshipDocs)
}

// queryOpts compare metadata by name, so that expectations can use bare stand-ins.
var queryOpts = modeltest.ByName

// Shared stand-ins for expectations (see modeltest).
var (
	testEnv = modeltest.Env
	cmpx    = modeltest.Compare
	and     = modeltest.And
	or      = modeltest.Or
	day     = modeltest.Day
	at      = modeltest.At
)

// Stand-ins for expectations.

func attr(name string) *model.Attribute { return &model.Attribute{LogicalName: name} }

func attrs(names ...string) []*model.Attribute {
	out := []*model.Attribute{}
	for _, n := range names {
		out = append(out, attr(n))
	}
	return out
}

func ent(name string) *model.Entity { return &model.Entity{LogicalName: name} }

func nav(name string) *model.Nav { return &model.Nav{Name: name} }

func col(name string) *model.Column { return &model.Column{Attr: attr(name)} }

func lcol(l *model.Link, name string) *model.Column { return &model.Column{Link: l, Attr: attr(name)} }

func dec(s string, scale int) model.Decimal {
	d, err := model.ParseDecimal(s, scale)
	if err != nil {
		panic(err)
	}
	return d
}

// checkErr checks that err is a 400 *dverr.Error with the code, message and offset expected (pos
// -1: any offset).
func checkErr(t *testing.T, err error, code, msg string, pos int) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s %q", code, msg)
	}
	de, ok := dverr.As(err)
	if !ok {
		t.Fatalf("error %T %v is not a *dverr.Error", err, err)
	}
	if de.Status != 400 {
		t.Errorf("status %d, want 400", de.Status)
	}
	if de.Code != code {
		t.Errorf("code %s, want %s (%s)", de.Code, code, de.Message)
	}
	if de.Message != msg {
		t.Errorf("message:\n got %q\nwant %q", de.Message, msg)
	}
	if pos >= 0 && de.Position != pos {
		t.Errorf("position %d, want %d", de.Position, pos)
	}
}

// checkFuzzErr is the fuzz target's invariant: every error is a 400 naming an offset in the text.
func checkFuzzErr(t *testing.T, err error, text string) {
	var de *dverr.Error
	if !errors.As(err, &de) {
		t.Fatalf("%q: error %T %v is not a *dverr.Error", text, err, err)
	}
	if de.Status != 400 || de.Position < 0 || de.Position > len(text) || de.Message == "" {
		t.Fatalf("%q: error status %d position %d: %s", text, de.Status, de.Position, de.Message)
	}
}
