package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// Marshal renders a response body or a stored document. Objects, lists and the scalar types rows
// and documents hold are written in one pass (encoding/json would re-validate the output of every
// nested object); anything else goes through encoding/json. Like Dataverse, it does not escape
// HTML, so labels such as "R&D" stay readable.
func Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := appendJSON(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// jsonAppender is a value that appends its JSON to a slice (model.Decimal): written without a
// slice of its own, as json.Marshaler would need.
type jsonAppender interface{ AppendJSON([]byte) []byte }

func appendJSON(b *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case *Object:
		b.WriteByte('{')
		for i, m := range x.members {
			if i > 0 {
				b.WriteByte(',')
			}
			if enc, ok := m.Value.(encoded); ok {
				b.Write(enc)
				continue
			}
			appendString(b, m.Name)
			b.WriteByte(':')
			if err := appendJSON(b, m.Value); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case []*Object:
		return appendList(b, x)
	case []any:
		return appendList(b, x)
	case []json.RawMessage:
		return appendList(b, x)
	case []string:
		b.WriteByte('[')
		for i, s := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			appendString(b, s)
		}
		b.WriteByte(']')
	case string:
		appendString(b, x)
	case *string:
		if x == nil {
			b.WriteString("null")
		} else {
			appendString(b, *x)
		}
	case bool:
		b.Write(strconv.AppendBool(b.AvailableBuffer(), x))
	case int64:
		b.Write(strconv.AppendInt(b.AvailableBuffer(), x, 10))
	case *int64:
		if x == nil {
			b.WriteString("null")
		} else {
			b.Write(strconv.AppendInt(b.AvailableBuffer(), *x, 10))
		}
	case int:
		b.Write(strconv.AppendInt(b.AvailableBuffer(), int64(x), 10))
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			b.WriteString("null")
			return nil
		}
		enc, err := json.Marshal(x)
		if err != nil {
			return err
		}
		b.Write(enc)
	case json.Number:
		if !json.Valid([]byte(x)) {
			return fmt.Errorf("wire: invalid number %q", string(x))
		}
		b.WriteString(string(x))
	case jsonAppender:
		b.Write(x.AppendJSON(b.AvailableBuffer()))
	case json.Marshaler:
		enc, err := x.MarshalJSON()
		if err != nil {
			return err
		}
		b.Write(enc)
	default:
		var tmp bytes.Buffer
		enc := json.NewEncoder(&tmp)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return err
		}
		b.Write(bytes.TrimRight(tmp.Bytes(), "\n"))
	}
	return nil
}

// AppendValue writes v as Marshal writes a member's value, for a caller that wrote the member's
// name (model.Attribute.ReadMember).
func AppendValue(b *bytes.Buffer, v any) error { return appendJSON(b, v) }

func appendList[T any](b *bytes.Buffer, list []T) error {
	b.WriteByte('[')
	for i, v := range list {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := appendJSON(b, v); err != nil {
			return err
		}
	}
	b.WriteByte(']')
	return nil
}

const hexDigits = "0123456789abcdef"

// appendString writes a JSON string the way encoding/json does with HTML escaping off.
func appendString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b.WriteString(s[start:i])
			switch c {
			case '"', '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			case '\b':
				b.WriteString(`\b`)
			case '\f':
				b.WriteString(`\f`)
			default:
				b.WriteString(`\u00`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString(s[start:i])
			b.WriteString(`\ufffd`)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b.WriteString(s[start:i])
			b.WriteString(`\u202`)
			b.WriteByte(hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}
