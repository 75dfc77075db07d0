package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// request is one logical call: the typed actions, Do and (later) queries and batches all build one and
// hand it to send, which adds the standard headers and the token, retries and turns error statuses
// into *Error.
type request struct {
	method      string
	url         string      // absolute
	header      http.Header // call-specific headers, over the defaults
	body        []byte      // nil: no body
	contentType string      // Content-Type of body, unless header sets one
	retry       *RetryPolicy
	timeout     time.Duration // budget shared by all attempts; 0: none
}

const jsonContentType = "application/json; charset=utf-8"

// apiRequest builds a request for a path relative to the API root.
func (c *Client) apiRequest(method, path string, q query) *request {
	u := c.apiBase + path
	if len(q) > 0 {
		u += "?" + q.encode()
	}
	return &request{method: method, url: u, header: http.Header{}}
}

// setJSON marshals v as the JSON body. HTML characters are not escaped: FetchXML and descriptions
// should arrive as written.
func (r *request) setJSON(v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("client: encode %s %s body: %v: %w", r.method, redactURL(r.url), err, ErrInvalidInput)
	}
	r.body = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	r.contentType = jsonContentType
	return nil
}

// prefer adds one preference to the request's Prefer header (several are joined with commas).
func (r *request) prefer(p string) {
	if cur := r.header.Get("Prefer"); cur != "" {
		r.header.Set("Prefer", cur+","+p)
		return
	}
	r.header.Set("Prefer", p)
}

// send runs r, retrying as the policy allows, and returns the final response and body. A status of
// 400 or more gives an *Error alongside the response; 304 is not an error.
func (c *Client) send(ctx context.Context, r *request) (*Response, []byte, error) {
	policy := c.retry
	if r.retry != nil {
		policy = *r.retry
	}
	if r.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.timeout)
		defer cancel()
	}
	var retries, throttles int // retries made so far, of 429s and of other failures
	for attempt := 1; ; attempt++ {
		resp, body, err := c.attempt(ctx, r, attempt)
		if err == nil || final(err) || ctx.Err() != nil {
			return resp, body, err
		}
		var wait time.Duration
		var computed bool
		if e := throttled(err); e != nil {
			if throttles >= policy.throttleRetries() {
				return resp, body, err
			}
			throttles++
			wait, computed = policy.throttleDelay(throttles, e)
		} else {
			if !policy.shouldRetry(r.method, retries+1, err) {
				return resp, body, err
			}
			retries++
			wait, computed = policy.delay(retries, err)
		}
		if computed {
			wait = c.jitter(wait)
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			// The budget would run out while waiting; the last answer is more useful than a timeout.
			return resp, body, err
		}
		c.debug(ctx, "dataverse retry", "method", r.method, "url", redactURL(r.url), "attempt", attempt,
			"wait", wait, "reason", errorReason(err))
		if werr := c.sleep(ctx, wait); werr != nil {
			return resp, body, fmt.Errorf("dataverse: %s %s: retry abandoned after %d attempts: %w (last error: %w)",
				r.method, redactURL(r.url), attempt, werr, err)
		}
	}
}

