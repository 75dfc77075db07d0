package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The banner lines the TLS tests read.
var (
	httpURLLine  = regexp.MustCompile(`(?m)^  Web API:\s+(http://127\.0\.0\.1:\d+)/api/data/v9\.2/$`)
	httpsURLLine = regexp.MustCompile(`(?m)^  HTTPS Web API:\s+(https://127\.0\.0\.1:\d+)/api/data/v9\.2/$`)
	caLine       = regexp.MustCompile(`(?m)^  TLS CA:\s+(.+?) \((.*)\)$`)
	certLine     = regexp.MustCompile(`(?m)^  TLS cert:\s+(.*)$`)
)

// running is an emulator started by startRun, with what its banner says.
type running struct {
	banner, httpURL, httpsURL, caFile string
}

// startRun runs the emulator with args until the test ends and returns its banner's URLs and CA.
func startRun(t *testing.T, args ...string) running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	stdout := &syncBuffer{readyWhen: regexp.MustCompile(`(?m)^  TLS cert:.*\n`), ready: ready}
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, append(args, "--log-level", "warn"), stdout, &stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("run %v: exit status %d; stderr %s", args, code, stderr.String())
			}
		case <-time.After(15 * time.Second):
			t.Errorf("run %v did not return after cancel", args)
		}
	})
	select {
	case <-ready:
	case code := <-done:
		done <- code
		t.Fatalf("run %v exited %d before its banner; stdout %s; stderr %s", args, code, stdout.String(), stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("run %v printed no TLS banner; stdout %s; stderr %s", args, stdout.String(), stderr.String())
	}
	r := running{banner: stdout.String()}
	m := httpURLLine.FindStringSubmatch(r.banner)
	m2 := httpsURLLine.FindStringSubmatch(r.banner)
	if m == nil || m2 == nil {
		t.Fatalf("banner lacks the http and https URLs:\n%s", r.banner)
	}
	r.httpURL, r.httpsURL = m[1], m2[1]
	if m := caLine.FindStringSubmatch(r.banner); m != nil {
		r.caFile = m[1]
	}
	return r
}

// trusting is an HTTP client trusting only the CA in caFile.
func trusting(t *testing.T, caFile string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", caFile)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 10 * time.Second}
	t.Cleanup(hc.CloseIdleConnections)
	return hc
}

