package model

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sync"
)

// A table's columns can be packed into one blob (PackAttributes) that reads back far faster than
// their documents parse: the documents of the standard tables run to megabytes, and a store that
// keeps them packed opens in milliseconds. The blob holds, for each column, the facts the
// emulator works with, and all the documents in one compressed stream, which is inflated the first
// time one of them is asked for (Doc): the metadata API reads few tables.

// attributeFacts is what the emulator takes from a column's AttributeMetadata.
type attributeFacts struct {
	Name, Schema, ID    string
	Type                AttributeType
	TypeName, Display   string
	MaxLength           int
	Precision           int
	Min, Max            float64
	HasRange            bool
	Format              string
	Targets             []string
	Options             []Option
	TrueLabel           string
	FalseLabel          string
	Default             int8 // 0 none, 1 false, 2 true
	PrimaryID           bool
	PrimaryName         bool
	NoCreate, NoUpdate  bool
	NoRead              bool
	Required            string
	AttributeOf         string
	Custom              bool
	DocStart, DocLength int
}

// attributePack is the blob's content.
type attributePack struct {
	Columns []attributeFacts
	// Docs is the documents one after the other, deflated.
	Docs []byte
}

// PackAttributes packs a table's columns for UnpackAttributes.
func PackAttributes(attrs []*Attribute) ([]byte, error) {
	var docs bytes.Buffer
	p := attributePack{Columns: make([]attributeFacts, len(attrs))}
	for i, a := range attrs {
		f := attributeFacts{
			Name: a.LogicalName, Schema: a.SchemaName, ID: a.MetadataID, Type: a.Type, TypeName: a.TypeName,
			Display: a.DisplayName, MaxLength: a.MaxLength, Precision: a.Precision, Min: a.MinValue, Max: a.MaxValue,
			HasRange: a.HasRange, Format: a.Format, Targets: a.Targets, Options: a.Options, TrueLabel: a.TrueLabel,
			FalseLabel: a.FalseLabel, PrimaryID: a.IsPrimaryID, PrimaryName: a.IsPrimaryName, NoCreate: !a.ValidForCreate,
			NoUpdate: !a.ValidForUpdate, NoRead: !a.ValidForRead, Required: a.RequiredLevel, AttributeOf: a.AttributeOf,
			Custom: a.IsCustom,
		}
		switch d := a.Default.(type) {
		case nil:
		case bool:
			f.Default = 1
			if d {
				f.Default = 2
			}
		default:
			return nil, fmt.Errorf("model: attribute %s: default %v is not a Boolean", a.LogicalName, a.Default)
		}
		doc := a.Doc()
		f.DocStart, f.DocLength = docs.Len(), len(doc)
		docs.Write(doc)
		p.Columns[i] = f
	}
	var packed bytes.Buffer
	w, err := flate.NewWriter(&packed, flate.BestSpeed)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(docs.Bytes()); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	p.Docs = packed.Bytes()
	return p.encode(), nil
}

// UnpackAttributes rebuilds the columns PackAttributes packed.
func UnpackAttributes(b []byte) ([]*Attribute, error) {
	p, err := decodePack(b)
	if err != nil {
		return nil, fmt.Errorf("model: unpack attributes: %w", err)
	}
	docs := &packedDocs{packed: p.Docs}
	out := make([]*Attribute, len(p.Columns))
	for i, f := range p.Columns {
		if !ValidIdent(f.Name) {
			return nil, fmt.Errorf("model: unpack attributes: invalid LogicalName %q", f.Name)
		}
		a := &Attribute{
			LogicalName: f.Name, SchemaName: f.Schema, MetadataID: f.ID, Type: f.Type, TypeName: f.TypeName,
			DisplayName: f.Display, MaxLength: f.MaxLength, Precision: f.Precision, MinValue: f.Min, MaxValue: f.Max,
			HasRange: f.HasRange, Format: f.Format, Targets: f.Targets, Options: f.Options, TrueLabel: f.TrueLabel,
			FalseLabel: f.FalseLabel, IsPrimaryID: f.PrimaryID, IsPrimaryName: f.PrimaryName, ValidForCreate: !f.NoCreate,
			ValidForUpdate: !f.NoUpdate, ValidForRead: !f.NoRead, RequiredLevel: f.Required, AttributeOf: f.AttributeOf,
			IsCustom: f.Custom,
			doc:      &attributeDocument{pack: docs, start: f.DocStart, length: f.DocLength},
		}
		if f.Default != 0 {
			a.Default = f.Default == 2
		}
		a.nameFacts()
		out[i] = a
	}
	return out, nil
}

