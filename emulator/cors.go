package emulator

import (
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// CORS: browser code on another origin (a single-page app on http://localhost:3000, a Power Apps
// code component) calls the Web API and the identity endpoints (MSAL fetches the token, discovery
// and key endpoints cross-origin too). The admin API is left out: it is for test harnesses and
// tools, not for browser code.
//
// What the middleware does, for a request that carries an Origin header:
//
//   - A preflight (OPTIONS with Access-Control-Request-Method) is answered here and never reaches
//     the handlers, so it needs no token. From an allowed origin: 204 with the origin echoed in
//     Access-Control-Allow-Origin (never "*": the answer also says
//     Access-Control-Allow-Credentials), the methods, the headers Dataverse clients send plus any
//     the browser asks for, and a max age. From an origin that is not allowed: 403 with a
//     plain-text reason and no Access-Control-* header at all. Either a missing
//     Access-Control-Allow-Origin or a status outside 2xx makes the browser fail the preflight,
//     and so the real request is never sent; the 403 also makes the refusal plain in the
//     browser's network panel and in curl, and it is logged with the origin.
//   - Any other request (OPTIONS without Access-Control-Request-Method included) goes to the
//     handlers as usual; from an allowed origin its answer, errors included, carries
//     Access-Control-Allow-Origin and Access-Control-Expose-Headers so the script can read the
//     status, body and Dataverse's headers. From another origin it is served without CORS headers
//     (a same-origin form post carries an Origin too); the browser then keeps the answer from the
//     script.
//
// Requests without Origin are not touched.

// corsAllowedMethods are the methods a preflight may ask for.
const corsAllowedMethods = "GET, POST, PATCH, PUT, DELETE, OPTIONS"

// corsAllowedHeaders are the request headers Dataverse clients send; a preflight's
// Access-Control-Request-Headers are allowed on top of them.
var corsAllowedHeaders = []string{
	"Authorization", "Content-Type", "Accept", "OData-MaxVersion", "OData-Version", "Prefer",
	"If-Match", "If-None-Match", "MSCRMCallerID", "CallerObjectId", "Content-ID",
	"MSCRM.SuppressDuplicateDetection", "MSCRM.BypassCustomPluginExecution",
	"MSCRM.SolutionUniqueName", "MSCRM.MergeLabels", "x-ms-client-request-id", "x-ms-app-name",
}

// corsExposedHeaders are the response headers browser code may read besides the safelisted
// ones. Access-Control-Expose-Headers takes no patterns, so Dataverse's x-ms-ratelimit-* headers
// are named one by one.
const corsExposedHeaders = "OData-EntityId, OData-Version, ETag, Preference-Applied, Location, Retry-After, " +
	"WWW-Authenticate, Content-Type, x-ms-ratelimit-burst-remaining-xrm-requests, " +
	"x-ms-ratelimit-time-remaining-xrm-requests, x-ms-request-id, client-request-id, REQ_ID"

// corsMaxAge is how long (seconds) a browser may keep a preflight answer: two hours, the most
// Chromium honours. Caching is harmless: an origin refused later still gets no
// Access-Control-Allow-Origin on the real answer.
const corsMaxAge = "7200"

// corsPolicy is which origins may call: Config.CORSOrigins, parsed once.
type corsPolicy struct {
	any      bool            // "*"
	loopback bool            // nil list: http(s)://localhost, 127.0.0.1 or [::1], any port
	origins  map[string]bool // normalised origins
}

// newCORSPolicy parses the configured origins. Entries that are not origins are logged and skipped.
func newCORSPolicy(list []string, log *slog.Logger) corsPolicy {
	if list == nil {
		return corsPolicy{loopback: true}
	}
	p := corsPolicy{origins: map[string]bool{}}
	for _, o := range list {
		o = strings.TrimSpace(o)
		switch {
		case o == "":
		case o == "*":
			p.any = true
		default:
			// A trailing slash is forgiven in the configuration (a pasted URL); a path is not.
			n, ok := normaliseOrigin(strings.TrimSuffix(o, "/"))
			if !ok {
				log.Warn("CORS: ignoring an entry that is not an origin (want scheme://host[:port] or *)", slog.String("entry", o))
				continue
			}
			p.origins[n] = true
		}
	}
	return p
}

// allows reports whether the Origin header value origin may call.
func (p corsPolicy) allows(origin string) bool {
	if p.any {
		return true
	}
	n, host, ok := parseOrigin(origin)
	if !ok {
		return false // "null" and anything malformed
	}
	if p.loopback {
		return host == "localhost" || host == "127.0.0.1" || host == "::1"
	}
	return p.origins[n]
}

// normaliseOrigin returns origin as scheme://host[:port] with scheme and host in lower case and
// the scheme's default port dropped, or false when it is not an http or https origin.
func normaliseOrigin(origin string) (string, bool) {
	n, _, ok := parseOrigin(origin)
	return n, ok
}

// parseOrigin is normaliseOrigin, also returning the host name (without brackets).
func parseOrigin(origin string) (normalised, host string, ok bool) {
	u, err := url.Parse(origin)
	if err != nil || u.Opaque != "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return "", "", false
	}
	scheme := strings.ToLower(u.Scheme)
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if host == "" {
		return "", "", false
	}
	switch {
	case scheme == "http" && port == "80", scheme == "https" && port == "443":
		port = ""
	case scheme != "http" && scheme != "https":
		return "", "", false
	}
	switch {
	case port != "":
		return scheme + "://" + net.JoinHostPort(host, port), host, true
	case strings.Contains(host, ":"):
		return scheme + "://[" + host + "]", host, true
	}
	return scheme + "://" + host, host, true
}

