package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// The errors ParseObject and ParseObjectStrict return besides encoding/json's own (a
// *json.SyntaxError, or io.EOF or io.ErrUnexpectedEOF for text cut short), which they pass on
// unwrapped so that callers can report the position.
var (
	// ErrEmpty is text that holds no JSON value at all.
	ErrEmpty = errors.New("wire: no JSON value")
	// ErrNotObject is a JSON value that is not an object.
	ErrNotObject = errors.New("wire: the JSON value is not an object")
	// ErrTrailing is text that goes on after the object.
	ErrTrailing = errors.New("wire: more than one JSON value")
)

// DuplicateError is a member name that stands more than once in an object read strictly.
type DuplicateError struct {
	Name string
}

func (e *DuplicateError) Error() string { return "wire: duplicate member " + e.Name }

// ParseObject reads JSON text holding an object into an Object that keeps the members' order; each
// value is its member's text as a json.RawMessage, so that a stored document can be cut and
// written back without touching what it does not change. A name given twice keeps its first
// position and its last value, and nothing after the object is read: use it for documents the
// emulator wrote itself.
func ParseObject(data []byte) (*Object, error) {
	return parseObject(data, false)
}

// ParseObjectStrict is ParseObject for text a client sent: a name given twice is a
// *DuplicateError and anything after the object is ErrTrailing.
func ParseObjectStrict(data []byte) (*Object, error) {
	return parseObject(data, true)
}

// Raw returns the member's value when it is JSON text, as every value ParseObject reads is, and
// nil otherwise.
func (m Member) Raw() json.RawMessage {
	raw, _ := m.Value.(json.RawMessage)
	return raw
}

func parseObject(data []byte, strict bool) (*Object, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, ErrEmpty
		}
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, ErrNotObject
	}
	o := &Object{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		if strict && o.find(name) >= 0 {
			return nil, &DuplicateError{Name: name}
		}
		o.Set(name, raw)
	}
	if !strict {
		return o, nil
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, ErrTrailing
	}
	return o, nil
}
