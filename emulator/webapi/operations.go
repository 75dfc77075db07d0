package webapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/odata"
	"github.com/dynlocal/dynlocal/emulator/store"
	"github.com/dynlocal/dynlocal/emulator/wire"
)

// The operation registry: every function and action the Web API serves is one Operation, which
// says how it is called (function or action, bound or not, its parameters and their types, what
// it returns) and how it is served. Routing, parameter checking and $metadata all read it, so
// adding an operation is one Operation in one place: a file of this package appends it to
// builtinOperations from an init function, or, for operations defined by data (custom APIs), an
// OperationSource returns it.

// OperationKind tells functions (GET, parameters in the URL) from actions (POST, parameters in a
// JSON body).
type OperationKind int

const (
	Function OperationKind = iota
	Action
)

// Binding says what an operation is called on.
type Binding int

const (
	// Unbound operations are called at the service root: /api/data/v9.2/WhoAmI().
	Unbound Binding = iota
	// BoundEntity operations are called on a row: systemusers(<id>)/Microsoft.Dynamics.CRM.X().
	BoundEntity
	// BoundCollection operations are called on an entity set: accounts/Microsoft.Dynamics.CRM.X.
	BoundCollection
)

// Param is a parameter of an operation, or a property of its response type.
type Param struct {
	Name string
	// Type is the EDM type as $metadata writes it: "Edm.String", "Edm.Guid", "Edm.Int32",
	// "Edm.Int64", "Edm.Decimal", "Edm.Double", "Edm.Boolean", "Edm.DateTimeOffset",
	// "Collection(Edm.String)", an entity type ("mscrm.account", "mscrm.crmbaseentity") or a
	// complex or enum type of the mscrm namespace.
	Type string
	// Optional parameters may be left out; required ones may not.
	Optional bool
}

// Operation is a function or action of the Web API.
type Operation struct {
	// Name is the operation's name without namespace ("RetrieveVersion"). Bound operations are
	// called as Microsoft.Dynamics.CRM.<Name>.
	Name    string
	Kind    OperationKind
	Binding Binding
	// Entity is the table a bound operation is bound to; empty binds it to every table
	// (mscrm.crmbaseentity in $metadata).
	Entity string
	// Params are the parameters, besides the binding one.
	Params []Param
	// Returns is the return type ("mscrm.RetrieveVersionResponse"); empty for none (the call
	// answers 204).
	Returns string
	// Response lists the properties of the return type when the operation defines that complex
	// type ($metadata writes it); nil when the type is defined elsewhere.
	Response []Param
	// Hidden operations are served but left out of $metadata (private custom APIs).
	Hidden bool
	// Raw operations decode their own parameters (Args.Values stays nil); the registry still
	// checks method and binding.
	Raw bool
	// Serve runs the operation with its checked arguments.
	Serve func(s *Handler, req *Request, a *Args) (*wire.Response, error)
}

// Qualified is the name the URL of a bound operation uses: Microsoft.Dynamics.CRM.<Name>.
func (op *Operation) Qualified() string {
	if op.Binding == Unbound {
		return op.Name
	}
	return crmNamespace + op.Name
}

// Args are an operation call's arguments.
type Args struct {
	// Values are the parameters given, by name, as JSON values: string, json.Number, bool, nil,
	// []any and map[string]any. Function parameters are read from their URL literals into the same
	// forms (an enum literal such as Microsoft.Dynamics.CRM.AccessRights'ReadAccess' as its
	// value's name).
	Values map[string]any
	// Entity is the table of a bound operation; ID the row of an operation bound to one.
	Entity *model.Entity
	ID     string
}

// String returns a string argument ("" when absent or null).
func (a *Args) String(name string) string {
	s, _ := a.Values[name].(string)
	return s
}

// Bool returns a boolean argument (false when absent or null).
func (a *Args) Bool(name string) bool {
	b, _ := a.Values[name].(bool)
	return b
}

// Has reports whether a parameter was given (null included).
func (a *Args) Has(name string) bool {
	_, ok := a.Values[name]
	return ok
}

// OperationSource gives operations defined by data, read in the request's transaction: custom
// APIs. It is consulted after the built-in operations.
type OperationSource func(tx *store.Tx) ([]*Operation, error)

var (
	builtinMu sync.Mutex
	// builtinOperations are the operations of this package, appended by init functions.
	builtinOperations []*Operation
)

