package oauth

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	testRedirect = "http://localhost:3000/callback"
	// The verifier and S256 challenge of RFC 7636 appendix B.
	rfcVerifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	rfcChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
)

// authQuery is a good authorization request for scope with an S256 challenge.
func authQuery(scope string) url.Values {
	return url.Values{
		"client_id":             {testClient},
		"response_type":         {"code"},
		"redirect_uri":          {testRedirect},
		"scope":                 {scope},
		"state":                 {"st-42"},
		"code_challenge":        {rfcChallenge},
		"code_challenge_method": {"S256"},
		"response_mode":         {"query"},
	}
}

// redeemForm is the token request that redeems code with the RFC verifier.
func redeemForm(code string) url.Values {
	return url.Values{
		"grant_type":    {"authorization_code"},
		"client_id":     {testClient},
		"code":          {code},
		"redirect_uri":  {testRedirect},
		"code_verifier": {rfcVerifier},
	}
}

func TestAuthorizationCodeFlow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		scope     string // %s is the env's origin
		editAuth  func(url.Values)
		editToken func(url.Values)
		tenant    string
		wantScope string // %s is the env's origin
		wantScp   string
		refresh   bool
		idToken   bool
	}{
		{
			name:      "S256 with offline_access and openid",
			scope:     "%s/user_impersonation offline_access openid",
			editAuth:  func(q url.Values) { q.Set("nonce", "n-0S6_WzA2Mj") },
			wantScope: "%s/user_impersonation openid offline_access",
			wantScp:   "user_impersonation",
			refresh:   true,
			idToken:   true,
		},
		{
			name:  "plain PKCE, access token only",
			scope: "%s/user_impersonation",
			editAuth: func(q url.Values) {
				q.Set("code_challenge", rfcVerifier)
				q.Set("code_challenge_method", "plain")
			},
			wantScope: "%s/user_impersonation",
			wantScp:   "user_impersonation",
		},
		{
			name:  "plain PKCE by default",
			scope: "%s/user_impersonation",
			editAuth: func(q url.Values) {
				q.Set("code_challenge", rfcVerifier)
				q.Del("code_challenge_method")
			},
			wantScope: "%s/user_impersonation",
			wantScp:   "user_impersonation",
		},
		{
			name:  "confidential client without PKCE",
			scope: "%s/.default openid",
			editAuth: func(q url.Values) {
				q.Del("code_challenge")
				q.Del("code_challenge_method")
			},
			editToken: func(f url.Values) {
				f.Del("code_verifier")
				f.Set("client_secret", testSecret)
			},
			wantScope: "%s/user_impersonation openid",
			wantScp:   "user_impersonation",
			idToken:   true,
		},
		{
			name:      "common tenant",
			tenant:    "common",
			scope:     "%s/user_impersonation offline_access",
			wantScope: "%s/user_impersonation offline_access",
			wantScp:   "user_impersonation",
			refresh:   true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			q := authQuery(fmt.Sprintf(tt.scope, e.ts.URL))
			if tt.editAuth != nil {
				tt.editAuth(q)
			}
			authURL, tokenURL := e.authURL(), e.tokenURL()
			if tt.tenant != "" {
				authURL = e.ts.URL + "/" + tt.tenant + "/oauth2/v2.0/authorize"
				tokenURL = e.ts.URL + "/" + tt.tenant + "/oauth2/v2.0/token"
			}
			resp, err := e.noRedirects().Get(authURL + "?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusFound {
				t.Fatalf("authorize: status %d", resp.StatusCode)
			}
			loc, err := url.Parse(resp.Header.Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			if got := loc.Scheme + "://" + loc.Host + loc.Path; got != testRedirect {
				t.Errorf("redirected to %s, want %s", got, testRedirect)
			}
			if loc.Query().Get("state") != "st-42" || loc.Query().Get("code") == "" {
				t.Fatalf("redirect %s lacks code or state", loc)
			}

			form := redeemForm(loc.Query().Get("code"))
			if tt.editToken != nil {
				tt.editToken(form)
			}
			req, _ := http.NewRequest(http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			status, m := do(t, e.ts.Client(), req)
			if status != http.StatusOK {
				t.Fatalf("token: %d %v", status, m)
			}
			if got, want := m["scope"], fmt.Sprintf(tt.wantScope, e.ts.URL); got != want {
				t.Errorf("scope = %v, want %s", got, want)
			}
			if got := m["refresh_token"] != nil; got != tt.refresh {
				t.Errorf("refresh_token present = %v, want %v", got, tt.refresh)
			}
			if got := m["id_token"] != nil; got != tt.idToken {
				t.Errorf("id_token present = %v, want %v", got, tt.idToken)
			}

			c, err := e.srv.Verify(m["access_token"].(string), []string{e.ts.URL + "/"})
			if err != nil {
				t.Fatal(err)
			}
			got := []any{c.ObjectID, c.Name, c.Username, c.Scope, c.AppID, c.IsApp, c.Audience}
			want := []any{testHuman.ObjectID, testHuman.Name, testHuman.Username, tt.wantScp, testClient, false, e.ts.URL}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}
			if p := payload(t, m["access_token"].(string)); p["upn"] != testHuman.Username || p["idtyp"] != nil {
				t.Errorf("user token claims: %v", p)
			}

			if tt.idToken {
				idt := m["id_token"].(string)
				p := payload(t, idt)
				got := []any{p["aud"], p["iss"], p["oid"], p["preferred_username"], p["nonce"], p["sub"]}
				want := []any{testClient, e.ts.URL + "/" + testTenant + "/v2.0", testHuman.ObjectID, testHuman.Username,
					q.Get("nonce"), c.Subject}
				if q.Get("nonce") == "" {
					want[4] = nil
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("id token claims (-want +got):\n%s", diff)
				}
				if _, err := e.srv.Verify(idt, []string{testClient}); err == nil {
					t.Error("Verify accepted an id token as an access token")
				}
			}
		})
	}
}

