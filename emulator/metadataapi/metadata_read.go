package metadataapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/odata"
	"github.com/dynlocal/dynlocal/emulator/store"
	"github.com/dynlocal/dynlocal/emulator/webapi"
	"github.com/dynlocal/dynlocal/emulator/wire"
	"github.com/dynlocal/dynlocal/fixtures"
)

// This file answers GETs of metadata: tables, their columns, keys and relationships, relationship
// and global option set definitions. Documents are served from the store as stored, cut to what
// the request selects and what the declared type shows. Metadata queries are never paged.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query-metadata-web-api
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/retrieve-metadata-name-metadataid

// docObject reads a stored document into an ordered object whose values stay raw JSON.
func docObject(raw json.RawMessage) (*wire.Object, error) {
	o, err := wire.ParseObject(raw)
	if err != nil {
		return nil, fmt.Errorf("emulator: metadata document: %w", err)
	}
	return o, nil
}

// docMap decodes a document for $filter, keeping numbers exact.
func docMap(raw json.RawMessage) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("emulator: metadata document: %w", err)
	}
	return m, nil
}

// metaQuery is the $select, $filter and $expand of a metadata request (or of one expanded
// collection).
type metaQuery struct {
	sel    []string // nil selects everything
	filter *odata.DocFilter
	expand []metaExpand
}

type metaExpand struct {
	name string
	q    metaQuery
}

func (q *metaQuery) expands(name string) (*metaExpand, bool) {
	for i := range q.expand {
		if q.expand[i].name == name {
			return &q.expand[i], true
		}
	}
	return nil, false
}

// metaType describes a metadata type for query checks: its name and its properties.
type metaType struct {
	name string
	has  func(string) bool
	// navs are the navigation properties $expand may name, nil when the type has none.
	navs map[string]bool
}

func (t metaType) schema() odata.DocSchema {
	return odata.DocSchema{TypeName: crmNS + t.name, Has: t.has}
}

func entityMetaType() metaType {
	return metaType{name: "EntityMetadata", has: func(n string) bool { return entityMetadataProps[n] }, navs: entityNavs}
}

func attributeMetaType(typ string) metaType {
	t := metaType{name: typ, has: func(n string) bool { return attributeHas(typ, n) }}
	if hasOptionSetNavs(typ) {
		t.navs = optionSetNavs
	}
	return t
}

func relationshipMetaType(typ string) metaType {
	return metaType{name: typ, has: func(n string) bool { return relationshipHas(typ, n) }}
}

var keyMetaType = metaType{name: "EntityKeyMetadata", has: func(n string) bool { return keyProps[n] }}

var optionSetMetaType = metaType{name: "OptionSetMetadataBase", has: func(n string) bool { return optionSetProps[n] }}

// parseSelectList checks a $select list against a type. "*" selects everything.
func parseSelectList(text string, t metaType) ([]string, error) {
	var out []string
	for _, part := range strings.Split(text, ",") {
		name := strings.TrimSpace(part)
		switch {
		case name == "*":
			return nil, nil
		case name == "":
			return nil, dverr.BadRequest("The $select expression '%s' is not valid: it has an empty item.", text)
		case t.navs[name]:
			// A navigation property in $select adds nothing to the answer.
			continue
		case !t.has(name):
			return nil, dverr.PropertyNotFound(name, t.name)
		}
		out = append(out, name)
	}
	if out == nil {
		out = []string{}
	}
	return out, nil
}

