package emulator_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/dynlocal/dynlocal/emulator"
)

// TestRedirectURIs checks that Config.RedirectURIs reaches the sign-in endpoint: a configured
// URI and a loopback one get a code, any other URI the AADSTS50011 error page.
func TestRedirectURIs(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, emulator.Config{RedirectURIs: []string{"https://app.example.test/signin-oidc"}})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tests := []struct {
		uri  string
		want int
	}{
		{"https://app.example.test/signin-oidc", http.StatusFound},
		{"http://localhost:8765/callback", http.StatusFound},
		{"https://other.example.test/signin-oidc", http.StatusBadRequest},
	}
	for _, tt := range tests {
		q := url.Values{
			"client_id": {emulator.DefaultClientID}, "response_type": {"code"}, "redirect_uri": {tt.uri},
			"scope": {e.url + "/user_impersonation"},
		}
		resp, err := noRedirect.Get(e.url + "/" + emulator.DefaultTenantID + "/oauth2/v2.0/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: status %d, want %d", tt.uri, resp.StatusCode, tt.want)
		}
	}
}
