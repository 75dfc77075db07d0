package emulator

import (
	"testing"
	"time"

	"github.com/dynlocal/dynlocal/emulator/dverr"
)

// Requests at once beyond the limit are refused at once, and admitted again when one ends.
func TestLimiterConcurrency(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	lm := newLimiter(&Limits{Concurrent: 2, Window: time.Minute}, func() time.Time { return now })
	done1, err1 := lm.admit("u")
	_, err2 := lm.admit("u")
	if err1 != nil || err2 != nil {
		t.Fatalf("two at once: %v %v", err1, err2)
	}
	_, err := lm.admit("u")
	de, ok := err.(*dverr.Error)
	if !ok || de.Status != 429 || de.Code != "0x80072326" || de.Message != "Number of concurrent requests exceeded the limit of 2." || de.Header.Get("Retry-After") != "1" {
		t.Fatalf("a third at once: %#v", err)
	}
	if _, err := lm.admit("someone else"); err != nil {
		t.Errorf("another user: %v", err)
	}
	done1()
	if _, err := lm.admit("u"); err != nil {
		t.Errorf("after one ended: %v", err)
	}
}

// Execution time adds up over the window; past the limit the next request is refused until the
// window moves on.
func TestLimiterExecutionTime(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	lm := newLimiter(&Limits{ExecutionTime: 1500 * time.Millisecond, Window: 10 * time.Second}, func() time.Time { return now })
	for range 2 {
		done, err := lm.admit("u")
		if err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Second) // the request takes a second
		done()
	}
	_, err := lm.admit("u")
	de, ok := err.(*dverr.Error)
	want := "Combined execution time of incoming requests exceeded limit of 1,500 milliseconds over time window of 10 seconds. " +
		"Decrease number of concurrent requests or reduce the duration of requests and try again later."
	if !ok || de.Code != "0x80072321" || de.Message != want || de.Header.Get("Retry-After") != "9" {
		t.Fatalf("over the execution time: %#v", err)
	}
	now = now.Add(9 * time.Second)
	if _, err := lm.admit("u"); err != nil {
		t.Errorf("once the first request left the window: %v", err)
	}
}

func TestParseLimits(t *testing.T) {
	t.Parallel()
	if l, err := ParseLimits("off"); l != nil || err != nil {
		t.Errorf("off: %v %v", l, err)
	}
	if l, err := ParseLimits("dataverse"); err != nil || *l != DataverseLimits() {
		t.Errorf("dataverse: %v %v", l, err)
	}
	l, err := ParseLimits("scale=0.001")
	if err != nil || l.Requests != 6 || l.Concurrent != 1 || l.Window != 300*time.Millisecond || l.ExecutionTime != 1200*time.Millisecond {
		t.Errorf("scale=0.001: %+v %v", l, err)
	}
	for _, bad := range []string{"scale=0", "scale=x", "lots"} {
		if _, err := ParseLimits(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
