package oauth

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/mux"
)

func TestClientCredentials(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		tenant  string
		scope   string // "" means the env's own origin + "/.default"
		basic   bool   // send the credentials with HTTP Basic instead of the form
		wantAud string // "" means the env's own origin
	}{
		{name: "form credentials"},
		{name: "basic credentials", basic: true},
		{name: "common tenant", tenant: "common"},
		{name: "organizations tenant", tenant: "organizations"},
		{name: "tenant id in upper case", tenant: strings.ToUpper(testTenant)},
		{name: "org URL with doubled slash", scope: "https://org.crm.dynamics.com//.default", wantAud: "https://org.crm.dynamics.com"},
		{name: "org URL", scope: "https://org.crm.dynamics.com/.default", wantAud: "https://org.crm.dynamics.com"},
		{name: "app id URI", scope: "api://dynlocal/.default", wantAud: "api://dynlocal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			form := e.appForm()
			if tt.scope != "" {
				form.Set("scope", tt.scope)
			}
			if tt.basic {
				form.Del("client_id")
				form.Del("client_secret")
			}
			u := e.tokenURL()
			if tt.tenant != "" {
				u = e.ts.URL + "/" + tt.tenant + "/oauth2/v2.0/token"
			}
			req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
			if tt.basic {
				req.SetBasicAuth(url.QueryEscape(testClient), url.QueryEscape(testSecret))
			}
			status, m := do(t, e.ts.Client(), req)
			if status != http.StatusOK {
				t.Fatalf("status %d: %v", status, m)
			}
			tok, _ := m["access_token"].(string)
			delete(m, "access_token")
			want := map[string]any{"token_type": "Bearer", "expires_in": 3599.0, "ext_expires_in": 3599.0}
			if diff := cmp.Diff(want, m); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}

			aud := tt.wantAud
			if aud == "" {
				aud = e.ts.URL
			}
			c, err := e.srv.Verify(tok, []string{aud})
			if err != nil {
				t.Fatal(err)
			}
			wantClaims := &Claims{
				Issuer: e.ts.URL + "/" + testTenant + "/v2.0", Subject: testApp.ObjectID, TenantID: testTenant,
				ObjectID: testApp.ObjectID, AppID: testClient, Audience: aud,
				IssuedAt: testStart, NotBefore: testStart, ExpiresAt: testStart.Add(defaultTokenLifetime), IsApp: true,
			}
			if diff := cmp.Diff(wantClaims, c); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}
			p := payload(t, tok)
			for _, k := range []string{"idtyp", "azp", "appid", "ver", "uti", "jti"} {
				if p[k] == nil {
					t.Errorf("claim %s missing from %v", k, p)
				}
			}
			for _, k := range []string{"roles", "scp", "name", "upn"} {
				if p[k] != nil {
					t.Errorf("app token has claim %s: %v", k, p[k])
				}
			}
		})
	}
}

func TestTokenErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		method      string
		contentType string
		tenant      string
		edit        func(e *env, form url.Values) // changes a good client credentials form
		basic       [2]string                     // raw HTTP Basic user and password, when set
		wantStatus  int
		wantError   string
		wantCode    int
	}{
		{name: "wrong secret", edit: func(_ *env, f url.Values) { f.Set("client_secret", "nope") },
			wantStatus: 401, wantError: "invalid_client", wantCode: 7000215},
		{name: "wrong secret with basic", edit: func(_ *env, f url.Values) { f.Del("client_secret") },
			basic: [2]string{testClient, "nope"}, wantStatus: 401, wantError: "invalid_client", wantCode: 7000215},
		{name: "basic secret not form-encoded", edit: func(_ *env, f url.Values) { f.Del("client_secret") },
			basic: [2]string{testClient, "100%"}, wantStatus: 400, wantError: "invalid_request", wantCode: 9002313},
		{name: "secret in header and body", basic: [2]string{testClient, url.QueryEscape(testSecret)},
			wantStatus: 400, wantError: "invalid_request", wantCode: 9002313},
		{name: "unknown client", edit: func(_ *env, f url.Values) { f.Set("client_id", "00000000-0000-0000-0000-000000000001") },
			wantStatus: 400, wantError: "unauthorized_client", wantCode: 700016},
		{name: "missing client id", edit: func(_ *env, f url.Values) { f.Del("client_id") },
			wantStatus: 400, wantError: "invalid_request", wantCode: 900144},
		{name: "missing secret", edit: func(_ *env, f url.Values) { f.Del("client_secret") },
			wantStatus: 401, wantError: "invalid_client", wantCode: 7000218},
		{name: "client assertion", edit: func(_ *env, f url.Values) { f.Set("client_assertion", "x.y.z") },
			wantStatus: 400, wantError: "invalid_request", wantCode: 9002313},
		{name: "missing scope", edit: func(_ *env, f url.Values) { f.Del("scope") },
			wantStatus: 400, wantError: "invalid_scope", wantCode: 70011},
		{name: "scope without .default", edit: func(e *env, f url.Values) { f.Set("scope", e.ts.URL+"/user_impersonation") },
			wantStatus: 400, wantError: "invalid_scope", wantCode: 1002012},
		{name: "bare .default", edit: func(_ *env, f url.Values) { f.Set("scope", "/.default") },
			wantStatus: 400, wantError: "invalid_scope", wantCode: 1002012},
		{name: "two resources", edit: func(e *env, f url.Values) { f.Set("scope", e.ts.URL+"/.default https://org.crm.dynamics.com/.default") },
			wantStatus: 400, wantError: "invalid_scope", wantCode: 28000},
		{name: "unsupported grant", edit: func(_ *env, f url.Values) { f.Set("grant_type", "password") },
			wantStatus: 400, wantError: "unsupported_grant_type", wantCode: 70003},
		{name: "missing grant type", edit: func(_ *env, f url.Values) { f.Del("grant_type") },
			wantStatus: 400, wantError: "invalid_request", wantCode: 900144},
		{name: "repeated parameter", edit: func(_ *env, f url.Values) { f.Add("scope", "https://x/.default") },
			wantStatus: 400, wantError: "invalid_request", wantCode: 9002313},
		{name: "GET", method: http.MethodGet, wantStatus: 405, wantError: "invalid_request", wantCode: 900561},
		{name: "JSON body", contentType: "application/json", wantStatus: 400, wantError: "invalid_request", wantCode: 9002313},
		{name: "unknown tenant id", tenant: "00000000-0000-0000-0000-00000000000f",
			wantStatus: 400, wantError: "invalid_request", wantCode: 90002},
		{name: "unknown tenant domain", tenant: "contoso.onmicrosoft.com",
			wantStatus: 400, wantError: "invalid_request", wantCode: 90002},
		{name: "tenant that is no name", tenant: "nope", wantStatus: 400, wantError: "invalid_request", wantCode: 900023},
		{name: "authorization code missing code", edit: func(_ *env, f url.Values) { f.Set("grant_type", "authorization_code") },
			wantStatus: 400, wantError: "invalid_request", wantCode: 900144},
		{name: "authorization code unknown code", edit: func(_ *env, f url.Values) {
			f.Set("grant_type", "authorization_code")
			f.Set("code", "not-a-code")
			f.Set("redirect_uri", "http://localhost/cb")
		}, wantStatus: 400, wantError: "invalid_grant", wantCode: 70000},
		{name: "refresh missing token", edit: func(_ *env, f url.Values) { f.Set("grant_type", "refresh_token") },
			wantStatus: 400, wantError: "invalid_request", wantCode: 900144},
		{name: "refresh unknown token", edit: func(_ *env, f url.Values) {
			f.Set("grant_type", "refresh_token")
			f.Set("refresh_token", "not-a-token")
		}, wantStatus: 400, wantError: "invalid_grant", wantCode: 70000},
		{name: "refresh wrong secret", edit: func(_ *env, f url.Values) {
			f.Set("grant_type", "refresh_token")
			f.Set("refresh_token", "not-a-token")
			f.Set("client_secret", "nope")
		}, wantStatus: 401, wantError: "invalid_client", wantCode: 7000215},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			form := e.appForm()
			if tt.edit != nil {
				tt.edit(e, form)
			}
			method, u, ct := http.MethodPost, e.tokenURL(), "application/x-www-form-urlencoded"
			if tt.method != "" {
				method = tt.method
			}
			if tt.tenant != "" {
				u = e.ts.URL + "/" + tt.tenant + "/oauth2/v2.0/token"
			}
			if tt.contentType != "" {
				ct = tt.contentType
			}
			req, _ := http.NewRequest(method, u, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", ct)
			if tt.basic != [2]string{} {
				req.SetBasicAuth(tt.basic[0], tt.basic[1])
			}
			status, m := do(t, e.ts.Client(), req)
			got := fmt.Sprintf("%d %v %d", status, m["error"], errorCode(m))
			want := fmt.Sprintf("%d %s %d", tt.wantStatus, tt.wantError, tt.wantCode)
			if got != want {
				t.Fatalf("got %s, want %s\n%v", got, want, m["error_description"])
			}
			checkErrorBody(t, m)
		})
	}
}

