package contracts

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// Template tokens are written {{word}} or {{word name}} inside JSON strings.
//
// In expectations: matchers (any, absent, guid, etag, datetime, string, number, bool, redacted),
// {{capture name}}, and {{name}} references to captured or generated values. In inputs: {{name}}
// references, {{newguid name}} and {{newkey name}}. Everywhere: {{org}} and {{api}} (the target's
// org URL and Web API root) and {{open}}, a literal "{{".

type tokenKind int

const (
	tokVar     tokenKind = iota // {{name}}: a captured, generated or built-in value
	tokMatcher                  // {{guid}} and friends
	tokCapture                  // {{capture name}}
	tokNewGUID                  // {{newguid name}}
	tokNewKey                   // {{newkey name}}
	tokOpen                     // {{open}}: a literal "{{"
)

type token struct {
	kind tokenKind
	name string // matcher kind or variable name
}

func (t token) String() string {
	switch t.kind {
	case tokCapture:
		return "{{capture " + t.name + "}}"
	case tokNewGUID:
		return "{{newguid " + t.name + "}}"
	case tokNewKey:
		return "{{newkey " + t.name + "}}"
	case tokOpen:
		return "{{open}}"
	}
	return "{{" + t.name + "}}"
}

// segment is a piece of a template string: literal text or a token.
type segment struct {
	lit string
	tok *token
}

// Matcher names usable as {{name}}.
const (
	mAny      = "any"
	mAbsent   = "absent"
	mGUID     = "guid"
	mETag     = "etag"
	mDateTime = "datetime"
	mString   = "string"
	mNumber   = "number"
	mBool     = "bool"
	mRedacted = "redacted"
)

var matcherNames = map[string]bool{
	mAny: true, mAbsent: true, mGUID: true, mETag: true, mDateTime: true, mString: true,
	mNumber: true, mBool: true, mRedacted: true,
}

// Built-in variables.
const (
	varOrg = "org"
	varAPI = "api"
)

// reservedNames cannot be captured into.
var reservedNames = map[string]bool{
	varOrg: true, varAPI: true, "open": true, "capture": true, "newguid": true, "newkey": true,
}

var namePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// parseTemplate splits s into literal text and tokens.
func parseTemplate(s string) ([]segment, error) {
	var out []segment
	rest := s
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			if rest != "" {
				out = append(out, segment{lit: rest})
			}
			return out, nil
		}
		if i > 0 {
			out = append(out, segment{lit: rest[:i]})
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			return nil, fmt.Errorf("unclosed {{ in %q (write {{open}} for a literal {{)", s)
		}
		body := strings.Fields(rest[i+2 : i+j])
		rest = rest[i+j+2:]
		t, err := parseToken(body)
		if err != nil {
			return nil, fmt.Errorf("%w in %q", err, s)
		}
		out = append(out, segment{tok: &t})
	}
}

func parseToken(words []string) (token, error) {
	switch len(words) {
	case 1:
		w := words[0]
		switch {
		case w == "open":
			return token{kind: tokOpen}, nil
		case matcherNames[w]:
			return token{kind: tokMatcher, name: w}, nil
		case w == "capture" || w == "newguid" || w == "newkey":
			return token{}, fmt.Errorf("{{%s}} needs a name", w)
		case namePattern.MatchString(w):
			return token{kind: tokVar, name: w}, nil
		}
		return token{}, fmt.Errorf("bad template {{%s}}", w)
	case 2:
		kinds := map[string]tokenKind{"capture": tokCapture, "newguid": tokNewGUID, "newkey": tokNewKey}
		k, ok := kinds[words[0]]
		if !ok {
			return token{}, fmt.Errorf("bad template {{%s}}", strings.Join(words, " "))
		}
		if !namePattern.MatchString(words[1]) || reservedNames[words[1]] || matcherNames[words[1]] {
			return token{}, fmt.Errorf("bad name %q in {{%s}}", words[1], strings.Join(words, " "))
		}
		return token{kind: k, name: words[1]}, nil
	}
	return token{}, fmt.Errorf("bad template {{%s}}", strings.Join(words, " "))
}

