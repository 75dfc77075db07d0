package emulator_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The tests in this file hold the emulator to behaviour the Dataverse Web API documentation
// describes, one test per documented rule.

// Parameter aliases may stand for a property in $filter and $orderby; an alias given no value is
// null.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/overview#use-parameter-aliases-with-query-options
func TestDocumentedParameterAliases(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seedAccounts(t,
		map[string]any{"name": "palias a", "revenue": 3},
		map[string]any{"name": "palias b", "revenue": 1},
		map[string]any{"name": "palias c", "revenue": 2},
		map[string]any{"name": "palias d"},
	)
	tests := []struct {
		name, query string
		want        []string
	}{
		{"the documented example", "$select=name,revenue&$orderby=@p1 asc,@p2 desc&$filter=startswith(name,'palias') and @p1 ne @p3&@p1=revenue&@p2=name",
			[]string{"palias b", "palias c", "palias a"}},
		{"orderby alias", "$select=name&$filter=startswith(name,'palias')&$orderby=@p1 desc&@p1=revenue",
			[]string{"palias a", "palias c", "palias b", "palias d"}},
		{"filter alias for a property", "$select=name&$filter=@p eq 'palias b'&@p=name", []string{"palias b"}},
		{"filter alias on the right", "$select=name&$filter=startswith(name,'palias') and revenue eq @r&@r=2", []string{"palias c"}},
		{"unassigned alias is null", "$select=name&$filter=startswith(name,'palias') and revenue eq @none", []string{"palias d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := e.do("GET", "accounts?"+escapeQuery(tt.query), nil).expect(t, 200).JSON(t)
			if d := cmp.Diff(tt.want, names(t, body)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
	t.Run("alias that is neither a literal nor a property", func(t *testing.T) {
		e.do("GET", "accounts?"+escapeQuery("$filter=@p&@p=name eq 'x'"), nil).expect(t, 400)
		e.do("GET", "accounts?"+escapeQuery("$orderby=@p&@p='name'"), nil).expect(t, 400)
	})
	t.Run("unknown property in an alias", func(t *testing.T) {
		e.do("GET", "accounts?"+escapeQuery("$orderby=@p&@p=nothere"), nil).
			expectError(t, 400, "0x0", "Could not find a property named 'nothere' on type 'Microsoft.Dynamics.CRM.account'.")
		e.do("GET", "accounts?"+escapeQuery("$filter=@p eq 'x'&@p=nothere"), nil).
			expectError(t, 400, "0x0", "Could not find a property named 'nothere' on type 'Microsoft.Dynamics.CRM.account'.")
	})
}

// $expand=nav/$ref returns the related row's @odata.id, and the lookup property beside it.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/join-tables#return-references
func TestDocumentedExpandRef(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cid := idFromEntityID(t, e.do("POST", "contacts", map[string]any{"lastname": "Ref Expand"}).expect(t, 204).Header)
	aid := idFromEntityID(t, e.do("POST", "accounts", map[string]any{"name": "ref expand", "primarycontactid@odata.bind": "/contacts(" + cid + ")"}).expect(t, 204).Header)
	want := map[string]any{
		"name":                    "ref expand",
		"_primarycontactid_value": cid,
		"accountid":               aid,
		"primarycontactid":        map[string]any{"@odata.id": e.api + "contacts(" + cid + ")"},
	}
	one := e.do("GET", "accounts("+aid+")?$select=name&$expand=primarycontactid/$ref", nil).expect(t, 200).JSON(t)
	if one["@odata.context"] != e.api+"$metadata#accounts(name,primarycontactid,primarycontactid/$ref())/$entity" {
		t.Errorf("@odata.context = %v", one["@odata.context"])
	}
	delete(one, "@odata.context")
	delete(one, "@odata.etag")
	if d := cmp.Diff(want, one); d != "" {
		t.Errorf("record (-want +got):\n%s", d)
	}
	list := e.do("GET", "accounts?"+escapeQuery("$select=name&$filter=name eq 'ref expand'&$expand=primarycontactid/$ref"), nil).expect(t, 200).JSON(t)
	rows := list["value"].([]any)
	if len(rows) != 1 {
		t.Fatalf("rows = %v", rows)
	}
	row := rows[0].(map[string]any)
	delete(row, "@odata.etag")
	if d := cmp.Diff(want, row); d != "" {
		t.Errorf("collection row (-want +got):\n%s", d)
	}
}

// $orderby and $top are not supported in a collection-valued $expand that has a nested $expand.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/join-tables#nested-expand-on-collection-valued-navigation-properties
func TestDocumentedNestedExpandOptions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const msg = "Only $select and $filter clause can be provided while doing $expand on many-to-one relationship or nested one-to-many relationship."
	for _, q := range []string{
		"$select=name&$expand=contact_customer_accounts($select=fullname;$orderby=fullname;$expand=owninguser($select=fullname))",
		"$select=name&$expand=contact_customer_accounts($top=1;$expand=owninguser($select=fullname))",
	} {
		e.do("GET", "accounts?"+escapeQuery(q), nil).expectError(t, 400, "0x80060888", msg)
	}
	for _, q := range []string{
		"$select=name&$expand=contact_customer_accounts($select=fullname;$expand=owninguser($select=fullname))",
		"$select=name&$expand=contact_customer_accounts($select=fullname;$orderby=fullname;$top=2)",
	} {
		e.do("GET", "accounts?"+escapeQuery(q), nil).expect(t, 200)
	}
}

// A create with Prefer: return=representation honours $select and $expand; an update honours
// $select and ignores $expand.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/create-entity-web-api#create-with-data-returned
// and https://learn.microsoft.com/power-apps/developer/data-platform/webapi/update-delete-entities-using-web-api#update-with-data-returned
func TestDocumentedRepresentationExpand(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cid := idFromEntityID(t, e.do("POST", "contacts", map[string]any{"firstname": "Yvonne", "lastname": "McKay"}).expect(t, 204).Header)
	tid := idFromEntityID(t, e.do("POST", "tasks", map[string]any{"subject": "Task 1"}).expect(t, 204).Header)
	r := e.do("POST", "accounts?$select=name&$expand=primarycontactid($select=fullname),Account_Tasks($select=subject)", map[string]any{
		"name":                        "Sample Account",
		"primarycontactid@odata.bind": "/contacts(" + cid + ")",
		"Account_Tasks@odata.bind":    []string{"/tasks(" + tid + ")"},
	}, "Prefer", "return=representation").expect(t, http.StatusCreated)
	body := r.JSON(t)
	if body["@odata.context"] != e.api+"$metadata#accounts(name,primarycontactid(fullname),Account_Tasks(subject))/$entity" {
		t.Errorf("@odata.context = %v", body["@odata.context"])
	}
	pc, _ := body["primarycontactid"].(map[string]any)
	if pc["fullname"] != "Yvonne McKay" || pc["contactid"] != cid {
		t.Errorf("primarycontactid = %v", body["primarycontactid"])
	}
	tasks, _ := body["Account_Tasks"].([]any)
	if len(tasks) != 1 || tasks[0].(map[string]any)["subject"] != "Task 1" {
		t.Errorf("Account_Tasks = %v", body["Account_Tasks"])
	}
	aid, _ := body["accountid"].(string)
	if aid == "" {
		t.Fatalf("no accountid: %v", body)
	}

	up := e.do("PATCH", "accounts("+aid+")?$select=name&$expand=primarycontactid($select=fullname)", map[string]any{"name": "Updated"},
		"Prefer", "return=representation", "If-Match", "*").expect(t, http.StatusOK).JSON(t)
	if up["name"] != "Updated" {
		t.Errorf("update representation = %v", up)
	}
	if _, ok := up["primarycontactid"]; ok {
		t.Errorf("update representation expanded primarycontactid; Dataverse ignores $expand on update: %v", up)
	}
	if up["@odata.context"] != e.api+"$metadata#accounts(name)/$entity" {
		t.Errorf("update @odata.context = %v", up["@odata.context"])
	}
}

// An alternate key that names a column which is not a key is refused before any row is read.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/use-alternate-key-reference-record
func TestDocumentedUndefinedAlternateKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const msg = "The key in the request URI is not valid for resource 'Microsoft.Dynamics.CRM.account'. Ensure that the names and number of key properties match the declared or alternate key properties for the resource 'Microsoft.Dynamics.CRM.account'."
	e.do("POST", "accounts", map[string]any{"name": "notakey", "accountnumber": "NK-1"}).expect(t, 204)
	e.do("GET", "accounts(name='notakey')", nil).expectError(t, 400, "0x80060888", msg)
	e.do("GET", "accounts(nothere='x')", nil).expectError(t, 400, "0x80060888", msg)
	e.do("GET", "accounts(accountnumber='NK-1',name='notakey')", nil).expectError(t, 400, "0x80060888", msg)
	e.do("PATCH", "accounts(name='created by upsert')", map[string]any{"description": "x"}).expectError(t, 400, "0x80060888", msg)
	e.do("DELETE", "accounts(name='notakey')", nil).expectError(t, 400, "0x80060888", msg)
	list := e.do("GET", "accounts?"+escapeQuery("$select=name&$filter=name eq 'created by upsert' or name eq 'notakey'"), nil).expect(t, 200).JSON(t)
	if d := cmp.Diff([]string{"notakey"}, names(t, list)); d != "" {
		t.Errorf("rows after refused writes (-want +got):\n%s", d)
	}
	e.do("GET", "accounts(accountnumber='NK-1')?$select=name", nil).expect(t, 200)
	e.do("POST", "contacts", map[string]any{"lastname": "x", "parentcustomerid_account@odata.bind": "/accounts(name='notakey')"}).
		expectError(t, 400, "0x80060888", msg)
}

// A choice column's options are read through the cast to its type and its OptionSet.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query-metadata-web-api#retrieving-attributes
func TestDocumentedAttributeOptionSet(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const crm = "Microsoft.Dynamics.CRM."
	base := "EntityDefinitions(LogicalName='account')/Attributes"
	tests := []struct {
		attr, cast, sel string
		want            []string // the members the answer must have
	}{
		{"accountcategorycode", "PicklistAttributeMetadata", "Options", []string{"Options", "MetadataId"}},
		{"statecode", "StateAttributeMetadata", "Options", []string{"Options", "MetadataId"}},
		{"statuscode", "StatusAttributeMetadata", "Options", []string{"Options", "MetadataId"}},
		{"creditonhold", "BooleanAttributeMetadata", "TrueOption,FalseOption", []string{"TrueOption", "FalseOption", "MetadataId"}},
	}
	for _, tt := range tests {
		t.Run(tt.attr, func(t *testing.T) {
			a := e.do("GET", base+"(LogicalName='"+tt.attr+"')?$select=LogicalName", nil).expect(t, 200).JSON(t)
			id, _ := a["MetadataId"].(string)
			for _, key := range []string{id, "LogicalName='" + tt.attr + "'"} {
				body := e.do("GET", base+"("+key+")/"+crm+tt.cast+"/OptionSet?$select="+tt.sel, nil).expect(t, 200).JSON(t)
				wantCtx := e.api + "$metadata#EntityDefinitions('account')/Attributes(" + id + ")/" + crm + tt.cast + "/OptionSet(" + tt.sel + ")/$entity"
				if body["@odata.context"] != wantCtx {
					t.Errorf("@odata.context = %v, want %s", body["@odata.context"], wantCtx)
				}
				for _, k := range tt.want {
					if body[k] == nil {
						t.Errorf("%s lacks %s: %v", key, k, body)
					}
				}
				if opts, ok := body["Options"]; ok && len(opts.([]any)) == 0 {
					t.Errorf("no options: %v", body)
				}
				if len(body) != len(tt.want)+1 {
					t.Errorf("members beyond the selection: %v", body)
				}
			}
			full := e.do("GET", base+"("+id+")/"+crm+tt.cast+"/OptionSet", nil).expect(t, 200).JSON(t)
			if full["OptionSetType"] == nil {
				t.Errorf("whole option set lacks OptionSetType: %v", full)
			}
		})
	}
	t.Run("errors", func(t *testing.T) {
		e.do("GET", base+"(LogicalName='accountcategorycode')/OptionSet", nil).expect(t, 404)
		e.do("GET", base+"(LogicalName='name')/"+crm+"PicklistAttributeMetadata/OptionSet", nil).expect(t, 404)
		e.do("GET", base+"(LogicalName='accountcategorycode')/"+crm+"PicklistAttributeMetadata/Nothere", nil).expect(t, 404)
		e.do("GET", base+"/"+crm+"PicklistAttributeMetadata/OptionSet", nil).expect(t, 404)
		e.do("GET", base+"(LogicalName='accountcategorycode')/"+crm+"PicklistAttributeMetadata/OptionSet?$select=Nothere", nil).expect(t, 400)
		e.do("GET", base+"(LogicalName='accountcategorycode')/"+crm+"PicklistAttributeMetadata/OptionSet?$filter=IsGlobal%20eq%20false", nil).expect(t, 400)
		e.do("GET", base+"(LogicalName='name')/"+crm+"StringAttributeMetadata/OptionSet", nil).expect(t, 404)
		e.do("PUT", base+"(LogicalName='accountcategorycode')/"+crm+"PicklistAttributeMetadata/OptionSet", map[string]any{"Options": []any{}}).expect(t, 405)
		e.do("GET", base+"(LogicalName='accountcategorycode')/"+crm+"PicklistAttributeMetadata/GlobalOptionSet", nil).expect(t, 204)
	})
}

// A body that is a JSON string holding the object, as the dataverse-ify client sends every
// create, update and reference, is read as that object. Other bodies are refused as before.
func TestDocumentedJSONStringBody(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	quoted := func(v any) string {
		inner, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		outer, err := json.Marshal(string(inner))
		if err != nil {
			t.Fatal(err)
		}
		return string(outer)
	}
	aid := idFromEntityID(t, e.do("POST", "accounts", quoted(map[string]any{"name": "stringified"})).expect(t, 204).Header)
	e.do("PATCH", "accounts("+aid+")", quoted(map[string]any{"description": "patched"}), "If-Match", "*").expect(t, 204)
	got := e.do("GET", "accounts("+aid+")?$select=name,description", nil).expect(t, 200).JSON(t)
	if got["name"] != "stringified" || got["description"] != "patched" {
		t.Errorf("row = %v", got)
	}
	cid := idFromEntityID(t, e.do("POST", "contacts", map[string]any{"lastname": "Stringified"}).expect(t, 204).Header)
	e.do("POST", "accounts("+aid+")/contact_customer_accounts/$ref", quoted(map[string]any{"@odata.id": e.api + "contacts(" + cid + ")"})).expect(t, 204)
	e.do("PUT", "accounts("+aid+")/primarycontactid/$ref", quoted(map[string]any{"@odata.id": "contacts(" + cid + ")"})).expect(t, 204)
	got = e.do("GET", "accounts("+aid+")?$select=name&$expand=contact_customer_accounts($select=lastname)", nil).expect(t, 200).JSON(t)
	if got["_primarycontactid_value"] != nil {
		t.Errorf("$select=name showed the lookup: %v", got)
	}
	kids, _ := got["contact_customer_accounts"].([]any)
	if len(kids) != 1 {
		t.Errorf("contact_customer_accounts = %v", got["contact_customer_accounts"])
	}
	pc := e.do("GET", "accounts("+aid+")/_primarycontactid_value", nil).expect(t, 200).JSON(t)
	if pc["value"] != cid {
		t.Errorf("primarycontactid = %v", pc)
	}

	const notObject = "Invalid JSON. A JSON object was expected."
	for _, tt := range []struct{ name, method, path, body string }{
		{"string that is not JSON", "POST", "accounts", `"name"`},
		{"string holding an array", "POST", "accounts", quoted([]string{"a"})},
		{"string holding a string", "POST", "accounts", quoted(quoted(map[string]any{"name": "twice"}))},
		{"number", "POST", "accounts", `12`},
		{"string on a property PUT", "PUT", "accounts(" + aid + ")/name", quoted(map[string]any{"value": "x"})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(tt.method, tt.path, tt.body).expect(t, 400)
			if _, msg := r.Error(t); !strings.Contains(msg, notObject) {
				t.Errorf("message = %q, want it to say %q", msg, notObject)
			}
		})
	}
	e.do("POST", "accounts", quoted(map[string]any{"name": "bad", "nothere": 1})).expect(t, 400)
	list := e.do("GET", "accounts?"+escapeQuery("$select=name&$filter=name eq 'bad' or name eq 'twice'"), nil).expect(t, 200).JSON(t)
	if n := names(t, list); len(n) != 0 {
		t.Errorf("refused bodies wrote rows: %v", n)
	}
}
