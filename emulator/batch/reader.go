package batch

import (
	"bytes"
	"fmt"
	"io"
)

// Reader reads the parts of a batch body one at a time, reading the body only as far as the part
// it returns, so that a large batch is never held whole: memory stays near the size of the largest
// part (a change set counts as one part).
type Reader struct {
	p       *parser
	started bool
	kind    delim // the kind of the delimiter that ended the last part read
	parts   int
	err     error
}

// NewReader returns a Reader of body, given the value of the request's Content-Type header. It
// fails, as Parse does, when the Content-Type is not a multipart/mixed type with one boundary.
func NewReader(contentType string, body io.Reader) (*Reader, error) {
	boundary, err := batchBoundary(contentType)
	if err != nil {
		return nil, err
	}
	return &Reader{p: &parser{window: window{src: body}, batch: "--" + boundary}}, nil
}

// Next returns the next part, or io.EOF after the closing delimiter (what follows it is epilogue
// and not read). A malformed body gives the *dverr.Error Parse would give, at the same position;
// when reading the body fails, the error wraps the reader's error instead. After an error, Next
// returns it again.
func (r *Reader) Next() (Part, error) {
	if r.err != nil {
		return Part{}, r.err
	}
	part, err := r.next()
	if err != nil {
		if r.p.rerr != nil {
			err = fmt.Errorf("batch: read body: %w", r.p.rerr)
		}
		r.err = err
		return Part{}, err
	}
	return part, nil
}

func (r *Reader) next() (Part, error) {
	p := r.p
	if !r.started {
		r.started = true
		// Everything before the first delimiter is preamble, a leading blank line included. A UTF-8
		// byte order mark is skipped, as the OData library's encoding detection does.
		from := 0
		if p.fill(3); bytes.HasPrefix(p.buf, []byte("\xEF\xBB\xBF")) {
			from = 3
		}
		kind, err := p.skipTo(from)
		if err != nil {
			return Part{}, err
		}
		r.kind = kind
	}
	if r.kind != batchNext {
		return Part{}, io.EOF
	}
	// Change sets count as parts too, so that empty ones cannot pile up without limit.
	if r.parts == MaxOperations {
		return Part{}, errBatchTooLarge(p.pos)
	}
	part, kind, err := p.part()
	if err != nil {
		return Part{}, err
	}
	r.parts++
	r.kind = kind
	p.release(p.pos)
	return part, nil
}
