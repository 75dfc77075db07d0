package emulator_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dynlocal/dynlocal/client"
	"github.com/dynlocal/dynlocal/client/webhook"
)

// defineCustomAPI creates a custom API with its request parameters and response properties in
// one deep insert, as makers do through the Web API.
func (e *env) defineCustomAPI(t *testing.T, api map[string]any, params, props []map[string]any) string {
	t.Helper()
	body := map[string]any{"description": "test", "displayname": api["uniquename"], "name": api["uniquename"]}
	for k, v := range api {
		body[k] = v
	}
	fill := func(list []map[string]any) []map[string]any {
		out := []map[string]any{}
		for _, p := range list {
			m := map[string]any{"description": "d", "displayname": p["uniquename"], "name": p["uniquename"]}
			for k, v := range p {
				m[k] = v
			}
			out = append(out, m)
		}
		return out
	}
	body["CustomAPIRequestParameters"] = fill(params)
	body["CustomAPIResponseProperties"] = fill(props)
	return idFromEntityID(t, e.do("POST", "customapis", body).expect(t, 204).Header)
}

// registerAPIStep registers a webhook step on a custom API's message (no filter).
func (e *env) registerAPIStep(t *testing.T, url, message string, stage, mode int) string {
	t.Helper()
	endpointID := idFromEntityID(t, e.do("POST", "serviceendpoints", map[string]any{
		"name": "hook " + message, "contract": 8, "url": url, "authtype": 5, "authvalue": "<settings><setting name=\"x-key\" value=\"s3cret\" /></settings>", "messageformat": 2,
	}).expect(t, 204).Header)
	msgs := e.do("GET", "sdkmessages?"+escapeQuery("$select=name,categoryname&$filter=name eq '"+message+"'"), nil).expect(t, 200).JSON(t)["value"].([]any)
	if len(msgs) != 1 {
		t.Fatalf("sdkmessages named %s: %v", message, msgs)
	}
	msgID := msgs[0].(map[string]any)["sdkmessageid"].(string)
	return idFromEntityID(t, e.do("POST", "sdkmessageprocessingsteps", map[string]any{
		"name": "step " + message, "stage": stage, "mode": mode, "rank": 1, "supporteddeployment": 0,
		"sdkmessageid@odata.bind":                 "/sdkmessages(" + msgID + ")",
		"eventhandler_serviceendpoint@odata.bind": "/serviceendpoints(" + endpointID + ")",
	}).expect(t, 204).Header)
}

