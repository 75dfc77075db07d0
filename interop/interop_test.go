package interop

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynlocal/dynlocal/client/webhook"
)

// Time limits of the steps. Each is far above what a warm machine needs, so that a hang fails the
// test instead of eating CI's whole budget.
const (
	buildTimeout = 3 * time.Minute
	startTimeout = 30 * time.Second
	npmTimeout   = 3 * time.Minute
	nodeTimeout  = 2 * time.Minute
	stopTimeout  = 10 * time.Second
)

// TestDynamicsWebAPI starts the emulator as a separate process and runs the Node test project in
// this directory against it through dynamics-web-api.
func TestDynamicsWebAPI(t *testing.T) {
	node := requireTool(t, "node")
	npm := requireTool(t, "npm")
	dir, err := os.Getwd() // go test runs in the package directory: interop/
	if err != nil {
		t.Fatal(err)
	}
	root := moduleRoot(t, dir)

	bin := buildEmulator(t, root)
	// The emulator also serves HTTPS, with a development CA made in a directory of the test's, for
	// the https run below.
	emu := startEmulator(t, bin, "--tls", "--tls-addr", "127.0.0.1:0", "--tls-dir", t.TempDir())
	t.Logf("emulator at %s and %s (tenant %s)", emu.url, emu.tlsURL, emu.tenant)

	if stale, why := needsInstall(dir); stale {
		t.Logf("running npm ci: %s", why)
		start := time.Now()
		runLogged(t, npmTimeout, dir, os.Environ(), npm, "ci", "--no-audit", "--no-fund", "--prefer-offline")
		t.Logf("npm ci took %s", time.Since(start).Round(time.Millisecond))
	}

	env := withoutEnv(os.Environ(), func(name string) bool {
		return strings.HasPrefix(name, "DYNLOCAL_") || name == "NODE_EXTRA_CA_CERTS" || proxyVariables[strings.ToLower(name)]
	})
	env = append(env,
		"DYNLOCAL_TENANT="+emu.tenant,
		"DYNLOCAL_CLIENT_ID="+emu.clientID,
		"DYNLOCAL_CLIENT_SECRET="+emu.clientSecret,
		// A custom API's main operation implemented in Go, for test/custom-api.test.mjs.
		"DYNLOCAL_GO_OPERATION_URL="+startShoutOperation(t),
	)
	// Every test file over http (test/https.test.mjs skips itself)...
	t.Run("http", func(t *testing.T) {
		start := time.Now()
		runLogged(t, nodeTimeout, dir, append(env, "DYNLOCAL_URL="+emu.url), node, "--test", "--test-reporter=spec")
		t.Logf("node --test took %s", time.Since(start).Round(time.Millisecond))
	})
	// ...then the HTTPS file against the HTTPS listener, trusting the CA the banner names.
	t.Run("https", func(t *testing.T) {
		start := time.Now()
		runLogged(t, nodeTimeout, dir, append(env, "DYNLOCAL_URL="+emu.tlsURL, "NODE_EXTRA_CA_CERTS="+emu.caFile),
			node, "--test", "--test-reporter=spec", "test/https.test.mjs")
		t.Logf("node --test test/https.test.mjs took %s", time.Since(start).Round(time.Millisecond))
	})
	t.Run("limits", func(t *testing.T) {
		// A second emulator with scaled-down service protection limits: 3 requests in 0.15 s.
		limited := startEmulator(t, bin, "--limits", "scale=0.0005")
		start := time.Now()
		runLogged(t, nodeTimeout, dir, append(env, "DYNLOCAL_URL="+limited.url, "DYNLOCAL_LIMITS=scale=0.0005"),
			node, "--test", "--test-reporter=spec", "test/limits.test.mjs")
		t.Logf("node --test test/limits.test.mjs took %s", time.Since(start).Round(time.Millisecond))
	})
}

// proxyVariables are the proxy settings (compared in lower case) that must not reach the Node
// tests: dynamics-web-api sends every request through http_proxy/https_proxy, loopback included,
// and ignores NO_PROXY.
var proxyVariables = map[string]bool{"http_proxy": true, "https_proxy": true, "all_proxy": true}

