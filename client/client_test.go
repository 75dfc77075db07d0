package client

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
)

func TestNewOrgURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		org     string
		opts    []Option
		wantOrg string
		wantAPI string
		wantErr bool
	}{
		{name: "org root", org: "https://org.crm.dynamics.com", wantOrg: "https://org.crm.dynamics.com", wantAPI: "https://org.crm.dynamics.com/api/data/v9.2/"},
		{name: "trailing slash", org: "https://org.api.crm.dynamics.com/", wantOrg: "https://org.api.crm.dynamics.com", wantAPI: "https://org.api.crm.dynamics.com/api/data/v9.2/"},
		{name: "already the API root", org: "https://org.crm.dynamics.com/api/data/v9.2", wantOrg: "https://org.crm.dynamics.com", wantAPI: "https://org.crm.dynamics.com/api/data/v9.2/"},
		{name: "API root with slash and other version", org: "http://127.0.0.1:8080/api/data/v9.1/", wantOrg: "http://127.0.0.1:8080", wantAPI: "http://127.0.0.1:8080/api/data/v9.2/"},
		{name: "api version option", org: "http://127.0.0.1:8080", opts: []Option{WithAPIVersion("v9.1")}, wantOrg: "http://127.0.0.1:8080", wantAPI: "http://127.0.0.1:8080/api/data/v9.1/"},
		{name: "path prefix kept", org: "http://localhost:9000/org1/", wantOrg: "http://localhost:9000/org1", wantAPI: "http://localhost:9000/org1/api/data/v9.2/"},
		{name: "upper-case scheme", org: "HTTPS://org.crm.dynamics.com", wantOrg: "https://org.crm.dynamics.com", wantAPI: "https://org.crm.dynamics.com/api/data/v9.2/"},
		{name: "empty", org: "", wantErr: true},
		{name: "no scheme", org: "org.crm.dynamics.com", wantErr: true},
		{name: "ftp", org: "ftp://org.crm.dynamics.com", wantErr: true},
		{name: "query", org: "https://org.crm.dynamics.com?x=1", wantErr: true},
		{name: "bad version", org: "https://org.crm.dynamics.com", opts: []Option{WithAPIVersion("latest")}, wantErr: true},
		{name: "two credentials", org: "https://org.crm.dynamics.com", opts: []Option{WithStaticToken("a"), WithStaticToken("b")}, wantErr: true},
		{name: "nil http client", org: "https://org.crm.dynamics.com", opts: []Option{WithHTTPClient(nil)}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := New(tt.org, tt.opts...)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidInput) {
					t.Fatalf("New(%q) err = %v, want ErrInvalidInput", tt.org, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.OrgURL() != tt.wantOrg || c.APIURL() != tt.wantAPI {
				t.Errorf("OrgURL, APIURL = %q, %q; want %q, %q", c.OrgURL(), c.APIURL(), tt.wantOrg, tt.wantAPI)
			}
		})
	}
}

func TestStandardHeaders(t *testing.T) {
	t.Parallel()
	f := newFake(t, okWhoAmI)
	c := newTestClient(t, f, WithUserAgent("contract-suite/1"))
	if _, _, err := c.WhoAmI(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkRequest(t, wantRequest{
		Method: "GET", Path: "/api/data/v9.2/WhoAmI",
		Headers: map[string]string{
			"Accept": "application/json", "OData-MaxVersion": "4.0", "OData-Version": "4.0",
			"Authorization": "Bearer " + testToken, "User-Agent": "contract-suite/1", "Content-Type": "",
		},
	}, f.last(t))
}

func TestNoCredentialsSendsNoAuthorization(t *testing.T) {
	t.Parallel()
	f := newFake(t, okWhoAmI)
	c, err := New(f.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.WhoAmI(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h := f.last(t).Header; h.Values("Authorization") != nil {
		t.Errorf("Authorization = %q, want none", h.Values("Authorization"))
	}
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a slog handler.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestDebugLogHasNoSecrets(t *testing.T) {
	t.Parallel()
	const (
		secret       = "app-secret-Zq9"
		accessToken  = "access-token-Xy7"
		authCode     = "auth-code-Pw3"
		refreshToken = "refresh-token-Lk2"
		formSecret   = "form-secret-Mn5"
	)
	ts := newTokenServer(t, issued(accessToken, 3600))
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			reply(w, 401, "", "WWW-Authenticate", "Bearer x")
			return
		}
		okWhoAmI(w, r, n)
	})
	var buf syncBuffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := New(f.srv.URL, WithClientCredentials(ts.url(), "app-id", secret), WithLogger(logger),
		WithRetry(RetryPolicy{MaxRetries: 1, RetryOn: RetryAllErrors}), (&fakeClock{}).option())
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Do(context.Background(), &RawRequest{
		Method: "POST", Path: "/api/data/v9.2/x?code=" + authCode,
		Query: []KeyValue{{"refresh_token", refreshToken}, {"Client_Secret", formSecret}},
		Form:  []KeyValue{{"client_secret", formSecret}, {"refresh_token", refreshToken}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Do(context.Background(), &RawRequest{Method: "GET", Path: "/api/data/v9.2/y", Query: []KeyValue{{"code", authCode}}})
	if err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, s := range []string{secret, accessToken, authCode, refreshToken, formSecret, "Bearer " + accessToken} {
		if strings.Contains(out, s) {
			t.Errorf("debug log contains %q:\n%s", s, out)
		}
	}
	for _, s := range []string{"dataverse token request", "dataverse request", "dataverse retry", "status=401", "code=REDACTED"} {
		if !strings.Contains(out, s) {
			t.Errorf("debug log lacks %q:\n%s", s, out)
		}
	}
}
