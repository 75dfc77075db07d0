package store

import (
	"fmt"
	"math"
	"strconv"

	"github.com/dynlocal/dynlocal/emulator/model"
)

// ResultRow is one row of a query result.
type ResultRow struct {
	// ID is the primary key and Version the row version (zero for aggregate rows).
	ID      string
	Version int64
	// Row holds the root columns read, or for aggregate queries the values keyed by alias.
	Row model.Row
	// Values holds the root columns in the order of the query's Columns instead of Row, for
	// ScanValues. They are valid until the callback returns.
	Values []any
	// Links holds the columns read from each link, by link.
	Links map[*model.Link]model.Row
	// OrderValues are the values of the Order columns, for the next page's position.
	OrderValues []any
}

// Result is a page of rows.
type Result struct {
	Rows []ResultRow
	// More is set when another page follows; Next is then the position after the last row.
	More bool
	Next *model.Position
	// SourceRows is the number of rows an aggregate query read (before grouping).
	SourceRows int64
}

// Select runs a query and returns its page of rows.
func (t *Tx) Select(q *model.Query) (*Result, error) {
	var rows []ResultRow
	res, err := t.Scan(q, func(r ResultRow) error {
		rows = append(rows, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.Rows = rows
	return res, nil
}

// Scan runs a query and hands each row of the page to fn as it is read, so that a caller can
// write rows out without holding the page. The Result it returns has no Rows; More, Next and
// SourceRows are as Select sets them. An error from fn stops the scan and is returned.
func (t *Tx) Scan(q *model.Query, fn func(ResultRow) error) (*Result, error) {
	return t.scan(q, false, fn)
}

// ScanValues is Scan for a caller that shapes rows by position: each row comes with Values (the
// query's Columns in order) and no Row, and the values are only valid until fn returns. The query
// may not be an aggregate, distinct, or read columns of its links.
func (t *Tx) ScanValues(q *model.Query, fn func(ResultRow) error) (*Result, error) {
	if len(q.GroupBy) > 0 || len(q.Aggregates) > 0 || q.Distinct || q.Columns == nil {
		return nil, fmt.Errorf("store: ScanValues of %s: an aggregate, distinct or all-column query", q.Entity.LogicalName)
	}
	for _, l := range q.Links {
		if len(l.Columns) > 0 {
			return nil, fmt.Errorf("store: ScanValues of %s: a link with columns", q.Entity.LogicalName)
		}
	}
	return t.scan(q, true, fn)
}

func (t *Tx) scan(q *model.Query, positional bool, fn func(ResultRow) error) (*Result, error) {
	c, query, err := compile(q, &t.s.lists)
	if err != nil {
		return nil, err
	}
	rows, err := t.query().QueryContext(t.ctx, query, c.args...)
	if err != nil {
		return nil, fmt.Errorf("store: select %s: %w", q.Entity.LogicalName, limitError(err))
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	res := &Result{}
	aggregate := len(q.GroupBy) > 0 || len(q.Aggregates) > 0
	attrs := q.Columns
	if attrs == nil {
		attrs, _ = storedAttrs(q.Entity, nil)
	}
	// The compiler reads one row past a page to know whether another follows.
	paged := q.PageSize > 0 && (q.Top == 0 || q.Top > q.PageSize)
	n := 0
	var last ResultRow
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		var rr ResultRow
		if aggregate {
			rr, err = aggregateRow(q, vals)
			if err == nil {
				src, cerr := asInt(vals[len(vals)-1])
				if cerr != nil {
					return nil, cerr
				}
				res.SourceRows += src
			}
		} else {
			rr, err = plainRow(q, attrs, vals, positional)
		}
		if err != nil {
			return nil, err
		}
		if paged && n == q.PageSize {
			res.More = true
			res.Next = nextPosition(q, last)
			break
		}
		if err := fn(rr); err != nil {
			return nil, err
		}
		last = rr
		n++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: select %s: %w", q.Entity.LogicalName, err)
	}
	return res, nil
}

// nextPosition is the position after last, the last row of a page.
func nextPosition(q *model.Query, last ResultRow) *model.Position {
	page := 1
	if q.After != nil {
		page = q.After.Page + 1
	} else if q.PageSize > 0 && q.Offset > 0 {
		page = q.Offset/q.PageSize + 1
	}
	return &model.Position{Values: last.OrderValues, ID: last.ID, Page: page}
}

// plainRow reads a row of a query that is not an aggregate. positional converts the root
// columns in place and hands them out as Values rather than in a Row.
func plainRow(q *model.Query, attrs []*model.Attribute, vals []any, positional bool) (ResultRow, error) {
	var rr ResultRow
	var ver int64
	i := 0
	if !q.Distinct {
		rr.ID = asString(vals[0])
		var err error
		if ver, err = asInt(vals[1]); err != nil {
			return rr, err
		}
		rr.Version = ver
		i = 2
	}
	read := func(list []*model.Attribute) (model.Row, error) {
		// One more than the columns: the main row gets versionnumber too, and a map that grows
		// past its hint copies itself.
		row := make(model.Row, len(list)+1)
		for _, a := range list {
			v, next, err := readValue(a, vals, i)
			if err != nil {
				return nil, err
			}
			row[a.LogicalName] = v
			i = next
		}
		return row, nil
	}
	var err error
	if positional {
		start := i
		if i, err = readValues(attrs, vals, i); err != nil {
			return rr, err
		}
		rr.Values = vals[start : start+len(attrs)]
	} else {
		if rr.Row, err = read(attrs); err != nil {
			return rr, err
		}
		if _, ok := q.Entity.Attribute(model.VersionColumn); ok && !q.Distinct {
			rr.Row[model.VersionColumn] = ver
		}
	}
	for _, l := range q.Links {
		if len(l.Columns) == 0 {
			continue
		}
		lr, err := read(l.Columns)
		if err != nil {
			return rr, err
		}
		if rr.Links == nil {
			rr.Links = map[*model.Link]model.Row{}
		}
		rr.Links[l] = lr
	}
	for _, o := range q.Order {
		v, err := fromSQL(o.Column.Attr, vals[i], "")
		if err != nil {
			return rr, err
		}
		// Positions carry the stored form of lookups (the id), which is what the keyset compares.
		if l, ok := v.(model.Lookup); ok {
			v = l.ID
		}
		rr.OrderValues = append(rr.OrderValues, v)
		i++
	}
	return rr, nil
}

// aggregateRow reads an aggregate row: group values (typed by their column, or integers for date
// parts) and aggregates (exact for Money and Decimal sums and averages).
func aggregateRow(q *model.Query, vals []any) (ResultRow, error) {
	rr := ResultRow{Row: model.Row{}}
	i := 0
	for _, g := range q.GroupBy {
		var v any
		var err error
		if g.DatePart != "" {
			if vals[i] != nil {
				v, err = asInt(vals[i])
			}
		} else {
			v, err = fromSQL(g.Column.Attr, vals[i], "")
		}
		if err != nil {
			return rr, err
		}
		rr.Row[g.Alias] = v
		i++
	}
	for _, a := range q.Aggregates {
		raw := vals[i]
		i++
		switch a.Func {
		case model.AggCount, model.AggCountColumn, model.AggCountDistinct:
			n, err := asInt(raw)
			if err != nil {
				return rr, err
			}
			rr.Row[a.Alias] = n
			continue
		}
		if raw == nil {
			rr.Row[a.Alias] = nil
			continue
		}
		at := a.Column.Attr
		switch {
		case at.Type == model.TypeMoney || at.Type == model.TypeDecimal:
			if a.Func == model.AggAvg {
				f, ok := raw.(float64)
				if !ok {
					n, err := asInt(raw)
					if err != nil {
						return rr, err
					}
					f = float64(n)
				}
				rr.Row[a.Alias] = model.Decimal{Unscaled: int64(math.Round(f)), Scale: at.Scale()}
				continue
			}
			n, err := asInt(raw)
			if err != nil {
				return rr, err
			}
			rr.Row[a.Alias] = model.Decimal{Unscaled: n, Scale: at.Scale()}
		case a.Func == model.AggAvg:
			switch x := raw.(type) {
			case float64:
				rr.Row[a.Alias] = x
			case int64:
				rr.Row[a.Alias] = float64(x)
			default:
				f, err := strconv.ParseFloat(asString(raw), 64)
				if err != nil {
					return rr, err
				}
				rr.Row[a.Alias] = f
			}
		default:
			v, err := fromSQL(at, raw, "")
			if err != nil {
				return rr, err
			}
			rr.Row[a.Alias] = v
		}
	}
	return rr, nil
}

// CountRows counts the rows a query matches, ignoring its order, paging and columns. A limit above
// zero stops counting there (Dataverse caps @odata.count at 5,000).
func (t *Tx) CountRows(q *model.Query, limit int) (int64, error) {
	cq := *q
	cq.Columns = []*model.Attribute{}
	cq.Order = nil
	cq.After = nil
	cq.PageSize = 0
	cq.Offset = 0
	cq.Top = limit
	cq.Distinct = false
	c, inner, err := compile(&cq, &t.s.lists)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := t.query().QueryRowContext(t.ctx, "SELECT COUNT(*) FROM ("+inner+")", c.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count %s: %w", q.Entity.LogicalName, limitError(err))
	}
	return n, nil
}
