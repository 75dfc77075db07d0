package odata

import (
	"encoding/json"
	"math/big"
	"strings"
	"time"

	"github.com/dynlocal/dynlocal/emulator/dverr"
)

// This file evaluates $filter over metadata documents (EntityMetadata, AttributeMetadata,
// relationship metadata) held as decoded JSON, where the record filter (filter.go) compiles to SQL
// over typed columns. It shares the scanner and parser; only the binding differs.
//
// What Dataverse's metadata queries accept, and so what this evaluator accepts:
//   - primitive and enum properties (LogicalName eq 'account', ObjectTypeCode gt 10000,
//     OwnershipType eq Microsoft.Dynamics.CRM.OwnershipTypes'UserOwned');
//   - one-level paths into complex values (IsCustomizable/Value eq true,
//     RequiredLevel/Value eq Microsoft.Dynamics.CRM.AttributeRequiredLevel'ApplicationRequired');
//   - and, or, not, parentheses, the six comparison operators, contains, startswith and endswith.
//
// String comparisons ignore case, as they do for rows. A comparison whose operands have different
// JSON kinds is false, and so is an ordering comparison with null; eq null and ne null test for a
// missing or null value.

// DocSchema describes the documents a DocFilter is checked against.
type DocSchema struct {
	// TypeName is the qualified type name used in messages
	// ("Microsoft.Dynamics.CRM.EntityMetadata").
	TypeName string
	// Has reports whether documents of the type have the top-level property name. Nil accepts
	// every name.
	Has func(name string) bool
}

// DocFilter is a parsed $filter that tests metadata documents.
type DocFilter struct {
	src  string
	root docExpr
}

// docExpr is a bound node: a condition (cond) or a value (val).
type docExpr interface {
	cond(doc map[string]any) bool
}

// docValue yields an operand of a comparison.
type docValue interface {
	value(doc map[string]any) any
}

type docAnd struct{ l, r docExpr }
type docOr struct{ l, r docExpr }
type docNot struct{ x docExpr }
type docBool struct{ v docValue } // a bare boolean property or literal used as a condition
type docCompare struct {
	op   string
	l, r docValue
}
type docMatch struct {
	fn      string
	x       docValue
	pattern string
}

type docPath []string
type docLiteral struct{ v any }

// enumValue is an enum literal's member name; it compares equal to a string of the same text.
type enumValue string

func (n docAnd) cond(d map[string]any) bool  { return n.l.cond(d) && n.r.cond(d) }
func (n docOr) cond(d map[string]any) bool   { return n.l.cond(d) || n.r.cond(d) }
func (n docNot) cond(d map[string]any) bool  { return !n.x.cond(d) }
func (n docBool) cond(d map[string]any) bool { b, ok := n.v.value(d).(bool); return ok && b }

func (p docPath) value(d map[string]any) any {
	var cur any = d
	for _, seg := range p {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[seg]
	}
	return cur
}

func (l docLiteral) value(map[string]any) any { return l.v }

func (n docMatch) value(d map[string]any) any { return n.cond(d) }

func (n docMatch) cond(d map[string]any) bool {
	s, ok := n.x.value(d).(string)
	if !ok {
		return false
	}
	s, p := strings.ToLower(s), strings.ToLower(n.pattern)
	switch n.fn {
	case "contains":
		return strings.Contains(s, p)
	case "startswith":
		return strings.HasPrefix(s, p)
	default:
		return strings.HasSuffix(s, p)
	}
}

func (n docCompare) cond(d map[string]any) bool {
	l, r := n.l.value(d), n.r.value(d)
	if l == nil || r == nil {
		switch n.op {
		case "eq":
			return l == nil && r == nil
		case "ne":
			return (l == nil) != (r == nil)
		}
		return false
	}
	c, ok := compareJSON(l, r)
	if !ok {
		return n.op == "ne"
	}
	switch n.op {
	case "eq":
		return c == 0
	case "ne":
		return c != 0
	case "gt":
		return c > 0
	case "ge":
		return c >= 0
	case "lt":
		return c < 0
	default:
		return c <= 0
	}
}

