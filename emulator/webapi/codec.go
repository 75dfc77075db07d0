package webapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/odata"
	"github.com/dynlocal/dynlocal/emulator/wire"
)

// maxBodyBytes bounds a request body. Dataverse's own limit for a request is 128 MB; the emulator
// keeps memory in check with a smaller one that no record write reaches.
const maxBodyBytes = 32 << 20

// payloadError is Dataverse's answer to a body the OData reader cannot read.
func payloadError(set, detail string) *dverr.Error {
	return dverr.New(http.StatusBadRequest, dverr.CodePayloadError,
		"Error identified in Payload provided by the user for Entity :'%s', For more information on this error please follow this help link https://go.microsoft.com/fwlink/?linkid=2195293  ----> InnerException : Microsoft.OData.ODataException: %s", set, detail)
}

// ReadBody reads a request body, bounded.
func ReadBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, dverr.BadRequest("The request body could not be read: %v", err)
	}
	if len(b) > maxBodyBytes {
		return nil, dverr.New(http.StatusRequestEntityTooLarge, dverr.CodeNone, "The request body is too large.")
	}
	return b, nil
}

// ParseObject reads a request body: a JSON object whose member values stay raw JSON, in order. Text
// that is not one object, or names a member twice, gets the answer Dataverse's OData reader gives.
func ParseObject(body []byte, set string) (*wire.Object, error) {
	o, err := wire.ParseObjectStrict(body)
	var dup *wire.DuplicateError
	switch {
	case err == nil:
		return o, nil
	case errors.Is(err, wire.ErrEmpty):
		return nil, payloadError(set, "The request body is empty; a JSON object was expected.")
	case errors.Is(err, wire.ErrNotObject):
		return nil, payloadError(set, "Invalid JSON. A JSON object was expected.")
	case errors.As(err, &dup):
		return nil, payloadError(set, fmt.Sprintf("Multiple property annotations or properties with the name '%s' were detected when reading a resource. In OData, duplicate property names are not allowed.", dup.Name))
	case errors.Is(err, wire.ErrTrailing):
		return nil, payloadError(set, "Invalid JSON. More than one value was found at the root of the JSON content. JSON content can only have one value at the root level.")
	}
	return nil, payloadError(set, "Invalid JSON. "+jsonErrText(err, body))
}

// readEntityBody reads the body of a row write or of a reference ($ref): a JSON object, or a JSON
// string whose text is one. Some clients (dataverse-ify) serialise the object twice and send the
// string; Dataverse reads it as the object it holds.
func readEntityBody(req *Request, set string) (*wire.Object, error) {
	body, err := readJSONBytes(req)
	if err != nil {
		return nil, err
	}
	return ParseEntityBody(body, set)
}

// ParseEntityBody is ParseObject for the body of a row write or a reference: a body that is a JSON
// string holding a JSON object is read as that object. Anything else, a string holding anything but
// one object included, gets ParseObject's answer for the body as sent.
func ParseEntityBody(body []byte, set string) (*wire.Object, error) {
	if inner, ok := stringifiedObject(body); ok {
		if o, err := ParseObject(inner, set); err == nil {
			return o, nil
		}
	}
	return ParseObject(body, set)
}

// stringifiedObject returns the text of a body that is one JSON string whose text starts as an
// object does.
func stringifiedObject(body []byte) ([]byte, bool) {
	t := bytes.TrimSpace(body)
	if len(t) == 0 || t[0] != '"' {
		return nil, false
	}
	var s string
	if err := json.Unmarshal(t, &s); err != nil {
		return nil, false
	}
	inner := bytes.TrimSpace([]byte(s))
	if len(inner) == 0 || inner[0] != '{' {
		return nil, false
	}
	return inner, true
}

func jsonErrText(err error, body []byte) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s at position %d.", strings.TrimPrefix(se.Error(), "invalid character "), se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Sprintf("Unexpected end of content at position %d.", len(body))
	}
	return err.Error()
}

