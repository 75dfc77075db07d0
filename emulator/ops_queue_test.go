package emulator_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dynlocal/dynlocal/emulator"
	"github.com/dynlocal/dynlocal/fixtures"
)

const (
	qDanaID   = "4d2c9a10-5e1f-4b7a-9c3d-000000000011"
	qSystemID = "4d2c9a10-5e1f-4b7a-9c3d-000000000012"
	qUnitID   = "4d2c9a10-5e1f-4b7a-9c3d-000000000002"
)

// qCreate posts a record and returns its id.
func (e *env) qCreate(t *testing.T, set string, body map[string]any) string {
	t.Helper()
	return idFromEntityID(t, e.do("POST", set, body).expect(t, 204).Header)
}

// qTeamMembers lists the ids of a team's members, sorted.
func (e *env) qTeamMembers(t *testing.T, team string) []string {
	t.Helper()
	body := e.do("GET", "teams("+team+")/teammembership_association?$select=systemuserid", nil).expect(t, 200).JSON(t)
	ids := []string{}
	for _, v := range body["value"].([]any) {
		ids = append(ids, v.(map[string]any)["systemuserid"].(string))
	}
	sort.Strings(ids)
	return ids
}

func qMember(id string) map[string]any {
	return map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.systemuser", "systemuserid": id}
}

