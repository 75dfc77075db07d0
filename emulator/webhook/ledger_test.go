package webhook

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// TestLedgerRehearsesCalls walks a Ledger through the runs of one write: unknown calls are pending
// and the run goes on; Settle makes them in order and stops at a failure; a run that sends the same
// contexts (row versions aside) takes the recorded outcomes; a changed context is called again;
// and past the recall limit the calls are made at once.
func TestLedgerRehearsesCalls(t *testing.T) {
	var calls atomic.Int32
	failBody := `{"fail":true}`
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		b, _ := io.ReadAll(r.Body)
		if string(b) == failBody {
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
	defer hs.Close()
	h := New(Config{Timeout: 5 * time.Second, Clock: time.Now, NewID: func() string { return "id" }, Log: slog.New(slog.DiscardHandler)})
	defer h.Close()
	ctx := context.Background()
	n := 0
	l := NewLedger(func() string { n++; return strconv.Itoa(n) }, time.Now)
	step := &Step{ID: "s1", Stage: StagePreOperation, Endpoint: Endpoint{URL: hs.URL}}
	d := func(body string) *delivery { return &delivery{step: step, body: []byte(body)} }

	// Run 1: two calls met, neither made; ids are generated.
	l.Begin()
	first := l.NewID()
	if _, _, made := l.call(ctx, h, d(`{"key":"versionnumber","value":1,"a":1}`), 1); made {
		t.Fatal("an unknown call was made in the run")
	}
	if _, _, made := l.call(ctx, h, d(failBody), 1); made || !l.Pending() {
		t.Fatal("the second call is not pending")
	}
	l.Settle(ctx)
	if calls.Load() != 2 || l.Pending() {
		t.Fatalf("settled calls = %d, pending %v", calls.Load(), l.Pending())
	}

	// Run 2: the same ids; the first context differs only in its row version, so both outcomes
	// are taken as recorded, the second a failure.
	l.Begin()
	if id := l.NewID(); id != first {
		t.Errorf("replayed id = %s, want %s", id, first)
	}
	if rec, _, made := l.call(ctx, h, d(`{"key":"versionnumber","value":99,"a":1}`), 1); !made || !rec.Succeeded {
		t.Errorf("first outcome: made %v, %+v", made, rec)
	}
	if rec, _, made := l.call(ctx, h, d(failBody), 1); !made || rec.Succeeded {
		t.Errorf("second outcome: made %v, %+v", made, rec)
	}
	if calls.Load() != 2 {
		t.Errorf("recorded outcomes called the endpoint again: %d calls", calls.Load())
	}

	// A changed context is pending again, up to the recall limit; past it calls are made at once.
	for i := 0; i <= maxRecalls; i++ {
		l.Begin()
		_, _, made := l.call(ctx, h, d(`{"a":`+strconv.Itoa(i+2)+`}`), 1)
		if i < maxRecalls {
			if made {
				t.Fatalf("recall %d was made in the run", i+1)
			}
			l.Settle(ctx)
			continue
		}
		if !made {
			t.Fatalf("past the recall limit the call is still pending")
		}
	}
	if got := calls.Load(); got != 2+maxRecalls+1 {
		t.Errorf("calls = %d, want %d", got, 2+maxRecalls+1)
	}
}
