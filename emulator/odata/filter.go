package odata

import (
	"math"
	"strconv"
	"strings"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
)

// ParseFilter parses $filter for entity e into a filter tree, resolving every name against the
// schema. aliases holds parameter alias values (@p1 -> raw text as in the URL, e.g. "'lastname'"
// or `["a","b"]`), keyed with or without the @; an unassigned alias is null.
//
// The tree uses these conventions:
//   - columns of e have a nil Link and nil Path; columns reached through single-valued navigation
//     properties carry the navigations in Path (primarycontactid/createdby/fullname);
//   - lambda operators (Account_Tasks/any(t:t/subject eq 'x')) become model.Exists; inside
//     Exists.Filter a Column with nil Link and nil Path is a column of the related table;
//   - contains, startswith and endswith become model.Match with the value as written: Dataverse
//     reads %, _, [..] and [^..] in it as SQL LIKE wildcards, so the compiler treats Pattern as a
//     LIKE fragment and adds the % the function implies;
//   - eq null and ne null become model.Null; not around contains, any/all or a null test sets
//     Negate; any other not becomes model.Not;
//   - lookup values (_primarycontactid_value) compare as lower-case GUID strings;
//   - Dataverse query functions (Microsoft.Dynamics.CRM.In, LastXDays, ...) become In, ranges of
//     Compare, or ContainValues; see functions.go.
//
// Every error is a *dverr.Error with status 400 and the byte offset in text it concerns. As in
// ODL, syntax errors come before name and type errors.
func ParseFilter(sch *model.Schema, e *model.Entity, text string, aliases map[string]string, env model.Env) (model.Expr, error) {
	p, err := newParser(text)
	if err != nil {
		return nil, err
	}
	n, err := p.expr()
	if err != nil {
		return nil, err
	}
	if err := p.expectEOF(); err != nil {
		return nil, err
	}
	x, err := newBinder(sch, e, text, aliases, env).filter(n)
	if err != nil {
		return nil, err
	}
	return x, nil
}

// binder resolves AST nodes against metadata into store expressions.
type binder struct {
	src     string
	sch     *model.Schema
	aliases map[string]string
	env     model.Env
	// scopes are the tables names resolve against: the root, then one per enclosing lambda.
	scopes []scope
	// nots counts the enclosing not operators: Dataverse rejects query functions under them.
	nots int
}

type scope struct {
	entity *model.Entity
	// rangeVar is the lambda's range variable ("" at the root).
	rangeVar string
}

func newBinder(sch *model.Schema, e *model.Entity, text string, aliases map[string]string, env model.Env) *binder {
	return &binder{src: text, sch: sch, aliases: aliases, env: env.Normalized(), scopes: []scope{{entity: e}}}
}

func (b *binder) scope() scope { return b.scopes[len(b.scopes)-1] }

func incompatible(left, right, kind string) *dverr.Error {
	return dverr.BadRequest("A binary operator with incompatible types was detected. Found operand types '%s' and '%s' for operator kind '%s'.", left, right, kind)
}

func notWithFunction() *dverr.Error {
	return dverr.BadRequest("Not operator along with the Custom Named Condition operators is not allowed")
}

// opKind is what an operand of an operator is.
type opKind uint8

const (
	opBool    opKind = iota // a condition
	opColumn                // a column value
	opNav                   // a single-valued navigation property; col is its lookup column
	opLiteral               // a literal (or a parameter alias' value)
)

type operand struct {
	kind opKind
	pos  int
	expr model.Expr
	// fn is set when expr is a Dataverse query function.
	fn  bool
	col *model.Column
	// typ is the Edm type name, for messages.
	typ string
	tok token
}

func boolOperand(pos int, x model.Expr) operand {
	return operand{kind: opBool, pos: pos, expr: x, typ: "Edm.Boolean"}
}

func isNull(t token) bool { return t.kind == tIdent && t.text == "null" }

func isBoolLit(t token) bool { return t.kind == tIdent && (t.text == "true" || t.text == "false") }

