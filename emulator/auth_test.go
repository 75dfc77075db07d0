package emulator_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/dynlocal/dynlocal/emulator"
)

// lockedBuffer is a log destination safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A token the emulator refuses is answered 401 with the challenge, and the log says why, in one
// line, without the token.
func TestRefusedTokenIsLogged(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	e := newEnvWith(t, emulator.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	other := e.clientCredentialsToken("https://org.crm.dynamics.com/.default")
	req, _ := http.NewRequest("GET", e.api+"WhoAmI", nil)
	req.Header.Set("Authorization", "Bearer "+other)
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("status %d, WWW-Authenticate %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	resp, err = testClient.Get(e.api + "WhoAmI")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got := logs.String()
	for _, want := range []string{`msg="request refused: token not accepted"`, "wrong audience", "https://org.crm.dynamics.com", `msg="request refused: no bearer token"`} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, other) || strings.Contains(got, strings.Split(other, ".")[2]) {
		t.Errorf("the log shows the token:\n%s", got)
	}
}

// A token asked for one loopback name of the emulator works under the others.
func TestLoopbackNamesShareTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	port := e.url[strings.LastIndex(e.url, ":")+1:]
	tok := e.clientCredentialsToken("http://localhost:" + port + "/.default")
	req, _ := http.NewRequest("GET", e.api+"WhoAmI", nil) // e.api is http://127.0.0.1:port
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("a localhost token on 127.0.0.1: status %d", resp.StatusCode)
	}
	// Another port is another emulator.
	tok = e.clientCredentialsToken("http://localhost:1/.default")
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err = testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("a token for another port: status %d", resp.StatusCode)
	}
}

// --loose ignores the query options Dataverse refuses, and logs each one.
func TestLooseLogsIgnoredOptions(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	e := newEnvWith(t, emulator.Config{Loose: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	e.do("GET", "accounts?$select=name&$skip=2", nil).expect(t, 200)
	e.do("GET", "accounts/$count?$format=json", nil).expect(t, 200)
	got := logs.String()
	for _, want := range []string{"option=$skip", "option=$format", `msg="loose: query option ignored; Dataverse would refuse it"`} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %q:\n%s", want, got)
		}
	}
}