func TestAddAndRemoveMembersTeam(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	team := e.qCreate(t, "teams", map[string]any{"name": "Queue agents", "teamtype": 1, "businessunitid@odata.bind": "/businessunits(" + qUnitID + ")"})
	add := "teams(" + team + ")/Microsoft.Dynamics.CRM.AddMembersTeam"
	remove := "teams(" + team + ")/Microsoft.Dynamics.CRM.RemoveMembersTeam"

	e.do("POST", add, map[string]any{"Members": []any{qMember(qDanaID), qMember(qSystemID)}}).expect(t, 204)
	if diff := cmp.Diff([]string{qDanaID, qSystemID}, e.qTeamMembers(t, team)); diff != "" {
		t.Errorf("members after AddMembersTeam (-want +got):\n%s", diff)
	}
	// Adding a member again changes nothing.
	e.do("POST", add, map[string]any{"Members": []any{qMember(qDanaID)}}).expect(t, 204)
	e.do("POST", remove, map[string]any{"Members": []any{qMember(qSystemID)}}).expect(t, 204)
	if diff := cmp.Diff([]string{qDanaID}, e.qTeamMembers(t, team)); diff != "" {
		t.Errorf("members after RemoveMembersTeam (-want +got):\n%s", diff)
	}
	// The user's side sees the membership too.
	mine := e.do("GET", "systemusers("+qDanaID+")/teammembership_association?$select=name", nil).expect(t, 200).JSON(t)
	found := false
	for _, v := range mine["value"].([]any) {
		found = found || v.(map[string]any)["teamid"] == team
	}
	if !found {
		t.Errorf("Dana's teams = %v", mine["value"])
	}

	missing := "4d2c9a10-5e1f-4b7a-9c3d-0000000000ff"
	cases := []struct {
		name, path string
		body       any
		status     int
		code       string
	}{
		{"unknown user", add, map[string]any{"Members": []any{qMember(qDanaID), qMember(missing)}}, 404, "0x80040217"},
		{"unknown team", "teams(" + missing + ")/Microsoft.Dynamics.CRM.AddMembersTeam", map[string]any{"Members": []any{qMember(qDanaID)}}, 404, "0x80040217"},
		{"no members", add, map[string]any{}, 400, "0x0"},
		{"members not a list", add, map[string]any{"Members": "x"}, 400, "0x0"},
		{"member without id", add, map[string]any{"Members": []any{map[string]any{"fullname": "x"}}}, 400, "0x0"},
		{"member of another type", add, map[string]any{"Members": []any{map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.contact", "contactid": qDanaID}}}, 400, "0x0"},
		{"bound to another table", "accounts(" + missing + ")/Microsoft.Dynamics.CRM.AddMembersTeam", map[string]any{"Members": []any{}}, 404, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", c.path, c.body).expect(t, c.status)
			if c.code != "" {
				if code, msg := r.Error(t); code != c.code && !(c.code == "0x0" && code != "") {
					t.Errorf("code = %s (%s), want %s", code, msg, c.code)
				}
			}
		})
	}
	// A failed call wrote nothing: the unknown user's batch did not add Dana twice or anyone else.
	if diff := cmp.Diff([]string{qDanaID}, e.qTeamMembers(t, team)); diff != "" {
		t.Errorf("members after failed calls (-want +got):\n%s", diff)
	}
}

// TestMembersOfDefaultTeamAreFixed loads a business unit's default team as a fixture row (the Web
// API does not let a client set isdefault) and checks both messages refuse to change it.
func TestMembersOfDefaultTeamAreFixed(t *testing.T) {
	t.Parallel()
	set, err := fixtures.Default()
	if err != nil {
		t.Fatal(err)
	}
	const team = "4d2c9a10-5e1f-4b7a-9c3d-0000000000d1"
	withTeam := *set
	withTeam.Rows = append(append([]fixtures.Rows{}, set.Rows...), fixtures.Rows{EntitySet: "teams", Records: []json.RawMessage{
		json.RawMessage(`{"teamid":"` + team + `","name":"Default team","teamtype":0,"isdefault":true,"businessunitid@odata.bind":"/businessunits(` + qUnitID + `)"}`),
	}})
	e := newEnvWith(t, emulator.Config{Fixtures: &withTeam})
	e.do("POST", "teams("+team+")/Microsoft.Dynamics.CRM.AddMembersTeam", map[string]any{"Members": []any{qMember(qDanaID)}}).
		expectError(t, 400, "0x8004830B", "Can't add members to the default business unit team (TeamId = "+team+").")
	e.do("POST", "teams("+team+")/Microsoft.Dynamics.CRM.RemoveMembersTeam", map[string]any{"Members": []any{qMember(qDanaID)}}).
		expectError(t, 400, "0x8004830C", "Can't remove members from the default business unit team (TeamId = "+team+").")
}

func TestAddToQueueAndRemoveFromQueue(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	q1 := e.qCreate(t, "queues", map[string]any{"name": "Support"})
	q2 := e.qCreate(t, "queues", map[string]any{"name": "Escalations"})
	q3 := e.qCreate(t, "queues", map[string]any{"name": "Empty"})
	task := e.qCreate(t, "tasks", map[string]any{"subject": "Call back"})
	target := map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.task", "activityid": task}

	body := e.do("POST", "queues("+q1+")/Microsoft.Dynamics.CRM.AddToQueue", map[string]any{
		"Target": target, "QueueItemProperties": map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.queueitem", "priority": 2},
	}).expect(t, 200).JSON(t)
	if got, want := body["@odata.context"], e.api+"$metadata#Microsoft.Dynamics.CRM.AddToQueueResponse"; got != want {
		t.Errorf("@odata.context = %v, want %v", got, want)
	}
	item, _ := body["QueueItemId"].(string)
	row := e.do("GET", "queueitems("+item+")?$select=_queueid_value,_objectid_value,title,priority", nil).expect(t, 200).JSON(t)
	if row["_queueid_value"] != q1 || row["_objectid_value"] != task || row["title"] != "Call back" || fmt.Sprint(row["priority"]) != "2" {
		t.Errorf("queue item = %v", row)
	}
	// Adding it to the same queue again answers the same item.
	again := e.do("POST", "queues("+q1+")/Microsoft.Dynamics.CRM.AddToQueue", map[string]any{"Target": target}).expect(t, 200).JSON(t)
	if again["QueueItemId"] != item {
		t.Errorf("second AddToQueue = %v, want %s", again["QueueItemId"], item)
	}
	// With SourceQueue the item moves.
	moved := e.do("POST", "queues("+q2+")/Microsoft.Dynamics.CRM.AddToQueue", map[string]any{
		"Target": target, "SourceQueue": map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.queue", "queueid": q1},
	}).expect(t, 200).JSON(t)
	if moved["QueueItemId"] != item {
		t.Errorf("moved item = %v, want %s", moved["QueueItemId"], item)
	}
	if q := e.do("GET", "queueitems("+item+")?$select=_queueid_value", nil).expect(t, 200).JSON(t)["_queueid_value"]; q != q2 {
		t.Errorf("queue after move = %v, want %s", q, q2)
	}

	missing := "4d2c9a10-5e1f-4b7a-9c3d-0000000000ff"
	account := e.qCreate(t, "accounts", map[string]any{"name": "Not queueable"})
	closed := e.qCreate(t, "tasks", map[string]any{"subject": "Done"})
	e.do("PATCH", "tasks("+closed+")", map[string]any{"statecode": 1}).expect(t, 204)
	cases := []struct {
		name, queue string
		body        map[string]any
		status      int
		code        string
	}{
		{"unknown target", q1, map[string]any{"Target": map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.task", "activityid": missing}}, 404, "0x80040217"},
		{"target without type", q1, map[string]any{"Target": map[string]any{"activityid": task}}, 400, ""},
		{"table not enabled for queues", q1, map[string]any{"Target": map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": account}}, 400, "0x80040203"},
		{"closed target", q1, map[string]any{"Target": map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.task", "activityid": closed}}, 400, "0x8004051e"},
		{"source is the destination", q1, map[string]any{"Target": target, "SourceQueue": map[string]any{"queueid": q1}}, 400, "0x8004051b"},
		{"not in source queue", q1, map[string]any{"Target": target, "SourceQueue": map[string]any{"queueid": q3}}, 404, "0x80040217"},
		{"unknown queue", missing, map[string]any{"Target": target}, 404, "0x80040217"},
		{"no target", q1, map[string]any{}, 400, ""},
		{"bad properties", q1, map[string]any{"Target": target, "QueueItemProperties": map[string]any{"nosuchcolumn": 1}}, 400, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", "queues("+c.queue+")/Microsoft.Dynamics.CRM.AddToQueue", c.body).expect(t, c.status)
			if code, msg := r.Error(t); c.code != "" && code != c.code {
				t.Errorf("code = %s (%s), want %s", code, msg, c.code)
			}
		})
	}

	e.do("POST", "queueitems("+item+")/Microsoft.Dynamics.CRM.RemoveFromQueue", map[string]any{}).expect(t, 204)
	e.do("GET", "queueitems("+item+")", nil).expect(t, 404)
	e.do("POST", "queueitems("+item+")/Microsoft.Dynamics.CRM.RemoveFromQueue", nil).expect(t, 404)
	// The task itself stays.
	e.do("GET", "tasks("+task+")?$select=subject", nil).expect(t, 200)
}

func TestSendEmail(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	contact := e.qCreate(t, "contacts", map[string]any{"lastname": "Recipient", "emailaddress1": "r@example.com"})
	newEmail := func(subject string) string {
		return e.qCreate(t, "emails", map[string]any{
			"subject": subject, "description": "<p>Hello</p>",
			"email_activity_parties": []any{
				map[string]any{"partyid_systemuser@odata.bind": "/systemusers(" + qDanaID + ")", "participationtypemask": 1},
				map[string]any{"partyid_contact@odata.bind": "/contacts(" + contact + ")", "participationtypemask": 2, "addressused": "r@example.com"},
			},
		})
	}
	sent := newEmail("Quarterly figures")
	body := e.do("POST", "emails("+sent+")/Microsoft.Dynamics.CRM.SendEmail", map[string]any{"IssueSend": true, "TrackingToken": "CRM:0001"}).expect(t, 200).JSON(t)
	want := map[string]any{"@odata.context": e.api + "$metadata#Microsoft.Dynamics.CRM.SendEmailResponse", "Subject": "Quarterly figures"}
	if diff := cmp.Diff(want, body); diff != "" {
		t.Errorf("SendEmail answer (-want +got):\n%s", diff)
	}
	row := e.do("GET", "emails("+sent+")?$select=statecode,statuscode,senton,trackingtoken", nil).expect(t, 200).JSON(t)
	if fmt.Sprintf("%v %v %v", row["statecode"], row["statuscode"], row["trackingtoken"]) != "1 3 CRM:0001" || row["senton"] == nil {
		t.Errorf("sent email = %v", row)
	}

	marked := newEmail("Marked only")
	e.do("POST", "emails("+marked+")/Microsoft.Dynamics.CRM.SendEmail", map[string]any{"IssueSend": false}).expect(t, 200)
	if row := e.do("GET", "emails("+marked+")?$select=statecode,statuscode", nil).expect(t, 200).JSON(t); fmt.Sprintf("%v %v", row["statecode"], row["statuscode"]) != "1 3" {
		t.Errorf("marked email = %v", row)
	}

	// Only the email actually sent is in the outbox.
	out := e.do("GET", "/_emulator/emails", nil).expect(t, 200).JSON(t)["value"].([]any)
	if len(out) != 1 {
		t.Fatalf("outbox = %v", out)
	}
	m := out[0].(map[string]any)
	to := m["to"].([]any)
	if m["emailId"] != sent || m["subject"] != "Quarterly figures" || m["trackingToken"] != "CRM:0001" || len(to) != 1 ||
		to[0].(map[string]any)["address"] != "r@example.com" || len(m["from"].([]any)) != 1 {
		t.Errorf("outbox entry = %v", m)
	}

	e.do("POST", "emails("+sent+")/Microsoft.Dynamics.CRM.SendEmail", map[string]any{"IssueSend": true}).expectError(t, 400, "0x80040230", "")
	e.do("POST", "emails("+newEmail("x")+")/Microsoft.Dynamics.CRM.SendEmail", map[string]any{}).expect(t, 400)
	e.do("POST", "emails("+newEmail("y")+")/Microsoft.Dynamics.CRM.SendEmail", map[string]any{"IssueSend": "yes"}).expect(t, 400)
	e.do("POST", "emails(4d2c9a10-5e1f-4b7a-9c3d-0000000000ff)/Microsoft.Dynamics.CRM.SendEmail", map[string]any{"IssueSend": true}).expect(t, 404)
	if n := len(e.do("GET", "/_emulator/emails", nil).expect(t, 200).JSON(t)["value"].([]any)); n != 1 {
		t.Errorf("outbox after refused calls holds %d emails", n)
	}
	e.do("DELETE", "/_emulator/emails", nil).expect(t, 204)
	if n := len(e.do("GET", "/_emulator/emails", nil).expect(t, 200).JSON(t)["value"].([]any)); n != 0 {
		t.Errorf("outbox after DELETE holds %d emails", n)
	}
}

// qBulkDeleteBody is a BulkDelete call with the given queries and the parameters the reference
// marks as required.
func qBulkDeleteBody(queries ...any) map[string]any {
	return map[string]any{
		"QuerySet": queries, "JobName": "Clean up", "SendEmailNotification": false,
		"ToRecipients": []any{}, "CCRecipients": []any{}, "RecurrencePattern": "", "StartDateTime": "2026-03-14T15:09:26Z",
	}
}

func qCondition(attr, op string, values ...any) map[string]any {
	vals := []any{}
	for _, v := range values {
		vals = append(vals, map[string]any{"Type": "System.String", "Value": v})
	}
	return map[string]any{"AttributeName": attr, "Operator": op, "Values": vals}
}

func TestBulkDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := range 3 {
		e.qCreate(t, "accounts", map[string]any{"name": fmt.Sprintf("bulkdel doomed %d", i)})
	}
	kept := e.qCreate(t, "accounts", map[string]any{"name": "bulkdel kept"})
	query := map[string]any{
		"@odata.type": "Microsoft.Dynamics.CRM.QueryExpression",
		"EntityName":  "account",
		"ColumnSet":   map[string]any{"AllColumns": false, "Columns": []any{"accountid"}},
		"Criteria": map[string]any{"FilterOperator": "And", "Conditions": []any{
			qCondition("name", "BeginsWith", "bulkdel doomed"),
		}},
	}
	body := e.do("POST", "BulkDelete", qBulkDeleteBody(query)).expect(t, 200).JSON(t)
	if got, want := body["@odata.context"], e.api+"$metadata#Microsoft.Dynamics.CRM.BulkDeleteResponse"; got != want {
		t.Errorf("@odata.context = %v, want %v", got, want)
	}
	job, _ := body["JobId"].(string)
	if n := e.countAccounts(t, "bulkdel"); n != 1 {
		t.Errorf("%d accounts left, want 1", n)
	}
	e.do("GET", "accounts("+kept+")", nil).expect(t, 200)
	row := e.do("GET", "asyncoperations("+job+")?$select=name,operationtype,statecode,statuscode,data", nil).expect(t, 200).JSON(t)
	if fmt.Sprint(row["name"], "|", row["operationtype"], "|", row["statecode"], "|", row["statuscode"]) != "Clean up|13|3|30" ||
		!strings.Contains(fmt.Sprint(row["data"]), `"SuccessCount":3`) {
		t.Errorf("job = %v", row)
	}

	// Or-filters and nested filters.
	a := e.qCreate(t, "accounts", map[string]any{"name": "bulkdel or a"})
	e.qCreate(t, "accounts", map[string]any{"name": "bulkdel or b"})
	e.do("POST", "BulkDelete", qBulkDeleteBody(map[string]any{"EntityName": "account", "Criteria": map[string]any{
		"FilterOperator": "Or",
		"Conditions":     []any{qCondition("name", "Equal", "bulkdel or b")},
		"Filters":        []any{map[string]any{"Conditions": []any{qCondition("accountid", "In", a, kept)}}},
	}})).expect(t, 200)
	if n := e.countAccounts(t, "bulkdel"); n != 0 {
		t.Errorf("%d accounts left after the Or query, want 0", n)
	}

	e.qCreate(t, "accounts", map[string]any{"name": "bulkdel survivor"})
	cases := []struct {
		name string
		body map[string]any
	}{
		{"unknown table", qBulkDeleteBody(map[string]any{"EntityName": "nosuchtable"})},
		{"unknown column", qBulkDeleteBody(map[string]any{"EntityName": "account", "Criteria": map[string]any{"Conditions": []any{qCondition("nosuch", "Equal", "x")}}})},
		{"unsupported operator", qBulkDeleteBody(map[string]any{"EntityName": "account", "Criteria": map[string]any{"Conditions": []any{qCondition("name", "Sideways", "x")}}})},
		{"link entities", qBulkDeleteBody(map[string]any{"EntityName": "account", "LinkEntities": []any{map[string]any{"LinkToEntityName": "contact"}}})},
		{"unknown member", qBulkDeleteBody(map[string]any{"EntityName": "account", "Frobnicate": true})},
		{"fetch expression", qBulkDeleteBody(map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.FetchExpression", "Query": "<fetch/>"})},
		{"no queries", qBulkDeleteBody()},
		{"query not an object", qBulkDeleteBody("account")},
		{"missing job name", func() map[string]any {
			b := qBulkDeleteBody(map[string]any{"EntityName": "account"})
			delete(b, "JobName")
			return b
		}()},
		// The second query is bad: the first deletes nothing either.
		{"second query bad", qBulkDeleteBody(map[string]any{"EntityName": "account"}, map[string]any{"EntityName": "nosuchtable"})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", "BulkDelete", c.body).expect(t, 400)
			if code, _ := r.Error(t); code == "" {
				t.Errorf("no error code: %s", r.Body)
			}
		})
	}
	if n := e.countAccounts(t, "bulkdel"); n != 1 {
		t.Errorf("%d accounts left after refused calls, want 1", n)
	}
	e.do("GET", "BulkDelete", nil).expect(t, 404)
}

// TestBulkDeleteJobFails deletes a row another restricts (the base currency, which priced
// accounts refer to): the call still answers its job, the job is Failed with the error, and
// nothing is deleted.
func TestBulkDeleteJobFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.qCreate(t, "accounts", map[string]any{"name": "priced", "revenue": 1000})
	query := map[string]any{"EntityName": "transactioncurrency", "Criteria": map[string]any{"Conditions": []any{qCondition("isocurrencycode", "Equal", "USD")}}}
	job := e.do("POST", "BulkDelete", qBulkDeleteBody(query)).expect(t, 200).JSON(t)["JobId"].(string)
	row := e.do("GET", "asyncoperations("+job+")?$select=statecode,statuscode,message,data", nil).expect(t, 200).JSON(t)
	if fmt.Sprintf("%v %v", row["statecode"], row["statuscode"]) != "3 31" || row["message"] == nil ||
		!strings.Contains(fmt.Sprint(row["data"]), `"FailureCount":1`) {
		t.Errorf("job = %v", row)
	}
	if v := e.do("GET", "transactioncurrencies?$select=isocurrencycode&$filter=isocurrencycode%20eq%20'USD'", nil).expect(t, 200).JSON(t)["value"].([]any); len(v) != 1 {
		t.Errorf("USD currency rows = %v", v)
	}
}
