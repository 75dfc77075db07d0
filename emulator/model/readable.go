package model

// Unreadable returns the first column the query reads, filters, orders, groups or aggregates on
// whose attribute is not valid for read (IsValidForRead false, like serviceendpoint.authvalue), and
// the table it belongs to; nil when there is none. A nil Columns list (every stored column, which
// only the emulator's own reads use) is not checked; an explicit list is.
func (q *Query) Unreadable() (*Entity, *Attribute) {
	var u unreadable
	u.attrs(q.Entity, q.Columns)
	for _, l := range q.Links {
		u.attrs(l.Entity, l.Columns)
		u.expr(l.Entity, l.Filter)
	}
	u.expr(q.Entity, q.Filter)
	for _, o := range q.Order {
		u.column(q.Entity, o.Column)
	}
	for _, g := range q.GroupBy {
		u.column(q.Entity, g.Column)
	}
	for _, a := range q.Aggregates {
		u.column(q.Entity, a.Column)
	}
	return u.ent, u.attr
}

type unreadable struct {
	ent  *Entity
	attr *Attribute
}

func (u *unreadable) found(e *Entity, a *Attribute) {
	if u.attr == nil && a != nil && !a.ValidForRead {
		u.ent, u.attr = e, a
	}
}

func (u *unreadable) attrs(e *Entity, list []*Attribute) {
	for _, a := range list {
		u.found(e, a)
	}
}

// column checks a column; e is the table an unqualified column refers to.
func (u *unreadable) column(e *Entity, c *Column) {
	if c == nil {
		return
	}
	if c.Link != nil {
		e = c.Link.Entity
	}
	if n := len(c.Path); n > 0 && c.Path[n-1].TargetEntity != nil {
		e = c.Path[n-1].TargetEntity
	}
	u.found(e, c.Attr)
}

func (u *unreadable) expr(e *Entity, x Expr) {
	switch t := Plain(x).(type) {
	case And:
		u.exprs(e, t.Terms)
	case Or:
		u.exprs(e, t.Terms)
	case Not:
		u.expr(e, t.X)
	case Compare:
		u.column(e, t.Left)
		u.column(e, t.Right)
	case Match:
		u.column(e, t.Column)
	case In:
		u.column(e, t.Column)
	case Null:
		u.column(e, t.Column)
	case ContainValues:
		u.column(e, t.Column)
	case Exists:
		u.exists(t)
	}
}

func (u *unreadable) exprs(e *Entity, terms []Expr) {
	for _, t := range terms {
		u.expr(e, t)
	}
}

func (u *unreadable) exists(x Exists) {
	if x.Nav != nil && x.Nav.TargetEntity != nil {
		u.expr(x.Nav.TargetEntity, x.Filter)
	}
}
