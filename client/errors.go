package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Sentinel errors matched by *Error through errors.Is, by HTTP status.
var (
	// ErrNotFound matches a 404 Not Found, such as a missing row (code 0x80040217) or an unknown entity set.
	ErrNotFound = errors.New("dataverse: not found")
	// ErrPreconditionFailed matches a 412 Precondition Failed: a stale If-Match ETag, or an
	// If-None-Match: * upsert of a row that exists.
	ErrPreconditionFailed = errors.New("dataverse: precondition failed")
	// ErrUnauthorized matches a 401 Unauthorized: a missing, expired or wrong-audience token.
	ErrUnauthorized = errors.New("dataverse: unauthorized")
	// ErrForbidden matches a 403 Forbidden, such as a missing privilege or a refused impersonation.
	ErrForbidden = errors.New("dataverse: forbidden")
	// ErrTooManyRequests matches a 429 Too Many Requests from the service protection limits; see
	// Error.RetryAfter.
	ErrTooManyRequests = errors.New("dataverse: too many requests")
)

// ErrInvalidInput is wrapped by every error the client raises before sending anything: a malformed key,
// entity set or property name, an option it cannot honour, or a raw request that mixes body kinds.
var ErrInvalidInput = errors.New("invalid input")

// Error is an error response from the Web API. Dataverse bodies have the shape
// {"error":{"code":"0x80040217","message":"..."}}; other bodies (an empty 401, an HTML page from a
// proxy) still give a useful Message.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/compose-http-requests-handle-errors
type Error struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is the Dataverse hex error code, such as "0x80040217"; it may be "" or "0x0", and it is
	// unrelated to the HTTP status.
	Code string
	// Message is the service's message, or the status text when the body has none.
	Message string
	// RetryAfter is the wait the Retry-After header asked for (429 and 503), or 0.
	RetryAfter time.Duration
	// Header is the response header.
	Header http.Header
	// Body is the raw response body.
	Body []byte
	// Method and URL identify the request.
	Method string
	URL    string
}

// Error implements error, as in
// "dataverse: PATCH https://org/api/data/v9.2/accounts(...): 412 0x80060882: The version of ...".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("dataverse: ")
	if e.Method != "" || e.URL != "" {
		fmt.Fprintf(&b, "%s %s: ", e.Method, redactURL(e.URL))
	}
	b.WriteString(strconv.Itoa(e.StatusCode))
	if e.Code != "" {
		b.WriteString(" ")
		b.WriteString(e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Is reports whether target is the sentinel for e's status (ErrNotFound for 404, and so on).
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrPreconditionFailed:
		return e.StatusCode == http.StatusPreconditionFailed
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrTooManyRequests:
		return e.StatusCode == http.StatusTooManyRequests
	}
	return false
}

// errorEnvelope is the Dataverse error body. Some endpoints (and identity-platform style bodies)
// put a string in "error" instead of an object; errorField accepts both.
type errorEnvelope struct {
	Error            errorField `json:"error"`
	ErrorDescription string     `json:"error_description"`
	// OData JSON without the wrapper object.
	Code    *json.RawMessage `json:"code"`
	Message string           `json:"message"`
}

type errorField struct {
	Code    string
	Message string
	Inner   string
}

func (f *errorField) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &f.Code)
	}
	var v struct {
		Code       json.RawMessage `json:"code"`
		Message    string          `json:"message"`
		InnerError *struct {
			Message string `json:"message"`
		} `json:"innererror"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	f.Code = rawString(v.Code)
	f.Message = v.Message
	if v.InnerError != nil {
		f.Inner = v.InnerError.Message
	}
	return nil
}

// rawString renders a JSON code that is usually a string but might be a number.
func rawString(r json.RawMessage) string {
	if len(r) == 0 || string(r) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(r, &s) == nil {
		return s
	}
	return string(r)
}

// newError builds the *Error for a response with status >= 400.
func newError(method, rawURL string, status int, header http.Header, body []byte, now time.Time) *Error {
	e := &Error{
		StatusCode: status,
		Header:     header,
		Body:       body,
		Method:     method,
		URL:        rawURL,
		RetryAfter: parseRetryAfter(header.Get("Retry-After"), now),
	}
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(body, utf8BOM))
	var env errorEnvelope
	if len(trimmed) > 0 && trimmed[0] == '{' && json.Unmarshal(trimmed, &env) == nil {
		switch {
		case env.Error.Code != "" || env.Error.Message != "":
			e.Code = env.Error.Code
			e.Message = env.Error.Message
			if e.Message == "" {
				e.Message = env.ErrorDescription
			}
			if e.Message == "" {
				e.Message = env.Error.Inner
			}
		case env.Message != "":
			e.Code = rawString(derefRaw(env.Code))
			e.Message = env.Message
		}
	} else if len(trimmed) > 0 && utf8.Valid(trimmed) {
		e.Message = oneLine(string(trimmed), 200)
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	if status == http.StatusUnauthorized {
		if wa := header.Get("WWW-Authenticate"); wa != "" {
			e.Message += " (WWW-Authenticate: " + wa + ")"
		}
	}
	return e
}

func derefRaw(r *json.RawMessage) json.RawMessage {
	if r == nil {
		return nil
	}
	return *r
}

// oneLine squeezes whitespace runs into single spaces and cuts s to at most n bytes, so that an HTML
// error page does not flood an error string.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// parseRetryAfter reads a Retry-After value: delay seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		const maxSecs = int64(1<<63-1) / int64(time.Second)
		return time.Duration(min(secs, maxSecs)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
