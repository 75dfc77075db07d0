package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"sort"
	"strings"
	"time"
)

// ResponseType says how Do decodes a response body.
type ResponseType int

const (
	// ResponseJSON decodes the body into RawResponse.JSON (numbers as json.Number). A body that is not
	// JSON and not labelled as JSON, such as the text/plain answer of $count, lands in JSON as a string;
	// a body labelled JSON that does not parse is an error.
	ResponseJSON ResponseType = iota
	// ResponseText puts the body in RawResponse.Text.
	ResponseText
	// ResponseBytes leaves the body in RawResponse.Body only.
	ResponseBytes
)

// RawRequest is any Web API call, for what the typed methods do not cover.
// At most one kind of body may be given: JSON, Body, Form or Multipart.
type RawRequest struct {
	// Method is the HTTP method, such as GET or POST.
	Method string
	// Path is relative to the org root, such as /api/data/v9.2/accounts?$select=name, or an absolute
	// URL on the org's host (such as an @odata.nextLink). A query already in Path is kept, and
	// characters a request line cannot carry (spaces, for instance) are percent-encoded. Absolute URLs
	// on another host are refused, so that the access token never leaves for a foreign server.
	Path string
	// Query parameters are appended in order after any query in Path.
	Query []KeyValue
	// Header holds extra headers. They override the defaults (Accept, OData-*), but not the
	// Authorization of a client that has credentials.
	Header http.Header
	// JSON is marshalled as the body, with Content-Type application/json; charset=utf-8.
	JSON any
	// Body is sent as it is, with ContentType (or a Content-Type in Header). Without either, a body
	// that is valid JSON is labelled application/json; anything else goes without a Content-Type.
	Body        []byte
	ContentType string
	// Form is sent url-encoded (application/x-www-form-urlencoded), fields in order.
	Form []KeyValue
	// Multipart is sent as multipart/form-data.
	Multipart *Multipart
	// ResponseType selects the decoding of the answer; the default is ResponseJSON.
	ResponseType ResponseType
	// Timeout bounds the whole call, retries and the waits between them included; 0 leaves it to
	// ctx. A retry that cannot finish its wait within the budget is skipped and the last answer
	// returned.
	Timeout time.Duration
	// Retry overrides the client's retry policy for this call.
	Retry *RetryPolicy
}

// Multipart is a multipart/form-data body: plain fields first, then files, each in order.
type Multipart struct {
	Fields []KeyValue
	Files  []File
}

// File is one file part of a multipart body.
type File struct {
	// Field is the form field name.
	Field string
	// FileName is the file name announced in Content-Disposition.
	FileName string
	// ContentType defaults to application/octet-stream.
	ContentType string
	// Content is the file data.
	Content []byte
}

// RawResponse is the answer to Do.
type RawResponse struct {
	*Response
	// Body is the raw body.
	Body []byte
	// JSON is the decoded body for ResponseJSON (nil for an empty body).
	JSON any
	// Text is the body for ResponseText.
	Text string
}

// Do sends any request to the Web API with the client's credentials, standard headers, logging and
// retries. An error status returns both the RawResponse (with the body) and an *Error.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/compose-http-requests-handle-errors
func (c *Client) Do(ctx context.Context, rr *RawRequest) (*RawResponse, error) {
	if rr == nil {
		return nil, fmt.Errorf("client: Do(nil): %w", ErrInvalidInput)
	}
	r, err := c.rawToRequest(rr)
	if err != nil {
		return nil, err
	}
	resp, body, err := c.send(ctx, r)
	if resp == nil {
		return nil, err
	}
	out := &RawResponse{Response: resp, Body: body}
	if err != nil {
		return out, err
	}
	switch rr.ResponseType {
	case ResponseText:
		out.Text = string(body)
	case ResponseBytes:
	default:
		if len(bytes.TrimSpace(body)) == 0 {
			break
		}
		var v any
		if derr := decodeJSON(body, &v); derr != nil {
			if isJSONContentType(resp.Header.Get("Content-Type")) {
				return out, fmt.Errorf("dataverse: %s %s: decode response: %w", r.method, redactURL(r.url), derr)
			}
			out.JSON = string(bytes.TrimPrefix(body, utf8BOM))
			break
		}
		out.JSON = v
		if obj, ok := v.(map[string]any); ok {
			fillControl(resp, obj)
		}
	}
	return out, nil
}

