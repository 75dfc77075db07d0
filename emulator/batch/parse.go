package batch

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/dynlocal/dynlocal/emulator/dverr"
)

// Request is one operation of a batch: the request line, headers and body of an application/http
// part.
type Request struct {
	// Method is the request line's method: GET, POST, PUT, PATCH or DELETE.
	Method string
	// Target is everything between the method and the trailing " HTTP/1.1", exactly as sent: a
	// relative (accounts), server-relative (/api/data/v9.2/accounts) or absolute URL, or a Content-ID
	// reference ($1, $1/lastname). Raw spaces and quotes are kept and nothing is decoded.
	Target string
	// Header holds the operation's own headers (Content-Type, Prefer, If-Match, ...), not the MIME
	// part's.
	Header http.Header
	// Body is the operation's body, nil when there is none. Without a Content-Length it runs to the
	// line ending before the next boundary delimiter; with one it is exactly that many bytes.
	Body []byte
	// ContentID is the part's Content-ID ("" if none). It is read from the MIME part headers, or
	// from the operation's headers when the part headers have none, as the OData library does.
	ContentID string
}

// Part is a top-level item of a batch: a single request, or a change set of requests.
type Part struct {
	// Request is the operation of a part outside any change set; nil for a change set.
	Request *Request
	// ChangeSet holds a change set's operations in order (possibly none).
	ChangeSet []*Request
	// ChangeSetBoundary is the change set's boundary; "" for a single request.
	ChangeSetBoundary string
}

// IsChangeSet reports whether p is a change set.
func (p Part) IsChangeSet() bool { return p.Request == nil }

// Parse reads a multipart/mixed batch body, given the value of the request's Content-Type header.
//
// Any error is a *dverr.Error: status 400 for a malformed body (its Position is the byte offset in
// body where the problem was found, or 0 for a problem with contentType), or 415 when the body is
// not multipart at all (a JSON batch, for one).
func Parse(contentType string, body []byte) ([]Part, error) {
	return readAll(contentType, bytes.NewReader(body))
}

// readAll reads every part from src through a Reader.
func readAll(contentType string, src io.Reader) ([]Part, error) {
	r, err := NewReader(contentType, src)
	if err != nil {
		return nil, err
	}
	parts := []Part{}
	for {
		part, err := r.Next()
		if err == io.EOF {
			return parts, nil
		}
		if err != nil {
			return nil, err
		}
		parts = append(parts, part)
	}
}

// batchBoundary checks the batch's Content-Type and returns its boundary.
func batchBoundary(contentType string) (string, *dverr.Error) {
	if strings.TrimSpace(contentType) == "" {
		return "", errNoContentType()
	}
	mt, params, ok := parseMediaType(contentType)
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return "", errJSONBatch(contentType)
	case mt != "multipart/mixed":
		return "", errNotMultipart(contentType)
	}
	return boundaryParam(0, contentType, params, ok)
}

// boundaryParam returns the one boundary parameter of a multipart/mixed content type.
func boundaryParam(pos int, contentType string, params [][2]string, ok bool) (string, *dverr.Error) {
	boundary, n := "", 0
	for _, kv := range params {
		if kv[0] == "boundary" {
			boundary = kv[1]
			n++
		}
	}
	if !ok || n != 1 {
		return "", errBoundaryMissing(pos, contentType)
	}
	if boundary == "" || len(boundary) > 70 {
		return "", errBoundaryLength(pos, boundary)
	}
	return boundary, nil
}