// registerBuiltin adds an operation of this package to every Handler. It panics on a duplicate
// name: that is a programming error.
func registerBuiltin(ops ...*Operation) {
	builtinMu.Lock()
	defer builtinMu.Unlock()
	for _, op := range ops {
		for _, o := range builtinOperations {
			if o.Name == op.Name {
				panic("webapi: operation " + op.Name + " registered twice")
			}
		}
		builtinOperations = append(builtinOperations, op)
	}
}

// operationRegistry is a Handler's operations: the built-in ones, those other packages add, and
// the sources of the ones data defines.
type operationRegistry struct {
	mu      sync.RWMutex
	byName  map[string]*Operation
	sources []OperationSource
}

func newOperationRegistry() *operationRegistry {
	r := &operationRegistry{byName: map[string]*Operation{}}
	builtinMu.Lock()
	defer builtinMu.Unlock()
	for _, op := range builtinOperations {
		r.byName[op.Name] = op
	}
	return r
}

// RegisterOperation adds an operation (the metadata API registers its own this way). A name
// already registered is refused.
func (s *Handler) RegisterOperation(op *Operation) error {
	s.ops.mu.Lock()
	defer s.ops.mu.Unlock()
	if _, dup := s.ops.byName[op.Name]; dup {
		return dverr.New(http.StatusInternalServerError, dverr.CodeNone, "webapi: operation %s registered twice", op.Name)
	}
	s.ops.byName[op.Name] = op
	return nil
}

// AddOperationSource adds a source of operations defined by data.
func (s *Handler) AddOperationSource(src OperationSource) {
	s.ops.mu.Lock()
	defer s.ops.mu.Unlock()
	s.ops.sources = append(s.ops.sources, src)
}