func TestAuthorizeKeepsRedirectQueryAndFragmentMode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	q := authQuery(e.ts.URL + "/user_impersonation")
	q.Set("redirect_uri", testRedirect+"?from=test")
	_, loc := e.authorize(t, q)
	if loc.Query().Get("from") != "test" || loc.Query().Get("code") == "" {
		t.Errorf("query redirect %s", loc)
	}

	q = authQuery(e.ts.URL + "/user_impersonation")
	q.Set("response_mode", "fragment")
	_, loc = e.authorize(t, q)
	frag, err := url.ParseQuery(loc.Fragment)
	if err != nil || loc.RawQuery != "" || frag.Get("code") == "" || frag.Get("state") != "st-42" {
		t.Errorf("fragment redirect %s", loc)
	}
}

func TestCodeRedemptionErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		editAuth   func(url.Values)
		before     func(t *testing.T, e *env, code string) // runs between authorize and the redemption under test
		edit       func(url.Values)
		wantStatus int
		wantError  string
		wantCode   int
	}{
		{name: "wrong verifier", edit: func(f url.Values) { f.Set("code_verifier", strings.Repeat("a", 43)) },
			wantStatus: 400, wantError: "invalid_grant", wantCode: 501481},
		{name: "plain verifier for S256 challenge", edit: func(f url.Values) { f.Set("code_verifier", rfcChallenge) },
			wantStatus: 400, wantError: "invalid_grant", wantCode: 501481},
		{name: "missing verifier", edit: func(f url.Values) { f.Del("code_verifier") },
			wantStatus: 400, wantError: "invalid_request", wantCode: 900144},
		{name: "verifier without challenge", editAuth: func(q url.Values) {
			q.Del("code_challenge")
			q.Del("code_challenge_method")
		}, wantStatus: 400, wantError: "invalid_grant", wantCode: 501481},
		{name: "redirect_uri mismatch", edit: func(f url.Values) { f.Set("redirect_uri", "http://localhost:3000/other") },
			wantStatus: 400, wantError: "invalid_grant", wantCode: 500112},
		{name: "missing redirect_uri", edit: func(f url.Values) { f.Del("redirect_uri") },
			wantStatus: 400, wantError: "invalid_request", wantCode: 900144},
		{name: "code reused", before: func(t *testing.T, e *env, code string) {
			if status, m := e.post(t, redeemForm(code), nil); status != http.StatusOK {
				t.Fatalf("first redemption: %d %v", status, m)
			}
		}, wantStatus: 400, wantError: "invalid_grant", wantCode: 54005},
		{name: "code expired", before: func(_ *testing.T, e *env, _ string) { e.clock.Advance(codeLifetime) },
			wantStatus: 400, wantError: "invalid_grant", wantCode: 70008},
		{name: "wrong secret", edit: func(f url.Values) { f.Set("client_secret", "nope") },
			wantStatus: 401, wantError: "invalid_client", wantCode: 7000215},
		{name: "unknown client", edit: func(f url.Values) { f.Set("client_id", "11111111-1111-1111-1111-111111111111") },
			wantStatus: 400, wantError: "unauthorized_client", wantCode: 700016},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			q := authQuery(e.ts.URL + "/user_impersonation offline_access")
			if tt.editAuth != nil {
				tt.editAuth(q)
			}
			code := e.code(t, q)
			if tt.before != nil {
				tt.before(t, e, code)
			}
			form := redeemForm(code)
			if tt.edit != nil {
				tt.edit(form)
			}
			status, m := e.post(t, form, nil)
			got := fmt.Sprintf("%d %v %d", status, m["error"], errorCode(m))
			want := fmt.Sprintf("%d %s %d", tt.wantStatus, tt.wantError, tt.wantCode)
			if got != want {
				t.Fatalf("got %s, want %s\n%v", got, want, m["error_description"])
			}
			checkErrorBody(t, m)
		})
	}
}

