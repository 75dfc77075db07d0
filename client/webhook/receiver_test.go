package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// postWebhook sends body to h as Dataverse would, with extra headers as name/value pairs.
func postWebhook(h http.Handler, method, target, body string, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-ms-dynamics-organization", "org.crm.dynamics.com")
	req.Header.Set("x-ms-dynamics-entity-name", "account")
	req.Header.Set("x-ms-dynamics-request-name", "Create")
	req.Header.Set("x-ms-correlation-request-id", "c31a0ebc-a565-4f85-b5ff-34e0742ddba7")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestReceiverAuth(t *testing.T) {
	t.Parallel()
	const key = "s3cret-key-value"
	tests := []struct {
		name    string
		auth    Auth
		target  string
		headers []string
		want    int
	}{
		{name: "no auth configured", target: "/hook", want: 200},
		{name: "key right", auth: Auth{Key: key}, target: "/hook?code=" + key, want: 200},
		{name: "key wrong", auth: Auth{Key: key}, target: "/hook?code=s3cret-key-valuf", want: 401},
		{name: "key prefix", auth: Auth{Key: key}, target: "/hook?code=s3cret", want: 401},
		{name: "key missing", auth: Auth{Key: key}, target: "/hook", want: 401},
		{name: "key empty", auth: Auth{Key: key}, target: "/hook?code=", want: 401},
		{name: "key repeated", auth: Auth{Key: key}, target: "/hook?code=" + key + "&code=x", want: 401},
		{name: "key as ?Auth=, an alias the Prismatic component accepts and Dataverse never sends", auth: Auth{Key: key}, target: "/hook?Auth=" + key, want: 401},
		{name: "key in a header", auth: Auth{Key: key}, target: "/hook", headers: []string{"code", key}, want: 401},
		{name: "headers right", auth: Auth{Headers: map[string]string{"x-functions-key": key, "X-Tenant": "t1"}},
			target: "/hook", headers: []string{"X-Functions-Key", key, "x-tenant", "t1"}, want: 200},
		{name: "headers one wrong", auth: Auth{Headers: map[string]string{"x-functions-key": key, "X-Tenant": "t1"}},
			target: "/hook", headers: []string{"X-Functions-Key", key, "x-tenant", "t2"}, want: 401},
		{name: "headers one missing", auth: Auth{Headers: map[string]string{"x-functions-key": key, "X-Tenant": "t1"}},
			target: "/hook", headers: []string{"X-Functions-Key", key}, want: 401},
		{name: "header in the query", auth: Auth{Headers: map[string]string{"x-functions-key": key}},
			target: "/hook?x-functions-key=" + key, want: 401},
		{name: "query right", auth: Auth{Query: map[string]string{"Key1": "Value1", "Key2": "Value 2"}},
			target: "/hook?Key1=Value1&Key2=Value%202", want: 200},
		{name: "query wrong", auth: Auth{Query: map[string]string{"Key1": "Value1", "Key2": "Value 2"}},
			target: "/hook?Key1=Value1&Key2=Value3", want: 401},
		{name: "query missing", auth: Auth{Query: map[string]string{"Key1": "Value1", "Key2": "Value 2"}},
			target: "/hook?Key1=Value1", want: 401},
		{name: "query name is case-sensitive", auth: Auth{Query: map[string]string{"Key1": "Value1"}},
			target: "/hook?key1=Value1", want: 401},
		{name: "query expects an empty value: present", auth: Auth{Query: map[string]string{"flag": ""}},
			target: "/hook?flag=", want: 200},
		{name: "query expects an empty value: absent", auth: Auth{Query: map[string]string{"flag": ""}},
			target: "/hook", want: 401},
		{name: "combined: all right", auth: Auth{Key: key, Headers: map[string]string{"X-A": "a"}, Query: map[string]string{"q": "1"}},
			target: "/hook?code=" + key + "&q=1", headers: []string{"X-A", "a"}, want: 200},
		{name: "combined: one wrong", auth: Auth{Key: key, Headers: map[string]string{"X-A": "a"}, Query: map[string]string{"q": "1"}},
			target: "/hook?code=" + key + "&q=2", headers: []string{"X-A", "a"}, want: 401},
		{name: "URL validation needs auth too", auth: Auth{Key: key}, target: "/hook",
			headers: []string{"x-ms-dynamics-request-name", "URL_VALIDATION"}, want: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			h := NewReceiver(tt.auth, func(ctx context.Context, ev *Event) error {
				calls.Add(1)
				return nil
			})
			rec := postWebhook(h, http.MethodPost, tt.target, ctxCreate, tt.headers...)
			if rec.Code != tt.want {
				t.Fatalf("status = %d, want %d (body %q)", rec.Code, tt.want, rec.Body)
			}
			wantCalls := int32(0)
			if tt.want == 200 && !strings.Contains(strings.Join(tt.headers, " "), "URL_VALIDATION") {
				wantCalls = 1
			}
			if got := calls.Load(); got != wantCalls {
				t.Errorf("handler called %d times, want %d", got, wantCalls)
			}
			if tt.want == 401 {
				body := rec.Body.String()
				for _, secret := range []string{key, "Value1", "Value 2", "t1", "a"} {
					if secret != "a" && strings.Contains(body, secret) {
						t.Errorf("401 body %q leaks %q", body, secret)
					}
				}
				if body != "unauthorized\n" {
					t.Errorf("401 body = %q, want a fixed text", body)
				}
			}
		})
	}
}

