package batch

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// Response is the result of one operation.
type Response struct {
	// ContentID is echoed as the part's Content-ID when not empty (change-set operations carry one).
	ContentID string
	// Status is the HTTP status code, 100 to 599.
	Status int
	// Header holds the operation's response headers. Content-Length is not written: part bodies are
	// framed by the boundary, as Dataverse's are.
	Header http.Header
	// Body is the response body; nil or empty for none.
	Body []byte
}

// ResponsePart mirrors Part: the result of a single request, or the results of a change set.
type ResponsePart struct {
	// Response is a single request's result; nil for a change set.
	Response *Response
	// ChangeSet holds a change set's results in order.
	ChangeSet []*Response
}

// maxIDTries bounds the search for boundaries that no body contains.
const maxIDTries = 10

// errCollision is returned when every boundary newID offered occurs in some response body.
var errCollision = errors.New("batch: every boundary tried occurs in a response body")

// Write renders a batch response body in Dataverse's form and returns the Content-Type to send with
// it, "multipart/mixed; boundary=batchresponse_<id>".
//
// The body begins with the first delimiter (no preamble; dynamics-web-api reads the boundary from
// the first line), lines end in CRLF, every operation part carries Content-Type: application/http
// and Content-Transfer-Encoding: binary (and Content-ID when the response has one), then the
// status line, the headers (OData-Version first, the rest sorted by name), a blank line and the
// body. A change set is a nested multipart/mixed part with a changesetresponse_<id> boundary and
// its own closing delimiter.
//
// newID supplies the boundary ids (a random UUID when nil); it is called again if a body happens
// to contain a boundary. Header values never carry '{' or '}' (they are percent-encoded) because
// clients find a part's JSON by its first '{'.
func Write(w io.Writer, parts []ResponsePart, newID func() string) (contentType string, err error) {
	if newID == nil {
		newID = randomID
	}
	if err := checkParts(parts); err != nil {
		return "", err
	}
	var batch string
	var changeSets []string
	for try := 0; ; try++ {
		if try == maxIDTries {
			return "", errCollision
		}
		batch, changeSets, err = boundaries(parts, newID)
		if err != nil {
			return "", err
		}
		if !collides(parts, append(changeSets, batch)) {
			break
		}
	}

	var b bytes.Buffer
	cs := 0
	for i, part := range parts {
		if i > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString("--" + batch + "\r\n")
		if part.Response != nil {
			writeOperation(&b, part.Response)
			continue
		}
		boundary := changeSets[cs]
		cs++
		b.WriteString("Content-Type: multipart/mixed; boundary=" + boundary + "\r\n\r\n")
		for j, resp := range part.ChangeSet {
			if j > 0 {
				b.WriteString("\r\n")
			}
			b.WriteString("--" + boundary + "\r\n")
			writeOperation(&b, resp)
		}
		if len(part.ChangeSet) > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString("--" + boundary + "--")
	}
	if len(parts) > 0 {
		b.WriteString("\r\n")
	}
	b.WriteString("--" + batch + "--\r\n")
	if _, err := w.Write(b.Bytes()); err != nil {
		return "", fmt.Errorf("batch: write response: %w", err)
	}
	return "multipart/mixed; boundary=" + batch, nil
}

// checkParts rejects structures Write cannot render.
func checkParts(parts []ResponsePart) error {
	for i, part := range parts {
		if part.Response != nil {
			if part.ChangeSet != nil {
				return fmt.Errorf("batch: response part %d has both a response and a change set", i)
			}
			if err := checkResponse(part.Response); err != nil {
				return fmt.Errorf("batch: response part %d: %w", i, err)
			}
			continue
		}
		for j, r := range part.ChangeSet {
			if r == nil {
				return fmt.Errorf("batch: response part %d: change set response %d is nil", i, j)
			}
			if err := checkResponse(r); err != nil {
				return fmt.Errorf("batch: response part %d: change set response %d: %w", i, j, err)
			}
		}
	}
	return nil
}

func checkResponse(r *Response) error {
	if r.Status < 100 || r.Status > 599 {
		return fmt.Errorf("status %d out of range", r.Status)
	}
	for name := range r.Header {
		if !isToken(name) {
			return fmt.Errorf("invalid header name %q", name)
		}
	}
	return nil
}

