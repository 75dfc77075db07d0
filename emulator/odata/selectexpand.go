package odata

import (
	"strconv"
	"strings"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
)

// MaxExpands is Dataverse's limit on $expand items in one query.
const MaxExpands = 15

// ParseSelect resolves a $select list against e. Names may be column logical names, lookup value
// properties (_primarycontactid_value) or a single-valued navigation property's lookup column. The
// result keeps the order given, without duplicates.
func ParseSelect(e *model.Entity, text string) ([]*model.Attribute, error) {
	var out []*model.Attribute
	seen := map[string]bool{}
	for _, part := range splitTop(text, ',') {
		name := strings.TrimSpace(part.text)
		if name == "" {
			return nil, dverr.BadRequest("Bad Request - Error in query syntax.").At(part.pos)
		}
		a, err := resolveSelectName(e, name)
		if err != nil {
			return nil, err.At(part.pos)
		}
		if a == nil { // "*"
			for _, x := range e.Attributes {
				if x.ValidForRead && !seen[x.LogicalName] {
					seen[x.LogicalName] = true
					out = append(out, x)
				}
			}
			continue
		}
		if !seen[a.LogicalName] {
			seen[a.LogicalName] = true
			out = append(out, a)
		}
	}
	return out, nil
}

func resolveSelectName(e *model.Entity, name string) (*model.Attribute, *dverr.Error) {
	if name == "*" {
		return nil, nil
	}
	if a, ok := e.Attribute(name); ok && a.ValidForRead {
		return a, nil
	}
	if strings.HasPrefix(name, "_") && strings.HasSuffix(name, "_value") && len(name) > 7 {
		if a, ok := e.Attribute(name[1 : len(name)-6]); ok && a.IsLookup() {
			return a, nil
		}
	}
	if n, ok := e.Nav(name); ok && n.Kind == model.NavSingle {
		if a, ok := e.Attribute(n.Attribute); ok {
			return a, nil
		}
	}
	return nil, dverr.PropertyNotFound(name, e.LogicalName)
}

// ExpandItem is one $expand item with its nested options, every one of them resolved and parsed:
// an invalid nested option fails the request whatever the data.
type ExpandItem struct {
	Nav *model.Nav
	// Ref is set for nav/$ref.
	Ref bool
	// Select is the nested $select as given (nil: every column); Columns is what each expanded
	// row shows, completed as Dataverse does (the primary key, the currency of money columns and,
	// for one-to-many collections with a select list, the lookup back to the parent).
	Select  []*model.Attribute
	Columns []*model.Attribute
	// Filter and Order are the nested $filter and $orderby (nil when absent).
	Filter model.Expr
	Order  []model.Order
	// FilterText and OrderByText are the nested options as written, for the links Dataverse
	// returns beside expanded collections.
	FilterText, OrderByText string
	Top                     int
	Expand                  []ExpandItem
	Pos                     int
}

// ParseExpand resolves an $expand list against e and parses every nested option, to any depth.
// aliases and env serve nested $filter options as they serve ParseFilter.
func ParseExpand(sch *model.Schema, e *model.Entity, text string, aliases map[string]string, env model.Env) ([]ExpandItem, error) {
	p := expandParser{sch: sch, aliases: aliases, env: env}
	return p.list(e, text, 0)
}

// expandParser carries what nested options need through the recursion.
type expandParser struct {
	sch     *model.Schema
	aliases map[string]string
	env     model.Env
	count   int
}

