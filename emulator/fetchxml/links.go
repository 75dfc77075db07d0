package fetchxml

import (
	"slices"

	"github.com/antchfx/xmlquery"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
)

var linkAttrs = []string{"name", "from", "to", "alias", "link-type", "visible", "intersect", "enableprefiltering", "prefilterparametername"}

var linkTypes = []string{"inner", "outer", "any", "not any", "all", "not all", "exists", "in", "matchfirstrowusingcrossapply"}

// linkType reads and checks link-type (inner when absent) and the link's boolean attributes.
func (p *parser) linkType(n *xmlquery.Node, attrs map[string]string) (string, *dverr.Error) {
	for _, b := range []string{"visible", "intersect"} {
		if _, err := p.boolAttr(n, attrs, b); err != nil {
			return "", err
		}
	}
	t, ok := attrs["link-type"]
	if !ok {
		return "inner", nil
	}
	if !slices.Contains(linkTypes, t) {
		return "", fail(p.pos(n), codeInvalidLinkType, "The link-type '%s' is not valid; use inner, outer, any, not any, all, not all, exists, in or matchfirstrowusingcrossapply.", t)
	}
	return t, nil
}

// isJoin reports whether a link type joins rows (and can return columns) rather than only filter.
func isJoin(kind string) bool {
	return kind == "inner" || kind == "outer" || kind == "matchfirstrowusingcrossapply"
}

// linkEnds resolves a link's table and its from (on the link's table) and to (on the parent's)
// columns. When from or to is missing it is taken from the only relationship between the two
// tables that fits what is given.
func (p *parser) linkEnds(n *xmlquery.Node, attrs map[string]string, parent *model.Entity) (*model.Entity, string, string, *dverr.Error) {
	name := attrs["name"]
	if name == "" {
		return nil, "", "", fail(p.pos(n), codeNoEntity, "The link-entity element needs the name of a table.")
	}
	ent, ok := p.sch.Entity(name)
	if !ok {
		return nil, "", "", errNoEntity(p.pos(n), name)
	}
	from, to := attrs["from"], attrs["to"]
	if from == "" || to == "" {
		var cands [][2]string
		for _, nav := range parent.Navs() {
			if nav.TargetEntity != ent {
				continue
			}
			var c [2]string
			switch nav.Kind {
			case model.NavSingle:
				c = [2]string{ent.PrimaryIDAttribute, nav.Attribute}
			case model.NavCollection:
				c = [2]string{nav.Attribute, parent.PrimaryIDAttribute}
			default:
				continue
			}
			if (from == "" || from == c[0]) && (to == "" || to == c[1]) && !slices.Contains(cands, c) {
				cands = append(cands, c)
			}
		}
		if len(cands) != 1 {
			return nil, "", "", fail(p.pos(n), codeInvalidArgument, "The link-entity '%s' needs from and to attributes: they can't be inferred from the relationships between '%s' and '%s'.", name, parent.LogicalName, name)
		}
		from, to = cands[0][0], cands[0][1]
	}
	fa, ok := ent.Attribute(from)
	if !ok {
		return nil, "", "", errNoAttribute(p.pos(n), ent.LogicalName, from)
	}
	ta, ok := parent.Attribute(to)
	if !ok {
		return nil, "", "", errNoAttribute(p.pos(n), parent.LogicalName, to)
	}
	if !fa.Stored() || !ta.Stored() {
		return nil, "", "", fail(p.pos(n), codeInvalidArgument, "The link-entity '%s' can't join on a column the emulator keeps no value for.", name)
	}
	return ent, from, to, nil
}

// exists reads a link-entity of a type that only filters (any, not any, all, not all, exists,
// in) into a test on related rows, in scope s (the table the link hangs from).
func (p *parser) exists(n *xmlquery.Node, s scope, kind string) (model.Expr, *dverr.Error) {
	attrs, err := p.attrs(n, linkAttrs...)
	if err != nil {
		return nil, err
	}
	ent, from, to, err := p.linkEnds(n, attrs, s.entity)
	if err != nil {
		return nil, err
	}
	for _, c := range elements(n) {
		switch c.Data {
		case "attribute", "all-attributes", "order":
			return nil, fail(p.pos(c), codeLinkAttributes, "A link-entity of link-type '%s' only filters rows and can't have %s elements.", kind, c.Data)
		case "no-attrs", "filter", "link-entity":
		default:
			return nil, fail(p.pos(c), codeInvalidNode, "Invalid Child Node, valid nodes are filter, order, link-entity, attribute, all-attributes, no-attrs. NodeName = %s", c.Data)
		}
	}
	nav, body, err := p.relation(n, s.entity, ent, from, to)
	if err != nil {
		return nil, err
	}
	var filter model.Expr
	if body != nil {
		inner := scope{entity: nav.TargetEntity, exists: true, alias: p.linkAlias[body], limit: s.limit}
		if filter, err = p.related(body, inner); err != nil {
			return nil, err
		}
	}
	switch kind {
	case "not any":
		return model.Exists{Nav: nav, Filter: filter, Negate: true}, nil
	case "all":
		// Dataverse: related rows exist, and none of them matches the link's filter.
		return model.And{Terms: []model.Expr{
			model.Exists{Nav: nav},
			model.Exists{Nav: nav, Filter: filter, Negate: true},
		}}, nil
	}
	// any, exists, in, and "not all", which Dataverse documents as equivalent to any.
	return model.Exists{Nav: nav, Filter: filter}, nil
}

