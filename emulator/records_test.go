package emulator_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dynlocal/dynlocal/emulator"
)

func TestProbesAndServiceDocument(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, m := range []string{http.MethodHead, http.MethodGet} {
		e.do(m, "/", nil, "Authorization", "").expect(t, http.StatusOK)
	}
	doc := e.do("GET", "", nil).expect(t, 200).JSON(t)
	if doc["@odata.context"] != e.api+"$metadata" {
		t.Errorf("@odata.context = %v", doc["@odata.context"])
	}
	sets := map[string]bool{}
	for _, v := range doc["value"].([]any) {
		m := v.(map[string]any)
		if m["kind"] != "EntitySet" || m["url"] != m["name"] {
			t.Errorf("service document item %v", m)
		}
		sets[m["name"].(string)] = true
	}
	for _, want := range []string{"accounts", "contacts", "systemusers", "tasks", "msevtmgt_events", "transactioncurrencies"} {
		if !sets[want] {
			t.Errorf("service document lacks %s", want)
		}
	}
}

func TestAuthRequired(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other := e.clientCredentialsToken("https://other.crm.dynamics.com/.default")
	tampered := e.token[:len(e.token)-4] + "AAAA"
	tests := []struct {
		name, auth string
	}{
		{"missing", ""},
		{"not bearer", "Basic " + e.token},
		{"garbage", "Bearer not-a-jwt"},
		{"tampered", "Bearer " + tampered},
		{"wrong audience", "Bearer " + other},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("GET", "WhoAmI", nil, "Authorization", tt.auth)
			r.expect(t, http.StatusUnauthorized)
			wa := r.Header.Get("WWW-Authenticate")
			want := "Bearer authorization_uri=" + e.url + "/" + emulator.DefaultTenantID + "/oauth2/authorize, resource_id=" + e.url + "/"
			if wa != want {
				t.Errorf("WWW-Authenticate = %q, want %q", wa, want)
			}
		})
	}
	t.Run("expired", func(t *testing.T) {
		e := newEnv(t)
		e.do("GET", "WhoAmI", nil).expect(t, 200)
		e.clock.Advance(2 * 60 * 60 * 1e9)
		e.do("GET", "WhoAmI", nil).expect(t, http.StatusUnauthorized)
	})
}

func TestWhoAmI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, p := range []string{"WhoAmI", "WhoAmI()"} {
		got := e.do("GET", p, nil).expect(t, 200).JSON(t)
		want := map[string]any{
			"@odata.context": e.api + "$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse",
			"UserId":         emulator.DefaultAppUserID,
			"BusinessUnitId": "4d2c9a10-5e1f-4b7a-9c3d-000000000002",
			"OrganizationId": emulator.DefaultOrganizationID,
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", p, d)
		}
	}
	e.do("POST", "WhoAmI", map[string]any{}).expectError(t, 404, "", "No HTTP resource was found that matches the request URI '"+e.api+"WhoAmI'.")
	got := e.do("GET", "WhoAmI", nil, "MSCRMCallerID", emulator.DefaultHumanUserID).expect(t, 200).JSON(t)
	if got["UserId"] != emulator.DefaultHumanUserID {
		t.Errorf("impersonated WhoAmI UserId = %v", got["UserId"])
	}
}

