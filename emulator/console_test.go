package emulator_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/dynlocal/dynlocal/emulator"
)

// session is what GET /_emulator/session answers.
type session struct {
	Environment        string
	OrganizationURL    string
	WebAPIURL          string `json:"webApiUrl"`
	TenantID           string
	ClientID           string
	TokenURL           string
	Scope              string
	AdminTokenRequired bool
	AccessToken        string
	ExpiresIn          int
	User               struct{ Systemuserid, Name, Username string }
}

func readSession(t *testing.T, b []byte) session {
	t.Helper()
	var s session
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("session: %v: %s", err, b)
	}
	return s
}

// TestConsoleFiles checks how the console's files are served: the page, its script and style
// sheet with their types and a policy that keeps the page to its own origin; a redirect from the
// bare path; 404 for other names and 405 for other methods.
func TestConsoleFiles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(e.url + "/_emulator/ui")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/_emulator/ui/" {
		t.Errorf("GET /_emulator/ui = %d to %q, want 301 to /_emulator/ui/", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, tc := range []struct{ path, ctype, contains string }{
		{"/_emulator/ui/", "text/html; charset=utf-8", "<!doctype html>"},
		{"/_emulator/ui/index.html", "text/html; charset=utf-8", "<!doctype html>"},
		{"/_emulator/ui/app.js", "text/javascript; charset=utf-8", ""},
		{"/_emulator/ui/app.css", "text/css; charset=utf-8", ""},
	} {
		r := e.do("GET", tc.path, nil).expect(t, 200)
		if got := r.Header.Get("Content-Type"); got != tc.ctype {
			t.Errorf("%s: Content-Type %q, want %q", tc.path, got, tc.ctype)
		}
		if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: Content-Security-Policy %q", tc.path, csp)
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", tc.path)
		}
		if !strings.Contains(strings.ToLower(string(r.Body)), tc.contains) {
			t.Errorf("%s: body does not contain %q", tc.path, tc.contains)
		}
	}
	e.do("GET", "/_emulator/ui/missing.js", nil).expect(t, 404)
	// A path climbing out of the console names no file of its own.
	e.do("GET", "/_emulator/ui/../health", nil).expect(t, 404)
	e.do("POST", "/_emulator/ui/", "").expect(t, 405)
}

// TestConsoleSession checks the session the console starts from: the organization's URLs and
// identity facts, and an access token that calls the Web API as the development user.
func TestConsoleSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do("GET", "/_emulator/session", nil).expect(t, 200)
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("session Cache-Control %q, want no-store", r.Header.Get("Cache-Control"))
	}
	s := readSession(t, r.Body)
	if s.WebAPIURL != e.api || s.OrganizationURL != e.url || s.TenantID != emulator.DefaultTenantID || s.ClientID != emulator.DefaultClientID ||
		s.TokenURL != e.url+"/"+emulator.DefaultTenantID+"/oauth2/v2.0/token" || s.Scope != e.url+"/.default" || s.AdminTokenRequired || s.ExpiresIn <= 0 {
		t.Errorf("session = %+v", s)
	}
	who := (&env{t: t, url: e.url, api: s.WebAPIURL, token: s.AccessToken}).do("GET", "WhoAmI", nil).expect(t, 200).JSON(t)
	if who["UserId"] != emulator.DefaultHumanUserID || s.User.Systemuserid != emulator.DefaultHumanUserID {
		t.Errorf("WhoAmI with the session's token = %v (session user %+v), want the development user %s", who, s.User, emulator.DefaultHumanUserID)
	}
	// The session is an admin endpoint: no page of another origin gets a token from it.
	if st, _ := send(t, http.MethodGet, e.url+"/_emulator/session", "", "Origin", "http://evil.example"); st != http.StatusForbidden {
		t.Errorf("session from another origin = %d, want 403", st)
	}

	// An environment's console works on the environment.
	ev := createEnvironment(t, e, "console-env")
	s = readSession(t, ev.do("GET", "/_emulator/session", nil).expect(t, 200).Body)
	if s.Environment != "console-env" || s.WebAPIURL != ev.api {
		t.Errorf("environment session = %+v, want its Web API %s", s, ev.api)
	}
	(&env{t: t, url: ev.url, api: s.WebAPIURL, token: s.AccessToken}).do("GET", "WhoAmI", nil).expect(t, 200)
	ev.do("GET", "/_emulator/ui/", nil).expect(t, 200)
}

// TestConsoleWithAdminToken checks that with an admin token the console's files load without it
// (the page asks for the token) while the session, which hands out an API token, needs it.
func TestConsoleWithAdminToken(t *testing.T) {
	t.Parallel()
	const secret = "console-admin-secret"
	e := newEnvWith(t, emulator.Config{AdminToken: secret})
	if st, _ := send(t, http.MethodGet, e.url+"/_emulator/ui/", ""); st != http.StatusOK {
		t.Errorf("console page without the admin token = %d, want 200", st)
	}
	if st, _ := send(t, http.MethodGet, e.url+"/_emulator/ui/app.js", ""); st != http.StatusOK {
		t.Errorf("console script without the admin token = %d, want 200", st)
	}
	if st, _ := send(t, http.MethodGet, e.url+"/_emulator/session", ""); st != http.StatusUnauthorized {
		t.Errorf("session without the admin token = %d, want 401", st)
	}
	st, b := send(t, http.MethodGet, e.url+"/_emulator/session", "", "Authorization", "Bearer "+secret)
	if st != http.StatusOK || !readSession(t, b).AdminTokenRequired {
		t.Errorf("session with the admin token = %d %s", st, b)
	}
	// Only reading files is open: nothing else under the console's path is.
	if st, _ := send(t, http.MethodPost, e.url+"/_emulator/ui/", ""); st != http.StatusUnauthorized {
		t.Errorf("POST to the console without the admin token = %d, want 401", st)
	}
}
