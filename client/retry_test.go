package client

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
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
			name: "429 retry-after honoured past max delay", method: "GET", policy: &RetryPolicy{MaxRetries: 1, MaxDelay: 2 * time.Second},
			steps:    []step{{429, []string{"Retry-After", "30"}}, {200, nil}},
			wantHits: 2, wantWaits: []time.Duration{30 * time.Second}, wantStatus: 200,
		},
		{
			name: "503 retry-after capped by max delay", method: "GET", policy: &RetryPolicy{MaxRetries: 1, MaxDelay: 2 * time.Second},
			steps:    []step{{503, []string{"Retry-After", "30"}}, {200, nil}},
			wantHits: 2, wantWaits: []time.Duration{2 * time.Second}, wantStatus: 200,
		},
		{
			name: "retry-after date on 503", method: "GET", policy: &RetryPolicy{MaxRetries: 1},
			steps:    []step{{503, []string{"Retry-After", now.Add(30 * time.Second).Format(http.TimeFormat)}}, {200, nil}},
			wantHits: 2, wantWaits: []time.Duration{30 * time.Second}, wantStatus: 200,
		},
		{
			name: "429 retry-after shorter than the backoff", method: "GET", policy: &RetryPolicy{MaxRetries: 1, Delay: 5 * time.Second},
			steps:    []step{{429, []string{"Retry-After", "1"}}, {200, nil}},
			wantHits: 2, wantWaits: []time.Duration{time.Second}, wantStatus: 200,
		},
		{
			name: "503 retry-after shorter than the backoff", method: "GET", policy: &RetryPolicy{MaxRetries: 1, Delay: 5 * time.Second},
			steps:    []step{{503, []string{"Retry-After", "1"}}, {200, nil}},
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
			name: "429 retried without a policy", method: "GET",
			steps:    []step{{429, []string{"Retry-After", "2"}}, {200, nil}},
			wantHits: 2, wantWaits: []time.Duration{2 * time.Second}, wantStatus: 200,
		},
		{
			name: "429 on POST retried without a policy", method: "POST",
			steps:    []step{{429, []string{"Retry-After", "1"}}, {204, nil}},
			wantHits: 2, wantWaits: []time.Duration{time.Second}, wantStatus: 204,
		},
		{
			name: "429 on PATCH retried although writes are not", method: "PATCH", policy: &RetryPolicy{MaxRetries: 3},
			steps:    []step{{429, []string{"Retry-After", "1"}}, {503, nil}, {204, nil}},
			wantHits: 2, wantWaits: []time.Duration{time.Second}, wantStatus: 503,
		},
		{
			name: "429 retries bounded by default", method: "DELETE",
			steps:    []step{{429, []string{"Retry-After", "1"}}},
			wantHits: 1 + DefaultThrottleRetries, wantWaits: []time.Duration{time.Second, time.Second, time.Second}, wantStatus: 429,
		},
		{
			name: "429 without retry-after backs off from the default delay", method: "GET",
			steps:    []step{{429, nil}, {429, nil}, {429, nil}, {200, nil}},
			wantHits: 4, wantWaits: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, wantStatus: 200,
		},
		{
			name: "429 without retry-after backs off from Delay, capped", method: "GET", policy: &RetryPolicy{Delay: 100 * ms, MaxDelay: 250 * ms},
			steps:    []step{{429, nil}, {429, nil}, {429, nil}, {200, nil}},
			wantHits: 4, wantWaits: []time.Duration{100 * ms, 200 * ms, 250 * ms}, wantStatus: 200,
		},
		{
			name: "429 retries set by ThrottleRetries", method: "GET", policy: &RetryPolicy{ThrottleRetries: 1},
			steps:    []step{{429, []string{"Retry-After", "3"}}},
			wantHits: 2, wantWaits: []time.Duration{3 * time.Second}, wantStatus: 429,
		},
		{
			name: "429 retries turned off", method: "GET", policy: &RetryPolicy{MaxRetries: 3, ThrottleRetries: -1},
			steps:    []step{{429, []string{"Retry-After", "1"}}, {200, nil}},
			wantHits: 1, wantStatus: 429,
		},
		{
			name: "429s and other failures counted apart", method: "GET", policy: &RetryPolicy{MaxRetries: 1, ThrottleRetries: 1, Delay: 10 * ms},
			steps:    []step{{503, nil}, {429, []string{"Retry-After", "1"}}, {503, nil}, {200, nil}},
			wantHits: 3, wantWaits: []time.Duration{10 * ms, time.Second}, wantStatus: 503,
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

// Computed waits go through the jitter; waits the service set with Retry-After do not.
func TestRetryJitter(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var jittered []time.Duration
	clock := &fakeClock{jitter: func(d time.Duration) time.Duration {
		mu.Lock()
		defer mu.Unlock()
		jittered = append(jittered, d)
		return d / 2
	}}
	f := scripted(t, []step{{503, nil}, {429, []string{"Retry-After", "7"}}, {429, nil}, {503, []string{"Retry-After", "9"}}, {200, nil}})
	c := newTestClient(t, f, clock.option())
	_, err := c.Do(context.Background(), &RawRequest{Method: "GET", Path: "/api/data/v9.2/accounts",
		Retry: &RetryPolicy{MaxRetries: 3, Delay: 4 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	wantWaits := []time.Duration{2 * time.Second, 7 * time.Second, 4 * time.Second, 9 * time.Second}
	if diff := cmp.Diff(wantWaits, clock.recorded()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
	// The 503's backoff and the second 429's (Delay doubled), not the two Retry-After waits.
	if diff := cmp.Diff([]time.Duration{4 * time.Second, 8 * time.Second}, jittered); diff != "" {
		t.Errorf("jittered (-want +got):\n%s", diff)
	}
}

func TestEqualJitter(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Duration{0, 1, 2, 3, time.Millisecond, time.Second, time.Hour} {
		lowest, highest := d, time.Duration(0)
		for range 2000 {
			got := equalJitter(d)
			if got < d/2 || got > d {
				t.Fatalf("equalJitter(%v) = %v, want within [%v, %v]", d, got, d/2, d)
			}
			lowest, highest = min(lowest, got), max(highest, got)
		}
		if d >= time.Millisecond && (lowest > d*3/5 || highest < d*9/10) {
			t.Errorf("equalJitter(%v) stayed within [%v, %v]: not spread", d, lowest, highest)
		}
	}
}

// A throttled $batch is retried like any other request: Dataverse refused it before running any
// part of it.
func TestBatchRetriedOn429(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			reply(w, 429, `{"error":{"code":"0x80072322","message":"Number of requests exceeded the limit"}}`, "Retry-After", "4")
			return
		}
		w.Header().Set("Content-Type", "multipart/mixed; boundary=batchresponse_r")
		io.WriteString(w, "--batchresponse_r\r\nContent-Type: multipart/mixed; boundary=changesetresponse_r\r\n\r\n"+
			"--changesetresponse_r\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\n"+
			"HTTP/1.1 204 No Content\r\nOData-EntityId: http://x/api/data/v9.2/accounts("+accountID+")\r\n\r\n"+
			"\r\n--changesetresponse_r--\r\n--batchresponse_r--\r\n")
	})
	clock := &fakeClock{}
	c := newTestClient(t, f, clock.option())
	results, resp, err := c.Batch(context.Background(), []BatchAction{{Collection: "accounts", Action: "create", Data: Record{"name": "A"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || len(results) != 1 || results[0].ID != accountID {
		t.Errorf("status %d, results %+v; want 200 and the created id", resp.StatusCode, results)
	}
	if diff := cmp.Diff([]time.Duration{4 * time.Second}, clock.recorded()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.seen) != 2 || f.seen[0].Body != f.seen[1].Body {
		t.Errorf("%d requests; want the same $batch body sent twice", len(f.seen))
	}
}

// A throttled request's Retry-After wait is cancellable like any other.
func TestThrottleWaitCancelledByContext(t *testing.T) {
	t.Parallel()
	f := scripted(t, []step{{429, []string{"Retry-After", "300"}}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := &fakeClock{onWait: func(time.Duration) { cancel() }}
	c := newTestClient(t, f, clock.option())
	_, _, err := c.CreateRecord(ctx, "accounts", Record{"name": "x"}, nil)
	if !errors.Is(err, context.Canceled) || !errors.Is(err, ErrTooManyRequests) {
		t.Fatalf("err = %v, want context.Canceled with the 429 inside", err)
	}
	if f.count() != 1 {
		t.Errorf("server hit %d times after cancellation, want 1", f.count())
	}
}

// A Retry-After longer than the time left is not waited for: the 429 comes back at once.
func TestThrottleWaitBeyondDeadline(t *testing.T) {
	t.Parallel()
	f := scripted(t, []step{{429, []string{"Retry-After", "300"}}, {200, nil}})
	clock := &fakeClock{}
	c := newTestClient(t, f, clock.option())
	_, err := c.Do(context.Background(), &RawRequest{Method: "GET", Path: "/api/data/v9.2/accounts", Timeout: time.Minute})
	if !errors.Is(err, ErrTooManyRequests) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the 429", err)
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
