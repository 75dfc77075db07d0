package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
)

// tokenServer is a fake identity-platform token endpoint. Each call answers with the next entry of
// answers (the last one repeats) and records the form it received.
type tokenServer struct {
	srv     *httptest.Server
	mu      sync.Mutex
	forms   []url.Values
	answers []tokenAnswer
}

type tokenAnswer struct {
	status int
	body   string
}

func issued(token string, expiresIn int) tokenAnswer {
	return tokenAnswer{200, fmt.Sprintf(`{"token_type":"Bearer","expires_in":%d,"access_token":%q}`, expiresIn, token)}
}

func newTokenServer(t *testing.T, answers ...tokenAnswer) *tokenServer {
	t.Helper()
	ts := &tokenServer{answers: answers}
	ts.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		ts.mu.Lock()
		ts.forms = append(ts.forms, r.PostForm)
		a := ts.answers[min(len(ts.forms), len(ts.answers))-1]
		ts.mu.Unlock()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(a.status)
		fmt.Fprint(w, a.body)
	}))
	t.Cleanup(ts.srv.Close)
	return ts
}

func (ts *tokenServer) url() string { return ts.srv.URL + "/tenant/oauth2/v2.0/token" }

func (ts *tokenServer) calls() []url.Values {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]url.Values(nil), ts.forms...)
}

// bearers lists the Authorization headers the fake Dataverse saw.
func bearers(f *fakeDataverse) []string {
	var out []string
	for _, s := range f.requests() {
		out = append(out, s.Header.Get("Authorization"))
	}
	return out
}

func okWhoAmI(w http.ResponseWriter, r *http.Request, n int) {
	reply(w, 200, `{"UserId":"`+userID+`","BusinessUnitId":"b","OrganizationId":"o"}`)
}