// writeOp says which kind of write a body is decoded for.
type writeOp int

const (
	opCreate writeOp = iota
	opUpdate
	// opFixture is a create from the fixture loader, which may set system columns.
	opFixture
)

// entityRef is a row a body refers to through @odata.bind.
type entityRef struct {
	Entity *model.Entity
	ID     string
}

// deepInsert is a related row created with its parent.
type deepInsert struct {
	Nav  *model.Nav
	Plan *writePlan
}

// collectionBind links existing rows to the new row through a collection-valued navigation.
type collectionBind struct {
	Nav  *model.Nav
	Refs []entityRef
}

// writePlan is a decoded POST or PATCH body.
type writePlan struct {
	Entity *model.Entity
	Row    model.Row
	// ID is the primary key given in the body, if any.
	ID string
	// Single are related rows to create first and point a lookup at.
	Single []deepInsert
	// Children are related rows to create after the parent, pointing at it.
	Children []deepInsert
	Binds    []collectionBind
}

// refResolver turns an @odata.bind or @odata.id value into a row reference. The batch processor
// replaces it to resolve $n Content-ID references.
type refResolver func(value string) (*model.Entity, *odata.Key, error)

// decoder decodes request bodies against one schema.
type decoder struct {
	sch     *model.Schema
	base    string // service root the client used
	resolve refResolver
	lookup  func(e *model.Entity, k *odata.Key) (string, error)
}

// decodeRecord turns a body into a write plan for entity e.
func (d *decoder) decodeRecord(e *model.Entity, body *wire.Object, op writeOp) (*writePlan, error) {
	p := &writePlan{Entity: e, Row: model.Row{}}
	for _, m := range body.Members() {
		name, raw := m.Name, m.Raw()
		if i := strings.IndexByte(name, '@'); i >= 0 {
			prop, term := name[:i], name[i+1:]
			if prop == "" || term != "odata.bind" {
				// @odata.type, @odata.context, @odata.etag and annotations a client round-trips are
				// ignored, as Dataverse ignores them.
				continue
			}
			if err := d.decodeBind(p, prop, raw, op); err != nil {
				return nil, err
			}
			continue
		}
		if nav, ok := e.Nav(name); ok {
			if err := d.decodeNav(p, nav, raw, op); err != nil {
				return nil, err
			}
			continue
		}
		a, ok := e.Attribute(name)
		if !ok {
			if strings.HasPrefix(name, "_") && strings.HasSuffix(name, "_value") {
				if la, ok := e.Attribute(name[1 : len(name)-6]); ok && la.IsLookup() {
					return nil, dverr.BadRequest("CRM do not support direct update of Entity Reference properties, Use Navigation properties instead.")
				}
			}
			return nil, dverr.InvalidBodyProperty(name, e.LogicalName)
		}
		if a.IsLookup() {
			if string(raw) == "null" {
				p.Row[a.LogicalName] = nil
				continue
			}
			return nil, dverr.BadRequest("CRM do not support direct update of Entity Reference properties, Use Navigation properties instead.")
		}
		if !a.Stored() {
			continue
		}
		if a.IsPrimaryID {
			if op == opUpdate {
				continue
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil || !model.IsGUID(s) {
				return nil, convertError(raw, "Edm.Guid")
			}
			p.ID = strings.ToLower(s)
			continue
		}
		if op != opFixture {
			if a.LogicalName == "overriddencreatedon" && op == opCreate {
				v, err := decodeValue(e, a, raw)
				if err != nil {
					return nil, err
				}
				if v != nil {
					p.Row["createdon"] = v
				}
				continue
			}
			if op == opCreate && !a.ValidForCreate || op == opUpdate && !a.ValidForUpdate {
				// Dataverse ignores values for columns that cannot be set (createdon, fullname, ...).
				continue
			}
		}
		v, err := decodeValue(e, a, raw)
		if err != nil {
			return nil, err
		}
		p.Row[a.LogicalName] = v
	}
	return p, nil
}

// decodeBind handles "prop@odata.bind".
func (d *decoder) decodeBind(p *writePlan, prop string, raw json.RawMessage, op writeOp) error {
	e := p.Entity
	nav, ok := e.Nav(prop)
	if !ok {
		if _, isAttr := e.Attribute(prop); isAttr {
			return payloadError(e.EntitySetName, fmt.Sprintf("An undeclared property '%s' which only has property annotations in the payload but no property value was found in the payload. In OData, only declared navigation properties and declared named streams can be represented as properties without values.", prop))
		}
		return dverr.InvalidBodyProperty(prop, e.LogicalName)
	}
	if string(raw) == "null" {
		if nav.Kind != model.NavSingle {
			return dverr.BadRequest("A null value was found for the collection-valued navigation property '%s'; bind an array of entity references.", prop)
		}
		p.Row[nav.Attribute] = nil
		return nil
	}
	if nav.Kind == model.NavSingle {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return payloadError(e.EntitySetName, fmt.Sprintf("The value of the annotation 'odata.bind' for the single-valued navigation property '%s' must be a string.", prop))
		}
		ref, err := d.ref(s, nav)
		if err != nil {
			return err
		}
		p.Row[nav.Attribute] = model.Lookup{ID: ref.ID, Entity: ref.Entity.LogicalName}
		return nil
	}
	if op == opUpdate {
		return dverr.BadRequest("Binding a collection-valued navigation property ('%s') is only supported when creating a record; use POST %s/$ref to associate records.", prop, prop)
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return payloadError(e.EntitySetName, fmt.Sprintf("The value of the annotation 'odata.bind' for the collection-valued navigation property '%s' must be an array of strings.", prop))
	}
	b := collectionBind{Nav: nav}
	for _, s := range list {
		ref, err := d.ref(s, nav)
		if err != nil {
			return err
		}
		b.Refs = append(b.Refs, ref)
	}
	p.Binds = append(p.Binds, b)
	return nil
}

