package contracts

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/google/go-cmp/cmp"
)

// An expectation is compiled into a "want" tree: plain JSON values (maps, slices, strings,
// json.Number, bools, nil) where literals are expected as they are, plus the matcher nodes below.
// go-cmp compares it with the observed tree; a Comparer decides matcher nodes and a path filter
// implements subset matching and {{absent}}.

// matcher is a string matcher: a whole-value {{kind}}, a {{capture name}}, a pattern built from a
// string with tokens inside it, or a $regex.
type matcher struct {
	kind string // a matcher name, "capture", "pattern", "regex" or "guidEq" (a GUID-valued reference)
	src  string // the text as written, for reports
	re   *regexp.Regexp
	// captures are the names bound by the groups of re, in order (pattern only).
	captures []string
	name     string // capture name, or the GUID of guidEq
}

// approx is {"$approx": value, "tolerance": t}.
type approx struct {
	value, tolerance float64
	src              string
}

// unordered is {"$unordered": [...]}: the same elements in any order; or, with subset set,
// {"$contains": [...]}: an array holding a distinct match for each element, in any order, beside
// any number of others.
type unordered struct {
	elems  []any
	subset bool
	src    string
}

var (
	guidRE     = `[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}`
	etagRE     = `W/"[^"]*"`
	dateTimeRE = `\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})`
	numberRE   = `-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?`

	wholeGUID     = regexp.MustCompile(`^` + guidRE + `$`)
	wholeETag     = regexp.MustCompile(`^` + etagRE + `$`)
	wholeDateTime = regexp.MustCompile(`^` + dateTimeRE + `$`)
)

// tokenPattern is the regular expression a matcher token stands for inside a longer string.
func tokenPattern(kind string) string {
	switch kind {
	case mGUID:
		return guidRE
	case mETag:
		return etagRE
	case mDateTime:
		return dateTimeRE
	case mNumber:
		return numberRE
	case mBool:
		return `(?:true|false)`
	}
	return `(?s:.*)`
}

var errNotSpecial = errors.New("not a special object")

// compileSpecial compiles {"$approx": ...}, {"$unordered": [...]}, {"$contains": [...]} and
// {"$regex": "..."}; other objects give errNotSpecial. vs may be nil when only checking syntax.
func compileSpecial(m map[string]any, vs *vars) (any, error) {
	var special string
	for k := range m {
		if strings.HasPrefix(k, "$") {
			special = k
			break
		}
	}
	if special == "" {
		return nil, errNotSpecial
	}
	src := string(rawOf(m))
	switch special {
	case "$approx":
		tol, hasTol := m["tolerance"]
		if len(m) != 2 || !hasTol {
			return nil, fmt.Errorf(`$approx needs exactly "$approx" and "tolerance": %s`, src)
		}
		v, err1 := toFloat(m["$approx"])
		t, err2 := toFloat(tol)
		if err1 != nil || err2 != nil || t < 0 {
			return nil, fmt.Errorf("$approx and tolerance must be numbers, tolerance not negative: %s", src)
		}
		return &approx{value: v, tolerance: t, src: src}, nil
	case "$unordered", "$contains":
		list, ok := m[special].([]any)
		if len(m) != 1 || !ok {
			return nil, fmt.Errorf("%s takes an array and nothing else: %s", special, src)
		}
		subset := special == "$contains"
		if vs == nil {
			return &unordered{subset: subset, src: src}, nil
		}
		elems := make([]any, len(list))
		for i, e := range list {
			c, err := compileWant(e, vs)
			if err != nil {
				return nil, err
			}
			elems[i] = c
		}
		return &unordered{elems: elems, subset: subset, src: src}, nil
	case "$regex":
		p, ok := m["$regex"].(string)
		if len(m) != 1 || !ok {
			return nil, fmt.Errorf("$regex takes a string and nothing else: %s", src)
		}
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("$regex: %w", err)
		}
		return &matcher{kind: "regex", re: re, src: src}, nil
	}
	return nil, fmt.Errorf("unknown matcher %s (want $approx, $unordered, $contains or $regex; a literal key starting with $ cannot be expected)", special)
}

func toFloat(v any) (float64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("not a number: %v", v)
	}
	return n.Float64()
}

// isSpecialNode reports whether an expectation value is a matcher rather than a literal: a string
// with tokens or a $ object. Recording keeps such values when they still match.
func isSpecialNode(v any) bool {
	switch x := v.(type) {
	case string:
		return hasTokens(x)
	case map[string]any:
		_, err := compileSpecial(x, nil)
		return !errors.Is(err, errNotSpecial)
	}
	return false
}

// compileWant turns an expectation into a want tree, resolving {{name}} references with vs.
func compileWant(v any, vs *vars) (any, error) {
	switch x := v.(type) {
	case string:
		if !hasTokens(x) {
			return x, nil
		}
		return compileString(x, vs)
	case map[string]any:
		if c, err := compileSpecial(x, vs); !errors.Is(err, errNotSpecial) {
			return c, err
		}
		m := make(map[string]any, len(x))
		for k, e := range x {
			c, err := compileWant(e, vs)
			if err != nil {
				return nil, err
			}
			m[k] = c
		}
		return m, nil
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			c, err := compileWant(e, vs)
			if err != nil {
				return nil, err
			}
			s[i] = c
		}
		return s, nil
	}
	return v, nil
}

