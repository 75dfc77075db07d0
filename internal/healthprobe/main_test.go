package main

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealthURL(t *testing.T) {
	t.Parallel()
	env := func(m map[string]string) func(string) string {
		return func(k string) string { return m[k] }
	}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"default", nil, nil, defaultURL},
		{"argument first", []string{"http://127.0.0.1:9/h"}, map[string]string{"DYNLOCAL_HEALTH_URL": "http://x/h", "DYNLOCAL_ADDR": "0.0.0.0:1"}, "http://127.0.0.1:9/h"},
		{"variable", nil, map[string]string{"DYNLOCAL_HEALTH_URL": "http://x/h", "DYNLOCAL_ADDR": "0.0.0.0:1"}, "http://x/h"},
		{"image address", nil, map[string]string{"DYNLOCAL_ADDR": "0.0.0.0:8080"}, defaultURL},
		{"other port", nil, map[string]string{"DYNLOCAL_ADDR": "0.0.0.0:9000"}, "http://127.0.0.1:9000/_emulator/health"},
		{"no host", nil, map[string]string{"DYNLOCAL_ADDR": ":9000"}, "http://127.0.0.1:9000/_emulator/health"},
		{"ipv6 wildcard", nil, map[string]string{"DYNLOCAL_ADDR": "[::]:9000"}, "http://[::1]:9000/_emulator/health"},
		{"loopback", nil, map[string]string{"DYNLOCAL_ADDR": "127.0.0.1:9000"}, "http://127.0.0.1:9000/_emulator/health"},
		{"any free port", nil, map[string]string{"DYNLOCAL_ADDR": "127.0.0.1:0"}, defaultURL},
		{"not an address", nil, map[string]string{"DYNLOCAL_ADDR": "8080"}, defaultURL},
	} {
		if got := healthURL(tc.args, env(tc.env)); got != tc.want {
			t.Errorf("%s: healthURL = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestRun(t *testing.T) {
	t.Parallel()
	serve := func(status int, body string) string {
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/_emulator/health" || r.Method != http.MethodGet {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			w.Write([]byte(body))
		}))
		t.Cleanup(hs.Close)
		return hs.URL + "/_emulator/health"
	}
	// A port nothing listens on: take one and close it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/_emulator/health"
	l.Close()
	// A server that does not speak HTTP.
	garbage, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { garbage.Close() })
	go func() {
		for {
			c, err := garbage.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("SSH-2.0-OpenSSH\r\n"))
			c.Close()
		}
	}()

	for _, tc := range []struct {
		name    string
		url     string
		want    int
		message string
	}{
		{"healthy", serve(200, `{"status":"ok","tenantId":"t","entitySets":58}`), 0, ": ok"},
		{"server error", serve(500, `{"status":"ok"}`), 1, "status 500"},
		{"not ok", serve(200, `{"status":"starting"}`), 1, `status "starting"`},
		{"not JSON", serve(200, `ok`), 1, "not JSON"},
		{"not found", strings.TrimSuffix(serve(200, `{"status":"ok"}`), "/_emulator/health") + "/elsewhere", 1, "status 404"},
		{"unreachable", closed, 1, "refused"},
		{"not HTTP", "http://" + garbage.Addr().String() + "/_emulator/health", 1, "not an HTTP answer"},
		{"https", "https://127.0.0.1:8443/_emulator/health", 1, "not an http://"},
		{"not a URL", "127.0.0.1:8080", 1, "parse"},
		{"no host", "http:///_emulator/health", 1, "not an http://"},
	} {
		var stdout, stderr bytes.Buffer
		got := run([]string{tc.url}, func(string) string { return "" }, &stdout, &stderr)
		if got != tc.want {
			t.Errorf("%s: exit %d, want %d (stdout %q, stderr %q)", tc.name, got, tc.want, stdout.String(), stderr.String())
		}
		if out := stdout.String() + stderr.String(); !strings.Contains(out, tc.message) {
			t.Errorf("%s: output %q does not contain %q", tc.name, out, tc.message)
		}
	}
	var stderr bytes.Buffer
	if got := run([]string{"a", "b"}, func(string) string { return "" }, &bytes.Buffer{}, &stderr); got != 2 || !strings.Contains(stderr.String(), "usage") {
		t.Errorf("two arguments: exit %d, stderr %q; want 2 and the usage", got, stderr.String())
	}
}