// Every configured secret is compared, through the constant-time comparison, even when the first
// one already failed: the time taken says neither which secret was wrong nor how much of it.
func TestSecretsComparedInConstantTime(t *testing.T) {
	t.Parallel()
	auth := Auth{
		Key:     "k",
		Headers: map[string]string{"X-One": "1", "X-Two": "2"},
		Query:   map[string]string{"q": "3"},
	}
	tests := []struct {
		name    string
		target  string
		headers []string
		want    int
	}{
		{name: "all right", target: "/?code=k&q=3", headers: []string{"X-One", "1", "X-Two", "2"}, want: 200},
		{name: "key wrong", target: "/?code=x&q=3", headers: []string{"X-One", "1", "X-Two", "2"}, want: 401},
		{name: "everything missing", target: "/", want: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wr := NewReceiver(auth, nil)
			var mu sync.Mutex
			var compared []string
			wr.equal = func(got, want string) bool {
				mu.Lock()
				compared = append(compared, want)
				mu.Unlock()
				return secretEqual(got, want)
			}
			rec := postWebhook(wr, http.MethodPost, tt.target, ctxCreate, tt.headers...)
			if rec.Code != tt.want {
				t.Fatalf("status = %d, want %d", rec.Code, tt.want)
			}
			if diff := cmp.Diff([]string{"1", "2", "3", "k"}, compared, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
				t.Errorf("secrets compared (-want +got):\n%s", diff)
			}
		})
	}

	for _, c := range []struct {
		a, b string
		want bool
	}{{"", "", true}, {"abc", "abc", true}, {"abc", "abd", false}, {"abc", "abcd", false}, {"", "x", false}} {
		if got := secretEqual(c.a, c.b); got != c.want {
			t.Errorf("secretEqual(%q, %q) = %v", c.a, c.b, got)
		}
	}
}

