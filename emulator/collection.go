package emulator

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/fetchxml"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/odata"
	"github.com/dynlocal/dynlocal/emulator/store"
)

// MaxPageSize is Dataverse's page size cap and default.
const MaxPageSize = 5000

// maxCount caps @odata.count, as Dataverse does.
const maxCount = 5000

// collectionQuery is a parsed collection request.
type collectionQuery struct {
	q       *model.Query
	sel     []*model.Attribute
	expand  []odata.ExpandItem
	apply   *odata.Apply
	count   bool
	pageSet bool // Prefer: odata.maxpagesize was honoured
}

// env is what time- and user-relative query functions need.
func (s *Server) env(req *apiRequest) model.Env {
	return model.Env{Now: s.cfg.Clock().UTC(), UserID: req.caller.UserID, BusinessUnitID: req.caller.BusinessUnitID}
}

// aliases are the parameter aliases (@p1=...) of the request.
func (req *apiRequest) aliases() map[string]string {
	m := map[string]string{}
	for _, o := range req.query {
		if strings.HasPrefix(o.Name, "@") {
			m[o.Name] = o.Value
		}
	}
	return m
}

// parseCollection reads the query options of a collection request on e into a model.Query.
// base, when set, restricts the rows (a navigation collection's relation to its parent).
func (s *Server) parseCollection(req *apiRequest, e *model.Entity, base model.Expr) (*collectionQuery, error) {
	if err := req.query.allow(s.cfg.Loose, "$select", "$filter", "$orderby", "$top", "$expand", "$count", "$apply", "$skiptoken"); err != nil {
		return nil, err
	}
	sch := s.store.Schema()
	cq := &collectionQuery{q: &model.Query{Entity: e}}
	var err error
	if cq.sel, err = selectFor(req, e); err != nil {
		return nil, err
	}
	var filters []model.Expr
	if base != nil {
		filters = append(filters, base)
	}
	if v, ok := req.query.get("$filter"); ok {
		f, err := odata.ParseFilter(sch, e, v, req.aliases(), s.env(req))
		if err != nil {
			return nil, err
		}
		filters = append(filters, f)
	}
	if v, ok := req.query.get("$apply"); ok {
		if cq.apply, err = odata.ParseApply(sch, e, v, req.aliases(), s.env(req)); err != nil {
			return nil, err
		}
		if cq.apply.Filter != nil {
			filters = append(filters, cq.apply.Filter)
		}
		cq.q.GroupBy, cq.q.Aggregates = cq.apply.GroupBy, cq.apply.Aggregates
	}
	switch len(filters) {
	case 0:
	case 1:
		cq.q.Filter = filters[0]
	default:
		cq.q.Filter = model.And{Terms: filters}
	}
	if v, ok := req.query.get("$orderby"); ok {
		if cq.q.Order, err = s.parseOrder(sch, e, v, cq); err != nil {
			return nil, err
		}
	}
	if v, ok := req.query.get("$count"); ok {
		switch v {
		case "true":
			cq.count = true
		case "false":
		default:
			return nil, dverr.BadRequest("Invalid value '%s' for $count query option found. Valid values are 'true' and 'false'.", v)
		}
	}
	top := 0
	if v, ok := req.query.get("$top"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			return nil, dverr.BadRequest("Invalid value '%s' for $top query option found. The $top query option requires a non-negative integer value.", v)
		}
		top = n
	}
	if v, ok := req.query.get("$expand"); ok {
		if cq.apply != nil {
			return nil, dverr.BadRequest("$expand cannot be combined with $apply.")
		}
		if cq.expand, err = odata.ParseExpand(sch, e, v); err != nil {
			return nil, err
		}
	}
	if err := checkNestedExpand(cq.expand, req.prefer.MaxPageSize > 0); err != nil {
		return nil, err
	}
	if req.prefer.MaxPageSize > 0 && hasNestedExpand(cq.expand) {
		// With a nested $expand, paging applies to every expanded collection too.
		req.expandPage = min(req.prefer.MaxPageSize, MaxPageSize)
	}
	page := MaxPageSize
	if p := req.prefer.MaxPageSize; p > 0 {
		cq.pageSet = true
		if p < page {
			page = p
		}
		// With odata.maxpagesize Dataverse ignores $top.
		top = 0
	}
	if top > MaxPageSize {
		top = MaxPageSize
	}
	cq.q.Top = top
	if top == 0 || cq.pageSet {
		cq.q.PageSize = page
	}
	if cq.apply == nil {
		cq.q.Columns = attrNames2(readableAttrs(e, cq.sel))
		// Single-valued expansions need their lookup column, shown or not.
		for _, x := range cq.expand {
			if x.Nav.Kind != model.NavSingle {
				continue
			}
			if a, ok := e.Attribute(x.Nav.Attribute); ok && !containsAttr(cq.q.Columns, a) {
				cq.q.Columns = append(cq.q.Columns, a)
			}
		}
	}
	if v, ok := req.query.get("$skiptoken"); ok {
		if cq.apply != nil {
			return nil, dverr.BadRequest("$skiptoken cannot be combined with $apply.")
		}
		inner, pageNo, err := fetchxml.ParsePagingCookie(v)
		if err != nil {
			return nil, badSkipToken()
		}
		pos, err := fetchxml.DecodePosition(cq.q, inner)
		if err != nil {
			return nil, badSkipToken()
		}
		pos.Page = pageNo - 1
		cq.q.After = pos
	}
	return cq, nil
}

