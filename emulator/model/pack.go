package model

import (
	"encoding/binary"
	"errors"
	"math"
)

// The pack's encoding: a version byte, then the columns one after the other, then the deflated
// documents. Strings and lists are length-prefixed, integers are varints, floats their IEEE bits.
// A hand-written encoding because the standard ones (JSON, gob) spend more time decoding the
// facts of a few thousand columns than a start may take.

// Version 2 added each option's default status and invariant name; packs of version 1 (kept in a
// data directory by an older build) still decode, their options without either.
const packVersion = 2

var errShortPack = errors.New("the pack is cut short or damaged")

func (p *attributePack) encode() []byte {
	b := []byte{packVersion}
	b = binary.AppendUvarint(b, uint64(len(p.Columns)))
	for i := range p.Columns {
		f := &p.Columns[i]
		for _, s := range []string{f.Name, f.Schema, f.ID, string(f.Type), f.TypeName, f.Display, f.Format,
			f.TrueLabel, f.FalseLabel, f.Required, f.AttributeOf} {
			b = appendString(b, s)
		}
		b = binary.AppendVarint(b, int64(f.MaxLength))
		b = binary.AppendVarint(b, int64(f.Precision))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(f.Min))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(f.Max))
		var flags byte
		for bit, on := range []bool{f.HasRange, f.PrimaryID, f.PrimaryName, f.NoCreate, f.NoUpdate, f.NoRead, f.Custom} {
			if on {
				flags |= 1 << bit
			}
		}
		b = append(b, flags, byte(f.Default))
		b = binary.AppendUvarint(b, uint64(len(f.Targets)))
		for _, t := range f.Targets {
			b = appendString(b, t)
		}
		b = binary.AppendUvarint(b, uint64(len(f.Options)))
		for _, o := range f.Options {
			b = binary.AppendVarint(b, o.Value)
			b = appendString(b, o.Label)
			b = binary.AppendVarint(b, o.State)
			b = binary.AppendVarint(b, o.DefaultStatus)
			b = appendString(b, o.InvariantName)
		}
		b = binary.AppendUvarint(b, uint64(f.DocStart))
		b = binary.AppendUvarint(b, uint64(f.DocLength))
	}
	return append(b, p.Docs...)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// packReader reads the encoding, remembering the first error.
type packReader struct {
	b   []byte
	err error
}

func (r *packReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errShortPack
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *packReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errShortPack
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a length that must fit in what is left.
func (r *packReader) count() int {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.err = errShortPack
		return 0
	}
	return int(n)
}

func (r *packReader) string() string {
	n := r.count()
	if r.err != nil {
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *packReader) bytes(n int) []byte {
	if r.err != nil || len(r.b) < n {
		r.err = errShortPack
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func decodePack(b []byte) (*attributePack, error) {
	if len(b) == 0 || b[0] < 1 || b[0] > packVersion {
		return nil, errors.New("unknown pack version")
	}
	version := b[0]
	r := &packReader{b: b[1:]}
	p := &attributePack{Columns: make([]attributeFacts, r.count())}
	for i := range p.Columns {
		f := &p.Columns[i]
		for _, s := range []*string{&f.Name, &f.Schema, &f.ID, (*string)(&f.Type), &f.TypeName, &f.Display, &f.Format,
			&f.TrueLabel, &f.FalseLabel, &f.Required, &f.AttributeOf} {
			*s = r.string()
		}
		f.MaxLength = int(r.varint())
		f.Precision = int(r.varint())
		if fb := r.bytes(16); fb != nil {
			f.Min = math.Float64frombits(binary.LittleEndian.Uint64(fb))
			f.Max = math.Float64frombits(binary.LittleEndian.Uint64(fb[8:]))
		}
		if fl := r.bytes(2); fl != nil {
			for bit, on := range []*bool{&f.HasRange, &f.PrimaryID, &f.PrimaryName, &f.NoCreate, &f.NoUpdate, &f.NoRead, &f.Custom} {
				*on = fl[0]&(1<<bit) != 0
			}
			f.Default = int8(fl[1])
		}
		if n := r.count(); n > 0 {
			f.Targets = make([]string, n)
			for j := range f.Targets {
				f.Targets[j] = r.string()
			}
		}
		if n := r.count(); n > 0 {
			f.Options = make([]Option, n)
			for j := range f.Options {
				o := Option{Value: r.varint(), Label: r.string(), State: r.varint(), DefaultStatus: -1}
				if version >= 2 {
					o.DefaultStatus, o.InvariantName = r.varint(), r.string()
				}
				f.Options[j] = o
			}
		}
		f.DocStart, f.DocLength = int(r.uvarint()), int(r.uvarint())
		if r.err != nil {
			return nil, r.err
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	p.Docs = r.b
	return p, nil
}
