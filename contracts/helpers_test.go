package contracts

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/dynlocal/dynlocal/emulator"
)

// startEmulator runs an in-process emulator behind an httptest server, its handler wrapped by wrap
// when given, and returns a target with the development credentials.
func startEmulator(t *testing.T, wrap func(http.Handler) http.Handler) Target {
	t.Helper()
	srv, err := emulator.New(context.Background(), emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	if wrap != nil {
		h = wrap(h)
	}
	hs := httptest.NewServer(h)
	t.Cleanup(func() {
		hs.Close()
		srv.Close()
	})
	return Target{
		URL:          hs.URL,
		TokenURL:     hs.URL + "/" + emulator.DefaultTenantID + "/oauth2/v2.0/token",
		ClientID:     emulator.DefaultClientID,
		ClientSecret: emulator.DefaultClientSecret,
		HTTPClient:   hs.Client(),
	}
}

// rewrite is middleware that lets edit change the status and body of answers to requests for which
// match returns true. The body handed to edit is the raw response; its Content-Length is fixed up.
func rewrite(match func(r *http.Request) bool, edit func(r *http.Request, status int, body []byte) (int, []byte)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !match(r) {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			status, body := edit(r, rec.Code, rec.Body.Bytes())
			for k, vs := range rec.Header() {
				w.Header()[k] = vs
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(status)
			w.Write(body)
		})
	}
}

// setJSONField decodes body as an object, sets the dotted path to v and encodes it again.
func setJSONField(t *testing.T, body []byte, path string, v any) []byte {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Errorf("middleware: body is not an object: %v: %s", err, body)
		return body
	}
	cur := m
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := cur[p].(map[string]any)
		if !ok {
			t.Errorf("middleware: no object at %s in %s", p, body)
			return body
		}
		cur = next
	}
	cur[parts[len(parts)-1]] = v
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// suiteWith returns a copy of the built-in suite name reduced to the named cases.
func suiteWith(t *testing.T, name string, cases ...string) *Suite {
	t.Helper()
	s, err := Load("suites/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		return s
	}
	keep := s.Cases[:0:0]
	for _, want := range cases {
		found := false
		for _, c := range s.Cases {
			if c.Name == want {
				keep = append(keep, c)
				found = true
			}
		}
		if !found {
			t.Fatalf("suite %s has no case %q", name, want)
		}
	}
	s.Cases = keep
	return s
}

// mustParse parses a suite written in a test.
func mustParse(t *testing.T, text string) *Suite {
	t.Helper()
	s, err := Parse([]byte(text))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, text)
	}
	return s
}

// authSniffer remembers every bearer token sent through it.
type authSniffer struct {
	base http.RoundTripper
	mu   sync.Mutex
	seen []string
}

func (a *authSniffer) RoundTrip(r *http.Request) (*http.Response, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		a.mu.Lock()
		a.seen = append(a.seen, strings.TrimPrefix(h, "Bearer "))
		a.mu.Unlock()
	}
	return a.base.RoundTrip(r)
}

func (a *authSniffer) tokens() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.seen...)
}
