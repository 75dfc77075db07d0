package client

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// seen is one request as the fake Dataverse received it.
type seen struct {
	Method   string
	Path     string // escaped path, as sent on the request line
	RawQuery string
	Header   http.Header
	Body     string
}

// fakeDataverse is an httptest server that records every request and answers through handle.
type fakeDataverse struct {
	srv    *httptest.Server
	mu     sync.Mutex
	seen   []seen
	handle func(w http.ResponseWriter, r *http.Request, n int)
}

// newFake starts a server whose answers come from handle; n counts requests from 1.
func newFake(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, n int)) *fakeDataverse {
	t.Helper()
	f := &fakeDataverse{handle: handle}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		f.mu.Lock()
		f.seen = append(f.seen, seen{
			Method:   r.Method,
			Path:     r.URL.EscapedPath(),
			RawQuery: r.URL.RawQuery,
			Header:   r.Header.Clone(),
			Body:     string(body),
		})
		n := len(f.seen)
		f.mu.Unlock()
		if f.handle != nil {
			f.handle(w, r, n)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeDataverse) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.seen...)
}

func (f *fakeDataverse) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.seen)
}

func (f *fakeDataverse) last(t *testing.T) seen {
	t.Helper()
	reqs := f.requests()
	if len(reqs) == 0 {
		t.Fatal("no request reached the server")
	}
	return reqs[len(reqs)-1]
}

// reply writes a Dataverse-style answer: headers as name/value pairs, then the body (JSON unless a
// Content-Type is given).
func reply(w http.ResponseWriter, status int, body string, headers ...string) {
	for i := 0; i+1 < len(headers); i += 2 {
		w.Header().Add(headers[i], headers[i+1])
	}
	if body != "" && w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json; odata.metadata=minimal")
	}
	w.Header().Set("OData-Version", "4.0")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// testToken is the bearer token of clients built by newTestClient.
const testToken = "test-access-token"

// newTestClient returns a client for f with a static token and any further options.
func newTestClient(t *testing.T, f *fakeDataverse, opts ...Option) *Client {
	t.Helper()
	c, err := New(f.srv.URL, append([]Option{WithStaticToken(testToken)}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// fakeClock records the waits the client asks for instead of sleeping. Computed waits are not
// jittered unless jitter is set, so that tests can name the waits they expect.
type fakeClock struct {
	mu     sync.Mutex
	waits  []time.Duration
	now    time.Time
	onWait func(d time.Duration)
	jitter func(d time.Duration) time.Duration
}

func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.waits = append(c.waits, d)
	hook := c.onWait
	c.mu.Unlock()
	if hook != nil {
		hook(d)
	}
	return ctx.Err()
}

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) recorded() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

func (c *fakeClock) option() Option {
	jitter := c.jitter
	if jitter == nil {
		jitter = func(d time.Duration) time.Duration { return d }
	}
	return func(s *settings) error {
		withClock(c.sleep, c.Now)(s)
		return withJitter(jitter)(s)
	}
}

const (
	accountID = "7d577253-3ef0-4a0a-bb7f-8335c2596e70"
	contactID = "c1b2a3d4-0000-4000-8000-000000000001"
	userID    = "d96e9f55-5e2e-4c1f-9f0a-111111111111"
)

// Token expiry stamps; only their side of "now" matters.
func timeInPast() time.Time   { return time.Now().Add(-time.Hour) }
func timeInFuture() time.Time { return time.Now().Add(time.Hour) }
