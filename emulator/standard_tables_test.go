package emulator_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"testing"

	"github.com/dynlocal/dynlocal/fixtures"
)

// standardTable is what a test needs of a built-in table.
type standardTable struct {
	LogicalName          string
	EntitySetName        string
	PrimaryIDAttribute   string
	PrimaryNameAttribute string
	// Properties are the Web API properties a row shows: readable stored columns, lookups as
	// _name_value.
	Properties []string
	// NameWritable says whether the primary name can be given on create (contact.fullname is
	// computed).
	NameWritable bool
}

func standardTables(t *testing.T) []standardTable {
	t.Helper()
	set, err := fixtures.Default()
	if err != nil {
		t.Fatal(err)
	}
	var out []standardTable
	for _, raw := range set.Entities {
		var d struct {
			standardTable
			Attributes []struct {
				LogicalName      string
				AttributeType    string
				AttributeOf      *string
				IsValidForRead   bool
				IsValidForCreate bool
			}
		}
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		for _, a := range d.Attributes {
			if a.LogicalName == d.PrimaryNameAttribute {
				d.NameWritable = a.IsValidForCreate
			}
			switch {
			case !a.IsValidForRead || a.AttributeOf != nil:
			case a.AttributeType == "Lookup" || a.AttributeType == "Customer" || a.AttributeType == "Owner":
				d.Properties = append(d.Properties, "_"+a.LogicalName+"_value")
			case a.AttributeType == "Virtual" || a.AttributeType == "PartyList" || a.AttributeType == "ManagedProperty" || a.AttributeType == "CalendarRules":
			default:
				d.Properties = append(d.Properties, a.LogicalName)
			}
		}
		sort.Strings(d.Properties)
		out = append(out, d.standardTable)
	}
	return out
}

// TestEveryStandardTableAnswers creates a row in every built-in table and reads it back, queries
// the table and finds it in $metadata, each with the table's full column set.
func TestEveryStandardTableAnswers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	csdl, _ := getCSDL(t, e)
	tables := standardTables(t)
	if len(tables) < 63 {
		t.Fatalf("%d tables in the built-in set", len(tables))
	}
	for _, tb := range tables {
		t.Run(tb.LogicalName, func(t *testing.T) {
			et := csdl.entityType(tb.LogicalName)
			if et == nil {
				t.Fatalf("$metadata has no entity type %s", tb.LogicalName)
			}
			var inCSDL []string
			for p := range et.propertyTypes() {
				inCSDL = append(inCSDL, p)
			}
			sort.Strings(inCSDL)
			if fmt.Sprint(inCSDL) != fmt.Sprint(tb.Properties) {
				t.Errorf("$metadata properties:\n got %v\nwant %v", inCSDL, tb.Properties)
			}
			body := map[string]any{}
			if tb.NameWritable {
				body[tb.PrimaryNameAttribute] = "made by a test"
			}
			created := e.do("POST", tb.EntitySetName, body, "Prefer", "return=representation")
			if tb.LogicalName == "activitypointer" {
				// Activities are written through their own tables.
				created.expect(t, 400)
				return
			}
			row := created.expect(t, 201).JSON(t)
			id, _ := row[tb.PrimaryIDAttribute].(string)
			got := e.do("GET", tb.EntitySetName+"("+id+")", nil).expect(t, 200).JSON(t)
			var shown []string
			for k := range got {
				if k[0] != '@' && !containsAt(k) {
					shown = append(shown, k)
				}
			}
			sort.Strings(shown)
			if fmt.Sprint(shown) != fmt.Sprint(tb.Properties) {
				t.Errorf("row properties:\n got %v\nwant %v", shown, tb.Properties)
			}
			if tb.NameWritable && got[tb.PrimaryNameAttribute] != "made by a test" {
				t.Errorf("%s = %v", tb.PrimaryNameAttribute, got[tb.PrimaryNameAttribute])
			}
			list := e.do("GET", tb.EntitySetName+"?$filter="+tb.PrimaryIDAttribute+"%20eq%20"+id, nil).expect(t, 200).JSON(t)
			if n := len(list["value"].([]any)); n != 1 {
				t.Errorf("query by id: %d rows", n)
			}
		})
	}
}

func containsAt(s string) bool {
	for _, c := range s {
		if c == '@' {
			return true
		}
	}
	return false
}