// decodeNav handles a navigation property given a value: null clears a lookup, an object or array
// is a deep insert.
func (d *decoder) decodeNav(p *writePlan, nav *model.Nav, raw json.RawMessage, op writeOp) error {
	e := p.Entity
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		if nav.Kind != model.NavSingle {
			return dverr.BadRequest("A null value was found for the collection-valued navigation property '%s'.", nav.Name)
		}
		p.Row[nav.Attribute] = nil
		return nil
	}
	if op == opUpdate {
		return dverr.BadRequest("Deep update is not supported: the navigation property '%s' cannot be given related records in an update. Update the related records separately.", nav.Name)
	}
	target, _ := d.sch.Entity(nav.Target)
	if nav.Kind == model.NavSingle {
		if len(raw) == 0 || raw[0] != '{' {
			return payloadError(e.EntitySetName, fmt.Sprintf("A node of type 'PrimitiveValue' was read from the JSON reader when trying to read the contents of the navigation property '%s'; however, a 'StartObject' node or 'StartArray' node was expected.", nav.Name))
		}
		members, err := ParseObject(raw, target.EntitySetName)
		if err != nil {
			return err
		}
		child, err := d.decodeRecord(target, members, op)
		if err != nil {
			return err
		}
		p.Single = append(p.Single, deepInsert{Nav: nav, Plan: child})
		return nil
	}
	if nav.Kind == model.NavManyToMany {
		return dverr.BadRequest("Deep insert through the many-to-many relationship '%s' is not supported; create the records and associate them.", nav.Name)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return payloadError(e.EntitySetName, fmt.Sprintf("A node of type 'StartObject' or 'PrimitiveValue' was read for the collection-valued navigation property '%s'; however, a 'StartArray' node was expected.", nav.Name))
	}
	for _, it := range items {
		members, err := ParseObject(it, target.EntitySetName)
		if err != nil {
			return err
		}
		child, err := d.decodeRecord(target, members, op)
		if err != nil {
			return err
		}
		p.Children = append(p.Children, deepInsert{Nav: nav, Plan: child})
	}
	return nil
}

