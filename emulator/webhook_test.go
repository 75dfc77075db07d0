package emulator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynlocal/dynlocal/emulator"
)

// hookCapture is a webhook receiver that records what arrives and answers with a set status.
type hookCapture struct {
	mu     sync.Mutex
	calls  []*http.Request
	bodies [][]byte
	status int
	got    chan struct{}
}

func newHookCapture(t *testing.T) (*hookCapture, *httptest.Server) {
	c := &hookCapture{status: 200, got: make(chan struct{}, 100)}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.calls = append(c.calls, r)
		c.bodies = append(c.bodies, b)
		status := c.status
		c.mu.Unlock()
		w.WriteHeader(status)
		c.got <- struct{}{}
	}))
	t.Cleanup(hs.Close)
	return c, hs
}

func (c *hookCapture) wait(t *testing.T, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		select {
		case <-c.got:
		case <-time.After(10 * time.Second):
			t.Fatalf("webhook call %d of %d did not arrive", i+1, n)
		}
	}
}

func (c *hookCapture) last() (*http.Request, map[string]any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var m map[string]any
	json.Unmarshal(c.bodies[len(c.bodies)-1], &m)
	return c.calls[len(c.calls)-1], m
}

// register creates a webhook service endpoint and a step for message on entity.
func (e *env) register(t *testing.T, url string, authType int, authValue, message, entity string, stage, mode int, extra map[string]any) (endpointID, stepID string) {
	t.Helper()
	endpointID = idFromEntityID(t, e.do("POST", "serviceendpoints", map[string]any{
		"name": "hook " + message, "contract": 8, "url": url, "authtype": authType, "authvalue": authValue, "messageformat": 2,
	}).expect(t, 204).Header)
	msgs := e.do("GET", "sdkmessages?"+escapeQuery("$select=name&$filter=name eq '"+message+"'"), nil).expect(t, 200).JSON(t)["value"].([]any)
	msgID := msgs[0].(map[string]any)["sdkmessageid"].(string)
	filters := e.do("GET", "sdkmessagefilters?"+escapeQuery("$select=name&$filter=_sdkmessageid_value eq "+msgID+" and primaryobjecttypecode eq '"+entity+"'"), nil).expect(t, 200).JSON(t)["value"].([]any)
	filterID := filters[0].(map[string]any)["sdkmessagefilterid"].(string)
	step := map[string]any{
		"name": "step " + message, "stage": stage, "mode": mode, "rank": 1, "supporteddeployment": 0,
		"sdkmessageid@odata.bind":                 "/sdkmessages(" + msgID + ")",
		"sdkmessagefilterid@odata.bind":           "/sdkmessagefilters(" + filterID + ")",
		"eventhandler_serviceendpoint@odata.bind": "/serviceendpoints(" + endpointID + ")",
	}
	for k, v := range extra {
		step[k] = v
	}
	stepID = idFromEntityID(t, e.do("POST", "sdkmessageprocessingsteps", step).expect(t, 204).Header)
	return endpointID, stepID
}

