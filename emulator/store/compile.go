package store

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dynlocal/dynlocal/emulator/model"
)

// compiler turns a Query into SQL. Table aliases are generated (t0, t1, ...), never taken from the
// request; column names come from metadata; every value is a bound parameter.
type compiler struct {
	q    *model.Query
	args []any
	n    int
	// links maps each Link to its SQL alias.
	links map[*model.Link]string
	// paths maps a navigation path from the root ("nav1/nav2") to its join alias.
	paths map[string]string
	joins []string
}

// scope is what an unqualified Column refers to: the root, or the related table of an Exists.
type scope struct {
	alias  string
	entity *model.Entity
}

func (c *compiler) alias() string {
	a := "t" + strconv.Itoa(c.n)
	c.n++
	return a
}

func (c *compiler) arg(v any) string {
	c.args = append(c.args, v)
	return "?"
}

// Compile returns the SQL and arguments of a query, for tests and diagnostics. Select runs it.
func Compile(q *model.Query) (string, []any, error) {
	c, sql, err := compile(q, nil)
	if err != nil {
		return "", nil, err
	}
	return sql, c.args, nil
}

func compile(q *model.Query, lists *listCache) (*compiler, string, error) {
	if q.Entity == nil {
		return nil, "", errors.New("store: query without an entity")
	}
	if err := checkReadable(q); err != nil {
		return nil, "", err
	}
	c, sql, err := compileSQL(q, lists)
	if err == nil && len(c.args) > maxVariables {
		return nil, "", errQueryTooLarge()
	}
	return c, sql, err
}

func compileSQL(q *model.Query, lists *listCache) (*compiler, string, error) {
	c := &compiler{q: q, links: map[*model.Link]string{}, paths: map[string]string{}}
	root := scope{alias: c.alias(), entity: q.Entity}
	// Links first, so their aliases are fixed before filters refer to them.
	for _, l := range q.Links {
		if err := c.addLink(root, l); err != nil {
			return nil, "", err
		}
	}
	var where []string
	if q.Filter != nil {
		w, err := c.expr(root, q.Filter)
		if err != nil {
			return nil, "", err
		}
		// Parenthesised: the keyset condition is ANDed on, and "a OR b AND k" would bind wrongly.
		where = append(where, "("+w+")")
	}
	if len(q.GroupBy) > 0 || len(q.Aggregates) > 0 {
		return c.aggregate(root, where)
	}
	attrs := q.Columns
	if attrs == nil {
		attrs, _ = storedAttrs(q.Entity, nil)
	}
	list, err := lists.rootColumns(q.Entity, root.alias, attrs, q.Distinct)
	if err != nil {
		return nil, "", err
	}
	// More columns follow the root's: those of links, and the order keys.
	var cols columnWriter
	pk := q.Entity.PrimaryID()
	for _, l := range q.Links {
		c.linkColumns(&cols, l)
	}
	// Order: the given keys, then the primary key so the order is total.
	var orderExprs []string
	var orderDesc []bool
	var orderAttrs []*model.Attribute
	for _, o := range q.Order {
		if o.Column == nil {
			return nil, "", fmt.Errorf("store: order by alias %q outside an aggregate query", o.Alias)
		}
		e, err := c.column(root, o.Column)
		if err != nil {
			return nil, "", err
		}
		orderExprs = append(orderExprs, e)
		orderDesc = append(orderDesc, o.Desc)
		orderAttrs = append(orderAttrs, o.Column.Attr)
		cols.expr(e)
	}
	if !q.Distinct {
		orderExprs = append(orderExprs, root.alias+"."+quote(pk.LogicalName))
		orderDesc = append(orderDesc, false)
		orderAttrs = append(orderAttrs, pk)
	} else if q.After != nil {
		return nil, "", fmt.Errorf("store: a distinct query pages by offset, not by position: %w", model.ErrBadPosition)
	}
	if q.After != nil {
		w, err := c.keyset(orderExprs, orderDesc, orderAttrs, q.After)
		if err != nil {
			return nil, "", err
		}
		where = append(where, "("+w+")")
	}
	var b strings.Builder
	b.Grow(len(list) + cols.Len() + 256)
	b.WriteString("SELECT ")
	if q.Distinct {
		b.WriteString("DISTINCT ")
	}
	b.WriteString(list)
	if list != "" && cols.Len() > 0 {
		b.WriteString(", ")
	}
	b.WriteString(cols.String())
	b.WriteString(" FROM " + quote(q.Entity.LogicalName) + " " + root.alias)
	for _, j := range c.joins {
		b.WriteString(" " + j)
	}
	if len(where) > 0 {
		b.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	if len(orderExprs) > 0 {
		b.WriteString(" ORDER BY ")
	}
	for i, e := range orderExprs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(e)
		if orderDesc[i] {
			b.WriteString(" DESC")
		}
	}
	c.limitOffset(&b)
	return c, b.String(), nil
}