// ref resolves a bind value and checks it fits the navigation property.
func (d *decoder) ref(value string, nav *model.Nav) (entityRef, error) {
	e, k, err := d.resolve(value)
	if err != nil {
		return entityRef{}, err
	}
	if e.LogicalName != nav.Target {
		return entityRef{}, dverr.BadRequest("The entity reference '%s' is of type '%s', but the navigation property '%s' expects '%s'.", value, e.LogicalName, nav.Name, nav.Target)
	}
	id, err := d.lookup(e, k)
	if err != nil {
		return entityRef{}, err
	}
	return entityRef{Entity: e, ID: id}, nil
}

// resolveURL parses an entity URL: absolute (http://host/api/data/v9.2/accounts(<id>)),
// server-relative (/api/data/v9.2/accounts(<id>)) or relative (accounts(<id>), /accounts(<id>)).
func (d *decoder) resolveURL(value string) (*model.Entity, *odata.Key, error) {
	s := value
	if i := strings.Index(s, "://"); i >= 0 {
		rest := s[i+3:]
		j := strings.IndexByte(rest, '/')
		if j < 0 {
			return nil, nil, badRef(value)
		}
		s = rest[j:]
	}
	if i := strings.Index(s, "/api/data/v9."); i >= 0 {
		s = s[i+len("/api/data/v9."):]
		if len(s) < 2 || s[1] != '/' {
			return nil, nil, badRef(value)
		}
		s = s[2:]
	}
	s = strings.TrimPrefix(s, "/")
	segs, err := odata.SplitPath(s)
	if err != nil || len(segs) != 1 || !segs[0].HasParens {
		return nil, nil, badRef(value)
	}
	e, ok := d.sch.EntityBySet(segs[0].Name)
	if !ok {
		return nil, nil, dverr.ResourceNotFound(segs[0].Name)
	}
	k, err := odata.ParseKey(segs[0].Parens)
	if err != nil {
		return nil, nil, err
	}
	if err := odata.CheckKeyNames(e, k); err != nil {
		return nil, nil, err
	}
	return e, k, nil
}

func badRef(value string) error {
	return dverr.BadRequest("The entity reference '%s' is not a valid URL of a record, such as /accounts(00000000-0000-0000-0000-000000000001).", value)
}

// convertError is OData's answer to a JSON value of the wrong type.
func convertError(raw json.RawMessage, edm string) error {
	lit := strings.Trim(string(raw), `"`)
	if len(lit) > 100 {
		lit = lit[:100] + "..."
	}
	return dverr.BadRequest("An error occurred while validating input parameters: Microsoft.OData.ODataException: Cannot convert the literal '%s' to the expected type '%s'.", lit, edm)
}

func outOfRange(e *model.Entity, a *model.Attribute, raw string) error {
	return dverr.New(http.StatusBadRequest, dverr.CodeValueOutOfRange, "A validation error occurred. The value %s of '%s' on record of type '%s' is outside the valid range.", raw, a.LogicalName, e.LogicalName)
}