func badSkipToken() error {
	return dverr.BadRequest("The $skiptoken value is not valid for this query. Follow @odata.nextLink as returned, with the same query options and page size.")
}

// attrNames2 keeps only stored attributes (the query reads columns; others are derived).
func attrNames2(attrs []*model.Attribute) []*model.Attribute {
	out := make([]*model.Attribute, 0, len(attrs))
	for _, a := range attrs {
		if a.Stored() {
			out = append(out, a)
		}
	}
	return out
}

// parseOrder parses $orderby. With $apply only grouped columns can be sorted on: Dataverse answers
// an order on an aggregate value with the OData library's SingleValueOpenPropertyAccess error.
func (s *Server) parseOrder(sch *model.Schema, e *model.Entity, text string, cq *collectionQuery) ([]model.Order, error) {
	grouped := cq.apply != nil && (len(cq.q.GroupBy) > 0 || len(cq.q.Aggregates) > 0)
	order, err := odata.ParseOrderBy(sch, e, text)
	if !grouped {
		return order, err
	}
	unsupported := dverr.BadRequest("The query node SingleValueOpenPropertyAccess is not supported.")
	if err != nil {
		return nil, unsupported
	}
	for i, o := range order {
		alias := ""
		for _, g := range cq.q.GroupBy {
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

// hasNestedExpand reports whether any expansion has a nested $expand.
func hasNestedExpand(items []odata.ExpandItem) bool {
	for _, x := range items {
		if len(x.Expand) > 0 {
			return true
		}
	}
	return false
}

// checkNestedExpand applies Dataverse's rule: with a nested $expand and paging, collection expands
// take only $select and $filter.
func checkNestedExpand(items []odata.ExpandItem, paging bool) error {
	nested := false
	for _, x := range items {
		if len(x.Expand) > 0 {
			nested = true
		}
	}
	if !nested || !paging {
		return nil
	}
	for _, x := range items {
		if x.Nav.Kind != model.NavSingle && (x.Top > 0 || x.OrderBy != "") {
			return dverr.New(http.StatusBadRequest, dverr.CodeExpandNotSupported, "Only $select and $filter clause can be provided while doing $expand on many-to-one relationship or nested one-to-many relationship.")
		}
	}
	return nil
}

// listRecords serves GET {set} and GET {set}({key})/{collection navigation}.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/overview
func (s *Server) listRecords(req *apiRequest, e *model.Entity, base model.Expr, contextSet string) (*response, error) {
	cq, err := s.parseCollection(req, e, base)
	if err != nil {
		return nil, err
	}
	var resp *response
	err = s.inTx(req.ctx, false, func(tx *store.Tx) error {
		res, err := tx.Select(cq.q)
		if err != nil {
			return err
		}
		if cq.apply != nil && (len(cq.q.GroupBy) > 0 || len(cq.q.Aggregates) > 0) && res.SourceRows > int64(s.cfg.AggregateLimit) {
			return dverr.AggregateLimitExceeded()
		}
		body := newObject()
		if cq.apply != nil {
			body.set("@odata.context", req.base+"$metadata#"+contextSet)
		} else {
			body.set("@odata.context", contextURL(req.base, contextSet, cq.sel, cq.expand, false))
		}
		if cq.count || req.prefer.wantsAnnotation("Microsoft.Dynamics.CRM.totalrecordcount") {
			n := int64(-1)
			exceeded := false
			if cq.count {
				total, err := tx.CountRows(cq.q, maxCount+1)
				if err != nil {
					return err
				}
				exceeded = total > maxCount
				n = min(total, maxCount)
				body.set("@odata.count", n)
			}
			if req.prefer.wantsAnnotation("Microsoft.Dynamics.CRM.totalrecordcount") {
				body.set("@Microsoft.Dynamics.CRM.totalrecordcount", n)
			}
			if req.prefer.wantsAnnotation("Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded") {
				body.set("@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded", exceeded)
			}
		}
		sh := newShaper(tx, req.base, req.prefer)
		list := make([]*object, 0, len(res.Rows))
		if cq.apply != nil {
			for _, r := range res.Rows {
				list = append(list, shapeAggregate(sh, cq, r))
			}
		} else {
			attrs := readableAttrs(e, cq.sel)
			for _, r := range res.Rows {
				o, err := sh.row(e, r.Row, r.Version, attrs)
				if err != nil {
					return err
				}
				list = append(list, o)
			}
			if err := s.expandRows(req, tx, sh, e, res.Rows, list, cq.expand); err != nil {
				return err
			}
		}
		body.set("value", list)
		if res.More {
			cookie := fetchxml.PagingCookie(fetchxml.EncodePosition(cq.q, res.Next, res.Rows[0].ID), res.Next.Page+1)
			body.set("@odata.nextLink", nextLink(req, cookie))
		}
		resp = newResponse(http.StatusOK)
		resp.json = body
		if cq.pageSet {
			resp.header.Add("Preference-Applied", "odata.maxpagesize="+strconv.Itoa(req.prefer.MaxPageSize))
		}
		if req.prefer.Annotations != nil {
			resp.header.Add("Preference-Applied", `odata.include-annotations="`+req.prefer.AnnotationsRaw+`"`)
		}
		return nil
	})
	return resp, err
}

// nextLink is the request URL, on the host the client used, with $skiptoken set to the cookie.
func nextLink(req *apiRequest, cookie string) string {
	var parts []string
	for _, kv := range strings.Split(req.r.URL.RawQuery, "&") {
		if kv == "" || strings.HasPrefix(kv, "$skiptoken=") || strings.HasPrefix(kv, "%24skiptoken=") {
			continue
		}
		parts = append(parts, kv)
	}
	parts = append(parts, "$skiptoken="+url.QueryEscape(cookie))
	return origin(req.r) + req.r.URL.EscapedPath() + "?" + strings.Join(parts, "&")
}

// shapeAggregate writes an $apply row: group values and aggregates by alias, no ETag.
func shapeAggregate(sh *shaper, cq *collectionQuery, r store.ResultRow) *object {
	o := newObject()
	fv := sh.prefer.wantsAnnotation(annFormatted)
	for _, g := range cq.q.GroupBy {
		v := r.Row[g.Alias]
		if v == nil {
			// Null group members are omitted from the row.
			continue
		}
		a := g.Column.Attr
		if fv && g.DatePart == "" {
			if f := formatValue(a, v); f != "" {
				o.set(g.Alias+"@"+annFormatted, f)
			}
		}
		if g.DatePart != "" {
			o.set(g.Alias, v)
		} else {
			o.set(g.Alias, jsonValue(a, v))
		}
	}
	for _, a := range cq.q.Aggregates {
		v := r.Row[a.Alias]
		if fv {
			switch x := v.(type) {
			case int64:
				o.set(a.Alias+"@"+annFormatted, group(strconv.FormatInt(x, 10)))
			case model.Decimal:
				o.set(a.Alias+"@"+annFormatted, formatValue(a.Column.Attr, x))
			}
		}
		if d, ok := v.(model.Decimal); ok {
			// Dataverse writes Money and Decimal aggregates of $apply with nine decimal places
			// (440000.000000000 in its documentation).
			if r, err := d.Rescale(9); err == nil {
				v = r
			}
		}
		if a.Column != nil {
			o.set(a.Alias, jsonValue(a.Column.Attr, v))
		} else {
			o.set(a.Alias, v)
		}
	}
	return o
}

// expandRows adds $expand results to shaped rows. Collection-valued expansions read the children
// of all rows in one query.
func (s *Server) expandRows(req *apiRequest, tx *store.Tx, sh *shaper, e *model.Entity, rows []store.ResultRow, list []*object, items []odata.ExpandItem) error {
	if len(items) == 0 || len(rows) == 0 {
		return nil
	}
	for _, x := range items {
		switch x.Nav.Kind {
		case model.NavSingle:
			for i, r := range rows {
				if err := s.expand(req, tx, sh, list[i], e, r.ID, r.Row, []odata.ExpandItem{x}); err != nil {
					return err
				}
			}
		default:
			if err := s.expandCollection(req, tx, sh, e, rows, list, x); err != nil {
				return err
			}
		}
	}
	return nil
}

// expandCollection expands a collection-valued navigation for many parent rows.
func (s *Server) expandCollection(req *apiRequest, tx *store.Tx, sh *shaper, e *model.Entity, rows []store.ResultRow, list []*object, x odata.ExpandItem) error {
	target := x.Nav.TargetEntity
	sch := tx.Schema()
	q := &model.Query{Entity: target}
	var filters []model.Expr
	if x.Filter != "" {
		f, err := odata.ParseFilter(sch, target, x.Filter, nil, s.env(req))
		if err != nil {
			return err
		}
		filters = append(filters, f)
	}
	if x.OrderBy != "" {
		o, err := odata.ParseOrderBy(sch, target, x.OrderBy)
		if err != nil {
			return err
		}
		q.Order = o
	}
	attrs := readableAttrs(target, x.Select)
	if x.Nav.Kind == model.NavCollection && x.Select != nil {
		// Dataverse returns the lookup to the parent with each expanded row.
		if la, ok := target.Attribute(x.Nav.Attribute); ok && !containsAttr(attrs, la) {
			attrs = append(attrs, la)
		}
	}
	cols := attrNames2(attrs)
	byParent := map[string][]store.ResultRow{}
	ids := make([]any, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	switch x.Nav.Kind {
	case model.NavCollection:
		la, _ := target.Attribute(x.Nav.Attribute)
		if !containsAttr(cols, la) {
			cols = append(cols, la)
		}
		q.Columns = cols
		q.Filter = model.And{Terms: append(filters, model.In{Column: &model.Column{Attr: la}, Values: ids})}
		res, err := tx.Select(q)
		if err != nil {
			return err
		}
		for _, r := range res.Rows {
			if l, ok := r.Row[la.LogicalName].(model.Lookup); ok {
				byParent[l.ID] = append(byParent[l.ID], r)
			}
		}
	case model.NavManyToMany:
		q.Columns = cols
		reverse := reverseNav(target, x.Nav)
		if reverse == nil {
			return errors.New("emulator: no reverse navigation for " + x.Nav.Name)
		}
		for _, r := range rows {
			sub := *q
			sub.Filter = model.And{Terms: append(append([]model.Expr(nil), filters...), model.Exists{Nav: reverse, Filter: model.Compare{Left: &model.Column{Attr: e.PrimaryID()}, Op: model.Eq, Value: r.ID}})}
			res, err := tx.Select(&sub)
			if err != nil {
				return err
			}
			byParent[r.ID] = res.Rows
		}
	}
	for i, r := range rows {
		children := byParent[r.ID]
		if x.Top > 0 && len(children) > x.Top {
			children = children[:x.Top]
		}
		if len(children) > MaxPageSize {
			children = children[:MaxPageSize]
		}
		link := expandLink(req.base, e, r.ID, x)
		if p := req.expandPage; p > 0 && len(children) > p {
			// The expanded collection is paged: its nextLink continues after the last child shown.
			last := children[p-1]
			pos := &model.Position{Values: last.OrderValues, ID: last.ID, Page: 1}
			cookie := fetchxml.PagingCookie(fetchxml.EncodePosition(q, pos, children[0].ID), 2)
			sep := "?"
			if strings.Contains(link, "?") {
				sep = "&"
			}
			link += sep + "$skiptoken=" + url.QueryEscape(cookie)
			children = children[:p]
		}
		out := make([]*object, 0, len(children))
		for _, c := range children {
			o, err := sh.row(target, c.Row, c.Version, attrs)
			if err != nil {
				return err
			}
			out = append(out, o)
		}
		if len(x.Expand) > 0 {
			if err := s.expandRows(req, tx, sh, target, children, out, x.Expand); err != nil {
				return err
			}
		}
		list[i].set(x.Nav.Name, out)
		list[i].set(x.Nav.Name+"@odata.nextLink", link)
	}
	return nil
}

// expandLink is the URL of an expanded collection as a resource, which Dataverse adds beside each
// expanded collection.
func expandLink(base string, e *model.Entity, id string, x odata.ExpandItem) string {
	u := base + e.EntitySetName + "(" + id + ")/" + x.Nav.Name
	var opts []string
	if len(x.Select) > 0 {
		names := make([]string, len(x.Select))
		for i, a := range x.Select {
			names[i] = a.LogicalName
			if a.IsLookup() {
				names[i] = a.LookupProperty()
			}
		}
		opts = append(opts, "$select="+strings.Join(names, ","))
	}
	if x.Filter != "" {
		opts = append(opts, "$filter="+url.QueryEscape(x.Filter))
	}
	if x.OrderBy != "" {
		opts = append(opts, "$orderby="+url.QueryEscape(x.OrderBy))
	}
	if len(opts) > 0 {
		u += "?" + strings.Join(opts, "&")
	}
	return u
}

func containsAttr(list []*model.Attribute, a *model.Attribute) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

// reverseNav finds the navigation property of target that walks nav's relationship back.
func reverseNav(target *model.Entity, nav *model.Nav) *model.Nav {
	for _, n := range target.Navs() {
		if n.Relationship == nav.Relationship && (n != nav || n.Kind == model.NavManyToMany) {
			return n
		}
	}
	return nil
}

// navCollectionFilter restricts a table to the rows related to one parent row through nav.
func navCollectionFilter(parent *model.Entity, id string, nav *model.Nav) (model.Expr, error) {
	target := nav.TargetEntity
	switch nav.Kind {
	case model.NavCollection:
		la, ok := target.Attribute(nav.Attribute)
		if !ok {
			return nil, errors.New("emulator: navigation without lookup")
		}
		return model.Compare{Left: &model.Column{Attr: la}, Op: model.Eq, Value: id}, nil
	case model.NavManyToMany:
		reverse := reverseNav(target, nav)
		if reverse == nil {
			return nil, errors.New("emulator: no reverse navigation for " + nav.Name)
		}
		return model.Exists{Nav: reverse, Filter: model.Compare{Left: &model.Column{Attr: parent.PrimaryID()}, Op: model.Eq, Value: id}}, nil
	}
	return nil, errors.New("emulator: not a collection navigation")
}

// listNavigation serves GET {set}({key})/{collection navigation}[/$count].
func (s *Server) listNavigation(req *apiRequest) (*response, error) {
	e, nav := req.res.Entity, req.res.Nav
	var id string
	err := s.inTx(req.ctx, false, func(tx *store.Tx) error {
		var err error
		if id, err = rowID(tx, req); err != nil {
			return err
		}
		ok, err := tx.Exists(e, id)
		if err == nil && !ok {
			err = dverr.RecordNotFound(e.LogicalName, id)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	base, err := navCollectionFilter(e, id, nav)
	if err != nil {
		return nil, err
	}
	if req.res.Count {
		return s.countRecords(req, nav.TargetEntity, base)
	}
	return s.listRecords(req, nav.TargetEntity, base, nav.TargetEntity.EntitySetName)
}

// countRecords answers /$count: the number of matching rows as text/plain.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/count-rows
func (s *Server) countRecords(req *apiRequest, e *model.Entity, base model.Expr) (*response, error) {
	if err := req.query.allow(s.cfg.Loose, "$filter"); err != nil {
		return nil, err
	}
	q := &model.Query{Entity: e, Filter: base}
	if v, ok := req.query.get("$filter"); ok {
		f, err := odata.ParseFilter(s.store.Schema(), e, v, req.aliases(), s.env(req))
		if err != nil {
			return nil, err
		}
		if base != nil {
			q.Filter = model.And{Terms: []model.Expr{base, f}}
		} else {
			q.Filter = f
		}
	}
	var n int64
	err := s.inTx(req.ctx, false, func(tx *store.Tx) error {
		var err error
		n, err = tx.CountRows(q, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	resp := newResponse(http.StatusOK)
	resp.text = strconv.FormatInt(n, 10)
	resp.contentType = "text/plain"
	return resp, nil
}