// literalType is the Edm type of a literal, for messages.
func literalType(t token) string {
	switch t.kind {
	case tString:
		return "Edm.String"
	case tNumber:
		return numberType(t)
	case tGUID:
		return "Edm.Guid"
	case tDate:
		return "Edm.Date"
	case tDateTime:
		return "Edm.DateTimeOffset"
	case tTyped:
		return t.text
	case tArray:
		return "Collection(Edm.Untyped)"
	case tIdent:
		if isBoolLit(t) {
			return "Edm.Boolean"
		}
	}
	return "null"
}

func literalOperand(t token) operand {
	return operand{kind: opLiteral, pos: t.pos, typ: literalType(t), tok: t}
}

// filter binds a whole condition.
func (b *binder) filter(n node) (model.Expr, *dverr.Error) {
	o, err := b.bind(n)
	if err != nil {
		return nil, err
	}
	x, ok := asCond(o)
	if !ok {
		return nil, dverr.BadRequest("The $filter expression must evaluate to a single boolean value.").At(o.pos)
	}
	return x, nil
}

// asCond turns a boolean operand into a condition: a Boolean column alone means "is true".
func asCond(o operand) (model.Expr, bool) {
	switch {
	case o.kind == opBool:
		return o.expr, true
	case o.kind == opColumn && o.col.Attr.Type == model.TypeBoolean:
		return model.Compare{Left: o.col, Op: model.Eq, Value: true}, true
	}
	return nil, false
}

// bind resolves a node into an operand.
func (b *binder) bind(n node) (operand, *dverr.Error) {
	switch n := n.(type) {
	case *binaryNode:
		l, err := b.bind(n.left)
		if err != nil {
			return operand{}, err
		}
		r, err := b.bind(n.right)
		if err != nil {
			return operand{}, err
		}
		switch n.op.text {
		case "and":
			return logical(l, r, n.op.pos, "And")
		case "or":
			return logical(l, r, n.op.pos, "Or")
		}
		return b.compare(l, n.op, r)
	case *notNode:
		b.nots++
		x, err := b.bind(n.x)
		b.nots--
		if err != nil {
			return operand{}, err
		}
		cx, ok := asCond(x)
		if !ok {
			return operand{}, dverr.BadRequest("A unary operator with an incompatible type was detected. Found operand type '%s' for operator kind 'Not'.", x.typ).At(n.op.pos)
		}
		return boolOperand(n.op.pos, negate(cx)), nil
	case *literalNode:
		t := n.tok
		if t.kind == tAlias {
			if pn, ok := b.aliasPath(t); ok {
				return b.path(pn)
			}
			var err *dverr.Error
			if t, err = b.resolveAlias(t); err != nil {
				return operand{}, err
			}
		}
		if t.kind == tArray {
			return operand{}, errListValue(t.pos)
		}
		return literalOperand(t), nil
	case *pathNode:
		return b.path(n)
	case *callNode:
		return b.call(n)
	case *fnNode:
		return b.queryFunction(n)
	}
	return operand{}, dverr.BadRequest("Syntax error at position %d in '%s'.", n.pos(), b.src).At(n.pos())
}

func logical(l, r operand, pos int, kind string) (operand, *dverr.Error) {
	lx, ok1 := asCond(l)
	rx, ok2 := asCond(r)
	if !ok1 || !ok2 {
		return operand{}, incompatible(l.typ, r.typ, kind).At(pos)
	}
	// Chains of one operator flatten into one node. The left operand's terms are extended in
	// place (it is not shared), so a long chain is built in linear time.
	flat := func(x model.Expr) []model.Expr {
		switch y := x.(type) {
		case model.And:
			if kind == "And" {
				return y.Terms
			}
		case model.Or:
			if kind == "Or" {
				return y.Terms
			}
		}
		return []model.Expr{x}
	}
	terms := append(flat(lx), flat(rx)...)
	var o operand
	if kind == "And" {
		o = boolOperand(l.pos, model.And{Terms: terms})
	} else {
		o = boolOperand(l.pos, model.Or{Terms: terms})
	}
	// A query function inside stays visible to "eq false", which would negate it.
	o.fn = l.fn || r.fn
	return o, nil
}