// parseMetaQuery reads $select, $filter and $expand for items of type t. sub gives the type of an
// expanded navigation property's items.
func parseMetaQuery(opts map[string]string, aliases map[string]string, t metaType, sub func(nav string) metaType) (metaQuery, error) {
	var q metaQuery
	var err error
	if v, ok := opts["$select"]; ok {
		if q.sel, err = parseSelectList(v, t); err != nil {
			return q, err
		}
	}
	if v, ok := opts["$filter"]; ok {
		if q.filter, err = odata.ParseDocFilter(v, aliases, t.schema()); err != nil {
			return q, err
		}
	}
	if v, ok := opts["$expand"]; ok {
		for _, item := range odata.SplitOptions(v, ',') {
			item = strings.TrimSpace(item)
			name, inner, hasOpts := strings.Cut(item, "(")
			name = strings.TrimSpace(name)
			if !t.navs[name] {
				if t.has(name) {
					return q, dverr.BadRequest("Property '%s' on type '%s%s' is not a navigation property or complex property. Only navigation properties can be expanded.", name, crmNS, t.name)
				}
				return q, dverr.PropertyNotFound(name, t.name)
			}
			if _, dup := q.expands(name); dup {
				return q, dverr.BadRequest("The navigation property '%s' is expanded more than once.", name)
			}
			x := metaExpand{name: name}
			if hasOpts {
				if !strings.HasSuffix(inner, ")") {
					return q, dverr.BadRequest("The $expand expression '%s' is not valid: ')' expected.", v)
				}
				nested := map[string]string{}
				for _, o := range odata.SplitOptions(strings.TrimSuffix(inner, ")"), ';') {
					k, val, _ := strings.Cut(strings.TrimSpace(o), "=")
					switch k {
					case "$select", "$filter":
						nested[k] = val
					case "":
					default:
						return q, dverr.BadRequest("The query option '%s' is not supported inside $expand of metadata; use $select and $filter.", k)
					}
				}
				if sub == nil {
					return q, dverr.BadRequest("Query options are not supported inside $expand=%s.", name)
				}
				if x.q, err = parseMetaQuery(nested, aliases, sub(name), nil); err != nil {
					return q, err
				}
			}
			q.expand = append(q.expand, x)
		}
	}
	return q, nil
}

// metaOptions reads the request's system query options for a metadata resource, refusing the
// ones metadata queries do not take.
func (s *API) metaOptions(req *webapi.Request, allowed ...string) (map[string]string, error) {
	if err := req.Query.Allow(s.cfg.Loose, allowed...); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, n := range allowed {
		if v, ok := req.Query.Get(n); ok {
			out[n] = v
		}
	}
	return out, nil
}

// metaProject copies the members of a document an answer shows: the selected ones (MetadataId always)
// or, without a selection, those keep allows. Selected properties the document lacks come out as
// null. typ, when not empty, is written first as @odata.type.
func metaProject(doc *wire.Object, sel []string, keep func(string) bool, typ string) *wire.Object {
	out := wire.NewObject()
	if typ != "" {
		out.Set("@odata.type", "#"+crmNS+typ)
	}
	if sel == nil {
		for _, m := range doc.Members() {
			if m.Name == "@odata.type" || (keep != nil && !keep(m.Name)) {
				continue
			}
			out.Set(m.Name, m.Value)
		}
		return out
	}
	want := map[string]bool{"MetadataId": true}
	for _, n := range sel {
		want[n] = true
	}
	for _, m := range doc.Members() {
		if want[m.Name] {
			out.Set(m.Name, m.Value)
			delete(want, m.Name)
		}
	}
	for _, n := range sel {
		if want[n] {
			out.Set(n, nil)
		}
	}
	return out
}

// metaMatches applies a filter to a document.
func metaMatches(f *odata.DocFilter, raw json.RawMessage) (bool, error) {
	if f == nil {
		return true, nil
	}
	m, err := docMap(raw)
	if err != nil {
		return false, err
	}
	return f.Match(m), nil
}