// parseMediaType splits a Content-Type value into its lower-case media type and its parameters
// (names lower-cased, quoted values unquoted). It is more lenient than mime.ParseMediaType, which
// rejects unquoted boundaries holding characters such as ':' that clients do send; ok is false when
// a parameter has no '=' or an unterminated quoted value.
func parseMediaType(v string) (mediaType string, params [][2]string, ok bool) {
	mt, rest, _ := strings.Cut(v, ";")
	mediaType = strings.ToLower(strings.TrimSpace(mt))
	ok = true
	for {
		rest = strings.TrimLeft(rest, " \t;")
		if rest == "" {
			return mediaType, params, ok
		}
		name, after, found := strings.Cut(rest, "=")
		if !found || strings.ContainsRune(name, ';') {
			// A parameter without a value: skip it up to the next ';'.
			ok = false
			_, rest, _ = strings.Cut(rest, ";")
			continue
		}
		name = strings.ToLower(strings.TrimSpace(name))
		after = strings.TrimLeft(after, " \t")
		var value string
		if strings.HasPrefix(after, `"`) {
			var b strings.Builder
			i, closed := 1, false
			for ; i < len(after); i++ {
				c := after[i]
				if c == '\\' && i+1 < len(after) {
					i++
					b.WriteByte(after[i])
					continue
				}
				if c == '"' {
					closed = true
					i++
					break
				}
				b.WriteByte(c)
			}
			if !closed {
				ok = false
			}
			value, rest = b.String(), after[i:]
			// Anything between the closing quote and the next ';' is not part of the value.
			if j := strings.IndexByte(rest, ';'); j >= 0 {
				if strings.TrimSpace(rest[:j]) != "" {
					ok = false
				}
				rest = rest[j:]
			} else {
				if strings.TrimSpace(rest) != "" {
					ok = false
				}
				rest = ""
			}
		} else {
			value, rest, _ = strings.Cut(after, ";")
			value = strings.TrimSpace(value)
		}
		params = append(params, [2]string{name, value})
	}
}

// delim says what a line is: content, or one of the delimiters in scope.
type delim int

const (
	notDelim delim = iota
	batchNext
	batchEnd
	changeSetNext
	changeSetEnd
)

// parser walks a batch body from front to back, keeping the boundaries in scope. It reads the
// body as it goes and holds only what the part being read needs (see window.go); offsets are from
// the start of the body.
type parser struct {
	window
	pos   int
	batch string // "--" + the batch boundary
	cs    string // "--" + the current change set's boundary, "" outside change sets
	// delimAt is where the delimiter line most recently consumed starts.
	delimAt int
	// ops counts the operations read so far, csOps those of the current change set.
	ops, csOps int
}

// skipTo moves past the first delimiter line at or after from and returns its kind.
func (p *parser) skipTo(from int) (delim, *dverr.Error) {
	start, end, kind := p.nextDelim(from)
	if start < 0 {
		return notDelim, errUnexpectedEnd(p.end())
	}
	p.pos, p.delimAt = end, start
	return kind, nil
}

// part reads a top-level part: its MIME headers, then an operation or a change set. It returns the
// kind of the delimiter that ends the part.
func (p *parser) part() (Part, delim, *dverr.Error) {
	start := p.pos
	h, _, err := p.headers(false)
	if err != nil {
		return Part{}, notDelim, err
	}
	boundary, err := p.partKind(start, h)
	if err != nil {
		return Part{}, notDelim, err
	}
	if boundary == "" {
		req, kind, err := p.operation(start, h)
		return Part{Request: req}, kind, err
	}
	reqs, kind, err := p.changeSet(boundary)
	return Part{ChangeSet: reqs, ChangeSetBoundary: boundary}, kind, err
}

// partKind checks a part's MIME headers and returns the boundary of a change set, or "" for an
// operation.
func (p *parser) partKind(pos int, h http.Header) (string, *dverr.Error) {
	cts, ok := h["Content-Type"]
	if !ok {
		return "", errPartContentTypeMissing(pos)
	}
	ct := cts[0]
	mt, params, valid := parseMediaType(ct)
	switch mt {
	case "application/http":
		if !strings.EqualFold(h.Get("Content-Transfer-Encoding"), "binary") {
			return "", errTransferEncoding(pos)
		}
		return "", nil
	case "multipart/mixed":
		if p.cs != "" {
			return "", errNestedChangeSet(pos)
		}
		boundary, err := boundaryParam(pos, ct, params, valid)
		if err != nil {
			return "", err
		}
		if "--"+boundary == p.batch {
			return "", errSameBoundary(pos, boundary)
		}
		return boundary, nil
	}
	return "", errPartContentType(pos, ct)
}

