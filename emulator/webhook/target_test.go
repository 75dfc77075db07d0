package webhook

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestDeliveryNeverReachesTheEmulator checks the rule at delivery time: no call to an admin path
// on any host, and no connection to a listener of the emulator however its address is spelled.
func TestDeliveryNeverReachesTheEmulator(t *testing.T) {
	hit := make(chan string, 10)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		hit <- r.URL.Path
	}))
	defer hs.Close()
	h := New(Config{Timeout: 5 * time.Second, Clock: time.Now, NewID: func() string { return "id" }, Log: slog.New(slog.DiscardHandler)})
	defer h.Close()
	_, port, _ := net.SplitHostPort(hs.Listener.Addr().String())
	for _, tc := range []struct{ name, url string }{
		{"admin path", hs.URL + "/_emulator/reset"},
		{"environment admin path", hs.URL + "/env/dev/_EMULATOR/faults"},
		{"cleaned admin path", hs.URL + "/api/../_emulator/reset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, _ := h.deliver(context.Background(), &delivery{step: &Step{Name: "s", Endpoint: Endpoint{URL: tc.url}}, body: []byte("{}")}, 2)
			if rec.Succeeded || !strings.Contains(rec.Error, "admin") {
				t.Errorf("delivery = %+v", rec)
			}
		})
	}
	h.AddListenAddr(hs.Listener.Addr().String())
	for _, u := range []string{hs.URL + "/hook", "http://localhost:" + port + "/hook"} {
		rec, _ := h.deliver(context.Background(), &delivery{step: &Step{Name: "s", Endpoint: Endpoint{URL: u}}, body: []byte("{}")}, 2)
		if rec.Succeeded || !strings.Contains(rec.Error, "emulator itself") {
			t.Errorf("%s: delivery = %+v", u, rec)
		}
	}
	select {
	case p := <-hit:
		t.Errorf("a delivery reached the emulator: %s", p)
	default:
	}
}