func TestReceiver(t *testing.T) {
	t.Parallel()
	errBoom := errors.New("boom: database password is hunter2")
	tests := []struct {
		name      string
		method    string
		body      string
		headers   []string
		handleErr error
		panics    bool
		opts      []Option
		want      int
		wantCall  bool
		wantBody  string
		wantAllow string
	}{
		{name: "event", method: "POST", body: ctxCreate, want: 200, wantCall: true},
		{name: "URL validation", method: "POST", body: "", headers: []string{"x-ms-dynamics-request-name", "URL_VALIDATION"}, want: 200},
		{name: "URL validation with a body", method: "POST", body: "not json", headers: []string{"x-ms-dynamics-request-name", "url_validation"}, want: 200},
		{name: "empty POST is a probe", method: "POST", body: "  \r\n", want: 200},
		{name: "GET probe", method: "GET", want: 200},
		{name: "HEAD probe", method: "HEAD", want: 200},
		{name: "PUT", method: "PUT", body: ctxCreate, want: 405, wantAllow: "POST, GET, HEAD"},
		{name: "DELETE", method: "DELETE", want: 405, wantAllow: "POST, GET, HEAD"},
		{name: "bad JSON", method: "POST", body: `{"MessageName":`, want: 400},
		{name: "not a context", method: "POST", body: `{"Stage":"x"}`, want: 400, wantBody: "Stage: want an integer"},
		{name: "oversize body", method: "POST", body: ctxCreate, opts: []Option{WithMaxBodyBytes(100)}, want: 413},
		{name: "body at the limit", method: "POST", body: ctxCreate, opts: []Option{WithMaxBodyBytes(int64(len(ctxCreate)))}, want: 200, wantCall: true},
		{name: "handler error", method: "POST", body: ctxCreate, handleErr: errBoom, want: 500, wantCall: true, wantBody: "event handler failed\n"},
		{name: "handler panic", method: "POST", body: ctxCreate, panics: true, want: 500, wantCall: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got *Event
			var reported error
			opts := append([]Option{WithHandlerErrors(func(ctx context.Context, ev *Event, err error) { reported = err })}, tt.opts...)
			h := NewReceiver(Auth{}, func(ctx context.Context, ev *Event) error {
				got = ev
				if tt.panics {
					panic("handler bug")
				}
				return tt.handleErr
			}, opts...)
			rec := postWebhook(h, tt.method, "/hook", tt.body, tt.headers...)
			if rec.Code != tt.want {
				t.Fatalf("status = %d, want %d (body %q)", rec.Code, tt.want, rec.Body)
			}
			if (got != nil) != tt.wantCall {
				t.Errorf("handler called = %v, want %v", got != nil, tt.wantCall)
			}
			if tt.want == 200 && rec.Body.Len() != 0 {
				t.Errorf("body = %q, want empty", rec.Body)
			}
			if tt.wantBody != "" && !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("body = %q, want it to contain %q", rec.Body, tt.wantBody)
			}
			if strings.Contains(rec.Body.String(), "hunter2") || strings.Contains(rec.Body.String(), "handler bug") {
				t.Errorf("body %q leaks the handler's error", rec.Body)
			}
			if a := rec.Header().Get("Allow"); a != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", a, tt.wantAllow)
			}
			if tt.handleErr != nil && !errors.Is(reported, tt.handleErr) {
				t.Errorf("error handler got %v, want %v", reported, tt.handleErr)
			}
			if tt.panics && (reported == nil || !strings.Contains(reported.Error(), "handler bug")) {
				t.Errorf("error handler got %v, want the panic", reported)
			}
		})
	}
}

func TestEventHeaders(t *testing.T) {
	t.Parallel()
	type seenCtx struct{}
	var got *Event
	var gotCtx any
	h := NewReceiver(Auth{Headers: map[string]string{"x-functions-key": "secret"}},
		func(ctx context.Context, ev *Event) error {
			got, gotCtx = ev, ctx.Value(seenCtx{})
			return nil
		})
	req := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(ctxUpdateImages))
	req = req.WithContext(context.WithValue(req.Context(), seenCtx{}, "request context"))
	req.Header.Set("X-Functions-Key", "secret")
	req.Header.Set("x-ms-dynamics-organization", "org.crm.dynamics.com")
	req.Header.Set("x-ms-dynamics-entity-name", "account")
	req.Header.Set("x-ms-dynamics-request-name", "Update")
	req.Header.Set("x-ms-correlation-request-id", "0e1c4b1e-6d2c-4c56-9f1e-0d8d7c1a2b3c")
	req.Header.Set("x-ms-dynamics-msg-size-exceeded", "true")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("status = %d", rec.Code)
	}
	if gotCtx != "request context" {
		t.Error("handler did not get the request's context")
	}
	want := http.Header{
		"X-Ms-Dynamics-Organization":      {"org.crm.dynamics.com"},
		"X-Ms-Dynamics-Entity-Name":       {"account"},
		"X-Ms-Dynamics-Request-Name":      {"Update"},
		"X-Ms-Correlation-Request-Id":     {"0e1c4b1e-6d2c-4c56-9f1e-0d8d7c1a2b3c"},
		"X-Ms-Dynamics-Msg-Size-Exceeded": {"true"},
	}
	if diff := cmp.Diff(want, got.Headers); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	if !got.SizeExceeded {
		t.Error("SizeExceeded = false")
	}
	if got.Target == nil || got.Target.Attributes["telephone1"] != "555-0100" {
		t.Errorf("Target = %+v", got.Target)
	}
}