func isJSONContentType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// rawToRequest validates rr and builds the request.
func (c *Client) rawToRequest(rr *RawRequest) (*request, error) {
	method := strings.ToUpper(strings.TrimSpace(rr.Method))
	if method == "" || strings.IndexFunc(method, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0 {
		return nil, fmt.Errorf("client: invalid method %q: %w", rr.Method, ErrInvalidInput)
	}
	kinds := 0
	for _, given := range []bool{rr.JSON != nil, rr.Body != nil, len(rr.Form) > 0, rr.Multipart != nil} {
		if given {
			kinds++
		}
	}
	if (rr.JSON != nil || rr.Body != nil) && (len(rr.Form) > 0 || rr.Multipart != nil) {
		return nil, fmt.Errorf("client: cannot specify both a body and form or file data: %w", ErrInvalidInput)
	}
	if kinds > 1 {
		return nil, fmt.Errorf("client: give only one of JSON, Body, Form and Multipart: %w", ErrInvalidInput)
	}
	if rr.Timeout < 0 {
		return nil, fmt.Errorf("client: negative timeout: %w", ErrInvalidInput)
	}
	if rr.Retry != nil {
		if err := rr.Retry.validate(); err != nil {
			return nil, err
		}
	}
	u, err := c.resolveRawPath(rr.Path)
	if err != nil {
		return nil, err
	}
	if len(rr.Query) > 0 {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + query(rr.Query).encode()
	}
	r := &request{method: method, url: u, header: http.Header{}, retry: rr.Retry, timeout: rr.Timeout}
	for k, vs := range rr.Header {
		r.header[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
	}
	switch {
	case rr.JSON != nil:
		if err := r.setJSON(rr.JSON); err != nil {
			return nil, err
		}
	case rr.Body != nil:
		r.body = rr.Body
		r.contentType = rr.ContentType
		if r.contentType == "" && json.Valid(rr.Body) {
			r.contentType = jsonContentType
		}
	case len(rr.Form) > 0:
		r.body = []byte(encodeForm(rr.Form))
		r.contentType = "application/x-www-form-urlencoded"
	case rr.Multipart != nil:
		body, ct, err := encodeMultipart(rr.Multipart)
		if err != nil {
			return nil, err
		}
		r.body, r.contentType = body, ct
	}
	return r, nil
}

// resolveRawPath turns a RawRequest path into an absolute URL on the org's host.
func (c *Client) resolveRawPath(p string) (string, error) {
	p = strings.TrimSpace(p)
	if p == "" {
		return "", fmt.Errorf("client: raw request needs a path: %w", ErrInvalidInput)
	}
	if i := strings.Index(p, "://"); i > 0 && !strings.ContainsAny(p[:i], "/?#") {
		u, err := url.Parse(p)
		if err != nil {
			return "", fmt.Errorf("client: raw request URL %q: %v: %w", redactURL(p), err, ErrInvalidInput)
		}
		if u.User != nil {
			return "", fmt.Errorf("client: raw request URL must not carry user info: %w", ErrInvalidInput)
		}
		if !strings.EqualFold(u.Scheme, c.org.Scheme) || !strings.EqualFold(u.Host, c.org.Host) {
			return "", fmt.Errorf("client: raw request URL %s is not on the org's host %s; refusing to send credentials there: %w",
				redactURL(p), c.org.Host, ErrInvalidInput)
		}
		head, tail := splitPathQuery(p[len(u.Scheme)+3+len(u.Host):])
		return u.Scheme + "://" + u.Host + head + tail, nil
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	head, tail := splitPathQuery(p)
	return c.orgString + head + tail, nil
}

// splitPathQuery cleans the path and query of a raw URL tail (fragments are dropped).
func splitPathQuery(s string) (string, string) {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	path, q, hasQuery := strings.Cut(s, "?")
	path = cleanRawURLPart(path, false)
	if !hasQuery {
		return path, ""
	}
	return path, "?" + cleanRawURLPart(q, true)
}

// encodeForm url-encodes fields in order.
func encodeForm(fields []KeyValue) string {
	var b strings.Builder
	for i, kv := range fields {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(kv.Key))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(formatValue(kv.Value)))
	}
	return b.String()
}

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"", "\r", "%0D", "\n", "%0A")

// encodeMultipart renders a multipart/form-data body and its Content-Type.
func encodeMultipart(m *Multipart) ([]byte, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, f := range m.Fields {
		if f.Key == "" {
			return nil, "", fmt.Errorf("client: multipart field without a name: %w", ErrInvalidInput)
		}
		if err := w.WriteField(f.Key, formatValue(f.Value)); err != nil {
			return nil, "", fmt.Errorf("client: multipart field %s: %w", f.Key, err)
		}
	}
	for _, f := range m.Files {
		if f.Field == "" {
			return nil, "", fmt.Errorf("client: multipart file without a field name: %w", ErrInvalidInput)
		}
		h := textproto.MIMEHeader{}
		disp := `form-data; name="` + quoteEscaper.Replace(f.Field) + `"`
		if f.FileName != "" {
			disp += `; filename="` + quoteEscaper.Replace(f.FileName) + `"`
		}
		h.Set("Content-Disposition", disp)
		ct := f.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		h.Set("Content-Type", ct)
		part, err := w.CreatePart(h)
		if err != nil {
			return nil, "", fmt.Errorf("client: multipart file %s: %w", f.Field, err)
		}
		if _, err := part.Write(f.Content); err != nil {
			return nil, "", fmt.Errorf("client: multipart file %s: %w", f.Field, err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", fmt.Errorf("client: multipart body: %w", err)
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

// Pairs turns url.Values into KeyValue pairs sorted by key, for RawRequest.Query and Form.
func Pairs(v url.Values) []KeyValue {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []KeyValue
	for _, k := range keys {
		for _, val := range v[k] {
			out = append(out, KeyValue{k, val})
		}
	}
	return out
}