func TestCreateAndRetrieve(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do("POST", "accounts", map[string]any{
		"name": "Contoso", "revenue": 20000, "numberofemployees": 42, "creditonhold": true,
		"accountcategorycode": 1, "description": nil,
	}).expect(t, http.StatusNoContent)
	id := idFromEntityID(t, r.Header)
	if want := e.api + "accounts(" + id + ")"; r.Header.Get("OData-EntityId") != want {
		t.Errorf("OData-EntityId = %q, want %q", r.Header.Get("OData-EntityId"), want)
	}
	g := e.do("GET", "accounts("+id+")?$select=name,revenue,creditonhold", nil).expect(t, 200)
	if !strings.Contains(string(g.Body), `"revenue":20000.0000`) {
		t.Errorf("money lost its scale: %s", g.Body)
	}
	got := g.JSON(t)
	tag := got["@odata.etag"].(string)
	if g.Header.Get("ETag") != tag || !strings.HasPrefix(tag, `W/"`) {
		t.Errorf("ETag header %q, body etag %q", g.Header.Get("ETag"), tag)
	}
	want := map[string]any{
		"@odata.context":               e.api + "$metadata#accounts(name,revenue,creditonhold)/$entity",
		"@odata.etag":                  tag,
		"name":                         "Contoso",
		"revenue":                      json.Number("20000.0000"),
		"creditonhold":                 true,
		"_transactioncurrencyid_value": "4d2c9a10-5e1f-4b7a-9c3d-000000000004",
		"accountid":                    id,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("retrieve (-want +got):\n%s", d)
	}
	// Key order: context, etag, selected columns, implicit columns, primary key last.
	if !strings.HasPrefix(string(g.Body), `{"@odata.context":`) || !strings.HasSuffix(string(g.Body), `"accountid":"`+id+`"}`) {
		t.Errorf("key order: %s", g.Body)
	}
	all := e.do("GET", "accounts("+id+")", nil).expect(t, 200).JSON(t)
	for k, v := range map[string]any{
		"createdon": "2026-03-14T15:09:26Z", "modifiedon": "2026-03-14T15:09:26Z",
		"_createdby_value": emulator.DefaultAppUserID, "_ownerid_value": emulator.DefaultAppUserID,
		"_owningbusinessunit_value": "4d2c9a10-5e1f-4b7a-9c3d-000000000002",
		"statecode":                 json.Number("0"), "statuscode": json.Number("1"), "description": nil,
		"_createdonbehalfby_value": nil,
	} {
		if d := cmp.Diff(v, all[k]); d != "" {
			t.Errorf("%s (-want +got):\n%s", k, d)
		}
	}
}

func TestCreateReturnRepresentation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do("POST", "contacts?$select=fullname,firstname,birthdate", map[string]any{
		"firstname": "Ada", "lastname": "Lovelace", "birthdate": "1815-12-10",
	}, "Prefer", "return=representation").expect(t, http.StatusCreated)
	if r.Header.Get("OData-EntityId") != "" {
		t.Errorf("OData-EntityId on a representation answer")
	}
	if r.Header.Get("Preference-Applied") != "return=representation" {
		t.Errorf("Preference-Applied = %q", r.Header.Get("Preference-Applied"))
	}
	got := r.JSON(t)
	if got["fullname"] != "Ada Lovelace" || got["birthdate"] != "1815-12-10" {
		t.Errorf("representation = %v", got)
	}
	if got["@odata.context"] != e.api+"$metadata#contacts(fullname,firstname,birthdate)/$entity" {
		t.Errorf("@odata.context = %v", got["@odata.context"])
	}
	// fullname follows the name parts on update.
	id := got["contactid"].(string)
	e.do("PATCH", "contacts("+id+")", map[string]any{"lastname": "King"}, "If-Match", "*").expect(t, 204)
	got = e.do("GET", "contacts("+id+")?$select=fullname", nil).expect(t, 200).JSON(t)
	if got["fullname"] != "Ada King" {
		t.Errorf("fullname after update = %v", got["fullname"])
	}
}