func TestWebhookAuthTypesAndContext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		authType  int
		authValue string
		check     func(r *http.Request) bool
	}{
		{"webhook key", 4, "s3cret-key", func(r *http.Request) bool { return r.URL.Query().Get("code") == "s3cret-key" }},
		{"http header", 5, `<settings><setting name="x-api-key" value="hdr-secret" /></settings>`, func(r *http.Request) bool { return r.Header.Get("x-api-key") == "hdr-secret" }},
		{"query string", 6, `<settings><setting name="token" value="qs-secret" /></settings>`, func(r *http.Request) bool { return r.URL.Query().Get("token") == "qs-secret" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			capt, hs := newHookCapture(t)
			epID, stepID := e.register(t, hs.URL+"/hook", tt.authType, tt.authValue, "Create", "account", 40, 1, nil)
			e.do("POST", "sdkmessageprocessingstepimages", map[string]any{
				"name": "post", "entityalias": "PostImage", "imagetype": 1, "messagepropertyname": "Target",
				"sdkmessageprocessingstepid@odata.bind": "/sdkmessageprocessingsteps(" + stepID + ")",
			}).expect(t, 204)
			id := idFromEntityID(t, e.do("POST", "accounts", map[string]any{"name": "hooked", "revenue": 12.5}).expect(t, 204).Header)
			capt.wait(t, 1)
			r, body := capt.last()
			if !tt.check(r) {
				t.Errorf("auth material missing: %s %v", r.URL, r.Header)
			}
			for h, want := range map[string]string{"x-ms-dynamics-entity-name": "account", "x-ms-dynamics-request-name": "Create", "Content-Type": "application/json"} {
				if got := r.Header.Get(h); got != want {
					t.Errorf("header %s = %q, want %q", h, got, want)
				}
			}
			for _, h := range []string{"x-request-id", "x-ms-correlation-request-id", "x-ms-dynamics-organization"} {
				if r.Header.Get(h) == "" {
					t.Errorf("header %s missing", h)
				}
			}
			if body["MessageName"] != "Create" || body["PrimaryEntityName"] != "account" || body["PrimaryEntityId"] != id ||
				body["Stage"] != float64(40) || body["Mode"] != float64(1) || body["UserId"] != emulator.DefaultAppUserID ||
				body["OrganizationId"] != emulator.DefaultOrganizationID || body["Depth"] != float64(1) {
				t.Errorf("context: %v", body)
			}
			target := body["InputParameters"].([]any)[0].(map[string]any)
			if target["key"] != "Target" {
				t.Fatalf("InputParameters: %v", body["InputParameters"])
			}
			ent := target["value"].(map[string]any)
			if ent["__type"] != "Entity:http://schemas.microsoft.com/xrm/2011/Contracts" || ent["LogicalName"] != "account" || ent["Id"] != id {
				t.Errorf("Target: %v", ent)
			}
			attrs := map[string]any{}
			for _, a := range ent["Attributes"].([]any) {
				attrs[a.(map[string]any)["key"].(string)] = a.(map[string]any)["value"]
			}
			if attrs["name"] != "hooked" || !strings.HasPrefix(attrs["createdon"].(string), "/Date(") {
				t.Errorf("Target attributes: %v", attrs)
			}
			if post := body["PostEntityImages"].([]any); len(post) != 1 || post[0].(map[string]any)["key"] != "PostImage" {
				t.Errorf("PostEntityImages: %v", body["PostEntityImages"])
			}
			if pc := body["ParentContext"].(map[string]any); pc["Stage"] != float64(30) {
				t.Errorf("ParentContext: %v", pc)
			}
			capt.mu.Lock()
			raw := string(capt.bodies[0])
			capt.mu.Unlock()
			if !strings.Contains(raw, `\/Date(`) {
				t.Errorf("dates must be WCF dates with escaped slashes: %.300s", raw)
			}
			// The secret is never readable.
			ep := e.do("GET", "serviceendpoints("+epID+")", nil).expect(t, 200)
			if strings.Contains(string(ep.Body), "secret") || strings.Contains(string(ep.Body), `"authvalue"`) {
				t.Errorf("serviceendpoint read leaks the secret: %s", ep.Body)
			}
			if ep.JSON(t)["isauthvalueset"] != true {
				t.Errorf("isauthvalueset = %v", ep.JSON(t)["isauthvalueset"])
			}
			e.do("GET", "serviceendpoints("+epID+")?$select=authvalue", nil).expect(t, 400)
			e.do("GET", "serviceendpoints("+epID+")/authvalue", nil).expect(t, 400)
			jobs := e.do("GET", "/_emulator/webhooks/deliveries", nil, "Authorization", "").expect(t, 200)
			if strings.Contains(string(jobs.Body), "secret") {
				t.Errorf("deliveries leak the secret: %s", jobs.Body)
			}
		})
	}
}

func TestWebhookUpdateDeleteAndFiltering(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	capt, hs := newHookCapture(t)
	_, upd := e.register(t, hs.URL, 4, "k", "Update", "contact", 40, 1, map[string]any{"filteringattributes": "lastname"})
	e.do("POST", "sdkmessageprocessingstepimages", map[string]any{
		"name": "pre", "entityalias": "Before", "imagetype": 0, "attributes": "lastname",
		"sdkmessageprocessingstepid@odata.bind": "/sdkmessageprocessingsteps(" + upd + ")",
	}).expect(t, 204)
	e.register(t, hs.URL, 4, "k", "Delete", "contact", 40, 1, nil)
	id := idFromEntityID(t, e.do("POST", "contacts", map[string]any{"lastname": "Old"}).expect(t, 204).Header)
	// jobtitle is not a filtering attribute: no call.
	e.do("PATCH", "contacts("+id+")", map[string]any{"jobtitle": "x"}, "If-Match", "*").expect(t, 204)
	e.do("PATCH", "contacts("+id+")", map[string]any{"lastname": "New"}, "If-Match", "*").expect(t, 204)
	capt.wait(t, 1)
	_, body := capt.last()
	if body["MessageName"] != "Update" {
		t.Fatalf("first call = %v", body["MessageName"])
	}
	pre := body["PreEntityImages"].([]any)[0].(map[string]any)["value"].(map[string]any)["Attributes"].([]any)
	if len(pre) != 1 || pre[0].(map[string]any)["value"] != "Old" {
		t.Errorf("pre-image = %v", pre)
	}
	e.do("DELETE", "contacts("+id+")", nil).expect(t, 204)
	capt.wait(t, 1)
	_, body = capt.last()
	target := body["InputParameters"].([]any)[0].(map[string]any)["value"].(map[string]any)
	if body["MessageName"] != "Delete" || target["__type"] != "EntityReference:http://schemas.microsoft.com/xrm/2011/Contracts" || target["Id"] != id {
		t.Errorf("delete context: %v", body)
	}
	capt.mu.Lock()
	n := len(capt.calls)
	capt.mu.Unlock()
	if n != 2 {
		t.Errorf("calls = %d, want 2 (the jobtitle update must not fire)", n)
	}
}

