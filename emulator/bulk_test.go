package emulator_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// count is the number of calls received so far.
func (c *hookCapture) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.calls)
}

// accountTargets returns n account records for a bulk call, named prefix 0, prefix 1, ...
func accountTargets(prefix string, n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.account", "name": fmt.Sprintf("%s %d", prefix, i)}
	}
	return out
}

// countAccounts counts the accounts whose name starts with prefix.
func (e *env) countAccounts(t *testing.T, prefix string) int {
	t.Helper()
	body := e.do("GET", "accounts?"+escapeQuery("$select=name&$filter=startswith(name,'"+prefix+"')"), nil).expect(t, 200).JSON(t)
	return len(body["value"].([]any))
}

func TestCreateMultiple(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	targets := accountTargets("bulk create", 3)
	targets[2].(map[string]any)["accountid"] = "5a1d0000-0000-4000-8000-000000000003"
	body := e.do("POST", "accounts/Microsoft.Dynamics.CRM.CreateMultiple", map[string]any{"Targets": targets}).expect(t, 200).JSON(t)
	if got, want := body["@odata.context"], e.api+"$metadata#Microsoft.Dynamics.CRM.CreateMultipleResponse"; got != want {
		t.Errorf("@odata.context = %v, want %v", got, want)
	}
	ids, _ := body["Ids"].([]any)
	if len(ids) != 3 || ids[2] != "5a1d0000-0000-4000-8000-000000000003" {
		t.Fatalf("Ids = %v", body["Ids"])
	}
	for i, id := range ids {
		row := e.do("GET", fmt.Sprintf("accounts(%s)?$select=name,statecode", id), nil).expect(t, 200).JSON(t)
		if row["name"] != fmt.Sprintf("bulk create %d", i) || fmt.Sprint(row["statecode"]) != "0" {
			t.Errorf("row %d = %v", i, row)
		}
	}
}

func TestUpdateAndUpsertMultiple(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ids := e.do("POST", "accounts/Microsoft.Dynamics.CRM.CreateMultiple", map[string]any{"Targets": accountTargets("bulk update", 2)}).expect(t, 200).JSON(t)["Ids"].([]any)

	// A later record for the same row is ignored.
	e.do("POST", "accounts/Microsoft.Dynamics.CRM.UpdateMultiple?tag=CreateUpdateMultiple", map[string]any{"Targets": []any{
		map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": ids[0], "name": "first", "accountnumber": "BU-1"},
		map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.account", "@odata.id": "accounts(" + ids[1].(string) + ")", "name": "second"},
		map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": ids[0], "name": "ignored"},
	}}).expect(t, 204)
	for id, want := range map[any]string{ids[0]: "first", ids[1]: "second"} {
		if got := e.do("GET", fmt.Sprintf("accounts(%s)?$select=name", id), nil).expect(t, 200).JSON(t)["name"]; got != want {
			t.Errorf("name of %v = %v, want %s", id, got, want)
		}
	}

	// UpsertMultiple by alternate key: BU-1 exists and is updated, BU-2 is created with its key.
	e.do("POST", "accounts/Microsoft.Dynamics.CRM.UpsertMultiple", map[string]any{"Targets": []any{
		map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.account", "@odata.id": "accounts(accountnumber='BU-1')", "name": "upserted"},
		map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.account", "@odata.id": "accounts(accountnumber='BU-2')", "name": "bulk update new"},
		map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": "5a1d0000-0000-4000-8000-0000000000aa", "name": "bulk update by id"},
	}}).expect(t, 204)
	if got := e.do("GET", fmt.Sprintf("accounts(%s)?$select=name", ids[0]), nil).expect(t, 200).JSON(t)["name"]; got != "upserted" {
		t.Errorf("upserted name = %v", got)
	}
	if got := e.do("GET", "accounts(accountnumber='BU-2')?$select=name", nil).expect(t, 200).JSON(t)["name"]; got != "bulk update new" {
		t.Errorf("created by key: name = %v", got)
	}
	e.do("GET", "accounts(5a1d0000-0000-4000-8000-0000000000aa)", nil).expect(t, 200)
}

func TestBulkErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	existing := e.do("POST", "accounts/Microsoft.Dynamics.CRM.CreateMultiple", map[string]any{"Targets": accountTargets("bulk err existing", 1)}).expect(t, 200).JSON(t)["Ids"].([]any)[0].(string)
	acct := func(m map[string]any) map[string]any {
		m["@odata.type"] = "Microsoft.Dynamics.CRM.account"
		return m
	}
	tests := []struct {
		name    string
		method  string
		path    string
		body    any
		status  int
		code    string
		message string // a prefix of the message
	}{
		{"missing Targets", "POST", "accounts/Microsoft.Dynamics.CRM.CreateMultiple", map[string]any{}, 400, "0x0",
			"One or more parameters of the operation 'CreateMultiple' are missing from the request payload. The missing parameters are: Targets."},
		{"unknown parameter", "POST", "accounts/Microsoft.Dynamics.CRM.CreateMultiple", map[string]any{"Targets": accountTargets("bulk err", 1), "Target": 1}, 400, "0x0",
			"An error occurred while validating input parameters: Microsoft.OData.ODataException: The parameter 'Target' in the request payload"},
		{"Targets not an array", "POST", "accounts/Microsoft.Dynamics.CRM.CreateMultiple", map[string]any{"Targets": map[string]any{}}, 400, "0x0", "An error occurred"},
		{"empty Targets", "POST", "accounts/Microsoft.Dynamics.CRM.CreateMultiple", map[string]any{"Targets": []any{}}, 400, "0x80040203", "The Targets parameter of CreateMultiple contains no records"},
		{"missing @odata.type", "POST", "accounts/Microsoft.Dynamics.CRM.CreateMultiple", map[string]any{"Targets": []any{acct(map[string]any{"name": "bulk err a"}), map[string]any{"name": "bulk err b"}}}, 400, "0x0",
			"Targets[1]: The record has no @odata.type annotation."},
		{"another table", "POST", "accounts/Microsoft.Dynamics.CRM.CreateMultiple", map[string]any{"Targets": []any{acct(map[string]any{"name": "bulk err a"}), map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.contact", "lastname": "x"}}}, 400, "0x0",
			"Targets[1]: The record is of type 'contact', but CreateMultiple on the entity set 'accounts' takes records of 'account' only"},
		{"unknown type", "POST", "accounts/Microsoft.Dynamics.CRM.CreateMultiple", map[string]any{"Targets": []any{map[string]any{"@odata.type": "account", "name": "x"}}}, 400, "0x0",
			"Targets[0]: An error occurred while validating input parameters: Microsoft.OData.ODataException: A type named 'account' could not be resolved by the model."},
		{"bad row rolls back", "POST", "accounts/Microsoft.Dynamics.CRM.CreateMultiple", map[string]any{"Targets": []any{acct(map[string]any{"name": "bulk err a"}), acct(map[string]any{"name": "bulk err b"}), acct(map[string]any{"name": strings.Repeat("x", 200)})}}, 400, "0x80044331",
			"Targets[2]: A validation error occurred.  The length of the 'name' attribute of the 'account' entity exceeded the maximum allowed length of '160'."},
		{"unknown column", "POST", "accounts/Microsoft.Dynamics.CRM.CreateMultiple", map[string]any{"Targets": []any{acct(map[string]any{"name": "bulk err a", "nope": 1})}}, 400, "0x0", "Targets[0]: An error occurred while validating input parameters: Microsoft.Crm.CrmException: Invalid property 'nope'"},
		{"duplicate id", "POST", "accounts/Microsoft.Dynamics.CRM.CreateMultiple", map[string]any{"Targets": []any{acct(map[string]any{"name": "bulk err a"}), acct(map[string]any{"name": "bulk err b", "accountid": existing})}}, 412, "0x80040237", "Targets[1]: "},
		{"wrong entity set", "POST", "acounts/Microsoft.Dynamics.CRM.CreateMultiple", map[string]any{"Targets": accountTargets("bulk err", 1)}, 404, "0x8006088a", "Resource not found for the segment 'acounts'."},
		{"bound to a row", "POST", "accounts(" + existing + ")/Microsoft.Dynamics.CRM.CreateMultiple", map[string]any{"Targets": accountTargets("bulk err", 1)}, 404, "0x8006088a", "Resource not found for the segment 'Microsoft.Dynamics.CRM.CreateMultiple'."},
		{"GET", "GET", "accounts/Microsoft.Dynamics.CRM.CreateMultiple", nil, 404, "", ""},
		{"activitypointer", "POST", "activitypointers/Microsoft.Dynamics.CRM.CreateMultiple", map[string]any{"Targets": []any{map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.activitypointer", "subject": "x"}}}, 400, "0x80040800",
			"The 'CreateMultiple' method does not support entities of type 'activitypointer'."},
		{"update without key", "POST", "accounts/Microsoft.Dynamics.CRM.UpdateMultiple", map[string]any{"Targets": []any{acct(map[string]any{"name": "bulk err a"})}}, 400, "0x80040203", "Targets[0]: Entity Id must be specified for Update"},
		{"update of missing rows", "POST", "accounts/Microsoft.Dynamics.CRM.UpdateMultiple", map[string]any{"Targets": []any{
			acct(map[string]any{"accountid": existing, "name": "bulk err a"}),
			acct(map[string]any{"accountid": "5a1d0000-0000-4000-8000-0000000000f1", "name": "bulk err b"}),
			acct(map[string]any{"accountid": "5a1d0000-0000-4000-8000-0000000000f2", "name": "bulk err c"}),
		}}, 404, "0x80040217", "Targets[1]: Account With Ids = 5a1d0000-0000-4000-8000-0000000000f1, 5a1d0000-0000-4000-8000-0000000000f2 Do Not Exist"},
		{"update by missing alternate key", "POST", "accounts/Microsoft.Dynamics.CRM.UpdateMultiple", map[string]any{"Targets": []any{acct(map[string]any{"@odata.id": "accounts(accountnumber='none')", "name": "bulk err a"})}}, 404, "0x80040217",
			"Targets[0]: A record with the specified key values does not exist in account entity"},
		{"upsert duplicates", "POST", "accounts/Microsoft.Dynamics.CRM.UpsertMultiple", map[string]any{"Targets": []any{
			acct(map[string]any{"@odata.id": "accounts(accountnumber='DUP')", "name": "bulk err a"}),
			acct(map[string]any{"@odata.id": "accounts(accountnumber='DUP')", "name": "bulk err b"}),
		}}, 400, "0x80040203", "Targets[1]: The record has the same key values as Targets[0]"},
		{"@odata.id of another table", "POST", "accounts/Microsoft.Dynamics.CRM.UpsertMultiple", map[string]any{"Targets": []any{acct(map[string]any{"@odata.id": "contacts(" + existing + ")", "name": "bulk err a"})}}, 400, "0x0",
			"Targets[0]: The @odata.id 'contacts(" + existing + ")' refers to a record of 'contact', not of 'account'."},
		{"not JSON", "POST", "accounts/Microsoft.Dynamics.CRM.CreateMultiple", "{", 400, "0x80048d19", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(tt.method, tt.path, tt.body)
			r.expect(t, tt.status)
			code, msg := r.Error(t)
			if code != tt.code || !strings.HasPrefix(msg, tt.message) {
				t.Errorf("error = %q %q, want %q and a message starting %q", code, msg, tt.code, tt.message)
			}
			if n := e.countAccounts(t, "bulk err "); n != 1 {
				t.Errorf("%d accounts named 'bulk err ...' after the failed call, want 1 (no partial write)", n)
			}
		})
	}
}

// TestBulkInChangeSet runs a CreateMultiple inside a $batch change set: it shares the change set's
// transaction, so a later failure in the change set takes its rows back too.
func TestBulkInChangeSet(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ops := []batchPart{
		{method: "POST", target: "/api/data/v9.2/accounts/Microsoft.Dynamics.CRM.CreateMultiple", body: `{"Targets":[{"@odata.type":"Microsoft.Dynamics.CRM.account","name":"cs bulk 0"}]}`, contentID: "1"},
		{method: "POST", target: "/api/data/v9.2/accounts", body: `{"nope":1}`, contentID: "2"},
	}
	body, ct := buildBatch(nil, ops)
	// The change set fails on its second request, after the CreateMultiple succeeded in it.
	e.do("POST", "$batch", body, "Content-Type", ct).expect(t, 400)
	if n := e.countAccounts(t, "cs bulk "); n != 0 {
		t.Errorf("%d rows left by a failed change set, want 0", n)
	}
}

func TestBulkWebhooks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bulkHook, bulkSrv := newHookCapture(t)
	rowHook, rowSrv := newHookCapture(t)
	e.register(t, bulkSrv.URL, 4, "k", "CreateMultiple", "account", 40, 0, nil)
	e.register(t, rowSrv.URL, 4, "k", "Create", "account", 20, 0, nil)

	ids := e.do("POST", "accounts/Microsoft.Dynamics.CRM.CreateMultiple", map[string]any{"Targets": accountTargets("hooked bulk", 3)}).expect(t, 200).JSON(t)["Ids"].([]any)
	// Both steps are synchronous: their calls arrived before the answer.
	if got := rowHook.count(); got != 3 {
		t.Errorf("Create step called %d times for a CreateMultiple of 3, want 3", got)
	}
	if got := bulkHook.count(); got != 1 {
		t.Fatalf("CreateMultiple step called %d times, want 1", got)
	}
	r, ctx := bulkHook.last()
	if r.Header.Get("x-ms-dynamics-request-name") != "CreateMultiple" || ctx["MessageName"] != "CreateMultiple" {
		t.Errorf("request name %q, MessageName %v", r.Header.Get("x-ms-dynamics-request-name"), ctx["MessageName"])
	}
	in := ctx["InputParameters"].([]any)[0].(map[string]any)
	coll := in["value"].(map[string]any)
	if in["key"] != "Targets" || coll["EntityName"] != "account" || len(coll["Entities"].([]any)) != 3 {
		t.Errorf("InputParameters = %v", ctx["InputParameters"])
	}
	var gotIDs []any
	for _, ent := range coll["Entities"].([]any) {
		gotIDs = append(gotIDs, ent.(map[string]any)["Id"])
	}
	if diff := cmp.Diff(ids, gotIDs); diff != "" {
		t.Errorf("Targets ids (-Ids +Targets):\n%s", diff)
	}
	out := ctx["OutputParameters"].([]any)
	if len(out) != 1 || out[0].(map[string]any)["key"] != "Ids" || len(out[0].(map[string]any)["value"].([]any)) != 3 {
		t.Errorf("OutputParameters = %v", out)
	}

	// A single-row Create runs the CreateMultiple step with Targets holding that row.
	id := idFromEntityID(t, e.do("POST", "accounts", map[string]any{"name": "hooked single"}).expect(t, 204).Header)
	if got := bulkHook.count(); got != 2 {
		t.Fatalf("CreateMultiple step called %d times after a single Create, want 2", got)
	}
	_, ctx = bulkHook.last()
	coll = ctx["InputParameters"].([]any)[0].(map[string]any)["value"].(map[string]any)
	ents := coll["Entities"].([]any)
	if ctx["MessageName"] != "CreateMultiple" || len(ents) != 1 || ents[0].(map[string]any)["Id"] != id || ctx["PrimaryEntityId"] != id {
		t.Errorf("context of a single Create seen by the CreateMultiple step: %v", ctx)
	}
	if got := rowHook.count(); got != 4 {
		t.Errorf("Create step called %d times, want 4", got)
	}

	// A failing bulk step fails the call and writes nothing.
	bulkHook.mu.Lock()
	bulkHook.status = http.StatusInternalServerError
	bulkHook.mu.Unlock()
	e.do("POST", "accounts/Microsoft.Dynamics.CRM.CreateMultiple", map[string]any{"Targets": accountTargets("hooked failing", 2)}).expect(t, 400)
	if n := e.countAccounts(t, "hooked failing"); n != 0 {
		t.Errorf("%d rows written by a call whose step failed", n)
	}
}

func TestUpdateMultipleWebhookFiltering(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	capt, hs := newHookCapture(t)
	_, stepID := e.register(t, hs.URL, 4, "k", "UpdateMultiple", "account", 20, 0, map[string]any{"filteringattributes": "revenue"})
	e.do("POST", "sdkmessageprocessingstepimages", map[string]any{
		"name": "pre", "entityalias": "PreImage", "imagetype": 0, "messagepropertyname": "Targets", "attributes": "name",
		"sdkmessageprocessingstepid@odata.bind": "/sdkmessageprocessingsteps(" + stepID + ")",
	}).expect(t, 204)
	ids := e.do("POST", "accounts/Microsoft.Dynamics.CRM.CreateMultiple", map[string]any{"Targets": accountTargets("filtered", 2)}).expect(t, 200).JSON(t)["Ids"].([]any)
	update := func(column string) {
		e.do("POST", "accounts/Microsoft.Dynamics.CRM.UpdateMultiple", map[string]any{"Targets": []any{
			map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": ids[0], column: 1},
			map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": ids[1], column: 2},
		}}).expect(t, 204)
	}
	update("numberofemployees")
	if capt.count() != 0 {
		t.Fatalf("a step filtered on revenue ran for an update of numberofemployees")
	}
	update("revenue")
	if capt.count() != 1 {
		t.Fatalf("UpdateMultiple step called %d times, want 1", capt.count())
	}
	_, ctx := capt.last()
	pre := ctx["PreEntityImagesCollection"].([]any)
	if len(pre) != 2 {
		t.Fatalf("PreEntityImagesCollection = %v", ctx["PreEntityImagesCollection"])
	}
	img := pre[1].([]any)[0].(map[string]any)
	attrs := img["value"].(map[string]any)["Attributes"].([]any)
	if img["key"] != "PreImage" || len(attrs) != 1 || attrs[0].(map[string]any)["value"] != "filtered 1" {
		t.Errorf("pre-image of the second row: %v", img)
	}
}