// boundaries draws the batch boundary and one per change set.
func boundaries(parts []ResponsePart, newID func() string) (batch string, changeSets []string, err error) {
	id := func() (string, error) {
		s := newID()
		if !validID(s) {
			return "", fmt.Errorf("batch: boundary id %q: want 1 to 50 letters, digits, '-', '_' or '.'", s)
		}
		return s, nil
	}
	s, err := id()
	if err != nil {
		return "", nil, err
	}
	batch = "batchresponse_" + s
	for _, part := range parts {
		if part.Response == nil {
			s, err := id()
			if err != nil {
				return "", nil, err
			}
			changeSets = append(changeSets, "changesetresponse_"+s)
		}
	}
	return batch, changeSets, nil
}

// validID keeps boundaries within RFC 2046's 70 characters and a bare (unquoted) parameter value.
func validID(s string) bool {
	if s == "" || len(s) > 50 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// collides reports whether any body contains one of the boundaries, which would end its part early.
func collides(parts []ResponsePart, boundaries []string) bool {
	hit := func(r *Response) bool {
		for _, b := range boundaries {
			if bytes.Contains(r.Body, []byte(b)) {
				return true
			}
		}
		return false
	}
	for _, part := range parts {
		if part.Response != nil && hit(part.Response) {
			return true
		}
		for _, r := range part.ChangeSet {
			if hit(r) {
				return true
			}
		}
	}
	return false
}

// writeOperation writes one application/http part's headers and content, without the line ending
// that precedes the next delimiter.
func writeOperation(b *bytes.Buffer, r *Response) {
	b.WriteString("Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n")
	if r.ContentID != "" {
		b.WriteString("Content-ID: " + headerValue(r.ContentID) + "\r\n")
	}
	b.WriteString("\r\n")
	b.WriteString("HTTP/1.1 " + strconv.Itoa(r.Status) + " " + reasonPhrase(r.Status) + "\r\n")
	for _, name := range headerOrder(r.Header) {
		for _, v := range r.Header[name] {
			b.WriteString(wireName(name) + ": " + headerValue(v) + "\r\n")
		}
	}
	b.WriteString("\r\n")
	body := r.Body
	if isJSON(r.Header.Get("Content-Type")) {
		// An encoder's trailing newline would show as a blank line before the next boundary,
		// which Dataverse never sends.
		body = bytes.TrimRight(body, " \t\r\n")
	}
	b.Write(body)
}

// headerOrder lists the header names to write: OData-Version first, then by name, ignoring case;
// Content-Length is left out.
func headerOrder(h http.Header) []string {
	names := make([]string, 0, len(h))
	for name := range h {
		if strings.EqualFold(name, "Content-Length") {
			continue
		}
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := strings.ToLower(names[i]), strings.ToLower(names[j])
		if (a == "odata-version") != (b == "odata-version") {
			return a == "odata-version"
		}
		if a != b {
			return a < b
		}
		return names[i] < names[j]
	})
	return names
}

// wireNames spells the headers that Go's canonical form changes the way Dataverse writes them.
var wireNames = map[string]string{
	"odata-version":    "OData-Version",
	"odata-maxversion": "OData-MaxVersion",
	"odata-entityid":   "OData-EntityId",
	"etag":             "ETag",
	"req_id":           "REQ_ID",
}

func wireName(name string) string {
	if w, ok := wireNames[strings.ToLower(name)]; ok {
		return w
	}
	return name
}

// headerValue keeps a value on one line and free of braces.
func headerValue(v string) string {
	if !strings.ContainsAny(v, "{}\r\n") {
		return v
	}
	return strings.NewReplacer("{", "%7B", "}", "%7D", "\r", " ", "\n", " ").Replace(v)
}

// reasonPhrase is net/http's status text reduced to letters, digits and single spaces, the only
// characters dynamics-web-api's status-line pattern accepts: "I'm a teapot" becomes "Im a teapot",
// "Non-Authoritative Information" "Non Authoritative Information".
func reasonPhrase(code int) string {
	text := http.StatusText(code)
	var b strings.Builder
	space := false
	for _, c := range text {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(c)
		case c == '\'':
			// Dropped inside a word.
		default:
			space = true
		}
	}
	if b.Len() == 0 {
		return "Unknown Status"
	}
	return b.String()
}

// isJSON reports whether a Content-Type names JSON.
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt, _, _ = strings.Cut(contentType, ";")
		mt = strings.ToLower(strings.TrimSpace(mt))
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// randomID returns a random version 4 UUID, the form of Dataverse's boundary ids.
func randomID() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
