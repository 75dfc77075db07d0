package model

import "slices"

// Shown lists the columns a row of e shows for a select list: the selected ones, or every readable
// stored column when sel is nil. With a select list the primary key is added at the end, and a
// money column brings the row's transaction currency, as Dataverse does.
func (e *Entity) Shown(sel []*Attribute) []*Attribute {
	if sel == nil {
		// Shared by every request: not to be changed in place.
		return e.readable
	}
	out := append([]*Attribute(nil), sel...)
	has := make(map[string]bool, len(sel))
	for _, a := range sel {
		has[a.LogicalName] = true
	}
	for _, a := range sel {
		if a.Type == TypeMoney && !has["transactioncurrencyid"] {
			if tc, ok := e.Attribute("transactioncurrencyid"); ok {
				out = append(out, tc)
				has["transactioncurrencyid"] = true
			}
		}
	}
	if !has[e.PrimaryIDAttribute] {
		out = append(out, e.PrimaryID())
	}
	return out
}

// StoredOnly keeps the columns that have storage of their own: a query reads those, the others
// are derived from them.
func StoredOnly(attrs []*Attribute) []*Attribute {
	all := true
	for _, a := range attrs {
		all = all && a.Stored()
	}
	if all {
		// The list itself, clipped so that a caller appending to it makes a copy.
		return slices.Clip(attrs)
	}
	out := make([]*Attribute, 0, len(attrs))
	for _, a := range attrs {
		if a.Stored() {
			out = append(out, a)
		}
	}
	return out
}

// ContainsAttr reports whether list holds a.
func ContainsAttr(list []*Attribute, a *Attribute) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}
