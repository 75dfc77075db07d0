package main

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe to read while run writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunServesAndShutsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"--in-memory", "--addr", "127.0.0.1:0", "--log-level", "warn"}, &stdout, &stderr)
	}()
	re := regexp.MustCompile(`Web API:\s+(http://127\.0\.0\.1:\d+)/api/data/v9\.2/`)
	var base string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
			break
		}
	}
	if base == "" {
		cancel()
		t.Fatalf("no URL printed; stdout %q stderr %q", stdout.String(), stderr.String())
	}
	for _, want := range []string{"Client secret:  dynlocal-dev-secret", "/oauth2/v2.0/token", "Data:           in memory"} {
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
