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

// ExpandItem is one $expand item with its nested options.
type ExpandItem struct {
	Nav *model.Nav
	// Ref is set for nav/$ref.
	Ref    bool
	Select []*model.Attribute
	// Filter and OrderBy are the raw nested options, parsed by the query layer.
	Filter  string
	OrderBy string
	Top     int
	Expand  []ExpandItem
	Pos     int
}

// ParseExpand resolves an $expand list against e.
func ParseExpand(sch *model.Schema, e *model.Entity, text string) ([]ExpandItem, error) {
	count := 0
	return parseExpand(sch, e, text, 0, &count)
}

func parseExpand(sch *model.Schema, e *model.Entity, text string, offset int, count *int) ([]ExpandItem, error) {
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
		*count++
		if *count > MaxExpands {
			return nil, dverr.BadRequest("The number of $expand in the query exceeds the maximum of %d.", MaxExpands).At(pos)
		}
		if ref && nav.Kind != model.NavSingle {
			return nil, dverr.New(400, dverr.CodeExpandNotSupported, "Expand with $ref is only supported on lookup type navigation property.").At(pos)
		}
		target, ok := sch.Entity(nav.Target)
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
						return nil, err
					}
					it.Select = sel
				case "$filter":
					it.Filter = v
				case "$orderby":
					it.OrderBy = v
				case "$top":
					n, err := strconv.Atoi(strings.TrimSpace(v))
					if err != nil || n < 0 {
						return nil, dverr.BadRequest("Invalid value '%s' for $top query option found. The $top query option requires a non-negative integer value.", v).At(vpos)
					}
					it.Top = n
				case "$expand":
					sub, err := parseExpand(sch, target, v, vpos, count)
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
		out = append(out, it)
	}
	return out, nil
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