func compileString(s string, vs *vars) (any, error) {
	segs, err := parseTemplate(s)
	if err != nil {
		return nil, err
	}
	if len(segs) == 1 && segs[0].tok != nil {
		t := *segs[0].tok
		switch t.kind {
		case tokMatcher:
			return &matcher{kind: t.name, src: s}, nil
		case tokCapture:
			return &matcher{kind: "capture", name: t.name, src: s}, nil
		case tokVar:
			val, ok := vs.lookup(t.name)
			if !ok {
				return nil, fmt.Errorf("{{%s}} is not set (no earlier step captured it)", t.name)
			}
			if g, ok := val.(string); ok && wholeGUID.MatchString(g) {
				// GUIDs compare without regard to case, as Dataverse treats them.
				return &matcher{kind: "guidEq", name: g, src: strconv.Quote(g)}, nil
			}
			return deepCopy(val), nil
		case tokOpen:
			return "{{", nil
		}
	}
	var b strings.Builder
	var captures []string
	b.WriteString("^")
	for _, sg := range segs {
		if sg.tok == nil {
			b.WriteString(regexp.QuoteMeta(sg.lit))
			continue
		}
		switch t := *sg.tok; t.kind {
		case tokOpen:
			b.WriteString(regexp.QuoteMeta("{{"))
		case tokMatcher:
			b.WriteString("(?:" + tokenPattern(t.name) + ")")
		case tokCapture:
			b.WriteString("((?s:.*?))")
			captures = append(captures, t.name)
		case tokVar:
			val, ok := vs.lookup(t.name)
			if !ok {
				return nil, fmt.Errorf("{{%s}} is not set (no earlier step captured it)", t.name)
			}
			text := regexp.QuoteMeta(textOf(val))
			if wholeGUID.MatchString(textOf(val)) {
				text = "(?i:" + text + ")"
			}
			b.WriteString(text)
		default:
			return nil, fmt.Errorf("%s cannot appear in an expectation", t)
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %w", s, err)
	}
	return &matcher{kind: "pattern", re: re, captures: captures, src: s}, nil
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}

func isSpecial(v any) bool {
	switch v.(type) {
	case *matcher, *approx, *unordered:
		return true
	}
	return false
}

func isAbsentMatcher(v any) bool {
	m, ok := v.(*matcher)
	return ok && m.kind == mAbsent
}

// matchSpecial decides a matcher node against an observed value. It is symmetric, as go-cmp wants.
func matchSpecial(x, y any, opts cmp.Options) bool {
	if isSpecial(x) && isSpecial(y) {
		return x == y
	}
	if isSpecial(y) {
		x, y = y, x
	}
	switch m := x.(type) {
	case *approx:
		f, err := toFloat(y)
		return err == nil && math.Abs(f-m.value) <= m.tolerance
	case *unordered:
		got, ok := y.([]any)
		if !ok || len(got) < len(m.elems) || (!m.subset && len(got) != len(m.elems)) {
			return false
		}
		return matchUnordered(m.elems, got, opts)
	case *matcher:
		s, isString := y.(string)
		switch m.kind {
		case mAny, mRedacted, "capture":
			return true
		case mAbsent:
			return false
		case mString:
			return isString
		case mNumber:
			_, ok := y.(json.Number)
			return ok
		case mBool:
			_, ok := y.(bool)
			return ok
		case mGUID:
			return isString && wholeGUID.MatchString(s)
		case mETag:
			return isString && wholeETag.MatchString(s)
		case mDateTime:
			return isString && wholeDateTime.MatchString(s)
		case "pattern", "regex":
			return isString && m.re.MatchString(s)
		case "guidEq":
			return isString && strings.EqualFold(s, m.name)
		}
	}
	return false
}

// matchUnordered pairs every wanted element with a distinct observed one (bipartite matching with
// augmenting paths, so that a loose element earlier in the list cannot steal the only partner of a
// strict one).
func matchUnordered(want, got []any, opts cmp.Options) bool {
	ok := make([][]bool, len(want))
	for i, w := range want {
		ok[i] = make([]bool, len(got))
		for j, g := range got {
			ok[i][j] = cmp.Equal(w, g, opts)
		}
	}
	owner := make([]int, len(got))
	for j := range owner {
		owner[j] = -1
	}
	var try func(i int, seen []bool) bool
	try = func(i int, seen []bool) bool {
		for j := range got {
			if !ok[i][j] || seen[j] {
				continue
			}
			seen[j] = true
			if owner[j] < 0 || try(owner[j], seen) {
				owner[j] = i
				return true
			}
		}
		return false
	}
	for i := range want {
		if !try(i, make([]bool, len(got))) {
			return false
		}
	}
	return true
}

// cmpOptions builds the go-cmp options for one comparison. exact makes extra observed map keys a
// difference; otherwise the expectation is a subset.
func cmpOptions(exact bool) cmp.Options {
	var opts cmp.Options
	opts = cmp.Options{
		cmp.FilterValues(func(x, y any) bool { return isSpecial(x) || isSpecial(y) },
			cmp.Comparer(func(x, y any) bool { return matchSpecial(x, y, opts) })),
		cmp.FilterPath(func(p cmp.Path) bool {
			mi, ok := p.Last().(cmp.MapIndex)
			if !ok {
				return false
			}
			want, got := mi.Values()
			switch {
			case want.IsValid() && !got.IsValid():
				return isAbsentMatcher(want.Interface())
			case !want.IsValid() && got.IsValid():
				return !exact
			}
			return false
		}, cmp.Ignore()),
	}
	return opts
}

// Difference is one place where the observed answer differs from the expectation.
type Difference struct {
	// Path locates the value, such as "status", "headers.ETag" or "body.error.code".
	Path string
	// Want and Got render the expected and observed values ("(absent)" for a missing key).
	Want, Got string
}

func (d Difference) String() string {
	return fmt.Sprintf("%s: want %s, got %s", d.Path, d.Want, d.Got)
}

// compare runs go-cmp over want and got and lists the differences, in path order.
func compare(want, got map[string]any, exact bool) []Difference {
	var r diffReporter
	cmp.Equal(want, got, cmpOptions(exact), cmp.Reporter(&r))
	sort.SliceStable(r.diffs, func(i, j int) bool { return pathOrder(r.diffs[i].Path) < pathOrder(r.diffs[j].Path) })
	return r.diffs
}

// pathOrder puts status first, then headers, then body.
func pathOrder(p string) int {
	switch {
	case p == "status":
		return 0
	case strings.HasPrefix(p, "headers"):
		return 1
	}
	return 2
}

// diffReporter collects go-cmp's unequal leaves with readable paths.
type diffReporter struct {
	path  cmp.Path
	diffs []Difference
}

func (r *diffReporter) PushStep(ps cmp.PathStep) { r.path = append(r.path, ps) }
func (r *diffReporter) PopStep()                 { r.path = r.path[:len(r.path)-1] }

func (r *diffReporter) Report(rs cmp.Result) {
	if rs.Equal() {
		return
	}
	want, got := r.path.Last().Values()
	r.diffs = append(r.diffs, Difference{Path: renderPath(r.path), Want: renderValue(want), Got: renderValue(got)})
}

var plainKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// renderPath writes a go-cmp path as body.error.code, body.value[2].name or body["@odata.etag"].
func renderPath(p cmp.Path) string {
	var b strings.Builder
	for _, step := range p {
		switch s := step.(type) {
		case cmp.MapIndex:
			k := fmt.Sprint(s.Key().Interface())
			switch {
			case b.Len() == 0:
				b.WriteString(k)
			case plainKey.MatchString(k):
				b.WriteString("." + k)
			default:
				b.WriteString("[" + strconv.Quote(k) + "]")
			}
		case cmp.SliceIndex:
			i := s.Key()
			if i < 0 {
				ix, iy := s.SplitKeys()
				i = max(ix, iy)
			}
			fmt.Fprintf(&b, "[%d]", i)
		}
	}
	return b.String()
}

// renderValue shows an expected or observed value: matchers as written, JSON otherwise.
func renderValue(v reflect.Value) string {
	if !v.IsValid() {
		return "(absent)"
	}
	x := v.Interface()
	if m, ok := x.(*matcher); ok {
		return m.src
	}
	b, err := encodeJSON(displayValue(x), false)
	if err != nil {
		return fmt.Sprint(x)
	}
	const max = 400
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}

// displayValue turns matcher nodes back into what the suite says, for reports.
func displayValue(v any) any {
	switch x := v.(type) {
	case *matcher:
		return x.src
	case *approx:
		d, _ := decodeGeneric([]byte(x.src))
		return d
	case *unordered:
		d, _ := decodeGeneric([]byte(x.src))
		return d
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = displayValue(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = displayValue(e)
		}
		return s
	}
	return v
}

// bindCaptures walks the compiled expectation beside the observed value and binds every capture
// whose value is there. Captures inside $unordered are not bound: which element matched is not
// known.
func bindCaptures(want, got any, bind func(name string, v any)) {
	switch w := want.(type) {
	case *matcher:
		switch w.kind {
		case "capture":
			bind(w.name, got)
		case "pattern":
			s, ok := got.(string)
			if !ok || len(w.captures) == 0 {
				return
			}
			if m := w.re.FindStringSubmatch(s); m != nil {
				for i, name := range w.captures {
					bind(name, m[i+1])
				}
			}
		}
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return
		}
		for k, e := range w {
			if gv, ok := g[k]; ok {
				bindCaptures(e, gv, bind)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			return
		}
		for i := 0; i < len(w) && i < len(g); i++ {
			bindCaptures(w[i], g[i], bind)
		}
	}
}
