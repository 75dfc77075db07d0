package fetchxml

import (
	"strings"

	"github.com/antchfx/xmlquery"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
)

// scope is where a filter applies, and so what its unqualified columns name.
//
// The root's filter becomes Query.Filter, a joined link's filter its Link.Filter (compiled into
// the join's ON clause, with the link as scope), and a filtering link's filter an Exists filter
// (with the related table as scope). In each, a column with no Link names the scope's table.
type scope struct {
	entity *model.Entity
	// join is the joined link whose filter this is (nil at the root and inside Exists).
	join *model.Link
	root bool
	// exists is set inside the filter of a filtering link; alias is then that link's alias, which
	// its conditions may name.
	exists bool
	alias  string
	// limit is the index in Query.Links of the last link the filter may name: the store compiles
	// a link's filter when it joins it, so only the links joined before it (and itself) exist.
	limit int
}

var filterAttrs = []string{"type", "isquickfindfields", "hint", "overridequickfindrecordlimitenabled", "overridequickfindrecordlimitdisabled", "bypassquickfind"}

// filter reads a filter element: its conditions, nested filters and filtering link-entities,
// combined with and (the default) or or. An empty filter is no condition (nil).
func (p *parser) filter(n *xmlquery.Node, s scope) (model.Expr, *dverr.Error) {
	attrs, err := p.attrs(n, filterAttrs...)
	if err != nil {
		return nil, err
	}
	for _, b := range []string{"isquickfindfields", "overridequickfindrecordlimitenabled", "overridequickfindrecordlimitdisabled", "bypassquickfind"} {
		if _, err := p.boolAttr(n, attrs, b); err != nil {
			return nil, err
		}
	}
	or := false
	switch t, ok := attrs["type"]; {
	case !ok || t == "and":
	case t == "or":
		or = true
	default:
		return nil, fail(p.pos(n), codeInvalidFilter, "The filter type '%s' is not valid; use and or or.", t)
	}
	var terms []model.Expr
	for _, c := range elements(n) {
		var x model.Expr
		var err *dverr.Error
		switch c.Data {
		case "condition":
			x, err = p.condition(c, s)
		case "filter":
			x, err = p.filter(c, s)
		case "link-entity":
			var attrs map[string]string
			var kind string
			if attrs, err = p.attrs(c, linkAttrs...); err == nil {
				kind, err = p.linkType(c, attrs)
			}
			if err == nil && isJoin(kind) {
				err = fail(p.pos(c), codeInvalidLinkType, "A link-entity inside a filter only filters rows: its link-type must be any, not any, all or not all, not '%s'.", kind)
			}
			if err == nil {
				x, err = p.exists(c, s, kind)
			}
		default:
			err = fail(p.pos(c), codeInvalidNode, "Invalid Child Node, valid nodes are condition, filter, link-entity. NodeName = %s", c.Data)
		}
		if err != nil {
			return nil, err
		}
		if x != nil {
			terms = append(terms, x)
		}
	}
	return combine(or, terms), nil
}

// combine joins terms with and or or; no term is no condition, and one term stands alone.
func combine(or bool, terms []model.Expr) model.Expr {
	switch {
	case len(terms) == 0:
		return nil
	case len(terms) == 1:
		return terms[0]
	case or:
		return model.Or{Terms: terms}
	}
	return model.And{Terms: terms}
}

// resolve finds the table a condition names with entityname (empty: the scope's own table) and
// the Link its columns carry in scope s.
func (p *parser) resolve(n *xmlquery.Node, s scope, name string) (*model.Link, *model.Entity, *dverr.Error) {
	if name == "" || s.exists && name == s.alias {
		return nil, s.entity, nil
	}
	if l, ok := p.join(name); ok {
		if p.linkIndex[l] > s.limit {
			return nil, nil, fail(p.pos(n), codeNotSupported, "This filter can't refer to the link-entity '%s': a link-entity's filter can only refer to itself and to the link-entities before it.", name)
		}
		if l == s.join {
			return nil, l.Entity, nil
		}
		return l, l.Entity, nil
	}
	if name == p.q.Entity.LogicalName {
		if s.root {
			return nil, s.entity, nil
		}
		return nil, nil, fail(p.pos(n), codeNotSupported, "A filter inside a link-entity can't refer to the query's entity '%s' in the emulator.", name)
	}
	return nil, nil, fail(p.pos(n), codeAliasNotFound, "The entityname '%s' is not the alias of a link-entity of the query.", name)
}

