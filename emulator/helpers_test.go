package emulator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynlocal/dynlocal/emulator"
)

// testClock is a settable clock for deterministic timestamps and token expiry.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// testClient sends the tests' requests. It has a transport of its own: httptest.Server.Close
// closes the idle connections of http.DefaultTransport, which breaks a request another test is
// sending on one of them at that moment ("http: CloseIdleConnections called").
var testClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}

// env is an in-process emulator behind an httptest server, with a token for the app user.
type env struct {
	t     *testing.T
	srv   *emulator.Server
	http  *httptest.Server
	url   string
	api   string
	token string
	clock *testClock
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, emulator.Config{})
}

// newEnvWith is newEnv with a configuration of the test's own (its Clock is replaced).
func newEnvWith(t *testing.T, cfg emulator.Config) *env {
	t.Helper()
	clock := &testClock{now: time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)}
	cfg.Clock = clock.Now
	srv, err := emulator.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		srv.Close()
	})
	e := &env{t: t, srv: srv, http: hs, url: hs.URL, api: hs.URL + "/api/data/v9.2/", clock: clock}
	e.token = e.clientCredentialsToken(hs.URL + "/.default")
	return e
}

// clientCredentialsToken gets a token the way a daemon would.
func (e *env) clientCredentialsToken(scope string) string {
	e.t.Helper()
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {emulator.DefaultClientID},
		"client_secret": {emulator.DefaultClientSecret},
		"scope":         {scope},
	}
	resp, err := testClient.PostForm(e.url+"/"+emulator.DefaultTenantID+"/oauth2/v2.0/token", form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
		e.t.Fatalf("token: status %d, err %v", resp.StatusCode, err)
	}
	if body.TokenType != "Bearer" || body.AccessToken == "" {
		e.t.Fatalf("token response: %+v", body)
	}
	return body.AccessToken
}

// result is a response with its body read.
type result struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a map, keeping numbers exact.
func (r result) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.Body)
	}
	return m
}

// ErrorCode returns error.code and error.message of a Dataverse error body.
func (r result) Error(t *testing.T) (string, string) {
	t.Helper()
	var m struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not an error envelope: %v\n%s", err, r.Body)
	}
	return m.Error.Code, m.Error.Message
}

// do sends a request to path (relative to the API root unless it starts with '/' or http) with
// the env's token, a JSON body when body is not nil, and extra headers as name, value pairs.
func (e *env) do(method, path string, body any, headers ...string) result {
	e.t.Helper()
	u := path
	switch {
	case strings.HasPrefix(path, "http"):
	case strings.HasPrefix(path, "/"):
		u = e.url + path
	default:
		u = e.api + path
	}
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			rd = strings.NewReader(b)
		case []byte:
			rd = bytes.NewReader(b)
		default:
			j, err := json.Marshal(b)
			if err != nil {
				e.t.Fatal(err)
			}
			rd = bytes.NewReader(j)
		}
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("OData-MaxVersion", "4.0")
	req.Header.Set("OData-Version", "4.0")
	if body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	if e.token != "" {
		req.Header.Set("Authorization", "Bearer "+e.token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := testClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return result{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// expect fails the test when the status differs, printing the body.
func (r result) expect(t *testing.T, status int) result {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d; body: %s", r.Status, status, r.Body)
	}
	return r
}

// expectError checks status, code and message of an error answer.
func (r result) expectError(t *testing.T, status int, code, message string) {
	t.Helper()
	r.expect(t, status)
	gotCode, gotMsg := r.Error(t)
	if gotCode != code || (message != "" && gotMsg != message) {
		t.Fatalf("error = %q %q, want %q %q", gotCode, gotMsg, code, message)
	}
}

// idFromEntityID takes the GUID out of an OData-EntityId header.
func idFromEntityID(t *testing.T, h http.Header) string {
	t.Helper()
	v := h.Get("OData-EntityId")
	i := strings.LastIndexByte(v, '(')
	if i < 0 || !strings.HasSuffix(v, ")") {
		t.Fatalf("OData-EntityId = %q", v)
	}
	return v[i+1 : len(v)-1]
}
