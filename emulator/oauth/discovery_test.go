package oauth

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOpenIDConfiguration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		tenant      string
		forwarded   string
		wantScheme  string
		wantSegment string // the tenant segment of the endpoint URLs
	}{
		{name: "tenant id", tenant: testTenant, wantScheme: "http", wantSegment: testTenant},
		{name: "tenant id in upper case", tenant: strings.ToUpper(testTenant), wantScheme: "http", wantSegment: testTenant},
		{name: "common", tenant: "common", wantScheme: "http", wantSegment: "common"},
		{name: "organizations behind a TLS proxy", tenant: "organizations", forwarded: "https", wantScheme: "https", wantSegment: "organizations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			req, _ := http.NewRequest(http.MethodGet, e.ts.URL+"/"+tt.tenant+"/v2.0/.well-known/openid-configuration", nil)
			if tt.forwarded != "" {
				req.Header.Set("X-Forwarded-Proto", tt.forwarded)
			}
			status, got := do(t, e.ts.Client(), req)
			if status != http.StatusOK {
				t.Fatalf("status %d: %v", status, got)
			}
			origin := tt.wantScheme + "://" + strings.TrimPrefix(e.ts.URL, "http://")
			base := origin + "/" + tt.wantSegment
			want := map[string]any{
				"issuer":                                origin + "/" + testTenant + "/v2.0",
				"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
				"token_endpoint":                        base + "/oauth2/v2.0/token",
				"jwks_uri":                              base + "/discovery/v2.0/keys",
				"response_types_supported":              []any{"code"},
				"response_modes_supported":              []any{"query", "fragment"},
				"subject_types_supported":               []any{"pairwise"},
				"id_token_signing_alg_values_supported": []any{"RS256"},
				"scopes_supported":                      []any{"openid", "profile", "email", "offline_access"},
				"token_endpoint_auth_methods_supported": []any{"client_secret_post", "client_secret_basic"},
				"grant_types_supported":                 []any{"authorization_code", "client_credentials", "refresh_token"},
				"code_challenge_methods_supported":      []any{"S256", "plain"},
				"request_uri_parameter_supported":       false,
			}
			claims, _ := got["claims_supported"].([]any)
			delete(got, "claims_supported")
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("openid-configuration (-want +got):\n%s", diff)
			}
			for _, c := range []string{"sub", "oid", "tid", "aud", "iss", "nonce", "preferred_username", "scp", "idtyp"} {
				if !slices.Contains(claims, any(c)) {
					t.Errorf("claims_supported %v lacks %s", claims, c)
				}
			}
		})
	}
}

func TestDiscoveryErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name, method, path string
		wantStatus         int
		wantCode           int
	}{
		{"unknown tenant config", http.MethodGet, "/99999999-9999-4999-8999-999999999999/v2.0/.well-known/openid-configuration", 400, 90002},
		{"unknown tenant keys", http.MethodGet, "/99999999-9999-4999-8999-999999999999/discovery/v2.0/keys", 400, 90002},
		{"POST config", http.MethodPost, "/common/v2.0/.well-known/openid-configuration", 405, 900561},
		{"DELETE keys", http.MethodDelete, "/discovery/keys", 405, 900561},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(tt.method, e.ts.URL+tt.path, nil)
			status, m := do(t, e.ts.Client(), req)
			if status != tt.wantStatus || errorCode(m) != tt.wantCode {
				t.Errorf("got %d AADSTS%d, want %d AADSTS%d: %v", status, errorCode(m), tt.wantStatus, tt.wantCode, m)
			}
		})
	}
}

// TestJWKSVerifiesToken checks a token the way a relying party would: discovery document,
// then jwks_uri, then the key whose kid the token names, then the RS256 signature.
func TestJWKSVerifiesToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.appToken(t)

	var conf struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	getJSON(t, e.ts.URL+"/common/v2.0/.well-known/openid-configuration", &conf)
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	getJSON(t, conf.JWKSURI, &set)
	for _, alt := range []string{"/discovery/keys", "/" + testTenant + "/discovery/keys", "/organizations/discovery/v2.0/keys"} {
		var other struct {
			Keys []map[string]string `json:"keys"`
		}
		getJSON(t, e.ts.URL+alt, &other)
		if diff := cmp.Diff(set, other); diff != "" {
			t.Errorf("%s differs from jwks_uri (-jwks_uri +%s):\n%s", alt, alt, diff)
		}
	}
	if len(set.Keys) != 1 {
		t.Fatalf("want one key, got %v", set.Keys)
	}
	k := set.Keys[0]
	for member, want := range map[string]string{"kty": "RSA", "use": "sig", "alg": "RS256"} {
		if k[member] != want {
			t.Errorf("key %s = %q, want %q", member, k[member], want)
		}
	}

	parts := strings.Split(tok, ".")
	var hdr map[string]string
	hraw, _ := b64.DecodeString(parts[0])
	if err := json.Unmarshal(hraw, &hdr); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"alg": "RS256", "typ": "JWT", "kid": k["kid"]}, hdr); diff != "" {
		t.Errorf("token header (-want +got):\n%s", diff)
	}

	n, errN := b64.DecodeString(k["n"])
	exp, errE := b64.DecodeString(k["e"])
	if errN != nil || errE != nil || len(n) != 256 {
		t.Fatalf("bad modulus or exponent n=%q e=%q", k["n"], k["e"])
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(exp).Int64())}
	sig, _ := b64.DecodeString(parts[2])
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
		t.Fatalf("token signature does not verify with the published key: %v", err)
	}
	if iss := payload(t, tok)["iss"]; iss != conf.Issuer {
		t.Errorf("token iss %v, discovery issuer %s", iss, conf.Issuer)
	}
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func TestChallenge(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, &fakeClock{t: testStart})
	r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080/api/data/v9.2/WhoAmI", nil)
	got := s.Challenge(r, "http://127.0.0.1:8080")
	want := "Bearer authorization_uri=http://127.0.0.1:8080/" + testTenant + "/oauth2/authorize, resource_id=http://127.0.0.1:8080/"
	if got != want {
		t.Errorf("Challenge = %q, want %q", got, want)
	}
}
