package odata

import (
	"strings"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
)

// LiteralKind is the syntactic kind of a literal in a key or function parameter.
type LiteralKind int

// Literal kinds.
const (
	LitString LiteralKind = iota
	LitNumber
	LitGUID
	LitBool
	LitNull
	LitAlias // a parameter alias such as @p1
)

// Literal is a literal value as written in the URL. Text holds the unquoted, unescaped value.
type Literal struct {
	Kind LiteralKind
	Text string
}

// KeyValue is one name=value pair of an alternate key.
type KeyValue struct {
	Name  string
	Value Literal
}

// Key is the parenthesised part of a path segment: a single value (usually a primary key GUID) or
// name=value pairs (an alternate key).
type Key struct {
	Single *Literal
	Pairs  []KeyValue
}

// Segment is one path segment: a name, optionally followed by a parenthesised key or parameter
// list. Parens is the raw text between the parentheses when the segment had them.
type Segment struct {
	Name      string
	HasParens bool
	Parens    string
	// Pos is the offset of the segment in the path.
	Pos int
}

// SplitPath splits a resource path (without the service root and query string) into segments.
// Slashes inside parentheses or quoted strings do not split.
func SplitPath(path string) ([]Segment, error) {
	var segs []Segment
	i := 0
	for i < len(path) {
		start := i
		for i < len(path) && path[i] != '/' && path[i] != '(' {
			i++
		}
		seg := Segment{Name: path[start:i], Pos: start}
		if i < len(path) && path[i] == '(' {
			open := i
			depth := 0
			inStr := false
			for ; i < len(path); i++ {
				c := path[i]
				if inStr {
					if c == '\'' {
						if i+1 < len(path) && path[i+1] == '\'' {
							i++
							continue
						}
						inStr = false
					}
					continue
				}
				if c == '\'' {
					inStr = true
				} else if c == '(' {
					depth++
				} else if c == ')' {
					depth--
					if depth == 0 {
						break
					}
				}
			}
			if i >= len(path) {
				return nil, dverr.BadRequest("Bad Request - Error in query syntax.").At(open)
			}
			seg.HasParens = true
			seg.Parens = path[open+1 : i]
			i++
			if i < len(path) && path[i] != '/' {
				return nil, dverr.BadRequest("Bad Request - Error in query syntax.").At(i)
			}
		}
		if seg.Name == "" && !seg.HasParens {
			if i < len(path) { // empty segment ("a//b")
				return nil, dverr.BadRequest("Bad Request - Error in query syntax.").At(i)
			}
		}
		segs = append(segs, seg)
		if i < len(path) && path[i] == '/' {
			i++
			if i == len(path) { // trailing slash
				break
			}
		}
	}
	return segs, nil
}

// ParseKey parses the text between the parentheses of an entity key: a single literal such as a
// GUID, or comma-separated name=literal pairs.
func ParseKey(s string) (*Key, error) {
	p := &lexer{src: s}
	p.skipSpace()
	if p.eof() {
		return nil, dverr.BadRequest("Bad Request - Error in query syntax.").At(0)
	}
	// name=value pairs start with an identifier followed by '='.
	save := p.pos
	if name := p.ident(); name != "" {
		p.skipSpace()
		if p.peek() == '=' {
			p.pos = save
			return parsePairs(p)
		}
	}
	p.pos = save
	lit, err := p.literal()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if !p.eof() {
		return nil, dverr.BadRequest("Bad Request - Error in query syntax.").At(p.pos)
	}
	return &Key{Single: &lit}, nil
}

