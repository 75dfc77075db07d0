package metadataapi

import (
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"strings"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/store"
	"github.com/dynlocal/dynlocal/emulator/webapi"
	"github.com/dynlocal/dynlocal/emulator/wire"
)

// This file holds the metadata functions and actions: RetrieveTotalRecordCount,
// RetrieveMetadataChanges, PublishXml and PublishAllXml.

// codeNotInMetadataCache is the platform code of "The entity with a name = 'x' ... was not found
// in the MetadataCache." (0x80041102).
const codeNotInMetadataCache = "0x80041102"

// operationURL is the request URL as Dataverse quotes it in "No HTTP resource" errors.
func operationURL(req *webapi.Request) string {
	p := req.R.URL.Path
	if i := strings.Index(p, "/api/data/"); i >= 0 {
		p = p[i+len("/api/data/"):]
		if j := strings.IndexByte(p, '/'); j >= 0 {
			p = p[j+1:]
		}
	}
	return strings.TrimSuffix(req.Base+p, "/")
}

// operationParams splits the parameters of a function call, Name=value pairs separated by commas,
// resolving parameter aliases (@p1) from the query string. An unassigned alias is null, as OData
// says.
func operationParams(req *webapi.Request) (map[string]string, error) {
	out := map[string]string{}
	text := strings.TrimSpace(req.Res.Params)
	if text == "" {
		return out, nil
	}
	aliases := req.Query.Aliases()
	for _, part := range splitParams(text) {
		name, val, ok := strings.Cut(part, "=")
		name, val = strings.TrimSpace(name), strings.TrimSpace(val)
		if !ok || name == "" {
			return nil, dverr.BadRequest("The parameters of the function '%s' must be written as Name=value pairs.", req.Res.Operation)
		}
		if _, dup := out[name]; dup {
			return nil, dverr.BadRequest("The parameter '%s' is given more than once.", name)
		}
		if strings.HasPrefix(val, "@") {
			v, ok := aliases[val]
			if !ok {
				v = "null"
			}
			val = strings.TrimSpace(v)
		}
		out[name] = val
	}
	return out, nil
}

