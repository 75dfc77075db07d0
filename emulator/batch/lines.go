package batch

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/dynlocal/dynlocal/emulator/dverr"
)

// This file holds the line-level reading shared by parts and operations: lines ending in CRLF or
// LF, delimiter lines, header blocks and the request line.

// count records one more operation and enforces the batch and change set limits.
func (p *parser) count(pos int) *dverr.Error {
	p.ops++
	if p.cs != "" {
		p.csOps++
		if p.csOps > MaxOperations {
			return errChangeSetTooLarge(pos)
		}
	}
	if p.ops > MaxOperations {
		return errBatchTooLarge(pos)
	}
	return nil
}

// readLine returns the line at p.pos without its line ending, and its offset, and moves past it.
// ok is false at the end of the body.
func (p *parser) readLine() (line []byte, at int, ok bool) {
	at = p.pos
	line, next, ok := p.lineAt(at)
	if !ok {
		return nil, at, false
	}
	p.pos = next
	return line, at, true
}

// lineAt returns the line starting at offset i without its CRLF or LF, and the offset after its
// ending, reading more of the body as needed; ok is false when i is at the end of the body. The
// line is valid until the next call to release.
func (p *parser) lineAt(i int) (line []byte, next int, ok bool) {
	from := i // where the search for '\n' goes on
	for {
		if j := bytes.IndexByte(p.buf[from-p.base:], '\n'); j >= 0 {
			line = p.buf[i-p.base : from-p.base+j]
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			return line, from + j + 1, true
		}
		from = p.end()
		if p.eof {
			if i >= from {
				return nil, from, false
			}
			return p.buf[i-p.base:], from, true
		}
		p.more()
	}
}

// firstNonEmptyLine skips blank lines, as the OData library does before a request line.
func (p *parser) firstNonEmptyLine() (line []byte, at int, ok bool) {
	for {
		line, at, ok = p.readLine()
		if !ok || len(line) > 0 {
			return line, at, ok
		}
	}
}

// classify says whether line is a delimiter of the boundaries in scope. A delimiter must fill the
// whole line: "--" and the boundary, "--" more for a closing one, then only spaces or tabs
// (RFC 2046's transport padding). A line that merely starts with the boundary is content.
func (p *parser) classify(line []byte) delim {
	if len(line) < 2 || line[0] != '-' || line[1] != '-' {
		return notDelim
	}
	if p.cs != "" {
		if next, end := isDelim(line, p.cs); next {
			return changeSetNext
		} else if end {
			return changeSetEnd
		}
	}
	if next, end := isDelim(line, p.batch); next {
		return batchNext
	} else if end {
		return batchEnd
	}
	return notDelim
}

// isDelim matches line against the dash-boundary "--boundary".
func isDelim(line []byte, dashBoundary string) (next, end bool) {
	if !bytes.HasPrefix(line, []byte(dashBoundary)) {
		return false, false
	}
	rest := line[len(dashBoundary):]
	closing := bytes.HasPrefix(rest, []byte("--"))
	if closing {
		rest = rest[2:]
	}
	if len(bytes.TrimRight(rest, " \t")) != 0 {
		return false, false
	}
	return !closing, closing
}

// nextDelim finds the first delimiter line at or after from, where from counts as the start of a
// line. It returns the line's offset, the offset after its line ending, and its kind; start is -1
// when there is none.
func (p *parser) nextDelim(from int) (start, end int, kind delim) {
	for i := from; ; {
		line, next, ok := p.lineAt(i)
		if !ok {
			return -1, p.end(), notDelim
		}
		if k := p.classify(line); k != notDelim {
			return i, next, k
		}
		i = next
	}
}

// headers reads a header block up to the blank line that ends it. With stopAtDelim a delimiter
// line also ends it (an operation with no blank line and no body); stop then says which, and p.pos
// is past it. Without stopAtDelim such a line is an invalid header, as in the OData library.
func (p *parser) headers(stopAtDelim bool) (h http.Header, stop delim, err *dverr.Error) {
	h = http.Header{}
	seen := map[string]bool{}
	for {
		line, at, ok := p.readLine()
		if !ok {
			return nil, notDelim, errUnexpectedEnd(p.end())
		}
		if len(line) == 0 {
			return h, notDelim, nil
		}
		if stopAtDelim {
			if k := p.classify(line); k != notDelim {
				p.delimAt = at
				return h, k, nil
			}
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return nil, notDelim, errHeaderLine(at, string(line))
		}
		name := strings.Trim(string(line[:colon]), " \t")
		if !isToken(name) {
			return nil, notDelim, errHeaderLine(at, string(line))
		}
		// The OData library compares header names ordinally here: "Prefer" twice is an error,
		// "Prefer" and "prefer" are two values of one header.
		if seen[name] {
			return nil, notDelim, errDuplicateHeader(at, name)
		}
		seen[name] = true
		h.Add(name, strings.Trim(string(line[colon+1:]), " \t"))
	}
}

// requestLine splits "METHOD SP target SP HTTP/1.1". The target is everything between the first
// and the last space, so raw spaces inside it survive, as in the OData library's reader.
func requestLine(at int, line []byte) (method, target string, err *dverr.Error) {
	s := string(line)
	first := strings.IndexByte(s, ' ')
	if first <= 0 || len(s)-3 <= first {
		return "", "", errRequestLine(at, s)
	}
	last := strings.LastIndexByte(s, ' ')
	if last-first-1 <= 0 || len(s)-1 <= last {
		return "", "", errRequestLine(at, s)
	}
	method, target, version := s[:first], s[first+1:last], s[last+1:]
	if strings.Trim(target, " \t") == "" {
		return "", "", errRequestLine(at, s)
	}
	if version != "HTTP/1.1" {
		return "", "", errHTTPVersion(at+last+1, version)
	}
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return "", "", errMethod(at, method)
	}
	return method, target, nil
}

// isToken reports whether s is an RFC 9110 token, the syntax of a header name.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// clone copies b so that parsed requests do not pin the whole batch body; empty is nil.
func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return bytes.Clone(b)
}
