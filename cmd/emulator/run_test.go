package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe to read while run writes to it. When ready is set, it is
// closed the first time the buffer matches readyWhen.
type syncBuffer struct {
	mu        sync.Mutex
	b         bytes.Buffer
	readyWhen *regexp.Regexp
	ready     chan struct{}
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.b.Write(p)
	if s.ready != nil && s.readyWhen.Match(s.b.Bytes()) {
		close(s.ready)
		s.ready = nil
	}
	return n, err
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunServesAndShutsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	// run prints the banner once it listens: the Web API line is the readiness signal.
	re := regexp.MustCompile(`Web API:\s+(http://127\.0\.0\.1:\d+)/api/data/v9\.2/`)
	ready := make(chan struct{})
	stdout := &syncBuffer{readyWhen: re, ready: ready}
	var stderr syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"--in-memory", "--addr", "127.0.0.1:0", "--log-level", "warn"}, stdout, &stderr)
	}()
	select {
	case <-ready:
	case code := <-done:
		cancel()
		t.Fatalf("run returned %d before printing the URL; stdout %q stderr %q", code, stdout.String(), stderr.String())
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatalf("no URL printed; stdout %q stderr %q", stdout.String(), stderr.String())
	}
	base := re.FindStringSubmatch(stdout.String())[1]
	for _, want := range []string{"Client secret:  dynlocal-dev-secret", "/oauth2/v2.0/token", "Data:           in memory", "Fixtures:       built-in ("} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("start-up banner lacks %q:\n%s", want, stdout.String())
		}
	}
	resp, err := http.Head(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("HEAD / = %d", resp.StatusCode)
	}
	resp, err = http.Get(base + "/api/data/v9.2/WhoAmI")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("WhoAmI without a token = %d", resp.StatusCode)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit status %d; stderr %s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}

func TestRunFlagErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"unknown flag", []string{"--nope"}, 2},
		{"extra argument", []string{"serve"}, 2},
		{"bad log level", []string{"--log-level", "loud"}, 2},
		{"missing fixtures dir", []string{"--in-memory", "--fixtures", "/does/not/exist"}, 1},
		{"help", []string{"--help"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(context.Background(), tt.args, &out, &errb); code != tt.code {
				t.Errorf("exit status %d, want %d; stderr %s", code, tt.code, errb.String())
			}
		})
	}
}

func TestEnvironmentFallback(t *testing.T) {
	t.Setenv("DYNLOCAL_ADDR", "not an address")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"--in-memory"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "listen") {
		t.Errorf("DYNLOCAL_ADDR not used: exit %d, stderr %s", code, errb.String())
	}
}

// startAndStop runs the emulator until its banner is printed, then stops it, returning the
// banner. It fails the test when run exits first.
func startAndStop(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan struct{})
	stdout := &syncBuffer{readyWhen: regexp.MustCompile(`Admin:`), ready: ready}
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append(args, "--addr", "127.0.0.1:0", "--log-level", "error"), stdout, &stderr)
	}()
	select {
	case <-ready:
	case code := <-done:
		t.Fatalf("run %v exited %d before its banner; stderr %s", args, code, stderr.String())
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("run %v: exit status %d; stderr %s", args, code, stderr.String())
	}
	return stdout.String()
}

// TestFixturesMismatch starts on a data directory made from the built-in set with --fixtures
// naming another set: the emulator refuses, says how to proceed, and --reset replaces the data.
func TestFixturesMismatch(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	startAndStop(t, "--data", data)

	other := t.TempDir()
	if err := os.CopyFS(other, os.DirFS("../../fixtures")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(other, "rows", "16-msevtmgt_events.json")); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr syncBuffer
	code := run(context.Background(), []string{"--data", data, "--fixtures", other, "--addr", "127.0.0.1:0"}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), `"built-in"`) || !strings.Contains(stderr.String(), "--reset") || !strings.Contains(stderr.String(), "--data") {
		t.Fatalf("mismatched --fixtures: exit %d, stderr %q; want 1 and advice naming --data and --reset", code, stderr.String())
	}
	banner := startAndStop(t, "--data", data, "--fixtures", other, "--reset")
	if !strings.Contains(banner, "Fixtures:       "+other+" (") {
		t.Errorf("after --reset the banner does not name %s:\n%s", other, banner)
	}
	startAndStop(t, "--data", data, "--fixtures", other)
}

// TestMain keeps the tests away from the user's cache of fixture databases: a run must not
// depend on what an earlier one left there, nor leave anything behind.
func TestMain(m *testing.M) {
	os.Setenv("DYNLOCAL_CACHE_DIR", "off")
	os.Exit(m.Run())
}

// A mistyped or foreign flag is named, with the flag that was probably meant and where to find
// the others; --version prints the version.
func TestFlagMessages(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--inmemory"}, 2, "emulator: unknown flag: --inmemory (did you mean --in-memory?)\nRun with --help for the flags.\n"},
		{[]string{"--port", "9000"}, 2, "emulator: unknown flag: --port (did you mean --addr?)\n"},
		{[]string{"--adr", "x"}, 2, "(did you mean --addr?)"},
		{[]string{"--frobnicate"}, 2, "emulator: unknown flag: --frobnicate\nRun with --help"},
		{[]string{"serve"}, 2, "emulator: unexpected arguments: serve\nRun with --help"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), tt.args, &stdout, &stderr); code != tt.code || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, stderr.String(), tt.code, tt.want)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"--version"}, &stdout, &stderr); code != 0 || !strings.HasPrefix(stdout.String(), "dynlocal ") {
		t.Errorf("--version: exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}

// A port in use says so once (no doubled prefix) and how to pick another.
func TestPortInUse(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--in-memory", "--addr", l.Addr().String(), "--cache-dir", "off"}, &stdout, &stderr)
	got := stderr.String()
	if code != 1 || strings.Contains(got, "emulator: emulator:") || !strings.Contains(got, "--addr 127.0.0.1:0") || !strings.Contains(got, "address already in use") {
		t.Errorf("exit %d, stderr %q", code, got)
	}
}

// --app takes client-id:secret.
func TestAppFlag(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"--in-memory", "--app", "no-secret"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "want client-id:secret") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

// --limits takes off, dataverse or scale=F.
func TestLimitsFlag(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"--in-memory", "--limits", "lots"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "want off, dataverse or scale=F") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

// --journal-size and --max-environments refuse what cannot be meant.
func TestJournalAndEnvironmentFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--journal-size", "-1"}, {"--max-environments", "0"}, {"--journal-size", "lots"}} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), append([]string{"--in-memory"}, args...), &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), args[0]) {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr.String())
		}
	}
	startAndStop(t, "--in-memory", "--journal-size", "0", "--max-environments", "3")
}