// column resolves a condition's column in scope s.
func (p *parser) column(n *xmlquery.Node, s scope, entityName, attr string) (*model.Column, *model.Entity, *dverr.Error) {
	link, ent, err := p.resolve(n, s, entityName)
	if err != nil {
		return nil, nil, err
	}
	a, ok := ent.Attribute(attr)
	if !ok {
		return nil, nil, errNoAttribute(p.pos(n), ent.LogicalName, attr)
	}
	if !a.Stored() {
		return nil, nil, fail(p.pos(n), codeInvalidArgument, "The column '%s' of '%s' can't be used in a condition: the emulator keeps no value for it.", attr, ent.LogicalName)
	}
	return &model.Column{Link: link, Attr: a}, ent, nil
}

var conditionAttrs = []string{"attribute", "entityname", "operator", "value", "valueof", "alias", "aggregate", "rowaggregate", "uiname", "uitype", "uihidden"}

// valueText is a condition value with where it was written.
type valueText struct {
	text string
	pos  int
}

// cond is a condition being built.
type cond struct {
	p  *parser
	n  *xmlquery.Node
	op string
	// operator is the Dataverse condition operator op names.
	operator *model.Operator
	col      *model.Column
	ent      *model.Entity // the column's table, for messages
	// attr is the value attribute (nil when absent); list the value elements.
	attr *valueText
	list []valueText
}

func (c *cond) name() string { return c.ent.LogicalName + "." + c.col.Attr.LogicalName }

// condition reads a condition element.
func (p *parser) condition(n *xmlquery.Node, s scope) (model.Expr, *dverr.Error) {
	attrs, err := p.attrs(n, conditionAttrs...)
	if err != nil {
		return nil, err
	}
	for _, k := range []string{"alias", "aggregate", "rowaggregate"} {
		if _, ok := attrs[k]; ok {
			return nil, fail(p.pos(n), codeNotSupported, "Conditions with the '%s' attribute (on aggregated values) are not supported by the emulator.", k)
		}
	}
	op, ok := attrs["operator"]
	if !ok {
		return nil, fail(p.pos(n), codeInvalidOperator, "The condition needs an operator.")
	}
	operator, ok := conditionOperator(op)
	if !ok {
		return nil, fail(p.pos(n), codeInvalidOperator, "The 'operator' attribute is invalid - The value '%s' is invalid according to its datatype 'String' - The Enumeration constraint failed.", op)
	}
	name := attrs["attribute"]
	if name == "" {
		return nil, fail(p.pos(n), codeNoAttribute, "The condition needs the attribute it tests.")
	}
	col, ent, err := p.column(n, s, attrs["entityname"], name)
	if err != nil {
		return nil, err
	}
	c := &cond{p: p, n: n, op: op, operator: operator, col: col, ent: ent}
	if v, ok := attrs["value"]; ok {
		c.attr = &valueText{text: v, pos: p.pos(n)}
	}
	for _, vn := range elements(n) {
		if vn.Data != "value" {
			return nil, fail(p.pos(vn), codeInvalidNode, "Invalid Child Node, valid nodes are value. NodeName = %s", vn.Data)
		}
		if _, err := p.attrs(vn, "uiname", "uitype"); err != nil {
			return nil, err
		}
		c.list = append(c.list, valueText{text: text(vn), pos: p.pos(vn)})
	}
	if vo, ok := attrs["valueof"]; ok {
		if operator.Family != model.FamilyCompare {
			return nil, fail(p.pos(n), codeInvalidArgument, "valueof can only be used with the operators eq, ne, neq, gt, ge, lt and le, not '%s'.", op)
		}
		if c.attr != nil || len(c.list) > 0 {
			return nil, fail(p.pos(n), codeInvalidArgument, "A condition can't have both a value and valueof.")
		}
		return c.columnCompare(s, vo)
	}
	return c.build()
}