// splitParams splits at commas outside quotes, brackets and braces.
func splitParams(s string) []string {
	var out []string
	depth, start := 0, 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' && quote == '"' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '[' || c == '{' || c == '(':
			depth++
		case c == ']' || c == '}' || c == ')':
			depth--
		case c == ',' && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// parseStringList reads a collection of strings written as ['a','b'] or ["a","b"].
func parseStringList(text string) ([]string, bool) {
	text = strings.TrimSpace(text)
	if !strings.HasPrefix(text, "[") || !strings.HasSuffix(text, "]") {
		return nil, false
	}
	var list []string
	if json.Unmarshal([]byte(text), &list) == nil {
		return list, true
	}
	inner := strings.TrimSpace(text[1 : len(text)-1])
	if inner == "" {
		return []string{}, true
	}
	for _, item := range splitParams(inner) {
		item = strings.TrimSpace(item)
		if len(item) < 2 || item[0] != '\'' || item[len(item)-1] != '\'' {
			return nil, false
		}
		list = append(list, strings.ReplaceAll(item[1:len(item)-1], "''", "'"))
	}
	return list, true
}

// retrieveTotalRecordCount answers the RetrieveTotalRecordCount function. Dataverse answers from a
// snapshot up to a day old; the emulator counts the rows now.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/retrievetotalrecordcount
func (s *API) retrieveTotalRecordCount(req *webapi.Request) (*wire.Response, error) {
	if req.R.Method != http.MethodGet {
		return nil, dverr.NoHTTPResource(operationURL(req))
	}
	params, err := operationParams(req)
	if err != nil {
		return nil, err
	}
	raw, ok := params["EntityNames"]
	if !ok || raw == "null" {
		return nil, dverr.BadRequest("The function 'RetrieveTotalRecordCount' needs its parameter 'EntityNames'.")
	}
	for n := range params {
		if n != "EntityNames" {
			return nil, dverr.BadRequest("The function 'RetrieveTotalRecordCount' has no parameter '%s'.", n)
		}
	}
	names, ok := parseStringList(raw)
	if !ok {
		return nil, dverr.BadRequest("The value of 'EntityNames' must be a collection of strings, such as ['account','contact'].")
	}
	var keys []string
	var values []any
	err = s.InTx(req, false, func(tx *store.Tx) error {
		seen := map[string]bool{}
		for _, n := range names {
			if seen[n] {
				continue
			}
			seen[n] = true
			e, ok := tx.Schema().Entity(n)
			if !ok {
				return dverr.New(http.StatusNotFound, codeNotInMetadataCache, "The entity with a name = '%s' with namemapping = 'Logical' was not found in the MetadataCache.", n)
			}
			c, err := tx.Count(e)
			if err != nil {
				return err
			}
			keys = append(keys, n)
			values = append(values, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if keys == nil {
		keys, values = []string{}, []any{}
	}
	coll := wire.NewObject()
	coll.Set("Count", len(keys))
	coll.Set("IsReadOnly", false)
	coll.Set("Keys", keys)
	coll.Set("Values", values)
	body := wire.NewObject()
	body.Set("@odata.context", req.Base+"$metadata#Microsoft.Dynamics.CRM.RetrieveTotalRecordCountResponse")
	body.Set("EntityRecordCountCollection", coll)
	return metaJSONResponse(body), nil
}

// metadataFilterExpression is a MetadataFilterExpression of an EntityQueryExpression.
type metadataFilterExpression struct {
	FilterOperator string                        `json:"FilterOperator"`
	Conditions     []metadataConditionExpression `json:"Conditions"`
	Filters        []metadataFilterExpression    `json:"Filters"`
}

type metadataConditionExpression struct {
	ConditionOperator string          `json:"ConditionOperator"`
	PropertyName      string          `json:"PropertyName"`
	Value             json.RawMessage `json:"Value"`
}

type metadataPropertiesExpression struct {
	AllProperties bool     `json:"AllProperties"`
	PropertyNames []string `json:"PropertyNames"`
}

type metadataSubQuery struct {
	Criteria   *metadataFilterExpression     `json:"Criteria"`
	Properties *metadataPropertiesExpression `json:"Properties"`
}

// entityQueryExpression is the Query parameter of RetrieveMetadataChanges.
type entityQueryExpression struct {
	Criteria          *metadataFilterExpression     `json:"Criteria"`
	Properties        *metadataPropertiesExpression `json:"Properties"`
	AttributeQuery    *metadataSubQuery             `json:"AttributeQuery"`
	RelationshipQuery *metadataSubQuery             `json:"RelationshipQuery"`
	KeyQuery          *metadataSubQuery             `json:"KeyQuery"`
	LabelQuery        json.RawMessage               `json:"LabelQuery"`
}

// check validates the operators of a filter.
func (f *metadataFilterExpression) check() error {
	if f == nil {
		return nil
	}
	switch f.FilterOperator {
	case "", "And", "Or":
	default:
		return dverr.BadRequest("The FilterOperator '%s' is not valid: use And or Or.", f.FilterOperator)
	}
	for _, c := range f.Conditions {
		switch c.ConditionOperator {
		case "Equals", "NotEquals", "In", "NotIn", "GreaterThan", "LessThan":
		default:
			return dverr.BadRequest("The ConditionOperator '%s' is not valid: use Equals, NotEquals, In, NotIn, GreaterThan or LessThan.", c.ConditionOperator)
		}
		if c.PropertyName == "" {
			return dverr.BadRequest("A metadata condition needs a PropertyName.")
		}
	}
	for i := range f.Filters {
		if err := f.Filters[i].check(); err != nil {
			return err
		}
	}
	return nil
}

// match evaluates a filter on a decoded document. A nil filter matches everything.
func (f *metadataFilterExpression) match(doc map[string]any) bool {
	if f == nil {
		return true
	}
	or := f.FilterOperator == "Or"
	some := false
	for _, c := range f.Conditions {
		ok := c.match(doc)
		if or && ok {
			return true
		}
		if !or && !ok {
			return false
		}
		some = true
	}
	for i := range f.Filters {
		ok := f.Filters[i].match(doc)
		if or && ok {
			return true
		}
		if !or && !ok {
			return false
		}
		some = true
	}
	return !or || !some
}

// conditionValues reads a condition's value: a typed value {"Type":..., "Value":...} or a plain
// JSON value; arrays give several values (for In and NotIn).
func conditionValues(raw json.RawMessage) []any {
	var typed struct {
		Type  *string         `json:"Type"`
		Value json.RawMessage `json:"Value"`
	}
	if json.Unmarshal(raw, &typed) == nil && typed.Type != nil {
		raw = typed.Value
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return nil
	}
	if list, ok := v.([]any); ok {
		return list
	}
	return []any{v}
}

func (c metadataConditionExpression) match(doc map[string]any) bool {
	have := doc[c.PropertyName]
	if m, ok := have.(map[string]any); ok {
		// Managed properties compare by their Value.
		if v, ok := m["Value"]; ok {
			have = v
		}
	}
	vals := conditionValues(c.Value)
	in := false
	for _, v := range vals {
		if cmp, ok := compareMeta(have, v); ok && cmp == 0 {
			in = true
		}
	}
	switch c.ConditionOperator {
	case "Equals", "In":
		return in
	case "NotEquals", "NotIn":
		return !in
	case "GreaterThan", "LessThan":
		if len(vals) != 1 {
			return false
		}
		cmp, ok := compareMeta(have, vals[0])
		if !ok {
			return false
		}
		if c.ConditionOperator == "GreaterThan" {
			return cmp > 0
		}
		return cmp < 0
	}
	return false
}

// compareMeta orders two decoded JSON values of the same kind; strings compare without case.
func compareMeta(a, b any) (int, bool) {
	if a == nil || b == nil {
		if a == nil && b == nil {
			return 0, true
		}
		return 0, false
	}
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		if !ok {
			return 0, false
		}
		return strings.Compare(strings.ToLower(x), strings.ToLower(y)), true
	case bool:
		y, ok := b.(bool)
		if !ok {
			return 0, false
		}
		if x == y {
			return 0, true
		}
		return 1, true
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return 0, false
		}
		rx, ok1 := new(big.Rat).SetString(string(x))
		ry, ok2 := new(big.Rat).SetString(string(y))
		if !ok1 || !ok2 {
			return 0, false
		}
		return rx.Cmp(ry), true
	}
	return 0, false
}

// wants reports whether a properties expression asks for name.
func (p *metadataPropertiesExpression) wants(name string) bool {
	if p == nil || p.AllProperties {
		return true
	}
	for _, n := range p.PropertyNames {
		if n == name {
			return true
		}
	}
	return false
}

// selection is the $select-like list of a properties expression: nil for all properties.
func (p *metadataPropertiesExpression) selection() []string {
	if p == nil || p.AllProperties {
		return nil
	}
	out := []string{}
	for _, n := range p.PropertyNames {
		if !entityNavs[n] {
			out = append(out, n)
		}
	}
	return out
}

// retrieveMetadataChanges answers the RetrieveMetadataChanges function for an
// EntityQueryExpression: the tables its Criteria select, with the properties (and the columns,
// keys and relationships) it asks for. Deleted-metadata tracking is not kept: every call answers
// with the full current result and no deleted items.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/query-schema-definitions
func (s *API) retrieveMetadataChanges(req *webapi.Request) (*wire.Response, error) {
	if req.R.Method != http.MethodGet {
		return nil, dverr.NoHTTPResource(operationURL(req))
	}
	params, err := operationParams(req)
	if err != nil {
		return nil, err
	}
	for n := range params {
		switch n {
		case "Query", "ClientVersionStamp", "DeletedMetadataFilters", "AppModuleId", "RetrieveAllSettings":
		default:
			return nil, dverr.BadRequest("The function 'RetrieveMetadataChanges' has no parameter '%s'.", n)
		}
	}
	var q entityQueryExpression
	if raw, ok := params["Query"]; ok && raw != "null" {
		if err := json.Unmarshal([]byte(raw), &q); err != nil {
			return nil, dverr.BadRequest("The value of the parameter 'Query' is not a valid EntityQueryExpression: %v.", err)
		}
	}
	if err := q.Criteria.check(); err != nil {
		return nil, err
	}
	if q.AttributeQuery != nil {
		if err := q.AttributeQuery.Criteria.check(); err != nil {
			return nil, err
		}
	}
	var items []*wire.Object
	var version int64
	err = s.InTx(req, false, func(tx *store.Tx) error {
		sch := tx.Schema()
		version = sch.Version
		for _, e := range sch.Entities() {
			doc, err := docMap(e.Raw)
			if err != nil {
				return err
			}
			if !q.Criteria.match(doc) {
				continue
			}
			o, err := changedEntity(sch, e, &q)
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
	if items == nil {
		items = []*wire.Object{}
	}
	deleted := wire.NewObject()
	deleted.Set("Count", 0)
	deleted.Set("IsReadOnly", false)
	deleted.Set("Keys", []string{})
	deleted.Set("Values", []any{})
	body := wire.NewObject()
	body.Set("@odata.context", req.Base+"$metadata#Microsoft.Dynamics.CRM.RetrieveMetadataChangesResponse")
	body.Set("EntityMetadata", items)
	body.Set("ServerVersionStamp", fmt.Sprintf("%d!%s", version, s.cfg.Clock().UTC().Format("01/02/2006 15:04:05")))
	body.Set("DeletedMetadata", deleted)
	return metaJSONResponse(body), nil
}

// changedEntity renders one table of a RetrieveMetadataChanges answer.
func changedEntity(sch *model.Schema, e *model.Entity, q *entityQueryExpression) (*wire.Object, error) {
	doc, err := docObject(e.Raw)
	if err != nil {
		return nil, err
	}
	o := metaProject(doc, q.Properties.selection(), func(k string) bool { return !entityNavs[k] }, "")
	if q.Properties.wants("Attributes") {
		var attrQ metadataSubQuery
		if q.AttributeQuery != nil {
			attrQ = *q.AttributeQuery
		}
		items := []*wire.Object{}
		for _, a := range e.Attributes {
			if attrQ.Criteria != nil {
				m, err := docMap(a.Doc())
				if err != nil {
					return nil, err
				}
				if !attrQ.Criteria.match(m) {
					continue
				}
			}
			ad, err := docObject(a.Doc())
			if err != nil {
				return nil, err
			}
			items = append(items, metaProject(ad, attrQ.Properties.selection(), nil, attributeType(a)))
		}
		o.Set("Attributes", items)
	}
	if q.Properties.wants("Keys") {
		items := []*wire.Object{}
		for _, k := range e.Keys {
			kd, err := docObject(k.Raw)
			if err != nil {
				return nil, err
			}
			items = append(items, metaProject(kd, nil, nil, ""))
		}
		o.Set("Keys", items)
	}
	for _, nav := range []string{"ManyToOneRelationships", "OneToManyRelationships", "ManyToManyRelationships"} {
		if !q.Properties.wants(nav) {
			continue
		}
		items := []*wire.Object{}
		for _, r := range entityRelationships(sch, e, nav) {
			rd, err := docObject(r.Raw)
			if err != nil {
				return nil, err
			}
			items = append(items, metaProject(rd, nil, nil, ""))
		}
		o.Set(nav, items)
	}
	return o, nil
}

// publish answers the PublishXml and PublishAllXml actions. Customizations take effect in the
// emulator as soon as they are saved, so publishing has nothing left to do.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/publishxml
func (s *API) publish(req *webapi.Request) (*wire.Response, error) {
	if req.R.Method != http.MethodPost {
		return nil, dverr.NoHTTPResource(operationURL(req))
	}
	if req.Res.HasParens && strings.TrimSpace(req.Res.Params) != "" {
		return nil, dverr.BadRequest("Action parameters go in the request body.")
	}
	body, err := webapi.ReadBody(req.R)
	if err != nil {
		return nil, err
	}
	params := wire.NewObject()
	if len(strings.TrimSpace(string(body))) > 0 {
		if params, err = webapi.ParseObject(body, req.Res.Operation); err != nil {
			return nil, err
		}
	}
	param := ""
	for _, m := range params.Members() {
		switch {
		case m.Name == "ParameterXml" && req.Res.Operation == "PublishXml":
			if err := json.Unmarshal(m.Raw(), &param); err != nil {
				return nil, dverr.BadRequest("The parameter 'ParameterXml' must be a string.")
			}
		case strings.HasPrefix(m.Name, "@"):
		default:
			return nil, dverr.BadRequest("The action '%s' has no parameter '%s'.", req.Res.Operation, m.Name)
		}
	}
	if req.Res.Operation == "PublishXml" && strings.TrimSpace(param) == "" {
		return nil, dverr.BadRequest("The action 'PublishXml' needs its parameter 'ParameterXml'.")
	}
	return wire.NewResponse(http.StatusNoContent), nil
}