// compareJSON orders two non-null values of the same kind; ok is false when they cannot be
// compared (different kinds, or booleans ordered).
func compareJSON(l, r any) (int, bool) {
	if t, ok := r.(time.Time); ok {
		s, isStr := l.(string)
		if !isStr {
			return 0, false
		}
		lt, err := parseDocTime(s)
		if err != nil {
			return 0, false
		}
		return lt.Compare(t), true
	}
	if t, ok := l.(time.Time); ok {
		c, ok := compareJSON(r, t)
		return -c, ok
	}
	ls, lStr := textOf(l)
	rs, rStr := textOf(r)
	if lStr && rStr {
		return strings.Compare(strings.ToLower(ls), strings.ToLower(rs)), true
	}
	lb, lBool := l.(bool)
	rb, rBool := r.(bool)
	if lBool && rBool {
		if lb == rb {
			return 0, true
		}
		return 1, true
	}
	ln, lNum := numberOf(l)
	rn, rNum := numberOf(r)
	if lNum && rNum {
		return ln.Cmp(rn), true
	}
	return 0, false
}

func textOf(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case enumValue:
		return string(x), true
	}
	return "", false
}

func numberOf(v any) (*big.Rat, bool) {
	var text string
	switch x := v.(type) {
	case json.Number:
		text = string(x)
	case float64:
		return new(big.Rat).SetFloat64(x), true
	case int:
		return new(big.Rat).SetInt64(int64(x)), true
	case int64:
		return new(big.Rat).SetInt64(x), true
	case *big.Rat:
		return x, true
	default:
		return nil, false
	}
	r, ok := new(big.Rat).SetString(text)
	return r, ok
}

func parseDocTime(s string) (time.Time, error) {
	if len(s) == len(dateLayout) {
		return time.Parse(dateLayout, s)
	}
	return parseDateTime(s)
}

// Match reports whether doc satisfies the filter. A nil filter matches everything.
func (f *DocFilter) Match(doc map[string]any) bool {
	if f == nil || f.root == nil {
		return true
	}
	return f.root.cond(doc)
}

// String returns the filter text.
func (f *DocFilter) String() string { return f.src }

// ParseDocFilter parses $filter text for documents described by schema. aliases holds parameter
// alias values as in ParseFilter. Every error is a *dverr.Error with status 400 and the byte offset
// in text it concerns.
func ParseDocFilter(text string, aliases map[string]string, schema DocSchema) (*DocFilter, error) {
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
	b := &docBinder{src: text, aliases: aliases, schema: schema}
	root, err := b.condition(n)
	if err != nil {
		return nil, err
	}
	return &DocFilter{src: text, root: root}, nil
}

type docBinder struct {
	src     string
	aliases map[string]string
	schema  DocSchema
}

func (b *docBinder) typeName() string {
	if b.schema.TypeName == "" {
		return "Microsoft.Dynamics.CRM.MetadataBase"
	}
	return b.schema.TypeName
}