func TestAsync(t *testing.T) {
	t.Parallel()
	const workers, events = 2, 6
	release := make(chan struct{})
	var running, maxRunning, done atomic.Int32
	var errMu sync.Mutex
	var errs []error
	type key struct{}
	h := NewReceiver(Auth{Key: "k"}, func(ctx context.Context, ev *Event) error {
		n := running.Add(1)
		for {
			m := maxRunning.Load()
			if n <= m || maxRunning.CompareAndSwap(m, n) {
				break
			}
		}
		<-release
		running.Add(-1)
		done.Add(1)
		if ctx.Err() != nil {
			return fmt.Errorf("handler context cancelled: %w", ctx.Err())
		}
		if ctx.Value(key{}) != "v" {
			return errors.New("request values lost")
		}
		return errors.New("async failure")
	}, WithAsyncHandling(workers), WithHandlerErrors(func(ctx context.Context, ev *Event, err error) {
		errMu.Lock()
		errs = append(errs, err)
		errMu.Unlock()
	}))
	// Each request reports when the receiver first waits on its context: a request that finds every
	// worker busy does so while it queues for a free one.
	waiting := make(chan struct{}, events)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := &doneWatcher{Context: context.WithValue(r.Context(), key{}, "v"), waiting: waiting}
		h.ServeHTTP(w, r.WithContext(ctx))
	}))
	defer srv.Close()

	post := func() (int, error) {
		resp, err := http.Post(srv.URL+"/?code=k", "application/json", strings.NewReader(ctxCreate))
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}
	// The first events are acknowledged while their handlers are still blocked.
	for i := range workers {
		if code, err := post(); err != nil || code != 200 {
			t.Fatalf("event %d: %d, %v", i, code, err)
		}
	}
	// The rest wait for a free worker before they are acknowledged.
	var wg sync.WaitGroup
	codes := make(chan int, events)
	for range events - workers {
		wg.Go(func() {
			code, err := post()
			if err != nil {
				t.Error(err)
			}
			codes <- code
		})
	}
	// The first events passed the same point on their way to a free worker, so count them too.
	for i := range events {
		select {
		case <-waiting:
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of %d requests reached the receiver's queue", i, events)
		}
	}
	if n := len(codes); n != 0 {
		t.Errorf("%d events acknowledged while every worker was busy", n)
	}
	close(release)
	wg.Wait()
	close(codes)
	for code := range codes {
		if code != 200 {
			t.Errorf("status = %d, want 200", code)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.Wait(ctx); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if got := done.Load(); got != events {
		t.Errorf("%d handlers ran, want %d", got, events)
	}
	if got := maxRunning.Load(); got > workers {
		t.Errorf("%d handlers ran at once, want at most %d", got, workers)
	}
	errMu.Lock()
	defer errMu.Unlock()
	if len(errs) != events {
		t.Fatalf("%d errors reported, want %d", len(errs), events)
	}
	for _, err := range errs {
		if err.Error() != "async failure" {
			t.Errorf("reported error = %v, want the handler's own", err)
		}
	}
}

func TestAsyncBadRequestsAreNotAcknowledged(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	h := NewReceiver(Auth{}, func(ctx context.Context, ev *Event) error {
		calls.Add(1)
		return nil
	}, WithAsyncHandling(1))
	if rec := postWebhook(h, http.MethodPost, "/", `{"Stage":"x"}`); rec.Code != 400 {
		t.Errorf("bad context: status = %d, want 400", rec.Code)
	}
	if rec := postWebhook(h, http.MethodPost, "/", ctxDelete); rec.Code != 200 {
		t.Errorf("good context: status = %d, want 200", rec.Code)
	}
	if err := h.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 1 {
		t.Errorf("handler called %d times, want 1", calls.Load())
	}
}

func TestWaitHonoursContext(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	h := NewReceiver(Auth{}, func(ctx context.Context, ev *Event) error {
		<-release
		return nil
	}, WithAsyncHandling(1))
	defer close(release)
	if rec := postWebhook(h, http.MethodPost, "/", ctxCreate); rec.Code != 200 {
		t.Fatalf("status = %d", rec.Code)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait = %v, want context.Canceled", err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		ctxUpdateDocExample, ctxCreate, ctxUpdateImages, ctxDelete, ctxCustomAPI,
		`{}`, `null`, `[]`, `{"InputParameters":[{"key":"a","value":[{"__type":"OptionSetValue:x","Value":1}]}]}`,
		`{"ParentContext":{"ParentContext":{"Stage":1}}}`, `{"OperationCreatedOn":"\/Date(-9223372036854775808)\/"}`,
		`{"SharedVariables":[{"key":"x","value":{"__type":"EntityCollection:x","Entities":[null]}}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := Decode(body)
		if err != nil {
			if ev != nil {
				t.Fatal("event and error both returned")
			}
			if !strings.HasPrefix(err.Error(), "webhook: decode execution context: ") {
				t.Fatalf("error without context: %v", err)
			}
			return
		}
		if !json.Valid(ev.Raw) {
			t.Fatalf("Raw is not JSON")
		}
		if ev.Target != nil && ev.TargetReference != nil {
			t.Fatal("both Target and TargetReference set")
		}
		if ev.Target != nil && ev.Target.Attributes == nil {
			t.Fatal("Target.Attributes is nil")
		}
	})
}

// A receiver for a webhook registered with WebhookKey authentication: Dataverse posts each event to
// the registered URL with ?code=<key>.
func ExampleNewReceiver() {
	receiver := NewReceiver(Auth{Key: "webhook-key"}, func(ctx context.Context, ev *Event) error {
		fmt.Println(ev.MessageName, ev.PrimaryEntityName, ev.PrimaryEntityID)
		fmt.Println(ev.Target.Attributes["name"], ev.Target.Attributes["revenue"], ev.Target.Attributes["industrycode"])
		fmt.Println(ev.PostEntityImages["PostImage"].FormattedValues["statecode"])
		return nil
	})
	mux := http.NewServeMux()
	mux.Handle("/dataverse/events", receiver)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// What Dataverse sends.
	resp, err := http.Post(srv.URL+"/dataverse/events?code=webhook-key", "application/json", strings.NewReader(ctxCreate))
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	// A caller without the key.
	resp, err = http.Post(srv.URL+"/dataverse/events", "application/json", strings.NewReader(ctxCreate))
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	// Output:
	// Create account 7d577253-3ef0-4a0a-bb7f-8335c2596e70
	// Contoso {20000.0000} {7}
	// Active
	// 200 OK
	// 401 Unauthorized
}

// doneWatcher is a request context that reports, once, that someone called Done. The receiver
// does so when it waits for a free worker, so a test can tell when a request is queued without
// sleeping.
type doneWatcher struct {
	context.Context
	once    sync.Once
	waiting chan<- struct{}
}

func (c *doneWatcher) Done() <-chan struct{} {
	c.once.Do(func() { c.waiting <- struct{}{} })
	return c.Context.Done()
}