func parsePairs(p *lexer) (*Key, error) {
	k := &Key{}
	seen := map[string]bool{}
	for {
		p.skipSpace()
		start := p.pos
		name := p.ident()
		if name == "" {
			return nil, dverr.BadRequest("Bad Request - Error in query syntax.").At(p.pos)
		}
		if seen[name] {
			return nil, dverr.BadRequest("Bad Request - Error in query syntax.").At(start)
		}
		seen[name] = true
		p.skipSpace()
		if p.peek() != '=' {
			return nil, dverr.BadRequest("Bad Request - Error in query syntax.").At(p.pos)
		}
		p.pos++
		p.skipSpace()
		lit, err := p.literal()
		if err != nil {
			return nil, err
		}
		k.Pairs = append(k.Pairs, KeyValue{Name: name, Value: lit})
		p.skipSpace()
		if p.eof() {
			return k, nil
		}
		if p.peek() != ',' {
			return nil, dverr.BadRequest("Bad Request - Error in query syntax.").At(p.pos)
		}
		p.pos++
	}
}

// lexer is a small hand-written scanner shared by the path and query parsers.
type lexer struct {
	src string
	pos int
}

func (p *lexer) eof() bool { return p.pos >= len(p.src) }

func (p *lexer) peek() byte {
	if p.eof() {
		return 0
	}
	return p.src[p.pos]
}

func (p *lexer) skipSpace() {
	for !p.eof() && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isIdentPart(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

// ident scans an identifier (letters, digits, underscores; not starting with a digit).
func (p *lexer) ident() string {
	start := p.pos
	if p.eof() || !isIdentStart(p.src[p.pos]) {
		return ""
	}
	for !p.eof() && isIdentPart(p.src[p.pos]) {
		p.pos++
	}
	return p.src[start:p.pos]
}

// literal scans a literal: 'string' (with ” escaping a quote), GUID, number, true, false, null or
// a parameter alias @name.
func (p *lexer) literal() (Literal, error) {
	start := p.pos
	if p.eof() {
		return Literal{}, dverr.BadRequest("Bad Request - Error in query syntax.").At(p.pos)
	}
	c := p.src[p.pos]
	switch {
	case c == '\'':
		var b strings.Builder
		p.pos++
		for {
			if p.eof() {
				return Literal{}, dverr.BadRequest("There is an unterminated literal at position %d in '%s'.", start, p.src).At(start)
			}
			ch := p.src[p.pos]
			p.pos++
			if ch == '\'' {
				if !p.eof() && p.src[p.pos] == '\'' {
					b.WriteByte('\'')
					p.pos++
					continue
				}
				return Literal{Kind: LitString, Text: b.String()}, nil
			}
			b.WriteByte(ch)
		}
	case c == '@':
		p.pos++
		name := p.ident()
		if name == "" {
			return Literal{}, dverr.BadRequest("Bad Request - Error in query syntax.").At(start)
		}
		return Literal{Kind: LitAlias, Text: "@" + name}, nil
	}
	// A GUID is 36 characters of hex digits and dashes in 8-4-4-4-12 form.
	if len(p.src)-p.pos >= 36 && model.IsGUID(p.src[p.pos:p.pos+36]) && (len(p.src)-p.pos == 36 || !isIdentPart(p.src[p.pos+36]) && p.src[p.pos+36] != '-') {
		lit := Literal{Kind: LitGUID, Text: strings.ToLower(p.src[p.pos : p.pos+36])}
		p.pos += 36
		return lit, nil
	}
	if c == '-' || c == '+' || c == '.' || c >= '0' && c <= '9' {
		p.pos++
		for !p.eof() {
			ch := p.src[p.pos]
			if ch >= '0' && ch <= '9' || ch == '.' || ch == 'e' || ch == 'E' || ((ch == '-' || ch == '+') && (p.src[p.pos-1] == 'e' || p.src[p.pos-1] == 'E')) {
				p.pos++
				continue
			}
			break
		}
		// Dataverse accepts type suffixes on numbers (1M, 2L, 1.5d, 1.5f).
		if !p.eof() && strings.IndexByte("mMlLdDfF", p.src[p.pos]) >= 0 {
			p.pos++
		}
		text := p.src[start:p.pos]
		if !validNumber(strings.TrimRight(text, "mMlLdDfF")) {
			return Literal{}, dverr.BadRequest("Bad Request - Error in query syntax.").At(start)
		}
		return Literal{Kind: LitNumber, Text: strings.TrimRight(text, "mMlLdDfF")}, nil
	}
	if id := p.ident(); id != "" {
		switch id {
		case "true", "false":
			return Literal{Kind: LitBool, Text: id}, nil
		case "null":
			return Literal{Kind: LitNull}, nil
		}
		return Literal{}, dverr.BadRequest("Bad Request - Error in query syntax.").At(start)
	}
	return Literal{}, dverr.BadRequest("Bad Request - Error in query syntax.").At(start)
}

func validNumber(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '-' || s[0] == '+' {
		s = s[1:]
	}
	digits, dot, exp := 0, false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot && !exp:
			dot = true
		case (c == 'e' || c == 'E') && !exp && digits > 0:
			exp = true
			digits = 0
			if i+1 < len(s) && (s[i+1] == '-' || s[i+1] == '+') {
				i++
			}
		default:
			return false
		}
	}
	return digits > 0
}