func (p *expandParser) list(e *model.Entity, text string, offset int) ([]ExpandItem, error) {
	var out []ExpandItem
	for _, part := range splitTop(text, ',') {
		pos := offset + part.pos
		item := strings.TrimSpace(part.text)
		lead := len(part.text) - len(strings.TrimLeft(part.text, " "))
		name, opts, hasOpts := item, "", false
		if i := strings.IndexByte(item, '('); i >= 0 {
			if !strings.HasSuffix(item, ")") {
				return nil, dverr.BadRequest("Bad Request - Error in query syntax.").At(pos + len(item))
			}
			name, opts, hasOpts = item[:i], item[i+1:len(item)-1], true
		}
		ref := false
		if n, ok := strings.CutSuffix(name, "/$ref"); ok {
			name, ref = n, true
		}
		if name == "" {
			return nil, dverr.BadRequest("Bad Request - Error in query syntax.").At(pos)
		}
		nav, ok := e.Nav(name)
		if !ok {
			return nil, dverr.PropertyNotFound(name, e.LogicalName).At(pos)
		}
		p.count++
		if p.count > MaxExpands {
			return nil, dverr.BadRequest("The number of $expand in the query exceeds the maximum of %d.", MaxExpands).At(pos)
		}
		if ref && nav.Kind != model.NavSingle {
			return nil, dverr.New(400, dverr.CodeExpandNotSupported, "Expand with $ref is only supported on lookup type navigation property.").At(pos)
		}
		target, ok := p.sch.Entity(nav.Target)
		if !ok {
			return nil, dverr.PropertyNotFound(name, e.LogicalName).At(pos)
		}
		it := ExpandItem{Nav: nav, Ref: ref, Pos: pos}
		if hasOpts {
			if ref {
				return nil, dverr.BadRequest("Bad Request - Error in query syntax.").At(pos)
			}
			optBase := pos + lead + len(name) + 1
			for _, o := range splitTop(opts, ';') {
				k, v, ok := strings.Cut(o.text, "=")
				k = strings.TrimSpace(k)
				if !ok {
					return nil, dverr.BadRequest("Bad Request - Error in query syntax.").At(optBase + o.pos)
				}
				vpos := optBase + o.pos + len(k) + 1
				switch k {
				case "$select":
					sel, err := ParseSelect(target, v)
					if err != nil {
						return nil, shift(err, vpos)
					}
					it.Select = sel
				case "$filter":
					f, err := ParseFilter(p.sch, target, v, p.aliases, p.env)
					if err != nil {
						return nil, shift(err, vpos)
					}
					it.Filter, it.FilterText = f, v
				case "$orderby":
					o, err := ParseOrderBy(p.sch, target, v, nil)
					if err != nil {
						return nil, shift(err, vpos)
					}
					it.Order, it.OrderByText = o, v
				case "$top":
					n, err := strconv.Atoi(strings.TrimSpace(v))
					if err != nil || n < 0 {
						return nil, dverr.BadRequest("Invalid value '%s' for $top query option found. The $top query option requires a non-negative integer value.", v).At(vpos)
					}
					it.Top = n
				case "$expand":
					sub, err := p.list(target, v, vpos)
					if err != nil {
						return nil, err
					}
					it.Expand = sub
				case "$skip", "$count", "$search", "$levels":
					return nil, dverr.BadRequest("The query parameter %s is not supported inside $expand.", k).At(optBase + o.pos)
				default:
					return nil, dverr.BadRequest("The query parameter '%s' is not supported.", k).At(optBase + o.pos)
				}
			}
		}
		if nav.Kind == model.NavSingle && (it.Order != nil || it.Top > 0) {
			return nil, errExpandSingle().At(pos)
		}
		if nav.Kind != model.NavSingle && len(it.Expand) > 0 && (it.Order != nil || it.Top > 0) {
			// A collection expanded with a nested $expand is paged like the top-level rows, so
			// Dataverse takes neither $orderby nor $top in it.
			return nil, errExpandSingle().At(pos)
		}
		it.Columns = withRefLookups(target, target.Shown(it.Select), it.Expand)
		if nav.Kind == model.NavCollection && it.Select != nil {
			// Dataverse returns the lookup to the parent with each expanded row.
			if la, ok := target.Attribute(nav.Attribute); ok && !model.ContainsAttr(it.Columns, la) {
				it.Columns = append(it.Columns, la)
			}
		}
		out = append(out, it)
	}
	return out, nil
}

// errExpandSingle is Dataverse's answer to $orderby or $top on a single-valued expansion, and to
// either on a collection expansion when a nested $expand is paged.
func errExpandSingle() *dverr.Error {
	return dverr.New(400, dverr.CodeExpandNotSupported, "Only $select and $filter clause can be provided while doing $expand on many-to-one relationship or nested one-to-many relationship.")
}

// shift moves the position of a nested option's error from the option's text to the whole query
// option's.
func shift(err error, offset int) error {
	if e, ok := dverr.As(err); ok && e.Position >= 0 {
		return e.At(e.Position + offset)
	}
	return err
}

// SplitOptions splits s at sep where it is outside parentheses and quoted strings, the way OData
// option lists ($expand items, the options nested in them) are split.
func SplitOptions(s string, sep byte) []string {
	parts := splitTop(s, sep)
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = p.text
	}
	return out
}

type part struct {
	text string
	pos  int
}

// splitTop splits s at sep characters that are outside parentheses and quoted strings.
func splitTop(s string, sep byte) []part {
	var out []part
	depth, start := 0, 0
	inStr := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inStr:
			if c == '\'' {
				inStr = false
			}
		case c == '\'':
			inStr = true
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == sep && depth == 0:
			out = append(out, part{s[start:i], start})
			start = i + 1
		}
	}
	return append(out, part{s[start:], start})
}
