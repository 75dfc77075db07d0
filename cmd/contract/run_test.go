package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dynlocal/dynlocal/contracts"
	"github.com/dynlocal/dynlocal/emulator"
)

const suitesDir = "../../contracts/suites"

// invoke runs the command with the given environment (nothing from the real one) and returns the
// exit status and both outputs.
func invoke(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	getenv := func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
	code := runEnv(context.Background(), args, &stdout, &stderr, getenv)
	return code, stdout.String(), stderr.String()
}

// startEmulator listens on a free loopback port and returns the emulator's URL.
func startEmulator(t *testing.T) string {
	t.Helper()
	srv, err := emulator.New(context.Background(), emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv.URL()
}

// closedURL is the URL of a loopback port nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + l.Addr().String()
	l.Close()
	return u
}

type junitDoc struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Suites   []struct {
		Name  string `xml:"name,attr"`
		Cases []struct {
			Name    string    `xml:"name,attr"`
			Failure *struct{} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func readJUnit(t *testing.T, path string) junitDoc {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc junitDoc
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("JUnit file: %v\n%s", err, b)
	}
	return doc
}

func TestRunBuiltinSuites(t *testing.T) {
	t.Parallel()
	suites, err := contracts.LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, s := range suites {
		total += len(s.Cases)
	}
	junit := filepath.Join(t.TempDir(), "results.xml")
	code, stdout, stderr := invoke(t, nil, "run", "--junit", junit, "--parallel", "8")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if want := strconv.Itoa(total) + " passed, 0 failed"; lines[len(lines)-1] != want {
		t.Errorf("closing line %q, want %q", lines[len(lines)-1], want)
	}
	if len(lines) != total+1 {
		t.Errorf("%d lines for %d cases", len(lines), total)
	}
	for _, l := range lines[:len(lines)-1] {
		if !strings.HasPrefix(l, "PASS ") || !strings.HasSuffix(l, ")") {
			t.Errorf("case line %q", l)
		}
	}
	doc := readJUnit(t, junit)
	if doc.Tests != total || doc.Failures != 0 || len(doc.Suites) != len(suites) {
		t.Errorf("JUnit: %d tests, %d failures, %d suites", doc.Tests, doc.Failures, len(doc.Suites))
	}
}

func TestRunFailingSuite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	suite := filepath.Join(dir, "broken.json")
	os.WriteFile(suite, []byte(`{"name":"broken","cases":[
		{"name":"right","steps":[{"action":"WhoAmI","expect":{"status":200}}]},
		{"name":"wrong status","steps":[{"action":"WhoAmI","expect":{"status":500}}]}]}`), 0o644)
	junit := filepath.Join(dir, "out.xml")
	code, stdout, stderr := invoke(t, nil, "run", "--junit", junit, suite)
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"PASS broken/right (",
		"FAIL broken/wrong status (",
		"\n    step 1 (WhoAmI): status: want 500, got 200\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.HasSuffix(stdout, "\n1 passed, 1 failed\n") {
		t.Errorf("closing line:\n%s", stdout)
	}
	doc := readJUnit(t, junit)
	if doc.Tests != 2 || doc.Failures != 1 || doc.Suites[0].Cases[1].Failure == nil {
		t.Errorf("JUnit = %+v", doc)
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"no command", nil, nil, "usage"},
		{"unknown command", []string{"frob"}, nil, "unknown command"},
		{"unknown flag", []string{"run", "--bogus"}, nil, "unknown flag"},
		{"no parallelism", []string{"run", "--parallel", "0"}, nil, "--parallel"},
		{"out and write", []string{"record", "--out", "x", "--write"}, nil, "not both"},
		{"junit on record", []string{"record", "--junit", "x"}, nil, "unknown flag"},
		{"missing suite", []string{"run", "no-such-suite.json"}, nil, "no-such-suite.json"},
		{"bad target", []string{"run", "--target", "ftp://example.com"}, nil, "not an http or https URL"},
		{"remote target without credentials", []string{"run", "--target", "https://org.crm.dynamics.com"}, nil, "no credentials"},
		{"target from the environment without credentials", []string{"run"}, map[string]string{"DYNLOCAL_TARGET": "https://org.crm.dynamics.com"}, "no credentials"},
		{"list takes one directory", []string{"list", "a", "b"}, nil, "at most one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := invoke(t, tt.env, tt.args...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.want)
			}
		})
	}
	if code, stdout, _ := invoke(t, nil, "help"); code != 0 || !strings.Contains(stdout, "contract run") {
		t.Errorf("help: exit %d, %q", code, stdout)
	}
}

// TestUnusableTarget checks that a target that is down or refuses the credentials ends the run at
// once with a clear message and exit status 1, whether it comes from flags or the environment.
func TestUnusableTarget(t *testing.T) {
	t.Parallel()
	down := closedURL(t)
	up := startEmulator(t)
	tokenURL := up + "/" + emulator.DefaultTenantID + "/oauth2/v2.0/token"
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"down, flags", []string{"run", "--target", down, "--token", "x"}, nil, "cannot reach target " + down},
		{"down, environment", []string{"run"}, map[string]string{"DYNLOCAL_TARGET": down, "DYNLOCAL_TOKEN": "x"}, "cannot reach target " + down},
		{"down, record", []string{"record", "--target", down, "--token", "x"}, nil, "cannot reach target " + down},
		{"wrong secret", []string{"run", "--target", up, "--token-url", tokenURL, "--client-id", emulator.DefaultClientID, "--client-secret", "wrong"}, nil, "refused the credentials"},
		{"wrong secret, environment", []string{"run"}, map[string]string{
			"DYNLOCAL_TARGET": up, "DYNLOCAL_TOKEN_URL": tokenURL, "DYNLOCAL_CLIENT_ID": emulator.DefaultClientID, "DYNLOCAL_CLIENT_SECRET": "wrong",
		}, "refused the credentials"},
		{"bad token", []string{"run", "--target", up, "--token", "not-a-token"}, nil, "refused the credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := invoke(t, tt.env, tt.args...)
			if code != 1 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q, stdout %q; want 1 and %q", code, stderr, stdout, tt.want)
			}
		})
	}
}

