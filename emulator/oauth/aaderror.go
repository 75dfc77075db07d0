package oauth

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/dynlocal/dynlocal/emulator/model"
)

// aadError is an OAuth error as the Microsoft identity platform reports it: the RFC 6749 error
// code plus an AADSTS number and message. status is the HTTP status the token endpoint uses.
//
// Entra: https://learn.microsoft.com/entra/identity-platform/reference-error-codes
type aadError struct {
	status int
	code   string // invalid_request, invalid_client, invalid_grant, ...
	aadsts int
	msg    string // the text after "AADSTSnnnn: "
}

func (e *aadError) Error() string { return fmt.Sprintf("%s: AADSTS%d: %s", e.code, e.aadsts, e.msg) }

// errorBody is the JSON body of a token endpoint error.
type errorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
	Timestamp        string `json:"timestamp"`
	TraceID          string `json:"trace_id"`
	CorrelationID    string `json:"correlation_id"`
	ErrorURI         string `json:"error_uri"`
}

// aadTimestamp is the layout Entra uses in error bodies ("2026-03-01 12:00:00Z").
const aadTimestamp = "2006-01-02 15:04:05Z"

// describe fills the ids and the description Entra builds from them. The correlation id is the
// client's client-request-id header when it sent a GUID, as Entra echoes it.
func (s *Server) describe(r *http.Request, e *aadError) errorBody {
	trace := s.cfg.NewID()
	corr := r.Header.Get("client-request-id")
	if !model.IsGUID(corr) {
		corr = s.cfg.NewID()
	}
	ts := s.cfg.Now().UTC().Format(aadTimestamp)
	return errorBody{
		Error: e.code,
		ErrorDescription: fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s",
			e.aadsts, e.msg, trace, corr, ts),
		ErrorCodes:    []int{e.aadsts},
		Timestamp:     ts,
		TraceID:       trace,
		CorrelationID: corr,
		ErrorURI:      fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", e.aadsts),
	}
}

// writeError answers with e as Entra's JSON error body.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, e *aadError) {
	body := s.describe(r, e)
	w.Header().Set("x-ms-request-id", body.TraceID)
	if r.Header.Get("client-request-id") != "" {
		w.Header().Set("client-request-id", r.Header.Get("client-request-id"))
	}
	writeJSON(w, e.status, body)
}

// writeErrorPage answers a browser request that cannot be redirected (no usable redirect_uri,
// unknown tenant) with a plain-text page, as Entra shows an error page instead of redirecting.
func (s *Server) writeErrorPage(w http.ResponseWriter, r *http.Request, e *aadError) {
	body := s.describe(r, e)
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("x-ms-request-id", body.TraceID)
	w.WriteHeader(e.status)
	fmt.Fprintf(w, "Sign-in failed: %s\r\n\r\n%s\r\n", body.Error, body.ErrorDescription)
}

// errorParams are the redirect parameters of an authorize error (RFC 6749 section 4.1.2.1).
func (s *Server) errorParams(r *http.Request, e *aadError, state string) url.Values {
	body := s.describe(r, e)
	v := url.Values{
		"error":             {body.Error},
		"error_description": {body.ErrorDescription},
		"error_uri":         {body.ErrorURI},
	}
	if state != "" {
		v.Set("state", state)
	}
	return v
}

// writeJSON writes v with the no-caching headers RFC 6749 section 5.1 asks of token responses.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "oauth: encode response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// The errors more than one endpoint gives.

func errMissing(param string) *aadError {
	return &aadError{http.StatusBadRequest, "invalid_request", 900144,
		fmt.Sprintf("The request body must contain the following parameter: '%s'.", param)}
}

// errMalformed is Entra's catch-all for a request it cannot make sense of; detail says why.
func errMalformed(detail string) *aadError {
	return &aadError{http.StatusBadRequest, "invalid_request", 9002313,
		"Invalid request. Request is malformed or invalid. " + detail}
}

func (s *Server) errUnknownClient(id string) *aadError {
	return &aadError{http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf(
		"Application with identifier '%s' was not found in the directory '%s'. This can happen if the application "+
			"has not been installed by the administrator of the tenant or consented to by any user in the tenant. "+
			"You may have sent your authentication request to the wrong tenant.", id, s.cfg.TenantID)}
}
