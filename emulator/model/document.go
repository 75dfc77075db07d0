package model

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Document returns the entity's full EntityMetadata document: its own properties with Attributes
// and Keys embedded, in the form PutMetadata takes.
func (e *Entity) Document() (json.RawMessage, error) {
	attrs := make([]json.RawMessage, len(e.Attributes))
	for i, a := range e.Attributes {
		attrs[i] = a.Doc()
	}
	keys := make([]json.RawMessage, len(e.Keys))
	for i, k := range e.Keys {
		keys[i] = k.Raw
	}
	return withMembers(e.Raw, "Attributes", attrs, "Keys", keys)
}

// withMembers appends array members to a JSON object document (which must not already have them).
func withMembers(doc json.RawMessage, pairs ...any) (json.RawMessage, error) {
	body := bytes.TrimSpace(doc)
	if len(body) < 2 || body[0] != '{' || body[len(body)-1] != '}' {
		return nil, fmt.Errorf("model: metadata document is not a JSON object")
	}
	var b bytes.Buffer
	b.Write(body[:len(body)-1])
	empty := len(bytes.TrimSpace(body[1:len(body)-1])) == 0
	for i := 0; i+1 < len(pairs); i += 2 {
		name, _ := pairs[i].(string)
		items, _ := pairs[i+1].([]json.RawMessage)
		if !empty {
			b.WriteByte(',')
		}
		empty = false
		k, _ := json.Marshal(name)
		b.Write(k)
		b.WriteString(":[")
		for j, it := range items {
			if j > 0 {
				b.WriteByte(',')
			}
			b.Write(it)
		}
		b.WriteByte(']')
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