// condition binds a node that must be a condition.
func (b *docBinder) condition(n node) (docExpr, *dverr.Error) {
	switch x := n.(type) {
	case *binaryNode:
		switch x.op.text {
		case "and", "or":
			l, err := b.condition(x.left)
			if err != nil {
				return nil, err
			}
			r, err := b.condition(x.right)
			if err != nil {
				return nil, err
			}
			if x.op.text == "and" {
				return docAnd{l, r}, nil
			}
			return docOr{l, r}, nil
		}
		l, err := b.value(x.left)
		if err != nil {
			return nil, err
		}
		r, err := b.value(x.right)
		if err != nil {
			return nil, err
		}
		return docCompare{op: x.op.text, l: l, r: r}, nil
	case *notNode:
		inner, err := b.condition(x.x)
		if err != nil {
			return nil, err
		}
		return docNot{inner}, nil
	case *callNode:
		return b.call(x)
	case *fnNode:
		return nil, dverr.BadRequest("The query function '%s' is not supported in metadata queries.", x.name.text).At(x.name.pos)
	case *pathNode, *literalNode:
		v, err := b.value(n)
		if err != nil {
			return nil, err
		}
		if lit, ok := v.(docLiteral); ok {
			if _, isBool := lit.v.(bool); !isBool {
				return nil, dverr.BadRequest("The $filter expression must evaluate to a single boolean value.").At(n.pos())
			}
		}
		return docBool{v}, nil
	}
	return nil, dverr.BadRequest("Syntax error at position %d in '%s'.", n.pos(), b.src).At(n.pos())
}

// value binds a node that must be an operand of a comparison.
func (b *docBinder) value(n node) (docValue, *dverr.Error) {
	switch x := n.(type) {
	case *pathNode:
		return b.path(x)
	case *literalNode:
		if x.tok.kind == tAlias {
			return b.aliasValue(x.tok)
		}
		return b.literal(x.tok)
	case *callNode:
		m, err := b.call(x)
		if err != nil {
			return nil, err
		}
		return m.(docMatch), nil
	case *binaryNode, *notNode:
		return nil, dverr.BadRequest("A comparison operand must be a property or a literal; found an expression at position %d in '%s'.", n.pos(), b.src).At(n.pos())
	case *fnNode:
		return nil, dverr.BadRequest("The query function '%s' is not supported in metadata queries.", x.name.text).At(x.name.pos)
	}
	return nil, dverr.BadRequest("Syntax error at position %d in '%s'.", n.pos(), b.src).At(n.pos())
}

func (b *docBinder) path(n *pathNode) (docValue, *dverr.Error) {
	if n.lambda != nil {
		return nil, dverr.BadRequest("Lambda operators (any, all) are not supported in metadata queries.").At(n.lambda.kw.pos)
	}
	first := n.segs[0]
	if strings.ContainsAny(first.text, ".$") {
		return nil, dverr.BadRequest("Syntax error at position %d in '%s'.", first.pos, b.src).At(first.pos)
	}
	if b.schema.Has != nil && !b.schema.Has(first.text) {
		return nil, dverr.BadRequest("Could not find a property named '%s' on type '%s'.", first.text, b.typeName()).At(first.pos)
	}
	if len(n.segs) > 2 {
		return nil, dverr.BadRequest("Only properties of primitive or enumeration type and one level of complex properties can be used in a metadata $filter; '%s' goes deeper.", pathText(n)).At(n.segs[2].pos)
	}
	out := make(docPath, len(n.segs))
	for i, s := range n.segs {
		if strings.ContainsAny(s.text, ".$") {
			return nil, dverr.BadRequest("Syntax error at position %d in '%s'.", s.pos, b.src).At(s.pos)
		}
		out[i] = s.text
	}
	return out, nil
}

func pathText(n *pathNode) string {
	parts := make([]string, len(n.segs))
	for i, s := range n.segs {
		parts[i] = s.text
	}
	return strings.Join(parts, "/")
}

// literal converts a literal token to the value it compares as.
func (b *docBinder) literal(t token) (docValue, *dverr.Error) {
	switch t.kind {
	case tString, tGUID:
		return docLiteral{t.text}, nil
	case tNumber:
		r, ok := new(big.Rat).SetString(t.text)
		if !ok {
			return nil, dverr.BadRequest("Syntax error at position %d in '%s'.", t.pos, b.src).At(t.pos)
		}
		return docLiteral{r}, nil
	case tDate, tDateTime:
		return docLiteral{t.time}, nil
	case tTyped:
		if !strings.HasPrefix(t.text, crmNamespace) {
			return nil, dverr.BadRequest("The type '%s' is not an enumeration type of this service.", t.text).At(t.pos)
		}
		v, ok := typedValue(b.src, t)
		if !ok {
			return nil, dverr.BadRequest("Syntax error at position %d in '%s'.", t.pos, b.src).At(t.pos)
		}
		return docLiteral{enumValue(v)}, nil
	case tArray:
		return nil, errListValue(t.pos)
	case tIdent:
		switch {
		case isNull(t):
			return docLiteral{nil}, nil
		case isBoolLit(t):
			return docLiteral{t.text == "true"}, nil
		}
	}
	return nil, dverr.BadRequest("Syntax error at position %d in '%s'.", t.pos, b.src).At(t.pos)
}

