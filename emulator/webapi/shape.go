package webapi

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/store"
	"github.com/dynlocal/dynlocal/emulator/wire"
)

// shaper writes rows as Dataverse JSON for one request.
type shaper struct {
	tx     *store.Tx
	base   string
	prefer wire.Prefer
	// names caches primary names of looked-up rows, keyed by entity and id.
	names map[string]string
}

// rowBuffers hold rows while encoded writes them, so that a buffer grown to a row's size once
// serves the rows of later requests.
var rowBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledRow is the largest buffer kept for another row: one that grew past it for a row of
// long texts is left to the collector rather than held.
const maxPooledRow = 256 << 10

func newShaper(tx *store.Tx, base string, p wire.Prefer) *shaper {
	return &shaper{tx: tx, base: base, prefer: p, names: map[string]string{}}
}

// entityURL is the canonical URL of a row.
func entityURL(base string, e *model.Entity, id string) string {
	return base + e.EntitySetName + "(" + id + ")"
}

// attrNames returns logical names of stored attributes, for store.Get.
func attrNames(attrs []*model.Attribute) []string {
	out := make([]string, 0, len(attrs))
	for _, a := range attrs {
		if a.Stored() {
			out = append(out, a.LogicalName)
		}
	}
	return out
}

// row writes one row: @odata.etag, then each column (lookups as _x_value with their annotations,
// formatted values before their property when asked for).
func (s *shaper) row(e *model.Entity, r model.Row, version int64, attrs []*model.Attribute) (*wire.Object, error) {
	// Room for every column (and its formatted value when annotations are asked for), the ETag
	// and @odata.context.
	n := len(attrs) + 2
	if s.prefer.Annotations != nil {
		n += len(attrs)
	}
	o := wire.NewObjectSize(n)
	o.Add("@odata.etag", wire.ETag(version))
	if err := s.columns(o, e, r, attrs); err != nil {
		return nil, err
	}
	return o, nil
}

// columns adds the columns of attrs (distinct, as every caller passes them) to o, which must not
// have them yet.
func (s *shaper) columns(o *wire.Object, e *model.Entity, r model.Row, attrs []*model.Attribute) error {
	fv := s.prefer.WantsAnnotation(wire.AnnFormatted)
	for _, a := range attrs {
		v, present := r[a.LogicalName]
		if !present {
			if fileKind(a) != "" {
				if err := s.fileValue(o, e, r, a); err != nil {
					return err
				}
			}
			continue
		}
		if a.IsLookup() {
			key := a.LookupProperty()
			if l, ok := v.(model.Lookup); ok && l.ID != "" {
				if fv {
					name, err := s.primaryName(l)
					if err != nil {
						return err
					}
					if name != "" {
						o.Add(key+"@"+wire.AnnFormatted, name)
					}
				}
				if s.prefer.WantsAnnotation(wire.AnnAssociated) {
					o.Add(key+"@"+wire.AnnAssociated, navFor(e, a, l.Entity))
				}
				if s.prefer.WantsAnnotation(wire.AnnLookupName) {
					o.Add(key+"@"+wire.AnnLookupName, l.Entity)
				}
				o.Add(key, l.ID)
			} else {
				o.Add(key, nil)
			}
			continue
		}
		if v != nil && fv {
			if f := model.FormatValue(a, v); f != "" {
				o.Add(a.LogicalName+"@"+wire.AnnFormatted, f)
			}
		}
		o.Add(a.LogicalName, jsonValue(a, v))
	}
	return nil
}

// plain reports whether rows with the columns attrs can be written by encoded: every column is
// stored (a file column is read apart) and no annotation that columns would add is asked for.
func (s *shaper) plain(attrs []*model.Attribute) bool {
	if s.prefer.WantsAnnotation(wire.AnnFormatted) || s.prefer.WantsAnnotation(wire.AnnAssociated) || s.prefer.WantsAnnotation(wire.AnnLookupName) {
		return false
	}
	for _, a := range attrs {
		if !a.Stored() {
			return false
		}
	}
	return true
}

// encoded writes a row as row does, straight from its values in the order of attrs and without a
// map of the row or a member per column: @odata.etag, then the columns, lookups as _x_value.
// Only for columns that plain accepts.
func (s *shaper) encoded(version int64, attrs []*model.Attribute, vals []any) (*wire.Object, error) {
	b := rowBuffers.Get().(*bytes.Buffer)
	defer func() {
		if b.Cap() <= maxPooledRow {
			b.Reset()
			rowBuffers.Put(b)
		}
	}()
	for i, a := range attrs {
		if i > 0 {
			b.WriteByte(',')
		}
		v := vals[i]
		if a.IsLookup() {
			if l, ok := v.(model.Lookup); ok && l.ID != "" {
				v = l.ID
			} else {
				v = nil
			}
		} else if t, ok := v.(time.Time); ok && a.Format != "DateOnly" {
			// The commonest column after strings, written without a string of its own.
			b.WriteString(a.ReadMember())
			b.WriteByte('"')
			b.Write(model.AppendDateTime(b.AvailableBuffer(), t))
			b.WriteByte('"')
			continue
		} else {
			v = jsonValue(a, v)
		}
		if v == nil {
			b.WriteString(a.ReadMemberNull())
			continue
		}
		b.WriteString(a.ReadMember())
		if err := wire.AppendValue(b, v); err != nil {
			return nil, err
		}
	}
	o := wire.NewObjectSize(3)
	o.Add("@odata.etag", wire.ETag(version))
	o.AddEncoded(bytes.Clone(b.Bytes()))
	return o, nil
}

// navFor names the navigation property that writes lookup a for a target table.
func navFor(e *model.Entity, a *model.Attribute, target string) string {
	for _, n := range e.SingleNavsFor(a.LogicalName) {
		if n.Target == target {
			return n.Name
		}
	}
	return a.LogicalName
}

// primaryName reads the primary name of a referenced row, for formatted values.
func (s *shaper) primaryName(l model.Lookup) (string, error) {
	key := l.Entity + ":" + l.ID
	if n, ok := s.names[key]; ok {
		return n, nil
	}
	te, ok := s.tx.Schema().Entity(l.Entity)
	if !ok || te.PrimaryNameAttribute == "" {
		return "", nil
	}
	if pa, ok := te.Attribute(te.PrimaryNameAttribute); !ok || !pa.Stored() {
		return "", nil
	}
	row, _, err := s.tx.Get(te, l.ID, []string{te.PrimaryNameAttribute})
	if err == store.ErrNotFound {
		s.names[key] = ""
		return "", nil
	}
	if err != nil {
		return "", err
	}
	n, _ := row[te.PrimaryNameAttribute].(string)
	s.names[key] = n
	return n, nil
}

// jsonValue converts a store value to what goes in the JSON body.
func jsonValue(a *model.Attribute, v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case time.Time:
		if a.Format == "DateOnly" {
			return x.Format(model.DateOnlyLayout)
		}
		return model.FormatDateTime(x)
	case []int64:
		parts := make([]string, len(x))
		for i, n := range x {
			parts[i] = strconv.FormatInt(n, 10)
		}
		return strings.Join(parts, ",")
	case model.Lookup:
		return x.ID
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return nil
		}
	}
	return v
}