// TestActivitiesAppearInActivityPointers checks that every activity is also an activitypointers
// row, kept in step through update and delete.
func TestActivitiesAppearInActivityPointers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ids := map[string]string{}
	for _, set := range []string{"tasks", "emails", "phonecalls", "appointments", "letters", "faxes"} {
		row := e.do("POST", set, map[string]any{"subject": "activity in " + set}, "Prefer", "return=representation").expect(t, 201).JSON(t)
		ids[set] = row["activityid"].(string)
	}
	for set, id := range ids {
		p := e.do("GET", "activitypointers("+id+")?$select=subject,activitytypecode", nil).expect(t, 200).JSON(t)
		want := map[string]string{"tasks": "task", "emails": "email", "phonecalls": "phonecall", "appointments": "appointment", "letters": "letter", "faxes": "fax"}[set]
		if p["activitytypecode"] != want || p["subject"] != "activity in "+set {
			t.Errorf("activitypointer of %s = %v", set, p)
		}
	}
	list := e.do("GET", "activitypointers?$filter=activitytypecode%20eq%20'email'&$select=subject", nil).expect(t, 200).JSON(t)
	found := false
	for _, x := range list["value"].([]any) {
		found = found || x.(map[string]any)["activityid"] == ids["emails"]
	}
	if !found {
		t.Errorf("activitypointers filtered on email lack the email: %v", list["value"])
	}

	e.do("PATCH", "tasks("+ids["tasks"]+")", map[string]any{"subject": "renamed"}).expect(t, 204)
	if p := e.do("GET", "activitypointers("+ids["tasks"]+")?$select=subject", nil).expect(t, 200).JSON(t); p["subject"] != "renamed" {
		t.Errorf("after the task's update the pointer says %v", p["subject"])
	}
	e.do("DELETE", "faxes("+ids["faxes"]+")", nil).expect(t, 204)
	e.do("GET", "activitypointers("+ids["faxes"]+")", nil).expect(t, 404)

	for _, r := range []result{
		e.do("PATCH", "activitypointers("+ids["tasks"]+")", map[string]any{"subject": "x"}),
		e.do("DELETE", "activitypointers("+ids["tasks"]+")", nil),
	} {
		if code, _ := r.expect(t, 400).Error(t); code != "0x80040800" {
			t.Errorf("write to activitypointers: code %s", code)
		}
	}
}

// TestEmailPartiesAreActivityPartyRows sends an email's sender and recipients as activityparty
// rows in a deep insert, the way Dataverse takes them, and reads them back every way a client does.
func TestEmailPartiesAreActivityPartyRows(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	contact := e.do("POST", "contacts", map[string]any{"lastname": "Recipient"}, "Prefer", "return=representation").expect(t, 201).JSON(t)["contactid"].(string)
	account := e.do("POST", "accounts", map[string]any{"name": "Copied"}, "Prefer", "return=representation").expect(t, 201).JSON(t)["accountid"].(string)
	me := e.do("GET", "WhoAmI", nil).expect(t, 200).JSON(t)["UserId"].(string)
	email := e.do("POST", "emails", map[string]any{
		"subject": "Quarterly figures",
		"email_activity_parties": []any{
			map[string]any{"partyid_systemuser@odata.bind": "/systemusers(" + me + ")", "participationtypemask": 1},
			map[string]any{"partyid_contact@odata.bind": "/contacts(" + contact + ")", "participationtypemask": 2},
			map[string]any{"partyid_account@odata.bind": "/accounts(" + account + ")", "participationtypemask": 3},
		},
	}, "Prefer", "return=representation").expect(t, 201).JSON(t)["activityid"].(string)

	got := e.do("GET", "emails("+email+")?$select=subject&$expand=email_activity_parties($select=participationtypemask,_partyid_value)", nil,
		"Prefer", `odata.include-annotations="*"`).expect(t, 200).JSON(t)
	parties := got["email_activity_parties"].([]any)
	byMask := map[string]string{}
	for _, p := range parties {
		m := p.(map[string]any)
		byMask[fmt.Sprint(m["participationtypemask"])] = fmt.Sprint(m["_partyid_value"], " ", m["_partyid_value@Microsoft.Dynamics.CRM.lookuplogicalname"])
	}
	want := map[string]string{"1": me + " systemuser", "2": contact + " contact", "3": account + " account"}
	if fmt.Sprint(byMask) != fmt.Sprint(want) {
		t.Errorf("parties by participation type:\n got %v\nwant %v", byMask, want)
	}
	list := e.do("GET", "activityparties?$filter=_activityid_value%20eq%20"+email+"%20and%20participationtypemask%20eq%202&$select=_partyid_value", nil).expect(t, 200).JSON(t)
	if v := list["value"].([]any); len(v) != 1 || v[0].(map[string]any)["_partyid_value"] != contact {
		t.Errorf("the To party by query = %v", v)
	}
	// The contact's side sees the party too.
	mine := e.do("GET", "contacts("+contact+")/contact_activity_parties?$select=participationtypemask", nil).expect(t, 200).JSON(t)
	if v := mine["value"].([]any); len(v) != 1 {
		t.Errorf("contact_activity_parties = %v", v)
	}
	// Deleting the email deletes its parties (not just their link to it).
	var partyIDs []string
	for _, p := range parties {
		partyIDs = append(partyIDs, p.(map[string]any)["activitypartyid"].(string))
	}
	e.do("DELETE", "emails("+email+")", nil).expect(t, 204)
	for _, id := range partyIDs {
		left := e.do("GET", "activityparties?$filter=activitypartyid%20eq%20"+id, nil).expect(t, 200).JSON(t)
		if v := left["value"].([]any); len(v) != 0 {
			t.Errorf("party %s left after the email's delete: %v", id, v)
		}
	}
}