// negate negates a condition, folding the negation into the nodes that carry a Negate flag.
func negate(x model.Expr) model.Expr {
	switch y := x.(type) {
	case model.Not:
		return y.X
	case model.Match:
		y.Negate = !y.Negate
		return y
	case model.Exists:
		y.Negate = !y.Negate
		return y
	case model.Null:
		y.Negate = !y.Negate
		return y
	}
	return model.Not{X: x}
}

func errListValue(pos int) *dverr.Error {
	return dverr.BadRequest("A list of values is only allowed as the PropertyValues parameter of a Dataverse query function.").At(pos)
}

// aliasValue returns the raw value of a parameter alias, looked up with or without its @.
func (b *binder) aliasValue(t token) (string, bool) {
	raw, ok := b.aliases[t.text]
	if !ok {
		raw, ok = b.aliases[t.text[1:]]
	}
	return raw, ok
}

// aliasPath returns the property path a parameter alias stands for (@p1=revenue,
// @p1=primarycontactid/fullname), its segments positioned at the alias. ok is false when the alias
// has no value or its value is not a plain property path, which resolveAlias then reads as a
// literal.
func (b *binder) aliasPath(t token) (*pathNode, bool) {
	raw, ok := b.aliasValue(t)
	if !ok {
		return nil, false
	}
	toks, err := tokenize(raw)
	if err != nil {
		return nil, false
	}
	p := &parser{src: raw, toks: toks}
	first := p.peek()
	if first.kind != tIdent || isNull(first) || isBoolLit(first) || p.peekAt(1).kind == tLParen {
		return nil, false
	}
	n, perr := p.path()
	if perr != nil || !p.at(tEOF) {
		return nil, false
	}
	pn := n.(*pathNode)
	if pn.lambda != nil {
		return nil, false
	}
	for i := range pn.segs {
		pn.segs[i].pos, pn.segs[i].end = t.pos, t.end
	}
	return pn, true
}

// resolveAlias returns the value of a parameter alias as a token positioned at the alias.
func (b *binder) resolveAlias(t token) (token, *dverr.Error) {
	raw, ok := b.aliasValue(t)
	if !ok {
		return token{kind: tIdent, text: "null", pos: t.pos, end: t.end}, nil
	}
	toks, err := tokenize(raw)
	if err != nil {
		return token{}, err.At(t.pos)
	}
	if len(toks) == 2 {
		v := toks[0]
		switch {
		case v.kind == tString, v.kind == tNumber, v.kind == tGUID, v.kind == tDate, v.kind == tDateTime, v.kind == tTyped, v.kind == tArray,
			isNull(v), isBoolLit(v):
			v.pos, v.end = t.pos, t.end
			for i := range v.items {
				v.items[i].pos = t.pos
			}
			return v, nil
		}
	}
	return token{}, dverr.BadRequest("The value '%s' of the parameter alias '%s' is not a literal.", raw, t.text).At(t.pos)
}