// Operations lists every operation, the ones data defines included, by name.
func (s *Handler) Operations(tx *store.Tx) ([]*Operation, error) {
	s.ops.mu.RLock()
	out := make([]*Operation, 0, len(s.ops.byName))
	for _, op := range s.ops.byName {
		out = append(out, op)
	}
	sources := append([]OperationSource(nil), s.ops.sources...)
	s.ops.mu.RUnlock()
	for _, src := range sources {
		more, err := src(tx)
		if err != nil {
			return nil, err
		}
		for _, op := range more {
			if _, dup := s.builtinOperation(op.Name); !dup {
				out = append(out, op)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Operations lists every operation the request's handler serves, for $metadata.
func (req *Request) Operations(tx *store.Tx) ([]*Operation, error) {
	if req.h == nil {
		return nil, nil
	}
	return req.h.Operations(tx)
}

func (s *Handler) builtinOperation(name string) (*Operation, bool) {
	s.ops.mu.RLock()
	defer s.ops.mu.RUnlock()
	op, ok := s.ops.byName[name]
	return op, ok
}

// findOperation returns the operation a URL segment names: "WhoAmI" unbound, or
// "Microsoft.Dynamics.CRM.X" bound.
func (s *Handler) findOperation(tx *store.Tx, segment string) (*Operation, error) {
	name := strings.TrimPrefix(segment, crmNamespace)
	if op, ok := s.builtinOperation(name); ok {
		return op, nil
	}
	s.ops.mu.RLock()
	sources := append([]OperationSource(nil), s.ops.sources...)
	s.ops.mu.RUnlock()
	for _, src := range sources {
		ops, err := src(tx)
		if err != nil {
			return nil, err
		}
		for _, op := range ops {
			if op.Name == name {
				return op, nil
			}
		}
	}
	return nil, nil
}

// isOperation returns what reports, for path resolution, whether an unbound segment names an
// operation. Data-defined operations are looked up in the request's transaction: inside a $batch
// change set that is the change set's (a transaction of its own would wait for it forever when
// the store has one connection).
func (s *Handler) isOperation(req *Request) func(string) bool {
	return func(name string) bool {
		if strings.HasPrefix(name, crmNamespace) {
			return false
		}
		if op, ok := s.builtinOperation(name); ok {
			return op.Binding == Unbound
		}
		s.ops.mu.RLock()
		n := len(s.ops.sources)
		s.ops.mu.RUnlock()
		if n == 0 {
			return false
		}
		var op *Operation
		_ = s.InTx(req, false, func(tx *store.Tx) error {
			var err error
			op, err = s.findOperation(tx, name)
			return err
		})
		return op != nil && op.Binding == Unbound
	}
}

// operation serves a call of a function or action: it finds the operation, checks the method,
// the binding and the parameters, then runs it.
func (s *Handler) operation(req *Request) (*wire.Response, error) {
	// Built-in operations need no transaction to be found; data-defined ones are read in one.
	op, _ := s.builtinOperation(strings.TrimPrefix(req.Res.Operation, crmNamespace))
	if op == nil {
		err := s.InTx(req, false, func(tx *store.Tx) error {
			var err error
			op, err = s.findOperation(tx, req.Res.Operation)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	if op == nil || (op.Binding == Unbound) == req.Res.Bound {
		return nil, dverr.ResourceNotFound(req.Res.Operation)
	}
	a := &Args{}
	if req.Res.Bound {
		e := req.Res.Entity
		switch {
		case op.Binding == BoundEntity && req.Res.Key == nil,
			op.Binding == BoundCollection && req.Res.Key != nil,
			op.Entity != "" && e.LogicalName != op.Entity:
			return nil, dverr.ResourceNotFound(req.Res.Operation)
		}
		a.Entity = e
		if req.Res.Key != nil {
			id, err := s.keyID(req, e, req.Res.Key)
			if err != nil {
				return nil, err
			}
			a.ID = id
		}
	}
	// A function is a GET, an action a POST; Dataverse has no route for the other methods.
	switch {
	case op.Kind == Function && req.R.Method != http.MethodGet,
		op.Kind == Action && req.R.Method != http.MethodPost:
		return nil, dverr.NoHTTPResource(operationURL(req))
	case op.Kind == Action && req.Res.HasParens && strings.TrimSpace(req.Res.Params) != "":
		return nil, dverr.BadRequest("Bad Request - Error in query syntax.")
	}
	if !op.Raw {
		var err error
		if op.Kind == Function {
			a.Values, err = functionArgs(req, op)
		} else {
			a.Values, err = actionArgs(req, op)
		}
		if err != nil {
			return nil, err
		}
	}
	return op.Serve(s, req, a)
}

// keyID resolves the key of a bound call to the row's id, which must exist.
func (s *Handler) keyID(req *Request, e *model.Entity, k *odata.Key) (string, error) {
	var id string
	err := s.InTx(req, false, func(tx *store.Tx) error {
		var err error
		if id, err = lookupKey(tx, e, k); err != nil {
			return asNotFound(err)
		}
		ok, err := tx.Exists(e, id)
		if err != nil {
			return err
		}
		if !ok {
			return dverr.RecordNotFound(e.LogicalName, id)
		}
		return nil
	})
	return id, err
}

// operationURL is the request's URL after the version segment, on the service root, as
// Dataverse's 404 for an operation called with the wrong method names it.
func operationURL(req *Request) string {
	p := req.R.URL.Path
	if i := strings.Index(p, "/api/data/"); i >= 0 {
		p = p[i+len("/api/data/"):]
		if j := strings.IndexByte(p, '/'); j >= 0 {
			p = p[j+1:]
		}
	}
	return strings.TrimSuffix(req.Base+p, "/")
}

// errParam is Dataverse's answer to a parameter it cannot take.
func errParam(format string, args ...any) error {
	return dverr.BadRequest("An error occurred while validating input parameters: Microsoft.OData.ODataException: "+format, args...)
}

// actionArgs reads an action's JSON body and checks its parameters.
func actionArgs(req *Request, op *Operation) (map[string]any, error) {
	body, err := readJSONBytes(req)
	if err != nil {
		return nil, err
	}
	values := map[string]any{}
	if len(bytes.TrimSpace(body)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&values); err != nil || values == nil {
			return nil, dverr.BadRequest("The request body of the action '%s' must be a JSON object of its parameters.", op.Name)
		}
	}
	return values, checkArgs(op, values)
}

// functionArgs reads a function's parameters from the URL: Name=literal pairs between its
// parentheses, where a literal may be a parameter alias (@p1) given in the query string.
func functionArgs(req *Request, op *Operation) (map[string]any, error) {
	values := map[string]any{}
	text := strings.TrimSpace(req.Res.Params)
	if text != "" {
		aliases := req.Query.Aliases()
		for _, part := range splitParams(text) {
			name, lit, ok := strings.Cut(part, "=")
			name, lit = strings.TrimSpace(name), strings.TrimSpace(lit)
			if !ok || name == "" {
				return nil, dverr.BadRequest("The parameters of the function '%s' must be written as Name=value pairs.", op.Name)
			}
			if _, dup := values[name]; dup {
				return nil, dverr.BadRequest("The parameter '%s' is given more than once.", name)
			}
			if strings.HasPrefix(lit, "@") {
				v, ok := aliases[lit]
				if !ok {
					v = "null"
				}
				lit = strings.TrimSpace(v)
			}
			v, err := parseLiteral(lit)
			if err != nil {
				return nil, errParam("The parameter '%s' of the function '%s' has a value that is not a valid literal: %s", name, op.Name, lit)
			}
			values[name] = v
		}
	}
	return values, checkArgs(op, values)
}

// checkArgs refuses unknown parameters, missing required ones and values of the wrong type.
func checkArgs(op *Operation, values map[string]any) error {
	byName := map[string]Param{}
	for _, p := range op.Params {
		byName[p.Name] = p
	}
	names := make([]string, 0, len(values))
	for n := range values {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p, ok := byName[n]
		if !ok {
			if strings.HasPrefix(n, "@") {
				continue // an annotation of the body, such as @odata.type
			}
			return errParam("The parameter '%s' in the request payload is not a valid parameter for the operation '%s'.", n, op.Name)
		}
		if err := checkType(p, values[n]); err != nil {
			return err
		}
	}
	for _, p := range op.Params {
		if v, ok := values[p.Name]; !p.Optional && (!ok || v == nil) {
			return errParam("The parameter '%s' of the operation '%s' is required and was not given a value.", p.Name, op.Name)
		}
	}
	return nil
}

// checkType checks a value against a parameter's EDM type. Entity and complex types are objects;
// the operation reads their members.
func checkType(p Param, v any) error {
	if v == nil {
		return nil
	}
	wrong := func() error {
		return errParam("Cannot convert the value of the parameter '%s' to the expected type '%s'.", p.Name, strings.Replace(p.Type, "mscrm.", "Microsoft.Dynamics.CRM.", 1))
	}
	if inner, ok := strings.CutPrefix(p.Type, "Collection("); ok {
		list, ok := v.([]any)
		if !ok {
			return wrong()
		}
		elem := Param{Name: p.Name, Type: strings.TrimSuffix(inner, ")")}
		for _, x := range list {
			if err := checkType(elem, x); err != nil {
				return err
			}
		}
		return nil
	}
	switch p.Type {
	case "Edm.String":
		if _, ok := v.(string); !ok {
			return wrong()
		}
	case "Edm.Guid":
		if s, ok := v.(string); !ok || !model.IsGUID(s) {
			return wrong()
		}
	case "Edm.Boolean":
		if _, ok := v.(bool); !ok {
			return wrong()
		}
	case "Edm.Int32", "Edm.Int64":
		n, ok := v.(json.Number)
		if !ok {
			return wrong()
		}
		if _, err := strconv.ParseInt(n.String(), 10, 64); err != nil {
			return wrong()
		}
	case "Edm.Decimal", "Edm.Double":
		if _, ok := v.(json.Number); !ok {
			return wrong()
		}
	case "Edm.DateTimeOffset":
		s, ok := v.(string)
		if !ok {
			return wrong()
		}
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			return wrong()
		}
	default:
		// Entity, complex and enum types: objects, or (enums) a member name or number.
		switch v.(type) {
		case map[string]any, string, json.Number:
		default:
			return wrong()
		}
	}
	return nil
}

// parseLiteral reads an OData URL literal: 'text' (quotes doubled inside), a number, true, false,
// null, a GUID, a JSON array or object (single-quoted strings allowed in arrays, as Dataverse's
// examples write ['account','contact']), or an enum value Namespace.Type'Member'.
func parseLiteral(lit string) (any, error) {
	switch {
	case lit == "null":
		return nil, nil
	case lit == "true":
		return true, nil
	case lit == "false":
		return false, nil
	case model.IsGUID(lit):
		return strings.ToLower(lit), nil
	case strings.HasPrefix(lit, "'"):
		if len(lit) < 2 || !strings.HasSuffix(lit, "'") {
			return nil, errBadLiteral
		}
		inner := lit[1 : len(lit)-1]
		if strings.Count(inner, "'")%2 != 0 || strings.Contains(strings.ReplaceAll(inner, "''", ""), "'") {
			return nil, errBadLiteral
		}
		return strings.ReplaceAll(inner, "''", "'"), nil
	case strings.HasPrefix(lit, "[") || strings.HasPrefix(lit, "{"):
		dec := json.NewDecoder(strings.NewReader(singleToDoubleQuotes(lit)))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil || dec.More() {
			return nil, errBadLiteral
		}
		return v, nil
	}
	if i := strings.IndexByte(lit, '\''); i > 0 && strings.HasSuffix(lit, "'") && strings.Contains(lit[:i], ".") {
		return parseLiteral(lit[i:])
	}
	if _, err := strconv.ParseFloat(lit, 64); err == nil {
		return json.Number(lit), nil
	}
	return nil, errBadLiteral
}

var errBadLiteral = dverr.BadRequest("not a literal")

// singleToDoubleQuotes turns the single-quoted strings of a JSON-like literal into JSON strings,
// leaving double-quoted ones as they are.
func singleToDoubleQuotes(s string) string {
	var b strings.Builder
	inDouble, inSingle := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inDouble:
			b.WriteByte(c)
			if c == '\\' && i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			} else if c == '"' {
				inDouble = false
			}
		case inSingle:
			switch {
			case c == '\'' && i+1 < len(s) && s[i+1] == '\'':
				b.WriteByte('\'')
				i++
			case c == '\'':
				b.WriteByte('"')
				inSingle = false
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			default:
				b.WriteByte(c)
			}
		case c == '"':
			inDouble = true
			b.WriteByte(c)
		case c == '\'':
			inSingle = true
			b.WriteByte('"')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// splitParams splits a parameter list at the commas outside quotes, brackets and braces.
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

// OperationResponse is an operation's answer: 200 with body, the context naming the return type.
func OperationResponse(req *Request, returns string, body *wire.Object) *wire.Response {
	o := wire.NewObject()
	o.Set("@odata.context", req.Base+"$metadata#"+strings.Replace(returns, "mscrm.", "Microsoft.Dynamics.CRM.", 1))
	for _, m := range body.Members() {
		o.Set(m.Name, m.Value)
	}
	resp := wire.NewResponse(http.StatusOK)
	resp.JSON = o
	return resp
}

func init() {
	registerBuiltin(&Operation{
		Name: "WhoAmI", Kind: Function, Returns: "mscrm.WhoAmIResponse", Raw: true,
		Serve: func(s *Handler, req *Request, a *Args) (*wire.Response, error) { return s.whoAmI(req) },
	})
	for _, m := range []string{"CreateMultiple", "UpdateMultiple", "UpsertMultiple"} {
		op := &Operation{
			Name: m, Kind: Action, Binding: BoundCollection, Raw: true,
			Params: []Param{{Name: "Targets", Type: "Collection(mscrm.crmbaseentity)"}},
			Serve:  func(s *Handler, req *Request, a *Args) (*wire.Response, error) { return s.bulk(req, m) },
		}
		if m == "CreateMultiple" {
			op.Returns = "mscrm.CreateMultipleResponse"
			op.Response = []Param{{Name: "Ids", Type: "Collection(Edm.Guid)"}}
		}
		registerBuiltin(op)
	}
	// The metadata API's operations, which it serves itself (Config.Metadata).
	metadata := func(s *Handler, req *Request, a *Args) (*wire.Response, error) {
		if s.cfg.Metadata == nil {
			return nil, dverr.ResourceNotFound(req.Res.Operation)
		}
		return s.cfg.Metadata.Operation(req)
	}
	registerBuiltin(
		&Operation{Name: "RetrieveTotalRecordCount", Kind: Function, Raw: true, Serve: metadata,
			Params: []Param{{Name: "EntityNames", Type: "Collection(Edm.String)"}}, Returns: "mscrm.RetrieveTotalRecordCountResponse"},
		&Operation{Name: "RetrieveMetadataChanges", Kind: Function, Raw: true, Serve: metadata,
			Params:  []Param{{Name: "Query", Type: "mscrm.EntityQueryExpression", Optional: true}, {Name: "ClientVersionStamp", Type: "Edm.String", Optional: true}},
			Returns: "mscrm.RetrieveMetadataChangesResponse"},
		&Operation{Name: "PublishXml", Kind: Action, Raw: true, Serve: metadata, Params: []Param{{Name: "ParameterXml", Type: "Edm.String"}}},
		&Operation{Name: "PublishAllXml", Kind: Action, Raw: true, Serve: metadata},
	)
}