// requireTool finds name on PATH. A missing tool skips the test on a developer machine and fails
// it under CI=true, where a skip would hide that the interop check never ran.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not on PATH; CI=true requires the dynamics-web-api interop tests to run (install Node.js 20+ with npm)", name)
	}
	t.Skipf("%s is not on PATH: skipping the dynamics-web-api interop tests (install Node.js 20+ with npm to run them; under CI=true this is a failure)", name)
	return ""
}

// moduleRoot walks up from dir to the directory holding go.mod.
func moduleRoot(t *testing.T, dir string) string {
	t.Helper()
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			t.Fatalf("no go.mod above %s", dir)
		}
		d = parent
	}
}

// buildEmulator compiles cmd/emulator into a temporary directory, so the test runs the same binary
// a user would.
func buildEmulator(t *testing.T, root string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go is not on PATH: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "emulator")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, goTool, "build", "-o", bin, "./cmd/emulator")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/emulator: %v\n%s", err, out)
	}
	t.Logf("built the emulator in %s", time.Since(start).Round(time.Millisecond))
	return bin
}

// emulator is a running emulator process and what a client needs to reach it.
type emulator struct {
	url, tenant, clientID, clientSecret string
	tlsURL, caFile                      string // with --tls: the HTTPS origin and the CA to trust
}

// The start-up banner lines the test reads (see cmd/emulator/run.go).
var (
	webAPILine   = regexp.MustCompile(`^\s*Web API:\s*(http://\S+?)/api/data/v9\.2/\s*$`)
	tenantLine   = regexp.MustCompile(`^\s*Tenant ID:\s*(\S+)\s*$`)
	clientIDLine = regexp.MustCompile(`^\s*Client ID:\s*(\S+)\s*$`)
	secretLine   = regexp.MustCompile(`^\s*Client secret:\s*(\S+)\s*$`)
	tlsURLLine   = regexp.MustCompile(`^\s*HTTPS Web API:\s*(https://\S+?)/api/data/v9\.2/\s*$`)
	caLine       = regexp.MustCompile(`^\s*TLS CA:\s*(.+?) \(.*\)\s*$`)
)

// startEmulator runs bin in memory on a free loopback port, with extra arguments, waits for its
// banner and stops it when the test ends. Its output is kept and shown only if the test fails.
// With --tls among args, it also waits for the HTTPS URL and the CA.
func startEmulator(t *testing.T, bin string, args ...string) emulator {
	t.Helper()
	var (
		mu     sync.Mutex
		emu    emulator
		ready  = make(chan struct{})
		signal sync.Once
		stdout lockedBuffer
		stderr lockedBuffer
	)
	wantTLS := slices.Contains(args, "--tls")
	stdout.onLine = func(line string) {
		mu.Lock()
		defer mu.Unlock()
		for _, f := range []struct {
			re  *regexp.Regexp
			dst *string
		}{{webAPILine, &emu.url}, {tenantLine, &emu.tenant}, {clientIDLine, &emu.clientID}, {secretLine, &emu.clientSecret},
			{tlsURLLine, &emu.tlsURL}, {caLine, &emu.caFile}} {
			if m := f.re.FindStringSubmatch(line); m != nil {
				*f.dst = m[1]
			}
		}
		tlsReady := !wantTLS || emu.tlsURL != "" && emu.caFile != ""
		if emu.url != "" && emu.tenant != "" && emu.clientID != "" && emu.clientSecret != "" && tlsReady {
			signal.Do(func() { close(ready) })
		}
	}

	cmd := exec.Command(bin, append([]string{"--in-memory", "--addr", "127.0.0.1:0"}, args...)...)
	// The emulator reads DYNLOCAL_* settings; a developer's own (a live tenant's secret, a
	// fixtures directory) must not change what this test runs against.
	cmd.Env = withoutEnv(os.Environ(), func(name string) bool { return strings.HasPrefix(name, "DYNLOCAL_") })
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	cmd.WaitDelay = stopTimeout
	if err := cmd.Start(); err != nil {
		t.Fatalf("start emulator: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	t.Cleanup(func() {
		stopped := false
		if runtime.GOOS != "windows" {
			_ = cmd.Process.Signal(os.Interrupt)
			select {
			case <-exited:
				stopped = true
			case <-time.After(stopTimeout):
			}
		}
		if !stopped {
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("emulator stdout:\n%s", stdout.String())
			t.Logf("emulator stderr (request log):\n%s", stderr.String())
		}
	})

	select {
	case <-ready:
	case err := <-exited:
		exited <- err // let the cleanup see it too
		t.Fatalf("emulator exited before it was ready: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	case <-time.After(startTimeout):
		t.Fatalf("emulator printed no Web API URL within %s\nstdout:\n%s\nstderr:\n%s", startTimeout, stdout.String(), stderr.String())
	}
	mu.Lock()
	defer mu.Unlock()
	return emu
}

// needsInstall reports whether node_modules has to be (re)installed: it is missing, or
// package.json or package-lock.json changed after npm last wrote node_modules/.package-lock.json.
func needsInstall(dir string) (bool, string) {
	installed, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json"))
	if err != nil {
		return true, "node_modules is missing"
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "dynamics-web-api", "package.json")); err != nil {
		return true, "dynamics-web-api is not installed"
	}
	for _, name := range []string{"package.json", "package-lock.json"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			return true, err.Error()
		}
		if fi.ModTime().After(installed.ModTime()) {
			return true, name + " is newer than node_modules"
		}
	}
	return false, ""
}

