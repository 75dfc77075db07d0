package emulator

import (
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/wire"
)

// The emulator is a development server with well-known credentials, so it guards itself against
// the two ways a web page in the developer's browser could reach it:
//
//   - DNS rebinding: a page on evil.example makes its own name resolve to 127.0.0.1 and calls the
//     emulator "same-origin". Its requests carry Host: evil.example, so every request whose Host
//     is not a name the emulator serves is answered 421 Misdirected Request (with Dataverse's
//     error envelope) before any handler runs. The names served are the loopback ones
//     (localhost, 127.0.0.0/8, ::1), the listeners' addresses (and, on an unspecified address
//     such as 0.0.0.0, the machine's interface addresses), the host of Config.OrgURL and
//     Config.Hosts.
//   - Cross-origin calls to the admin API: a page elsewhere posting to /_emulator/reset. A
//     request under /_emulator/ that carries an Origin other than the emulator's own is refused
//     with 403. CORS never allows the admin API (see cors.go), but a simple POST needs no
//     preflight, so the refusal has to happen here.
//
// GET /_emulator/health is exempt: it changes nothing and tells nothing secret.
//
// With Config.AdminToken set, every admin request but GET /_emulator/health must also carry
// "Authorization: Bearer <token>"; health stays open so that container health checks and load
// balancers need no secret. Listening on an address that is not loopback requires the token.

// ErrAdminTokenRequired is returned by Listen and ListenTLS for an address that is not loopback
// when Config.AdminToken is empty.
var ErrAdminTokenRequired = errors.New("listening on an address that is not loopback needs an admin token (Config.AdminToken; --admin-token or DYNLOCAL_ADMIN_TOKEN)")

// hostSet is the host names the emulator answers to, beside the loopback ones.
type hostSet struct {
	mu    sync.RWMutex
	names map[string]bool
}

func newHostSet(cfg Config) *hostSet {
	h := &hostSet{names: map[string]bool{}}
	for _, n := range cfg.Hosts {
		h.add(n)
	}
	if cfg.OrgURL != "" {
		if _, host, ok := parseOrigin(originOf(cfg.OrgURL)); ok {
			h.add(host)
		}
	}
	return h
}

// originOf is scheme://host[:port] of a URL, dropping any path.
func originOf(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	return scheme + "://" + rest
}

// add adds a host name or address (a port, brackets and a trailing dot are dropped).
func (h *hostSet) add(name string) {
	name = normaliseHost(name)
	if name == "" {
		return
	}
	h.mu.Lock()
	h.names[name] = true
	h.mu.Unlock()
}

// serves reports whether the Host header value host names this emulator.
func (h *hostSet) serves(host string) bool {
	name := normaliseHost(host)
	if name == "" || name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return true
	}
	if ip := net.ParseIP(name); ip != nil && ip.IsLoopback() {
		return true
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.names[name]
}

// normaliseHost is a Host header value or a configured name in lower case without port,
// brackets or trailing dot.
func normaliseHost(host string) string {
	host = strings.TrimSpace(host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return strings.ToLower(strings.TrimSuffix(host, "."))
}

// addListener records the names a listener on addr can be reached by: its address, or every
// interface address when it is unspecified (0.0.0.0, ::).
func (h *hostSet) addListener(addr net.Addr) {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return
	}
	if !tcp.IP.IsUnspecified() {
		h.add(tcp.IP.String())
		return
	}
	for _, ip := range InterfaceAddrs(tcp.IP.To4() != nil) {
		h.add(ip.String())
	}
}

// InterfaceAddrs lists the machine's non-loopback unicast addresses (IPv4 only when v4only),
// which a listener on an unspecified address is reachable by.
func InterfaceAddrs(v4only bool) []net.IP {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []net.IP
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok || n.IP.IsLoopback() || !n.IP.IsGlobalUnicast() && !n.IP.IsLinkLocalUnicast() {
			continue
		}
		if v4only && n.IP.To4() == nil {
			continue
		}
		out = append(out, n.IP)
	}
	return out
}