// attempt makes one HTTP exchange.
func (c *Client) attempt(ctx context.Context, r *request, n int) (*Response, []byte, error) {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	hreq, err := http.NewRequestWithContext(ctx, r.method, r.url, body)
	if err != nil {
		return nil, nil, fmt.Errorf("client: build %s request: %v: %w", r.method, err, ErrInvalidInput)
	}
	h := hreq.Header
	h.Set("Accept", "application/json")
	h.Set("OData-MaxVersion", "4.0")
	h.Set("OData-Version", "4.0")
	if c.userAgent != "" {
		h.Set("User-Agent", c.userAgent)
	}
	for k, vs := range r.header {
		h[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
	}
	if r.body != nil && h.Get("Content-Type") == "" && r.contentType != "" {
		h.Set("Content-Type", r.contentType)
	}
	if c.tokens != nil {
		tok, err := c.tokens.token(ctx)
		if err != nil {
			return nil, nil, err
		}
		h.Set("Authorization", "Bearer "+tok.AccessToken)
	}

	start := time.Now()
	hres, err := c.httpClient.Do(hreq)
	if err != nil {
		err = unwrapURLError(err)
		c.debug(ctx, "dataverse request", "method", r.method, "url", redactURL(r.url), "attempt", n,
			"duration", time.Since(start), "error", err.Error())
		return nil, nil, fmt.Errorf("dataverse: %s %s: %w", r.method, redactURL(r.url), err)
	}
	data, err := io.ReadAll(hres.Body)
	hres.Body.Close()
	c.debug(ctx, "dataverse request", "method", r.method, "url", redactURL(r.url), "attempt", n,
		"status", hres.StatusCode, "duration", time.Since(start))
	if err != nil {
		return nil, nil, fmt.Errorf("dataverse: %s %s: read response: %w", r.method, redactURL(r.url), unwrapURLError(err))
	}
	resp := newResponse(hres.StatusCode, hres.Header)
	if hres.StatusCode >= 400 {
		return resp, data, newError(r.method, r.url, hres.StatusCode, hres.Header, data, c.now())
	}
	return resp, data, nil
}

// unwrapURLError drops net/url's wrapper, whose message repeats the URL with its query unredacted.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// errorReason is a short description of a failure for retry logs.
func errorReason(err error) string {
	var apiErr *Error
	if errors.As(err, &apiErr) {
		return fmt.Sprintf("status %d", apiErr.StatusCode)
	}
	return "network error"
}

// sensitiveParams are query and form names whose values never reach a log line or an error string.
var sensitiveParams = map[string]bool{
	"code": true, "client_secret": true, "refresh_token": true, "access_token": true, "id_token": true,
	"password": true, "client_assertion": true, "assertion": true, "code_verifier": true, "token": true,
	"sig": true, "signature": true, "state": true,
}

// redactURL hides the values of sensitive query parameters and any user info.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		// Not parseable: keep only what precedes the query.
		if i := strings.IndexAny(raw, "?#"); i >= 0 {
			return raw[:i] + "?REDACTED"
		}
		return raw
	}
	if u.User != nil {
		u.User = url.User("REDACTED")
	}
	if u.RawQuery == "" {
		return u.String()
	}
	parts := strings.Split(u.RawQuery, "&")
	changed := false
	for i, p := range parts {
		name, _, hasValue := strings.Cut(p, "=")
		key, err := url.QueryUnescape(name)
		if err != nil {
			key = name
		}
		if hasValue && sensitiveParams[strings.ToLower(key)] {
			parts[i] = name + "=REDACTED"
			changed = true
		}
	}
	if changed {
		u.RawQuery = strings.Join(parts, "&")
	}
	return u.String()
}

// debug logs at debug level when a logger is configured.
func (c *Client) debug(ctx context.Context, msg string, args ...any) {
	if c.logger == nil {
		return
	}
	c.logger.DebugContext(ctx, msg, args...)
}

// tokenHTTPClient is the HTTP client for token endpoint calls: the configured one, with exchanges
// logged (method, redacted URL, status, duration; never the form body that holds the secret).
func (c *Client) tokenHTTPClient() *http.Client {
	if c.logger == nil {
		return c.httpClient
	}
	hc := *c.httpClient
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc.Transport = &loggingTransport{base: base, c: c}
	return &hc
}

type loggingTransport struct {
	base http.RoundTripper
	c    *Client
}

func (t *loggingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	res, err := t.base.RoundTrip(req)
	args := []any{"method", req.Method, "url", redactURL(req.URL.String()), "duration", time.Since(start)}
	if err != nil {
		args = append(args, "error", unwrapURLError(err).Error())
	} else {
		args = append(args, "status", res.StatusCode)
	}
	t.c.debug(req.Context(), "dataverse token request", args...)
	return res, err
}
