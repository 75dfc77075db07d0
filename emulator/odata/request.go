package odata

import (
	"strconv"
	"strings"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
)

// MaxPageSize is Dataverse's page size cap and default.
const MaxPageSize = 5000

// Request is what parsing a request needs besides its query string.
type Request struct {
	Schema *model.Schema
	// Env serves the time- and user-relative query functions.
	Env model.Env
	// MaxPageSize is the Prefer: odata.maxpagesize value, 0 when it was not sent.
	MaxPageSize int
	// Loose ignores query options Dataverse rejects instead of failing.
	Loose bool
	// Ignored, when set with Loose, is told each option ignored.
	Ignored func(option string)
}

// ignorer is what AllowOr takes for r: nil when strict.
func (r Request) ignorer() func(string) {
	switch {
	case !r.Loose:
		return nil
	case r.Ignored != nil:
		return r.Ignored
	}
	return func(string) {}
}

// Collection is a collection request (GET {set}, or a collection navigation), parsed whole: every
// query option, nested $expand options to any depth and the $skiptoken, so that an invalid
// request fails the same way whatever the data.
type Collection struct {
	// Query reads the rows: filter, order, top, page size and position, and the stored columns
	// that Columns and single-valued expansions need.
	Query *model.Query
	// Select is the $select list as given (nil: every column); Columns is what each row shows.
	Select  []*model.Attribute
	Columns []*model.Attribute
	Expand  []ExpandItem
	// Apply is the parsed $apply, nil without one. Its grouping and aggregates are in Query.
	Apply *Apply
	// Count asks for @odata.count.
	Count bool
	// PageSizeApplied reports that Prefer: odata.maxpagesize was honoured.
	PageSizeApplied bool
	// ExpandPageSize pages expanded collections (a nested $expand with odata.maxpagesize); 0 when
	// they are not paged.
	ExpandPageSize int
}

// Aggregated reports whether the request groups or aggregates rows.
func (c *Collection) Aggregated() bool {
	return c.Apply != nil && (len(c.Query.GroupBy) > 0 || len(c.Query.Aggregates) > 0)
}