// TestSeparateEmulator runs against an emulator started on its own, with the development
// credentials taken for granted on a loopback target and given explicitly.
func TestSeparateEmulator(t *testing.T) {
	t.Parallel()
	u := startEmulator(t)
	suite := filepath.Join(suitesDir, "whoami.json")
	for _, args := range [][]string{
		{"run", "--target", u, suite},
		{"run", "--target", u, "--token-url", u + "/" + emulator.DefaultTenantID + "/oauth2/v2.0/token",
			"--client-id", emulator.DefaultClientID, "--client-secret", emulator.DefaultClientSecret, "--scope", u + "/.default", suite},
	} {
		code, stdout, stderr := invoke(t, nil, args...)
		if code != 0 || !strings.HasSuffix(stdout, " passed, 0 failed\n") {
			t.Errorf("%v: exit %d\n%s%s", args, code, stdout, stderr)
		}
	}
}

// TestIgnoredClientSecret checks that a client secret given without the rest of the credentials,
// by flag or environment, is named on stderr as ignored (the run goes on with the credentials that
// are there), without showing it, and that a secret that is used draws no warning.
func TestIgnoredClientSecret(t *testing.T) {
	t.Parallel()
	u := startEmulator(t)
	tokenURL := u + "/" + emulator.DefaultTenantID + "/oauth2/v2.0/token"
	suite := filepath.Join(suitesDir, "whoami.json")
	const warning = "contract: warning: ignoring --client-secret (DYNLOCAL_CLIENT_SECRET) "
	tests := []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string // in stderr; empty means no warning at all
	}{
		{"secret without target", []string{"run", "--client-secret", "s3cret", suite}, nil, 0,
			warning + "without --target: the in-process emulator uses its development credentials"},
		{"secret from the environment without target", []string{"run", suite}, map[string]string{"DYNLOCAL_CLIENT_SECRET": "s3cret"}, 0,
			warning + "without --target"},
		{"secret with a loopback target only", []string{"run", "--target", u, "--client-secret", "s3cret", suite}, nil, 0,
			warning + "without --token-url and --client-id: the emulator at " + u + " gets its development credentials"},
		// The token is not one the emulator issued, so the run stops at the first request (exit 1),
		// after the warning.
		{"secret beside a static token", []string{"run", "--target", u, "--token", "not-a-token", "--client-secret", "s3cret", suite}, nil, 1,
			warning + "with --token"},
		{"no secret", []string{"run", "--target", u, suite}, nil, 0, ""},
		{"every credential", []string{"run", "--target", u, "--token-url", tokenURL, "--client-id", emulator.DefaultClientID,
			"--client-secret", emulator.DefaultClientSecret, suite}, nil, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := invoke(t, tt.env, tt.args...)
			if code != tt.code || tt.code == 0 && !strings.HasSuffix(stdout, " passed, 0 failed\n") {
				t.Errorf("exit %d, want %d\n%s%s", code, tt.code, stdout, stderr)
			}
			if tt.want == "" && strings.Contains(stderr, "warning") {
				t.Errorf("stderr %q, want no warning", stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q lacks %q", stderr, tt.want)
			}
			if strings.Contains(stderr, "s3cret") {
				t.Errorf("stderr shows the secret: %q", stderr)
			}
		})
	}
}

func TestRecordCommand(t *testing.T) {
	t.Parallel()
	committed := filepath.Join(suitesDir, "records.json")
	want, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}

	out := t.TempDir()
	if code, _, stderr := invoke(t, nil, "record", "--out", out, committed); code != 0 {
		t.Fatalf("record --out: exit %d: %s", code, stderr)
	}
	if got, _ := os.ReadFile(filepath.Join(out, "records.json")); !bytes.Equal(got, want) {
		t.Errorf("record --out wrote a file that differs from %s", committed)
	}

	copyPath := filepath.Join(t.TempDir(), "mine.json")
	os.WriteFile(copyPath, want, 0o644)
	if code, _, stderr := invoke(t, nil, "record", "--write", copyPath); code != 0 || !strings.Contains(stderr, "-> "+copyPath) {
		t.Fatalf("record --write: exit %d: %s", code, stderr)
	}
	if got, _ := os.ReadFile(copyPath); !bytes.Equal(got, want) {
		t.Errorf("record --write changed the suite")
	}

	code, stdout, stderr := invoke(t, nil, "record", committed)
	if code != 0 || stdout != string(want) {
		t.Errorf("record to stdout: exit %d, %d bytes (want %d): %s", code, len(stdout), len(want), stderr)
	}

	if code, _, stderr := invoke(t, nil, "record", "--write"); code != 1 || !strings.Contains(stderr, "built-in") {
		t.Errorf("record --write of the built-in suites: exit %d: %s", code, stderr)
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	suites, err := contracts.LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"list"}, {"list", suitesDir}} {
		code, stdout, stderr := invoke(t, nil, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		for _, s := range suites {
			head := s.Name + " (" + strconv.Itoa(len(s.Cases)) + " cases"
			if !strings.Contains(stdout, head) || !strings.Contains(stdout, "\n  - "+s.Cases[0].Name+"\n") {
				t.Errorf("%v: output lacks %q or its first case:\n%s", args, head, stdout)
			}
		}
	}
}