// call binds an OData function call; Dataverse supports contains, startswith and endswith.
func (b *binder) call(n *callNode) (operand, *dverr.Error) {
	name := n.name
	switch name.text {
	case "contains", "startswith", "endswith":
	default:
		if canonicalFunctions[name.text] {
			return operand{}, dverr.BadRequest("The function '%s' is not supported.", name.text).At(name.pos)
		}
		return operand{}, dverr.BadRequest("An unknown function with name '%s' was found. This may also be a function import or a key lookup on a navigation property, which is not allowed.", name.text).At(name.pos)
	}
	signature := func() *dverr.Error {
		return dverr.BadRequest("No function signature for the function with name '%s' matches the specified arguments. The function signatures considered are: %s(Edm.String Nullable=true, Edm.String Nullable=true).", name.text, name.text).At(name.pos)
	}
	if len(n.args) != 2 {
		return operand{}, signature()
	}
	arg1, err := b.bind(n.args[0])
	if err != nil {
		return operand{}, err
	}
	arg2, err := b.bind(n.args[1])
	if err != nil {
		return operand{}, err
	}
	if arg1.kind != opColumn || arg1.typ != "Edm.String" || arg2.typ != "Edm.String" && arg2.typ != "null" {
		return operand{}, signature()
	}
	if arg1.col.Attr.IsMultiSelect() {
		return operand{}, errMultiSelect(arg1.col.Attr).At(arg1.pos)
	}
	if arg2.kind != opLiteral {
		return operand{}, dverr.BadRequest("The second argument of '%s' must be a string value; comparing with another column is not supported.", name.text).At(arg2.pos)
	}
	if isNull(arg2.tok) {
		return operand{}, dverr.BadRequest("The second argument of '%s' must be a string value, not null.", name.text).At(arg2.pos)
	}
	return boolOperand(name.pos, operator(matchOperators[name.text]).Expr(arg1.col, []any{arg2.tok.text}, b.env)), nil
}

// matchOperators are the Dataverse condition operators of the string functions.
var matchOperators = map[string]string{"contains": "Contains", "startswith": "BeginsWith", "endswith": "EndsWith"}

// canonicalFunctions are the OData functions Dataverse does not support in $filter.
var canonicalFunctions = map[string]bool{
	"tolower": true, "toupper": true, "trim": true, "length": true, "indexof": true, "substring": true,
	"concat": true, "year": true, "month": true, "day": true, "hour": true, "minute": true, "second": true,
	"fractionalseconds": true, "date": true, "time": true, "totaloffsetminutes": true, "now": true,
	"maxdatetime": true, "mindatetime": true, "totalseconds": true, "round": true, "floor": true,
	"ceiling": true, "cast": true, "isof": true, "geo.distance": true, "geo.length": true,
	"geo.intersects": true, "matchesPattern": true, "hassubset": true, "hassubsequence": true,
}

func errMultiSelect(a *model.Attribute) *dverr.Error {
	return dverr.BadRequest("The multi-select choice column '%s' can only be filtered with eq null, ne null and the Microsoft.Dynamics.CRM.ContainValues and DoesNotContainValues functions.", a.LogicalName)
}

// lookupValueAttr resolves a lookup value property name (_primarycontactid_value).
func lookupValueAttr(e *model.Entity, name string) *model.Attribute {
	if len(name) > 7 && strings.HasPrefix(name, "_") && strings.HasSuffix(name, "_value") {
		if a, ok := e.Attribute(name[1 : len(name)-6]); ok && a.IsLookup() {
			return a
		}
	}
	return nil
}

// exposedAttr resolves a structural property: a column that is not a lookup (lookups are exposed
// as _x_value and through their navigation properties) and not a derived column such as a
// lookup's name.
func exposedAttr(e *model.Entity, name string) *model.Attribute {
	if a, ok := e.Attribute(name); ok && !a.IsLookup() && a.AttributeOf == "" && a.ValidForRead {
		return a
	}
	return nil
}

// checkQueryable rejects columns that have no storage the store can query (images, files and
// other virtual columns).
func checkQueryable(a *model.Attribute, pos int) *dverr.Error {
	if !a.Stored() {
		return dverr.BadRequest("The property '%s' of type '%s' cannot be used in a query.", a.LogicalName, a.Type).At(pos)
	}
	return nil
}

func columnOf(navs []*model.Nav, a *model.Attribute) *model.Column {
	c := &model.Column{Attr: a}
	if len(navs) > 0 {
		c.Path = append([]*model.Nav(nil), navs...)
	}
	return c
}

