package emulator_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const formattedValues = `odata.include-annotations="OData.Community.Display.V1.FormattedValue"`

// stateOf reads a row's statecode and statuscode with their labels.
func (e *env) stateOf(t *testing.T, path string) map[string]any {
	t.Helper()
	got := e.do("GET", path+"?$select=statecode,statuscode", nil, "Prefer", formattedValues).expect(t, 200).JSON(t)
	out := map[string]any{}
	for k, v := range got {
		if strings.HasPrefix(k, "statecode") || strings.HasPrefix(k, "statuscode") {
			out[k] = v
		}
	}
	return out
}

// stateWant is what stateOf returns for a state and status with their labels.
func stateWant(state int, stateLabel string, status int, statusLabel string) map[string]any {
	return map[string]any{
		"statecode": json.Number(itoa(state)), "statecode@OData.Community.Display.V1.FormattedValue": stateLabel,
		"statuscode": json.Number(itoa(status)), "statuscode@OData.Community.Display.V1.FormattedValue": statusLabel,
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// A state set without a status takes the state's DefaultStatus from the metadata, which for
// letter is not the state's first status; the formatted values name what is stored.
func TestStateDefaultStatus(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := idFromEntityID(t, e.do("POST", "letters", map[string]any{"subject": "state"}).expect(t, 204).Header)
	path := "letters(" + id + ")"
	if diff := cmp.Diff(stateWant(0, "Open", 2, "Draft"), e.stateOf(t, path)); diff != "" {
		t.Errorf("new letter (-want +got):\n%s", diff)
	}
	e.do("PATCH", path, map[string]any{"statecode": 1}).expect(t, 204)
	if diff := cmp.Diff(stateWant(1, "Completed", 4, "Sent"), e.stateOf(t, path)); diff != "" {
		t.Errorf("completed letter (-want +got):\n%s", diff)
	}
	e.do("PATCH", path, map[string]any{"statecode": 0}).expect(t, 204)
	if diff := cmp.Diff(stateWant(0, "Open", 2, "Draft"), e.stateOf(t, path)); diff != "" {
		t.Errorf("reopened letter (-want +got):\n%s", diff)
	}

	qid := idFromEntityID(t, e.do("POST", "quotes", map[string]any{"name": "state"}).expect(t, 204).Header)
	e.do("PATCH", "quotes("+qid+")", map[string]any{"statecode": 3}).expect(t, 204)
	if diff := cmp.Diff(stateWant(3, "Closed", 7, "Revised"), e.stateOf(t, "quotes("+qid+")")); diff != "" {
		t.Errorf("closed quote (-want +got):\n%s", diff)
	}
}

// Writes that keep the pair valid are taken, and the labels follow what is stored.
func TestStateValidWrites(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accounts := func() string {
		return "accounts(" + idFromEntityID(t, e.do("POST", "accounts", map[string]any{"name": "state"}).expect(t, 204).Header) + ")"
	}
	tests := []struct {
		name   string
		create func() string
		body   map[string]any
		want   map[string]any
	}{
		{"state alone gets its default status", accounts, map[string]any{"statecode": 1}, stateWant(1, "Inactive", 2, "Inactive")},
		{"state and status together", accounts, map[string]any{"statecode": 1, "statuscode": 2}, stateWant(1, "Inactive", 2, "Inactive")},
		{"status of the stored state", func() string {
			p := accounts()
			e.do("PATCH", p, map[string]any{"statecode": 1}).expect(t, 204)
			return p
		}, map[string]any{"statuscode": 2}, stateWant(1, "Inactive", 2, "Inactive")},
		{"null status is the state's default", func() string {
			p := accounts()
			e.do("PATCH", p, map[string]any{"statecode": 1}).expect(t, 204)
			return p
		}, map[string]any{"statuscode": nil}, stateWant(1, "Inactive", 2, "Inactive")},
		{"reactivate", func() string {
			p := accounts()
			e.do("PATCH", p, map[string]any{"statecode": 1}).expect(t, 204)
			return p
		}, map[string]any{"statecode": 0}, stateWant(0, "Active", 1, "Active")},
		{"another status of an open task", func() string {
			return "tasks(" + idFromEntityID(t, e.do("POST", "tasks", map[string]any{"subject": "state"}).expect(t, 204).Header) + ")"
		}, map[string]any{"statuscode": 3}, stateWant(0, "Open", 3, "In Progress")},
		{"reopen an opportunity on hold", func() string {
			return "opportunities(" + idFromEntityID(t, e.do("POST", "opportunities", map[string]any{"name": "state"}).expect(t, 204).Header) + ")"
		}, map[string]any{"statecode": 0, "statuscode": 2}, stateWant(0, "Open", 2, "On Hold")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.create()
			e.do("PATCH", path, tt.body).expect(t, 204)
			if diff := cmp.Diff(tt.want, e.stateOf(t, path)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

}

// A status that does not belong to the row's state is refused with InvalidStateCodeStatusCode,
// and nothing is written. A status alone is checked against the state the row is (or starts) in.
func TestStateStatusOfAnotherStateRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const accountID = "6e0c2d6a-5b1f-4a57-9d0b-6a3c1f0e2a01"
	const taskID = "6e0c2d6a-5b1f-4a57-9d0b-6a3c1f0e2a02"
	const upsertID = "6e0c2d6a-5b1f-4a57-9d0b-6a3c1f0e2a03"
	existing := idFromEntityID(t, e.do("POST", "accounts", map[string]any{"name": "active"}).expect(t, 204).Header)
	tests := []struct {
		name, method, path string
		body               any
		message            string
	}{
		{"create with a status of another state", "POST", "accounts", map[string]any{"accountid": accountID, "name": "x", "statuscode": 2},
			"2 is not a valid status code for state code AccountState.Active on account with Id " + accountID + "."},
		// account.statecode is not valid for create: Dataverse ignores it and checks the status
		// against the state a new account starts in.
		{"create inactive where statecode is not valid for create", "POST", "accounts", map[string]any{"accountid": accountID, "name": "x", "statecode": 1, "statuscode": 2},
			"2 is not a valid status code for state code AccountState.Active on account with Id " + accountID + "."},
		{"create with a mismatched pair", "POST", "tasks", map[string]any{"activityid": taskID, "subject": "x", "statecode": 0, "statuscode": 5},
			"5 is not a valid status code for state code TaskState.Open on task with Id " + taskID + "."},
		{"upsert that creates", "PATCH", "accounts(" + upsertID + ")", map[string]any{"name": "x", "statuscode": 2},
			"2 is not a valid status code for state code AccountState.Active on account with Id " + upsertID + "."},
		{"update with a status of another state", "PATCH", "accounts(" + existing + ")", map[string]any{"statuscode": 2},
			"2 is not a valid status code for state code AccountState.Active on account with Id " + existing + "."},
		{"update with a mismatched pair", "PATCH", "accounts(" + existing + ")", map[string]any{"name": "renamed", "statecode": 1, "statuscode": 1},
			"1 is not a valid status code for state code AccountState.Inactive on account with Id " + existing + "."},
		{"put of the status alone", "PUT", "accounts(" + existing + ")/statuscode", map[string]any{"value": 2},
			"2 is not a valid status code for state code AccountState.Active on account with Id " + existing + "."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.do(tt.method, tt.path, tt.body).expectError(t, 400, "0x80048408", tt.message)
		})
	}
	for _, id := range []string{"accounts(" + accountID + ")", "tasks(" + taskID + ")", "accounts(" + upsertID + ")"} {
		e.do("GET", id, nil).expect(t, 404)
	}
	got := e.do("GET", "accounts("+existing+")?$select=name,statecode,statuscode", nil).expect(t, 200).JSON(t)
	if got["name"] != "active" || got["statecode"] != json.Number("0") || got["statuscode"] != json.Number("1") {
		t.Errorf("refused writes changed the row: %v", got)
	}
}

// A null statecode is refused rather than stored.
func TestStateNullStateRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := idFromEntityID(t, e.do("POST", "accounts", map[string]any{"name": "x"}).expect(t, 204).Header)
	e.do("PATCH", "accounts("+id+")", map[string]any{"statecode": nil}).expectError(t, 400, "0x80048408",
		"State code is invalid or state code is valid but status code is invalid for a specified state code.")
	if diff := cmp.Diff(stateWant(0, "Active", 1, "Active"), e.stateOf(t, "accounts("+id+")")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// An opportunity is won or lost only through WinOpportunity and LoseOpportunity: a plain update
// that sets those states is refused.
func TestStateOpportunityClosingStatesRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := idFromEntityID(t, e.do("POST", "opportunities", map[string]any{"name": "open"}).expect(t, 204).Header)
	won := "This message can not be used to set the state of opportunity to won. In order to set state of opportunity to won, use the won message instead."
	lost := "This message can not be used to set the state of opportunity to lost. In order to set state of opportunity to lost, use the lost message instead."
	// opportunity.statecode is not valid for create, so a won opportunity in a create is a status
	// of another state.
	const wonID = "6e0c2d6a-5b1f-4a57-9d0b-6a3c1f0e2a05"
	e.do("POST", "opportunities", map[string]any{"opportunityid": wonID, "name": "won", "statecode": 1, "statuscode": 3}).expectError(t, 400, "0x80048408",
		"3 is not a valid status code for state code OpportunityState.Open on opportunity with Id "+wonID+".")
	e.do("PATCH", "opportunities("+id+")", map[string]any{"statecode": 1}).expectError(t, 400, "0x80100005", won)
	e.do("PATCH", "opportunities("+id+")", map[string]any{"statecode": 2, "statuscode": 5}).expectError(t, 400, "0x80100005", lost)
	if diff := cmp.Diff(stateWant(0, "Open", 1, "In Progress"), e.stateOf(t, "opportunities("+id+")")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	got := e.do("GET", "opportunities?"+escapeQuery("$select=name&$filter=name eq 'won'"), nil).expect(t, 200).JSON(t)
	if v := got["value"].([]any); len(v) != 0 {
		t.Errorf("refused create left rows: %v", v)
	}
}

// Inside a change set the same rules apply, and a refusal rolls the whole change set back.
func TestStateInBatchChangeSet(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const id = "6e0c2d6a-5b1f-4a57-9d0b-6a3c1f0e2a04"
	body, ct := buildBatch(nil, []batchPart{
		{method: "POST", target: e.api + "accounts", body: `{"accountid":"` + id + `","name":"batch state"}`, contentID: "1"},
		{method: "PATCH", target: "$1", body: `{"statuscode":2}`, contentID: "2"},
	})
	r := e.do("POST", "$batch", body, "Content-Type", ct)
	res := parseBatchResponse(t, r)
	if len(res) != 1 || res[0].Status != 400 || !strings.Contains(res[0].Body, `"code":"0x80048408"`) ||
		!strings.Contains(res[0].Body, "2 is not a valid status code for state code AccountState.Active on account with Id "+id+".") {
		t.Fatalf("batch answer: %+v", res)
	}
	e.do("GET", "accounts("+id+")", nil).expect(t, 404)

	body, ct = buildBatch(nil, []batchPart{
		{method: "POST", target: e.api + "accounts", body: `{"accountid":"` + id + `","name":"batch state"}`, contentID: "1"},
		{method: "PATCH", target: "$1", body: `{"statecode":1}`, contentID: "2"},
	})
	e.do("POST", "$batch", body, "Content-Type", ct).expect(t, 200)
	if diff := cmp.Diff(stateWant(1, "Inactive", 2, "Inactive"), e.stateOf(t, "accounts("+id+")")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
