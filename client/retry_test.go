package client

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// step is one scripted answer: a status with optional headers, or a dropped connection (status 0).
type step struct {
	status int
	header []string
}

func scripted(t *testing.T, steps []step) *fakeDataverse {
	t.Helper()
	return newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		s := steps[min(n, len(steps))-1]
		if s.status == 0 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		body := ""
		if s.status >= 400 {
			body = `{"error":{"code":"0x80072322","message":"scripted failure"}}`
		}
		reply(w, s.status, body, s.header...)
	})
}

func TestRetries(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	now := time.Date(2026, 5, 8, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		method     string
		policy     *RetryPolicy
		steps      []step
		wantHits   int
		wantWaits  []time.Duration
		wantStatus int // final status, 0 when the last attempt got no answer
	}{
		{
			name: "no policy, no retry", method: "GET",
			steps:    []step{{503, nil}, {200, nil}},
			wantHits: 1, wantStatus: 503,
		},
		{
			name: "fixed delay", method: "GET", policy: &RetryPolicy{MaxRetries: 3, Delay: 100 * ms},
			steps:    []step{{503, nil}, {502, nil}, {200, nil}},
			wantHits: 3, wantWaits: []time.Duration{100 * ms, 100 * ms}, wantStatus: 200,
		},
		{
			name: "exponential delay", method: "GET", policy: &RetryPolicy{MaxRetries: 3, Delay: 100 * ms, Exponential: true},
			steps:    []step{{500, nil}, {500, nil}, {500, nil}, {200, nil}},
			wantHits: 4, wantWaits: []time.Duration{100 * ms, 200 * ms, 400 * ms}, wantStatus: 200,
		},
		{
			name: "exponential delay capped", method: "GET", policy: &RetryPolicy{MaxRetries: 3, Delay: 100 * ms, Exponential: true, MaxDelay: 250 * ms},
			steps:    []step{{500, nil}, {500, nil}, {500, nil}, {200, nil}},
			wantHits: 4, wantWaits: []time.Duration{100 * ms, 200 * ms, 250 * ms}, wantStatus: 200,
		},
		{
			name: "retries exhausted", method: "DELETE", policy: &RetryPolicy{MaxRetries: 2, Delay: 10 * ms},
			steps:    []step{{503, nil}},
			wantHits: 3, wantWaits: []time.Duration{10 * ms, 10 * ms}, wantStatus: 503,
		},
		{
			name: "retry-after seconds on 429", method: "GET", policy: &RetryPolicy{MaxRetries: 1, Delay: 100 * ms},
			steps:    []step{{429, []string{"Retry-After", "7"}}, {200, nil}},
			wantHits: 2, wantWaits: []time.Duration{7 * time.Second}, wantStatus: 200,
		},
		{
			name: "retry-after capped by max delay", method: "GET", policy: &RetryPolicy{MaxRetries: 1, MaxDelay: 2 * time.Second},
			steps:    []step{{429, []string{"Retry-After", "30"}}, {200, nil}},
			wantHits: 2, wantWaits: []time.Duration{2 * time.Second}, wantStatus: 200,
		},
		{
			name: "retry-after date on 503", method: "GET", policy: &RetryPolicy{MaxRetries: 1},
			steps:    []step{{503, []string{"Retry-After", now.Add(30 * time.Second).Format(http.TimeFormat)}}, {200, nil}},
			wantHits: 2, wantWaits: []time.Duration{30 * time.Second}, wantStatus: 200,
		},
		{
			name: "retry-after shorter than the backoff", method: "GET", policy: &RetryPolicy{MaxRetries: 1, Delay: 5 * time.Second},
			steps:    []step{{429, []string{"Retry-After", "1"}}, {200, nil}},
			wantHits: 2, wantWaits: []time.Duration{5 * time.Second}, wantStatus: 200,
		},
		{
			name: "retry-after ignored on 500", method: "GET", policy: &RetryPolicy{MaxRetries: 1, Delay: 10 * ms},
			steps:    []step{{500, []string{"Retry-After", "60"}}, {200, nil}},
			wantHits: 2, wantWaits: []time.Duration{10 * ms}, wantStatus: 200,
		},
		{
			name: "post not retried by default", method: "POST", policy: &RetryPolicy{MaxRetries: 3},
			steps:    []step{{503, nil}, {204, nil}},
			wantHits: 1, wantStatus: 503,
		},
		{
			name: "patch not retried on 429 by default", method: "PATCH", policy: &RetryPolicy{MaxRetries: 3},
			steps:    []step{{429, []string{"Retry-After", "1"}}, {204, nil}},
			wantHits: 1, wantStatus: 429,
		},
		{
			name: "post retried when writes are allowed", method: "POST", policy: &RetryPolicy{MaxRetries: 3, RetryWrites: true},
			steps:    []step{{503, nil}, {204, nil}},
			wantHits: 2, wantWaits: []time.Duration{0}, wantStatus: 204,
		},
		{
			name: "post retried on all errors", method: "POST", policy: &RetryPolicy{MaxRetries: 3, RetryOn: RetryAllErrors},
			steps:    []step{{400, nil}, {204, nil}},
			wantHits: 2, wantWaits: []time.Duration{0}, wantStatus: 204,
		},
		{
			name: "client errors final by default", method: "GET", policy: &RetryPolicy{MaxRetries: 3},
			steps:    []step{{404, nil}, {200, nil}},
			wantHits: 1, wantStatus: 404,
		},
		{
			name: "501 final", method: "GET", policy: &RetryPolicy{MaxRetries: 3},
			steps:    []step{{501, nil}, {200, nil}},
			wantHits: 1, wantStatus: 501,
		},
		{
			name: "dropped connection retried for GET", method: "GET", policy: &RetryPolicy{MaxRetries: 2, Delay: ms},
			steps:    []step{{0, nil}, {200, nil}},
			wantHits: 2, wantWaits: []time.Duration{ms}, wantStatus: 200,
		},
		{
			name: "dropped connection not retried for POST", method: "POST", policy: &RetryPolicy{MaxRetries: 2},
			steps:    []step{{0, nil}, {204, nil}},
			wantHits: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := scripted(t, tt.steps)
			clock := &fakeClock{now: now}
			c := newTestClient(t, f, clock.option())
			res, err := c.Do(context.Background(), &RawRequest{Method: tt.method, Path: "/api/data/v9.2/accounts", Retry: tt.policy})
			if got := f.count(); got != tt.wantHits {
				t.Errorf("server hit %d times, want %d", got, tt.wantHits)
			}
			if diff := cmp.Diff(tt.wantWaits, clock.recorded()); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
			status := 0
			if res != nil {
				status = res.StatusCode
			}
			if status != tt.wantStatus {
				t.Fatalf("final status = %d (err %v), want %d", status, err, tt.wantStatus)
			}
			switch {
			case tt.wantStatus == 0:
				if err == nil || errors.As(err, new(*Error)) {
					t.Errorf("err = %v, want a network error", err)
				}
			case tt.wantStatus >= 400:
				var apiErr *Error
				if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.wantStatus {
					t.Errorf("err = %v, want *Error %d", err, tt.wantStatus)
				}
			default:
				if err != nil {
					t.Errorf("err = %v", err)
				}
			}
		})
	}
}

