package wire

import (
	"net/http"

	"github.com/gorilla/mux"
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

// APIBase is the service root the client used, with a trailing slash.
func APIBase(r *http.Request) string {
	v := mux.Vars(r)["version"]
	if v == "" {
		v = "v9.2"
	}
	return Origin(r) + "/api/data/" + v + "/"
}
