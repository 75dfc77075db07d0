package emulator_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynlocal/dynlocal/emulator"
)

// hookCall is what a webhook endpoint was sent, reduced to what these tests compare.
type hookCall struct {
	Stage    int
	Message  string
	ID       string
	Target   map[string]any // the Target's attributes (Create, Update)
	PreImage map[string]any // the first pre-image's attributes
}

func readHookCall(t *testing.T, body []byte) hookCall {
	t.Helper()
	var ctx struct {
		Stage           int
		MessageName     string
		PrimaryEntityId string
		InputParameters []struct {
			Key   string
			Value json.RawMessage
		}
		PreEntityImages []struct {
			Key   string
			Value struct {
				Attributes []struct {
					Key   string
					Value any
				}
			}
		}
	}
	if err := json.Unmarshal(body, &ctx); err != nil {
		t.Errorf("context is not JSON: %v", err)
	}
	c := hookCall{Stage: ctx.Stage, Message: ctx.MessageName, ID: ctx.PrimaryEntityId}
	attrs := func(list []struct {
		Key   string
		Value any
	}) map[string]any {
		m := map[string]any{}
		for _, kv := range list {
			m[kv.Key] = kv.Value
		}
		return m
	}
	for _, p := range ctx.InputParameters {
		if p.Key != "Target" {
			continue
		}
		var ent struct {
			Attributes []struct {
				Key   string
				Value any
			}
		}
		if json.Unmarshal(p.Value, &ent) == nil {
			c.Target = attrs(ent.Attributes)
		}
	}
	if len(ctx.PreEntityImages) > 0 {
		c.PreImage = attrs(ctx.PreEntityImages[0].Value.Attributes)
	}
	return c
}

// TestHangingSyncWebhookHoldsNothing checks that a synchronous step whose endpoint hangs stalls
// only its own request: other writes and reads go through meanwhile, with the database in a file
// and in memory (one connection), and the waiting write completes once the endpoint answers.
func TestHangingSyncWebhookHoldsNothing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  emulator.Config
	}{
		{"in memory", emulator.Config{WebhookTimeout: time.Hour}},
		{"file", emulator.Config{WebhookTimeout: time.Hour, DataDir: t.TempDir()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnvWith(t, tc.cfg)
			arrived := make(chan struct{}, 4)
			release := make(chan struct{})
			var mu sync.Mutex
			var calls []hookCall
			hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				calls = append(calls, readHookCall(t, b))
				mu.Unlock()
				arrived <- struct{}{}
				select {
				case <-release:
				case <-r.Context().Done():
				}
			}))
			t.Cleanup(hook.Close)
			e.register(t, hook.URL, 4, "key", "Create", "lead", 20, 0, nil)
			before := string(e.do("GET", "leads/$count", nil).expect(t, 200).Body)

			done := make(chan result, 1)
			go func() { done <- e.do("POST", "leads", map[string]any{"lastname": "Waiting"}) }()
			select {
			case <-arrived:
			case <-time.After(30 * time.Second):
				t.Fatal("the webhook call did not arrive")
			}
			// The endpoint holds its call. Reads and writes of others are answered meanwhile; a
			// request that waited for the writer would hit this deadline instead.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			for _, rq := range []struct {
				method, path, body string
				want               int
			}{
				{"POST", "accounts", `{"name":"written while a webhook hangs"}`, 204},
				{"GET", "accounts?$select=name&$filter=name eq 'written while a webhook hangs'", "", 200},
				{"GET", "leads/$count", "", 200},
			} {
				req, _ := http.NewRequestWithContext(ctx, rq.method, e.api+strings.ReplaceAll(rq.path, " ", "%20"), strings.NewReader(rq.body))
				req.Header.Set("Authorization", "Bearer "+e.token)
				req.Header.Set("Content-Type", "application/json")
				resp, err := testClient.Do(req)
				if err != nil {
					t.Fatalf("%s %s while the webhook hangs: %v", rq.method, rq.path, err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != rq.want {
					t.Fatalf("%s %s while the webhook hangs = %d %s", rq.method, rq.path, resp.StatusCode, body)
				}
				if rq.path == "leads/$count" && string(body) != before {
					t.Errorf("the waiting create is visible before its webhook answered: %s -> %s", before, body)
				}
			}
			close(release)
			r := <-done
			r.expect(t, 204)
			id := idFromEntityID(t, r.Header)
			e.do("GET", "leads("+id+")?$select=lastname", nil).expect(t, 200)
			mu.Lock()
			defer mu.Unlock()
			if len(calls) != 1 || calls[0].Target["leadid"] != id {
				t.Errorf("the endpoint got %d calls (want 1, for the committed row %s): %+v", len(calls), id, calls)
			}
		})
	}
}

