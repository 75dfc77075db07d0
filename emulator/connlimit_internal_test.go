package emulator

import (
	"context"
	"testing"
)

// The listeners' servers time out slow headers, whole requests and idle keep-alive connections.
func TestHTTPServerTimeouts(t *testing.T) {
	s, err := New(context.Background(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv := s.newHTTPServer()
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.WriteTimeout <= 0 || srv.IdleTimeout <= 0 {
		t.Errorf("timeouts: header %v, read %v, write %v, idle %v; want all set",
			srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout)
	}
	if srv.WriteTimeout < srv.ReadHeaderTimeout || srv.WriteTimeout < s.cfg.WebhookTimeout {
		t.Errorf("write timeout %v is shorter than a webhook call may take (%v)", srv.WriteTimeout, s.cfg.WebhookTimeout)
	}
}
