package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// --redirect-uri reaches the identity endpoints: a good one starts the emulator, one that is
// not an absolute http(s) URL is refused at start.
func TestRedirectURIFlag(t *testing.T) {
	startAndStop(t, "--in-memory", "--redirect-uri", "https://app.example.test/signin-oidc", "--redirect-uri", "http://localhost:5000/cb")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"--in-memory", "--redirect-uri", "app.example.test/cb"}, &stdout, &stderr); code == 0 || !strings.Contains(stderr.String(), "RedirectURIs") {
		t.Errorf("bad --redirect-uri: exit %d, stderr %s", code, stderr.String())
	}
}