// ParseCollection parses the query options of a collection request on e. base, when not nil,
// restricts the rows (a navigation collection's relation to its parent row).
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/overview
func ParseCollection(r Request, e *model.Entity, base model.Expr, opts Options) (*Collection, error) {
	if err := opts.AllowOr(r.ignorer(), "$select", "$filter", "$orderby", "$top", "$expand", "$count", "$apply", "$skiptoken"); err != nil {
		return nil, err
	}
	aliases := opts.Aliases()
	c := &Collection{Query: &model.Query{Entity: e}}
	q := c.Query
	var err error
	if v, ok := opts.Get("$select"); ok {
		if c.Select, err = ParseSelect(e, v); err != nil {
			return nil, err
		}
	}
	var filters []model.Expr
	if base != nil {
		filters = append(filters, base)
	}
	if v, ok := opts.Get("$filter"); ok {
		f, err := ParseFilter(r.Schema, e, v, aliases, r.Env)
		if err != nil {
			return nil, err
		}
		filters = append(filters, f)
	}
	if v, ok := opts.Get("$apply"); ok {
		if c.Apply, err = ParseApply(r.Schema, e, v, aliases, r.Env); err != nil {
			return nil, err
		}
		if c.Apply.Filter != nil {
			filters = append(filters, c.Apply.Filter)
		}
		q.GroupBy, q.Aggregates = c.Apply.GroupBy, c.Apply.Aggregates
	}
	switch len(filters) {
	case 0:
	case 1:
		q.Filter = filters[0]
	default:
		q.Filter = model.And{Terms: filters}
	}
	if v, ok := opts.Get("$orderby"); ok {
		if q.Order, err = c.orderBy(r.Schema, e, v, aliases); err != nil {
			return nil, err
		}
	}
	if v, ok := opts.Get("$count"); ok {
		switch v {
		case "true":
			c.Count = true
		case "false":
		default:
			return nil, dverr.BadRequest("Invalid value '%s' for $count query option found. Valid values are 'true' and 'false'.", v)
		}
	}
	top := 0
	if v, ok := opts.Get("$top"); ok {
		if top, err = parseTop(v); err != nil {
			return nil, err
		}
	}
	if v, ok := opts.Get("$expand"); ok {
		if c.Apply != nil {
			return nil, dverr.BadRequest("$expand cannot be combined with $apply.")
		}
		if c.Expand, err = ParseExpand(r.Schema, e, v, aliases, r.Env); err != nil {
			return nil, err
		}
	}
	if err := c.paging(r.MaxPageSize, top); err != nil {
		return nil, err
	}
	if c.Apply == nil {
		c.Columns = withRefLookups(e, e.Shown(c.Select), c.Expand)
		q.Columns = withLookups(e, model.StoredOnly(c.Columns), c.Expand)
	}
	if v, ok := opts.Get("$skiptoken"); ok {
		if c.Apply != nil {
			return nil, dverr.BadRequest("$skiptoken cannot be combined with $apply.")
		}
		if q.After, err = parseSkipToken(q, v); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// paging sets the page size and top. With odata.maxpagesize Dataverse ignores $top; with a nested
// $expand, paging applies to every expanded collection too, whose options are then limited.
func (c *Collection) paging(maxPageSize, top int) error {
	nested := false
	for _, x := range c.Expand {
		nested = nested || len(x.Expand) > 0
	}
	if nested && maxPageSize > 0 {
		for _, x := range c.Expand {
			if x.Nav.Kind != model.NavSingle && (x.Top > 0 || x.Order != nil) {
				return errExpandSingle()
			}
		}
		c.ExpandPageSize = min(maxPageSize, MaxPageSize)
	}
	page := MaxPageSize
	if maxPageSize > 0 {
		c.PageSizeApplied = true
		page = min(page, maxPageSize)
		top = 0
	}
	c.Query.Top = min(top, MaxPageSize)
	if top == 0 || c.PageSizeApplied {
		c.Query.PageSize = page
	}
	return nil
}

// orderBy parses $orderby. With $apply only grouped columns can be sorted on: Dataverse answers an
// order on an aggregate value with the OData library's SingleValueOpenPropertyAccess error.
func (c *Collection) orderBy(sch *model.Schema, e *model.Entity, text string, aliases map[string]string) ([]model.Order, error) {
	order, err := ParseOrderBy(sch, e, text, aliases)
	if !c.Aggregated() {
		return order, err
	}
	unsupported := dverr.BadRequest("The query node SingleValueOpenPropertyAccess is not supported.")
	if err != nil {
		return nil, unsupported
	}
	for i, o := range order {
		alias := ""
		for _, g := range c.Query.GroupBy {
			if g.DatePart == "" && len(g.Column.Path) == len(o.Column.Path) && g.Column.Attr == o.Column.Attr {
				alias = g.Alias
			}
		}
		if alias == "" {
			return nil, unsupported
		}
		order[i] = model.Order{Alias: alias, Desc: o.Desc}
	}
	return order, nil
}

// Record is a single-row request (GET, or the representation a write returns) parsed whole.
type Record struct {
	// Select is the $select list as given (nil: every column); Columns is what the row shows.
	Select  []*model.Attribute
	Columns []*model.Attribute
	Expand  []ExpandItem
}

// Names are the stored columns to read for the row: those it shows and the lookups its
// single-valued expansions follow. Without $select that is nil, which store.Tx.Get reads as every
// stored column: the readable ones the row shows are all among them, and the read plan for nil is
// found without hashing a few hundred names.
func (r *Record) Names(e *model.Entity) []string {
	if r.Select == nil {
		return nil
	}
	cols := withLookups(e, model.StoredOnly(r.Columns), r.Expand)
	out := make([]string, len(cols))
	for i, a := range cols {
		out[i] = a.LogicalName
	}
	return out
}

// ParseRecord parses the $select and $expand of a single-row request on e.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/retrieve-entity-using-web-api
func ParseRecord(r Request, e *model.Entity, opts Options) (*Record, error) {
	if err := opts.AllowOr(r.ignorer(), "$select", "$expand"); err != nil {
		return nil, err
	}
	rec := &Record{}
	var err error
	if v, ok := opts.Get("$select"); ok {
		if rec.Select, err = ParseSelect(e, v); err != nil {
			return nil, err
		}
	}
	if v, ok := opts.Get("$expand"); ok {
		if rec.Expand, err = ParseExpand(r.Schema, e, v, opts.Aliases(), r.Env); err != nil {
			return nil, err
		}
	}
	rec.Columns = withRefLookups(e, e.Shown(rec.Select), rec.Expand)
	return rec, nil
}

// withRefLookups adds to the columns a row shows the lookup property each nav/$ref expansion
// follows (_primarycontactid_value beside primarycontactid/$ref), before the primary key, as
// Dataverse answers.
func withRefLookups(e *model.Entity, cols []*model.Attribute, expand []ExpandItem) []*model.Attribute {
	for _, x := range expand {
		if !x.Ref {
			continue
		}
		a, ok := e.Attribute(x.Nav.Attribute)
		if !ok || model.ContainsAttr(cols, a) {
			continue
		}
		at := len(cols)
		for i, c := range cols {
			if c.IsPrimaryID {
				at = i
				break
			}
		}
		cols = append(cols[:at:at], append([]*model.Attribute{a}, cols[at:]...)...)
	}
	return cols
}

// withLookups adds the lookup columns single-valued expansions need, shown or not.
func withLookups(e *model.Entity, cols []*model.Attribute, expand []ExpandItem) []*model.Attribute {
	for _, x := range expand {
		if x.Nav.Kind != model.NavSingle {
			continue
		}
		if a, ok := e.Attribute(x.Nav.Attribute); ok && !model.ContainsAttr(cols, a) {
			cols = append(cols, a)
		}
	}
	return cols
}

func parseTop(v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return 0, dverr.BadRequest("Invalid value '%s' for $top query option found. The $top query option requires a non-negative integer value.", v)
	}
	return n, nil
}

// SkipToken is the $skiptoken of the page after pos: Dataverse's paging cookie naming the next
// page. firstID is the first row of the page that ends at pos.
func SkipToken(q *model.Query, pos *model.Position, firstID string) string {
	return model.PagingCookie(model.EncodePosition(q, pos, firstID), pos.Page+1)
}

// parseSkipToken reads a $skiptoken written by SkipToken for the same query.
func parseSkipToken(q *model.Query, v string) (*model.Position, error) {
	inner, pageNo, err := model.ParsePagingCookie(v)
	if err != nil {
		return nil, errSkipToken()
	}
	pos, err := model.DecodePosition(q, inner)
	if err != nil {
		return nil, errSkipToken()
	}
	pos.Page = pageNo - 1
	return pos, nil
}

func errSkipToken() error {
	return dverr.BadRequest("The $skiptoken value is not valid for this query. Follow @odata.nextLink as returned, with the same query options and page size.")
}