// path binds a property path from the current scope: a column or _lookup_value, possibly through
// single-valued navigation properties, or a collection-valued navigation property with any or
// all.
func (b *binder) path(n *pathNode) (operand, *dverr.Error) {
	segs := n.segs
	sc := b.scope()
	first := segs[0]
	if strings.HasPrefix(first.text, "$") {
		return operand{}, dverr.BadRequest("'%s' is not supported in this query option.", first.text).At(first.pos)
	}
	if sc.rangeVar != "" {
		switch {
		case first.text == sc.rangeVar:
			if len(segs) == 1 {
				return operand{}, dverr.BadRequest("The range variable '%s' must be followed by '/' and a property name.", sc.rangeVar).At(first.pos)
			}
			segs = segs[1:]
		case b.isRangeVar(first.text):
			return operand{}, dverr.BadRequest("The range variable '%s' of an enclosing lambda expression cannot be used inside a nested one.", first.text).At(first.pos)
		default:
			return operand{}, dverr.BadRequest("Inside a lambda expression, property paths must start with the range variable '%s'.", sc.rangeVar).At(first.pos)
		}
	}
	// after is the token that follows segment i: the next segment or the lambda operator.
	after := func(i int) (token, bool) {
		if i+1 < len(segs) {
			return segs[i+1], true
		}
		if n.lambda != nil {
			return n.lambda.kw, true
		}
		return token{}, false
	}
	ent := sc.entity
	var navs []*model.Nav
	for i, t := range segs {
		name := t.text
		a := lookupValueAttr(ent, name)
		if a == nil {
			a = exposedAttr(ent, name)
		}
		if a != nil {
			if nt, ok := after(i); ok {
				return operand{}, dverr.BadRequest("Could not find a property named '%s' on type '%s'.", nt.text, a.EdmType()).At(nt.pos)
			}
			if err := checkQueryable(a, t.pos); err != nil {
				return operand{}, err
			}
			return operand{kind: opColumn, pos: t.pos, col: columnOf(navs, a), typ: a.EdmType()}, nil
		}
		nav, ok := ent.Nav(name)
		if !ok {
			return operand{}, dverr.PropertyNotFound(name, ent.LogicalName).At(t.pos)
		}
		target, ok := b.sch.Entity(nav.Target)
		if !ok {
			return operand{}, dverr.PropertyNotFound(name, ent.LogicalName).At(t.pos)
		}
		nt, more := after(i)
		if nav.Kind == model.NavSingle {
			if i+1 < len(segs) {
				navs = append(navs, nav)
				ent = target
				continue
			}
			if more { // a lambda operator
				return operand{}, dverr.BadRequest("The lambda operator '%s' can only follow a collection-valued navigation property; '%s' is single-valued.", nt.text, name).At(nt.pos)
			}
			la, ok := ent.Attribute(nav.Attribute)
			if !ok {
				return operand{}, dverr.PropertyNotFound(name, ent.LogicalName).At(t.pos)
			}
			return operand{kind: opNav, pos: t.pos, col: columnOf(navs, la), typ: crmNamespace + target.LogicalName}, nil
		}
		if i+1 < len(segs) {
			return operand{}, dverr.BadRequest("The parent value for a property access of a property '%s' is not a single value. Property access can only be applied to a single value.", nt.text).At(nt.pos)
		}
		if !more {
			return operand{}, errCollection(name).At(t.pos)
		}
		if len(navs) > 0 {
			return operand{}, dverr.BadRequest("The lambda operator '%s' is only supported on collection-valued navigation properties of the table being filtered, not through '%s'.", nt.text, navs[0].Name).At(nt.pos)
		}
		return b.lambda(nav, target, n.lambda, first.pos)
	}
	// Only a range variable followed directly by a lambda operator gets here.
	return operand{}, dverr.BadRequest("The range variable '%s' must be followed by '/' and a property name.", sc.rangeVar).At(first.pos)
}

func errCollection(name string) *dverr.Error {
	return dverr.BadRequest("The navigation property '%s' is a collection; filter on its rows with %s/any(...) or %s/all(...).", name, name, name)
}

func (b *binder) isRangeVar(name string) bool {
	for _, s := range b.scopes {
		if s.rangeVar == name {
			return true
		}
	}
	return false
}

