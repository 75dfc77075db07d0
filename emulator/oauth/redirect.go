package oauth

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// checkRedirectURIs rejects a configured redirect URI the authorize endpoint could never match.
func checkRedirectURIs(uris []string) error {
	for _, raw := range uris {
		if _, e := parseRedirectURI(raw); e != nil {
			return fmt.Errorf("oauth: Config.RedirectURIs: %q is not an absolute http or https URL without a fragment", raw)
		}
	}
	return nil
}

// redirectAllowed reports whether the authorize endpoint may send a code to u. As the identity
// platform does for native apps, loopback http URLs are accepted with any port; the emulator
// also accepts any path on them, so local tools need no registration. Other URLs must equal a
// configured one (host case aside); the port of a configured loopback URL does not count.
//
// Entra: https://learn.microsoft.com/entra/identity-platform/reply-url
func (s *Server) redirectAllowed(u *url.URL) bool {
	if u.Scheme == "http" && isLoopback(u.Hostname()) {
		return true
	}
	for _, raw := range s.cfg.RedirectURIs {
		r, err := url.Parse(raw)
		if err != nil {
			continue
		}
		sameHost := strings.EqualFold(r.Host, u.Host)
		if isLoopback(r.Hostname()) {
			sameHost = strings.EqualFold(r.Hostname(), u.Hostname())
		}
		if sameHost && r.Scheme == u.Scheme && r.EscapedPath() == u.EscapedPath() && r.RawQuery == u.RawQuery {
			return true
		}
	}
	return false
}

// isLoopback reports whether host names the local machine the way native apps' redirect URIs do.
func isLoopback(host string) bool {
	return strings.EqualFold(host, "localhost") || host == "127.0.0.1" || host == "::1"
}

// errRedirectMismatch is Entra's answer to a redirect URI the app does not have; the
// authorize endpoint shows it on its error page and never redirects to such a URI.
func errRedirectMismatch(uri, clientID string) *aadError {
	return &aadError{http.StatusBadRequest, "invalid_request", 50011, fmt.Sprintf(
		"The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application "+
			"'%s'. Make sure the redirect URI sent in the request matches one added to your application. dynlocal accepts "+
			"http://localhost, http://127.0.0.1 and http://[::1] on any port and path, and the URIs given with --redirect-uri.",
		uri, clientID)}
}