// ResourceKind tells what a resource path addresses.
type ResourceKind int

// Resource kinds.
const (
	// KindEntitySet is a whole table: accounts.
	KindEntitySet ResourceKind = iota
	// KindEntity is one row: accounts(<id>) or accounts(accountnumber='A1').
	KindEntity
	// KindProperty is one column of a row: accounts(<id>)/name.
	KindProperty
	// KindNavigation is a navigation property of a row: accounts(<id>)/primarycontactid or
	// accounts(<id>)/contact_customer_accounts.
	KindNavigation
	// KindOperation is a function or action: WhoAmI, WhoAmI().
	KindOperation
)

// Resource is a resolved resource path.
type Resource struct {
	Kind   ResourceKind
	Entity *model.Entity // the table addressed (for KindNavigation, the row's table)
	Key    *Key
	// Property is the column for KindProperty.
	Property *model.Attribute
	// Nav is the navigation property for KindNavigation; NavKey its optional key
	// (contact_customer_accounts(<id>)/$ref).
	Nav    *model.Nav
	NavKey *Key
	// Ref is set when the path ends in /$ref; Count when it ends in /$count; Value when a
	// property is followed by /$value (its raw value, as file and image columns are downloaded).
	Ref   bool
	Count bool
	Value bool
	// Operation names a function or action; Params is the raw text between its parentheses.
	Operation string
	Params    string
	HasParens bool
	// Bound is true for an operation bound to Entity (and Key, when given).
	Bound bool
}

