package model

import (
	"encoding/json"
	"testing"
)

func TestWithMembers(t *testing.T) {
	got, err := withMembers(json.RawMessage(`{}`), "Attributes", []json.RawMessage{json.RawMessage(`{"a":1}`)})
	if err != nil || string(got) != `{"Attributes":[{"a":1}]}` {
		t.Errorf("withMembers({}) = %s, %v", got, err)
	}
	got, err = withMembers(json.RawMessage(`{"x":1}`), "Keys", nil)
	if err != nil || string(got) != `{"x":1,"Keys":[]}` {
		t.Errorf("withMembers({x}) = %s, %v", got, err)
	}
	if _, err := withMembers(json.RawMessage(`[]`)); err == nil {
		t.Error("withMembers accepted an array")
	}
}
