package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// DefaultAPIVersion is the Web API version used unless WithAPIVersion says otherwise.
const DefaultAPIVersion = "9.2"

// DefaultUserAgent is the User-Agent sent unless WithUserAgent says otherwise.
const DefaultUserAgent = "dynlocal-go-client"

// Client talks to one Dataverse organisation. It is safe for concurrent use.
type Client struct {
	org        *url.URL // org root, no trailing slash, no /api/data suffix
	orgString  string
	apiBase    string // <org>/api/data/v<version>/
	apiVersion string
	httpClient *http.Client
	tokens     tokenProvider // nil: requests carry no Authorization header
	logger     *slog.Logger  // nil: no logging
	userAgent  string
	retry      RetryPolicy

	// Hooks replaced by tests so that delays are observed, not waited for, and come out the same on
	// every run.
	sleep  func(ctx context.Context, d time.Duration) error
	now    func() time.Time
	jitter func(d time.Duration) time.Duration
}

// Option configures a Client in New.
type Option func(*settings) error

// settings collects options before New assembles the Client, so that options can come in any order
// (the HTTP client used for token calls may be given after the credentials).
type settings struct {
	httpClient  *http.Client
	apiVersion  string
	logger      *slog.Logger
	userAgent   string
	retry       RetryPolicy
	credentials []credential
	sleep       func(ctx context.Context, d time.Duration) error
	now         func() time.Time
	jitter      func(d time.Duration) time.Duration
}

// credential builds a token provider once the org URL and HTTP client are known.
type credential func(org string, hc *http.Client) (tokenProvider, error)

// New returns a Client for the organisation at orgURL, which is the org root such as
// https://org.crm.dynamics.com or http://127.0.0.1:8080. A trailing slash is ignored, and so is a path
// that already ends in the Web API root (/api/data/v9.2), a mistake the Prismatic component turns into
// a doubled path.
//
// Without a credential option requests carry no Authorization header, which only an unauthenticated
// probe wants; Dataverse answers everything else with 401.
func New(orgURL string, opts ...Option) (*Client, error) {
	org, err := normalizeOrgURL(orgURL)
	if err != nil {
		return nil, err
	}
	s := settings{apiVersion: DefaultAPIVersion, userAgent: DefaultUserAgent}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&s); err != nil {
			return nil, err
		}
	}
	if len(s.credentials) > 1 {
		return nil, fmt.Errorf("client: %d credential options given, want at most one: %w", len(s.credentials), ErrInvalidInput)
	}
	hc := s.httpClient
	if hc == nil {
		hc = &http.Client{Transport: newTransport()}
	}
	c := &Client{
		org:        org,
		orgString:  org.String(),
		apiVersion: s.apiVersion,
		httpClient: hc,
		logger:     s.logger,
		userAgent:  s.userAgent,
		retry:      s.retry,
		sleep:      s.sleep,
		now:        s.now,
		jitter:     s.jitter,
	}
	c.apiBase = c.orgString + "/api/data/v" + c.apiVersion + "/"
	if c.sleep == nil {
		c.sleep = sleepContext
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.jitter == nil {
		c.jitter = equalJitter
	}
	if len(s.credentials) == 1 {
		tp, err := s.credentials[0](c.orgString, c.tokenHTTPClient())
		if err != nil {
			return nil, err
		}
		c.tokens = tp
	}
	return c, nil
}

// OrgURL returns the organisation root the client was built with, without a trailing slash.
func (c *Client) OrgURL() string { return c.orgString }

// APIURL returns the Web API root, such as https://org.crm.dynamics.com/api/data/v9.2/ (with the
// trailing slash). Relative resource paths are resolved against it.
func (c *Client) APIURL() string { return c.apiBase }

// apiVersionSuffix matches a Web API root at the end of a configured org URL.
var apiVersionSuffix = regexp.MustCompile(`(?i)/api/data(/v\d+(\.\d+)?)?$`)

func normalizeOrgURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("client: org URL %q: %w", raw, errors.Join(ErrInvalidInput, err))
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: org URL %q must be an absolute http or https URL such as https://org.crm.dynamics.com: %w", raw, ErrInvalidInput)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("client: org URL %q must not carry user info, a query or a fragment: %w", raw, ErrInvalidInput)
	}
	p := strings.TrimRight(u.Path, "/")
	p = strings.TrimRight(apiVersionSuffix.ReplaceAllString(p, ""), "/")
	return &url.URL{Scheme: strings.ToLower(u.Scheme), Host: u.Host, Path: p}, nil
}

// WithHTTPClient sets the HTTP client used for API and token requests. The default is an http.Client
// with its own copy of http.DefaultTransport, so that code closing the shared transport's idle
// connections (httptest.Server.Close does) cannot break this client's requests. Deadlines come from the
// request contexts and RawRequest.Timeout.
func WithHTTPClient(hc *http.Client) Option {
	return func(s *settings) error {
		if hc == nil {
			return fmt.Errorf("client: WithHTTPClient(nil): %w", ErrInvalidInput)
		}
		s.httpClient = hc
		return nil
	}
}

func newTransport() http.RoundTripper {
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		return t.Clone()
	}
	return http.DefaultTransport
}

// apiVersionPattern matches a version such as 9.2 (a leading v is accepted by WithAPIVersion).
var apiVersionPattern = regexp.MustCompile(`^\d+\.\d+$`)

// WithAPIVersion sets the Web API version used in the API root, such as "9.2" (the default) or "9.1".
// A leading "v" is accepted.
func WithAPIVersion(v string) Option {
	return func(s *settings) error {
		v = strings.TrimPrefix(strings.TrimSpace(v), "v")
		if !apiVersionPattern.MatchString(v) {
			return fmt.Errorf("client: API version %q: want a version such as 9.2: %w", v, ErrInvalidInput)
		}
		s.apiVersion = v
		return nil
	}
}

// WithLogger makes the client log each HTTP exchange (API and token endpoint) at debug level: method,
// URL, status, duration and attempt. Headers and bodies are never logged, and query values that can
// hold secrets (code, client_secret, refresh_token, access_token, ...) are redacted from logged URLs.
func WithLogger(l *slog.Logger) Option {
	return func(s *settings) error {
		s.logger = l
		return nil
	}
}

// WithUserAgent sets the User-Agent header of API requests (default DefaultUserAgent).
func WithUserAgent(ua string) Option {
	return func(s *settings) error {
		s.userAgent = ua
		return nil
	}
}

// WithRetry sets the retry policy applied to every request that does not carry its own
// (RawRequest.Retry). The default, the zero RetryPolicy, retries only 429 Too Many Requests answers
// (DefaultThrottleRetries times, after the Retry-After the service sent).
func WithRetry(p RetryPolicy) Option {
	return func(s *settings) error {
		if err := p.validate(); err != nil {
			return err
		}
		s.retry = p
		return nil
	}
}

// withClock replaces the client's sleep and clock; tests use it to observe retry delays without
// waiting for them.
func withClock(sleep func(ctx context.Context, d time.Duration) error, now func() time.Time) Option {
	return func(s *settings) error {
		s.sleep = sleep
		s.now = now
		return nil
	}
}

// withJitter replaces the random spread of computed retry delays; tests use it to make the delays
// they record predictable.
func withJitter(jitter func(d time.Duration) time.Duration) Option {
	return func(s *settings) error {
		s.jitter = jitter
		return nil
	}
}