func TestBindsAndDeepInsert(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cid := idFromEntityID(t, e.do("POST", "contacts", map[string]any{"lastname": "Bound"}).expect(t, 204).Header)
	for _, bind := range []string{"/contacts(" + cid + ")", "contacts(" + cid + ")", e.api + "contacts(" + cid + ")"} {
		aid := idFromEntityID(t, e.do("POST", "accounts", map[string]any{"name": "A", "primarycontactid@odata.bind": bind}).expect(t, 204).Header)
		got := e.do("GET", "accounts("+aid+")?$select=_primarycontactid_value", nil, "Prefer", `odata.include-annotations="*"`).expect(t, 200).JSON(t)
		if got["_primarycontactid_value"] != cid ||
			got["_primarycontactid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] != "contact" ||
			got["_primarycontactid_value@Microsoft.Dynamics.CRM.associatednavigationproperty"] != "primarycontactid" ||
			got["_primarycontactid_value@OData.Community.Display.V1.FormattedValue"] != "Bound" {
			t.Errorf("bind %q: %v", bind, got)
		}
	}
	// Polymorphic lookups need the typed navigation property.
	aid := idFromEntityID(t, e.do("POST", "accounts", map[string]any{"name": "Parent"}).expect(t, 204).Header)
	r := e.do("POST", "contacts", map[string]any{"lastname": "Child", "parentcustomerid_account@odata.bind": "/accounts(" + aid + ")"}).expect(t, 204)
	child := idFromEntityID(t, r.Header)
	got := e.do("GET", "contacts("+child+")?$select=_parentcustomerid_value", nil, "Prefer", `odata.include-annotations="*"`).expect(t, 200).JSON(t)
	if got["_parentcustomerid_value@Microsoft.Dynamics.CRM.associatednavigationproperty"] != "parentcustomerid_account" {
		t.Errorf("polymorphic lookup annotations: %v", got)
	}
	r = e.do("POST", "contacts", map[string]any{"lastname": "X", "parentcustomerid@odata.bind": "/accounts(" + aid + ")"})
	r.expect(t, 400)
	if code, msg := r.Error(t); code != "0x80048d19" || !strings.Contains(msg, "An undeclared property 'parentcustomerid' which only has property annotations") {
		t.Errorf("untyped polymorphic bind: %s %s", code, msg)
	}
	// Binding to a missing row.
	e.do("POST", "accounts", map[string]any{"primarycontactid@odata.bind": "/contacts(00000000-0000-0000-0000-000000000009)"}).
		expectError(t, 404, "0x80040217", "Entity 'contact' With Id = 00000000-0000-0000-0000-000000000009 Does Not Exist")
	// Deep insert: a primary contact and two tasks, in one transaction.
	r = e.do("POST", "accounts", map[string]any{
		"name":             "Deep",
		"primarycontactid": map[string]any{"firstname": "Deep", "lastname": "Contact"},
		"Account_Tasks":    []any{map[string]any{"subject": "t1"}, map[string]any{"subject": "t2"}},
	}).expect(t, 204)
	deep := idFromEntityID(t, r.Header)
	got = e.do("GET", "accounts("+deep+")?$select=name&$expand=primarycontactid($select=fullname),Account_Tasks($select=subject)", nil).expect(t, 200).JSON(t)
	pc, _ := got["primarycontactid"].(map[string]any)
	if pc == nil || pc["fullname"] != "Deep Contact" {
		t.Errorf("expanded primary contact = %v", got["primarycontactid"])
	}
	if tasks, _ := got["Account_Tasks"].([]any); len(tasks) != 2 {
		t.Errorf("expanded tasks = %v", got["Account_Tasks"])
	}
	// A failing deep insert writes nothing.
	before := e.do("GET", "contacts/$count", nil).expect(t, 200).Body
	e.do("POST", "accounts", map[string]any{
		"name":             "Broken",
		"primarycontactid": map[string]any{"lastname": "Orphan"},
		"Account_Tasks":    []any{map[string]any{"subject": strings.Repeat("x", 201)}},
	}).expect(t, 400)
	if after := e.do("GET", "contacts/$count", nil).expect(t, 200).Body; string(after) != string(before) {
		t.Errorf("contacts after failed deep insert: %s, before %s", after, before)
	}
}

func TestClientSuppliedKeyAndDuplicates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := "1b2c3d4e-0000-4000-8000-00000000abcd"
	r := e.do("POST", "accounts", map[string]any{"accountid": id, "name": "Mine", "accountnumber": "DUP-1"}).expect(t, 204)
	if got := idFromEntityID(t, r.Header); got != id {
		t.Errorf("id = %s, want %s", got, id)
	}
	e.do("POST", "accounts", map[string]any{"accountid": id, "name": "Again"}).
		expectError(t, http.StatusPreconditionFailed, "0x80040237", "A record with matching key values already exists.")
	e.do("POST", "accounts", map[string]any{"name": "Same number", "accountnumber": "dup-1"}).
		expectError(t, http.StatusPreconditionFailed, "0x80040237", "A record with matching key values already exists.")
}

func TestRetrieveErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := idFromEntityID(t, e.do("POST", "accounts", map[string]any{"name": "X", "accountnumber": "K-1"}).expect(t, 204).Header)
	tests := []struct {
		name, path string
		status     int
		code, msg  string
	}{
		{"unknown set is case sensitive", "Accounts(" + id + ")", 404, "0x8006088a", "Resource not found for the segment 'Accounts'."},
		{"unknown select", "accounts(" + id + ")?$select=Name", 400, "0x0", "Could not find a property named 'Name' on type 'Microsoft.Dynamics.CRM.account'."},
		{"unknown expand", "accounts(" + id + ")?$expand=nothere", 400, "0x0", "Could not find a property named 'nothere' on type 'Microsoft.Dynamics.CRM.account'."},
		{"missing row", "accounts(00000000-0000-0000-0000-000000000001)", 404, "0x80040217", "Entity 'account' With Id = 00000000-0000-0000-0000-000000000001 Does Not Exist"},
		{"bad guid", "accounts(not-a-guid)", 400, "0x0", ""},
		{"unterminated key", "accounts(accountnumber='K-1)", 400, "0x0", ""},
		{"undefined key", "accounts(name='X')", 400, "0x80060888", "The key in the request URI is not valid for resource 'Microsoft.Dynamics.CRM.account'. Ensure that the names and number of key properties match the declared or alternate key properties for the resource 'Microsoft.Dynamics.CRM.account'."},
		{"missing alternate key row", "accounts(accountnumber='nope')", 404, "0x80040217", "A record with the specified key values does not exist in account entity"},
		{"unsupported option", "accounts(" + id + ")?$skip=1", 400, "0x0", "The query parameter $skip is not supported"},
		{"collection expand ref", "accounts(" + id + ")?$expand=Account_Tasks/$ref", 400, "0x80060888", "Expand with $ref is only supported on lookup type navigation property."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.do("GET", tt.path, nil).expectError(t, tt.status, tt.code, tt.msg)
		})
	}
	got := e.do("GET", "accounts(accountnumber='K-1')?$select=name", nil).expect(t, 200).JSON(t)
	if got["accountid"] != id {
		t.Errorf("alternate key retrieve = %v", got)
	}
	e.do("GET", "accounts("+strings.ToUpper(id)+")?$select=name", nil).expect(t, 200)
}

func TestValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name   string
		body   any
		status int
		code   string
		msg    string
	}{
		{"unknown property", map[string]any{"Name": "x"}, 400, "0x0", "An error occurred while validating input parameters: Microsoft.Crm.CrmException: Invalid property 'Name' was found in entity 'Microsoft.Dynamics.CRM.account'. ---> Microsoft.OData.ODataException: Does not support untyped value in non-open type."},
		{"too long", map[string]any{"name": strings.Repeat("é", 161)}, 400, "0x80044331", "A validation error occurred.  The length of the 'name' attribute of the 'account' entity exceeded the maximum allowed length of '160'."},
		{"string for int", map[string]any{"numberofemployees": "abc"}, 400, "0x0", "An error occurred while validating input parameters: Microsoft.OData.ODataException: Cannot convert the literal 'abc' to the expected type 'Edm.Int32'."},
		{"float for int", map[string]any{"numberofemployees": 1.5}, 400, "0x0", ""},
		{"string for money", map[string]any{"revenue": "12"}, 400, "0x0", ""},
		{"bool for string", map[string]any{"name": true}, 400, "0x0", ""},
		{"bad option", map[string]any{"accountcategorycode": 99}, 400, "0x8004431a", ""},
		{"lookup value property", map[string]any{"_primarycontactid_value": "00000000-0000-0000-0000-000000000001"}, 400, "0x0", "CRM do not support direct update of Entity Reference properties, Use Navigation properties instead."},
		{"malformed json", `{"name": "x",}`, 400, "0x80048d19", ""},
		{"not an object", `[1,2]`, 400, "0x80048d19", ""},
		{"empty body", ``, 400, "0x80048d19", ""},
		{"duplicate property", `{"name":"a","name":"b"}`, 400, "0x80048d19", ""},
		{"trailing data", `{"name":"a"} {}`, 400, "0x80048d19", ""},
	}
	before := e.do("GET", "accounts/$count", nil).expect(t, 200).Body
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.do("POST", "accounts", tt.body).expectError(t, tt.status, tt.code, tt.msg)
		})
	}
	if after := e.do("GET", "accounts/$count", nil).expect(t, 200).Body; string(after) != string(before) {
		t.Errorf("a rejected create wrote a row: %s -> %s", before, after)
	}
	e.do("POST", "accounts", "name=x", "Content-Type", "text/plain").expect(t, http.StatusUnsupportedMediaType)
}