// columnCompare compares the condition's column with another column of the same type: one of the
// scope's table, or "alias.column" of a link-entity.
func (c *cond) columnCompare(s scope, valueOf string) (model.Expr, *dverr.Error) {
	entityName, attr := "", valueOf
	if i := strings.LastIndexByte(valueOf, '.'); i >= 0 {
		entityName, attr = valueOf[:i], valueOf[i+1:]
	}
	right, rent, err := c.p.column(c.n, s, entityName, attr)
	if err != nil {
		return nil, err
	}
	l, r := c.col.Attr, right.Attr
	if l.IsMultiSelect() || r.IsMultiSelect() {
		return nil, c.errMultiSelect()
	}
	if family(l) != family(r) {
		return nil, c.p.failf(c.n, codeInvalidArgument, "Column comparison needs columns of the same type: '%s' is %s and '%s.%s' is %s.", c.name(), l.Type, rent.LogicalName, r.LogicalName, r.Type)
	}
	return model.Compare{Left: c.col, Op: c.operator.Compare, Right: right}, nil
}

func (p *parser) failf(n *xmlquery.Node, code, format string, args ...any) *dverr.Error {
	return fail(p.pos(n), code, format, args...)
}

// family groups attribute types whose values compare with each other.
func family(a *model.Attribute) string {
	switch a.Type {
	case model.TypeString, model.TypeMemo, model.TypeEntityName:
		return "string"
	case model.TypeInteger, model.TypeBigInt, model.TypePicklist, model.TypeState, model.TypeStatus:
		return "integer"
	case model.TypeMoney, model.TypeDecimal:
		return "decimal"
	case model.TypeUniqueidentifier, model.TypeLookup, model.TypeCustomer, model.TypeOwner:
		return "guid"
	}
	return string(a.Type)
}

// one returns the single value of an operator that takes one: the value attribute, or a single
// value element.
func (c *cond) one() (valueText, *dverr.Error) {
	switch {
	case c.attr != nil && len(c.list) == 0:
		return *c.attr, nil
	case c.attr == nil && len(c.list) == 1:
		return c.list[0], nil
	case c.attr == nil && len(c.list) == 0:
		return valueText{}, c.p.failf(c.n, codeInvalidArgument, "Condition for attribute '%s': null is not a valid value for an operator. Use the Null or NotNull operators instead.", c.name())
	}
	n := len(c.list)
	if c.attr != nil {
		n++
	}
	return valueText{}, c.p.failf(c.n, codeInvalidArgument, "The condition operator '%s' on '%s' takes one value, not %d.", c.op, c.name(), n)
}

// values returns the values of an operator that takes several: the value elements, or the value
// attribute alone. want is the exact number needed (0: at least one).
func (c *cond) values(want int) ([]valueText, *dverr.Error) {
	vals := c.list
	if len(vals) == 0 && c.attr != nil {
		vals = []valueText{*c.attr}
	}
	switch {
	case want > 0 && len(vals) != want:
		return nil, c.p.failf(c.n, codeInvalidArgument, "The condition operator '%s' on '%s' takes %d values, not %d.", c.op, c.name(), want, len(vals))
	case len(vals) == 0:
		return nil, c.p.failf(c.n, codeInvalidArgument, "The condition operator '%s' on '%s' needs at least one value.", c.op, c.name())
	}
	return vals, nil
}

// none checks that an operator that takes no value was given none (an empty value attribute, as
// some tools write, is allowed).
func (c *cond) none() *dverr.Error {
	if len(c.list) > 0 || c.attr != nil && strings.TrimSpace(c.attr.text) != "" {
		return c.p.failf(c.n, codeInvalidArgument, "The condition operator '%s' on '%s' doesn't take a value.", c.op, c.name())
	}
	return nil
}

func (c *cond) errMultiSelect() *dverr.Error {
	return c.p.failf(c.n, codeInvalidArgument, "The multi-select choice column '%s' can only be tested with the operators null, not-null, contain-values and not-contain-values.", c.name())
}
