package webapi

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/odata"
	"github.com/dynlocal/dynlocal/emulator/store"
	"github.com/dynlocal/dynlocal/emulator/wire"
)

// maxCount caps @odata.count, as Dataverse does.
const maxCount = 5000

// env is what time- and user-relative query functions need.
func (s *Handler) env(req *Request) model.Env {
	return model.Env{Now: s.cfg.Clock().UTC(), UserID: req.Caller.UserID, BusinessUnitID: req.Caller.BusinessUnitID}
}

// odataRequest is what the OData front end needs from the request besides its query string.
func (s *Handler) odataRequest(req *Request) odata.Request {
	return odata.Request{Schema: s.store.Schema(), Env: s.env(req), MaxPageSize: req.Prefer.MaxPageSize, Loose: s.cfg.Loose,
		Ignored: s.ignorer(req)}
}

// ignorer logs each query option --loose makes the emulator ignore, so that a request Dataverse
// would refuse does not pass unnoticed; it is nil when the emulator is strict.
func (s *Handler) ignorer(req *Request) func(option string) {
	if !s.cfg.Loose {
		return nil
	}
	return func(option string) {
		s.log.Info("loose: query option ignored; Dataverse would refuse it", "option", option, "method", req.R.Method, "path", req.R.URL.Path)
	}
}

// listRecords serves GET {set} and GET {set}({key})/{collection navigation}.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/overview
func (s *Handler) listRecords(req *Request, e *model.Entity, base model.Expr, contextSet string) (*wire.Response, error) {
	cq, err := odata.ParseCollection(s.odataRequest(req), e, base, req.Query)
	if err != nil {
		return nil, err
	}
	req.expandPage = cq.ExpandPageSize
	var resp *wire.Response
	err = s.InTx(req, false, func(tx *store.Tx) error {
		sh := newShaper(tx, req.Base, req.Prefer)
		var res *store.Result
		list := []*wire.Object{}
		if cq.Apply != nil {
			// Every group is read before anything is answered: too many source rows is an error.
			if res, err = tx.Select(cq.Query); err != nil {
				return err
			}
			if cq.Aggregated() && res.SourceRows > int64(s.cfg.AggregateLimit) {
				return dverr.AggregateLimitExceeded()
			}
			for _, r := range res.Rows {
				list = append(list, shapeAggregate(sh, cq, r))
			}
		}
		body := wire.NewObject()
		if cq.Apply != nil {
			body.Set("@odata.context", req.Base+"$metadata#"+contextSet)
		} else {
			body.Set("@odata.context", contextURL(req.Base, contextSet, cq.Select, cq.Expand, false))
		}
		if err := countAnnotations(req, tx, cq, body); err != nil {
			return err
		}
		first := ""
		if cq.Apply != nil {
			if len(res.Rows) > 0 {
				first = res.Rows[0].ID
			}
		} else {
			// Rows are shaped as they are read; only expansions need them kept. Without
			// expansions, links read for their columns or annotations, rows are written from
			// their values by position.
			var rows []store.ResultRow
			scan, shape := tx.Scan, func(r store.ResultRow) (*wire.Object, error) {
				return sh.row(e, r.Row, r.Version, cq.Columns)
			}
			if len(cq.Expand) == 0 && !linkColumns(cq.Query) && sh.plain(cq.Columns) {
				scan, shape = tx.ScanValues, func(r store.ResultRow) (*wire.Object, error) {
					return sh.encoded(r.Version, cq.Query.Columns, r.Values)
				}
			}
			res, err = scan(cq.Query, func(r store.ResultRow) error {
				if first == "" {
					first = r.ID
				}
				o, err := shape(r)
				if err != nil {
					return err
				}
				list = append(list, o)
				if len(cq.Expand) > 0 {
					rows = append(rows, r)
				}
				return nil
			})
			if err != nil {
				return err
			}
			if err := s.expandRows(req, tx, sh, e, rows, list, cq.Expand); err != nil {
				return err
			}
		}
		body.Set("value", list)
		if res.More {
			body.Set("@odata.nextLink", nextLink(req, odata.SkipToken(cq.Query, res.Next, first)))
		}
		resp = wire.NewResponse(http.StatusOK)
		resp.JSON = body
		if cq.PageSizeApplied {
			resp.Header.Add("Preference-Applied", "odata.maxpagesize="+strconv.Itoa(req.Prefer.MaxPageSize))
		}
		if req.Prefer.Annotations != nil {
			resp.Header.Add("Preference-Applied", `odata.include-annotations="`+req.Prefer.AnnotationsRaw+`"`)
		}
		return nil
	})
	return resp, err
}

// linkColumns reports whether a query reads columns of its links.
func linkColumns(q *model.Query) bool {
	for _, l := range q.Links {
		if len(l.Columns) > 0 {
			return true
		}
	}
	return false
}

// countAnnotations adds @odata.count ($count=true) and the total record count annotations the
// Prefer header asks for. Dataverse counts at most 5,000 rows.
func countAnnotations(req *Request, tx *store.Tx, cq *odata.Collection, body *wire.Object) error {
	total := req.Prefer.WantsAnnotation("Microsoft.Dynamics.CRM.totalrecordcount")
	if !cq.Count && !total {
		return nil
	}
	n := int64(-1)
	exceeded := false
	if cq.Count {
		all, err := tx.CountRows(cq.Query, maxCount+1)
		if err != nil {
			return err
		}
		exceeded = all > maxCount
		n = min(all, maxCount)
		body.Set("@odata.count", n)
	}
	if total {
		body.Set("@Microsoft.Dynamics.CRM.totalrecordcount", n)
	}
	if req.Prefer.WantsAnnotation("Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded") {
		body.Set("@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded", exceeded)
	}
	return nil
}

