package emulator_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dynlocal/dynlocal/emulator"
)

// preflight sends a browser's CORS preflight for method to path, without a token.
func (e *env) preflight(path, origin, method, requestHeaders string, extra ...string) result {
	e.t.Helper()
	h := append([]string{"Authorization", "", "Origin", origin, "Access-Control-Request-Method", method,
		"Access-Control-Request-Headers", requestHeaders}, extra...)
	return e.do(http.MethodOptions, path, nil, h...)
}

// headerList splits the comma-separated values of header name, over all its lines.
func headerList(h http.Header, name string) []string {
	var out []string
	for _, line := range h.Values(name) {
		for _, v := range strings.Split(line, ",") {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

// listHas reports whether header name lists want, compared case-insensitively.
func listHas(h http.Header, name, want string) bool {
	for _, v := range headerList(h, name) {
		if strings.EqualFold(v, want) {
			return true
		}
	}
	return false
}

// expectAllowed checks the CORS headers of an answer to origin on an allowed origin.
func expectAllowed(t *testing.T, r result, origin string) {
	t.Helper()
	if got := r.Header.Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != origin {
		t.Fatalf("Access-Control-Allow-Origin = %q, want [%q] (status %d, body %s)", got, origin, r.Status, r.Body)
	}
	if got := r.Header.Get("Access-Control-Allow-Credentials"); got != "true" {
		t.Errorf("Access-Control-Allow-Credentials = %q, want true", got)
	}
	if !listHas(r.Header, "Vary", "Origin") {
		t.Errorf("Vary = %q, want it to name Origin", r.Header.Values("Vary"))
	}
}

// expectNoCORS checks that an answer carries no Access-Control-* header at all.
func expectNoCORS(t *testing.T, r result) {
	t.Helper()
	for k := range r.Header {
		if strings.HasPrefix(strings.ToLower(k), "access-control-") {
			t.Errorf("unexpected %s: %q (status %d)", k, r.Header.Values(k), r.Status)
		}
	}
}

func TestCORSPreflightLoopbackWithoutToken(t *testing.T) {
	e := newEnv(t)
	for _, origin := range []string{"http://localhost:3000", "https://127.0.0.1:8443", "http://[::1]:5173", "HTTP://LocalHost:3000", "http://localhost"} {
		t.Run(origin, func(t *testing.T) {
			r := e.preflight("accounts", origin, "PATCH", "authorization,content-type, odata-version,X-Custom-Thing").expect(t, http.StatusNoContent)
			expectAllowed(t, r, origin)
			for _, m := range []string{"GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"} {
				if !listHas(r.Header, "Access-Control-Allow-Methods", m) {
					t.Errorf("Access-Control-Allow-Methods %q lacks %s", r.Header.Values("Access-Control-Allow-Methods"), m)
				}
			}
			for _, h := range []string{"Authorization", "Content-Type", "Accept", "OData-MaxVersion", "OData-Version", "Prefer",
				"If-Match", "If-None-Match", "MSCRMCallerID", "CallerObjectId", "Content-ID", "MSCRM.SuppressDuplicateDetection",
				"MSCRM.BypassCustomPluginExecution", "MSCRM.SolutionUniqueName", "MSCRM.MergeLabels", "x-ms-client-request-id",
				"x-ms-app-name", "x-custom-thing"} {
				if !listHas(r.Header, "Access-Control-Allow-Headers", h) {
					t.Errorf("Access-Control-Allow-Headers %q lacks %s", r.Header.Values("Access-Control-Allow-Headers"), h)
				}
			}
			if n := len(headerList(r.Header, "Access-Control-Allow-Headers")); n != 18 {
				t.Errorf("Access-Control-Allow-Headers has %d names, want 18 (requested ones not repeated): %q", n, r.Header.Values("Access-Control-Allow-Headers"))
			}
			if r.Header.Get("Access-Control-Max-Age") == "" {
				t.Error("no Access-Control-Max-Age")
			}
			for _, v := range []string{"Access-Control-Request-Method", "Access-Control-Request-Headers"} {
				if !listHas(r.Header, "Vary", v) {
					t.Errorf("Vary = %q, want it to name %s", r.Header.Values("Vary"), v)
				}
			}
			if r.Header.Get("Access-Control-Allow-Private-Network") != "" {
				t.Error("Access-Control-Allow-Private-Network sent though not asked for")
			}
			if len(r.Body) != 0 {
				t.Errorf("preflight body = %q, want none", r.Body)
			}
		})
	}
}

func TestCORSPreflightRefused(t *testing.T) {
	e := newEnv(t)
	for _, origin := range []string{"https://evil.example", "null", "http://localhost.evil.example:3000", "ftp://localhost", "http://localhost:3000/path", "not an origin"} {
		t.Run(origin, func(t *testing.T) {
			r := e.preflight("accounts", origin, "GET", "authorization").expect(t, http.StatusForbidden)
			expectNoCORS(t, r)
		})
	}
}

func TestCORSConfiguredOrigins(t *testing.T) {
	var logs bytes.Buffer
	e := newEnvWith(t, emulator.Config{
		CORSOrigins: []string{"https://app.example", " http://Other.Example:80/", "https://ports.example:8443", "app-without-scheme.example"},
		Logger:      slog.New(slog.NewTextHandler(&logs, nil)),
	})
	for _, origin := range []string{"https://app.example", "https://APP.example:443", "http://other.example", "http://other.example:80", "https://ports.example:8443"} {
		expectAllowed(t, e.preflight("accounts", origin, "POST", "").expect(t, http.StatusNoContent), origin)
	}
	for _, origin := range []string{"http://localhost:3000", "http://127.0.0.1:8080", "http://app.example", "https://app.example:8443",
		"https://ports.example", "https://evil.example", "null", "https://app-without-scheme.example"} {
		expectNoCORS(t, e.preflight("accounts", origin, "POST", "").expect(t, http.StatusForbidden))
	}
	if !strings.Contains(logs.String(), "app-without-scheme.example") {
		t.Errorf("the entry that is not an origin was not logged:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "CORS preflight refused") {
		t.Errorf("refused preflights were not logged:\n%s", logs.String())
	}
}

func TestCORSAnyOrigin(t *testing.T) {
	e := newEnvWith(t, emulator.Config{CORSOrigins: []string{"*"}})
	for _, origin := range []string{"https://evil.example", "http://localhost:3000", "null"} {
		r := e.preflight("accounts", origin, "DELETE", "").expect(t, http.StatusNoContent)
		expectAllowed(t, r, origin) // echoed, never "*"
	}
	r := e.do(http.MethodGet, "WhoAmI", nil, "Origin", "https://evil.example").expect(t, http.StatusOK)
	expectAllowed(t, r, "https://evil.example")
}

func TestCORSNoOrigins(t *testing.T) {
	e := newEnvWith(t, emulator.Config{CORSOrigins: []string{}})
	for _, origin := range []string{"http://localhost:3000", "https://app.example"} {
		expectNoCORS(t, e.preflight("accounts", origin, "GET", "").expect(t, http.StatusForbidden))
	}
	// The request itself is still served (the browser keeps the answer from the script).
	r := e.do(http.MethodGet, "WhoAmI", nil, "Origin", "http://localhost:3000").expect(t, http.StatusOK)
	expectNoCORS(t, r)
}

func TestCORSActualRequests(t *testing.T) {
	e := newEnv(t)
	const origin = "http://localhost:3000"

	r := e.do(http.MethodGet, "accounts?$select=name&$top=1", nil, "Origin", origin).expect(t, http.StatusOK)
	expectAllowed(t, r, origin)

	r = e.do(http.MethodPost, "accounts", map[string]any{"name": "CORS Ltd"}, "Origin", origin).expect(t, http.StatusNoContent)
	expectAllowed(t, r, origin)
	if r.Header.Get("OData-EntityId") == "" {
		t.Fatal("create answered without OData-EntityId")
	}
	for _, h := range []string{"OData-EntityId", "OData-Version", "ETag", "Preference-Applied", "Location", "Retry-After",
		"WWW-Authenticate", "Content-Type", "x-ms-ratelimit-burst-remaining-xrm-requests", "x-ms-ratelimit-time-remaining-xrm-requests"} {
		if !listHas(r.Header, "Access-Control-Expose-Headers", h) {
			t.Errorf("Access-Control-Expose-Headers %q lacks %s", r.Header.Values("Access-Control-Expose-Headers"), h)
		}
	}
	if listHas(r.Header, "Access-Control-Expose-Headers", "*") {
		t.Error("Access-Control-Expose-Headers is a wildcard, which credentialed requests ignore")
	}
	// Answers to actual requests are not preflight answers.
	for _, h := range []string{"Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Max-Age"} {
		if v := r.Header.Get(h); v != "" {
			t.Errorf("%s = %q on an actual request", h, v)
		}
	}

	// An update from the created row's URL, the way browser code follows OData-EntityId.
	id := r.Header.Get("OData-EntityId")
	r = e.do(http.MethodPatch, id, map[string]any{"name": "CORS plc"}, "Origin", origin, "If-Match", "*").expect(t, http.StatusNoContent)
	expectAllowed(t, r, origin)

	// Another origin is served, without CORS headers.
	r = e.do(http.MethodGet, "accounts?$top=1", nil, "Origin", "https://evil.example").expect(t, http.StatusOK)
	expectNoCORS(t, r)
	if !listHas(r.Header, "Vary", "Origin") {
		t.Errorf("Vary = %q, want it to name Origin", r.Header.Values("Vary"))
	}
}

func TestCORSErrorAnswers(t *testing.T) {
	e := newEnv(t)
	const origin = "http://127.0.0.1:5173"

	r := e.do(http.MethodGet, "accounts", nil, "Origin", origin, "Authorization", "").expect(t, http.StatusUnauthorized)
	expectAllowed(t, r, origin)
	if r.Header.Get("WWW-Authenticate") == "" || !listHas(r.Header, "Access-Control-Expose-Headers", "WWW-Authenticate") {
		t.Errorf("401: WWW-Authenticate %q, exposed %q", r.Header.Get("WWW-Authenticate"), r.Header.Values("Access-Control-Expose-Headers"))
	}

	r = e.do(http.MethodGet, "nosuchtables", nil, "Origin", origin).expect(t, http.StatusNotFound)
	expectAllowed(t, r, origin)

	r = e.do(http.MethodGet, "accounts(00000000-0000-0000-0000-000000000001)", nil, "Origin", origin).expect(t, http.StatusNotFound)
	expectAllowed(t, r, origin)
}

func TestCORSIdentityEndpoints(t *testing.T) {
	e := newEnv(t)
	const origin = "http://localhost:4200"
	tokenPath := "/" + emulator.DefaultTenantID + "/oauth2/v2.0/token"

	// MSAL in a browser: the token POST (a preflight first when it adds headers), discovery, keys.
	r := e.preflight(tokenPath, origin, "POST", "content-type,x-client-sku").expect(t, http.StatusNoContent)
	expectAllowed(t, r, origin)
	if !listHas(r.Header, "Access-Control-Allow-Headers", "x-client-sku") {
		t.Errorf("Access-Control-Allow-Headers %q lacks the requested x-client-sku", r.Header.Values("Access-Control-Allow-Headers"))
	}

	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {emulator.DefaultClientID},
		"client_secret": {emulator.DefaultClientSecret},
		"scope":         {e.url + "/.default"},
	}
	r = e.do(http.MethodPost, tokenPath, form.Encode(), "Origin", origin, "Authorization", "",
		"Content-Type", "application/x-www-form-urlencoded").expect(t, http.StatusOK)
	expectAllowed(t, r, origin)
	if tok, _ := r.JSON(t)["access_token"].(string); tok == "" {
		t.Fatalf("no access_token: %s", r.Body)
	}

	// A refused grant is readable too.
	form.Set("client_secret", "wrong")
	r = e.do(http.MethodPost, tokenPath, form.Encode(), "Origin", origin, "Authorization", "",
		"Content-Type", "application/x-www-form-urlencoded")
	if r.Status < 400 {
		t.Fatalf("wrong secret: status %d", r.Status)
	}
	expectAllowed(t, r, origin)

	for _, p := range []string{"/" + emulator.DefaultTenantID + "/v2.0/.well-known/openid-configuration", "/" + emulator.DefaultTenantID + "/discovery/v2.0/keys"} {
		r = e.do(http.MethodGet, p, nil, "Origin", origin, "Authorization", "").expect(t, http.StatusOK)
		expectAllowed(t, r, origin)
	}

	expectNoCORS(t, e.preflight(tokenPath, "https://evil.example", "POST", "content-type").expect(t, http.StatusForbidden))
}

func TestCORSLeavesOtherRequestsAlone(t *testing.T) {
	e := newEnv(t)
	const origin = "http://localhost:3000"

	// No Origin: no CORS headers, no Vary.
	r := e.do(http.MethodGet, "accounts?$top=1", nil).expect(t, http.StatusOK)
	expectNoCORS(t, r)
	if v := r.Header.Values("Vary"); len(v) != 0 {
		t.Errorf("Vary = %q on a request without Origin", v)
	}
	r = e.do(http.MethodOptions, "accounts", nil, "Access-Control-Request-Method", "GET", "Authorization", "")
	if r.Status == http.StatusNoContent {
		t.Error("OPTIONS without Origin was answered as a preflight")
	}
	expectNoCORS(t, r)

	// OPTIONS without Access-Control-Request-Method is not a preflight: the handlers answer it.
	tokenPath := "/" + emulator.DefaultTenantID + "/oauth2/v2.0/token"
	r = e.do(http.MethodOptions, tokenPath, nil, "Origin", origin, "Authorization", "").expect(t, http.StatusMethodNotAllowed)
	if r.Header.Get("Allow") != http.MethodPost {
		t.Errorf("Allow = %q, want POST", r.Header.Get("Allow"))
	}
	expectAllowed(t, r, origin)
	r = e.do(http.MethodOptions, "accounts", nil, "Origin", origin, "Authorization", "").expect(t, http.StatusUnauthorized)
	expectAllowed(t, r, origin)

	// The admin API is not for browsers.
	r = e.do(http.MethodGet, "/_emulator/health", nil, "Origin", origin).expect(t, http.StatusOK)
	expectNoCORS(t, r)
	r = e.preflight("/_emulator/reset", origin, "POST", "")
	if r.Status == http.StatusNoContent {
		t.Error("a preflight to the admin API was answered")
	}
	expectNoCORS(t, r)
}

func TestCORSPrivateNetworkAccess(t *testing.T) {
	e := newEnvWith(t, emulator.Config{CORSOrigins: []string{"https://make.powerapps.com"}})
	r := e.preflight("accounts", "https://make.powerapps.com", "GET", "authorization",
		"Access-Control-Request-Private-Network", "true").expect(t, http.StatusNoContent)
	expectAllowed(t, r, "https://make.powerapps.com")
	if r.Header.Get("Access-Control-Allow-Private-Network") != "true" {
		t.Errorf("Access-Control-Allow-Private-Network = %q, want true", r.Header.Get("Access-Control-Allow-Private-Network"))
	}
}