// metaSelectContext renders the parenthesised part of a context URL: the selected properties and the
// expanded navigation properties with their own selections.
func metaSelectContext(q metaQuery) string {
	var parts []string
	parts = append(parts, q.sel...)
	for _, x := range q.expand {
		p := x.name
		if len(x.q.sel) > 0 {
			p += "(" + strings.Join(x.q.sel, ",") + ")"
		} else {
			p += "()"
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return ""
	}
	return "(" + strings.Join(parts, ",") + ")"
}

// metaJSONResponse wraps an object as a 200 response.
func metaJSONResponse(o *wire.Object) *wire.Response {
	resp := wire.NewResponse(http.StatusOK)
	resp.JSON = o
	return resp
}

// metaListResponse is a collection answer.
func metaListResponse(context string, items []*wire.Object) *wire.Response {
	if items == nil {
		items = []*wire.Object{}
	}
	body := wire.NewObject()
	body.Set("@odata.context", context)
	body.Set("value", items)
	return metaJSONResponse(body)
}

// entityKeyContext is how a context URL names the table a request addressed:
// EntityDefinitions('account') for a logical name, EntityDefinitions(<id>) for a MetadataId.
func entityKeyContext(p *metaPath, e *model.Entity) string {
	if p.key != nil && p.key.Single != nil && p.key.Single.Kind == odata.LitGUID {
		return "EntityDefinitions(" + e.MetadataID + ")"
	}
	return "EntityDefinitions('" + e.LogicalName + "')"
}

// entitySubType returns the item type of an entity's navigation property.
func entitySubType(nav string) metaType {
	switch nav {
	case "Attributes":
		return attributeMetaType("AttributeMetadata")
	case "Keys":
		return keyMetaType
	case "ManyToManyRelationships":
		return relationshipMetaType("ManyToManyRelationshipMetadata")
	}
	return relationshipMetaType("OneToManyRelationshipMetadata")
}

// listEntityDefinitions answers GET EntityDefinitions.
func (s *API) listEntityDefinitions(req *webapi.Request) (*wire.Response, error) {
	opts, err := s.metaOptions(req, "$select", "$filter", "$expand")
	if err != nil {
		return nil, err
	}
	q, err := parseMetaQuery(opts, req.Query.Aliases(), entityMetaType(), entitySubType)
	if err != nil {
		return nil, err
	}
	var items []*wire.Object
	err = s.InTx(req, false, func(tx *store.Tx) error {
		sch := tx.Schema()
		for _, e := range sch.Entities() {
			ok, err := metaMatches(q.filter, e.Raw)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			o, err := shapeEntity(sch, e, q)
			if err != nil {
				return err
			}
			items = append(items, o)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return metaListResponse(req.Base+"$metadata#EntityDefinitions"+metaSelectContext(q), items), nil
}

// getEntityDefinition answers GET EntityDefinitions(<key>).
func (s *API) getEntityDefinition(req *webapi.Request, p *metaPath) (*wire.Response, error) {
	opts, err := s.metaOptions(req, "$select", "$expand")
	if err != nil {
		return nil, err
	}
	q, err := parseMetaQuery(opts, req.Query.Aliases(), entityMetaType(), entitySubType)
	if err != nil {
		return nil, err
	}
	var body *wire.Object
	err = s.InTx(req, false, func(tx *store.Tx) error {
		sch := tx.Schema()
		e, err := findEntity(sch, p.key)
		if err != nil {
			return err
		}
		o, err := shapeEntity(sch, e, q)
		if err != nil {
			return err
		}
		body = wire.WithContext(req.Base+"$metadata#EntityDefinitions"+metaSelectContext(q)+"/$entity", o)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return metaJSONResponse(body), nil
}

// shapeEntity renders a table's definition with its expanded collections.
func shapeEntity(sch *model.Schema, e *model.Entity, q metaQuery) (*wire.Object, error) {
	doc, err := docObject(e.Raw)
	if err != nil {
		return nil, err
	}
	o := metaProject(doc, q.sel, func(k string) bool { return !entityNavs[k] }, "")
	for _, x := range q.expand {
		var items []*wire.Object
		switch x.name {
		case "Attributes":
			for _, a := range e.Attributes {
				ok, err := metaMatches(x.q.filter, a.Doc())
				if err != nil {
					return nil, err
				}
				if !ok {
					continue
				}
				ao, err := shapeAttribute(a, "AttributeMetadata", false, x.q.sel, nil)
				if err != nil {
					return nil, err
				}
				items = append(items, ao)
			}
		case "Keys":
			for _, k := range e.Keys {
				ko, err := metaShapeDoc(k.Raw, x.q, false)
				if err != nil {
					return nil, err
				}
				if ko != nil {
					items = append(items, ko)
				}
			}
		default:
			for _, r := range entityRelationships(sch, e, x.name) {
				ro, err := metaShapeDoc(r.Raw, x.q, false)
				if err != nil {
					return nil, err
				}
				if ro != nil {
					items = append(items, ro)
				}
			}
		}
		if items == nil {
			items = []*wire.Object{}
		}
		o.Set(x.name, items)
	}
	return o, nil
}

// metaShapeDoc filters and projects a key or relationship document; nil when the filter drops it.
// keepType keeps the document's @odata.type (for collections whose declared type is a base type).
func metaShapeDoc(raw json.RawMessage, q metaQuery, keepType bool) (*wire.Object, error) {
	ok, err := metaMatches(q.filter, raw)
	if err != nil || !ok {
		return nil, err
	}
	doc, err := docObject(raw)
	if err != nil {
		return nil, err
	}
	typ := ""
	if keepType {
		typ = metaDocType(doc)
	}
	return metaProject(doc, q.sel, nil, typ), nil
}

// metaDocType returns a document's @odata.type without '#' and namespace.
func metaDocType(doc *wire.Object) string {
	raw, ok := docValue(doc, "@odata.type").(json.RawMessage)
	if !ok {
		return ""
	}
	var t string
	if json.Unmarshal(raw, &t) != nil {
		return ""
	}
	return strings.TrimPrefix(strings.TrimPrefix(t, "#"), crmNS)
}

// entityRelationships lists a table's relationships of one kind, by schema name.
func entityRelationships(sch *model.Schema, e *model.Entity, nav string) []*model.Relationship {
	var out []*model.Relationship
	for _, r := range sch.Relationships() {
		switch nav {
		case "ManyToOneRelationships":
			if r.Type == model.OneToMany && r.ReferencingEntity == e.LogicalName {
				out = append(out, r)
			}
		case "OneToManyRelationships":
			if r.Type == model.OneToMany && r.ReferencedEntity == e.LogicalName {
				out = append(out, r)
			}
		case "ManyToManyRelationships":
			if r.Type == model.ManyToMany && (r.Entity1 == e.LogicalName || r.Entity2 == e.LogicalName) {
				out = append(out, r)
			}
		}
	}
	return out
}

// attributeTypeNames maps AttributeType values to the metadata type of documents that carry no
// @odata.type.
var attributeTypeNames = map[string]string{
	"String": "StringAttributeMetadata", "Memo": "MemoAttributeMetadata", "Integer": "IntegerAttributeMetadata",
	"BigInt": "BigIntAttributeMetadata", "Decimal": "DecimalAttributeMetadata", "Double": "DoubleAttributeMetadata",
	"Money": "MoneyAttributeMetadata", "Boolean": "BooleanAttributeMetadata", "DateTime": "DateTimeAttributeMetadata",
	"Picklist": "PicklistAttributeMetadata", "State": "StateAttributeMetadata", "Status": "StatusAttributeMetadata",
	"Lookup": "LookupAttributeMetadata", "Customer": "LookupAttributeMetadata", "Owner": "LookupAttributeMetadata",
	"Uniqueidentifier": "UniqueIdentifierAttributeMetadata", "EntityName": "EntityNameAttributeMetadata",
	"ManagedProperty": "ManagedPropertyAttributeMetadata",
}

// attributeType returns the metadata type of a column (without namespace).
func attributeType(a *model.Attribute) string {
	var d struct {
		Type string `json:"@odata.type"`
	}
	if json.Unmarshal(a.Doc(), &d) == nil && d.Type != "" {
		return strings.TrimPrefix(strings.TrimPrefix(d.Type, "#"), crmNS)
	}
	switch {
	case a.IsMultiSelect():
		return "MultiSelectPicklistAttributeMetadata"
	case a.TypeName == "ImageType":
		return "ImageAttributeMetadata"
	case a.TypeName == "FileType":
		return "FileAttributeMetadata"
	}
	if t, ok := attributeTypeNames[string(a.Type)]; ok {
		return t
	}
	return "AttributeMetadata"
}

// shapeAttribute renders a column's definition for a collection or cast whose declared type is
// declared. full shows every property of the column's own type (a single column, or a cast);
// otherwise only AttributeMetadata's. OptionSet and GlobalOptionSet appear only when expanded.
func shapeAttribute(a *model.Attribute, declared string, full bool, sel []string, q *metaQuery) (*wire.Object, error) {
	doc, err := docObject(a.Doc())
	if err != nil {
		return nil, err
	}
	typ := attributeType(a)
	keep := func(k string) bool {
		if optionSetNavs[k] {
			return false
		}
		return full || attributeMetadataProps[k]
	}
	shown := ""
	if typ != declared {
		shown = typ
	}
	o := metaProject(doc, sel, keep, shown)
	if q != nil {
		set, _ := docValue(doc, "OptionSet").(json.RawMessage)
		global := false
		if len(set) > 0 {
			var d struct {
				IsGlobal bool `json:"IsGlobal"`
			}
			json.Unmarshal(set, &d)
			global = d.IsGlobal
		}
		for _, x := range q.expand {
			var v any
			switch {
			case x.name == "OptionSet" && len(set) > 0 && string(set) != "null":
				v = set
			case x.name == "GlobalOptionSet" && global:
				v = set
			}
			if v != nil && x.q.sel != nil {
				so, err := docObject(set)
				if err != nil {
					return nil, err
				}
				v = metaProject(so, x.q.sel, nil, "")
			}
			o.Set(x.name, v)
		}
	}
	return o, nil
}

// attributeCast checks the cast of an Attributes request and returns the declared type:
// AttributeMetadata without a cast. Casting to the abstract EnumAttributeMetadata is refused.
func attributeCast(p *metaPath) (string, error) {
	if p.cast == "" {
		return "AttributeMetadata", nil
	}
	if _, ok := attributeTypeProps[p.cast]; !ok {
		return "", dverr.ResourceNotFound(crmNS + p.cast)
	}
	if fixtures.IsAbstractAttributeType(p.cast) {
		return "", dverr.BadRequest("The type '%s%s' is abstract and cannot be used in a type cast; cast to a derived type such as 'Microsoft.Dynamics.CRM.PicklistAttributeMetadata'.", crmNS, p.cast)
	}
	return p.cast, nil
}

// getAttributes answers GET EntityDefinitions(...)/Attributes[(...)][/cast].
func (s *API) getAttributes(req *webapi.Request, p *metaPath) (*wire.Response, error) {
	declared, err := attributeCast(p)
	if err != nil {
		return nil, err
	}
	if p.optionSet != "" {
		return s.getAttributeOptionSet(req, p, declared)
	}
	allowed := []string{"$select", "$filter", "$expand"}
	if p.navKey != nil {
		allowed = []string{"$select", "$expand"}
	}
	opts, err := s.metaOptions(req, allowed...)
	if err != nil {
		return nil, err
	}
	q, err := parseMetaQuery(opts, req.Query.Aliases(), attributeMetaType(declared), func(string) metaType { return optionSetMetaType })
	if err != nil {
		return nil, err
	}
	var resp *wire.Response
	err = s.InTx(req, false, func(tx *store.Tx) error {
		e, err := findEntity(tx.Schema(), p.key)
		if err != nil {
			return err
		}
		ctx := req.Base + "$metadata#" + entityKeyContext(p, e) + "/Attributes"
		if p.cast != "" {
			ctx += "/" + crmNS + p.cast
		}
		ctx += metaSelectContext(q)
		if p.navKey != nil {
			a, err := findAttribute(e, p.navKey)
			if err != nil {
				return err
			}
			if !derivesFrom(attributeType(a), declared) {
				return metadataNotFound("attribute", "attribute name and type", a.LogicalName+" ("+crmNS+declared+")")
			}
			o, err := shapeAttribute(a, declared, true, q.sel, &q)
			if err != nil {
				return err
			}
			body := wire.WithContext(ctx+"/$entity", o)
			resp = metaJSONResponse(body)
			return nil
		}
		var items []*wire.Object
		for _, a := range e.Attributes {
			if !derivesFrom(attributeType(a), declared) {
				continue
			}
			ok, err := metaMatches(q.filter, a.Doc())
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			o, err := shapeAttribute(a, declared, p.cast != "", q.sel, &q)
			if err != nil {
				return err
			}
			items = append(items, o)
		}
		resp = metaListResponse(ctx, items)
		return nil
	})
	return resp, err
}

// getAttributeOptionSet answers GET EntityDefinitions(...)/Attributes(...)/<cast>/OptionSet (or
// GlobalOptionSet): the option set of a choice or yes/no column, reached through the cast to the
// column's type, with $select. A column without one (GlobalOptionSet of a local choice) answers
// 204, as a single-valued navigation property without a value does.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query-metadata-web-api#retrieving-attributes
func (s *API) getAttributeOptionSet(req *webapi.Request, p *metaPath, declared string) (*wire.Response, error) {
	if !hasOptionSetNavs(declared) {
		return nil, dverr.ResourceNotFound(p.optionSet)
	}
	opts, err := s.metaOptions(req, "$select")
	if err != nil {
		return nil, err
	}
	q, err := parseMetaQuery(opts, req.Query.Aliases(), optionSetMetaType, nil)
	if err != nil {
		return nil, err
	}
	var resp *wire.Response
	err = s.InTx(req, false, func(tx *store.Tx) error {
		e, err := findEntity(tx.Schema(), p.key)
		if err != nil {
			return err
		}
		a, err := findAttribute(e, p.navKey)
		if err != nil {
			return err
		}
		if !derivesFrom(attributeType(a), declared) {
			return metadataNotFound("attribute", "attribute name and type", a.LogicalName+" ("+crmNS+declared+")")
		}
		doc, err := docObject(a.Doc())
		if err != nil {
			return err
		}
		set, _ := docValue(doc, "OptionSet").(json.RawMessage)
		if len(set) == 0 || string(set) == "null" {
			resp = wire.NewResponse(http.StatusNoContent)
			return nil
		}
		so, err := docObject(set)
		if err != nil {
			return err
		}
		if p.optionSet == "GlobalOptionSet" {
			var d struct {
				IsGlobal bool `json:"IsGlobal"`
			}
			if err := json.Unmarshal(set, &d); err != nil || !d.IsGlobal {
				resp = wire.NewResponse(http.StatusNoContent)
				return nil
			}
		}
		ctx := req.Base + "$metadata#" + entityKeyContext(p, e) + "/Attributes(" + a.MetadataID + ")/" + crmNS + p.cast + "/" + p.optionSet + metaSelectContext(q) + "/$entity"
		resp = metaJSONResponse(wire.WithContext(ctx, metaProject(so, q.sel, nil, "")))
		return nil
	})
	return resp, err
}

// getEntityCollection answers GET EntityDefinitions(...)/Keys and the relationship collections.
func (s *API) getEntityCollection(req *webapi.Request, p *metaPath) (*wire.Response, error) {
	if p.cast != "" {
		return nil, dverr.ResourceNotFound(crmNS + p.cast)
	}
	t := entitySubType(p.nav)
	allowed := []string{"$select", "$filter"}
	if p.navKey != nil {
		allowed = []string{"$select"}
	}
	opts, err := s.metaOptions(req, allowed...)
	if err != nil {
		return nil, err
	}
	q, err := parseMetaQuery(opts, req.Query.Aliases(), t, nil)
	if err != nil {
		return nil, err
	}
	var resp *wire.Response
	err = s.InTx(req, false, func(tx *store.Tx) error {
		sch := tx.Schema()
		e, err := findEntity(sch, p.key)
		if err != nil {
			return err
		}
		type item struct {
			id, name string
			raw      json.RawMessage
		}
		var list []item
		nameKey := "SchemaName"
		if p.nav == "Keys" {
			nameKey = "LogicalName"
			for _, k := range e.Keys {
				list = append(list, item{k.MetadataID, k.LogicalName, k.Raw})
			}
		} else {
			for _, r := range entityRelationships(sch, e, p.nav) {
				list = append(list, item{r.MetadataID, r.SchemaName, r.Raw})
			}
		}
		ctx := req.Base + "$metadata#" + entityKeyContext(p, e) + "/" + p.nav + metaSelectContext(q)
		if p.navKey != nil {
			id, name, err := metaKey(p.navKey, nameKey)
			if err != nil {
				return err
			}
			for _, it := range list {
				if (id != "" && it.id == id) || (name != "" && it.name == name) {
					o, err := metaShapeDoc(it.raw, q, false)
					if err != nil {
						return err
					}
					body := wire.WithContext(ctx+"/$entity", o)
					resp = metaJSONResponse(body)
					return nil
				}
			}
			kind := "relationship"
			if p.nav == "Keys" {
				kind = "entity key"
			}
			return metadataNotFound(kind, "name", metaOr(name, id))
		}
		var items []*wire.Object
		for _, it := range list {
			o, err := metaShapeDoc(it.raw, q, false)
			if err != nil {
				return err
			}
			if o != nil {
				items = append(items, o)
			}
		}
		resp = metaListResponse(ctx, items)
		return nil
	})
	return resp, err
}

// metaKey reads a metadata key: a MetadataId, or the alternate key property nameKey.
func metaKey(k *odata.Key, nameKey string) (id, name string, err error) {
	if k.Single != nil {
		if k.Single.Kind != odata.LitGUID {
			return "", "", badMetadataKey()
		}
		return strings.ToLower(k.Single.Text), "", nil
	}
	if len(k.Pairs) != 1 || k.Pairs[0].Name != nameKey || k.Pairs[0].Value.Kind != odata.LitString {
		return "", "", badMetadataKey()
	}
	return "", k.Pairs[0].Value.Text, nil
}

func metaOr(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

// relationshipCast checks the cast of a RelationshipDefinitions request.
func relationshipCast(p *metaPath) (string, error) {
	switch p.cast {
	case "":
		return "RelationshipMetadataBase", nil
	case "RelationshipMetadataBase", "OneToManyRelationshipMetadata", "ManyToManyRelationshipMetadata":
		return p.cast, nil
	}
	return "", dverr.ResourceNotFound(crmNS + p.cast)
}

func relationshipType(r *model.Relationship) string {
	if r.Type == model.ManyToMany {
		return "ManyToManyRelationshipMetadata"
	}
	return "OneToManyRelationshipMetadata"
}

// getRelationships answers GET RelationshipDefinitions[(...)][/cast].
func (s *API) getRelationships(req *webapi.Request, p *metaPath) (*wire.Response, error) {
	declared, err := relationshipCast(p)
	if err != nil {
		return nil, err
	}
	allowed := []string{"$select", "$filter"}
	if p.key != nil {
		allowed = []string{"$select"}
	}
	opts, err := s.metaOptions(req, allowed...)
	if err != nil {
		return nil, err
	}
	q, err := parseMetaQuery(opts, req.Query.Aliases(), relationshipMetaType(declared), nil)
	if err != nil {
		return nil, err
	}
	ctx := req.Base + "$metadata#RelationshipDefinitions"
	if p.cast != "" {
		ctx += "/" + crmNS + p.cast
	}
	ctx += metaSelectContext(q)
	var resp *wire.Response
	err = s.InTx(req, false, func(tx *store.Tx) error {
		sch := tx.Schema()
		render := func(r *model.Relationship) (*wire.Object, error) {
			ok, err := metaMatches(q.filter, r.Raw)
			if err != nil || !ok {
				return nil, err
			}
			doc, err := docObject(r.Raw)
			if err != nil {
				return nil, err
			}
			shown := ""
			if t := relationshipType(r); t != declared {
				shown = t
			}
			return metaProject(doc, q.sel, nil, shown), nil
		}
		if p.key != nil {
			r, err := findRelationship(sch, p.key)
			if err != nil {
				return err
			}
			if declared != "RelationshipMetadataBase" && relationshipType(r) != declared {
				return metadataNotFound("relationship", "relationship name and type", r.SchemaName+" ("+crmNS+declared+")")
			}
			o, err := render(r)
			if err != nil {
				return err
			}
			body := wire.WithContext(ctx+"/$entity", o)
			resp = metaJSONResponse(body)
			return nil
		}
		var items []*wire.Object
		for _, r := range sch.Relationships() {
			if declared != "RelationshipMetadataBase" && relationshipType(r) != declared {
				continue
			}
			o, err := render(r)
			if err != nil {
				return err
			}
			if o != nil {
				items = append(items, o)
			}
		}
		resp = metaListResponse(ctx, items)
		return nil
	})
	return resp, err
}

// getOptionSets answers GET GlobalOptionSetDefinitions[(...)][/cast].
func (s *API) getOptionSets(req *webapi.Request, p *metaPath) (*wire.Response, error) {
	switch p.cast {
	case "", "OptionSetMetadataBase", "OptionSetMetadata", "BooleanOptionSetMetadata":
	default:
		return nil, dverr.ResourceNotFound(crmNS + p.cast)
	}
	allowed := []string{"$select", "$filter"}
	if p.key != nil {
		allowed = []string{"$select"}
	}
	opts, err := s.metaOptions(req, allowed...)
	if err != nil {
		return nil, err
	}
	q, err := parseMetaQuery(opts, req.Query.Aliases(), optionSetMetaType, nil)
	if err != nil {
		return nil, err
	}
	ctx := req.Base + "$metadata#GlobalOptionSetDefinitions"
	if p.cast != "" {
		ctx += "/" + crmNS + p.cast
	}
	ctx += metaSelectContext(q)
	var resp *wire.Response
	err = s.InTx(req, false, func(tx *store.Tx) error {
		sets, err := tx.OptionSets()
		if err != nil {
			return err
		}
		var id, name string
		if p.key != nil {
			if id, name, err = metaKey(p.key, "Name"); err != nil {
				return err
			}
		}
		var items []*wire.Object
		for _, raw := range sets {
			var d struct {
				MetadataID string `json:"MetadataId"`
				Name       string `json:"Name"`
				Type       string `json:"@odata.type"`
			}
			if err := json.Unmarshal(raw, &d); err != nil {
				return err
			}
			typ := strings.TrimPrefix(strings.TrimPrefix(d.Type, "#"), crmNS)
			if p.cast != "" && p.cast != "OptionSetMetadataBase" && typ != p.cast {
				continue
			}
			if p.key != nil && !(id != "" && strings.EqualFold(d.MetadataID, id) || name != "" && d.Name == name) {
				continue
			}
			o, err := metaShapeDoc(raw, q, p.cast == "" || p.cast == "OptionSetMetadataBase")
			if err != nil {
				return err
			}
			if o == nil {
				continue
			}
			if p.key != nil {
				body := wire.WithContext(ctx+"/$entity", o)
				resp = metaJSONResponse(body)
				return nil
			}
			items = append(items, o)
		}
		if p.key != nil {
			return metadataNotFound("option set", "name", metaOr(name, id))
		}
		resp = metaListResponse(ctx, items)
		return nil
	})
	return resp, err
}

// docValue is a document's member, nil when absent.
func docValue(doc *wire.Object, k string) any {
	v, _ := doc.Get(k)
	return v
}