func TestClientRetryPolicyAppliesToActions(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			reply(w, 503, "")
			return
		}
		okWhoAmI(w, r, n)
	})
	clock := &fakeClock{}
	c := newTestClient(t, f, clock.option(), WithRetry(RetryPolicy{MaxRetries: 2, Delay: time.Second}))
	if _, _, err := c.WhoAmI(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f.count() != 2 || len(clock.recorded()) != 1 {
		t.Errorf("server hit %d times after %d waits, want 2 after 1", f.count(), len(clock.recorded()))
	}
	// Writes keep the no-retry default even when reads are retried.
	f2 := scripted(t, []step{{503, nil}, {204, nil}})
	c2 := newTestClient(t, f2, clock.option(), WithRetry(RetryPolicy{MaxRetries: 2}))
	if _, _, err := c2.CreateRecord(context.Background(), "accounts", Record{"name": "x"}, nil); !errors.As(err, new(*Error)) {
		t.Fatalf("err = %v, want the 503", err)
	}
	if f2.count() != 1 {
		t.Errorf("create sent %d times, want 1", f2.count())
	}
}

func TestRetryWaitCancelledByContext(t *testing.T) {
	t.Parallel()
	f := scripted(t, []step{{503, nil}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := &fakeClock{onWait: func(time.Duration) { cancel() }}
	c := newTestClient(t, f, clock.option())
	_, err := c.Do(ctx, &RawRequest{Method: "GET", Path: "/api/data/v9.2/accounts", Retry: &RetryPolicy{MaxRetries: 5, Delay: time.Hour}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 {
		t.Errorf("err = %v, want the last 503 inside", err)
	}
	if f.count() != 1 {
		t.Errorf("server hit %d times after cancellation, want 1", f.count())
	}
}

func TestRetryRealWaitCancelledByContext(t *testing.T) {
	t.Parallel()
	// The real sleep must return as soon as the context is done, not after the hour.
	ctx, cancel := context.WithCancel(context.Background())
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		cancel()
		reply(w, 503, "")
	})
	c := newTestClient(t, f)
	_, err := c.Do(ctx, &RawRequest{Method: "GET", Path: "/api/data/v9.2/accounts", Retry: &RetryPolicy{MaxRetries: 5, Delay: time.Hour}})
	if err == nil {
		t.Fatal("want an error")
	}
	if f.count() != 1 {
		t.Errorf("server hit %d times, want 1", f.count())
	}
}

func TestRetrySkippedWhenBudgetTooShort(t *testing.T) {
	t.Parallel()
	f := scripted(t, []step{{503, nil}, {200, nil}})
	clock := &fakeClock{}
	c := newTestClient(t, f, clock.option())
	res, err := c.Do(context.Background(), &RawRequest{
		Method: "GET", Path: "/api/data/v9.2/accounts",
		Timeout: time.Minute, Retry: &RetryPolicy{MaxRetries: 3, Delay: time.Hour},
	})
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 || res == nil || res.StatusCode != 503 {
		t.Fatalf("err = %v, want the 503 rather than a timeout", err)
	}
	if len(clock.recorded()) != 0 || f.count() != 1 {
		t.Errorf("waited %v and sent %d requests; want no wait and 1 request", clock.recorded(), f.count())
	}
}

func TestRetryPolicyValidation(t *testing.T) {
	t.Parallel()
	for _, p := range []RetryPolicy{{MaxRetries: -1}, {Delay: -1}, {MaxDelay: -1}, {RetryOn: 7}} {
		if _, err := New("http://127.0.0.1:1", WithRetry(p)); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("WithRetry(%+v): err = %v, want ErrInvalidInput", p, err)
		}
	}
}
