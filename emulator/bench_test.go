package emulator_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/dynlocal/dynlocal/emulator"
)

// serve sends one request straight into the handler (no network) and checks its status.
func serve(b *testing.B, h http.Handler, tok, method, path, body string, want int) *httptest.ResponseRecorder {
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	} else {
		rd = strings.NewReader("")
	}
	// net/http gives every request a context that ends with its connection: so does the benchmark,
	// for the store treats a context that can end differently from one that cannot.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, method, "http://127.0.0.1/api/data/v9.2/"+path, rd)
	req.Host = strings.TrimPrefix(strings.TrimPrefix(tokHost, "http://"), "https://")
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != want {
		b.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
	}
	return rec
}

var tokHost string

func BenchmarkCreate(b *testing.B) {
	h, tok := benchSetup(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		serve(b, h, tok, "POST", "accounts", fmt.Sprintf(`{"name":"bench %d","revenue":1000.5,"numberofemployees":%d}`, i, i), 204)
	}
}

func BenchmarkRetrieveByID(b *testing.B) {
	h, tok := benchSetup(b)
	rec := serve(b, h, tok, "POST", "accounts", `{"name":"bench","revenue":1000.5}`, 204)
	id := idOf(rec.Header().Get("OData-EntityId"))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		serve(b, h, tok, "GET", "accounts("+id+")?$select=name,revenue,numberofemployees", "", 200)
	}
}

// BenchmarkGetByID is the perf kit's W2 in process: one account by id with all its columns, with
// the request journal on (the default, which copies up to 16 KiB of each body) and off.
func BenchmarkGetByID(b *testing.B) {
	for _, tc := range []struct {
		name string
		cfg  emulator.Config
	}{{"Journal", emulator.Config{}}, {"NoJournal", emulator.Config{JournalSize: -1}}} {
		b.Run(tc.name, func(b *testing.B) {
			h, tok := benchSetupWith(b, tc.cfg)
			rec := serve(b, h, tok, "POST", "accounts", `{"name":"bench","revenue":1000.5,"telephone1":"555-0100"}`, 204)
			id := idOf(rec.Header().Get("OData-EntityId"))
			b.ReportAllocs()
			for b.Loop() {
				serve(b, h, tok, "GET", "accounts("+id+")", "", 200)
			}
		})
	}
}

func BenchmarkUpdate(b *testing.B) {
	h, tok := benchSetup(b)
	rec := serve(b, h, tok, "POST", "accounts", `{"name":"bench"}`, 204)
	id := idOf(rec.Header().Get("OData-EntityId"))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		serve(b, h, tok, "PATCH", "accounts("+id+")", fmt.Sprintf(`{"name":"bench %d"}`, i), 204)
	}
}

func benchSetup(b *testing.B) (http.Handler, string) {
	return benchSetupWith(b, emulator.Config{})
}

// benchSetupWith starts a server on a data directory of its own with cfg and returns its handler
// and a token for it.
func benchSetupWith(b *testing.B, cfg emulator.Config) (http.Handler, string) {
	cfg.DataDir = b.TempDir()
	srv, err := emulator.New(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	hs := httptest.NewServer(srv.Handler())
	b.Cleanup(hs.Close)
	tokHost = hs.URL
	e := &env{t: &testing.T{}, url: hs.URL}
	return srv.Handler(), e.clientCredentialsToken(hs.URL + "/.default")
}

func idOf(entityID string) string {
	i := strings.LastIndexByte(entityID, '(')
	return entityID[i+1 : len(entityID)-1]
}

func osTempDir() string { return os.TempDir() }

func pid() int { return os.Getpid() }

// newTokenServer serves srv over loopback so a token can be fetched for its host.
func newTokenServer(srv *emulator.Server) *httptest.Server { return httptest.NewServer(srv.Handler()) }

func serveBatch(b *testing.B, h http.Handler, tok, body, ct string) {
	req := httptest.NewRequest("POST", "http://127.0.0.1/api/data/v9.2/$batch", strings.NewReader(body))
	req.Host = strings.TrimPrefix(tokHost, "http://")
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", ct)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		b.Fatalf("$batch: %d %.300s", rec.Code, rec.Body)
	}
}

// BenchmarkNewInMemory measures a cold start: an in-memory server with the built-in fixtures,
// up to its first healthy answer.
func BenchmarkNewInMemory(b *testing.B) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		srv, err := emulator.New(ctx, emulator.Config{})
		if err != nil {
			b.Fatal(err)
		}
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "http://127.0.0.1/_emulator/health", nil))
		if rec.Code != 200 {
			b.Fatalf("health: %d", rec.Code)
		}
		srv.Close()
	}
}

// BenchmarkReset measures POST /_emulator/reset on a server that has already started.
func BenchmarkReset(b *testing.B) {
	srv, err := emulator.New(context.Background(), emulator.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	h := srv.Handler()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "http://127.0.0.1/_emulator/reset", nil))
		if rec.Code/100 != 2 {
			b.Fatalf("reset: %d %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkEnvironment measures creating an environment through the admin API, answering its first
// request and deleting it, on a server that has loaded the fixtures.
func BenchmarkEnvironment(b *testing.B) {
	srv, err := emulator.New(context.Background(), emulator.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	h := srv.Handler()
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "http://127.0.0.1/_emulator/environments", strings.NewReader(`{"name":"bench"}`)))
		if rec.Code != http.StatusCreated {
			b.Fatalf("create: %d %s", rec.Code, rec.Body)
		}
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "http://127.0.0.1/env/bench/_emulator/health", nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("health: %d", rec.Code)
		}
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("DELETE", "http://127.0.0.1/_emulator/environments/bench", nil))
		if rec.Code != http.StatusNoContent {
			b.Fatalf("delete: %d", rec.Code)
		}
	}
}
