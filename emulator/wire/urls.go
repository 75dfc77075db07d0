package wire

import (
	"context"
	"net/http"
	"strings"
)

// basePathKey is the context key of the path an organisation is served under.
type basePathKey struct{}

// WithBasePath returns ctx for a request to an organisation served under the path prefix p (such as
// "/env/ci-1234", no trailing slash) rather than at the root of the host. The request's URL path
// is then the part after p.
func WithBasePath(ctx context.Context, p string) context.Context {
	return context.WithValue(ctx, basePathKey{}, p)
}

// BasePath is the path prefix the request's organisation is served under, "" for the root.
func BasePath(ctx context.Context) string {
	p, _ := ctx.Value(basePathKey{}).(string)
	return p
}

// Origin is the organisation URL the client used: scheme, host and, for an organisation served
// under a path prefix, that prefix; so URLs in responses point back where the client came from.
func Origin(r *http.Request) string { return HostOrigin(r) + BasePath(r.Context()) }

// HostOrigin is the scheme and host the client used, without any organisation path prefix.
func HostOrigin(r *http.Request) string {
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