// limitOffset writes LIMIT and OFFSET.
func (c *compiler) limitOffset(b *strings.Builder) {
	limit := c.limit()
	if limit > 0 {
		b.WriteString(" LIMIT " + c.arg(int64(limit)))
	}
	if c.q.Offset > 0 {
		if limit <= 0 {
			b.WriteString(" LIMIT -1")
		}
		b.WriteString(" OFFSET " + c.arg(int64(c.q.Offset)))
	}
}

// limit is the LIMIT of a row query: one more than a page (to learn whether another follows), or
// Top.
func (c *compiler) limit() int {
	q := c.q
	switch {
	case q.PageSize > 0 && q.Top > 0 && q.Top < q.PageSize+1:
		return q.Top
	case q.PageSize > 0:
		return q.PageSize + 1
	default:
		return q.Top
	}
}

func (c *compiler) addLink(root scope, l *model.Link) error {
	parent := root
	if l.Parent != nil {
		a, ok := c.links[l.Parent]
		if !ok {
			return fmt.Errorf("store: link %q comes before its parent", l.Alias)
		}
		parent = scope{alias: a, entity: l.Parent.Entity}
	}
	from, ok := l.Entity.Attribute(l.From)
	if !ok || !from.Stored() {
		return fmt.Errorf("store: %s has no column %s", l.Entity.LogicalName, l.From)
	}
	to, ok := parent.entity.Attribute(l.To)
	if !ok || !to.Stored() {
		return fmt.Errorf("store: %s has no column %s", parent.entity.LogicalName, l.To)
	}
	a := c.alias()
	c.links[l] = a
	on := a + "." + quote(from.LogicalName) + " = " + parent.alias + "." + quote(to.LogicalName)
	kind := "JOIN"
	if l.Outer {
		kind = "LEFT JOIN"
	}
	if l.Filter != nil {
		w, err := c.expr(scope{alias: a, entity: l.Entity}, l.Filter)
		if err != nil {
			return err
		}
		on += " AND (" + w + ")"
	}
	c.joins = append(c.joins, kind+" "+quote(l.Entity.LogicalName)+" "+a+" ON "+on)
	return nil
}

func (c *compiler) linkColumns(cols *columnWriter, l *model.Link) {
	a := c.links[l]
	for _, at := range l.Columns {
		cols.column(a, at.LogicalName)
		if at.IsPolymorphic() {
			cols.column(a, typeColumn(at))
		}
	}
}

// rootColumns writes the select list of a query's own columns: the primary key and version
// (unless the query is distinct: distinct rows are compared on the selected columns only), then
// each column, and after a lookup to several tables its type column.
func rootColumns(e *model.Entity, alias string, attrs []*model.Attribute, distinct bool) (string, error) {
	var cols columnWriter
	cols.Grow(24 * (len(attrs) + 2))
	if !distinct {
		cols.column(alias, e.PrimaryID().LogicalName)
		cols.column(alias, model.VersionColumn)
	}
	for _, a := range attrs {
		if !a.Stored() {
			return "", fmt.Errorf("store: %s.%s is not stored", e.LogicalName, a.LogicalName)
		}
		cols.column(alias, a.LogicalName)
		if a.IsPolymorphic() {
			cols.column(alias, typeColumn(a))
		}
	}
	return cols.String(), nil
}

// listCache keeps the select lists rootColumns writes, by table and column list. A list of
// every column of a standard table names a few hundred of them: writing it again on every
// query was a tenth of the time of reading the contacts of one account. A nil cache keeps
// nothing.
type listCache struct {
	mu sync.RWMutex
	m  map[listKey]*cachedList
}

// listKey is colKey's key with the query's distinctness.
type listKey struct {
	colPlanKey
	distinct bool
}

type cachedList struct {
	alias string
	cols  []*model.Attribute
	sql   string
}

