package fetchxml

import (
	"strconv"

	"github.com/antchfx/xmlquery"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
)

var (
	entityAttrs    = []string{"name", "enableprefiltering", "prefilterparametername"}
	attributeAttrs = []string{"name", "build", "addedby", "alias", "aggregate", "groupby", "dategrouping", "usertimezone", "distinct", "rowaggregate"}
	orderAttrs     = []string{"attribute", "alias", "descending", "entityname"}
)

// entity reads the entity element: the root table, then its links, then the columns, orders and
// filters of the entity and of each joined link.
func (p *parser) entity(n *xmlquery.Node) *dverr.Error {
	attrs, err := p.attrs(n, entityAttrs...)
	if err != nil {
		return err
	}
	name := attrs["name"]
	if name == "" {
		return fail(p.pos(n), codeNoEntity, "Entity Name was not specified in FetchXml String.")
	}
	e, ok := p.sch.Entity(name)
	if !ok {
		return errNoEntity(p.pos(n), name)
	}
	p.f.Entity = e
	p.q = &model.Query{Entity: e}
	p.f.Query = p.q
	if err := p.numberLinks(n); err != nil {
		return err
	}
	// Joins come first so that any filter can name any of them, wherever it stands.
	nodes := map[*model.Link]*xmlquery.Node{}
	if err := p.joinLinks(n, e, nil, nodes); err != nil {
		return err
	}
	// A link without an alias may also be named by its table's name, when no other link (nor the
	// entity itself) has it.
	count := map[string]int{}
	for _, l := range p.unaliased {
		count[l.Entity.LogicalName]++
	}
	for _, l := range p.unaliased {
		name := l.Entity.LogicalName
		if _, taken := p.joins[name]; !taken && count[name] == 1 && name != e.LogicalName {
			p.joins[name] = l
		}
	}
	pend, err := p.body(n, e, nil)
	if err != nil {
		return err
	}
	for _, l := range p.q.Links {
		lp, err := p.body(nodes[l], l.Entity, l)
		if err != nil {
			return err
		}
		pend = append(pend, lp...)
	}
	if p.f.Aggregate && len(p.q.GroupBy)+len(p.q.Aggregates) == 0 {
		return fail(p.pos(n), codeInvalidAggregate, "An aggregate query needs at least one attribute with an aggregate function or groupby='true'.")
	}
	linkStart := len(p.q.Order)
	p.q.Order = append(p.q.Order, p.linkOrders...)
	return p.resolveOrderAliases(pend, linkStart)
}