func TestFailedRedemptionKeepsCode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	code := e.code(t, authQuery(e.ts.URL+"/user_impersonation"))
	bad := redeemForm(code)
	bad.Set("code_verifier", strings.Repeat("b", 43))
	if status, _ := e.post(t, bad, nil); status != http.StatusBadRequest {
		t.Fatalf("wrong verifier: status %d", status)
	}
	e.clock.Advance(codeLifetime - time.Second)
	if status, m := e.post(t, redeemForm(code), nil); status != http.StatusOK {
		t.Fatalf("right verifier after a failure: %d %v", status, m)
	}
}

func TestAuthorizeErrorRedirects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		edit      func(q url.Values)
		wantError string
		wantCode  int
	}{
		{"unsupported response_type", func(q url.Values) { q.Set("response_type", "token") }, "unsupported_response_type", 70005},
		{"missing response_type", func(q url.Values) { q.Del("response_type") }, "invalid_request", 900144},
		{"unknown client", func(q url.Values) { q.Set("client_id", "11111111-1111-1111-1111-111111111111") }, "unauthorized_client", 700016},
		{"missing client_id", func(q url.Values) { q.Del("client_id") }, "invalid_request", 900144},
		{"missing scope", func(q url.Values) { q.Del("scope") }, "invalid_request", 900144},
		{"blank scope", func(q url.Values) { q.Set("scope", "  ") }, "invalid_request", 900144},
		{"two resources", func(q url.Values) { q.Set("scope", "https://a.example/x https://b.example/y openid") }, "invalid_scope", 28000},
		{"scope with a quote", func(q url.Values) { q.Set("scope", `https://a.example/"x`) }, "invalid_scope", 70011},
		{"unknown challenge method", func(q url.Values) { q.Set("code_challenge_method", "S512") }, "invalid_request", 9002313},
		{"short S256 challenge", func(q url.Values) { q.Set("code_challenge", "abc") }, "invalid_request", 501491},
		{"method without challenge", func(q url.Values) { q.Del("code_challenge") }, "invalid_request", 900144},
		{"form_post response mode", func(q url.Values) { q.Set("response_mode", "form_post") }, "invalid_request", 9002313},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			q := authQuery(e.ts.URL + "/user_impersonation")
			tt.edit(q)
			status, loc := e.authorize(t, q)
			if status != http.StatusFound {
				t.Fatalf("status %d, want a redirect", status)
			}
			got := loc.Query()
			if got.Get("code") != "" || got.Get("error") != tt.wantError || got.Get("state") != "st-42" ||
				!strings.HasPrefix(got.Get("error_description"), fmt.Sprintf("AADSTS%d: ", tt.wantCode)) {
				t.Errorf("redirect %s, want error %s AADSTS%d", loc, tt.wantError, tt.wantCode)
			}
		})
	}
}

func TestAuthorizeErrorPages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		method     string
		tenant     string
		edit       func(q url.Values)
		wantStatus int
		wantText   string
	}{
		{name: "missing redirect_uri", edit: func(q url.Values) { q.Del("redirect_uri") }, wantStatus: 400, wantText: "AADSTS900144"},
		{name: "relative redirect_uri", edit: func(q url.Values) { q.Set("redirect_uri", "/callback") }, wantStatus: 400, wantText: "AADSTS90102"},
		{name: "javascript redirect_uri", edit: func(q url.Values) { q.Set("redirect_uri", "javascript:alert(1)") }, wantStatus: 400, wantText: "AADSTS90102"},
		{name: "redirect_uri with fragment", edit: func(q url.Values) { q.Set("redirect_uri", testRedirect+"#x") }, wantStatus: 400, wantText: "AADSTS90102"},
		{name: "redirect_uri without host", edit: func(q url.Values) { q.Set("redirect_uri", "http:///cb") }, wantStatus: 400, wantText: "AADSTS90102"},
		{name: "unknown tenant", tenant: "99999999-9999-4999-8999-999999999999", wantStatus: 400, wantText: "AADSTS90002: Tenant '99999999-9999-4999-8999-999999999999' not found"},
		{name: "POST", method: http.MethodPost, wantStatus: 405, wantText: "AADSTS900561"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			q := authQuery(e.ts.URL + "/user_impersonation")
			if tt.edit != nil {
				tt.edit(q)
			}
			u := e.authURL()
			if tt.tenant != "" {
				u = e.ts.URL + "/" + tt.tenant + "/oauth2/v2.0/authorize"
			}
			method := http.MethodGet
			if tt.method != "" {
				method = tt.method
			}
			req, _ := http.NewRequest(method, u+"?"+q.Encode(), nil)
			resp, err := e.noRedirects().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus || resp.Header.Get("Location") != "" || !strings.Contains(string(body), tt.wantText) {
				t.Errorf("status %d, Location %q, body:\n%s\nwant %d with %q", resp.StatusCode, resp.Header.Get("Location"), body, tt.wantStatus, tt.wantText)
			}
		})
	}
}