// attributeDocument is a column's document: its own bytes, or its place in its table's packed
// documents.
type attributeDocument struct {
	raw           json.RawMessage
	pack          *packedDocs
	start, length int
}

// packedDocs is a table's documents, inflated once on first use.
type packedDocs struct {
	once   sync.Once
	packed []byte
	docs   []byte
}

func (p *packedDocs) bytes() []byte {
	p.once.Do(func() {
		p.docs, _ = io.ReadAll(flate.NewReader(bytes.NewReader(p.packed)))
		p.packed = nil
	})
	return p.docs
}

// Doc returns the column's full AttributeMetadata document, as the metadata API answers with it.
// It is nil only when packed documents cannot be read back, which a sound store never gives.
func (a *Attribute) Doc() json.RawMessage {
	d := a.doc
	switch {
	case d == nil:
		return nil
	case d.pack == nil:
		return d.raw
	}
	all := d.pack.bytes()
	if d.start < 0 || d.start+d.length > len(all) {
		return nil
	}
	return json.RawMessage(all[d.start : d.start+d.length : d.start+d.length])
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
	x.lookupProperty, y.lookupProperty = "", ""
	x.member, y.member, x.memberNull, y.memberNull = "", "", "", ""
	return reflect.DeepEqual(x, y) && bytes.Equal(a.Doc(), b.Doc())
}

// Facts returns what the emulator takes from a relationship's document (its exported fields), for
// RelationshipFromFacts: a few hundred bytes where the document has well over a thousand. They are
// packed like attributes' facts (a version byte, then length-prefixed strings): a start reads
// eight hundred of them, and decoding them as JSON was the largest part of opening a database.
func (r *Relationship) Facts() ([]byte, error) {
	b := []byte{relationshipPackVersion}
	for _, s := range r.packedFields() {
		b = appendString(b, *s)
	}
	return b, nil
}

// relationshipPackVersion starts packed facts; facts that start with '{' are the JSON an older
// build wrote, which still decodes.
const relationshipPackVersion = 1

// packedFields are the fields Facts packs, in their order.
func (r *Relationship) packedFields() []*string {
	return []*string{&r.SchemaName, &r.MetadataID, (*string)(&r.Type),
		&r.ReferencedEntity, &r.ReferencedAttribute, &r.ReferencingEntity, &r.ReferencingAttribute, &r.ReferencingNav, &r.ReferencedNav,
		&r.Entity1, &r.Entity2, &r.IntersectEntity, &r.Entity1IntersectAttribute, &r.Entity2IntersectAttribute, &r.Entity1Nav, &r.Entity2Nav,
		&r.CascadeDelete}
}

// RelationshipFromFacts rebuilds a relationship from its Facts and its document.
func RelationshipFromFacts(facts []byte, doc json.RawMessage) (*Relationship, error) {
	var r Relationship
	if len(facts) > 0 && facts[0] == relationshipPackVersion {
		pr := &packReader{b: facts[1:]}
		for _, f := range r.packedFields() {
			*f = pr.string()
		}
		if pr.err == nil && len(pr.b) > 0 {
			pr.err = errors.New("bytes after the last field")
		}
		if pr.err != nil {
			return nil, fmt.Errorf("model: relationship facts: %w", pr.err)
		}
	} else if err := json.Unmarshal(facts, &r); err != nil {
		return nil, fmt.Errorf("model: relationship facts: %w", err)
	}
	if r.SchemaName == "" || (r.Type != OneToMany && r.Type != ManyToMany) {
		return nil, fmt.Errorf("model: relationship facts: no SchemaName or type")
	}
	r.Raw = doc
	return &r, nil
}