// decodeValue converts a JSON value to the store's value for attribute a, validating type, length,
// range and option values the way Dataverse does.
func decodeValue(e *model.Entity, a *model.Attribute, raw json.RawMessage) (any, error) {
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		return nil, nil
	}
	switch a.Type {
	case model.TypeString, model.TypeMemo, model.TypeEntityName:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, convertError(raw, "Edm.String")
		}
		if a.MaxLength > 0 && utf16Len(s) > a.MaxLength {
			return nil, dverr.MaxLengthExceeded(a.LogicalName, e.LogicalName, a.MaxLength)
		}
		return s, nil
	case model.TypeUniqueidentifier:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil || !model.IsGUID(s) {
			return nil, convertError(raw, "Edm.Guid")
		}
		return strings.ToLower(s), nil
	case model.TypeBoolean:
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return nil, convertError(raw, "Edm.Boolean")
		}
		return b, nil
	case model.TypeInteger, model.TypeBigInt, model.TypePicklist, model.TypeState, model.TypeStatus:
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			return nil, convertError(raw, a.EdmType())
		}
		if a.Type != model.TypeBigInt && (n < math.MinInt32 || n > math.MaxInt32) {
			return nil, convertError(raw, a.EdmType())
		}
		if a.IsChoice() {
			if _, ok := a.OptionLabel(n); !ok {
				return nil, invalidOption(e, a, n)
			}
		} else if a.HasRange && (float64(n) < a.MinValue || float64(n) > a.MaxValue) {
			return nil, outOfRange(e, a, string(raw))
		}
		return n, nil
	case model.TypeDouble:
		if raw[0] == '"' {
			return nil, convertError(raw, "Edm.Double")
		}
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return nil, convertError(raw, "Edm.Double")
		}
		if a.HasRange && (f < a.MinValue || f > a.MaxValue) {
			return nil, outOfRange(e, a, string(raw))
		}
		return f, nil
	case model.TypeMoney, model.TypeDecimal:
		if raw[0] == '"' || raw[0] == '{' || raw[0] == '[' || raw[0] == 't' || raw[0] == 'f' {
			return nil, convertError(raw, "Edm.Decimal")
		}
		d, err := model.ParseDecimal(string(raw), a.Precision)
		if err != nil {
			if errors.Is(err, model.ErrDecimalRange) {
				return nil, outOfRange(e, a, string(raw))
			}
			return nil, convertError(raw, "Edm.Decimal")
		}
		if a.HasRange && (d.Float() < a.MinValue || d.Float() > a.MaxValue) {
			return nil, outOfRange(e, a, string(raw))
		}
		return d.Rescale(a.Scale())
	case model.TypeDateTime:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, convertError(raw, a.EdmType())
		}
		if a.Format == "DateOnly" {
			t, err := time.Parse(model.DateOnlyLayout, s)
			if err != nil {
				return nil, convertError(raw, "Edm.Date")
			}
			if err := checkDateRange(a, t); err != nil {
				return nil, err
			}
			return t, nil
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			// Dataverse also takes a date-time without an offset, as UTC.
			t, err = time.Parse("2006-01-02T15:04:05", s)
			if err != nil {
				return nil, convertError(raw, "Edm.DateTimeOffset")
			}
		}
		if err := checkDateRange(a, t.UTC()); err != nil {
			return nil, err
		}
		return t.UTC().Truncate(time.Second), nil
	}
	if a.IsMultiSelect() {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, convertError(raw, "Edm.String")
		}
		var vals []int64
		seen := map[int64]bool{}
		for _, part := range strings.Split(s, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			n, err := strconv.ParseInt(part, 10, 32)
			if err != nil {
				return nil, convertError(raw, "Edm.String")
			}
			if _, ok := a.OptionLabel(n); !ok {
				return nil, invalidOption(e, a, n)
			}
			if !seen[n] {
				seen[n] = true
				vals = append(vals, n)
			}
		}
		return vals, nil
	}
	return nil, dverr.BadRequest("The property '%s' cannot be set.", a.LogicalName)
}

func invalidOption(e *model.Entity, a *model.Attribute, n int64) error {
	vals := make([]string, len(a.Options))
	for i, o := range a.Options {
		vals[i] = strconv.FormatInt(o.Value, 10)
	}
	return dverr.New(http.StatusBadRequest, dverr.CodeInvalidOptionValue,
		"A validation error occurred. The value %d of '%s' on record of type '%s' is outside the valid range. Accepted Values: %s", n, a.LogicalName, e.LogicalName, strings.Join(vals, ","))
}

// utf16Len counts UTF-16 code units, which is how Dataverse measures string length.
func utf16Len(s string) int {
	n := 0
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		s = s[size:]
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}