func TestUpdateUpsertConcurrency(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	missing := "2b2c3d4e-0000-4000-8000-000000000001"
	// Update only (If-Match: *) never creates.
	e.do("PATCH", "accounts("+missing+")", map[string]any{"name": "x"}, "If-Match", "*").
		expectError(t, 404, "0x80040217", "Entity 'account' With Id = "+missing+" Does Not Exist")
	// Upsert creates: 204, then 201/200 with representation.
	r := e.do("PATCH", "accounts("+missing+")", map[string]any{"name": "upserted"}).expect(t, 204)
	if idFromEntityID(t, r.Header) != missing {
		t.Errorf("upsert OData-EntityId = %q", r.Header.Get("OData-EntityId"))
	}
	r = e.do("PATCH", "accounts("+missing+")?$select=name", map[string]any{"name": "again"}, "Prefer", "return=representation").expect(t, 200)
	if r.JSON(t)["name"] != "again" {
		t.Errorf("upsert update representation: %s", r.Body)
	}
	other := "2b2c3d4e-0000-4000-8000-000000000002"
	e.do("PATCH", "accounts("+other+")", map[string]any{"name": "created"}, "Prefer", "return=representation").expect(t, 201)
	// Create only (If-None-Match: *) on an existing row.
	e.do("PATCH", "accounts("+missing+")", map[string]any{"name": "x"}, "If-None-Match", "*").
		expectError(t, 412, "0x80040237", "A record with matching key values already exists.")
	// Optimistic concurrency: the ETag changes on every write; a stale one is refused.
	g1 := e.do("GET", "accounts("+missing+")?$select=name", nil).expect(t, 200)
	tag1 := g1.Header.Get("ETag")
	e.do("PATCH", "accounts("+missing+")", map[string]any{"name": "v2"}, "If-Match", tag1).expect(t, 204)
	tag2 := e.do("GET", "accounts("+missing+")?$select=name", nil).expect(t, 200).Header.Get("ETag")
	if tag1 == tag2 {
		t.Fatalf("ETag did not change on update: %s", tag1)
	}
	msg := "The version of the existing record doesn't match the RowVersion property provided."
	e.do("PATCH", "accounts("+missing+")", map[string]any{"name": "v3"}, "If-Match", tag1).expectError(t, 412, "0x80060882", msg)
	e.do("DELETE", "accounts("+missing+")", nil, "If-Match", tag1).expectError(t, 412, "0x80060882", msg)
	// Conditional GET.
	e.do("GET", "accounts("+missing+")?$select=name", nil, "If-None-Match", tag2).expect(t, http.StatusNotModified)
	e.do("GET", "accounts("+missing+")?$select=name", nil, "If-None-Match", tag1).expect(t, 200)
	e.do("GET", "accounts("+missing+")?$select=name", nil, "If-None-Match", tag2, "Prefer", `odata.include-annotations="*"`).expect(t, 200)
	// Delete with the current ETag, then it is gone.
	e.do("DELETE", "accounts("+missing+")", nil, "If-Match", tag2).expect(t, 204)
	e.do("DELETE", "accounts("+missing+")", nil).expectError(t, 404, "0x80040217", "Entity 'account' With Id = "+missing+" Does Not Exist")
	e.do("GET", "accounts("+missing+")", nil).expect(t, 404)
}

func TestUpsertByAlternateKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do("PATCH", "accounts(accountnumber='ALT-1')?$select=name,accountnumber", map[string]any{"name": "by key"}, "Prefer", "return=representation").expect(t, 201)
	got := r.JSON(t)
	if got["accountnumber"] != "ALT-1" || got["name"] != "by key" {
		t.Errorf("created by alternate key: %v", got)
	}
	id := got["accountid"].(string)
	// On update, key columns in the body are dropped.
	e.do("PATCH", "accounts(accountnumber='ALT-1')", map[string]any{"name": "renamed", "accountnumber": "ALT-2"}).expect(t, 204)
	got = e.do("GET", "accounts("+id+")?$select=name,accountnumber", nil).expect(t, 200).JSON(t)
	if got["accountnumber"] != "ALT-1" || got["name"] != "renamed" {
		t.Errorf("updated by alternate key: %v", got)
	}
	e.do("PATCH", "accounts(accountnumber='ALT-9')", map[string]any{"name": "x"}, "If-Match", "*").expect(t, 404)
	e.do("DELETE", "accounts(accountnumber='ALT-1')", nil).expect(t, 204)
}

func TestSinglePropertyAndReferences(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	aid := idFromEntityID(t, e.do("POST", "accounts", map[string]any{"name": "Props", "telephone1": "555-0100"}).expect(t, 204).Header)
	got := e.do("GET", "accounts("+aid+")/telephone1", nil).expect(t, 200).JSON(t)
	if got["value"] != "555-0100" || got["@odata.context"] != e.api+"$metadata#accounts("+aid+")/telephone1" {
		t.Errorf("property: %v", got)
	}
	e.do("PUT", "accounts("+aid+")/telephone1", map[string]any{"value": "555-0111"}).expect(t, 204)
	if v := e.do("GET", "accounts("+aid+")/telephone1", nil).expect(t, 200).JSON(t)["value"]; v != "555-0111" {
		t.Errorf("after PUT: %v", v)
	}
	e.do("PUT", "accounts("+aid+")/telephone1", map[string]any{"value": strings.Repeat("9", 51)}).expect(t, 400)
	e.do("DELETE", "accounts("+aid+")/telephone1", nil).expect(t, 204)
	e.do("GET", "accounts("+aid+")/telephone1", nil).expect(t, 204)
	e.do("GET", "accounts("+aid+")/nothere", nil).expectError(t, 404, "0x8006088a", "Resource not found for the segment 'nothere'.")

	cid := idFromEntityID(t, e.do("POST", "contacts", map[string]any{"lastname": "Ref"}).expect(t, 204).Header)
	// Single-valued: PUT $ref, GET $ref, GET the navigation, DELETE $ref.
	e.do("PUT", "accounts("+aid+")/primarycontactid/$ref", map[string]any{"@odata.id": e.api + "contacts(" + cid + ")"}).expect(t, 204)
	ref := e.do("GET", "accounts("+aid+")/primarycontactid/$ref", nil).expect(t, 200).JSON(t)
	if ref["@odata.id"] != e.api+"contacts("+cid+")" {
		t.Errorf("$ref = %v", ref)
	}
	nav := e.do("GET", "accounts("+aid+")/primarycontactid?$select=lastname", nil).expect(t, 200).JSON(t)
	if nav["lastname"] != "Ref" || nav["contactid"] != cid {
		t.Errorf("navigation = %v", nav)
	}
	e.do("DELETE", "accounts("+aid+")/primarycontactid/$ref", nil).expect(t, 204)
	e.do("GET", "accounts("+aid+")/primarycontactid/$ref", nil).expect(t, 204)
	// Collection-valued 1:N: associate, list, disassociate (by key and by $id).
	e.do("POST", "accounts("+aid+")/contact_customer_accounts/$ref", map[string]any{"@odata.id": e.api + "contacts(" + cid + ")"}).expect(t, 204)
	list := e.do("GET", "accounts("+aid+")/contact_customer_accounts/$ref", nil).expect(t, 200).JSON(t)["value"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["@odata.id"] != e.api+"contacts("+cid+")" {
		t.Errorf("collection $ref = %v", list)
	}
	e.do("DELETE", "accounts("+aid+")/contact_customer_accounts("+cid+")/$ref", nil).expect(t, 204)
	e.do("DELETE", "accounts("+aid+")/contact_customer_accounts("+cid+")/$ref", nil).expect(t, 404)
	e.do("POST", "accounts("+aid+")/contact_customer_accounts/$ref", map[string]any{"@odata.id": "contacts(" + cid + ")"}).expect(t, 204)
	e.do("DELETE", "accounts("+aid+")/contact_customer_accounts/$ref?$id="+e.api+"contacts("+cid+")", nil).expect(t, 204)
	// N:N through the intersect table.
	lid := idFromEntityID(t, e.do("POST", "leads", map[string]any{"lastname": "Lead", "subject": "s"}).expect(t, 204).Header)
	e.do("POST", "accounts("+aid+")/accountleads_association/$ref", map[string]any{"@odata.id": e.api + "leads(" + lid + ")"}).expect(t, 204)
	list = e.do("GET", "leads("+lid+")/accountleads_association/$ref", nil).expect(t, 200).JSON(t)["value"].([]any)
	if len(list) != 1 {
		t.Errorf("N:N $ref from the other side = %v", list)
	}
	e.do("POST", "accounts("+aid+")/accountleads_association/$ref", map[string]any{"@odata.id": e.api + "leads(" + lid + ")"}).expect(t, 400)
	e.do("DELETE", "accounts("+aid+")/accountleads_association("+lid+")/$ref", nil).expect(t, 204)
	// Wrong target type and method.
	e.do("PUT", "accounts("+aid+")/primarycontactid/$ref", map[string]any{"@odata.id": e.api + "accounts(" + aid + ")"}).expect(t, 400)
	e.do("PATCH", "accounts", map[string]any{"name": "x"}).expect(t, 405)
}

func TestFormattedValues(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := idFromEntityID(t, e.do("POST", "accounts", map[string]any{
		"name": "Fmt", "revenue": 1234567.891, "numberofemployees": 4300, "creditonhold": false, "accountcategorycode": 1,
	}).expect(t, 204).Header)
	r := e.do("GET", "accounts("+id+")?$select=revenue,numberofemployees,creditonhold,accountcategorycode,createdon,statecode", nil,
		"Prefer", `odata.include-annotations="OData.Community.Display.V1.FormattedValue"`).expect(t, 200)
	if r.Header.Get("Preference-Applied") != `odata.include-annotations="OData.Community.Display.V1.FormattedValue"` {
		t.Errorf("Preference-Applied = %q", r.Header.Get("Preference-Applied"))
	}
	got := r.JSON(t)
	const fv = "@OData.Community.Display.V1.FormattedValue"
	want := map[string]string{
		"revenue": "$1,234,567.89", "numberofemployees": "4,300", "creditonhold": "No",
		"accountcategorycode": "Preferred Customer", "createdon": "3/14/2026 3:09 PM", "statecode": "Active",
	}
	for k, v := range want {
		if got[k+fv] != v {
			t.Errorf("%s formatted = %v, want %q", k, got[k+fv], v)
		}
	}
	if _, ok := got["_transactioncurrencyid_value@Microsoft.Dynamics.CRM.lookuplogicalname"]; ok {
		t.Errorf("lookup annotations were not asked for: %v", got)
	}
	if !strings.Contains(string(r.Body), `"revenue@OData.Community.Display.V1.FormattedValue":"$1,234,567.89","revenue":1234567.8900`) {
		t.Errorf("annotation must come right before its property, money rounded to its precision: %s", r.Body)
	}
}

func TestImpersonation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, h := range [][2]string{{"MSCRMCallerID", emulator.DefaultHumanUserID}, {"CallerObjectId", emulator.DefaultHumanUserObjectID}} {
		id := idFromEntityID(t, e.do("POST", "accounts", map[string]any{"name": "on behalf"}, h[0], h[1]).expect(t, 204).Header)
		got := e.do("GET", "accounts("+id+")?$select=_createdby_value,_createdonbehalfby_value,_ownerid_value,_modifiedonbehalfby_value", nil).expect(t, 200).JSON(t)
		if got["_createdby_value"] != emulator.DefaultHumanUserID || got["_ownerid_value"] != emulator.DefaultHumanUserID ||
			got["_createdonbehalfby_value"] != emulator.DefaultAppUserID || got["_modifiedonbehalfby_value"] != emulator.DefaultAppUserID {
			t.Errorf("%s: %v", h[0], got)
		}
	}
	e.do("GET", "WhoAmI", nil, "MSCRMCallerID", "not-a-guid").expect(t, 400)
	e.do("GET", "WhoAmI", nil, "MSCRMCallerID", "00000000-0000-0000-0000-0000000000ff").expect(t, 404)
}