// checkHealth expects 200 from the health endpoint of base through hc.
func checkHealth(t *testing.T, hc *http.Client, base string) {
	t.Helper()
	resp, err := hc.Get(base + "/_emulator/health")
	if err != nil {
		t.Fatalf("health over %s: %v", base, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"status":"ok"`) {
		t.Errorf("GET %s/_emulator/health = %d %s", base, resp.StatusCode, body)
	}
}

// servedNames are the names of the certificate the listener at base presents.
func servedNames(t *testing.T, base, caFile string) []string {
	t.Helper()
	hc := trusting(t, caFile)
	conn, err := tls.Dial("tcp", strings.TrimPrefix(base, "https://"), hc.Transport.(*http.Transport).TLSClientConfig.Clone())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	leaf := conn.ConnectionState().PeerCertificates[0]
	names := append([]string{}, leaf.DNSNames...)
	for _, ip := range leaf.IPAddresses {
		names = append(names, ip.String())
	}
	return names
}

// readOrFail reads a file.
func readOrFail(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// --tls --in-memory serves HTTP and HTTPS side by side, with a CA made in the user config
// directory; the next run reuses it and the server certificate; --tls-host re-issues the
// certificate (same CA) with that name.
func TestTLSInMemory(t *testing.T) {
	home := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "config"))
	t.Setenv("HOME", home)
	t.Setenv("AppData", filepath.Join(home, "config"))
	cfgDir, err := os.UserConfigDir()
	if err != nil || !strings.HasPrefix(cfgDir, home) {
		t.Skipf("the user config directory (%s, %v) is not under the test's HOME on this system", cfgDir, err)
	}
	wantCA := filepath.Join(cfgDir, "dynlocal", "tls", "ca.pem")
	args := []string{"--tls", "--in-memory", "--addr", "127.0.0.1:0", "--tls-addr", "127.0.0.1:0"}

	first := startRun(t, args...)
	if first.caFile != wantCA || !strings.Contains(first.banner, "(new: trust it once, as below)") {
		t.Fatalf("CA line: %q, want %s (new):\n%s", first.caFile, wantCA, first.banner)
	}
	for _, want := range []string{"SSL_CERT_FILE=" + wantCA, "NODE_EXTRA_CA_CERTS=" + wantCA,
		"/usr/local/share/ca-certificates/dynlocal.crt && sudo update-ca-certificates",
		"HTTPS token:    " + first.httpsURL + "/4d2c9a10-5e1f-4b7a-9c3d-0000000000f0/oauth2/v2.0/token",
		"HTTPS scope:    " + first.httpsURL + "/.default"} {
		if !strings.Contains(first.banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, first.banner)
		}
	}
	checkHealth(t, trusting(t, first.caFile), first.httpsURL)
	checkHealth(t, http.DefaultClient, first.httpURL)
	ca := readOrFail(t, wantCA)
	server := readOrFail(t, filepath.Join(filepath.Dir(wantCA), "server.pem"))

	second := startRun(t, args...)
	if second.caFile != wantCA || !strings.Contains(second.banner, "(kept from an earlier run)") || strings.Contains(second.banner, "issued now") {
		t.Errorf("second run's banner:\n%s", second.banner)
	}
	if !bytes.Equal(readOrFail(t, wantCA), ca) || !bytes.Equal(readOrFail(t, filepath.Join(filepath.Dir(wantCA), "server.pem")), server) {
		t.Error("the second run replaced the CA or the server certificate")
	}
	checkHealth(t, trusting(t, wantCA), second.httpsURL)

	third := startRun(t, append(args, "--tls-host", "example.test")...)
	if !bytes.Equal(readOrFail(t, wantCA), ca) {
		t.Error("--tls-host replaced the CA")
	}
	if bytes.Equal(readOrFail(t, filepath.Join(filepath.Dir(wantCA), "server.pem")), server) {
		t.Error("--tls-host example.test kept the old server certificate")
	}
	if m := certLine.FindStringSubmatch(third.banner); m == nil || !strings.Contains(m[1], "example.test") || !strings.Contains(m[1], "issued now") {
		t.Errorf("third run's certificate line: %q", m)
	}
	names := servedNames(t, third.httpsURL, wantCA)
	for _, want := range []string{"localhost", "example.test", "127.0.0.1", "::1"} {
		if !slices.Contains(names, want) {
			t.Errorf("served certificate covers %v, not %s", names, want)
		}
	}
	// A client asking for example.test (as one with a hosts entry would) accepts it.
	hc := trusting(t, wantCA)
	hc.Transport.(*http.Transport).TLSClientConfig.ServerName = "example.test"
	checkHealth(t, hc, third.httpsURL)
}

// With a data directory the CA lives in <data>/tls; --org-url's host is in the certificate; a
// certificate of your own (--tls-cert, --tls-key) is served instead, with no CA made.
func TestTLSDataDirAndOwnCertificate(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	r := startRun(t, "--tls", "--data", data, "--addr", "127.0.0.1:0", "--tls-addr", "127.0.0.1:0", "--org-url", "https://org.crm.dynamics.com/")
	dir := filepath.Join(data, "tls")
	if r.caFile != filepath.Join(dir, "ca.pem") {
		t.Errorf("CA at %q, want in %s", r.caFile, dir)
	}
	if names := servedNames(t, r.httpsURL, r.caFile); !slices.Contains(names, "org.crm.dynamics.com") {
		t.Errorf("certificate names %v lack the --org-url host", names)
	}
	if fi, err := os.Stat(filepath.Join(dir, "ca-key.pem")); err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("ca-key.pem: %v %v", fi, err)
	}

	// The development certificate, as if it were the user's own, from an empty TLS directory.
	own := t.TempDir()
	cert, key := filepath.Join(own, "cert.pem"), filepath.Join(own, "key.pem")
	os.WriteFile(cert, readOrFail(t, filepath.Join(dir, "server.pem")), 0o644)
	os.WriteFile(key, readOrFail(t, filepath.Join(dir, "server-key.pem")), 0o600)
	emptyData := filepath.Join(t.TempDir(), "data")
	mine := startRun(t, "--data", emptyData, "--addr", "127.0.0.1:0", "--tls-addr", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key)
	if mine.caFile != "" || !strings.Contains(mine.banner, "TLS cert:       "+cert+" (yours)") {
		t.Errorf("banner with --tls-cert:\n%s", mine.banner)
	}
	if _, err := os.Stat(filepath.Join(emptyData, "tls")); err == nil {
		t.Error("--tls-cert made a TLS directory")
	}
	checkHealth(t, trusting(t, r.caFile), mine.httpsURL)
}

func TestTLSFlagErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--in-memory", "--tls-cert", "c.pem"}, 2, "--tls-cert and --tls-key go together"},
		{[]string{"--in-memory", "--tls-host", "example.test"}, 2, "--tls-host needs --tls"},
		{[]string{"--in-memory", "--tls-addr", "127.0.0.1:0"}, 2, "--tls-addr needs --tls"},
		{[]string{"--in-memory", "--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls-host", "x.test"}, 2, "with --tls-cert your certificate's names apply"},
		{[]string{"--in-memory", "--tls-cert", "/does/not/exist.pem", "--tls-key", "/does/not/exist.pem", "--addr", "127.0.0.1:0"}, 1, "emulator: tls certificate: open /does/not/exist.pem"},
		{[]string{"--in-memory", "--tls", "--tls-dir", t.TempDir(), "--tls-host", "https://x.test", "--addr", "127.0.0.1:0"}, 1, "want a host name"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), tt.args, &stdout, &stderr); code != tt.code || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, stderr.String(), tt.code, tt.want)
		}
	}
}

// A busy --tls-addr says so and how to pick another.
func TestTLSPortInUse(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--in-memory", "--tls", "--tls-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--tls-addr", l.Addr().String()}, &stdout, &stderr)
	if got := stderr.String(); code != 1 || !strings.Contains(got, "--tls-addr 127.0.0.1:0") || !strings.Contains(got, "address already in use") {
		t.Errorf("exit %d, stderr %q", code, got)
	}
}