func TestClientCredentialsTokenFetchedOnce(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, issued("cc-token-1", 3600))
	f := newFake(t, okWhoAmI)
	c, err := New(f.srv.URL+"/", WithClientCredentials(ts.url(), "app-id", "app-secret"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, _, err := c.WhoAmI(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	calls := ts.calls()
	if len(calls) != 1 {
		t.Fatalf("token endpoint called %d times for 20 requests, want 1", len(calls))
	}
	want := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {"app-id"},
		"client_secret": {"app-secret"},
		"scope":         {f.srv.URL + "/.default"},
	}
	if diff := cmp.Diff(want, calls[0]); diff != "" {
		t.Errorf("token request form (-want +got):\n%s", diff)
	}
	for _, b := range bearers(f) {
		if b != "Bearer cc-token-1" {
			t.Fatalf("Authorization = %q, want Bearer cc-token-1", b)
		}
	}
}

func TestClientCredentialsTokenRefreshedAfterExpiry(t *testing.T) {
	t.Parallel()
	// A 1-second token is already inside x/oauth2's early-expiry window, so it is stale at once.
	ts := newTokenServer(t, issued("short-lived", 1), issued("long-lived", 3600))
	f := newFake(t, okWhoAmI)
	c, err := New(f.srv.URL, WithClientCredentials(ts.url(), "app-id", "app-secret", "custom/scope", "offline_access"))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, _, err := c.WhoAmI(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	calls := ts.calls()
	if len(calls) != 2 {
		t.Fatalf("token endpoint called %d times, want 2", len(calls))
	}
	if got := calls[1].Get("scope"); got != "custom/scope offline_access" {
		t.Errorf("scope = %q", got)
	}
	want := []string{"Bearer short-lived", "Bearer long-lived", "Bearer long-lived"}
	if diff := cmp.Diff(want, bearers(f)); diff != "" {
		t.Errorf("Authorization headers (-want +got):\n%s", diff)
	}
}

func TestClientCredentialsTokenEndpointError(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, tokenAnswer{401, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]}`})
	f := newFake(t, okWhoAmI)
	c, err := New(f.srv.URL, WithClientCredentials(ts.url(), "app-id", "wrong-secret"))
	if err != nil {
		t.Fatal(err)
	}
	_, resp, err := c.WhoAmI(context.Background())
	var te *TokenError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v (%T), want *TokenError", err, err)
	}
	got := struct {
		Status            int
		Code, Description string
	}{te.StatusCode, te.Code, te.Description}
	want := struct {
		Status            int
		Code, Description string
	}{401, "invalid_client", "AADSTS7000215: Invalid client secret provided."}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("token error (-want +got):\n%s", diff)
	}
	const msg = "dataverse: fetch access token: 401: invalid_client: AADSTS7000215: Invalid client secret provided."
	if err.Error() != msg {
		t.Errorf("message = %q, want %q", err.Error(), msg)
	}
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Errorf("the *oauth2.RetrieveError is not reachable through errors.As")
	}
	if resp != nil || f.count() != 0 {
		t.Errorf("API reached (%d requests) after a token failure", f.count())
	}
	// Token failures are final even under a retry policy.
	c2, _ := New(f.srv.URL, WithClientCredentials(ts.url(), "app-id", "wrong-secret"), WithRetry(RetryPolicy{MaxRetries: 3}))
	if _, _, err := c2.WhoAmI(context.Background()); !errors.As(err, &te) {
		t.Fatalf("err = %v", err)
	}
	if n := len(ts.calls()); n != 2 {
		t.Errorf("token endpoint called %d times, want 2 (one per client, no retries)", n)
	}
}

func TestAuthorizationCodeRefresh(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t,
		tokenAnswer{200, `{"token_type":"Bearer","expires_in":1,"access_token":"refreshed-1","refresh_token":"rt-2"}`},
		tokenAnswer{200, `{"token_type":"Bearer","expires_in":3600,"access_token":"refreshed-2"}`},
	)
	f := newFake(t, okWhoAmI)
	cfg := &oauth2.Config{
		ClientID: "public-app",
		Endpoint: oauth2.Endpoint{TokenURL: ts.url(), AuthStyle: oauth2.AuthStyleInParams},
		Scopes:   UserScopes(f.srv.URL),
	}
	// An expired token: the first request must redeem the refresh token.
	start := &oauth2.Token{AccessToken: "old", RefreshToken: "rt-1", Expiry: timeInPast()}
	c, err := New(f.srv.URL, WithAuthorizationCode(cfg, start))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, _, err := c.WhoAmI(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	var refreshTokens []string
	for _, form := range ts.calls() {
		if form.Get("grant_type") != "refresh_token" {
			t.Errorf("grant_type = %q", form.Get("grant_type"))
		}
		refreshTokens = append(refreshTokens, form.Get("refresh_token"))
	}
	// The rotated refresh token replaces the first one.
	if diff := cmp.Diff([]string{"rt-1", "rt-2"}, refreshTokens); diff != "" {
		t.Errorf("refresh tokens sent (-want +got):\n%s", diff)
	}
	want := []string{"Bearer refreshed-1", "Bearer refreshed-2", "Bearer refreshed-2"}
	if diff := cmp.Diff(want, bearers(f)); diff != "" {
		t.Errorf("Authorization headers (-want +got):\n%s", diff)
	}
}

func TestAuthorizationCodeExpiredWithoutRefreshToken(t *testing.T) {
	t.Parallel()
	f := newFake(t, okWhoAmI)
	cfg := &oauth2.Config{ClientID: "app", Endpoint: oauth2.Endpoint{TokenURL: "http://127.0.0.1:1/token"}}
	c, err := New(f.srv.URL, WithAuthorizationCode(cfg, &oauth2.Token{AccessToken: "old", Expiry: timeInPast()}))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.WhoAmI(context.Background())
	var te *TokenError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "offline_access") {
		t.Fatalf("err = %v, want a *TokenError mentioning offline_access", err)
	}
}

func TestAuthCodeFlowPKCE(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, tokenAnswer{200, `{"token_type":"Bearer","expires_in":3600,"access_token":"user-token","refresh_token":"rt"}`})
	cfg := &oauth2.Config{
		ClientID:    "public-app",
		RedirectURL: "http://localhost/callback",
		Endpoint: oauth2.Endpoint{
			AuthURL: "https://login.example/tenant/oauth2/v2.0/authorize", TokenURL: ts.url(),
			AuthStyle: oauth2.AuthStyleInParams,
		},
		Scopes: UserScopes("https://org.crm.dynamics.com/"),
	}
	flow, err := NewAuthCodeFlow(cfg)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(flow.AuthCodeURL(oauth2.SetAuthURLParam("prompt", "select_account")))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	checks := map[string]string{
		"response_type":         "code",
		"client_id":             "public-app",
		"state":                 flow.State,
		"code_challenge_method": "S256",
		"code_challenge":        oauth2.S256ChallengeFromVerifier(flow.Verifier),
		"scope":                 "https://org.crm.dynamics.com/user_impersonation offline_access",
		"prompt":                "select_account",
		"redirect_uri":          "http://localhost/callback",
	}
	for k, v := range checks {
		if q.Get(k) != v {
			t.Errorf("authorize %s = %q, want %q", k, q.Get(k), v)
		}
	}
	if q.Has("code_verifier") {
		t.Error("the verifier leaked into the authorize URL")
	}

	if _, err := flow.Exchange(context.Background(), "the-code", "forged"); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("state mismatch: err = %v", err)
	}
	if len(ts.calls()) != 0 {
		t.Fatal("a forged state reached the token endpoint")
	}
	tok, err := flow.Exchange(context.Background(), "the-code", flow.State)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "user-token" || tok.RefreshToken != "rt" {
		t.Errorf("token = %+v", tok)
	}
	form := ts.calls()[0]
	if form.Get("grant_type") != "authorization_code" || form.Get("code") != "the-code" || form.Get("code_verifier") != flow.Verifier {
		t.Errorf("exchange form = %v", form)
	}
}

// countingSource counts how often it is asked for a token.
type countingSource struct {
	mu sync.Mutex
	n  int
}

func (s *countingSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	return &oauth2.Token{AccessToken: fmt.Sprintf("src-%d", s.n), Expiry: timeInFuture()}, nil
}

func TestWithTokenSourceCaches(t *testing.T) {
	t.Parallel()
	f := newFake(t, okWhoAmI)
	src := &countingSource{}
	c, err := New(f.srv.URL, WithTokenSource(src))
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, _, err := c.WhoAmI(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if src.n != 1 {
		t.Errorf("token source asked %d times, want 1", src.n)
	}
	if got := bearers(f)[4]; got != "Bearer src-1" {
		t.Errorf("Authorization = %q", got)
	}
}

func TestTokenWaitIsCancellable(t *testing.T) {
	t.Parallel()
	block := make(chan struct{})
	entered := make(chan struct{})
	slow := &cachedTokens{sem: make(chan struct{}, 1)}
	slow.fetch = func(ctx context.Context) (*oauth2.Token, error) {
		close(entered)
		<-block
		return &oauth2.Token{AccessToken: "late"}, nil
	}
	slow.reuse = oauth2.ReuseTokenSource(nil, fetchAdapter{slow})
	go slow.token(context.Background())
	<-entered
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := slow.token(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled while another caller fetches", err)
	}
	close(block)
}