// nextLink is the request URL, on the host the client used, with $skiptoken set to the cookie.
func nextLink(req *Request, cookie string) string {
	var parts []string
	for _, kv := range strings.Split(req.R.URL.RawQuery, "&") {
		if kv == "" || strings.HasPrefix(kv, "$skiptoken=") || strings.HasPrefix(kv, "%24skiptoken=") {
			continue
		}
		parts = append(parts, kv)
	}
	parts = append(parts, "$skiptoken="+url.QueryEscape(cookie))
	return wire.Origin(req.R) + req.R.URL.EscapedPath() + "?" + strings.Join(parts, "&")
}

// shapeAggregate writes an $apply row: group values and aggregates by alias, no ETag.
func shapeAggregate(sh *shaper, cq *odata.Collection, r store.ResultRow) *wire.Object {
	o := wire.NewObject()
	fv := sh.prefer.WantsAnnotation(wire.AnnFormatted)
	for _, g := range cq.Query.GroupBy {
		v := r.Row[g.Alias]
		if v == nil {
			// Null group members are omitted from the row.
			continue
		}
		a := g.Column.Attr
		if fv && g.DatePart == "" {
			if f := model.FormatValue(a, v); f != "" {
				o.Set(g.Alias+"@"+wire.AnnFormatted, f)
			}
		}
		if g.DatePart != "" {
			o.Set(g.Alias, v)
		} else {
			o.Set(g.Alias, jsonValue(a, v))
		}
	}
	for _, a := range cq.Query.Aggregates {
		v := r.Row[a.Alias]
		if fv {
			switch x := v.(type) {
			case int64:
				o.Set(a.Alias+"@"+wire.AnnFormatted, model.GroupDigits(strconv.FormatInt(x, 10)))
			case model.Decimal:
				o.Set(a.Alias+"@"+wire.AnnFormatted, model.FormatValue(a.Column.Attr, x))
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
			o.Set(a.Alias, jsonValue(a.Column.Attr, v))
		} else {
			o.Set(a.Alias, v)
		}
	}
	return o
}

// expandRows adds $expand results to shaped rows. Collection-valued expansions read the children
// of all rows in one query.
func (s *Handler) expandRows(req *Request, tx *store.Tx, sh *shaper, e *model.Entity, rows []store.ResultRow, list []*wire.Object, items []odata.ExpandItem) error {
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
func (s *Handler) expandCollection(req *Request, tx *store.Tx, sh *shaper, e *model.Entity, rows []store.ResultRow, list []*wire.Object, x odata.ExpandItem) error {
	target := x.Nav.TargetEntity
	q := &model.Query{Entity: target, Order: x.Order}
	var filters []model.Expr
	if x.Filter != nil {
		filters = append(filters, x.Filter)
	}
	attrs := x.Columns
	cols := model.StoredOnly(attrs)
	byParent := map[string][]store.ResultRow{}
	ids := make([]any, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	switch x.Nav.Kind {
	case model.NavCollection:
		la, _ := target.Attribute(x.Nav.Attribute)
		if !model.ContainsAttr(cols, la) {
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
		if len(children) > odata.MaxPageSize {
			children = children[:odata.MaxPageSize]
		}
		link := expandLink(req.Base, e, r.ID, x)
		if p := req.expandPage; p > 0 && len(children) > p {
			// The expanded collection is paged: its nextLink continues after the last child shown.
			last := children[p-1]
			pos := &model.Position{Values: last.OrderValues, ID: last.ID, Page: 1}
			sep := "?"
			if strings.Contains(link, "?") {
				sep = "&"
			}
			link += sep + "$skiptoken=" + url.QueryEscape(odata.SkipToken(q, pos, children[0].ID))
			children = children[:p]
		}
		out := make([]*wire.Object, 0, len(children))
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
		list[i].Set(x.Nav.Name, out)
		list[i].Set(x.Nav.Name+"@odata.nextLink", link)
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
	if x.FilterText != "" {
		opts = append(opts, "$filter="+url.QueryEscape(x.FilterText))
	}
	if x.OrderByText != "" {
		opts = append(opts, "$orderby="+url.QueryEscape(x.OrderByText))
	}
	if len(opts) > 0 {
		u += "?" + strings.Join(opts, "&")
	}
	return u
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
func (s *Handler) listNavigation(req *Request) (*wire.Response, error) {
	e, nav := req.Res.Entity, req.Res.Nav
	var id string
	err := s.InTx(req, false, func(tx *store.Tx) error {
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
	if req.Res.Count {
		return s.countRecords(req, nav.TargetEntity, base)
	}
	return s.listRecords(req, nav.TargetEntity, base, nav.TargetEntity.EntitySetName)
}

// countRecords answers /$count: the number of matching rows as text/plain.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/count-rows
func (s *Handler) countRecords(req *Request, e *model.Entity, base model.Expr) (*wire.Response, error) {
	if err := req.Query.AllowOr(s.ignorer(req), "$filter"); err != nil {
		return nil, err
	}
	q := &model.Query{Entity: e, Filter: base}
	if v, ok := req.Query.Get("$filter"); ok {
		f, err := odata.ParseFilter(s.store.Schema(), e, v, req.Query.Aliases(), s.env(req))
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
	err := s.InTx(req, false, func(tx *store.Tx) error {
		var err error
		n, err = tx.CountRows(q, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	resp := wire.NewResponse(http.StatusOK)
	resp.Text = strconv.FormatInt(n, 10)
	resp.ContentType = "text/plain"
	return resp, nil
}