func (c *listCache) rootColumns(e *model.Entity, alias string, attrs []*model.Attribute, distinct bool) (string, error) {
	if c == nil {
		return rootColumns(e, alias, attrs, distinct)
	}
	key := listKey{colPlanKey: colKey(e, attrs), distinct: distinct}
	c.mu.RLock()
	l := c.m[key]
	c.mu.RUnlock()
	if l != nil && l.alias == alias && slices.Equal(l.cols, attrs) {
		return l.sql, nil
	}
	sql, err := rootColumns(e, alias, attrs, distinct)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxGetPlans {
		c.m = map[listKey]*cachedList{}
	}
	c.m[key] = &cachedList{alias: alias, cols: slices.Clone(attrs), sql: sql}
	c.mu.Unlock()
	return sql, nil
}

// columnWriter writes a select list: expressions separated by commas.
type columnWriter struct{ strings.Builder }

// column adds alias."name".
func (l *columnWriter) column(alias, name string) {
	l.sep()
	l.WriteString(alias)
	l.WriteString(`."`)
	l.WriteString(strings.ReplaceAll(name, `"`, `""`))
	l.WriteByte('"')
}

// expr adds an expression.
func (l *columnWriter) expr(e string) {
	l.sep()
	l.WriteString(e)
}

func (l *columnWriter) sep() {
	if l.Len() > 0 {
		l.WriteString(", ")
	}
}

// column returns the SQL expression of a column, joining single-valued navigation paths from the
// root on first use.
func (c *compiler) column(s scope, col *model.Column) (string, error) {
	if col == nil || col.Attr == nil {
		return "", errors.New("store: empty column")
	}
	if !col.Attr.Stored() {
		return "", fmt.Errorf("store: %s is not stored", col.Attr.LogicalName)
	}
	alias := s.alias
	ent := s.entity
	if col.Link != nil {
		a, ok := c.links[col.Link]
		if !ok {
			return "", fmt.Errorf("store: column of unknown link %q", col.Link.Alias)
		}
		alias, ent = a, col.Link.Entity
	}
	key := alias
	for _, nav := range col.Path {
		if nav.Kind != model.NavSingle {
			return "", fmt.Errorf("store: path through collection %s", nav.Name)
		}
		lookup, ok := ent.Attribute(nav.Attribute)
		if !ok {
			return "", fmt.Errorf("store: %s has no lookup %s", ent.LogicalName, nav.Attribute)
		}
		tEnt := nav.TargetEntity
		if tEnt == nil {
			return "", fmt.Errorf("store: unknown entity %s", nav.Target)
		}
		key += "/" + nav.Name
		next, ok := c.paths[key]
		if !ok {
			next = c.alias()
			c.paths[key] = next
			on := next + "." + quote(tEnt.PrimaryIDAttribute) + " = " + alias + "." + quote(lookup.LogicalName)
			if lookup.IsPolymorphic() {
				on += " AND " + alias + "." + quote(typeColumn(lookup)) + " = " + c.arg(tEnt.LogicalName)
			}
			c.joins = append(c.joins, "LEFT JOIN "+quote(tEnt.LogicalName)+" "+next+" ON "+on)
		}
		alias = next
		ent = tEnt
	}
	if _, ok := ent.Attribute(col.Attr.LogicalName); !ok {
		return "", fmt.Errorf("store: %s has no column %s", ent.LogicalName, col.Attr.LogicalName)
	}
	return alias + "." + quote(col.Attr.LogicalName), nil
}

// sqlValue converts a filter value for column a.
func sqlValue(a *model.Attribute, v any) (any, error) {
	if a.IsLookup() {
		if s, ok := v.(string); ok {
			return strings.ToLower(s), nil
		}
	}
	if (a.Type == model.TypeMoney || a.Type == model.TypeDecimal) && v != nil {
		switch x := v.(type) {
		case int64:
			v = model.Decimal{Unscaled: x}
		case float64:
			d, err := model.ParseDecimal(strconv.FormatFloat(x, 'f', -1, 64), a.Scale())
			if err != nil {
				return nil, err
			}
			v = d
		}
	}
	if a.Type == model.TypeDouble {
		switch x := v.(type) {
		case int64:
			return float64(x), nil
		case model.Decimal:
			return x.Float(), nil
		}
	}
	if a.Type == model.TypeDateTime {
		if t, ok := v.(time.Time); ok {
			if a.Format == "DateOnly" {
				return t.UTC().Format(model.DateOnlyLayout), nil
			}
			return model.FormatDateTime(t), nil
		}
	}
	return toSQL(a, v)
}

