package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
)

// attributeFacts is what the emulator takes from a column's AttributeMetadata, in a form that
// reads back far faster than the document: the documents of the standard tables run to megabytes,
// and a store that keeps the facts beside them opens without parsing them. Names are short and
// the usual values left out, so the facts of every standard column fit in a few hundred kilobytes.
type attributeFacts struct {
	Name        string        `json:"n"`
	Schema      string        `json:"s,omitempty"`
	ID          string        `json:"id,omitempty"`
	Type        AttributeType `json:"t"`
	TypeName    string        `json:"tn,omitempty"`
	Display     string        `json:"d,omitempty"`
	MaxLength   int           `json:"ml,omitempty"`
	Precision   int           `json:"p,omitempty"`
	Min         float64       `json:"lo,omitempty"`
	Max         float64       `json:"hi,omitempty"`
	HasRange    bool          `json:"r,omitempty"`
	Format      string        `json:"f,omitempty"`
	Targets     []string      `json:"tg,omitempty"`
	Options     []optionFacts `json:"o,omitempty"`
	TrueLabel   string        `json:"tl,omitempty"`
	FalseLabel  string        `json:"fl,omitempty"`
	Default     *bool         `json:"def,omitempty"`
	PrimaryID   bool          `json:"pi,omitempty"`
	PrimaryName bool          `json:"pn,omitempty"`
	NoCreate    bool          `json:"nc,omitempty"`
	NoUpdate    bool          `json:"nu,omitempty"`
	NoRead      bool          `json:"nr,omitempty"`
	Required    string        `json:"rl,omitempty"` // "None" left out
	AttributeOf string        `json:"of,omitempty"`
	Custom      bool          `json:"c,omitempty"`
}

// optionFacts is an Option; State is kept one up, so that the usual -1 (no state) is left out.
type optionFacts struct {
	Value int64  `json:"v"`
	Label string `json:"l,omitempty"`
	State int64  `json:"st,omitempty"`
}

// Facts returns the column's facts (see attributeFacts) for AttributeFromFacts.
func (a *Attribute) Facts() ([]byte, error) {
	f := attributeFacts{
		Name: a.LogicalName, Schema: a.SchemaName, ID: a.MetadataID, Type: a.Type, TypeName: a.TypeName,
		Display: a.DisplayName, MaxLength: a.MaxLength, Precision: a.Precision, Min: a.MinValue, Max: a.MaxValue,
		HasRange: a.HasRange, Format: a.Format, Targets: a.Targets, TrueLabel: a.TrueLabel, FalseLabel: a.FalseLabel,
		PrimaryID: a.IsPrimaryID, PrimaryName: a.IsPrimaryName, NoCreate: !a.ValidForCreate, NoUpdate: !a.ValidForUpdate,
		NoRead: !a.ValidForRead, AttributeOf: a.AttributeOf, Custom: a.IsCustom,
	}
	if a.RequiredLevel != "None" {
		f.Required = a.RequiredLevel
	}
	switch d := a.Default.(type) {
	case nil:
	case bool:
		f.Default = &d
	default:
		return nil, fmt.Errorf("model: attribute %s: default %v is not a Boolean", a.LogicalName, a.Default)
	}
	for _, o := range a.Options {
		f.Options = append(f.Options, optionFacts{Value: o.Value, Label: o.Label, State: o.State + 1})
	}
	return json.Marshal(f)
}

// AttributeFromFacts rebuilds a column from its Facts and its document packed by PackDocument,
// which is unpacked the first time Doc asks for it.
func AttributeFromFacts(facts, packed []byte) (*Attribute, error) {
	var f attributeFacts
	if err := json.Unmarshal(facts, &f); err != nil {
		return nil, fmt.Errorf("model: attribute facts: %w", err)
	}
	if !ValidIdent(f.Name) {
		return nil, fmt.Errorf("model: attribute facts: invalid LogicalName %q", f.Name)
	}
	a := &Attribute{
		LogicalName: f.Name, SchemaName: f.Schema, MetadataID: f.ID, Type: f.Type, TypeName: f.TypeName,
		DisplayName: f.Display, MaxLength: f.MaxLength, Precision: f.Precision, MinValue: f.Min, MaxValue: f.Max,
		HasRange: f.HasRange, Format: f.Format, Targets: f.Targets, TrueLabel: f.TrueLabel, FalseLabel: f.FalseLabel,
		IsPrimaryID: f.PrimaryID, IsPrimaryName: f.PrimaryName, ValidForCreate: !f.NoCreate, ValidForUpdate: !f.NoUpdate,
		ValidForRead: !f.NoRead, RequiredLevel: "None", AttributeOf: f.AttributeOf, IsCustom: f.Custom,
		doc: &attributeDocument{packed: packed},
	}
	if f.Required != "" {
		a.RequiredLevel = f.Required
	}
	if f.Default != nil {
		a.Default = *f.Default
	}
	if len(f.Options) > 0 {
		a.Options = make([]Option, len(f.Options))
		for i, o := range f.Options {
			a.Options[i] = Option{Value: o.Value, Label: o.Label, State: o.State - 1}
		}
	}
	return a, nil
}

// Equal reports whether two columns say the same: the same facts and the same document. (It also
// lets go-cmp compare schemas, which it could not do field by field past the lazily read
// document.)
func (a *Attribute) Equal(b *Attribute) bool {
	if a == nil || b == nil {
		return a == b
	}
	x, y := *a, *b
	x.doc, y.doc = nil, nil
	return reflect.DeepEqual(x, y) && bytes.Equal(a.Doc(), b.Doc())
}