// corsMiddleware returns the CORS middleware for the configured origins (see the top of this file).
func (s *Server) corsMiddleware() func(http.Handler) http.Handler {
	p := newCORSPolicy(s.cfg.CORSOrigins, s.log)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			origin := r.Header.Get("Origin")
			if origin == "" {
				next.ServeHTTP(w, r)
				return
			}
			h := w.Header()
			allowed := p.allows(origin)
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				h.Add("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
				if !allowed {
					s.log.Info("CORS preflight refused: origin not allowed (see --cors-origins)",
						slog.String("origin", origin), slog.String("path", r.URL.Path))
					h.Set("Content-Type", "text/plain; charset=utf-8")
					h.Set("X-Content-Type-Options", "nosniff")
					w.WriteHeader(http.StatusForbidden)
					_, _ = w.Write([]byte("dynlocal: CORS origin not allowed; start the emulator with --cors-origins naming it\n"))
					return
				}
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Access-Control-Allow-Credentials", "true")
				h.Set("Access-Control-Allow-Methods", corsAllowedMethods)
				h.Set("Access-Control-Allow-Headers", allowHeaders(r.Header.Values("Access-Control-Request-Headers")))
				h.Set("Access-Control-Max-Age", corsMaxAge)
				if strings.EqualFold(r.Header.Get("Access-Control-Request-Private-Network"), "true") {
					// Chromium's Private Network Access: a public page calling the emulator on
					// localhost asks this first.
					h.Set("Access-Control-Allow-Private-Network", "true")
				}
				w.WriteHeader(http.StatusNoContent)
				return
			}
			h.Add("Vary", "Origin")
			if allowed {
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Access-Control-Allow-Credentials", "true")
				h.Set("Access-Control-Expose-Headers", corsExposedHeaders)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// allowHeaders is Access-Control-Allow-Headers: the headers clients send, then those the
// preflight asks for (comma-separated, perhaps over several lines) that are not among them.
// Names compare case-insensitively; what is not a header name is dropped.
func allowHeaders(requested []string) string {
	out := append([]string(nil), corsAllowedHeaders...)
	seen := make(map[string]bool, len(out))
	for _, n := range out {
		seen[strings.ToLower(n)] = true
	}
	for _, line := range requested {
		for _, n := range strings.Split(line, ",") {
			n = strings.TrimSpace(n)
			if n == "" || !isToken(n) || seen[strings.ToLower(n)] {
				continue
			}
			seen[strings.ToLower(n)] = true
			out = append(out, n)
		}
	}
	return strings.Join(out, ", ")
}

// isToken reports whether s is an HTTP token (RFC 9110 section 5.6.2), as header names are.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return s != ""
}