func TestCustomAPIUnboundAction(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.newClient(t)
	ctx := context.Background()
	e.defineCustomAPI(t, map[string]any{"uniquename": "test_Reverse", "bindingtype": 0, "isfunction": false},
		[]map[string]any{
			{"uniquename": "Text", "type": 10, "isoptional": false},
			{"uniquename": "Times", "type": 7, "isoptional": true},
			{"uniquename": "When", "type": 1, "isoptional": true},
			{"uniquename": "Amount", "type": 8, "isoptional": true},
			{"uniquename": "Choice", "type": 9, "isoptional": true},
			{"uniquename": "Who", "type": 5, "isoptional": true},
			{"uniquename": "Tags", "type": 11, "isoptional": true},
		},
		[]map[string]any{
			{"uniquename": "Reversed", "type": 10},
			{"uniquename": "Length", "type": 7},
			{"uniquename": "Stamp", "type": 1},
			{"uniquename": "Total", "type": 8},
			{"uniquename": "Owner", "type": 5},
			{"uniquename": "Created", "type": 10},
			{"uniquename": "Missing", "type": 0},
		})

	// Dataverse creates the custom API's message.
	msgs := e.do("GET", "sdkmessages?"+escapeQuery("$select=name,categoryname&$filter=name eq 'test_Reverse'"), nil).expect(t, 200).JSON(t)["value"].([]any)
	if len(msgs) != 1 {
		t.Fatalf("sdkmessage not created: %v", msgs)
	}

	var mu sync.Mutex
	var got *webhook.Event
	recv := webhook.NewOperationReceiver(webhook.Auth{Headers: map[string]string{"x-key": "s3cret"}}, func(ctx context.Context, ev *webhook.Event) (map[string]any, error) {
		mu.Lock()
		got = ev
		mu.Unlock()
		text, _ := ev.InputParameters["Text"].(string)
		if text == "fail" {
			return nil, &webhook.OperationError{Message: "The text may not be 'fail'."}
		}
		// The main operation may call the Web API back: no transaction is held during the call.
		task, _, err := c.CreateRecord(ctx, "tasks", client.Record{"subject": "reversed " + text}, &client.CreateOptions{ReturnRepresentation: true})
		if err != nil {
			return nil, err
		}
		r := []rune(text)
		for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
			r[i], r[j] = r[j], r[i]
		}
		return map[string]any{
			"Reversed": string(r),
			"Length":   len(r),
			"Stamp":    ev.OperationCreatedOn,
			"Total":    webhook.Money{Value: "12.50"},
			"Owner":    &webhook.EntityReference{LogicalName: "systemuser", ID: ev.UserID},
			"Created":  task["activityid"],
		}, nil
	})
	hook := httptest.NewServer(recv)
	t.Cleanup(hook.Close)
	e.registerAPIStep(t, hook.URL, "test_Reverse", 30, 0)

	out, _, err := c.CallAction(ctx, "test_Reverse", map[string]any{
		"Text": "dynlocal", "Times": 2, "When": "2026-03-14T15:09:26Z", "Amount": 3.5, "Choice": 1,
		"Who":  map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.systemuser", "systemuserid": "00000000-0000-0000-0000-0000000000a1"},
		"Tags": []string{"a", "b"},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out["Reversed"] != "lacolnyd" || out["Missing"] != nil || !strings.HasSuffix(out["@odata.context"].(string), "$metadata#Microsoft.Dynamics.CRM.test_ReverseResponse") {
		t.Errorf("answer = %v", out)
	}
	if out["Stamp"] != "2026-03-14T15:09:26Z" || out["Total"] != json.Number("12.50") || out["Length"] != json.Number("8") {
		t.Errorf("typed answer = %v", out)
	}
	if owner, _ := out["Owner"].(map[string]any); owner["@odata.type"] != "#Microsoft.Dynamics.CRM.systemuser" || owner["systemuserid"] == nil {
		t.Errorf("Owner = %v", out["Owner"])
	}
	task := e.do("GET", "tasks("+out["Created"].(string)+")?$select=subject", nil).expect(t, 200).JSON(t)
	if task["subject"] != "reversed dynlocal" {
		t.Errorf("task written by the main operation = %v", task)
	}
	mu.Lock()
	ev := got
	mu.Unlock()
	if ev.MessageName != "test_Reverse" || ev.Stage != 30 || ev.PrimaryEntityName != "none" {
		t.Errorf("context: message %q stage %d entity %q", ev.MessageName, ev.Stage, ev.PrimaryEntityName)
	}
	in := ev.InputParameters
	if in["Times"] != json.Number("2") || in["Choice"] != (webhook.OptionSetValue{Value: 1}) || in["Amount"] != (webhook.Money{Value: "3.5"}) {
		t.Errorf("inputs = %#v", in)
	}
	if who, _ := in["Who"].(*webhook.EntityReference); who == nil || who.LogicalName != "systemuser" || who.ID != "00000000-0000-0000-0000-0000000000a1" {
		t.Errorf("Who = %#v", in["Who"])
	}
	if when, _ := in["When"].(interface{ Unix() int64 }); when == nil || when.Unix() != 1773500966 {
		t.Errorf("When = %#v", in["When"])
	}

	// $metadata declares the action and its response type.
	csdl := string(e.do("GET", "$metadata", nil).expect(t, 200).Body)
	for _, want := range []string{`<ComplexType Name="test_ReverseResponse">`, `<Action Name="test_Reverse">`,
		`<Parameter Name="Text" Type="Edm.String" Nullable="false"`, `<Parameter Name="Amount" Type="Edm.Decimal"`,
		`<Parameter Name="Who" Type="mscrm.crmbaseentity"`, `<Parameter Name="Tags" Type="Collection(Edm.String)"`} {
		if !strings.Contains(csdl, want) {
			t.Errorf("$metadata lacks %s", want)
		}
	}

	// Bad input is refused before the main operation runs.
	calls := func() *webhook.Event { mu.Lock(); defer mu.Unlock(); return got }
	before := calls()
	for _, tc := range []struct {
		name string
		body map[string]any
		msg  string
	}{
		{"required missing", map[string]any{"Times": 1}, "The parameter 'Text' of the operation 'test_Reverse' is required"},
		{"wrong type", map[string]any{"Text": 5}, "Cannot convert the value of the parameter 'Text' to the expected type 'Edm.String'"},
		{"int32 overflow", map[string]any{"Text": "x", "Times": 3000000000}, "Cannot convert the value of the parameter 'Times'"},
		{"unknown", map[string]any{"Text": "x", "Nope": 1}, "The parameter 'Nope' in the request payload is not a valid parameter"},
		{"bad reference", map[string]any{"Text": "x", "Who": map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.nosuch"}}, "Cannot convert the value of the parameter 'Who'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "test_Reverse", tc.body).expect(t, 400)
			if _, msg := r.Error(t); !strings.Contains(msg, tc.msg) {
				t.Errorf("message = %q, want %q", msg, tc.msg)
			}
		})
	}
	if calls() != before {
		t.Error("the main operation ran for a refused call")
	}
	// A function call of an action has no route.
	e.do("GET", "test_Reverse(Text='x')", nil).expect(t, 404)

	// The main operation's exception fails the call with its message.
	_, _, err = c.CallAction(ctx, "test_Reverse", map[string]any{"Text": "fail"}, nil)
	var ce *client.Error
	if !errors.As(err, &ce) || ce.StatusCode != 400 || ce.Message != "The text may not be 'fail'." {
		t.Fatalf("failing main operation: %v", err)
	}
}