// changeSet reads the parts of a change set up to its closing delimiter, then skips to the next
// batch delimiter and returns its kind.
func (p *parser) changeSet(boundary string) ([]*Request, delim, *dverr.Error) {
	p.cs, p.csOps = "--"+boundary, 0
	defer func() { p.cs = "" }()
	kind, err := p.skipTo(p.pos)
	if err != nil {
		return nil, notDelim, err
	}
	reqs := []*Request{}
	seen := map[string]bool{}
	for kind == changeSetNext {
		opStart := p.pos
		h, _, err := p.headers(false)
		if err != nil {
			return nil, notDelim, err
		}
		if _, err := p.partKind(opStart, h); err != nil {
			return nil, notDelim, err
		}
		var req *Request
		req, kind, err = p.operation(opStart, h)
		if err != nil {
			return nil, notDelim, err
		}
		if id := req.ContentID; id != "" {
			if seen[id] {
				return nil, notDelim, errDuplicateContentID(opStart, id)
			}
			seen[id] = true
		}
		reqs = append(reqs, req)
		p.release(p.pos)
	}
	if kind != changeSetEnd {
		return nil, notDelim, errChangeSetNotClosed(p.delimAt, boundary)
	}
	p.cs = ""
	kind, err = p.skipTo(p.pos)
	return reqs, kind, err
}

// operation reads an application/http part after its MIME headers: request line, headers, body.
func (p *parser) operation(start int, partHeader http.Header) (*Request, delim, *dverr.Error) {
	if err := p.count(start); err != nil {
		return nil, notDelim, err
	}
	line, lineAt, ok := p.firstNonEmptyLine()
	if !ok {
		return nil, notDelim, errUnexpectedEnd(p.end())
	}
	method, target, err := requestLine(lineAt, line)
	if err != nil {
		return nil, notDelim, err
	}
	if p.cs != "" && method == http.MethodGet {
		return nil, notDelim, errMethodInChangeSet(lineAt, method)
	}
	h, stop, err := p.headers(true)
	if err != nil {
		return nil, notDelim, err
	}
	req := &Request{Method: method, Target: target, Header: h, ContentID: partHeader.Get("Content-ID")}
	if req.ContentID == "" {
		req.ContentID = h.Get("Content-ID")
	}
	if stop != notDelim {
		// The headers ran into the next delimiter: no blank line, no body.
		return req, stop, nil
	}
	bodyAt := p.pos
	if cl, ok := h["Content-Length"]; ok {
		n, perr := strconv.ParseInt(strings.TrimSpace(cl[0]), 10, 32)
		if perr != nil || n < 0 {
			return nil, notDelim, errContentLength(bodyAt, cl[0])
		}
		end := bodyAt + int(n)
		if p.fill(end); end > p.end() {
			return nil, notDelim, errContentLengthMismatch(bodyAt, int(n))
		}
		dStart, dEnd, kind := p.nextDelim(end)
		if dStart < 0 {
			if s, _, _ := p.nextDelim(bodyAt); s < 0 {
				return nil, notDelim, errUnexpectedEnd(p.end())
			}
			return nil, notDelim, errContentLengthMismatch(bodyAt, int(n))
		}
		if len(bytes.Trim(p.slice(end, dStart), " \t\r\n")) != 0 {
			return nil, notDelim, errContentLengthMismatch(bodyAt, int(n))
		}
		req.Body = clone(p.slice(bodyAt, end))
		p.pos, p.delimAt = dEnd, dStart
		return req, kind, nil
	}
	dStart, dEnd, kind := p.nextDelim(bodyAt)
	if dStart < 0 {
		return nil, notDelim, errUnexpectedEnd(p.end())
	}
	// The line ending before a delimiter belongs to the delimiter, not to the body.
	b := p.slice(bodyAt, dStart)
	if bytes.HasSuffix(b, []byte("\r\n")) {
		b = b[:len(b)-2]
	} else if bytes.HasSuffix(b, []byte("\n")) {
		b = b[:len(b)-1]
	}
	req.Body = clone(b)
	p.pos, p.delimAt = dEnd, dStart
	return req, kind, nil
}
