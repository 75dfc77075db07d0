package odata

import (
	"strings"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
)

// Apply is a parsed $apply.
type Apply struct {
	// Filter is the conjunction of the filter transformations; nil when there are none.
	Filter model.Expr
	// GroupBy are the grouping properties, keyed by alias.
	GroupBy []model.GroupBy
	// Aggregates are the aggregate values, keyed by alias.
	Aggregates []model.Aggregate
}

// ParseApply parses $apply for entity e: the subset of OData data aggregation Dataverse supports.
// Transformations are separated by '/': any number of filter(<condition>) first, then at most one
// groupby((p1,p2)), groupby((p1),aggregate(...)) or aggregate(...).
//
// Aggregates are "<path> with sum|average|min|max|countdistinct as <alias>" or "$count as
// <alias>"; the alias is required. Grouping properties are keyed by their name: the logical name
// of a column, _x_value for a lookup; a property reached through navigation properties is keyed
// <target table>_<column>, as Dataverse names it (groupby((primarycontactid/fullname)) yields
// contact_fullname). Grouping by a date and time column is rejected, as Dataverse does.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/aggregate-data
func ParseApply(sch *model.Schema, e *model.Entity, text string, aliases map[string]string, env model.Env) (*Apply, error) {
	p, err := newParser(text)
	if err != nil {
		return nil, err
	}
	ts, err := p.transformations()
	if err != nil {
		return nil, err
	}
	a, err := newBinder(sch, e, text, aliases, env).apply(ts)
	if err != nil {
		return nil, err
	}
	return a, nil
}

// transformation is one parsed $apply transformation.
type transformation struct {
	name   token
	filter node      // filter
	groups []node    // groupby
	aggs   []aggSpec // aggregate, or groupby's nested aggregate
}

// aggSpec is one "<path> with <method> as <alias>" or "$count as <alias>".
type aggSpec struct {
	count  bool
	expr   node
	method token
	alias  token
	pos    int
}

// unsupportedTransformations lists OData transformations Dataverse rejects, for a clearer message.
var unsupportedTransformations = map[string]bool{
	"compute": true, "expand": true, "concat": true, "search": true, "orderby": true, "top": true, "skip": true,
	"identity": true, "topcount": true, "bottomcount": true, "toppercent": true, "bottompercent": true,
	"topsum": true, "bottomsum": true, "nest": true, "join": true, "outerjoin": true, "ancestors": true,
	"descendants": true, "traverse": true,
}

// transformations parses the whole $apply text.
func (p *parser) transformations() ([]transformation, *dverr.Error) {
	var out []transformation
	for {
		t := p.next()
		if t.kind != tIdent {
			return nil, p.errUnexpected(t)
		}
		if !p.at(tLParen) {
			return nil, p.errSyntax(p.peek().pos)
		}
		tr := transformation{name: t}
		switch t.text {
		case "filter":
			p.next()
			if err := p.enter(t.pos); err != nil {
				return nil, err
			}
			n, err := p.expr()
			p.leave()
			if err != nil {
				return nil, err
			}
			if !p.at(tRParen) {
				return nil, p.errCloseParen(p.peek().pos)
			}
			p.next()
			tr.filter = n
		case "groupby":
			p.next()
			if err := p.groupBy(&tr); err != nil {
				return nil, err
			}
		case "aggregate":
			p.next()
			aggs, err := p.aggregates()
			if err != nil {
				return nil, err
			}
			tr.aggs = aggs
		default:
			if unsupportedTransformations[t.text] {
				return nil, dverr.BadRequest("The transformation '%s' is not supported; Dataverse supports filter, groupby and aggregate.", t.text).At(t.pos)
			}
			return nil, dverr.BadRequest("'%s' is not a valid transformation at position %d in '%s'.", t.text, t.pos, p.src).At(t.pos)
		}
		out = append(out, tr)
		switch t := p.next(); t.kind {
		case tEOF:
			return out, nil
		case tSlash:
		default:
			return nil, p.errSyntax(t.pos)
		}
	}
}