// guardHost refuses requests whose Host is not a name the emulator serves, and applies the
// connection limit's answer to connections over it.
func (s *Server) guardHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if overLimit(r.Context()) {
			// A connection above Config.MaxConnections: health answers (from the reserve kept
			// for it), everything else is told to come back; either way the connection closes.
			w.Header().Set("Connection", "close")
			if !isHealthPath(r.URL.Path) {
				w.Header().Set("Retry-After", "1")
				s.writeError(w, r, dverr.New(http.StatusServiceUnavailable, dverr.CodeNone, tooManyConnections))
				return
			}
		}
		if !s.hosts.serves(r.Host) {
			s.log.Warn("request refused: Host is not a name this emulator serves (see --host)",
				"host", r.Host, "path", r.URL.Path)
			s.writeError(w, r, dverr.New(http.StatusMisdirectedRequest, dverr.CodeNone,
				"The host name '%s' is not served by this emulator. Start it with --host %s (or DYNLOCAL_HOSTS) to accept it.",
				r.Host, normaliseHost(r.Host)))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// isHealthPath reports whether path is the health endpoint of the organisation or of an
// environment.
func isHealthPath(path string) bool {
	return path == "/_emulator/health" ||
		strings.HasPrefix(path, envPrefix) && strings.HasSuffix(path, "/_emulator/health") &&
			strings.Count(strings.TrimPrefix(path, envPrefix), "/") == 2
}

// guardAdmin refuses admin requests from another origin's pages and, with Config.AdminToken,
// requests without the token.
func (s *Server) guardAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		health := r.Method == http.MethodGet && r.URL.Path == "/_emulator/health"
		// Health is read-only and its answer carries no CORS header, so a page elsewhere learns
		// nothing from it; it stays open to any Origin.
		if o := r.Header.Get("Origin"); o != "" && !health && !s.ownOrigin(r, o) {
			s.log.Warn("admin request refused: it comes from a page of another origin",
				"origin", o, "path", r.URL.Path)
			s.writeError(w, r, dverr.New(http.StatusForbidden, dverr.CodeNone,
				"The admin API does not answer requests from web pages of other origins (Origin: %s).", o))
			return
		}
		// The console's files hold no data (the page asks for the admin token and sends it with
		// every call it makes), so a browser can load them without a header.
		consoleFile := (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
			(r.URL.Path == consolePath || strings.HasPrefix(r.URL.Path, consolePath+"/"))
		if tok := s.cfg.AdminToken; tok != "" && !health && !consoleFile {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(tok)) != 1 {
				// Unlike the Web API's empty 401, the body says what is missing: the admin API is
				// called by people and scripts, not by Dataverse clients.
				w.Header().Set("WWW-Authenticate", `Bearer realm="dynlocal admin"`)
				wire.WriteJSON(w, http.StatusUnauthorized, wire.ErrorEnvelope{Error: wire.ErrorBody{Code: dverr.CodeNone,
					Message: "The admin API needs the admin token: send 'Authorization: Bearer <token>' with the token given by --admin-token (DYNLOCAL_ADMIN_TOKEN)."}})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// ownOrigin reports whether the Origin header value origin is the emulator's own: the origin the
// request was sent to, one of the listeners' or Config.OrgURL's.
func (s *Server) ownOrigin(r *http.Request, origin string) bool {
	n, ok := normaliseOrigin(origin)
	if !ok {
		return false
	}
	own := []string{wire.HostOrigin(r), s.cfg.OrgURL}
	if s.root != nil {
		own = append(own, s.root.URL(), s.root.TLSURL())
	}
	for _, o := range own {
		if o == "" {
			continue
		}
		if m, ok := normaliseOrigin(originOf(o)); ok && m == n {
			return true
		}
	}
	return false
}

// isLoopbackAddr reports whether a listener on addr is reachable only from this machine.
func isLoopbackAddr(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// listenNetwork is the network to listen on for addr: an IPv4 address such as 0.0.0.0 binds
// IPv4 only ("tcp" would bind every IPv6 address too), an IPv6 address IPv6 only.
func listenNetwork(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "tcp"
	}
	ip := net.ParseIP(host)
	switch {
	case ip == nil:
		return "tcp"
	case ip.To4() != nil:
		return "tcp4"
	}
	return "tcp6"
}

// reachableURL is the URL a listener on addr is reached by from this machine: the loopback
// address of its family in place of an unspecified one.
func reachableURL(scheme string, addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return scheme + "://" + addr.String()
	}
	ip := "127.0.0.1"
	if tcp.IP.To4() == nil {
		ip = "::1"
	}
	return scheme + "://" + net.JoinHostPort(ip, strconv.Itoa(tcp.Port))
}