// relation finds the navigation property a filtering link follows from parent, and the element
// whose filters and nested links restrict the related rows (nil: none).
//
// A link from the parent's lookup to the related table's key is the N:1 navigation; a link from a
// lookup of the related table to the parent's key is the 1:N one. A link to the intersect table of
// an N:N relationship, on the parent's intersect column, is that relationship: the related rows
// are those of the other table, reached by the one link-entity nested in it.
func (p *parser) relation(n *xmlquery.Node, parent, ent *model.Entity, from, to string) (*model.Nav, *xmlquery.Node, *dverr.Error) {
	for _, nav := range parent.Navs() {
		if nav.TargetEntity != ent {
			continue
		}
		switch {
		case nav.Kind == model.NavSingle && from == ent.PrimaryIDAttribute && to == nav.Attribute,
			nav.Kind == model.NavCollection && from == nav.Attribute && to == parent.PrimaryIDAttribute:
			return nav, n, nil
		}
	}
	for _, nav := range parent.Navs() {
		r := nav.Relationship
		if nav.Kind != model.NavManyToMany || r.IntersectEntity != ent.LogicalName || to != parent.PrimaryIDAttribute {
			continue
		}
		mine, theirs := r.Entity1IntersectAttribute, r.Entity2IntersectAttribute
		if parent.LogicalName != r.Entity1 {
			mine, theirs = theirs, mine
		}
		if from != mine {
			continue
		}
		var next *xmlquery.Node
		for _, c := range elements(n) {
			switch c.Data {
			case "filter":
				if len(elements(c)) > 0 {
					return nil, nil, fail(p.pos(c), codeNotSupported, "Conditions on the intersect table '%s' are not supported by the emulator; filter the related '%s' rows instead.", ent.LogicalName, nav.Target)
				}
			case "link-entity":
				if next != nil {
					return nil, nil, fail(p.pos(c), codeNotSupported, "A filtering link to the intersect table '%s' may hold only one link-entity, to '%s'.", ent.LogicalName, nav.Target)
				}
				next = c
			}
		}
		if next == nil {
			return nav, nil, nil
		}
		target := nav.TargetEntity
		attrs, err := p.attrs(next, linkAttrs...)
		if err != nil {
			return nil, nil, err
		}
		kind, err := p.linkType(next, attrs)
		if err != nil {
			return nil, nil, err
		}
		if attrs["name"] != target.LogicalName || attrs["from"] != target.PrimaryIDAttribute || attrs["to"] != theirs ||
			kind != "inner" && kind != "any" && kind != "exists" && kind != "in" {
			return nil, nil, fail(p.pos(next), codeNotSupported, "Inside a filtering link to the intersect table '%s', the emulator supports one inner link-entity name='%s' from='%s' to='%s'.", ent.LogicalName, target.LogicalName, target.PrimaryIDAttribute, theirs)
		}
		return nav, next, nil
	}
	return nil, nil, fail(p.pos(n), codeNotSupported, "The emulator supports filtering link-entities only along relationships: no relationship of '%s' joins %s.%s to %s.%s.", parent.LogicalName, ent.LogicalName, from, parent.LogicalName, to)
}

// related reads the filters and nested links of a filtering link-entity, about the related rows.
// Nested inner links (and the filtering types) become nested tests; outer links, which cannot
// restrict the related rows, are dropped.
func (p *parser) related(n *xmlquery.Node, s scope) (model.Expr, *dverr.Error) {
	var terms []model.Expr
	for _, c := range elements(n) {
		var x model.Expr
		var err *dverr.Error
		switch c.Data {
		case "filter":
			x, err = p.filter(c, s)
		case "link-entity":
			var attrs map[string]string
			var kind string
			if attrs, err = p.attrs(c, linkAttrs...); err == nil {
				kind, err = p.linkType(c, attrs)
			}
			if err != nil {
				return nil, err
			}
			switch kind {
			case "outer", "matchfirstrowusingcrossapply":
				if _, _, _, err = p.linkEnds(c, attrs, s.entity); err != nil {
					return nil, err
				}
				continue
			case "inner":
				kind = "any"
			}
			x, err = p.exists(c, s, kind)
		case "no-attrs":
		case "attribute", "all-attributes", "order":
			err = fail(p.pos(c), codeLinkAttributes, "A link-entity that only filters rows can't have %s elements.", c.Data)
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
	return combine(false, terms), nil
}