// TestSyncWebhooksInAChangeSet checks that every synchronous call of a change set is made once, in
// Dataverse's order (each operation's pre-operation then post-operation step), with the ids that
// are committed; and that a failing call fails the change set without calling the steps of the
// operations after it.
func TestSyncWebhooksInAChangeSet(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var mu sync.Mutex
	var calls []hookCall
	failFor := ""
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c := readHookCall(t, b)
		mu.Lock()
		calls = append(calls, c)
		fail := failFor != "" && c.Target["lastname"] == failFor
		mu.Unlock()
		if fail {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"message":"refused by the endpoint"}`)
		}
	}))
	t.Cleanup(hook.Close)
	e.register(t, hook.URL, 4, "key", "Create", "lead", 20, 0, nil)
	e.register(t, hook.URL, 4, "key", "Create", "lead", 40, 0, nil)
	names := []string{"first", "second", "third"}
	var parts []batchPart
	for i, n := range names {
		parts = append(parts, batchPart{method: "POST", target: e.api + "leads", body: `{"lastname":"` + n + `"}`, contentID: string(rune('1' + i))})
	}
	body, ct := buildBatch(nil, parts)
	res := parseBatchResponse(t, e.do("POST", "$batch", body, "Content-Type", ct).expect(t, 200))
	if len(res) != 3 {
		t.Fatalf("parts = %d", len(res))
	}
	mu.Lock()
	got := calls
	calls = nil
	failFor = "second"
	mu.Unlock()
	if len(got) != 6 {
		t.Fatalf("calls = %d, want 6 (two per create): %+v", len(got), got)
	}
	for i, n := range names {
		id := idFromEntityID(t, res[i].Header)
		for j, stage := range []int{20, 40} {
			c := got[2*i+j]
			if c.Stage != stage || c.Target["lastname"] != n || c.Target["leadid"] != id {
				t.Errorf("call %d = stage %d for %v (%v), want stage %d for %s (%s)", 2*i+j, c.Stage, c.Target["lastname"], c.Target["leadid"], stage, n, id)
			}
		}
		e.do("GET", "leads("+id+")", nil).expect(t, 200)
	}
	entries := journal(t, e, "?method=POST&path=/api/data/v9.2/leads")
	if len(entries) != 3 {
		t.Errorf("journal entries for the change set's parts = %d, want 3", len(entries))
	}

	// The second operation's pre-operation call fails: the change set is rolled back with the
	// endpoint's message, and the third operation's steps are never called.
	before := string(e.do("GET", "leads/$count", nil).expect(t, 200).Body)
	names = []string{"a", "second", "c"}
	parts = nil
	for i, n := range names {
		parts = append(parts, batchPart{method: "POST", target: e.api + "leads", body: `{"lastname":"` + n + `"}`, contentID: string(rune('1' + i))})
	}
	body, ct = buildBatch(nil, parts)
	res = parseBatchResponse(t, e.do("POST", "$batch", body, "Content-Type", ct).expect(t, 400))
	if len(res) != 1 || res[0].Status != 400 || !strings.Contains(res[0].Body, "0x80040265") {
		t.Errorf("failed change set answered %+v", res)
	}
	mu.Lock()
	got = calls
	mu.Unlock()
	var seen []string
	for _, c := range got {
		seen = append(seen, c.Target["lastname"].(string)+"@"+string(rune('0'+c.Stage/10)))
	}
	if strings.Join(seen, " ") != "a@2 a@4 second@2" {
		t.Errorf("calls = %v, want a@2 a@4 second@2", seen)
	}
	if after := string(e.do("GET", "leads/$count", nil).expect(t, 200).Body); after != before {
		t.Errorf("the failed change set wrote rows: %s -> %s", before, after)
	}
}

// TestSyncWebhookCallsBackAndSeesChanges checks that an endpoint may write through the Web API
// while its call is open (Dataverse's endpoints do; with the writer held this deadlocked), and
// that when that write changes the row the waiting update's step saw, the step is called again
// with the row as it now is before the update commits.
func TestSyncWebhookCallsBackAndSeesChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := idFromEntityID(t, e.do("POST", "leads", map[string]any{"lastname": "Original", "jobtitle": "original"}).expect(t, 204).Header)
	var mu sync.Mutex
	var calls []hookCall
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c := readHookCall(t, b)
		mu.Lock()
		calls = append(calls, c)
		first := len(calls) == 1
		mu.Unlock()
		if first {
			// Another client changes the row while this call is open.
			e.do("PATCH", "leads("+id+")", map[string]any{"jobtitle": "changed meanwhile"}).expect(t, 204)
		}
	}))
	t.Cleanup(hook.Close)
	_, step := e.register(t, hook.URL, 4, "key", "Update", "lead", 20, 0, nil)
	e.do("POST", "sdkmessageprocessingstepimages", map[string]any{
		"name": "pre", "entityalias": "Before", "imagetype": 0, "attributes": "lastname,jobtitle",
		"sdkmessageprocessingstepid@odata.bind": "/sdkmessageprocessingsteps(" + step + ")",
	}).expect(t, 204)
	e.do("PATCH", "leads("+id+")", map[string]any{"lastname": "Updated"}).expect(t, 204)

	mu.Lock()
	defer mu.Unlock()
	// 1: the update, seeing the original row; 2: the write made meanwhile; 3: the update again,
	// seeing that write.
	if len(calls) != 3 {
		t.Fatalf("calls = %d, want 3: %+v", len(calls), calls)
	}
	if calls[0].Target["lastname"] != "Updated" || calls[0].PreImage["jobtitle"] != "original" {
		t.Errorf("first call: %+v", calls[0])
	}
	if calls[1].Target["jobtitle"] != "changed meanwhile" {
		t.Errorf("second call: %+v", calls[1])
	}
	if calls[2].Target["lastname"] != "Updated" || calls[2].PreImage["jobtitle"] != "changed meanwhile" {
		t.Errorf("third call: %+v", calls[2])
	}
	row := e.do("GET", "leads("+id+")?$select=lastname,jobtitle", nil).expect(t, 200).JSON(t)
	if row["lastname"] != "Updated" || row["jobtitle"] != "changed meanwhile" {
		t.Errorf("row = %v", row)
	}
}

// TestCustomAPIInAChangeSetCallsOnce checks a custom API called in a change set next to a write:
// its main operation's endpoint is called once per call, with nothing held, and its output
// parameters make the operation's answer.
func TestCustomAPIInAChangeSetCallsOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.defineCustomAPI(t, map[string]any{"uniquename": "test_Echo", "bindingtype": 0, "isfunction": false},
		[]map[string]any{{"uniquename": "Text", "type": 10, "isoptional": false}},
		[]map[string]any{{"uniquename": "Echo", "type": 10}})
	var mu sync.Mutex
	var texts []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ctx struct {
			InputParameters []struct {
				Key   string
				Value string
			}
		}
		json.NewDecoder(r.Body).Decode(&ctx)
		text := ""
		for _, p := range ctx.InputParameters {
			if p.Key == "Text" {
				text = p.Value
			}
		}
		mu.Lock()
		texts = append(texts, text)
		mu.Unlock()
		io.WriteString(w, `{"OutputParameters":[{"key":"Echo","value":"echo `+text+`"}]}`)
	}))
	t.Cleanup(hook.Close)
	e.registerAPIStep(t, hook.URL, "test_Echo", 30, 0)
	body, ct := buildBatch(nil, []batchPart{
		{method: "POST", target: e.api + "accounts", body: `{"name":"beside a custom API"}`, contentID: "1"},
		{method: "POST", target: e.api + "test_Echo", body: `{"Text":"one"}`, contentID: "2"},
		{method: "POST", target: e.api + "test_Echo", body: `{"Text":"two"}`, contentID: "3"},
	})
	res := parseBatchResponse(t, e.do("POST", "$batch", body, "Content-Type", ct).expect(t, 200))
	if len(res) != 3 || !strings.Contains(res[1].Body, `"Echo":"echo one"`) || !strings.Contains(res[2].Body, `"Echo":"echo two"`) {
		t.Fatalf("answers: %+v", res)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(texts, ",") != "one,two" {
		t.Errorf("main operation calls = %v, want one,two", texts)
	}
}