func (c *compiler) expr(s scope, e model.Expr) (string, error) {
	switch x := model.Plain(e).(type) {
	case model.And:
		return c.list(s, flatten(x.Terms, false), " AND ", "1")
	case model.Or:
		return c.list(s, flatten(x.Terms, true), " OR ", "0")
	case model.Not:
		w, err := c.expr(s, x.X)
		return "NOT (" + w + ")", err
	case model.Compare:
		return c.compare(s, &x)
	case model.Match:
		return c.match(s, &x)
	case model.In:
		return c.in(s, &x)
	case model.Null:
		return c.null(s, &x)
	case model.ContainValues:
		return c.containValues(s, &x)
	case model.Exists:
		return c.exists(s, &x)
	}
	return "", fmt.Errorf("store: unknown filter node %T", e)
}

func (c *compiler) list(s scope, terms []model.Expr, sep, empty string) (string, error) {
	if len(terms) == 0 {
		return empty, nil
	}
	parts := make([]string, len(terms))
	for i, t := range terms {
		w, err := c.expr(s, t)
		if err != nil {
			return "", err
		}
		parts[i] = "(" + w + ")"
	}
	return joinBalanced(parts, sep), nil
}

func (c *compiler) compare(s scope, x *model.Compare) (string, error) {
	l, err := c.column(s, x.Left)
	if err != nil {
		return "", err
	}
	switch x.Op {
	case model.Eq, model.Ne, model.Gt, model.Ge, model.Lt, model.Le:
	default:
		return "", fmt.Errorf("store: unknown operator %q", x.Op)
	}
	if x.Right != nil {
		r, err := c.column(s, x.Right)
		if err != nil {
			return "", err
		}
		return l + " " + string(x.Op) + " " + r, nil
	}
	if x.Value == nil {
		switch x.Op {
		case model.Eq:
			return l + " IS NULL", nil
		case model.Ne:
			return l + " IS NOT NULL", nil
		}
		// Ordering against null matches nothing, as in SQL Server.
		return "0", nil
	}
	v, err := sqlValue(x.Left.Attr, x.Value)
	if err != nil {
		return "", err
	}
	return l + " " + string(x.Op) + " " + c.arg(v), nil
}

// match compiles contains/startswith/endswith/like. Dataverse treats %, _ and [...] in the value
// as wildcards; patterns without a bracket class use SQLite's LIKE (case-insensitive for ASCII,
// index-friendly for prefixes), the rest the dv_like function, which implements the whole syntax.
func (c *compiler) match(s scope, x *model.Match) (string, error) {
	l, err := c.column(s, x.Column)
	if err != nil {
		return "", err
	}
	pat := x.Pattern
	switch x.Kind {
	case "contains":
		pat = "%" + pat + "%"
	case "startswith":
		pat = pat + "%"
	case "endswith":
		pat = "%" + pat
	case "like":
	default:
		return "", fmt.Errorf("store: unknown match kind %q", x.Kind)
	}
	var w string
	if strings.ContainsRune(pat, '[') {
		w = "dv_like(" + c.arg(pat) + ", " + l + ")"
	} else {
		w = l + " LIKE " + c.arg(pat)
	}
	if x.Negate {
		return "NOT (" + w + ")", nil
	}
	return w, nil
}

func (c *compiler) in(s scope, x *model.In) (string, error) {
	l, err := c.column(s, x.Column)
	if err != nil {
		return "", err
	}
	if len(x.Values) == 0 {
		if x.Negate {
			return "1", nil
		}
		return "0", nil
	}
	vals := make([]any, len(x.Values))
	for i, v := range x.Values {
		sv, err := sqlValue(x.Column.Attr, v)
		if err != nil {
			return "", err
		}
		vals[i] = sv
	}
	op := " IN ("
	if x.Negate {
		op = " NOT IN ("
	}
	if len(vals) > inlineInValues {
		if list, ok := jsonList(vals); ok {
			return l + op + "SELECT value FROM json_each(" + c.arg(list) + "))", nil
		}
	}
	marks := make([]string, len(vals))
	for i, v := range vals {
		marks[i] = c.arg(v)
	}
	return l + op + strings.Join(marks, ", ") + ")", nil
}

func (c *compiler) null(s scope, x *model.Null) (string, error) {
	l, err := c.column(s, x.Column)
	if err != nil {
		return "", err
	}
	if x.Negate {
		return l + " IS NOT NULL", nil
	}
	return l + " IS NULL", nil
}

