package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
)

// Listening on an address other machines reach needs --admin-token, and says so.
func TestExposedNeedsAdminToken(t *testing.T) {
	t.Setenv("DYNLOCAL_ADMIN_TOKEN", "")
	for _, args := range [][]string{
		{"--addr", "0.0.0.0:0"},
		{"--addr", ":0"},
		{"--addr", "127.0.0.1:0", "--tls", "--tls-dir", t.TempDir(), "--tls-addr", "0.0.0.0:0"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), append([]string{"--in-memory"}, args...), &stdout, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), "--admin-token") {
			t.Errorf("run %v: exit %d, stderr %q; want 2 and a message naming --admin-token", args, code, stderr.String())
		}
	}
}

// On 0.0.0.0 the emulator warns, prints URLs a client can use (never 0.0.0.0 or [::]) and no
// secret it was given.
func TestExposedBanner(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan struct{})
	stdout := &syncBuffer{readyWhen: regexp.MustCompile(`Admin:.*\n(.*\n)*$`), ready: ready}
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--in-memory", "--addr", "0.0.0.0:0", "--admin-token", "adm1n-secret",
			"--client-secret", "my-own-secret", "--log-level", "error"}, stdout, &stderr)
	}()
	select {
	case <-ready:
	case code := <-done:
		t.Fatalf("run exited %d before its banner; stderr %s", code, stderr.String())
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit status %d; stderr %s", code, stderr.String())
	}
	banner := stdout.String()
	if !regexp.MustCompile(`Web API:\s+http://127\.0\.0\.1:\d+/api/data/v9\.2/`).MatchString(banner) {
		t.Errorf("banner's Web API URL is not the loopback one:\n%s", banner)
	}
	for _, bad := range []string{"0.0.0.0", "[::]"} {
		if strings.Contains(banner, bad) {
			t.Errorf("banner shows %q:\n%s", bad, banner)
		}
	}
	for _, secret := range []string{"my-own-secret", "adm1n-secret"} {
		if strings.Contains(banner+stderr.String(), secret) {
			t.Errorf("output shows the secret %q:\nstdout %s\nstderr %s", secret, banner, stderr.String())
		}
	}
	if !strings.Contains(stderr.String(), "WARNING") || !strings.Contains(stderr.String(), "0.0.0.0") {
		t.Errorf("stderr does not warn about listening on 0.0.0.0: %s", stderr.String())
	}
}
