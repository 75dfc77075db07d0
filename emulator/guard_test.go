package emulator_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dynlocal/dynlocal/emulator"
)

// send sends a request with the Host header host ("" for the URL's) and the header pairs given,
// and returns the status and body.
func send(t *testing.T, method, u, host string, headers ...string) (int, []byte) {
	t.Helper()
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader("")
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// errorMessage is the message of a Dataverse error envelope, or "" when b is not one.
func errorMessage(b []byte) string {
	var env struct {
		Error struct {
			Code    *string `json:"code"`
			Message string  `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &env) != nil || env.Error.Code == nil {
		return ""
	}
	return env.Error.Message
}

func TestHostCheck(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, emulator.Config{Hosts: []string{"dynlocal.test"}, OrgURL: "https://org.crm.dynamics.com"})
	port := e.url[strings.LastIndex(e.url, ":")+1:]
	token := e.url + "/" + emulator.DefaultTenantID + "/oauth2/v2.0/token"
	tests := []struct {
		name, method, url, host string
		want                    int
	}{
		{"foreign host, reset", http.MethodPost, e.url + "/_emulator/reset", "evil.example", http.StatusMisdirectedRequest},
		{"foreign host with port, health", http.MethodGet, e.url + "/_emulator/health", "evil.example:" + port, http.StatusMisdirectedRequest},
		{"foreign host, token endpoint", http.MethodPost, token, "evil.example", http.StatusMisdirectedRequest},
		{"foreign host, Web API", http.MethodGet, e.api + "WhoAmI", "evil.example", http.StatusMisdirectedRequest},
		{"foreign host, root", http.MethodGet, e.url + "/", "evil.example", http.StatusMisdirectedRequest},
		{"foreign host, environment", http.MethodGet, e.url + "/env/x/_emulator/health", "evil.example", http.StatusMisdirectedRequest},
		{"localhost", http.MethodGet, e.url + "/_emulator/health", "localhost:" + port, http.StatusOK},
		{"IPv6 loopback", http.MethodGet, e.url + "/_emulator/health", "[::1]:" + port, http.StatusOK},
		{"configured host", http.MethodGet, e.url + "/_emulator/health", "DynLocal.test:" + port, http.StatusOK},
		{"org URL host", http.MethodGet, e.url + "/", "org.crm.dynamics.com", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := send(t, tt.method, tt.url, tt.host, "Authorization", "Bearer "+e.token)
			if status != tt.want {
				t.Fatalf("status %d, want %d: %s", status, tt.want, body)
			}
			if tt.want == http.StatusMisdirectedRequest && !strings.Contains(errorMessage(body), "--host") {
				t.Errorf("body %s: want a Dataverse error naming --host", body)
			}
		})
	}
}

func TestAdminRefusesOtherOrigins(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if st, b := send(t, http.MethodPost, e.url+"/_emulator/environments", ""); st != http.StatusCreated {
		t.Fatalf("create environment: %d %s", st, b)
	}
	tests := []struct {
		name, path, origin string
		want               int
	}{
		{"other origin", "/_emulator/reset", "http://evil.example", http.StatusForbidden},
		{"loopback page on another port", "/_emulator/reset", "http://localhost:1", http.StatusForbidden},
		{"null origin", "/_emulator/reset", "null", http.StatusForbidden},
		{"other origin, environment", "/env/" + firstEnvironment(t, e) + "/_emulator/reset", "http://evil.example", http.StatusForbidden},
		{"other origin, health", "/_emulator/health", "http://evil.example", http.StatusOK},
		{"own origin", "/_emulator/reset", e.url, http.StatusNoContent},
		{"no origin", "/_emulator/reset", "", http.StatusNoContent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := http.MethodPost
			if strings.HasSuffix(tt.path, "health") {
				method = http.MethodGet
			}
			var h []string
			if tt.origin != "" {
				h = []string{"Origin", tt.origin}
			}
			status, body := send(t, method, e.url+tt.path, "", h...)
			if status != tt.want {
				t.Fatalf("status %d, want %d: %s", status, tt.want, body)
			}
			if tt.want == http.StatusForbidden && errorMessage(body) == "" {
				t.Errorf("body %s: want a Dataverse error", body)
			}
		})
	}
	// The Web API still answers pages of allowed origins (CORS).
	if r := e.do(http.MethodGet, "WhoAmI", nil, "Origin", "http://localhost:3000"); r.Status != http.StatusOK {
		t.Errorf("WhoAmI from a loopback page: %d", r.Status)
	}
}

// firstEnvironment is the name of an environment of e.
func firstEnvironment(t *testing.T, e *env) string {
	t.Helper()
	names := e.srv.Environments()
	if len(names) == 0 {
		t.Fatal("no environment")
	}
	return names[0].Name
}

func TestAdminToken(t *testing.T) {
	t.Parallel()
	const secret = "s3cret-admin"
	e := newEnvWith(t, emulator.Config{AdminToken: secret})
	auth := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
	if st, b := send(t, http.MethodPost, e.url+"/_emulator/environments", "", auth(secret)...); st != http.StatusCreated {
		t.Fatalf("create environment with the token: %d %s", st, b)
	}
	envReset := "/env/" + firstEnvironment(t, e) + "/_emulator/reset"
	tests := []struct {
		name, method, path string
		headers            []string
		want               int
	}{
		{"reset without token", http.MethodPost, "/_emulator/reset", nil, http.StatusUnauthorized},
		{"reset with the API token", http.MethodPost, "/_emulator/reset", auth(e.token), http.StatusUnauthorized},
		{"reset with the admin token", http.MethodPost, "/_emulator/reset", auth(secret), http.StatusNoContent},
		{"requests without token", http.MethodGet, "/_emulator/requests", nil, http.StatusUnauthorized},
		{"environments without token", http.MethodPost, "/_emulator/environments", nil, http.StatusUnauthorized},
		{"environment reset without token", http.MethodPost, envReset, nil, http.StatusUnauthorized},
		{"environment reset with the token", http.MethodPost, envReset, auth(secret), http.StatusNoContent},
		{"health without token", http.MethodGet, "/_emulator/health", nil, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := send(t, tt.method, e.url+tt.path, "", tt.headers...)
			if status != tt.want {
				t.Fatalf("status %d, want %d: %s", status, tt.want, body)
			}
			if tt.want == http.StatusUnauthorized && !strings.Contains(errorMessage(body), "--admin-token") {
				t.Errorf("body %s: want a Dataverse error naming --admin-token", body)
			}
		})
	}
}

func TestListenNotLoopback(t *testing.T) {
	t.Parallel()
	srv, err := emulator.New(context.Background(), emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := srv.Listen("0.0.0.0:0"); !errors.Is(err, emulator.ErrAdminTokenRequired) {
		t.Fatalf("Listen(0.0.0.0:0) without an admin token: %v, want ErrAdminTokenRequired", err)
	}
	srv2, err := emulator.New(context.Background(), emulator.Config{AdminToken: "t"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.Close()
	if err := srv2.Listen("0.0.0.0:0"); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(srv2.URL())
	if err != nil || u.Hostname() != "127.0.0.1" {
		t.Fatalf("URL %q: want the loopback URL of the port", srv2.URL())
	}
	if st, b := send(t, http.MethodGet, srv2.URL()+"/_emulator/health", ""); st != http.StatusOK {
		t.Fatalf("health at %s: %d %s", srv2.URL(), st, b)
	}
}

func TestConnectionLimit(t *testing.T) {
	defer emulator.SetOverflowGrace(200 * time.Millisecond)()
	const max = 20
	srv, err := emulator.New(context.Background(), emulator.Config{MaxConnections: max})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(srv.URL(), "http://")
	// Hundreds of idle connections, as a client that never reuses or closes them leaves.
	var idle []net.Conn
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	for range 300 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		idle = append(idle, c)
	}
	// A fresh client (no connection of its own to reuse) is told to come back...
	client := func() *http.Client {
		return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	}
	resp, err := client().Get(srv.URL() + "/api/data/v9.2/WhoAmI")
	if err != nil {
		t.Fatalf("Web API request over the limit: %v, want a 503 answer", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || errorMessage(b) == "" || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("Web API request over the limit: %d %s %v, want 503 with a Dataverse error and Retry-After", resp.StatusCode, b, resp.Header)
	}
	// ...while health answers, once the connections over the limit that sent nothing are gone.
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := client().Get(srv.URL() + "/_emulator/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("health never answered 200 with %d idle connections open: %v", len(idle), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