// runLogged runs a command in dir, copies its output into the test log line by line as it comes,
// and fails the test on a non-zero exit or when timeout passes.
func runLogged(t *testing.T, timeout time.Duration, dir string, env []string, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = env
	out := &testLogWriter{t: t}
	cmd.Stdout = out
	cmd.Stderr = out
	// node --test runs each file in a child process; if one outlives a killed parent and keeps the
	// output pipe open, give up on the pipe instead of waiting forever.
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	out.close()
	label := filepath.Base(name) + " " + strings.Join(args, " ")
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%s: no result within %s (%v)", label, timeout, err)
	case errors.Is(err, exec.ErrWaitDelay):
		// It exited with status 0, but a child kept the output pipe open.
		t.Logf("%s: %v", label, err)
	case err != nil:
		t.Fatalf("%s: %v", label, err)
	}
}

// withoutEnv returns env without the variables whose names drop reports.
func withoutEnv(env []string, drop func(name string) bool) []string {
	var kept []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if !drop(name) {
			kept = append(kept, kv)
		}
	}
	return kept
}

// testLogWriter sends each complete line written to it to t.Log. Writes after close are dropped:
// t.Log must not be called once the test has returned.
type testLogWriter struct {
	t       *testing.T
	mu      sync.Mutex
	partial []byte
	closed  bool
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return len(p), nil
	}
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.t.Log(strings.TrimRight(string(w.partial[:i]), "\r"))
		w.partial = w.partial[i+1:]
	}
	return len(p), nil
}

// close logs a last unterminated line and stops logging.
func (w *testLogWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.partial) > 0 && !w.closed {
		w.t.Log(string(w.partial))
	}
	w.partial = nil
	w.closed = true
}

// lockedBuffer collects a process's output for later display and, if onLine is set, hands it each
// complete line as it arrives.
type lockedBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	line   []byte
	onLine func(string)
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if b.onLine != nil {
		b.line = append(b.line, p...)
		for {
			i := bytes.IndexByte(b.line, '\n')
			if i < 0 {
				break
			}
			b.onLine(strings.TrimRight(string(b.line[:i]), "\r"))
			b.line = b.line[i+1:]
		}
	}
	return len(p), nil
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startShoutOperation serves, on loopback, a custom API main operation written with the Go
// client's webhook receiver: it answers Shouted, the upper-case of the Text parameter (and refuses
// an empty one with a message for the caller). It returns the endpoint's URL, whose step sends
// the header x-shout-key.
func startShoutOperation(t *testing.T) string {
	t.Helper()
	recv := webhook.NewOperationReceiver(webhook.Auth{Headers: map[string]string{"x-shout-key": "interop"}},
		func(ctx context.Context, ev *webhook.Event) (map[string]any, error) {
			text, _ := ev.InputParameters["Text"].(string)
			if text == "" {
				return nil, &webhook.OperationError{Message: "Nothing to shout."}
			}
			return map[string]any{"Shouted": strings.ToUpper(text)}, nil
		})
	hs := httptest.NewServer(recv)
	t.Cleanup(hs.Close)
	return hs.URL + "/shout"
}