// ResolvePath resolves segments against the schema. isOperation reports whether a name is a
// function or action the caller serves; unknown names get Dataverse's 404.
func ResolvePath(sch *model.Schema, segs []Segment, isOperation func(string) bool) (*Resource, error) {
	if len(segs) == 0 {
		return nil, dverr.ResourceNotFound("")
	}
	first := segs[0]
	e, ok := sch.EntityBySet(first.Name)
	if !ok {
		if isOperation != nil && isOperation(first.Name) && len(segs) == 1 {
			return &Resource{Kind: KindOperation, Operation: first.Name, Params: first.Parens, HasParens: first.HasParens}, nil
		}
		nf := dverr.ResourceNotFound(first.Name)
		if hint := suggestSet(sch, first.Name); hint != "" {
			// Dataverse's message, then the fix: most often a table's logical name where its
			// entity set name belongs ("account" for "accounts"), or a typo.
			nf.Message += " Did you mean '" + hint + "'?"
		}
		return nil, nf
	}
	r := &Resource{Kind: KindEntitySet, Entity: e}
	if first.HasParens {
		k, err := ParseKey(first.Parens)
		if err != nil {
			return nil, err
		}
		if err := CheckKeyNames(e, k); err != nil {
			return nil, err
		}
		r.Kind = KindEntity
		r.Key = k
	}
	rest := segs[1:]
	for i := 0; i < len(rest); i++ {
		s := rest[i]
		switch {
		case s.Name == "$ref" && !s.HasParens:
			if r.Kind != KindNavigation || i != len(rest)-1 {
				return nil, dverr.BadRequest("The request URI is not valid. The segment '$ref' must be the last segment in the URI and it must follow a navigation property.")
			}
			r.Ref = true
			return r, nil
		case s.Name == "$count" && !s.HasParens:
			if i != len(rest)-1 || (r.Kind != KindEntitySet && !(r.Kind == KindNavigation && r.Nav.Kind != model.NavSingle)) {
				return nil, dverr.BadRequest("The request URI is not valid. The segment '$count' must be the last segment in the URI and it must follow a collection.")
			}
			r.Count = true
			return r, nil
		}
		if r.Kind != KindEntity {
			if r.Kind == KindEntitySet && strings.HasPrefix(s.Name, "Microsoft.Dynamics.CRM.") && i == len(rest)-1 {
				r.Kind, r.Operation, r.Params, r.HasParens, r.Bound = KindOperation, s.Name, s.Parens, s.HasParens, true
				return r, nil
			}
			return nil, dverr.ResourceNotFound(s.Name)
		}
		if strings.HasPrefix(s.Name, "Microsoft.Dynamics.CRM.") && i == len(rest)-1 {
			r.Kind, r.Operation, r.Params, r.HasParens, r.Bound = KindOperation, s.Name, s.Parens, s.HasParens, true
			return r, nil
		}
		// A lookup's logical name is its navigation property on the wire; the column itself is
		// addressed as _name_value.
		if a, ok := e.Attribute(s.Name); ok && !s.HasParens && !a.IsLookup() {
			if i == len(rest)-2 && rest[i+1].Name == "$value" && !rest[i+1].HasParens {
				r.Kind, r.Property, r.Value = KindProperty, a, true
				return r, nil
			}
			if i != len(rest)-1 {
				return nil, dverr.ResourceNotFound(rest[i+1].Name)
			}
			r.Kind, r.Property = KindProperty, a
			return r, nil
		}
		if n, ok := e.Nav(s.Name); ok {
			r.Kind, r.Nav = KindNavigation, n
			if s.HasParens {
				if n.Kind == model.NavSingle {
					return nil, dverr.BadRequest("Bad Request - Error in query syntax.").At(s.Pos)
				}
				k, err := ParseKey(s.Parens)
				if err != nil {
					return nil, err
				}
				r.NavKey = k
			}
			continue
		}
		if _, ok := e.Attribute(strings.TrimSuffix(strings.TrimPrefix(s.Name, "_"), "_value")); ok && strings.HasPrefix(s.Name, "_") && strings.HasSuffix(s.Name, "_value") && !s.HasParens && i == len(rest)-1 {
			a, _ := e.Attribute(strings.TrimSuffix(strings.TrimPrefix(s.Name, "_"), "_value"))
			r.Kind, r.Property = KindProperty, a
			return r, nil
		}
		return nil, dverr.ResourceNotFound(s.Name)
	}
	return r, nil
}

// suggestSet names the entity set an unknown first segment was probably meant to be: the set of
// a table whose logical name it is, or the one set within two edits of it. A name that differs
// from a set only in case gets no hint (Dataverse's names are case sensitive, and its message
// for "Accounts" is kept as it is).
func suggestSet(sch *model.Schema, name string) string {
	if name == "" || strings.ContainsAny(name, "()$") {
		return ""
	}
	if e, ok := sch.Entity(name); ok {
		return e.EntitySetName
	}
	best, bestDist, ties := "", 3, 0
	for _, e := range sch.Entities() {
		set := e.EntitySetName
		if strings.EqualFold(set, name) {
			return ""
		}
		switch d := editDistance(name, set); {
		case d < bestDist:
			best, bestDist, ties = set, d, 0
		case d == bestDist:
			ties++
		}
	}
	if ties > 0 {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, capped at 3 for speed.
func editDistance(a, b string) int {
	if d := len(a) - len(b); d > 2 || d < -2 {
		return 3
	}
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return min(prev[len(b)], 3)
}