// hasTokens reports whether s contains template syntax.
func hasTokens(s string) bool { return strings.Contains(s, "{{") }

// checkTemplates checks every string in v; input says whether v is an input (generators allowed,
// matchers not) or an expectation (the other way round).
func checkTemplates(v any, input bool) error {
	switch x := v.(type) {
	case string:
		segs, err := parseTemplate(x)
		if err != nil {
			return err
		}
		for _, sg := range segs {
			if sg.tok == nil {
				continue
			}
			switch k := sg.tok.kind; {
			case input && (k == tokMatcher || k == tokCapture):
				return fmt.Errorf("%s is a matcher and cannot appear in an input", sg.tok)
			case !input && (k == tokNewGUID || k == tokNewKey):
				return fmt.Errorf("%s generates a value and can only appear in an input", sg.tok)
			case sg.tok.kind == tokMatcher && sg.tok.name == mAbsent && len(segs) > 1:
				return fmt.Errorf("{{absent}} must be the whole value in %q", x)
			}
		}
	case map[string]any:
		if !input {
			if _, err := compileSpecial(x, nil); err != nil && !errors.Is(err, errNotSpecial) {
				return err
			}
		}
		for k, e := range x {
			if input && hasTokens(k) {
				if err := checkTemplates(k, true); err != nil {
					return fmt.Errorf("key %q: %w", k, err)
				}
			}
			if err := checkTemplates(e, input); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
		}
	case []any:
		for i, e := range x {
			if err := checkTemplates(e, input); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
	}
	return nil
}

// containsTemplates reports whether any string in v has template syntax.
func containsTemplates(v any) bool {
	switch x := v.(type) {
	case string:
		return hasTokens(x)
	case map[string]any:
		for _, e := range x {
			if containsTemplates(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if containsTemplates(e) {
				return true
			}
		}
	}
	return false
}

// placeholderInput replaces templates by "0" so that an input can be decoded into its action's
// struct before any value is known.
func placeholderInput(v any) any {
	switch x := v.(type) {
	case string:
		if hasTokens(x) {
			return "0"
		}
		return x
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = placeholderInput(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = placeholderInput(e)
		}
		return s
	}
	return v
}

// vars holds the values templates refer to: built-ins, generated values and captures. Names are
// remembered in definition order, which recording uses to choose between names with equal values.
type vars struct {
	parent *vars
	values map[string]any
	order  []string
	// generated marks names set by {{newguid}} and {{newkey}}.
	generated map[string]bool
}

func newVars(parent *vars) *vars {
	return &vars{parent: parent, values: map[string]any{}, generated: map[string]bool{}}
}

func (v *vars) set(name string, value any) {
	if _, ok := v.values[name]; !ok {
		v.order = append(v.order, name)
	}
	v.values[name] = value
}

// lookup finds name, then treats dots as paths into captured objects and arrays ({{me.UserId}}
// when me holds the WhoAmI body, {{tasks.0.activityid}} when tasks holds a list of rows).
func (v *vars) lookup(name string) (any, bool) {
	for s := v; s != nil; s = s.parent {
		if x, ok := s.values[name]; ok {
			return x, true
		}
	}
	for i := strings.LastIndexByte(name, '.'); i > 0; i = strings.LastIndexByte(name[:i], '.') {
		base, ok := v.lookup(name[:i])
		if !ok {
			continue
		}
		if v, ok := walkPath(base, strings.Split(name[i+1:], ".")); ok {
			return v, true
		}
	}
	return nil, false
}

// walkPath follows object keys and array indexes (tasks.0.activityid) into a captured value.
func walkPath(v any, parts []string) (any, bool) {
	for _, part := range parts {
		switch x := v.(type) {
		case map[string]any:
			e, ok := x[part]
			if !ok {
				return nil, false
			}
			v = e
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// names lists every visible name in definition order, outer scopes first.
func (v *vars) names() []string {
	var out []string
	if v.parent != nil {
		out = v.parent.names()
	}
	return append(out, v.order...)
}

func (v *vars) isGenerated(name string) bool {
	for s := v; s != nil; s = s.parent {
		if _, ok := s.values[name]; ok {
			return s.generated[name]
		}
	}
	return false
}

// snapshot copies the visible variables into a new flat scope.
func (v *vars) snapshot() *vars {
	out := newVars(nil)
	var fill func(s *vars)
	fill = func(s *vars) {
		if s.parent != nil {
			fill(s.parent)
		}
		for _, n := range s.order {
			out.set(n, s.values[n])
			if s.generated[n] {
				out.generated[n] = true
			}
		}
	}
	fill(v)
	return out
}

// resolveInput replaces templates in an input value. A string that is exactly one {{name}} takes the
// variable's value with its type; templates inside longer strings are replaced by text.
func resolveInput(v any, vs *vars) (any, error) {
	switch x := v.(type) {
	case string:
		if !hasTokens(x) {
			return x, nil
		}
		segs, err := parseTemplate(x)
		if err != nil {
			return nil, err
		}
		if len(segs) == 1 && segs[0].tok != nil && segs[0].tok.kind != tokOpen {
			return tokenValue(*segs[0].tok, vs)
		}
		var b strings.Builder
		for _, sg := range segs {
			if sg.tok == nil {
				b.WriteString(sg.lit)
				continue
			}
			if sg.tok.kind == tokOpen {
				b.WriteString("{{")
				continue
			}
			val, err := tokenValue(*sg.tok, vs)
			if err != nil {
				return nil, err
			}
			b.WriteString(textOf(val))
		}
		return b.String(), nil
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			r, err := resolveInput(e, vs)
			if err != nil {
				return nil, err
			}
			key, err := resolveKey(k, vs)
			if err != nil {
				return nil, err
			}
			if _, dup := m[key]; dup {
				return nil, fmt.Errorf("two keys of an object become %q", key)
			}
			m[key] = r
		}
		return m, nil
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			r, err := resolveInput(e, vs)
			if err != nil {
				return nil, err
			}
			s[i] = r
		}
		return s, nil
	}
	return v, nil
}

// resolveKey replaces the templates in an input object's key by text, so that a row can name a
// column whose name was generated: {"new_ct{{newkey col}}": "x"}.
func resolveKey(k string, vs *vars) (string, error) {
	if !hasTokens(k) {
		return k, nil
	}
	v, err := resolveInput(k, vs)
	if err != nil {
		return "", fmt.Errorf("key %q: %w", k, err)
	}
	return textOf(v), nil
}

func tokenValue(t token, vs *vars) (any, error) {
	switch t.kind {
	case tokVar:
		val, ok := vs.lookup(t.name)
		if !ok {
			return nil, fmt.Errorf("{{%s}} is not set (no earlier step captured it)", t.name)
		}
		return val, nil
	case tokNewGUID, tokNewKey:
		if val, ok := vs.lookup(t.name); ok {
			return val, nil
		}
		val := newGUID()
		if t.kind == tokNewKey {
			val = newKey()
		}
		vs.set(t.name, val)
		vs.generated[t.name] = true
		return val, nil
	}
	return nil, fmt.Errorf("%s cannot appear in an input", t)
}

// textOf renders a value inside a longer string: strings and numbers as they are, anything else as
// JSON.
func textOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case nil:
		return "null"
	}
	b, err := encodeJSON(v, false)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// newGUID returns a random version 4 GUID in lower case.
func newGUID() string { return uuid.NewString() }

// newKey returns ten random lower-case letters and digits, short enough for alternate key columns
// such as accountnumber (20 characters).
func newKey() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b [10]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "k" + string(b[1:])
}