// lambda binds any(...) or all(...) on a collection-valued navigation property.
func (b *binder) lambda(nav *model.Nav, target *model.Entity, l *lambdaNode, pos int) (operand, *dverr.Error) {
	ex := model.Exists{Nav: nav, All: l.kw.text == "all"}
	if l.body == nil {
		if ex.All {
			return operand{}, dverr.BadRequest("The all operator needs a condition: %s/all(x:x/<property> eq <value>).", nav.Name).At(l.kw.pos)
		}
		return boolOperand(pos, ex), nil
	}
	v := l.rangeVar
	if b.isRangeVar(v.text) {
		return operand{}, dverr.BadRequest("The range variable '%s' has already been declared.", v.text).At(v.pos)
	}
	b.scopes = append(b.scopes, scope{entity: target, rangeVar: v.text})
	body, err := b.bind(l.body)
	b.scopes = b.scopes[:len(b.scopes)-1]
	if err != nil {
		return operand{}, err
	}
	cond, ok := asCond(body)
	if !ok {
		return operand{}, dverr.BadRequest("The expression of the lambda operator '%s' must evaluate to a single boolean value.", l.kw.text).At(body.pos)
	}
	ex.Filter = cond
	return boolOperand(pos, ex), nil
}

// compareOperators are the Dataverse condition operators of the comparison operators.
var compareOperators = map[string]string{
	"eq": "Equal", "ne": "NotEqual", "gt": "GreaterThan", "ge": "GreaterEqual", "lt": "LessThan", "le": "LessEqual",
}

// flippedOps are the operators with their operands swapped: 5 lt x is x gt 5.
var flippedOps = map[string]string{"eq": "eq", "ne": "ne", "gt": "lt", "ge": "le", "lt": "gt", "le": "ge"}

// operator is the Dataverse condition operator of a name the front end maps to; the tests check
// that every mapped name exists.
func operator(name string) *model.Operator {
	o, _ := model.LookupOperator(name)
	return o
}

// nullTest is eq null (negate false) or ne null.
func (b *binder) nullTest(col *model.Column, negate bool) model.Expr {
	if negate {
		return operator("NotNull").Expr(col, nil, b.env)
	}
	return operator("Null").Expr(col, nil, b.env)
}

// compare builds a comparison. A literal may stand on either side; it is converted to the
// column's value type.
func (b *binder) compare(l operand, opTok token, r operand) (operand, *dverr.Error) {
	pos := opTok.pos
	mismatch := func() *dverr.Error { return incompatible(l.typ, r.typ, compareKinds[opTok.text]).At(pos) }
	x, y, name := l, r, opTok.text
	if x.kind == opLiteral && y.kind != opLiteral {
		x, y, name = r, l, flippedOps[name]
	}
	o := operator(compareOperators[name])
	eqNe := o.Compare == model.Eq || o.Compare == model.Ne
	var e model.Expr
	switch {
	case x.kind == opLiteral:
		return operand{}, dverr.BadRequest("A comparison needs a property on one side; comparing two literal values is not supported.").At(pos)
	case x.kind == opColumn && y.kind == opLiteral:
		v, err := b.compareValue(x, o, y.tok, mismatch)
		if err != nil {
			return operand{}, err
		}
		e = v
	case x.kind == opColumn && y.kind == opColumn:
		if len(x.col.Path) > 0 || len(y.col.Path) > 0 {
			return operand{}, dverr.BadRequest("Column comparison is only supported between columns of the same table; a column reached through a navigation property cannot be compared with another column.").At(pos)
		}
		if x.typ != y.typ {
			return operand{}, mismatch()
		}
		if x.col.Attr.IsMultiSelect() {
			return operand{}, errMultiSelect(x.col.Attr).At(x.pos)
		}
		e = model.Compare{Left: x.col, Op: o.Compare, Right: y.col}
	case x.kind == opNav && y.kind == opLiteral && isNull(y.tok) && eqNe:
		e = b.nullTest(x.col, o.Compare == model.Ne)
	case x.kind == opBool && y.kind == opLiteral && isBoolLit(y.tok) && eqNe:
		if (y.tok.text == "true") == (o.Compare == model.Eq) {
			e = x.expr
		} else {
			if x.fn {
				return operand{}, notWithFunction().At(pos)
			}
			e = negate(x.expr)
		}
	case x.typ == y.typ || y.kind == opLiteral && isNull(y.tok):
		return operand{}, dverr.BadRequest("Comparing a %s with a %s is not supported.", describe(x), describe(y)).At(pos)
	default:
		return operand{}, mismatch()
	}
	return boolOperand(l.pos, e), nil
}

