package fetchxml

import (
	"slices"
	"strconv"
	"strings"

	"github.com/antchfx/xmlquery"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
)

// Limits Dataverse applies to FetchXML.
const (
	// MaxPageSize is the largest page (and the default one).
	MaxPageSize = 5000
	// MaxLinks is the number of link-entity elements a query may have.
	MaxLinks = 15
	// DefaultAggregateLimit is the number of source rows an aggregate query may read.
	DefaultAggregateLimit = 50000
)

// Fetch is a parsed FetchXML query.
type Fetch struct {
	// Query is the query to run: root entity, columns, links, filter, order, page size and page
	// position, top, distinct, grouping and aggregates.
	Query *model.Query
	// Entity is the root table.
	Entity *model.Entity
	// Columns describes the output columns in order: the key of each and where its value comes
	// from.
	Columns []OutputColumn
	// Page is the 1-based page asked for and Count the page size (MaxPageSize unless set).
	Page, Count int
	// PagingCookie is the paging-cookie attribute (the inner cookie), "" when absent.
	PagingCookie string
	// Skip is the number of rows before the page when it is reached by number rather than by
	// cookie: (Page-1)*Count, also set as Query.Offset. It is zero when Query.After positions the
	// page.
	Skip int
	// ReturnTotalRecordCount asks for the count of all matching rows.
	ReturnTotalRecordCount bool
	// Aggregate is set for aggregate queries, whose rows are keyed by alias.
	Aggregate bool
	// AggregateLimit is the number of source rows an aggregate query may read (aggregatelimit, or
	// DefaultAggregateLimit); over it the answer is dverr.AggregateLimitExceeded.
	AggregateLimit int
	// Top caps the rows returned (0: no cap); a query with top has no further pages.
	Top int
	// Distinct removes duplicate rows.
	Distinct bool
}

// OutputColumn is one column of the result rows.
//
// Its value is, for a root column, ResultRow.Row[Attr.LogicalName]; for a link-entity column,
// ResultRow.Links[Link][Attr.LogicalName]; in aggregate queries, ResultRow.Row[Alias].
type OutputColumn struct {
	// Key is the property name in the Web API's JSON row.
	Key string
	// Link is the link-entity the column belongs to (nil: the root entity).
	Link *model.Link
	// Attr is the column (in aggregate queries, the column aggregated or grouped by).
	Attr *model.Attribute
	// Alias is set in aggregate queries: the key of the value in the result row.
	Alias string
	// Aggregate is the aggregate function of an aggregate column ("" for group-by columns).
	Aggregate model.AggregateFunc
	// GroupBy marks a group-by column; DatePart is its date grouping ("" for none).
	GroupBy  bool
	DatePart string
}

// EncodeKey is the Web API key of a link-entity column: Dataverse's "alias.attribute" with the dot
// spelled _x002e_, as JSON property names cannot hold it.
func EncodeKey(alias, attr string) string { return alias + "_x002e_" + attr }

// Parse parses a FetchXML query against the schema. The paging cookie, if any, is applied (see
// ApplyPaging).
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/fetchxml/reference/fetch
func Parse(sch *model.Schema, text string, env model.Env) (*Fetch, error) {
	doc, err := parseXML(text)
	if err != nil {
		return nil, err
	}
	p := &parser{
		sch:       sch,
		env:       env.Normalized(),
		doc:       doc,
		linkAlias: map[*xmlquery.Node]string{},
		joins:     map[string]*model.Link{},
		linkIndex: map[*model.Link]int{},
		keys:      map[string]OutputColumn{},
	}
	f, perr := p.parse()
	if perr != nil {
		return nil, perr
	}
	f.ApplyPaging()
	return f, nil
}

// parser holds the state of one Parse.
type parser struct {
	sch *model.Schema
	env model.Env
	doc *document
	f   *Fetch
	q   *model.Query

	// linkAlias is the alias of every link-entity element, given or generated.
	linkAlias map[*xmlquery.Node]string
	// joins resolves entityname values: the alias of each joined link (and the name of a link
	// without an alias, when no other link has it).
	joins map[string]*model.Link
	// unaliased are the joins whose link-entity has no alias.
	unaliased []*model.Link
	// linkIndex is the position of each join in Query.Links: a link's filter may only name the
	// links joined before it (and itself).
	linkIndex map[*model.Link]int
	// linkOrders are the orders of link-entities, applied after the entity's.
	linkOrders []model.Order
	// keys are the output columns by key, to refuse a key used twice and resolve orders by alias.
	keys map[string]OutputColumn
}

func (p *parser) pos(n *xmlquery.Node) int { return p.doc.pos[n] }

// attrs reads the attributes of element n, refusing any not in allowed and any given twice.
// Namespace declarations are ignored.
func (p *parser) attrs(n *xmlquery.Node, allowed ...string) (map[string]string, *dverr.Error) {
	out := make(map[string]string, len(n.Attr))
	for _, a := range n.Attr {
		if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" && a.Name.Space == "" {
			continue
		}
		name := a.Name.Local
		if a.Name.Space != "" {
			name = a.Name.Space + ":" + name
		}
		if !slices.Contains(allowed, name) {
			return nil, fail(p.pos(n), codeInvalidArgument, "The '%s' attribute is not declared on the '%s' element.", name, n.Data)
		}
		if _, dup := out[name]; dup {
			return nil, fail(p.pos(n), codeInvalidXML, "Malformed FetchXML: the '%s' attribute appears twice on the '%s' element.", name, n.Data)
		}
		out[name] = a.Value
	}
	return out, nil
}

