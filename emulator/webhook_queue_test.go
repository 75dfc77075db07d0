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

// gateHook is an endpoint whose answers wait until it is opened.
type gateHook struct {
	mu      sync.Mutex
	open    chan struct{}
	arrived chan struct{}
	calls   int
}

func newGateHook(t *testing.T) (*gateHook, *httptest.Server) {
	g := &gateHook{open: make(chan struct{}), arrived: make(chan struct{}, 1000)}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		g.mu.Lock()
		g.calls++
		open := g.open
		g.mu.Unlock()
		g.arrived <- struct{}{}
		select {
		case <-open:
		case <-r.Context().Done():
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(func() {
		g.release()
		hs.Close()
	})
	return g, hs
}

func (g *gateHook) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

func startEnv(t *testing.T, cfg emulator.Config) *env {
	t.Helper()
	srv, err := emulator.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	e := &env{t: t, srv: srv, http: hs, url: hs.URL, api: hs.URL + "/api/data/v9.2/"}
	e.token = e.clientCredentialsToken(hs.URL + "/.default")
	return e
}

func (e *env) stop() {
	e.http.Close()
	e.srv.Close()
}

func jobsOf(t *testing.T, e *env, step string) []map[string]any {
	t.Helper()
	v := e.do("GET", "asyncoperations?"+escapeQuery("$select=statuscode,statecode,retrycount&$filter=_owningextensionid_value eq "+step), nil).expect(t, 200).JSON(t)["value"].([]any)
	out := make([]map[string]any, len(v))
	for i, x := range v {
		out[i] = x.(map[string]any)
	}
	return out
}

// TestAsyncWebhookSurvivesRestart checks that asynchronous deliveries are system jobs in the
// store: a server stopped while a delivery is in progress leaves the job, and a server started
// on the same data directory delivers it.
func TestAsyncWebhookSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	gate, hook := newGateHook(t)
	e := startEnv(t, emulator.Config{DataDir: dir})
	_, step := e.register(t, hook.URL, 4, "k", "Create", "account", 40, 1, nil)
	e.do("POST", "accounts", map[string]any{"name": "durable"}).expect(t, 204)
	select {
	case <-gate.arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the delivery did not start")
	}
	e.stop()

	gate.release()
	e2 := startEnv(t, emulator.Config{DataDir: dir})
	defer e2.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e2.srv.WaitForWebhooks(ctx); err != nil {
		t.Fatal(err)
	}
	jobs := jobsOf(t, e2, step)
	if len(jobs) != 1 || jobs[0]["statuscode"] != json.Number("30") {
		t.Fatalf("system jobs after restart: %v", jobs)
	}
	gate.mu.Lock()
	calls := gate.calls
	gate.mu.Unlock()
	if calls != 2 {
		t.Errorf("endpoint calls = %d, want 2 (the interrupted one and the resumed one)", calls)
	}
}

// TestAsyncWebhookSlowEndpointIsolated checks that an endpoint that never answers holds back
// only its own deliveries, and that its backlog waits in the store rather than being dropped.
func TestAsyncWebhookSlowEndpointIsolated(t *testing.T) {
	t.Parallel()
	gate, slow := newGateHook(t)
	capt, fast := newHookCapture(t)
	e := startEnv(t, emulator.Config{})
	defer e.stop()
	_, slowStep := e.register(t, slow.URL, 4, "k", "Create", "account", 40, 1, nil)
	e.register(t, fast.URL, 4, "k", "Create", "contact", 40, 1, nil)
	const n = 12
	for i := 0; i < n; i++ {
		e.do("POST", "accounts", map[string]any{"name": "slow"}).expect(t, 204)
	}
	<-gate.arrived
	e.do("POST", "contacts", map[string]any{"lastname": "fast"}).expect(t, 204)
	capt.wait(t, 1)
	jobs := jobsOf(t, e, slowStep)
	if len(jobs) != n {
		t.Fatalf("slow endpoint's system jobs = %d, want %d", len(jobs), n)
	}
	for _, j := range jobs {
		if s := j["statuscode"]; s != json.Number("0") && s != json.Number("20") {
			t.Errorf("a slow job is %v, want Waiting For Resources (0) or In Progress (20)", s)
		}
	}
	gate.release()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.srv.WaitForWebhooks(ctx); err != nil {
		t.Fatal(err)
	}
	for _, j := range jobsOf(t, e, slowStep) {
		if j["statuscode"] != json.Number("30") {
			t.Errorf("slow job after release: %v", j)
		}
	}
}

// TestWebhookURLMayNotTargetTheEmulator checks that service endpoints pointing at the
// emulator's own listener, or at its admin API, are refused.
func TestWebhookURLMayNotTargetTheEmulator(t *testing.T) {
	t.Parallel()
	srv, err := emulator.New(context.Background(), emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	base := srv.URL()
	e := &env{t: t, srv: srv, url: base, api: base + "/api/data/v9.2/"}
	e.token = e.clientCredentialsToken(base + "/.default")
	port := base[strings.LastIndex(base, ":")+1:]
	for _, u := range []string{
		base + "/_emulator/reset",
		"http://localhost:" + port + "/api/data/v9.2/accounts",
		"http://127.0.0.2:" + port + "/",
		"http://[::1]:" + port + "/",
		"https://elsewhere.example/_emulator/reset",
		"https://elsewhere.example/env/dev/_emulator/reset",
	} {
		r := e.do("POST", "serviceendpoints", map[string]any{"name": "self", "contract": 8, "url": u, "authtype": 4, "authvalue": "k", "messageformat": 2})
		r.expect(t, 400)
		if code, msg := r.Error(t); code != "0x80040203" || !strings.Contains(msg, "not allowed") {
			t.Errorf("%s: %s %s", u, code, msg)
		}
	}
	id := idFromEntityID(t, e.do("POST", "serviceendpoints", map[string]any{"name": "ok", "contract": 8, "url": "https://elsewhere.example/hook",
		"authtype": 4, "authvalue": "k", "messageformat": 2}).expect(t, 204).Header)
	e.do("PATCH", "serviceendpoints("+id+")", map[string]any{"url": base + "/_emulator/reset"}).expect(t, 400)
}
