package webapi

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/store"
	"github.com/dynlocal/dynlocal/emulator/webhook"
	"github.com/dynlocal/dynlocal/emulator/wire"
)

// Custom APIs: messages defined by customapi, customapirequestparameter and
// customapiresponseproperty rows. Each becomes an Operation named by its uniquename: a function
// (isfunction) or an action, bound to a row (bindingtype 1) or an entity set (2) of
// boundentitylogicalname, or unbound (0). Dataverse runs a custom API's main operation in a
// plug-in; here a synchronous webhook step registered on the custom API's message at stage 30
// stands in for it, and its answer's OutputParameters become the response.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/custom-api

// customAPITables are the tables that define custom APIs; a change to any of them reloads them.
var customAPITables = []string{"customapi", "customapirequestparameter", "customapiresponseproperty"}

// The Type options of request parameters and response properties.
const (
	apiBoolean = iota
	apiDateTime
	apiDecimal
	apiEntity
	apiEntityCollection
	apiEntityReference
	apiFloat
	apiInteger
	apiMoney
	apiPicklist
	apiString
	apiStringArray
	apiGuid
)

// apiTypeNames are the Type options' labels, for messages.
var apiTypeNames = []string{"Boolean", "DateTime", "Decimal", "Entity", "EntityCollection", "EntityReference", "Float",
	"Integer", "Money", "Picklist", "String", "StringArray", "Guid"}

// customAPI is a custom API's definition.
type customAPI struct {
	ID, Name string
	Function bool
	Binding  Binding
	Entity   string
	Private  bool
	Params   []apiParam
	Props    []apiParam
}

// apiParam is a request parameter or a response property.
type apiParam struct {
	Name     string
	Type     int
	Entity   string // logicalentityname, for Entity, EntityCollection and EntityReference
	Optional bool
}

// edmType maps a Type option to the EDM type the Web API uses for it: Money as Edm.Decimal and
// Picklist as Edm.Int32, entities and references as entity types (mscrm.crmbaseentity unless the
// parameter names its table).
func (p apiParam) edmType() string {
	entity := "mscrm.crmbaseentity"
	if p.Entity != "" {
		entity = "mscrm." + p.Entity
	}
	switch p.Type {
	case apiBoolean:
		return "Edm.Boolean"
	case apiDateTime:
		return "Edm.DateTimeOffset"
	case apiDecimal, apiMoney:
		return "Edm.Decimal"
	case apiEntity, apiEntityReference:
		return entity
	case apiEntityCollection:
		return "Collection(" + entity + ")"
	case apiFloat:
		return "Edm.Double"
	case apiInteger, apiPicklist:
		return "Edm.Int32"
	case apiStringArray:
		return "Collection(Edm.String)"
	case apiGuid:
		return "Edm.Guid"
	}
	return "Edm.String"
}

// customAPICache holds the operations built from the custom API rows, rebuilt when the store
// generation of their tables changes.
type customAPICache struct {
	mu     sync.Mutex
	gen    uint64
	loaded bool
	ops    []*Operation
}

// CustomAPISource returns the source of the operations custom APIs define, for
// AddOperationSource.
func (s *Handler) CustomAPISource() OperationSource {
	c := &customAPICache{}
	return func(tx *store.Tx) ([]*Operation, error) { return c.operations(s, tx) }
}

func (s *Handler) customAPIGeneration() uint64 {
	var g uint64
	for _, t := range customAPITables {
		g += s.store.Generation(t)
	}
	return g
}

func (c *customAPICache) operations(s *Handler, tx *store.Tx) ([]*Operation, error) {
	gen := s.customAPIGeneration()
	c.mu.Lock()
	if c.loaded && c.gen == gen {
		ops := c.ops
		c.mu.Unlock()
		return ops, nil
	}
	c.mu.Unlock()
	defs, err := loadCustomAPIs(tx)
	if err != nil {
		return nil, err
	}
	ops := make([]*Operation, 0, len(defs))
	for _, d := range defs {
		ops = append(ops, d.operation())
	}
	c.mu.Lock()
	c.ops, c.gen, c.loaded = ops, gen, true
	c.mu.Unlock()
	return ops, nil
}