// typedValue reads the quoted member name of a typed literal (Type'Value'), which the scanner
// checked but did not keep. src is the text the token was scanned from.
func typedValue(src string, t token) (string, bool) {
	start := t.pos + len(t.text)
	if t.end > len(src) || start >= t.end || src[start] != '\'' || src[t.end-1] != '\'' || t.end-start < 2 {
		return "", false
	}
	return strings.ReplaceAll(src[start+1:t.end-1], "''", "'"), true
}

// aliasValue returns the value of a parameter alias; an unassigned alias is null.
func (b *docBinder) aliasValue(t token) (docValue, *dverr.Error) {
	raw, ok := b.aliases[t.text]
	if !ok {
		raw, ok = b.aliases[t.text[1:]]
	}
	if !ok {
		return docLiteral{nil}, nil
	}
	toks, err := tokenize(raw)
	if err != nil {
		return nil, err.At(t.pos)
	}
	if len(toks) == 2 {
		v := toks[0]
		switch {
		case v.kind == tTyped:
			// The member name is read from the alias' own text, which the token's offsets refer to.
			if !strings.HasPrefix(v.text, crmNamespace) {
				return nil, dverr.BadRequest("The type '%s' is not an enumeration type of this service.", v.text).At(t.pos)
			}
			if name, ok := typedValue(raw, v); ok {
				return docLiteral{enumValue(name)}, nil
			}
		case v.kind == tString, v.kind == tNumber, v.kind == tGUID, v.kind == tDate, v.kind == tDateTime, isNull(v), isBoolLit(v):
			v.pos, v.end = t.pos, t.end
			return b.literal(v)
		}
	}
	return nil, dverr.BadRequest("The value '%s' of the parameter alias '%s' is not a literal.", raw, t.text).At(t.pos)
}

// call binds contains, startswith and endswith.
func (b *docBinder) call(n *callNode) (docExpr, *dverr.Error) {
	name := n.name
	switch name.text {
	case "contains", "startswith", "endswith":
	default:
		if canonicalFunctions[name.text] {
			return nil, dverr.BadRequest("The function '%s' is not supported.", name.text).At(name.pos)
		}
		return nil, dverr.BadRequest("An unknown function with name '%s' was found. This may also be a function import or a key lookup on a navigation property, which is not allowed.", name.text).At(name.pos)
	}
	if len(n.args) != 2 {
		return nil, dverr.BadRequest("No function signature for the function with name '%s' matches the specified arguments. The function signatures considered are: %s(Edm.String Nullable=true, Edm.String Nullable=true).", name.text, name.text).At(name.pos)
	}
	x, err := b.value(n.args[0])
	if err != nil {
		return nil, err
	}
	if _, ok := x.(docPath); !ok {
		return nil, dverr.BadRequest("The first argument of '%s' must be a property.", name.text).At(n.args[0].pos())
	}
	v, err := b.value(n.args[1])
	if err != nil {
		return nil, err
	}
	lit, ok := v.(docLiteral)
	s, isStr := lit.v.(string)
	if !ok || !isStr {
		return nil, dverr.BadRequest("The second argument of '%s' must be a string value.", name.text).At(n.args[1].pos())
	}
	return docMatch{fn: name.text, x: x, pattern: s}, nil
}