func TestCustomAPIBoundFunctionAndStages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.newClient(t)
	ctx := context.Background()
	e.defineCustomAPI(t, map[string]any{"uniquename": "test_Score", "bindingtype": 1, "boundentitylogicalname": "account", "isfunction": true},
		[]map[string]any{{"uniquename": "Factor", "type": 7, "isoptional": false}},
		[]map[string]any{{"uniquename": "Score", "type": 7}, {"uniquename": "Name", "type": 10}})
	acct := idFromEntityID(t, e.do("POST", "accounts", map[string]any{"name": "Contoso"}).expect(t, 204).Header)

	// Without a main operation the call answers null properties.
	out, _, err := c.CallFunction(ctx, "accounts("+acct+")/Microsoft.Dynamics.CRM.test_Score", map[string]any{"Factor": 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out["Score"] != nil || out["Name"] != nil {
		t.Errorf("without a main operation: %v", out)
	}

	pre, preSrv := newHookCapture(t)
	post, postSrv := newHookCapture(t)
	var seen []string
	var mu sync.Mutex
	recv := webhook.NewOperationReceiver(webhook.Auth{}, func(ctx context.Context, ev *webhook.Event) (map[string]any, error) {
		mu.Lock()
		seen = append(seen, ev.TargetReference.LogicalName+":"+ev.TargetReference.ID)
		mu.Unlock()
		f, _ := ev.InputParameters["Factor"].(json.Number).Int64()
		return map[string]any{"Score": 21 * f, "Name": "scored"}, nil
	})
	main := httptest.NewServer(recv)
	t.Cleanup(main.Close)
	e.registerAPIStep(t, preSrv.URL, "test_Score", 20, 0)
	e.registerAPIStep(t, main.URL, "test_Score", 30, 0)
	e.registerAPIStep(t, postSrv.URL, "test_Score", 40, 0)

	out, _, err = c.CallFunction(ctx, "accounts("+acct+")/Microsoft.Dynamics.CRM.test_Score", map[string]any{"Factor": 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"Score": json.Number("42"), "Name": "scored"}, map[string]any{"Score": out["Score"], "Name": out["Name"]}); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}
	if len(seen) != 1 || seen[0] != "account:"+acct {
		t.Errorf("main operation targets = %v", seen)
	}
	pre.wait(t, 1)
	post.wait(t, 1)
	_, preCtx := pre.last()
	_, postCtx := post.last()
	if preCtx["Stage"] != float64(20) || postCtx["Stage"] != float64(40) || postCtx["PrimaryEntityId"] != acct {
		t.Errorf("stages: pre %v post %v", preCtx["Stage"], postCtx["Stage"])
	}
	if outs, _ := postCtx["OutputParameters"].([]any); len(outs) != 2 {
		t.Errorf("post-operation outputs = %v", postCtx["OutputParameters"])
	}

	// Bound to a row: the collection form and another table have no such operation.
	e.do("GET", "accounts/Microsoft.Dynamics.CRM.test_Score(Factor=1)", nil).expect(t, 404)
	e.do("GET", "contacts("+acct+")/Microsoft.Dynamics.CRM.test_Score(Factor=1)", nil).expect(t, 404)
	e.do("GET", "accounts(00000000-0000-0000-0000-00000000beef)/Microsoft.Dynamics.CRM.test_Score(Factor=1)", nil).expect(t, 404)

	// A failing pre-operation step fails the call before the main operation.
	pre.mu.Lock()
	pre.status = 500
	pre.mu.Unlock()
	e.do("GET", "accounts("+acct+")/Microsoft.Dynamics.CRM.test_Score(Factor=1)", nil).expectError(t, 400, "0x80040265", "")
	if len(seen) != 1 {
		t.Errorf("main operation ran after a failed pre-operation step")
	}
}

func TestCustomAPIRegistrationRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, hs := newHookCapture(t)
	// Stage 30 is for custom API messages only.
	endpointID := idFromEntityID(t, e.do("POST", "serviceendpoints", map[string]any{
		"name": "hook", "contract": 8, "url": hs.URL, "authtype": 5, "authvalue": "", "messageformat": 2,
	}).expect(t, 204).Header)
	msgs := e.do("GET", "sdkmessages?"+escapeQuery("$select=name&$filter=name eq 'Create'"), nil).expect(t, 200).JSON(t)["value"].([]any)
	createID := msgs[0].(map[string]any)["sdkmessageid"].(string)
	e.do("POST", "sdkmessageprocessingsteps", map[string]any{
		"name": "main", "stage": 30, "mode": 0, "rank": 1, "supporteddeployment": 0,
		"sdkmessageid@odata.bind":                 "/sdkmessages(" + createID + ")",
		"eventhandler_serviceendpoint@odata.bind": "/serviceendpoints(" + endpointID + ")",
	}).expect(t, 400)

	e.defineCustomAPI(t, map[string]any{"uniquename": "test_Ping", "bindingtype": 2, "boundentitylogicalname": "contact"}, nil, nil)
	stepID := e.registerAPIStep(t, hs.URL, "test_Ping", 30, 0)
	// ... synchronously.
	e.do("PATCH", "sdkmessageprocessingsteps("+stepID+")", map[string]any{"mode": 1}).expect(t, 400)
	// An action without response properties answers 204; it is bound to the entity set.
	e.do("POST", "contacts/Microsoft.Dynamics.CRM.test_Ping", map[string]any{}).expect(t, 204)
	e.do("POST", "test_Ping", map[string]any{}).expect(t, 404)

	// Names are unique, and a custom API may not take a built-in message's name.
	e.do("POST", "customapis", map[string]any{"uniquename": "test_Ping", "name": "x", "displayname": "x", "description": "x"}).expect(t, 412)
	e.do("POST", "customapis", map[string]any{"uniquename": "WhoAmI", "name": "x", "displayname": "x", "description": "x"}).expect(t, 400)
	e.do("POST", "customapis", map[string]any{"uniquename": "test_Bad", "bindingtype": 1, "boundentitylogicalname": "nosuch", "name": "x", "displayname": "x", "description": "x"}).expect(t, 400)
	e.do("GET", "customapis?"+escapeQuery("$filter=uniquename eq 'test_Bad'"), nil).expect(t, 200)
}

// A private custom API is served at its URL but kept out of $metadata.
func TestCustomAPIPrivateHiddenFromMetadata(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.defineCustomAPI(t, map[string]any{"uniquename": "new_Hidden", "bindingtype": 0, "isfunction": true, "isprivate": true}, nil,
		[]map[string]any{{"uniquename": "Out", "type": 10}})
	e.defineCustomAPI(t, map[string]any{"uniquename": "new_Shown", "bindingtype": 0, "isfunction": true}, nil,
		[]map[string]any{{"uniquename": "Out", "type": 10}})
	if body := e.do("GET", "new_Hidden()", nil).expect(t, 200).JSON(t); !strings.HasSuffix(body["@odata.context"].(string), "#Microsoft.Dynamics.CRM.new_HiddenResponse") {
		t.Errorf("the private API's answer: %v", body)
	}
	doc := string(e.do("GET", "$metadata", nil).expect(t, 200).Body)
	if strings.Contains(doc, "new_Hidden") || !strings.Contains(doc, `<Function Name="new_Shown">`) {
		t.Errorf("$metadata lists the private API, or not the public one")
	}
}