// groupBy parses the rest of groupby((p1,p2)[,aggregate(...)]) after its opening parenthesis.
func (p *parser) groupBy(tr *transformation) *dverr.Error {
	if t := p.peek(); t.kind != tLParen {
		if t.kind == tEOF {
			return p.errExpected(t.pos)
		}
		return dverr.BadRequest("groupby takes a parenthesized list of properties, as in groupby((name,statecode)); found '%s' at position %d in '%s'.", p.src[t.pos:t.end], t.pos, p.src).At(t.pos)
	}
	p.next()
	for {
		n, err := p.expr()
		if err != nil {
			return err
		}
		tr.groups = append(tr.groups, n)
		t := p.next()
		if t.kind == tRParen {
			break
		}
		if t.kind != tComma {
			return p.errCloseArgs(t.pos)
		}
	}
	if p.at(tComma) {
		p.next()
		t := p.next()
		if t.kind != tIdent || t.text != "aggregate" || !p.at(tLParen) {
			if t.kind == tIdent && p.at(tLParen) {
				return dverr.BadRequest("groupby accepts only an aggregate transformation after its properties; found '%s'.", t.text).At(t.pos)
			}
			return p.errUnexpected(t)
		}
		p.next()
		aggs, err := p.aggregates()
		if err != nil {
			return err
		}
		tr.aggs = aggs
	}
	if t := p.next(); t.kind != tRParen {
		return p.errCloseArgs(t.pos)
	}
	return nil
}

// aggregates parses the rest of aggregate(...) after its opening parenthesis.
func (p *parser) aggregates() ([]aggSpec, *dverr.Error) {
	var out []aggSpec
	for {
		start := p.peek()
		a := aggSpec{pos: start.pos}
		if p.atWord("$count") {
			p.next()
			a.count = true
		} else {
			n, err := p.expr()
			if err != nil {
				return nil, err
			}
			a.expr = n
			if w := p.peek(); !p.atWord("with") {
				return nil, dverr.BadRequest("Expected 'with' and an aggregation method (sum, average, min, max or countdistinct) at position %d in '%s'.", w.pos, p.src).At(w.pos)
			}
			p.next()
			if a.method = p.next(); a.method.kind != tIdent {
				return nil, p.errUnexpected(a.method)
			}
		}
		if w := p.peek(); !p.atWord("as") {
			return nil, dverr.BadRequest("An aggregate needs an alias: add 'as <alias>' at position %d in '%s'.", w.pos, p.src).At(w.pos)
		}
		p.next()
		if a.alias = p.next(); a.alias.kind != tIdent || strings.ContainsAny(a.alias.text, ".$") {
			return nil, p.errUnexpected(a.alias)
		}
		out = append(out, a)
		switch t := p.next(); t.kind {
		case tComma:
		case tRParen:
			return out, nil
		default:
			return nil, p.errCloseArgs(t.pos)
		}
	}
}

var aggregateFuncs = map[string]model.AggregateFunc{
	"sum":           model.AggSum,
	"average":       model.AggAvg,
	"min":           model.AggMin,
	"max":           model.AggMax,
	"countdistinct": model.AggCountDistinct,
}

// apply binds parsed transformations.
func (b *binder) apply(ts []transformation) (*Apply, *dverr.Error) {
	out := &Apply{}
	var filters []model.Expr
	grouped := false
	aliases := map[string]bool{}
	for _, tr := range ts {
		if grouped {
			return nil, dverr.BadRequest("The transformation '%s' cannot follow groupby or aggregate; only filter transformations may come first.", tr.name.text).At(tr.name.pos)
		}
		switch tr.name.text {
		case "filter":
			x, err := b.filter(tr.filter)
			if err != nil {
				return nil, err
			}
			filters = append(filters, x)
			continue
		case "groupby":
			for _, n := range tr.groups {
				g, err := b.groupBy(n, aliases)
				if err != nil {
					return nil, err
				}
				out.GroupBy = append(out.GroupBy, g)
			}
		}
		grouped = true
		for _, a := range tr.aggs {
			ag, err := b.aggregate(a, aliases)
			if err != nil {
				return nil, err
			}
			out.Aggregates = append(out.Aggregates, ag)
		}
	}
	switch len(filters) {
	case 0:
	case 1:
		out.Filter = filters[0]
	default:
		out.Filter = model.And{Terms: filters}
	}
	return out, nil
}