// numberLinks counts every link-entity element, wherever it stands, against MaxLinks and gives
// each its alias: the alias attribute, or the entity name and the element's 1-based position
// among all link-entity elements.
func (p *parser) numberLinks(entity *xmlquery.Node) *dverr.Error {
	n := 0
	var walk func(x *xmlquery.Node) *dverr.Error
	walk = func(x *xmlquery.Node) *dverr.Error {
		for _, c := range elements(x) {
			if c.Data == "link-entity" {
				n++
				if n > MaxLinks {
					return fail(p.pos(c), dverr.CodeTooManyLinkEntities, "Number of link entities in query exceeded maximum limit.")
				}
				alias := c.SelectAttr("alias")
				if alias == "" {
					alias = c.SelectAttr("name") + strconv.Itoa(n)
				}
				p.linkAlias[c] = alias
			}
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(entity)
}

// joinLinks adds the inner and outer link-entities under parent to Query.Links, parents before
// children. Links that only filter are read later, with the filters.
func (p *parser) joinLinks(parent *xmlquery.Node, parentEnt *model.Entity, parentLink *model.Link, nodes map[*model.Link]*xmlquery.Node) *dverr.Error {
	for _, c := range elements(parent) {
		if c.Data != "link-entity" {
			continue
		}
		attrs, err := p.attrs(c, linkAttrs...)
		if err != nil {
			return err
		}
		kind, err := p.linkType(c, attrs)
		if err != nil {
			return err
		}
		if !isJoin(kind) {
			continue
		}
		ent, from, to, err := p.linkEnds(c, attrs, parentEnt)
		if err != nil {
			return err
		}
		outer := kind == "outer"
		if kind == "matchfirstrowusingcrossapply" {
			// An outer join returns the one related row when the link follows a many-to-one
			// relationship; for others the store cannot keep only the first related row.
			if from != ent.PrimaryIDAttribute {
				return fail(p.pos(c), codeNotSupported, "The link-type matchfirstrowusingcrossapply is only supported by the emulator when from is the primary key of '%s'.", ent.LogicalName)
			}
			outer = true
		}
		alias := p.linkAlias[c]
		if _, dup := p.joins[alias]; dup {
			return fail(p.pos(c), codeInvalidAlias, "The alias '%s' is used by more than one link-entity.", alias)
		}
		l := &model.Link{Alias: alias, Entity: ent, From: from, To: to, Parent: parentLink, Outer: outer}
		p.linkIndex[l] = len(p.q.Links)
		p.q.Links = append(p.q.Links, l)
		nodes[l] = c
		p.joins[alias] = l
		if attrs["alias"] == "" {
			p.unaliased = append(p.unaliased, l)
		}
		if err := p.joinLinks(c, ent, l, nodes); err != nil {
			return err
		}
	}
	return nil
}

// pendingOrder is an order by alias in a non-aggregate query, resolved once every column is known.
type pendingOrder struct {
	link bool // in linkOrders rather than Query.Order
	i    int
	pos  int
}

// body reads the columns, orders and filters of the entity (link nil) or of a joined link.
func (p *parser) body(n *xmlquery.Node, ent *model.Entity, link *model.Link) ([]pendingOrder, *dverr.Error) {
	s := scope{entity: ent, join: link, root: link == nil, limit: len(p.q.Links) - 1}
	if link != nil {
		s.limit = p.linkIndex[link]
	}
	var terms []model.Expr
	var pend []pendingOrder
	columns := false
	if link == nil && !p.f.Aggregate {
		p.q.Columns = []*model.Attribute{}
	}
	for _, c := range elements(n) {
		var x model.Expr
		var err *dverr.Error
		switch c.Data {
		case "attribute":
			columns = true
			err = p.attribute(c, ent, link)
		case "all-attributes":
			columns = true
			if _, err = p.attrs(c); err == nil {
				err = p.allAttributes(c, ent, link)
			}
		case "no-attrs":
			columns = true
			_, err = p.attrs(c)
		case "order":
			var po *pendingOrder
			po, err = p.order(c, ent, link)
			if po != nil {
				pend = append(pend, *po)
			}
		case "filter":
			x, err = p.filter(c, s)
		case "link-entity":
			var attrs map[string]string
			var kind string
			if attrs, err = p.attrs(c, linkAttrs...); err == nil {
				kind, err = p.linkType(c, attrs)
			}
			if err == nil && !isJoin(kind) {
				x, err = p.exists(c, s, kind)
			}
		default:
			err = fail(p.pos(c), codeInvalidNode, "Invalid Child Node, valid nodes are filter, order, link-entity, attribute, all-attributes, no-attrs. NodeName = %s", c.Data)
		}
		if err != nil {
			return nil, err
		}
		if x != nil {
			terms = append(terms, x)
		}
	}
	if link == nil && !columns && !p.f.Aggregate {
		// Dataverse returns every column when the entity names none.
		if err := p.allAttributes(n, ent, nil); err != nil {
			return nil, err
		}
	}
	x := combine(false, terms)
	if link == nil {
		p.q.Filter = x
	} else {
		link.Filter = x
	}
	return pend, nil
}

// attribute reads an attribute element: a column, or in an aggregate query an aggregate or a
// group-by column.
func (p *parser) attribute(n *xmlquery.Node, ent *model.Entity, link *model.Link) *dverr.Error {
	attrs, err := p.attrs(n, attributeAttrs...)
	if err != nil {
		return err
	}
	name := attrs["name"]
	a, ok := ent.Attribute(name)
	if !ok {
		return errNoAttribute(p.pos(n), ent.LogicalName, name)
	}
	if _, ok := attrs["rowaggregate"]; ok {
		return fail(p.pos(n), codeNotSupported, "rowaggregate needs a hierarchical relationship on '%s'; the emulator's fixtures define none.", ent.LogicalName)
	}
	if _, err := p.boolAttr(n, attrs, "usertimezone"); err != nil {
		return err
	}
	if !a.Stored() {
		return fail(p.pos(n), codeInvalidArgument, "The column '%s' of '%s' can't be retrieved: the emulator keeps no value for it.", name, ent.LogicalName)
	}
	if p.f.Aggregate {
		return p.aggregateAttribute(n, attrs, a, link)
	}
	if !a.ValidForRead {
		// Dataverse ignores a column not valid for read in a column set and returns no data for
		// it (RetrieveMultipleRequest.Query); conditions, orders and groupings on it are refused
		// when the query is compiled.
		return nil
	}
	for _, k := range []string{"aggregate", "groupby", "dategrouping", "distinct"} {
		if _, ok := attrs[k]; ok {
			return fail(p.pos(n), codeInvalidAggregate, "The '%s' attribute of an attribute element is only allowed in aggregate queries (fetch aggregate='true').", k)
		}
	}
	return p.addColumn(n, a, link, attrs["alias"])
}

// allAttributes selects every column the store keeps.
func (p *parser) allAttributes(n *xmlquery.Node, ent *model.Entity, link *model.Link) *dverr.Error {
	if p.f.Aggregate {
		return fail(p.pos(n), codeInvalidAggregate, "all-attributes can't be used in an aggregate query.")
	}
	for _, a := range ent.Attributes {
		if a.Stored() && a.ValidForRead {
			if err := p.addColumn(n, a, link, ""); err != nil {
				return err
			}
		}
	}
	return nil
}

// defaultKey is the output key of an unaliased column.
func defaultKey(a *model.Attribute, link *model.Link) string {
	if link != nil {
		return EncodeKey(link.Alias, a.LogicalName)
	}
	if a.IsLookup() {
		return a.LookupProperty()
	}
	return a.LogicalName
}

// output records an output column, refusing a key already used by another column.
func (p *parser) output(n *xmlquery.Node, oc OutputColumn) (added bool, err *dverr.Error) {
	if prev, ok := p.keys[oc.Key]; ok {
		if prev.Link == oc.Link && prev.Attr == oc.Attr && prev.Alias == oc.Alias && prev.Aggregate == oc.Aggregate && prev.DatePart == oc.DatePart && !oc.GroupBy && !prev.GroupBy && oc.Alias == "" {
			return false, nil // the same column twice
		}
		return false, fail(p.pos(n), codeInvalidAlias, "The column name '%s' is used more than once in the query; each column returned must have a unique name.", oc.Key)
	}
	p.keys[oc.Key] = oc
	p.f.Columns = append(p.f.Columns, oc)
	return true, nil
}

// addColumn selects a column of the root or of a link.
func (p *parser) addColumn(n *xmlquery.Node, a *model.Attribute, link *model.Link, alias string) *dverr.Error {
	key := alias
	if key == "" {
		key = defaultKey(a, link)
	}
	if _, err := p.output(n, OutputColumn{Key: key, Link: link, Attr: a}); err != nil {
		return err
	}
	list := &p.q.Columns
	if link != nil {
		list = &link.Columns
	} else if a.LogicalName == model.VersionColumn {
		return nil // the store reads the row version with every root row
	}
	for _, have := range *list {
		if have == a {
			return nil
		}
	}
	*list = append(*list, a)
	return nil
}

var aggregateFuncs = map[string]model.AggregateFunc{
	"count": model.AggCount, "countcolumn": model.AggCountColumn, "sum": model.AggSum, "avg": model.AggAvg,
	"min": model.AggMin, "max": model.AggMax,
}

var dateGroupings = map[string]bool{
	"day": true, "week": true, "month": true, "quarter": true, "year": true, "fiscal-period": true, "fiscal-year": true,
}

func isNumeric(a *model.Attribute) bool {
	switch a.Type {
	case model.TypeInteger, model.TypeBigInt, model.TypeDecimal, model.TypeDouble, model.TypeMoney:
		return true
	}
	return false
}

// aggregateAttribute reads an attribute of an aggregate query.
func (p *parser) aggregateAttribute(n *xmlquery.Node, attrs map[string]string, a *model.Attribute, link *model.Link) *dverr.Error {
	groupBy, err := p.boolAttr(n, attrs, "groupby")
	if err != nil {
		return err
	}
	distinct, err := p.boolAttr(n, attrs, "distinct")
	if err != nil {
		return err
	}
	fnName, isAgg := attrs["aggregate"]
	alias := attrs["alias"]
	col := &model.Column{Link: link, Attr: a}
	switch {
	case isAgg && groupBy:
		return fail(p.pos(n), codeInvalidAggregate, "The attribute '%s' can't both be aggregated and grouped by.", a.LogicalName)
	case isAgg:
		fn, ok := aggregateFuncs[fnName]
		if !ok {
			return fail(p.pos(n), codeInvalidAggregate, "The aggregate function '%s' is not valid; use count, countcolumn, sum, avg, min or max.", fnName)
		}
		if alias == "" {
			return fail(p.pos(n), codeNoAlias, "An alias is required for the aggregate attribute '%s'.", a.LogicalName)
		}
		if _, ok := attrs["dategrouping"]; ok {
			return fail(p.pos(n), codeInvalidAggregate, "dategrouping is only allowed on a groupby attribute.")
		}
		switch {
		case distinct && fn != model.AggCountColumn:
			return fail(p.pos(n), codeInvalidAggregate, "distinct is only supported with the countcolumn aggregate function.")
		case distinct:
			fn = model.AggCountDistinct
		case (fn == model.AggSum || fn == model.AggAvg) && !isNumeric(a),
			(fn == model.AggMin || fn == model.AggMax) && !isNumeric(a) && a.Type != model.TypeDateTime:
			return fail(p.pos(n), codeInvalidAggregate, "The aggregate function '%s' can't be applied to the column '%s' of type %s.", fnName, a.LogicalName, a.Type)
		}
		agg := model.Aggregate{Func: fn, Column: col, Alias: alias}
		if fn == model.AggCount {
			agg.Column = nil // count counts rows
		}
		if _, err := p.output(n, OutputColumn{Key: alias, Link: link, Attr: a, Alias: alias, Aggregate: fn}); err != nil {
			return err
		}
		p.q.Aggregates = append(p.q.Aggregates, agg)
	case groupBy:
		part := attrs["dategrouping"]
		if part != "" {
			if !dateGroupings[part] {
				return fail(p.pos(n), codeInvalidAggregate, "The dategrouping '%s' is not valid; use day, week, month, quarter, year, fiscal-period or fiscal-year.", part)
			}
			if a.Type != model.TypeDateTime {
				return fail(p.pos(n), codeInvalidAggregate, "dategrouping can only be used with date and time columns; '%s' is of type %s.", a.LogicalName, a.Type)
			}
		}
		if distinct {
			return fail(p.pos(n), codeInvalidAggregate, "distinct is only supported with the countcolumn aggregate function.")
		}
		key := alias
		if key == "" {
			key = defaultKey(a, link)
		}
		if _, err := p.output(n, OutputColumn{Key: key, Link: link, Attr: a, Alias: key, GroupBy: true, DatePart: part}); err != nil {
			return err
		}
		p.q.GroupBy = append(p.q.GroupBy, model.GroupBy{Column: col, Alias: key, DatePart: part})
	default:
		return fail(p.pos(n), codeInvalidAggregate, "In an aggregate query every attribute needs an aggregate function or groupby='true'; '%s' has neither.", a.LogicalName)
	}
	return nil
}

// order reads an order element of the entity or of a joined link.
func (p *parser) order(n *xmlquery.Node, ent *model.Entity, link *model.Link) (*pendingOrder, *dverr.Error) {
	attrs, err := p.attrs(n, orderAttrs...)
	if err != nil {
		return nil, err
	}
	desc, err := p.boolAttr(n, attrs, "descending")
	if err != nil {
		return nil, err
	}
	name, byAttr := attrs["attribute"]
	alias, byAlias := attrs["alias"]
	if byAttr == byAlias {
		return nil, fail(p.pos(n), codeInvalidArgument, "An order element needs either an attribute or an alias.")
	}
	list := &p.q.Order
	if link != nil {
		list = &p.linkOrders
	}
	if byAlias {
		*list = append(*list, model.Order{Alias: alias, Desc: desc})
		return &pendingOrder{link: link != nil, i: len(*list) - 1, pos: p.pos(n)}, nil
	}
	if p.f.Aggregate {
		return nil, fail(p.pos(n), codeInvalidArgument, "An aggregate query is ordered by the alias of a groupby or aggregate attribute: <order alias='...' />; '%s' is not an alias.", name)
	}
	col := &model.Column{Link: link}
	if en, ok := attrs["entityname"]; ok && en != "" {
		l, ok := p.join(en)
		switch {
		case ok:
			col.Link, ent = l, l.Entity
		case link == nil && en == p.q.Entity.LogicalName:
		default:
			return nil, fail(p.pos(n), codeAliasNotFound, "The order names the entity '%s', which is not the alias of a link-entity of the query.", en)
		}
	}
	a, ok := ent.Attribute(name)
	if !ok {
		return nil, errNoAttribute(p.pos(n), ent.LogicalName, name)
	}
	if !a.Stored() {
		return nil, fail(p.pos(n), codeInvalidArgument, "The column '%s' of '%s' can't be used to order rows: the emulator keeps no value for it.", name, ent.LogicalName)
	}
	col.Attr = a
	*list = append(*list, model.Order{Column: col, Desc: desc})
	return nil, nil
}

// resolveOrderAliases turns orders by alias into orders by column in non-aggregate queries, and
// checks that aggregate queries order by known aliases. linkStart is where the link orders begin
// in Query.Order.
func (p *parser) resolveOrderAliases(pend []pendingOrder, linkStart int) *dverr.Error {
	for _, po := range pend {
		i := po.i
		if po.link {
			i += linkStart
		}
		o := &p.q.Order[i]
		oc, ok := p.keys[o.Alias]
		if !ok || p.f.Aggregate && oc.Alias == "" {
			return fail(po.pos, codeAliasNotFound, "The order alias '%s' does not name an attribute of the query.", o.Alias)
		}
		if !p.f.Aggregate {
			*o = model.Order{Column: &model.Column{Link: oc.Link, Attr: oc.Attr}, Desc: o.Desc}
		}
	}
	return nil
}

// join resolves an entityname: a link alias, or the name of the only unaliased link to a table.
func (p *parser) join(name string) (*model.Link, bool) {
	l, ok := p.joins[name]
	return l, ok
}