func describe(o operand) string {
	switch o.kind {
	case opBool:
		return "condition"
	case opColumn:
		return "column"
	case opNav:
		return "navigation property"
	}
	return "literal value"
}

// compareValue compares a column with a literal.
func (b *binder) compareValue(c operand, o *model.Operator, t token, mismatch func() *dverr.Error) (model.Expr, *dverr.Error) {
	a := c.col.Attr
	if isNull(t) {
		if o.Compare == model.Eq || o.Compare == model.Ne {
			return b.nullTest(c.col, o.Compare == model.Ne), nil
		}
		// Ordering against null matches nothing; the compiler knows.
		return o.Expr(c.col, []any{nil}, b.env), nil
	}
	if a.IsMultiSelect() {
		return nil, errMultiSelect(a).At(c.pos)
	}
	v, err := literalValue(a, t, mismatch)
	if err != nil {
		return nil, err
	}
	return o.Expr(c.col, []any{v}, b.env), nil
}

// literalValue converts a literal to the Row value type of column a.
func literalValue(a *model.Attribute, t token, mismatch func() *dverr.Error) (any, *dverr.Error) {
	switch {
	case a.IsLookup() || a.Type == model.TypeUniqueidentifier:
		switch {
		case t.kind == tGUID:
			return t.text, nil
		case t.kind == tString && model.IsGUID(t.text):
			return strings.ToLower(t.text), nil
		}
	case a.Type == model.TypeString || a.Type == model.TypeMemo || a.Type == model.TypeEntityName:
		if t.kind == tString {
			return t.text, nil
		}
	case a.Type == model.TypeInteger || a.Type == model.TypeBigInt || a.IsChoice():
		if t.kind == tNumber {
			return wholeNumber(a, t)
		}
	case a.Type == model.TypeDouble:
		if t.kind == tNumber {
			f, err := strconv.ParseFloat(t.text, 64)
			if err != nil {
				return nil, errRange(t.text, a).At(t.pos)
			}
			return f, nil
		}
	case a.Type == model.TypeMoney || a.Type == model.TypeDecimal:
		if t.kind == tNumber {
			d, err := model.ParseDecimal(t.text, a.Scale())
			if err != nil {
				return nil, errRange(t.text, a).At(t.pos)
			}
			return d, nil
		}
	case a.Type == model.TypeBoolean:
		if isBoolLit(t) {
			return t.text == "true", nil
		}
	case a.Type == model.TypeDateTime:
		if t.kind == tDate || t.kind == tDateTime {
			return a.DateValue(t.time), nil
		}
	}
	return nil, mismatch()
}

func errRange(text string, a *model.Attribute) *dverr.Error {
	return dverr.BadRequest("The value '%s' is out of range for the column '%s'.", text, a.LogicalName)
}

// wholeNumber converts a number literal for an integer or choice column. A literal with a
// fraction part is accepted when its value is whole (5.0).
func wholeNumber(a *model.Attribute, t token) (any, *dverr.Error) {
	if !strings.ContainsAny(t.text, ".eE") {
		n, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil {
			return nil, errRange(t.text, a).At(t.pos)
		}
		return n, nil
	}
	f, err := strconv.ParseFloat(t.text, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) >= 1<<63 {
		return nil, dverr.BadRequest("The value '%s' is not a whole number, so it cannot be compared with the whole-number column '%s'.", t.text, a.LogicalName).At(t.pos)
	}
	return int64(f), nil
}
