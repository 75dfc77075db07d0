package client

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// tokenProvider hands out the access token for an API request.
type tokenProvider interface {
	token(ctx context.Context) (*oauth2.Token, error)
}

// cachedTokens keeps one token in an oauth2.ReuseTokenSource and, when it has expired, fetches a new
// one with the context of the request that needs it. x/oauth2 token sources bind a context when they
// are built; binding the request's context instead keeps token calls cancellable and avoids a
// context.Background() in library code.
type cachedTokens struct {
	// sem admits one caller at a time; waiting for it is cancellable, unlike a mutex.
	sem chan struct{}
	// ctx is the context of the caller holding sem, read by fetchAdapter.
	ctx   context.Context
	fetch func(ctx context.Context) (*oauth2.Token, error)
	reuse oauth2.TokenSource
	hc    *http.Client
}

func newCachedTokens(initial *oauth2.Token, hc *http.Client, fetch func(ctx context.Context) (*oauth2.Token, error)) *cachedTokens {
	t := &cachedTokens{sem: make(chan struct{}, 1), fetch: fetch, hc: hc}
	t.reuse = oauth2.ReuseTokenSource(initial, fetchAdapter{t})
	return t
}

func (t *cachedTokens) token(ctx context.Context) (*oauth2.Token, error) {
	select {
	case t.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("dataverse: wait for access token: %w", ctx.Err())
	}
	defer func() { <-t.sem }()
	if t.hc != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, t.hc)
	}
	t.ctx = ctx
	defer func() { t.ctx = nil }()
	tok, err := t.reuse.Token()
	if err != nil {
		return nil, newTokenError(err)
	}
	return tok, nil
}

// fetchAdapter is the oauth2.TokenSource behind the ReuseTokenSource; it only runs while its owner
// holds sem.
type fetchAdapter struct{ t *cachedTokens }

func (a fetchAdapter) Token() (*oauth2.Token, error) { return a.t.fetch(a.t.ctx) }

// WithClientCredentials authenticates as an application user with the OAuth 2.0 client credentials
// grant (golang.org/x/oauth2/clientcredentials), the way a service or a CI job connects. tokenURL is the
// identity platform's token endpoint, such as
// https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token (or the emulator's). Without scopes the
// scope is <org>/.default. The client ID and secret are sent in the form body, as Microsoft documents.
// The token is fetched on first use and reused until shortly before it expires.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/authenticate-oauth
func WithClientCredentials(tokenURL, clientID, clientSecret string, scopes ...string) Option {
	return func(s *settings) error {
		if tokenURL == "" || clientID == "" {
			return fmt.Errorf("client: WithClientCredentials needs a token URL and a client ID: %w", ErrInvalidInput)
		}
		s.credentials = append(s.credentials, func(org string, hc *http.Client) (tokenProvider, error) {
			cfg := &clientcredentials.Config{
				ClientID:     clientID,
				ClientSecret: clientSecret,
				TokenURL:     tokenURL,
				Scopes:       scopes,
				AuthStyle:    oauth2.AuthStyleInParams,
			}
			if len(cfg.Scopes) == 0 {
				cfg.Scopes = []string{DefaultScope(org)}
			}
			return newCachedTokens(nil, hc, cfg.Token), nil
		})
		return nil
	}
}

// WithAuthorizationCode authenticates as a user with a token obtained through the OAuth 2.0
// authorization code flow (see AuthCodeFlow). tok is used until it expires; then its refresh token is
// redeemed through cfg.Endpoint.TokenURL, and a rotated refresh token replaces the old one. Without a
// refresh token (the offline_access scope was not requested) an expired token is an error.
func WithAuthorizationCode(cfg *oauth2.Config, tok *oauth2.Token) Option {
	return func(s *settings) error {
		if cfg == nil || tok == nil {
			return fmt.Errorf("client: WithAuthorizationCode needs a config and a token: %w", ErrInvalidInput)
		}
		s.credentials = append(s.credentials, func(_ string, hc *http.Client) (tokenProvider, error) {
			last := tok
			refresh := func(ctx context.Context) (*oauth2.Token, error) {
				// Only called with the cache's semaphore held, so last needs no lock of its own.
				if last.RefreshToken == "" {
					return nil, errors.New("access token expired and there is no refresh token (request the offline_access scope)")
				}
				next, err := cfg.TokenSource(ctx, last).Token()
				if err != nil {
					return nil, err
				}
				last = next
				return next, nil
			}
			return newCachedTokens(tok, hc, refresh), nil
		})
		return nil
	}
}

// WithTokenSource authenticates with tokens from ts. Tokens are cached in an oauth2.ReuseTokenSource,
// so ts is only asked again once the cached token has expired.
func WithTokenSource(ts oauth2.TokenSource) Option {
	return func(s *settings) error {
		if ts == nil {
			return fmt.Errorf("client: WithTokenSource(nil): %w", ErrInvalidInput)
		}
		s.credentials = append(s.credentials, func(string, *http.Client) (tokenProvider, error) {
			return newCachedTokens(nil, nil, func(context.Context) (*oauth2.Token, error) { return ts.Token() }), nil
		})
		return nil
	}
}