func TestWebhookFailures(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	var logMu sync.Mutex
	clock := &testClock{now: time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)}
	srv, err := emulator.New(context.Background(), emulator.Config{Clock: clock.Now,
		Logger: slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	e := &env{t: t, srv: srv, url: hs.URL, api: hs.URL + "/api/data/v9.2/", clock: clock}
	e.token = e.clientCredentialsToken(hs.URL + "/.default")
	capt, hook := newHookCapture(t)
	capt.status = 500
	// A failing synchronous step fails the operation and nothing is written.
	e.register(t, hook.URL, 4, "sync-secret-key", "Create", "lead", 40, 0, nil)
	before := string(e.do("GET", "leads/$count", nil).expect(t, 200).Body)
	r := e.do("POST", "leads", map[string]any{"lastname": "Nope", "subject": "s"})
	r.expect(t, 400)
	if code, _ := r.Error(t); code != "0x80040265" {
		t.Errorf("sync failure code = %s", code)
	}
	capt.wait(t, 1)
	if after := string(e.do("GET", "leads/$count", nil).expect(t, 200).Body); after != before {
		t.Errorf("failed sync step wrote a row: %s -> %s", before, after)
	}
	// A failing asynchronous step leaves the row and records a failed system job; 503 is retried once.
	capt.mu.Lock()
	capt.status = 503
	capt.mu.Unlock()
	_, step := e.register(t, hook.URL, 4, "async-secret-key", "Create", "opportunity", 40, 1, nil)
	e.do("POST", "opportunities", map[string]any{"name": "kept"}).expect(t, 204)
	capt.wait(t, 2)
	// The system job is written by a background worker after the last attempt's answer.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.WaitForWebhooks(ctx); err != nil {
		t.Fatalf("asynchronous deliveries did not finish: %v", err)
	}
	jobs := e.do("GET", "asyncoperations?"+escapeQuery("$select=statuscode,message&$filter=_owningextensionid_value eq "+step), nil).expect(t, 200).JSON(t)["value"].([]any)
	if len(jobs) != 1 || jobs[0].(map[string]any)["statuscode"] != json.Number("31") {
		t.Errorf("failed system job: %v", jobs)
	}
	logMu.Lock()
	defer logMu.Unlock()
	if strings.Contains(logs.String(), "secret-key") {
		t.Errorf("a webhook secret reached the logs:\n%s", logs.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestSyncWebhookFollowsTheRequest checks that a synchronous webhook runs under the request's
// context: when the client gives up, the call to the endpoint is abandoned, the operation rolls
// back and the single writer is free again, without waiting for the webhook timeout.
func TestSyncWebhookFollowsTheRequest(t *testing.T) {
	t.Parallel()
	srv, err := emulator.New(context.Background(), emulator.Config{WebhookTimeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	e := &env{t: t, srv: srv, url: hs.URL, api: hs.URL + "/api/data/v9.2/"}
	e.token = e.clientCredentialsToken(hs.URL + "/.default")
	arrived := make(chan struct{}, 1)
	abandoned := make(chan struct{}, 1)
	release := make(chan struct{})
	defer close(release)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Reading the whole body lets the server notice when the caller hangs up.
		io.Copy(io.Discard, r.Body)
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
			abandoned <- struct{}{}
		case <-release:
		}
	}))
	defer hook.Close()
	e.register(t, hook.URL, 4, "key", "Create", "lead", 40, 0, nil)
	before := string(e.do("GET", "leads/$count", nil).expect(t, 200).Body)

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", e.api+"leads", strings.NewReader(`{"lastname":"abandoned"}`))
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "application/json")
	done := make(chan error, 1)
	go func() {
		resp, err := testClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-arrived
	cancel()
	if err := <-done; err == nil {
		t.Error("the cancelled request got an answer")
	}
	select {
	case <-abandoned:
	case <-time.After(30 * time.Second):
		t.Fatal("the webhook call was not abandoned with its request")
	}
	// The writer is free: another write goes through, and the abandoned create left nothing.
	e.do("POST", "accounts", map[string]any{"name": "after the abandoned webhook"}).expect(t, 204)
	if after := string(e.do("GET", "leads/$count", nil).expect(t, 200).Body); after != before {
		t.Errorf("the abandoned create wrote a row: %s -> %s", before, after)
	}
}
