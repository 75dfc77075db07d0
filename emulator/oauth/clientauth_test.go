package oauth

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gorilla/mux"
)

// TestCodeNeedsSecretOrPKCE checks that an authorization code is only redeemed by a client
// that proves it is the one that asked for it: with the client secret, or with the PKCE
// verifier of the authorization request's challenge.
func TestCodeNeedsSecretOrPKCE(t *testing.T) {
	t.Parallel()
	noPKCE := func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }
	tests := []struct {
		name      string
		editAuth  func(url.Values)
		editToken func(url.Values)
		want      string // "200", or status, error and AADSTS code
	}{
		{name: "PKCE without secret", want: "200"},
		{name: "secret without PKCE", editAuth: noPKCE,
			editToken: func(f url.Values) { f.Del("code_verifier"); f.Set("client_secret", testSecret) }, want: "200"},
		{name: "PKCE and secret", editToken: func(f url.Values) { f.Set("client_secret", testSecret) }, want: "200"},
		{name: "neither secret nor PKCE", editAuth: noPKCE, editToken: func(f url.Values) { f.Del("code_verifier") },
			want: "401 invalid_client 7000218"},
		{name: "challenge but no verifier, with secret", editToken: func(f url.Values) {
			f.Del("code_verifier")
			f.Set("client_secret", testSecret)
		}, want: "400 invalid_request 900144"},
		{name: "verifier without challenge", editAuth: noPKCE, want: "400 invalid_grant 501481"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			q := authQuery(e.ts.URL + "/user_impersonation")
			if tt.editAuth != nil {
				tt.editAuth(q)
			}
			f := redeemForm(e.code(t, q))
			if tt.editToken != nil {
				tt.editToken(f)
			}
			status, m := e.post(t, f, nil)
			got := fmt.Sprintf("%d %v %d", status, m["error"], errorCode(m))
			if status == http.StatusOK {
				got = "200"
			}
			if got != tt.want {
				t.Errorf("got %s, want %s (%v)", got, tt.want, m["error_description"])
			}
		})
	}
}

// TestCodeBoundToClient checks that a code issued to the development app cannot be redeemed
// by another app registration with its own secret.
func TestCodeBoundToClient(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, func(c *Config) {
		c.Apps = []App{{ClientID: "other-app", ClientSecret: "other-secret", User: testApp}}
	})
	f := redeemForm(e.code(t, authQuery(e.ts.URL+"/user_impersonation")))
	f.Set("client_id", "other-app")
	f.Set("client_secret", "other-secret")
	status, m := e.post(t, f, nil)
	if got := fmt.Sprintf("%d %v %d", status, m["error"], errorCode(m)); got != "400 invalid_grant 70000" {
		t.Errorf("got %s, want 400 invalid_grant 70000", got)
	}
}

// TestRefreshConfidentialNeedsSecret checks that a refresh token issued to a client that
// authenticated with its secret needs that secret again, and that a failed attempt does not
// use the token up; a public (PKCE only) client's refresh token needs none.
func TestRefreshConfidentialNeedsSecret(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := redeemForm(e.code(t, authQuery(e.ts.URL+"/user_impersonation offline_access")))
	f.Set("client_secret", testSecret)
	status, m := e.post(t, f, nil)
	if status != http.StatusOK {
		t.Fatalf("redeem: %d %v", status, m)
	}
	rt := m["refresh_token"].(string)

	status, m = e.post(t, refreshForm(rt), nil)
	if got := fmt.Sprintf("%d %v %d", status, m["error"], errorCode(m)); got != "401 invalid_client 7000218" {
		t.Errorf("refresh without secret: got %s, want 401 invalid_client 7000218", got)
	}
	rf := refreshForm(rt)
	rf.Set("client_secret", testSecret)
	if status, m = e.post(t, rf, nil); status != http.StatusOK {
		t.Fatalf("refresh with secret: %d %v", status, m)
	}

	// Another app registration cannot use the refresh token either.
	e2 := newEnvWith(t, func(c *Config) {
		c.Apps = []App{{ClientID: "other-app", ClientSecret: "other-secret", User: testApp}}
	})
	rt2 := e2.userTokens(t, e2.ts.URL+"/user_impersonation offline_access")["refresh_token"].(string)
	of := refreshForm(rt2)
	of.Set("client_id", "other-app")
	of.Set("client_secret", "other-secret")
	status, m = e2.post(t, of, nil)
	if got := fmt.Sprintf("%d %v %d", status, m["error"], errorCode(m)); got != "400 invalid_grant 70000" {
		t.Errorf("refresh by another app: got %s, want 400 invalid_grant 70000", got)
	}
}

// TestAuthorizeRedirectURIs checks the authorize endpoint sends codes only to loopback
// redirect URIs (any port and path) and to configured ones, and shows an error page, never a
// redirect, for any other.
func TestAuthorizeRedirectURIs(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, func(c *Config) {
		c.RedirectURIs = []string{"https://app.example.test/signin-oidc", "http://localhost:5000/only-this-path"}
	})
	tests := []struct {
		uri  string
		want int
	}{
		{"http://localhost/callback", http.StatusFound},
		{"http://localhost:61023/", http.StatusFound},
		{"http://127.0.0.1:51004/oauth2redirect/example", http.StatusFound},
		{"http://[::1]:8400/cb", http.StatusFound},
		{"http://LocalHost:3000/callback", http.StatusFound},
		{"https://app.example.test/signin-oidc", http.StatusFound},
		{"https://app.example.test/signin-oidc?x=1", http.StatusBadRequest},
		{"https://app.example.test/SIGNIN-OIDC", http.StatusBadRequest},
		{"https://app.example.test:8443/signin-oidc", http.StatusBadRequest},
		{"https://evil.example.test/signin-oidc", http.StatusBadRequest},
		{"http://app.example.test/signin-oidc", http.StatusBadRequest},
		{"https://localhost/callback", http.StatusBadRequest},
		{"http://localhost.evil.test/callback", http.StatusBadRequest},
		{"http://127.0.0.2/callback", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			t.Parallel()
			q := authQuery(e.ts.URL + "/user_impersonation")
			q.Set("redirect_uri", tt.uri)
			resp, err := e.noRedirects().Get(e.authURL() + "?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %s %s", resp.StatusCode, tt.want, resp.Header.Get("Location"), body)
			}
			if tt.want != http.StatusFound && !strings.Contains(string(body), "AADSTS50011") {
				t.Errorf("error page without AADSTS50011:\n%s", body)
			}
		})
	}
}

// newEnvWith is newEnv with edit applied to the Config.
func newEnvWith(t testing.TB, edit func(*Config)) *env {
	t.Helper()
	e := newEnv(t)
	cfg := e.srv.cfg
	edit(&cfg)
	cfg.SigningKey = e.srv.key
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = s
	r := mux.NewRouter()
	s.Routes(r)
	e.ts.Config.Handler = r
	return e
}