func (c *compiler) containValues(s scope, x *model.ContainValues) (string, error) {
	l, err := c.column(s, x.Column)
	if err != nil {
		return "", err
	}
	if len(x.Values) == 0 {
		return "0", nil
	}
	parts := make([]string, len(x.Values))
	for i, v := range x.Values {
		parts[i] = l + " LIKE " + c.arg("%,"+strconv.FormatInt(v, 10)+",%")
	}
	w := "(" + strings.Join(parts, " OR ") + ")"
	if x.Negate {
		return "(" + l + " IS NULL OR NOT " + w + ")", nil
	}
	return w, nil
}

// exists compiles a test on related rows reached through a navigation property.
func (c *compiler) exists(s scope, x *model.Exists) (string, error) {
	outer := s
	if x.Link != nil {
		a, ok := c.links[x.Link]
		if !ok {
			return "", fmt.Errorf("store: exists from unknown link %q", x.Link.Alias)
		}
		outer = scope{alias: a, entity: x.Link.Entity}
	}
	nav := x.Nav
	target := nav.TargetEntity
	if target == nil {
		return "", fmt.Errorf("store: unknown entity %s", nav.Target)
	}
	in := scope{alias: c.alias(), entity: target}
	var from, link string
	switch nav.Kind {
	case model.NavCollection:
		la, ok := target.Attribute(nav.Attribute)
		if !ok {
			return "", fmt.Errorf("store: %s has no lookup %s", target.LogicalName, nav.Attribute)
		}
		from = quote(target.LogicalName) + " " + in.alias
		link = in.alias + "." + quote(la.LogicalName) + " = " + outer.alias + "." + quote(outer.entity.PrimaryIDAttribute)
		if la.IsPolymorphic() {
			link += " AND " + in.alias + "." + quote(typeColumn(la)) + " = " + c.arg(outer.entity.LogicalName)
		}
	case model.NavSingle:
		la, ok := outer.entity.Attribute(nav.Attribute)
		if !ok {
			return "", fmt.Errorf("store: %s has no lookup %s", outer.entity.LogicalName, nav.Attribute)
		}
		from = quote(target.LogicalName) + " " + in.alias
		link = in.alias + "." + quote(target.PrimaryIDAttribute) + " = " + outer.alias + "." + quote(la.LogicalName)
	case model.NavManyToMany:
		r := nav.Relationship
		mine, theirs := r.Entity1IntersectAttribute, r.Entity2IntersectAttribute
		if outer.entity.LogicalName != r.Entity1 {
			mine, theirs = theirs, mine
		}
		ia := c.alias()
		from = quote(r.IntersectEntity) + " " + ia + " JOIN " + quote(target.LogicalName) + " " + in.alias + " ON " + in.alias + "." + quote(target.PrimaryIDAttribute) + " = " + ia + "." + quote(theirs)
		link = ia + "." + quote(mine) + " = " + outer.alias + "." + quote(outer.entity.PrimaryIDAttribute)
	default:
		return "", fmt.Errorf("store: unknown navigation kind")
	}
	cond := link
	if x.Filter != nil {
		w, err := c.expr(in, x.Filter)
		if err != nil {
			return "", err
		}
		if x.All {
			cond += " AND NOT COALESCE((" + w + "), 0)"
		} else {
			cond += " AND (" + w + ")"
		}
	} else if x.All {
		// all() with no predicate is true.
		return "1", nil
	}
	sub := "EXISTS (SELECT 1 FROM " + from + " WHERE " + cond + ")"
	if x.All != x.Negate {
		return "NOT " + sub, nil
	}
	return sub, nil
}

// keyset builds the condition "row comes after pos" for the given order. NULLs sort first in
// ascending order (as in SQL Server and SQLite).
func (c *compiler) keyset(exprs []string, desc []bool, attrs []*model.Attribute, pos *model.Position) (string, error) {
	vals := append(append([]any(nil), pos.Values...), pos.ID)
	if len(vals) != len(exprs) {
		return "", fmt.Errorf("store: page position has %d values for %d order keys: %w", len(vals), len(exprs), model.ErrBadPosition)
	}
	for i, v := range vals {
		if v == nil {
			continue
		}
		sv, err := sqlValue(attrs[i], v)
		if err != nil {
			return "", fmt.Errorf("store: page position: %v: %w", err, model.ErrBadPosition)
		}
		vals[i] = sv
	}
	var build func(i int) string
	build = func(i int) string {
		e, v := exprs[i], vals[i]
		last := i == len(exprs)-1
		var after string
		switch {
		case v == nil && desc[i]:
			after = "0" // nothing sorts after NULL descending
		case v == nil:
			after = e + " IS NOT NULL"
		case desc[i]:
			after = "(" + e + " < " + c.arg(v) + " OR " + e + " IS NULL)"
		default:
			after = e + " > " + c.arg(v)
		}
		if last {
			return after
		}
		equal := e + " IS NULL"
		if v != nil {
			equal = e + " = " + c.arg(v)
		}
		return "(" + after + " OR (" + equal + " AND " + build(i+1) + "))"
	}
	return build(0), nil
}

