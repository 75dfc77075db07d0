package oauth

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"
)

const (
	testTenant = "4f5c1b2a-7d3e-4a6b-9c8d-0e1f2a3b4c5d"
	testClient = "51f81489-12ee-4a9e-aaae-a2591f45987d"
	// testSecret has characters that form-urlencoding changes, to prove Basic credentials are
	// decoded as RFC 6749 says.
	testSecret = "dev~Secret+with/odd=chars&100%"
)

var (
	testApp   = User{SystemUserID: "a1000000-0000-4000-8000-000000000001", ObjectID: "0a000000-0000-4000-8000-0000000000a1", Name: "dynlocal app", Username: ""}
	testHuman = User{SystemUserID: "b2000000-0000-4000-8000-000000000002", ObjectID: "0b000000-0000-4000-8000-0000000000b2", Name: "Dana Developer", Username: "dana@dynlocal.test"}
	testStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

// fakeClock is an injectable clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is one Server behind an httptest server, private to a test.
type env struct {
	srv   *Server
	ts    *httptest.Server
	clock *fakeClock
}

func newEnv(t testing.TB) *env {
	t.Helper()
	clock := &fakeClock{t: testStart}
	s, err := New(Config{
		TenantID:     testTenant,
		ClientID:     testClient,
		ClientSecret: testSecret,
		AppUser:      testApp,
		HumanUser:    testHuman,
		Now:          clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	s.Routes(r)
	ts := httptest.NewServer(r)
	t.Cleanup(ts.Close)
	return &env{srv: s, ts: ts, clock: clock}
}

func (e *env) tokenURL() string { return e.ts.URL + "/" + testTenant + "/oauth2/v2.0/token" }
func (e *env) authURL() string  { return e.ts.URL + "/" + testTenant + "/oauth2/v2.0/authorize" }

// appForm is a good client credentials request for the env's own origin.
func (e *env) appForm() url.Values {
	return url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {testClient},
		"client_secret": {testSecret},
		"scope":         {e.ts.URL + "/.default"},
	}
}

// post sends a form to the token endpoint and decodes the JSON answer.
func (e *env) post(t testing.TB, form url.Values, edit func(*http.Request)) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.tokenURL(), strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if edit != nil {
		edit(req)
	}
	return do(t, e.ts.Client(), req)
}

func do(t testing.TB, c *http.Client, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("%s %s: status %d, body is not JSON: %v\n%s", req.Method, req.URL, resp.StatusCode, err, body)
	}
	return resp.StatusCode, m
}

// appToken gets a client credentials token for the env's origin.
func (e *env) appToken(t testing.TB) string {
	t.Helper()
	status, m := e.post(t, e.appForm(), nil)
	if status != http.StatusOK {
		t.Fatalf("client credentials: %d %v", status, m)
	}
	return m["access_token"].(string)
}

// noRedirects is a client that hands back the authorize endpoint's 302 instead of following it.
func (e *env) noRedirects() *http.Client {
	c := *e.ts.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// authorize calls the authorize endpoint with q and returns the status and the Location.
func (e *env) authorize(t testing.TB, q url.Values) (int, *url.URL) {
	t.Helper()
	resp, err := e.noRedirects().Get(e.authURL() + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return resp.StatusCode, nil
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, loc
}

// code runs the authorize endpoint and returns the code it redirects with.
func (e *env) code(t testing.TB, q url.Values) string {
	t.Helper()
	status, loc := e.authorize(t, q)
	if status != http.StatusFound {
		t.Fatalf("authorize: status %d", status)
	}
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("authorize: no code in %s", loc)
	}
	return code
}

// payload decodes a JWT's claims without checking anything.
func payload(t testing.TB, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	raw, err := b64.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// errorCode returns the AADSTS number of an error body.
func errorCode(m map[string]any) int {
	codes, _ := m["error_codes"].([]any)
	if len(codes) != 1 {
		return 0
	}
	f, _ := codes[0].(float64)
	return int(f)
}
