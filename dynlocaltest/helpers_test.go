package dynlocaltest_test

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
)

// stubT is a testing.TB that keeps failures and cleanups to itself, so that a test can watch New
// and the Org's methods fail a test, run an Org's cleanup before its own end, and examples (which
// get no *testing.T) can call New. It implements the methods this package calls; any other
// method panics on the nil embedded TB.
type stubT struct {
	testing.TB

	name string // Name's answer; "Example" when empty

	mu       sync.Mutex
	failed   bool
	fatal    bool
	logs     []string
	cleanups []func()
}

func (t *stubT) Helper() {}

func (t *stubT) Name() string {
	if t.name == "" {
		return "Example"
	}
	return t.name
}

func (t *stubT) Cleanup(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cleanups = append(t.cleanups, f)
}

func (t *stubT) Errorf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.failed = true
	t.logs = append(t.logs, fmt.Sprintf(format, args...))
}

func (t *stubT) Fatalf(format string, args ...any) {
	t.Errorf(format, args...)
	t.mu.Lock()
	t.fatal = true
	t.mu.Unlock()
	runtime.Goexit() // as t.FailNow does: run's goroutine ends here
}

func (t *stubT) Failed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failed
}

// run calls f(t) on a goroutine of its own, as go test runs a test function, so that Fatalf can
// end it, and then runs the cleanups f registered, last first. It reports whether f returned
// (rather than stopping at a Fatalf).
func (t *stubT) run(f func(testing.TB)) (returned bool) {
	done := make(chan bool)
	go func() {
		ok := false
		defer func() { done <- ok }()
		f(t)
		ok = true
	}()
	returned = <-done
	t.finish()
	return returned
}

// finish runs the cleanups, last first.
func (t *stubT) finish() {
	t.mu.Lock()
	cleanups := t.cleanups
	t.cleanups = nil
	t.mu.Unlock()
	for _, f := range slices.Backward(cleanups) {
		f()
	}
}

// messages returns what was reported through Errorf and Fatalf.
func (t *stubT) messages() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.logs)
}

// runTest runs f as go test would run a test function, with a stand-in for its *testing.T (an
// example gets none), and prints what made it fail, if anything did.
func runTest(f func(t testing.TB)) {
	t := &stubT{}
	t.run(f)
	for _, m := range t.messages() {
		fmt.Println("FAIL:", m)
	}
}