func TestAdminResetAndSnapshots(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := e.do("GET", "/_emulator/health", nil, "Authorization", "").expect(t, 200).JSON(t)
	if h["status"] != "ok" {
		t.Errorf("health = %v", h)
	}
	count := func() string { return string(e.do("GET", "accounts/$count", nil).expect(t, 200).Body) }
	base := count()
	e.do("PUT", "/_emulator/snapshots/clean", nil).expect(t, 204)
	e.do("POST", "accounts", map[string]any{"name": "temp"}).expect(t, 204)
	if count() == base {
		t.Fatal("create did not add a row")
	}
	e.do("POST", "/_emulator/snapshots/clean/restore", nil).expect(t, 204)
	if c := count(); c != base {
		t.Errorf("after restore %s, want %s", c, base)
	}
	e.do("POST", "accounts", map[string]any{"name": "temp"}).expect(t, 204)
	e.do("POST", "/_emulator/reset", nil).expect(t, 204)
	if c := count(); c != base {
		t.Errorf("after reset %s, want %s", c, base)
	}
	list := e.do("GET", "/_emulator/snapshots", nil).expect(t, 200).JSON(t)
	if d := cmp.Diff([]any{"clean"}, list["value"]); d != "" {
		t.Errorf("snapshots (-want +got):\n%s", d)
	}
	e.do("POST", "/_emulator/snapshots/nope/restore", nil).expect(t, 404)
	e.do("PUT", "/_emulator/snapshots/bad%20name", nil).expect(t, 400)
}

func TestDeleteBehavioursAndDefaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do("POST", "accounts?$select=creditonhold", map[string]any{"name": "D", "Account_Tasks": []any{map[string]any{"subject": "x"}}}, "Prefer", "return=representation").expect(t, 201)
	got := r.JSON(t)
	if got["creditonhold"] != false {
		t.Errorf("Boolean default not applied: creditonhold = %v", got["creditonhold"])
	}
	aid := got["accountid"].(string)
	cid := idFromEntityID(t, e.do("POST", "contacts", map[string]any{"lastname": "Primary"}).expect(t, 204).Header)
	e.do("PUT", "accounts("+aid+")/primarycontactid/$ref", map[string]any{"@odata.id": "contacts(" + cid + ")"}).expect(t, 204)
	tasks := e.do("GET", "accounts("+aid+")/Account_Tasks?$select=subject", nil).expect(t, 200).JSON(t)["value"].([]any)
	tid := tasks[0].(map[string]any)["activityid"].(string)
	// Account_Tasks is parental: deleting the account deletes its tasks. account_primary_contact
	// removes the link only: the contact stays.
	e.do("DELETE", "contacts("+cid+")", nil).expect(t, 204)
	if v := e.do("GET", "accounts("+aid+")?$select=_primarycontactid_value", nil).expect(t, 200).JSON(t)["_primarycontactid_value"]; v != nil {
		t.Errorf("lookup to a deleted contact = %v", v)
	}
	e.do("DELETE", "accounts("+aid+")", nil).expect(t, 204)
	e.do("GET", "tasks("+tid+")", nil).expect(t, 404)
}
