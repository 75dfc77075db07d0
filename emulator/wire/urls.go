package wire

import (
	"net/http"
	"strings"
)

// Origin is the scheme and host the client used, so URLs in responses point back where it came from.
func Origin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p
	}
	return scheme + "://" + r.Host
}

// APIVersion is the Web API version a path names ("v9.2" in /api/data/v9.2/accounts), "" when it
// is not a Web API path of this service.
func APIVersion(path string) string {
	rest, ok := strings.CutPrefix(path, "/api/data/")
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, "/")
	switch v {
	case "v9.0", "v9.1", "v9.2":
		return v
	}
	return ""
}

// APIBase is the service root the client used, with a trailing slash.
func APIBase(r *http.Request) string {
	v := APIVersion(r.URL.Path)
	if v == "" {
		v = "v9.2"
	}
	return Origin(r) + "/api/data/" + v + "/"
}