// WithStaticToken authenticates every request with the same bearer token, which is never refreshed.
func WithStaticToken(token string) Option {
	return func(s *settings) error {
		if token == "" {
			return fmt.Errorf("client: WithStaticToken needs a token: %w", ErrInvalidInput)
		}
		s.credentials = append(s.credentials, func(string, *http.Client) (tokenProvider, error) {
			return staticToken{&oauth2.Token{AccessToken: token, TokenType: "Bearer"}}, nil
		})
		return nil
	}
}

type staticToken struct{ t *oauth2.Token }

func (s staticToken) token(context.Context) (*oauth2.Token, error) { return s.t, nil }

// DefaultScope returns the scope an application asks for to call the Web API of the org at orgURL:
// <org>/.default.
func DefaultScope(orgURL string) string {
	return strings.TrimRight(orgURL, "/") + "/.default"
}

// UserScopes returns the scopes a delegated (user) client asks for: <org>/user_impersonation and
// offline_access, without which no refresh token is issued and the user must sign in again hourly.
func UserScopes(orgURL string) []string {
	return []string{strings.TrimRight(orgURL, "/") + "/user_impersonation", "offline_access"}
}

// TokenError reports a failure to obtain an access token. Code and Description carry the identity
// platform's error and error_description (such as "invalid_client" and "AADSTS7000215: Invalid client
// secret provided. ...") when the token endpoint answered with them.
type TokenError struct {
	// StatusCode is the token endpoint's HTTP status, or 0 when it was not reached.
	StatusCode int
	// Code is the OAuth 2.0 error code.
	Code string
	// Description is the human-readable error_description.
	Description string
	// Err is the underlying error, often an *oauth2.RetrieveError.
	Err error
}

// Error implements error.
func (e *TokenError) Error() string {
	var b strings.Builder
	b.WriteString("dataverse: fetch access token")
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, ": %d", e.StatusCode)
	}
	switch {
	case e.Code != "" && e.Description != "":
		fmt.Fprintf(&b, ": %s: %s", e.Code, e.Description)
	case e.Code != "":
		fmt.Fprintf(&b, ": %s", e.Code)
	case e.Err != nil:
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *TokenError) Unwrap() error { return e.Err }

func newTokenError(err error) error {
	var te *TokenError
	if errors.As(err, &te) {
		return err
	}
	te = &TokenError{Err: err}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		te.Code = re.ErrorCode
		te.Description = re.ErrorDescription
		if re.Response != nil {
			te.StatusCode = re.Response.StatusCode
		}
		if te.Code == "" && te.StatusCode != 0 {
			te.Code = http.StatusText(te.StatusCode)
		}
	}
	return te
}

// AuthCodeFlow runs the OAuth 2.0 authorization code flow with PKCE (S256) for a user who signs in
// through a browser:
//
//	flow, err := client.NewAuthCodeFlow(cfg) // cfg.Scopes: client.UserScopes(org)
//	http.Redirect(w, r, flow.AuthCodeURL(), http.StatusFound)
//	// ... on the redirect URI:
//	tok, err := flow.Exchange(ctx, r.URL.Query().Get("code"), r.URL.Query().Get("state"))
//	c, err := client.New(org, client.WithAuthorizationCode(cfg, tok))
//
// The same steps with x/oauth2 directly are oauth2.GenerateVerifier, cfg.AuthCodeURL(state,
// oauth2.S256ChallengeOption(v)) and cfg.Exchange(ctx, code, oauth2.VerifierOption(v)). A flow is for
// one sign-in; keep it (or its Verifier and State) between the redirect and the exchange.
type AuthCodeFlow struct {
	// Config is the application's OAuth 2.0 configuration.
	Config *oauth2.Config
	// Verifier is the PKCE code verifier; only its S256 challenge leaves the process before Exchange.
	Verifier string
	// State is the anti-forgery value echoed back on the redirect.
	State string
}

// NewAuthCodeFlow starts a sign-in for cfg with a fresh PKCE verifier and a random state.
func NewAuthCodeFlow(cfg *oauth2.Config) (*AuthCodeFlow, error) {
	if cfg == nil {
		return nil, fmt.Errorf("client: NewAuthCodeFlow(nil): %w", ErrInvalidInput)
	}
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("client: generate OAuth state: %w", err)
	}
	return &AuthCodeFlow{
		Config:   cfg,
		Verifier: oauth2.GenerateVerifier(),
		State:    base64.RawURLEncoding.EncodeToString(b[:]),
	}, nil
}

// AuthCodeURL returns the authorize URL to send the user's browser to, carrying the state and the PKCE
// challenge; opts add parameters such as oauth2.SetAuthURLParam("prompt", "select_account").
func (f *AuthCodeFlow) AuthCodeURL(opts ...oauth2.AuthCodeOption) string {
	opts = append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.Verifier)}, opts...)
	return f.Config.AuthCodeURL(f.State, opts...)
}

// Exchange checks that state is the one this flow sent, then redeems code together with the PKCE
// verifier. The HTTP client comes from ctx (oauth2.HTTPClient), as in x/oauth2.
func (f *AuthCodeFlow) Exchange(ctx context.Context, code, state string) (*oauth2.Token, error) {
	if state != f.State {
		return nil, fmt.Errorf("client: OAuth state mismatch (possible forged redirect): %w", ErrInvalidInput)
	}
	if code == "" {
		return nil, fmt.Errorf("client: empty authorization code: %w", ErrInvalidInput)
	}
	tok, err := f.Config.Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return nil, newTokenError(err)
	}
	return tok, nil
}