var descRE = regexp.MustCompile(`^AADSTS(\d+): .+\r\nTrace ID: ([0-9a-f-]{36})\r\nCorrelation ID: ([0-9a-f-]{36})\r\nTimestamp: (\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ)$`)

// checkErrorBody checks the members every Entra error body has and that they agree.
func checkErrorBody(t *testing.T, m map[string]any) {
	t.Helper()
	desc, _ := m["error_description"].(string)
	sm := descRE.FindStringSubmatch(desc)
	if sm == nil {
		t.Fatalf("error_description %q has not Entra's shape", desc)
	}
	got := []any{sm[1], m["trace_id"], m["correlation_id"], m["timestamp"], m["error_uri"]}
	want := []any{fmt.Sprint(errorCode(m)), sm[2], sm[3], sm[4],
		fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", errorCode(m))}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("error body (-want +got):\n%s", diff)
	}
}

func TestErrorEchoesClientRequestID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const id = "0f0e0d0c-0b0a-4909-8807-060504030201"
	form := e.appForm()
	form.Set("client_secret", "nope")
	_, m := e.post(t, form, func(r *http.Request) { r.Header.Set("client-request-id", id) })
	if m["correlation_id"] != id || m["timestamp"] != "2026-03-01 12:00:00Z" {
		t.Errorf("correlation_id = %v, timestamp = %v; want %s, 2026-03-01 12:00:00Z", m["correlation_id"], m["timestamp"], id)
	}
}

func TestTokenLifetime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lifetime      time.Duration
		wantExpiresIn float64
	}{
		{0, 3599},
		{2 * time.Hour, 7199},
		{time.Second, 1},
	}
	for _, tt := range tests {
		t.Run(tt.lifetime.String(), func(t *testing.T) {
			t.Parallel()
			clock := &fakeClock{t: testStart}
			s, err := New(Config{TenantID: testTenant, ClientID: testClient, ClientSecret: testSecret,
				AppUser: testApp, HumanUser: testHuman, TokenLifetime: tt.lifetime, Now: clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			r := mux.NewRouter()
			s.Routes(r)
			ts := httptest.NewServer(r)
			defer ts.Close()
			e := &env{srv: s, ts: ts, clock: clock}
			status, m := e.post(t, e.appForm(), nil)
			if status != 200 || m["expires_in"] != tt.wantExpiresIn {
				t.Fatalf("status %d, expires_in %v, want %v", status, m["expires_in"], tt.wantExpiresIn)
			}
			lifetime := tt.lifetime
			if lifetime == 0 {
				lifetime = time.Hour
			}
			c, err := s.Verify(m["access_token"].(string), []string{ts.URL})
			if err != nil || !c.ExpiresAt.Equal(testStart.Add(lifetime)) {
				t.Fatalf("Verify: %v, %v", c, err)
			}
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	good := Config{TenantID: testTenant, ClientID: testClient, ClientSecret: testSecret, AppUser: testApp, HumanUser: testHuman}
	tests := []struct {
		name string
		edit func(*Config)
	}{
		{"no tenant", func(c *Config) { c.TenantID = "" }},
		{"common as tenant", func(c *Config) { c.TenantID = "common" }},
		{"no client", func(c *Config) { c.ClientID = "" }},
		{"no secret", func(c *Config) { c.ClientSecret = "" }},
		{"no app user", func(c *Config) { c.AppUser.ObjectID = "" }},
		{"no human user", func(c *Config) { c.HumanUser.ObjectID = "" }},
		{"negative lifetime", func(c *Config) { c.TokenLifetime = -time.Second }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := good
			tt.edit(&c)
			if _, err := New(c); err == nil {
				t.Fatal("New accepted the config")
			}
		})
	}
	if _, err := New(good); err != nil {
		t.Fatalf("New(good): %v", err)
	}
}
