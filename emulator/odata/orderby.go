package odata

import (
	"time"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
)

// ParseOrderBy parses $orderby for entity e: comma-separated property paths (columns, lookup
// value properties such as _primarycontactid_value, and paths through single-valued navigation
// properties such as primarycontactid/fullname), each optionally followed by asc or desc. The
// keys keep the order given; a repeated key is kept (it does not change the order). Choice columns
// sort by their integer value, as in Dataverse. A key may be a parameter alias whose value is a
// property path (@p1 with @p1=revenue); aliases holds their values as in ParseFilter.
func ParseOrderBy(sch *model.Schema, e *model.Entity, text string, aliases map[string]string) ([]model.Order, error) {
	p, err := newParser(text)
	if err != nil {
		return nil, err
	}
	type item struct {
		n    node
		desc bool
	}
	var items []item
	for done := false; !done; {
		n, err := p.expr()
		if err != nil {
			return nil, err
		}
		it := item{n: n}
		if p.atWord("asc") || p.atWord("desc") {
			it.desc = p.next().text == "desc"
		}
		items = append(items, it)
		switch t := p.next(); t.kind {
		case tEOF:
			done = true
		case tComma:
		default:
			return nil, p.errSyntax(t.pos)
		}
	}
	b := newBinder(sch, e, text, aliases, noClock)
	out := make([]model.Order, 0, len(items))
	for _, it := range items {
		pn, ok := it.n.(*pathNode)
		if ln, isLit := it.n.(*literalNode); isLit && ln.tok.kind == tAlias {
			pn, ok = b.aliasPath(ln.tok)
		}
		if !ok || pn.lambda != nil {
			return nil, errOrderByPrimitive().At(it.n.pos())
		}
		o, err := b.path(pn)
		if err != nil {
			return nil, err
		}
		if o.kind != opColumn {
			return nil, errOrderByPrimitive().At(o.pos)
		}
		out = append(out, model.Order{Column: o.col, Desc: it.desc})
	}
	return out, nil
}

// noClock stands in for Env where no function can read it, so that normalization does not
// consult the wall clock.
var noClock = model.Env{Now: time.Unix(0, 0)}

func errOrderByPrimitive() *dverr.Error {
	return dverr.BadRequest("The $orderby expression must evaluate to a single value of primitive type.")
}