// boolAttr reads an xs:boolean attribute (true, false, 1, 0; case is not significant, as some
// generators write True).
func (p *parser) boolAttr(n *xmlquery.Node, attrs map[string]string, name string) (bool, *dverr.Error) {
	v, ok := attrs[name]
	if !ok {
		return false, nil
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, fail(p.pos(n), codeInvalidArgument, "The '%s' attribute of the '%s' element must be true or false; '%s' was given.", name, n.Data, v)
}

// intAttr reads a positive whole-number attribute; ok is false when it is absent.
func (p *parser) intAttr(n *xmlquery.Node, attrs map[string]string, name string) (v int, ok bool, err *dverr.Error) {
	s, ok := attrs[name]
	if !ok {
		return 0, false, nil
	}
	i, cerr := strconv.Atoi(strings.TrimSpace(s))
	if cerr != nil || i < 1 {
		return 0, false, fail(p.pos(n), codeInvalidArgument, "The '%s' attribute of the '%s' element must be a whole number greater than zero; '%s' was given.", name, n.Data, s)
	}
	return i, true, nil
}

var fetchAttrs = []string{
	"version", "count", "page", "paging-cookie", "utc-offset", "aggregate", "aggregatelimit", "distinct", "top",
	"mapping", "min-active-row-version", "output-format", "returntotalrecordcount", "no-lock", "latematerialize",
	"useraworderby", "options", "datasource",
}

// parse reads the fetch element and its entity.
func (p *parser) parse() (*Fetch, *dverr.Error) {
	root := p.doc.root
	if root.Data != "fetch" {
		return nil, fail(p.pos(root), codeInvalidNode, "The root element of a FetchXML query must be 'fetch', not '%s'.", root.Data)
	}
	attrs, err := p.attrs(root, fetchAttrs...)
	if err != nil {
		return nil, err
	}
	f := &Fetch{Page: 1, Count: MaxPageSize, AggregateLimit: DefaultAggregateLimit}
	p.f = f
	if f.Aggregate, err = p.boolAttr(root, attrs, "aggregate"); err != nil {
		return nil, err
	}
	if f.Distinct, err = p.boolAttr(root, attrs, "distinct"); err != nil {
		return nil, err
	}
	if f.ReturnTotalRecordCount, err = p.boolAttr(root, attrs, "returntotalrecordcount"); err != nil {
		return nil, err
	}
	// These change nothing the emulator does: locking, query plans, raw choice ordering (the store
	// always orders choices by value).
	for _, b := range []string{"no-lock", "latematerialize", "useraworderby"} {
		if _, err := p.boolAttr(root, attrs, b); err != nil {
			return nil, err
		}
	}
	if m, ok := attrs["mapping"]; ok && m != "logical" && m != "internal" {
		return nil, fail(p.pos(root), "0x80041116", "The mapping attribute must be 'logical'; '%s' was given.", m)
	}
	if ds, ok := attrs["datasource"]; ok && ds != "" && ds != "live" {
		return nil, fail(p.pos(root), codeNotSupported, "The datasource '%s' is not supported: the emulator keeps no long-term retained data.", ds)
	}
	top, hasTop, err := p.intAttr(root, attrs, "top")
	if err != nil {
		return nil, err
	}
	count, hasCount, err := p.intAttr(root, attrs, "count")
	if err != nil {
		return nil, err
	}
	page, hasPage, err := p.intAttr(root, attrs, "page")
	if err != nil {
		return nil, err
	}
	if hasTop {
		for _, other := range []string{"page", "count", "returntotalrecordcount"} {
			if _, ok := attrs[other]; ok && (other != "returntotalrecordcount" || f.ReturnTotalRecordCount) {
				return nil, fail(p.pos(root), codeInvalidArgument, "The top attribute can't be specified with paging attribute %s", other)
			}
		}
		if top > MaxPageSize {
			return nil, fail(p.pos(root), codeInvalidArgument, "The top attribute can't be greater than %d; %d was given.", MaxPageSize, top)
		}
		f.Top = top
	}
	if hasCount {
		// Dataverse never returns more than 5,000 rows a page.
		f.Count = min(count, MaxPageSize)
	}
	if hasPage {
		f.Page = page
	}
	f.PagingCookie = attrs["paging-cookie"]
	if limit, ok, err := p.intAttr(root, attrs, "aggregatelimit"); err != nil {
		return nil, err
	} else if ok {
		if limit > DefaultAggregateLimit {
			return nil, fail(p.pos(root), codeInvalidArgument, "The aggregatelimit attribute can't exceed the default aggregate limit of %d; %d was given.", DefaultAggregateLimit, limit)
		}
		f.AggregateLimit = limit
	}

	var entityNode *xmlquery.Node
	for _, c := range elements(root) {
		if c.Data != "entity" || entityNode != nil {
			return nil, fail(p.pos(c), codeInvalidNode, "Invalid Child Node, valid nodes are entity. NodeName = %s", c.Data)
		}
		entityNode = c
	}
	if entityNode == nil {
		return nil, fail(p.pos(root), codeNoEntity, "Entity Name was not specified in FetchXml String.")
	}
	if err := p.entity(entityNode); err != nil {
		return nil, err
	}
	p.q.Top = f.Top
	if f.Top == 0 {
		p.q.PageSize = f.Count
	}
	p.q.Distinct = f.Distinct && !f.Aggregate
	return f, nil
}