// property binds a grouping or aggregated property: a path to a column.
func (b *binder) property(n node, what string) (operand, *dverr.Error) {
	pn, ok := n.(*pathNode)
	if !ok || pn.lambda != nil {
		return operand{}, dverr.BadRequest("Only properties of primitive type can be %s.", what).At(n.pos())
	}
	o, err := b.path(pn)
	if err != nil {
		return operand{}, err
	}
	if o.kind != opColumn {
		return operand{}, dverr.BadRequest("Only properties of primitive type can be %s; use the lookup value property %s.", what, o.col.Attr.LookupProperty()).At(o.pos)
	}
	return o, nil
}

func (b *binder) groupBy(n node, aliases map[string]bool) (model.GroupBy, *dverr.Error) {
	o, err := b.property(n, "grouped by")
	if err != nil {
		return model.GroupBy{}, err
	}
	a := o.col.Attr
	if a.Type == model.TypeDateTime {
		return model.GroupBy{}, dverr.BadRequest("Grouping by the date and time column '%s' is not supported in $apply.", a.LogicalName).At(o.pos)
	}
	alias := a.LogicalName
	if a.IsLookup() {
		alias = a.LookupProperty()
	}
	if k := len(o.col.Path); k > 0 {
		alias = o.col.Path[k-1].Target + "_" + a.LogicalName
	}
	if aliases[alias] {
		return model.GroupBy{}, dverr.BadRequest("The property '%s' is grouped by more than once.", alias).At(o.pos)
	}
	aliases[alias] = true
	return model.GroupBy{Column: o.col, Alias: alias}, nil
}

func (b *binder) aggregate(s aggSpec, aliases map[string]bool) (model.Aggregate, *dverr.Error) {
	ag := model.Aggregate{Func: model.AggCount, Alias: s.alias.text}
	if !s.count {
		o, err := b.property(s.expr, "aggregated")
		if err != nil {
			return model.Aggregate{}, err
		}
		f, ok := aggregateFuncs[s.method.text]
		if !ok {
			return model.Aggregate{}, dverr.BadRequest("The aggregation method '%s' is not supported; use sum, average, min, max or countdistinct.", s.method.text).At(s.method.pos)
		}
		if err := checkAggregate(s.method.text, o); err != nil {
			return model.Aggregate{}, err
		}
		ag.Func, ag.Column = f, o.col
	}
	if aliases[ag.Alias] {
		return model.Aggregate{}, dverr.BadRequest("The alias '%s' is used more than once.", ag.Alias).At(s.alias.pos)
	}
	aliases[ag.Alias] = true
	return ag, nil
}

// checkAggregate checks that a method applies to the column's type: sum and average take
// numbers, min and max numbers and dates, countdistinct anything.
func checkAggregate(method string, o operand) *dverr.Error {
	a := o.col.Attr
	numeric := a.Type == model.TypeInteger || a.Type == model.TypeBigInt || a.Type == model.TypeDecimal ||
		a.Type == model.TypeMoney || a.Type == model.TypeDouble
	ok := true
	switch method {
	case "sum", "average":
		ok = numeric
	case "min", "max":
		ok = numeric || a.Type == model.TypeDateTime
	}
	if !ok {
		return dverr.BadRequest("The aggregation method '%s' cannot be applied to '%s' of type %s.", method, a.LogicalName, a.EdmType()).At(o.pos)
	}
	return nil
}
