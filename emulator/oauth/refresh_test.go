package oauth

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// userTokens runs the code flow for scope and returns the token response.
func (e *env) userTokens(t *testing.T, scope string) map[string]any {
	t.Helper()
	status, m := e.post(t, redeemForm(e.code(t, authQuery(scope))), nil)
	if status != http.StatusOK {
		t.Fatalf("redeem: %d %v", status, m)
	}
	return m
}

func refreshForm(rt string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "client_id": {testClient}, "refresh_token": {rt}}
}

func TestRefreshRotation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rt1, _ := e.userTokens(t, e.ts.URL+"/user_impersonation offline_access openid")["refresh_token"].(string)
	if rt1 == "" {
		t.Fatal("no refresh token with offline_access")
	}

	e.clock.Advance(2 * time.Hour) // the first access token is long expired
	status, m := e.post(t, refreshForm(rt1), nil)
	if status != http.StatusOK {
		t.Fatalf("refresh: %d %v", status, m)
	}
	rt2, _ := m["refresh_token"].(string)
	if rt2 == "" || rt2 == rt1 {
		t.Fatalf("refresh token not rotated: %q then %q", rt1, rt2)
	}
	if m["id_token"] == nil || payload(t, m["id_token"].(string))["nonce"] != nil {
		t.Errorf("refreshed id token missing or carries a nonce: %v", m["id_token"])
	}
	c, err := e.srv.Verify(m["access_token"].(string), []string{e.ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	if !c.IssuedAt.Equal(testStart.Add(2*time.Hour)) || c.ObjectID != testHuman.ObjectID {
		t.Errorf("refreshed claims %+v", c)
	}

	status, m = e.post(t, refreshForm(rt1), nil)
	if got := fmt.Sprintf("%d %v %d", status, m["error"], errorCode(m)); got != "400 invalid_grant 70000" {
		t.Errorf("old refresh token: got %s, want 400 invalid_grant 70000", got)
	}

	// A scope on the refresh moves the grant to another resource; the client still needs no
	// secret, as a public client.
	f := refreshForm(rt2)
	f.Set("scope", "https://org.crm.dynamics.com/user_impersonation")
	status, m = e.post(t, f, nil)
	if status != http.StatusOK || m["refresh_token"] == nil || m["id_token"] != nil {
		t.Fatalf("refresh with scope: %d %v", status, m)
	}
	if _, err := e.srv.Verify(m["access_token"].(string), []string{"https://org.crm.dynamics.com"}); err != nil {
		t.Errorf("token for the new resource: %v", err)
	}
}

func TestRefreshErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		before     func(e *env)
		edit       func(url.Values)
		wantStatus int
		wantError  string
		wantCode   int
	}{
		{name: "expired after inactivity", before: func(e *env) { e.clock.Advance(refreshLifetime) },
			wantStatus: 400, wantError: "invalid_grant", wantCode: 700082},
		{name: "wrong secret", edit: func(f url.Values) { f.Set("client_secret", "nope") },
			wantStatus: 401, wantError: "invalid_client", wantCode: 7000215},
		{name: "unknown client", edit: func(f url.Values) { f.Set("client_id", "22222222-2222-2222-2222-222222222222") },
			wantStatus: 400, wantError: "unauthorized_client", wantCode: 700016},
		{name: "bad scope", edit: func(f url.Values) { f.Set("scope", "https://a.example/x https://b.example/x") },
			wantStatus: 400, wantError: "invalid_scope", wantCode: 28000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			rt := e.userTokens(t, e.ts.URL+"/user_impersonation offline_access")["refresh_token"].(string)
			if tt.before != nil {
				tt.before(e)
			}
			f := refreshForm(rt)
			if tt.edit != nil {
				tt.edit(f)
			}
			status, m := e.post(t, f, nil)
			got := fmt.Sprintf("%d %v %d", status, m["error"], errorCode(m))
			if want := fmt.Sprintf("%d %s %d", tt.wantStatus, tt.wantError, tt.wantCode); got != want {
				t.Fatalf("got %s, want %s\n%v", got, want, m["error_description"])
			}
			checkErrorBody(t, m)
		})
	}
}

func TestRefreshTokenOnlyWithOfflineAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.userTokens(t, e.ts.URL+"/user_impersonation openid")
	if m["refresh_token"] != nil {
		t.Errorf("refresh token without offline_access: %v", m)
	}
}

func TestTimeSpan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0.00:00:00"},
		{90 * 24 * time.Hour, "90.00:00:00"},
		{25*time.Hour + 2*time.Minute + 3500*time.Millisecond, "1.01:02:03"},
	}
	for _, tt := range tests {
		if got := timeSpan(tt.d); got != tt.want {
			t.Errorf("timeSpan(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