// aggregate compiles an aggregate query: grouping columns and aggregates, keyed by alias.
func (c *compiler) aggregate(root scope, where []string) (*compiler, string, error) {
	q := c.q
	var cols, groups []string
	for _, g := range q.GroupBy {
		e, err := c.column(root, g.Column)
		if err != nil {
			return nil, "", err
		}
		e, err = datePart(e, g.DatePart)
		if err != nil {
			return nil, "", err
		}
		cols = append(cols, e)
		groups = append(groups, e)
	}
	for _, a := range q.Aggregates {
		var e string
		if a.Func != model.AggCount {
			col, err := c.column(root, a.Column)
			if err != nil {
				return nil, "", err
			}
			e = col
		}
		switch a.Func {
		case model.AggCount:
			cols = append(cols, "COUNT(*)")
		case model.AggCountColumn:
			cols = append(cols, "COUNT("+e+")")
		case model.AggCountDistinct:
			cols = append(cols, "COUNT(DISTINCT "+e+")")
		case model.AggSum:
			cols = append(cols, "SUM("+e+")")
		case model.AggAvg:
			cols = append(cols, "AVG("+e+")")
		case model.AggMin:
			cols = append(cols, "MIN("+e+")")
		case model.AggMax:
			cols = append(cols, "MAX("+e+")")
		default:
			return nil, "", fmt.Errorf("store: unknown aggregate %q", a.Func)
		}
	}
	// The last column counts each group's source rows, so the caller can apply Dataverse's
	// aggregate row limit without a second scan.
	cols = append(cols, "COUNT(*)")
	var b strings.Builder
	b.WriteString("SELECT " + strings.Join(cols, ", ") + " FROM " + quote(q.Entity.LogicalName) + " " + root.alias)
	for _, j := range c.joins {
		b.WriteString(" " + j)
	}
	if len(where) > 0 {
		b.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	if len(groups) > 0 {
		b.WriteString(" GROUP BY " + strings.Join(groups, ", "))
	}
	var order []string
	for _, o := range q.Order {
		idx := -1
		for i, g := range q.GroupBy {
			if g.Alias == o.Alias {
				idx = i
			}
		}
		for i, a := range q.Aggregates {
			if a.Alias == o.Alias {
				idx = len(q.GroupBy) + i
			}
		}
		if idx < 0 {
			return nil, "", fmt.Errorf("store: order by unknown alias %q", o.Alias)
		}
		s := strconv.Itoa(idx + 1)
		if o.Desc {
			s += " DESC"
		}
		order = append(order, s)
	}
	if len(order) == 0 {
		for i := range q.GroupBy {
			order = append(order, strconv.Itoa(i+1))
		}
	}
	if len(order) > 0 {
		b.WriteString(" ORDER BY " + strings.Join(order, ", "))
	}
	c.limitOffset(&b)
	return c, b.String(), nil
}

// datePart groups a DateTime column (UTC text) by a part of the date.
func datePart(e, part string) (string, error) {
	switch part {
	case "":
		return e, nil
	case "year", "fiscal-year":
		return "CAST(substr(" + e + ", 1, 4) AS INTEGER)", nil
	case "month":
		return "CAST(substr(" + e + ", 6, 2) AS INTEGER)", nil
	case "day":
		return "CAST(substr(" + e + ", 9, 2) AS INTEGER)", nil
	case "quarter", "fiscal-period":
		return "((CAST(substr(" + e + ", 6, 2) AS INTEGER) + 2) / 3)", nil
	case "week":
		return "(CAST(strftime('%W', substr(" + e + ", 1, 10)) AS INTEGER) + 1)", nil
	}
	return "", fmt.Errorf("store: unknown date grouping %q", part)
}
