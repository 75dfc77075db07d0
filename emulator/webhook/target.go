package webhook

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"syscall"
	"time"

	"github.com/dynlocal/dynlocal/emulator/dverr"
)

// A webhook may not call the emulator itself: a step posting to the admin API could wipe the
// data, and one posting to the Web API could loop. URLs whose host and port are one of the
// emulator's listeners (or a loopback alias of one) are refused when an endpoint is registered,
// connections to a listener's address are refused when a delivery dials (a name that resolves to
// it included), and no delivery goes to an admin path (/_emulator/...), however it is reached.

// permanentError is a delivery failure that retrying cannot cure.
type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

// selfTargetError refuses a connection to the emulator's own listener.
type selfTargetError struct{}

func (selfTargetError) Error() string {
	return "the webhook URL points at the emulator itself, which webhooks may not call"
}

// AddListenAddr records an address (host:port) the emulator listens on.
func (h *Dispatcher) AddListenAddr(addr string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.listen = append(h.listen, addr)
}

// ListenAddrs returns the addresses recorded by AddListenAddr and those of Config.Self.
func (h *Dispatcher) ListenAddrs() []string {
	h.mu.Lock()
	out := append([]string(nil), h.listen...)
	h.mu.Unlock()
	if h.cfg.Self != nil {
		out = append(out, h.cfg.Self()...)
	}
	return out
}

// CheckURL refuses a service endpoint URL that targets the emulator: one of its listeners, a
// loopback alias of one, requestHost (the host the registering request was sent to), or an
// admin path. It answers Dataverse's 400 with the reason.
func (h *Dispatcher) CheckURL(raw, requestHost string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil // other checks answer for malformed URLs; a delivery to one fails
	}
	refuse := func(why string) error {
		return dverr.New(http.StatusBadRequest, "0x80040203",
			"The webhook URL '%s' is not allowed: %s.", redactedURL(raw), why)
	}
	if isAdminPath(u.Path) {
		return refuse("webhooks may not call the emulator's admin API")
	}
	if requestHost != "" && sameHostPort(u, requestHost) {
		return refuse("it points at the emulator itself")
	}
	host, port := hostPort(u)
	if h.isSelf(host, port) {
		return refuse("it points at the emulator itself")
	}
	return nil
}

// refuseTarget is CheckURL's rule at delivery time, without the DNS-free host comparison the
// dialer makes.
func (h *Dispatcher) refuseTarget(u *url.URL) error {
	if isAdminPath(u.Path) {
		return errors.New("webhooks may not call the emulator's admin API")
	}
	host, port := hostPort(u)
	if h.isSelf(host, port) {
		return selfTargetError{}
	}
	return nil
}

// isAdminPath reports whether p is under /_emulator, at the root or below an environment's
// /env/{name} prefix.
func isAdminPath(p string) bool {
	p = strings.ToLower(path.Clean("/" + p))
	if rest, ok := strings.CutPrefix(p, "/env/"); ok {
		if _, after, found := strings.Cut(rest, "/"); found {
			p = "/" + after
		}
	}
	return p == "/_emulator" || strings.HasPrefix(p, "/_emulator/")
}

// hostPort returns u's host, lower case without brackets or a trailing dot, and its port (the
// scheme's default when absent).
func hostPort(u *url.URL) (string, string) {
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return host, port
}

// sameHostPort compares u's host and port with a Host header's.
func sameHostPort(u *url.URL, hostHeader string) bool {
	r, err := url.Parse(u.Scheme + "://" + hostHeader)
	if err != nil {
		return false
	}
	h1, p1 := hostPort(u)
	h2, p2 := hostPort(r)
	return h1 == h2 && p1 == p2
}

// isSelf reports whether host:port reaches one of the emulator's listeners: the same port and
// the listener's host, a loopback or unspecified address, "localhost", or (for a listener on
// every interface) an address of this machine.
func (h *Dispatcher) isSelf(host, port string) bool {
	ip := net.ParseIP(host)
	for _, la := range h.ListenAddrs() {
		lh, lp, err := net.SplitHostPort(la)
		if err != nil || lp != port {
			continue
		}
		lh = strings.TrimSuffix(strings.ToLower(lh), ".")
		if host == lh || host == "localhost" || strings.HasSuffix(host, ".localhost") {
			return true
		}
		if ip == nil {
			continue
		}
		if ip.IsLoopback() || ip.IsUnspecified() {
			return true
		}
		lip := net.ParseIP(lh)
		if lip != nil && lip.Equal(ip) {
			return true
		}
		if lh == "" || lip != nil && lip.IsUnspecified() {
			if isLocalAddress(ip) {
				return true
			}
		}
	}
	return false
}

func isLocalAddress(ip net.IP) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}

// transport is the HTTP transport of deliveries: the default one, whose dialer refuses to
// connect to the emulator's own listeners once a name has been resolved.
func (h *Dispatcher) transport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			host, port, err := net.SplitHostPort(address)
			if err == nil && h.isSelf(strings.ToLower(host), port) {
				return selfTargetError{}
			}
			return nil
		}}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}
	return t
}