// operation builds the registry's Operation for a custom API.
func (d *customAPI) operation() *Operation {
	// A private custom API is served but kept out of $metadata, as Dataverse keeps it out of its
	// metadata and discovery documents.
	op := &Operation{Name: d.Name, Kind: Action, Binding: d.Binding, Entity: d.Entity, Hidden: d.Private}
	if d.Function {
		op.Kind = Function
	}
	for _, p := range d.Params {
		op.Params = append(op.Params, Param{Name: p.Name, Type: p.edmType(), Optional: p.Optional})
	}
	if len(d.Props) > 0 {
		op.Returns = "mscrm." + d.Name + "Response"
		for _, p := range d.Props {
			op.Response = append(op.Response, Param{Name: p.Name, Type: p.edmType(), Optional: true})
		}
	}
	op.Serve = func(s *Handler, req *Request, a *Args) (*wire.Response, error) {
		return s.serveCustomAPI(req, d, op, a)
	}
	return op
}

// loadCustomAPIs reads every custom API with its parameters and properties, by name.
func loadCustomAPIs(tx *store.Tx) ([]*customAPI, error) {
	sch := tx.Schema()
	ae, ok1 := sch.Entity("customapi")
	pe, ok2 := sch.Entity("customapirequestparameter")
	re, ok3 := sch.Entity("customapiresponseproperty")
	if !ok1 || !ok2 || !ok3 {
		return nil, nil
	}
	res, err := tx.Select(&model.Query{Entity: ae})
	if err != nil {
		return nil, err
	}
	byID := map[string]*customAPI{}
	var out []*customAPI
	for _, r := range res.Rows {
		name, _ := r.Row["uniquename"].(string)
		if name == "" || !model.ValidIdent(name) {
			continue
		}
		d := &customAPI{ID: r.ID, Name: name}
		d.Function, _ = r.Row["isfunction"].(bool)
		d.Private, _ = r.Row["isprivate"].(bool)
		bt, _ := r.Row["bindingtype"].(int64)
		d.Binding = Binding(bt)
		if d.Binding != Unbound {
			d.Entity, _ = r.Row["boundentitylogicalname"].(string)
			d.Entity = strings.ToLower(d.Entity)
			if _, ok := sch.Entity(d.Entity); !ok || d.Binding > BoundCollection {
				continue
			}
		}
		byID[r.ID] = d
		out = append(out, d)
	}
	read := func(e *model.Entity, add func(d *customAPI, p apiParam)) error {
		res, err := tx.Select(&model.Query{Entity: e})
		if err != nil {
			return err
		}
		for _, r := range res.Rows {
			l, _ := r.Row["customapiid"].(model.Lookup)
			d := byID[l.ID]
			name, _ := r.Row["uniquename"].(string)
			if d == nil || name == "" {
				continue
			}
			p := apiParam{Name: name}
			t, _ := r.Row["type"].(int64)
			p.Type = int(t)
			p.Entity, _ = r.Row["logicalentityname"].(string)
			p.Entity = strings.ToLower(p.Entity)
			if _, ok := tx.Schema().Entity(p.Entity); !ok {
				p.Entity = ""
			}
			p.Optional, _ = r.Row["isoptional"].(bool)
			add(d, p)
		}
		return nil
	}
	if err := read(pe, func(d *customAPI, p apiParam) { d.Params = append(d.Params, p) }); err != nil {
		return nil, err
	}
	if err := read(re, func(d *customAPI, p apiParam) { d.Props = append(d.Props, p) }); err != nil {
		return nil, err
	}
	for _, d := range out {
		sort.Slice(d.Params, func(i, j int) bool { return d.Params[i].Name < d.Params[j].Name })
		sort.Slice(d.Props, func(i, j int) bool { return d.Props[i].Name < d.Props[j].Name })
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// apiRunner is what a custom API call asks of the webhook dispatcher (a *webhook.Dispatcher).
type apiRunner interface {
	RunAPI(w *webhook.Invocation, steps []*webhook.Step, call *webhook.APICall) (map[string]json.RawMessage, bool, error)
}

// serveCustomAPI runs a custom API call: its parameters go to the webhook steps registered on its
// message, and the main operation's output parameters make the response. No transaction is held
// while endpoints are called (outside a $batch change set), so they may call the Web API back.
func (s *Handler) serveCustomAPI(req *Request, d *customAPI, op *Operation, a *Args) (*wire.Response, error) {
	sch := s.store.Schema()
	call := &webhook.APICall{Message: d.Name, ID: a.ID}
	if a.Entity != nil {
		call.Entity = a.Entity.LogicalName
	}
	for _, p := range d.Params {
		v, ok := a.Values[p.Name]
		if !ok || v == nil {
			continue
		}
		cv, err := contextValue(sch, p, v)
		if err != nil {
			return nil, err
		}
		call.Input = append(call.Input, webhook.Parameter{Key: p.Name, Value: cv})
	}
	newID, clock := s.cfg.NewID, s.cfg.Clock
	inv := &webhook.Invocation{Ctx: req.Ctx, UserID: req.Caller.UserID, RealUserID: req.Caller.RealUserID,
		BusinessUnitID: req.Caller.BusinessUnitID, Host: req.Caller.Host}
	if req.cs != nil {
		// In a change set the call runs in its transaction, whose Ledger makes the calls outside it.
		inv.Tx, inv.Ledger = req.cs.tx, ledgerOf(req.cs.tx)
		newID, clock = s.generators(req.cs.tx)
	}
	inv.Now = clock().UTC().Truncate(time.Second)
	var steps []*webhook.Step
	runner, _ := s.hooks.(apiRunner)
	if runner != nil {
		err := s.InTx(req, false, func(tx *store.Tx) error {
			var err error
			if steps, err = s.hooks.Matching(tx, d.Name, call.Entity, nil); err != nil || len(steps) == 0 {
				return err
			}
			inv.OrganizationID, err = organizationID(tx)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	var outputs map[string]json.RawMessage
	ran := false
	if len(steps) > 0 {
		inv.CorrelationID, inv.OperationID = newID(), newID()
		var err error
		if outputs, ran, err = runner.RunAPI(inv, steps, call); err != nil {
			return nil, err
		}
	}
	if !ran {
		s.log.Warn("custom API called without a main operation: register a synchronous webhook step on its message at stage 30",
			"customapi", d.Name)
	}
	if op.Returns == "" {
		return wire.NewResponse(http.StatusNoContent), nil
	}
	body := wire.NewObject()
	for _, p := range d.Props {
		v, err := responseValue(sch, p, outputs[p.Name])
		if err != nil {
			return nil, dverr.New(http.StatusBadRequest, "0x80040265", "The main operation of the custom API '%s' returned a value for '%s' that is not of its type %s: %v",
				d.Name, p.Name, apiTypeNames[typeIndex(p.Type)], err)
		}
		body.Set(p.Name, v)
	}
	return OperationResponse(req, op.Returns, body), nil
}

func typeIndex(t int) int {
	if t < 0 || t >= len(apiTypeNames) {
		return apiString
	}
	return t
}

// contextValue converts a checked Web API parameter value to its execution context form.
func contextValue(sch *model.Schema, p apiParam, v any) (any, error) {
	wrong := func() error {
		return errParam("Cannot convert the value of the parameter '%s' to the expected type '%s'.", p.Name,
			strings.Replace(p.edmType(), "mscrm.", "Microsoft.Dynamics.CRM.", 1))
	}
	switch p.Type {
	case apiDateTime:
		s, _ := v.(string)
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return nil, wrong()
		}
		return webhook.ContextDate(t), nil
	case apiInteger, apiPicklist:
		n, _ := v.(json.Number)
		i, err := strconv.ParseInt(n.String(), 10, 32)
		if err != nil {
			return nil, wrong()
		}
		if p.Type == apiPicklist {
			return webhook.ContextTyped("OptionSetValue", i), nil
		}
		return i, nil
	case apiDecimal, apiFloat, apiMoney:
		n, _ := v.(json.Number)
		if _, err := strconv.ParseFloat(n.String(), 64); err != nil {
			return nil, wrong()
		}
		if p.Type == apiMoney {
			return webhook.ContextTyped("Money", n), nil
		}
		return n, nil
	case apiEntityReference:
		e, id, _, err := entityArg(sch, p, v)
		if err != nil || id == "" {
			return nil, wrong()
		}
		return webhook.ContextReference(e.LogicalName, id), nil
	case apiEntity:
		return entityContext(sch, p, v, wrong)
	case apiEntityCollection:
		list, ok := v.([]any)
		if !ok {
			return nil, wrong()
		}
		out := []any{}
		name := p.Entity
		for _, x := range list {
			ce, err := entityContext(sch, p, x, wrong)
			if err != nil {
				return nil, err
			}
			if name == "" {
				name, _ = ce["LogicalName"].(string)
			}
			out = append(out, ce)
		}
		return webhook.ContextEntityCollection(name, out), nil
	case apiStringArray:
		list, _ := v.([]any)
		return append([]any{}, list...), nil
	}
	return v, nil
}

// entityArg reads an entity-typed parameter value: its table (from @odata.type, else the
// parameter's logicalentityname), its id (the primary key member, if any) and its other members.
func entityArg(sch *model.Schema, p apiParam, v any) (*model.Entity, string, []webhook.Parameter, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, "", nil, errors.New("not an object")
	}
	name := p.Entity
	if t, ok := m["@odata.type"].(string); ok {
		name = strings.TrimPrefix(strings.TrimPrefix(t, "#"), "Microsoft.Dynamics.CRM.")
	}
	id := ""
	// A reference may also be given as {"@odata.id": "accounts(<id>)"}.
	if ref, ok := m["@odata.id"].(string); ok {
		ref = ref[strings.LastIndexByte(ref, '/')+1:]
		set, key, ok := strings.Cut(strings.TrimSuffix(ref, ")"), "(")
		be, found := sch.EntityBySet(set)
		if !ok || !found || !model.IsGUID(key) {
			return nil, "", nil, errors.New("bad @odata.id")
		}
		name, id = be.LogicalName, strings.ToLower(key)
	}
	e, ok := sch.Entity(name)
	if !ok {
		return nil, "", nil, errors.New("no table")
	}
	if raw, ok := m[e.PrimaryIDAttribute]; ok {
		s, ok := raw.(string)
		if !ok || !model.IsGUID(s) {
			return nil, "", nil, errors.New("bad id")
		}
		id = strings.ToLower(s)
	}
	var attrs []webhook.Parameter
	names := make([]string, 0, len(m))
	for k := range m {
		if !strings.Contains(k, "@") {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		attrs = append(attrs, webhook.Parameter{Key: k, Value: m[k]})
	}
	return e, id, attrs, nil
}

func entityContext(sch *model.Schema, p apiParam, v any, wrong func() error) (map[string]any, error) {
	e, id, attrs, err := entityArg(sch, p, v)
	if err != nil {
		return nil, wrong()
	}
	if id == "" {
		id = "00000000-0000-0000-0000-000000000000"
	}
	return webhook.ContextEntity(e.LogicalName, id, attrs), nil
}

// responseValue converts an output parameter, as the main operation's endpoint gave it in the
// execution context's form, to the Web API's form for the property's type. A missing output is
// null.
func responseValue(sch *model.Schema, p apiParam, raw json.RawMessage) (any, error) {
	if raw == nil || string(raw) == "null" {
		return nil, nil
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	// Typed values ({"__type": "Money:...", "Value": 1}) give their Value.
	unwrap := func(v any) any {
		if m, ok := v.(map[string]any); ok {
			if x, ok := m["Value"]; ok {
				return x
			}
		}
		return v
	}
	switch p.Type {
	case apiBoolean:
		if b, ok := v.(bool); ok {
			return b, nil
		}
		return nil, errors.New("want true or false")
	case apiString, apiGuid:
		s, ok := v.(string)
		if !ok || p.Type == apiGuid && !model.IsGUID(s) {
			return nil, errors.New("want a string")
		}
		if p.Type == apiGuid {
			s = strings.ToLower(s)
		}
		return s, nil
	case apiDateTime:
		s, _ := v.(string)
		if t, ok := parseContextDate(s); ok {
			return t.UTC().Format(time.RFC3339), nil
		}
		return nil, errors.New("want a date")
	case apiInteger, apiPicklist:
		n, ok := unwrap(v).(json.Number)
		if !ok {
			return nil, errors.New("want a whole number")
		}
		if _, err := strconv.ParseInt(n.String(), 10, 32); err != nil {
			return nil, errors.New("want a whole number")
		}
		return n, nil
	case apiDecimal, apiFloat, apiMoney:
		n, ok := unwrap(v).(json.Number)
		if !ok {
			return nil, errors.New("want a number")
		}
		if f, err := strconv.ParseFloat(n.String(), 64); err != nil || math.IsInf(f, 0) {
			return nil, errors.New("want a number")
		}
		return n, nil
	case apiStringArray:
		list, ok := v.([]any)
		if !ok {
			return nil, errors.New("want a list of strings")
		}
		for _, x := range list {
			if _, ok := x.(string); !ok {
				return nil, errors.New("want a list of strings")
			}
		}
		return list, nil
	case apiEntityReference, apiEntity:
		return entityResponse(sch, p, v)
	case apiEntityCollection:
		list, ok := v.([]any)
		if m, isObj := v.(map[string]any); isObj {
			list, ok = m["Entities"].([]any)
		}
		if !ok {
			return nil, errors.New("want an entity collection")
		}
		out := make([]any, 0, len(list))
		for _, x := range list {
			o, err := entityResponse(sch, p, x)
			if err != nil {
				return nil, err
			}
			out = append(out, o)
		}
		return out, nil
	}
	return v, nil
}

// entityResponse writes an SDK Entity or EntityReference as a Web API entity: @odata.type, its
// primary key and (for an entity) its attributes, typed values unwrapped and references as ids.
func entityResponse(sch *model.Schema, p apiParam, v any) (*wire.Object, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("want an entity")
	}
	name, _ := m["LogicalName"].(string)
	if name == "" {
		name = p.Entity
	}
	e, ok := sch.Entity(name)
	if !ok {
		return nil, errors.New("want an entity with the LogicalName of a table")
	}
	o := wire.NewObject()
	o.Set("@odata.type", "#Microsoft.Dynamics.CRM."+e.LogicalName)
	if id, _ := m["Id"].(string); model.IsGUID(id) && id != "00000000-0000-0000-0000-000000000000" {
		o.Set(e.PrimaryIDAttribute, strings.ToLower(id))
	}
	attrs, _ := m["Attributes"].([]any)
	for _, it := range attrs {
		kv, _ := it.(map[string]any)
		k, _ := kv["key"].(string)
		if k == "" || k == e.PrimaryIDAttribute {
			continue
		}
		val := kv["value"]
		if x, ok := val.(map[string]any); ok {
			switch {
			case x["Id"] != nil:
				val = x["Id"]
			case x["Value"] != nil:
				val = x["Value"]
			}
		}
		if s, ok := val.(string); ok {
			if t, ok := parseContextDate(s); ok && strings.HasPrefix(s, "/Date(") {
				val = t.UTC().Format(time.RFC3339)
			}
		}
		o.Set(k, val)
	}
	return o, nil
}

// parseContextDate reads a WCF date (/Date(ms)/ or /Date(ms+hhmm)/) or an RFC 3339 one.
func parseContextDate(s string) (time.Time, bool) {
	if inner, ok := strings.CutPrefix(s, "/Date("); ok {
		inner, ok = strings.CutSuffix(inner, ")/")
		if !ok {
			return time.Time{}, false
		}
		if i := strings.IndexAny(inner[min(1, len(inner)):], "+-"); i >= 0 {
			inner = inner[:i+1]
		}
		ms, err := strconv.ParseInt(inner, 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		return time.UnixMilli(ms).UTC(), true
	}
	t, err := time.Parse(time.RFC3339, s)
	return t, err == nil
}

// The rules Dataverse applies to writes of custom APIs and their steps.

// customAPIRules runs before a create (id "") or an update of a row: a new custom API gets its
// message (an sdkmessage named by its uniquename, with an sdkmessagefilter for its table when it
// is bound), and a step may be registered at stage 30 only, synchronously, on a custom API's
// message.
func (w *writer) customAPIRules(e *model.Entity, id string, row model.Row) error {
	switch e.LogicalName {
	case "customapi":
		if id == "" {
			return w.createCustomAPIMessage(row)
		}
	case "sdkmessageprocessingstep":
		return w.checkMainOperationStep(e, id, row)
	}
	return nil
}

func (w *writer) createCustomAPIMessage(row model.Row) error {
	sch := w.tx.Schema()
	name, _ := row["uniquename"].(string)
	if name == "" {
		// Without a uniquename there is no message to create, and nothing is served.
		return nil
	}
	if !model.ValidIdent(name) {
		return dverr.BadRequest("The uniquename '%s' of a custom API may hold only letters, digits and underscores.", name)
	}
	if _, builtin := w.s.builtinOperation(name); builtin {
		return dverr.New(http.StatusBadRequest, "0x80040237", "A message named '%s' already exists.", name)
	}
	bt, _ := row["bindingtype"].(int64)
	entity, _ := row["boundentitylogicalname"].(string)
	entity = strings.ToLower(entity)
	switch bt {
	case 0:
	case 1, 2:
		if _, ok := sch.Entity(entity); !ok {
			return dverr.BadRequest("The boundentitylogicalname '%s' of the custom API '%s' is not the logical name of a table.", entity, name)
		}
	default:
		return dverr.BadRequest("The bindingtype %d of the custom API '%s' is not valid.", bt, name)
	}
	ae, _ := sch.Entity("customapi")
	apis, err := w.tx.Select(&model.Query{Entity: ae})
	if err != nil {
		return err
	}
	for _, r := range apis.Rows {
		if other, _ := r.Row["uniquename"].(string); strings.EqualFold(other, name) {
			return dverr.New(http.StatusPreconditionFailed, "0x80040237", "A custom API with the uniquename '%s' already exists.", name)
		}
	}
	me, ok := sch.Entity("sdkmessage")
	if !ok {
		return nil
	}
	msgs, err := w.tx.Select(&model.Query{Entity: me})
	if err != nil {
		return err
	}
	for _, r := range msgs.Rows {
		if other, _ := r.Row["name"].(string); strings.EqualFold(other, name) {
			return dverr.New(http.StatusPreconditionFailed, "0x80040237", "A message named '%s' already exists.", name)
		}
	}
	msgID := w.newID()
	private, _ := row["isprivate"].(bool)
	if _, err := w.insertRow(me, model.Row{"sdkmessageid": msgID, "name": name, "categoryname": "CustomAPI",
		"availability": int64(0), "isprivate": private, "isactive": true}); err != nil {
		return err
	}
	row["sdkmessageid"] = model.Lookup{ID: msgID, Entity: "sdkmessage"}
	if fe, ok := sch.Entity("sdkmessagefilter"); ok && bt != 0 {
		if _, err := w.insertRow(fe, model.Row{"sdkmessagefilterid": w.newID(), "name": name + " " + entity,
			"sdkmessageid": model.Lookup{ID: msgID, Entity: "sdkmessage"}, "primaryobjecttypecode": entity,
			"iscustomprocessingstepallowed": true, "availability": int64(0)}); err != nil {
			return err
		}
	}
	return nil
}

// checkMainOperationStep refuses a step at stage 30 unless it is synchronous and its message is a
// custom API's.
func (w *writer) checkMainOperationStep(e *model.Entity, id string, row model.Row) error {
	stage, set := row["stage"].(int64)
	mode, modeSet := row["mode"].(int64)
	msg, msgSet := row["sdkmessageid"].(model.Lookup)
	if !set && !modeSet && !msgSet {
		return nil
	}
	if id != "" && (!set || !modeSet || !msgSet) {
		cur, _, err := w.tx.Get(e, id, []string{"stage", "mode", "sdkmessageid"})
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if !set {
			stage, _ = cur["stage"].(int64)
		}
		if !modeSet {
			mode, _ = cur["mode"].(int64)
		}
		if !msgSet {
			msg, _ = cur["sdkmessageid"].(model.Lookup)
		}
	}
	if stage != webhook.StageMainOperation {
		return nil
	}
	name := ""
	if me, ok := w.tx.Schema().Entity("sdkmessage"); ok && msg.ID != "" {
		m, _, err := w.tx.Get(me, msg.ID, []string{"name"})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		name, _ = m["name"].(string)
	}
	isAPI := false
	if name != "" {
		if ae, ok := w.tx.Schema().Entity("customapi"); ok {
			apis, err := w.tx.Select(&model.Query{Entity: ae})
			if err != nil {
				return err
			}
			for _, r := range apis.Rows {
				if u, _ := r.Row["uniquename"].(string); u == name {
					isAPI = true
				}
			}
		}
	}
	if !isAPI {
		return dverr.BadRequest("A step can be registered in the main operation stage (30) only for the message of a custom API; '%s' is not one.", name)
	}
	if mode != webhook.ModeSync {
		return dverr.BadRequest("A step registered in the main operation stage (30) must be synchronous (mode 0).")
	}
	return nil
}
