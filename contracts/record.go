package contracts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/google/go-cmp/cmp"
)

// interestingHeaders are the response headers recording writes down when they are present: the ones
// whose presence and shape Dataverse clients depend on. Other headers are only checked when an
// expectation names them.
var interestingHeaders = []string{"OData-EntityId", "ETag", "Preference-Applied", "Location", "WWW-Authenticate", "Retry-After"}

// minSecretLen is the length below which a configured secret is not searched for in recorded
// values: replacing every "ab" in a file protects nothing.
const minSecretLen = 6

type phase int

const (
	phaseSetup phase = iota
	phaseCase
	phaseTeardown
)

// recording keeps what every step saw during a recording run.
type recording struct {
	setup, teardown []*stepRecord
	cases           [][]*stepRecord
}

// stepRecord is one step's observation and the variables its expectation could refer to.
type stepRecord struct {
	ran  bool
	obs  observation
	vars *vars
}

func newRecording(s *Suite) *recording {
	mk := func(n int) []*stepRecord {
		out := make([]*stepRecord, n)
		for i := range out {
			out[i] = &stepRecord{}
		}
		return out
	}
	rc := &recording{setup: mk(len(s.Setup)), teardown: mk(len(s.Teardown))}
	for _, c := range s.Cases {
		rc.cases = append(rc.cases, mk(len(c.Steps)))
	}
	return rc
}

// stepsFor returns the records of one list of steps; nil when not recording.
func (rc *recording) stepsFor(p phase, i int) []*stepRecord {
	if rc == nil {
		return nil
	}
	switch p {
	case phaseSetup:
		return rc.setup
	case phaseTeardown:
		return rc.teardown
	}
	return rc.cases[i]
}

// Record runs the suite against the target and returns a copy whose expectations are rewritten from
// what the target answered:
//
//   - the status is the observed one;
//   - headers named by the expectation are kept, and OData-EntityId, ETag, Preference-Applied,
//     Location, WWW-Authenticate and Retry-After are added when present;
//   - body values that still match their expectation keep it (matchers, captures, hand edits), every
//     other observed value is written down, and expected keys that are gone are dropped;
//   - written-down strings lose what varies: GUIDs become {{guid}} (or the name of a captured or
//     generated value that holds them), ETags {{etag}}, timestamps {{datetime}}, the target's URLs
//     {{org}} and {{api}};
//   - a GUID the target revealed that a later step's input spells out literally becomes a capture,
//     and the later inputs refer to it by name;
//   - secrets (the client secret, the static token, every access token sent) become {{redacted}};
//     an input that contains one is an error.
//
// Steps run even after a step differs from its expectation; a step that gets no answer at all, or
// whose input cannot be resolved, makes Record fail.
func Record(ctx context.Context, s *Suite, t Target, opts ...Option) (*Suite, error) {
	cn, err := connect(t)
	if err != nil {
		return nil, err
	}
	set := newSettings(opts)
	if err := cn.probe(ctx, set.probeTimeout); err != nil {
		return nil, err
	}
	rec := newRecording(s)
	r := &runner{suite: s, conn: cn, set: set, rec: rec}
	rep, err := r.run(ctx)
	if err != nil {
		return nil, fmt.Errorf("contracts: record %s: %w", s.Name, err)
	}
	var problems []string
	for _, c := range rep.Cases {
		for _, f := range c.Failures {
			problems = append(problems, fmt.Sprintf("%s: %s", c.Name, f))
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("contracts: record %s:\n  %s", s.Name, strings.Join(problems, "\n  "))
	}

	env := recordEnv{org: cn.orgURL, api: cn.apiURL}
	for _, sec := range append(t.secrets(), cn.sniffer.tokens()...) {
		if len(sec) >= minSecretLen {
			env.secrets = append(env.secrets, sec)
		}
	}
	out := *s
	if out.Setup, err = env.recordSteps(s.Setup, rec.setup); err != nil {
		return nil, fmt.Errorf("contracts: record %s setup: %w", s.Name, err)
	}
	if out.Teardown, err = env.recordSteps(s.Teardown, rec.teardown); err != nil {
		return nil, fmt.Errorf("contracts: record %s teardown: %w", s.Name, err)
	}
	out.Cases = make([]Case, len(s.Cases))
	for i, c := range s.Cases {
		if c.Steps, err = env.recordSteps(c.Steps, rec.cases[i]); err != nil {
			return nil, fmt.Errorf("contracts: record %s case %q: %w", s.Name, c.Name, err)
		}
		out.Cases[i] = c
	}
	// The recorded suite must load: a bug here must not produce a file that cannot be replayed.
	b, err := Format(&out)
	if err != nil {
		return nil, err
	}
	if _, err := Parse(b); err != nil {
		return nil, fmt.Errorf("contracts: record %s produced an invalid suite: %w", s.Name, err)
	}
	return &out, nil
}

// recordEnv is what normalisation needs from the target.
type recordEnv struct {
	org, api string
	secrets  []string
}

// site is a whole-string GUID in a recorded body, a candidate for becoming a capture.
type site struct {
	path  []any // keys (string) and indexes (int) inside the body
	value string
}

// recordSteps rewrites the expectations of one list of steps (a case, setup or teardown).
func (env recordEnv) recordSteps(steps []Step, recs []*stepRecord) ([]Step, error) {
	if len(steps) == 0 {
		return nil, nil
	}
	inputs := make([]any, len(steps))
	for i, st := range steps {
		in, err := decodeGeneric(st.Input)
		if err != nil {
			return nil, err
		}
		inputs[i] = in
	}
	used := usedNames(steps, recs)
	type autoCapture struct{ name, value string }
	var autos []autoCapture
	out := make([]Step, len(steps))
	for i, st := range steps {
		sr := recs[i]
		if !sr.ran || sr.vars == nil {
			return nil, fmt.Errorf("step %d (%s) did not run", i+1, st.Action)
		}
		vs := sr.vars.snapshot()
		for _, a := range autos {
			vs.set(a.name, a.value)
		}
		n := env.normalizer(vs)
		exp, sites, err := n.mergeStep(st, sr.obs)
		if err != nil {
			return nil, fmt.Errorf("step %d (%s): %w", i+1, st.Action, err)
		}
		body, _ := decodeGeneric(exp.Body)
		captured := map[string]bool{}
		for _, s := range sites {
			key := strings.ToLower(s.value)
			if captured[key] || mentions(inputs[:i+1], s.value) || !mentions(inputs[i+1:], s.value) {
				continue
			}
			name := captureName(s.path, used)
			if !setAt(body, s.path, "{{capture "+name+"}}") {
				continue
			}
			captured[key] = true
			used[name] = true
			autos = append(autos, autoCapture{name: name, value: key})
			re := regexp.MustCompile(`(?i)` + regexp.QuoteMeta(s.value))
			for k := i + 1; k < len(steps); k++ {
				inputs[k] = replaceStrings(inputs[k], re, "{{"+name+"}}")
			}
		}
		if len(captured) > 0 {
			exp.Body = rawOf(body)
		}
		st.Expect = exp
		out[i] = st
	}
	for i := range out {
		if inputs[i] != nil {
			out[i].Input = rawOf(inputs[i])
		}
		if err := env.checkNoSecrets(out[i]); err != nil {
			return nil, fmt.Errorf("step %d (%s): %w", i+1, out[i].Action, err)
		}
		out[i].Expect = env.redactExpect(out[i].Expect)
	}
	return out, nil
}

// usedNames collects every variable name the steps can see or capture, so that generated capture
// names never collide with them.
func usedNames(steps []Step, recs []*stepRecord) map[string]bool {
	used := map[string]bool{}
	for n := range matcherNames {
		used[n] = true
	}
	for n := range reservedNames {
		used[n] = true
	}
	for _, r := range recs {
		if r.vars != nil {
			for _, n := range r.vars.names() {
				used[n] = true
			}
		}
	}
	capRE := regexp.MustCompile(`\{\{\s*(?:capture|newguid|newkey)\s+([^}\s]+)\s*\}\}`)
	for _, st := range steps {
		for _, raw := range [][]byte{st.Input, st.Expect.Body} {
			for _, m := range capRE.FindAllSubmatch(raw, -1) {
				used[string(m[1])] = true
			}
		}
		for _, v := range st.Expect.Headers {
			for _, m := range capRE.FindAllStringSubmatch(v, -1) {
				used[m[1]] = true
			}
		}
	}
	return used
}

// captureName derives a readable name from the last key of a path (UserId: userid), unique in used.
func captureName(path []any, used map[string]bool) string {
	base := ""
	for i := len(path) - 1; i >= 0 && base == ""; i-- {
		if k, ok := path[i].(string); ok {
			base = k
		}
	}
	base = strings.Trim(strings.ToLower(regexp.MustCompile(`[^A-Za-z0-9_]+`).ReplaceAllString(base, "_")), "_")
	if base == "" || base[0] >= '0' && base[0] <= '9' {
		base = "id" + base
	}
	name := base
	for n := 2; used[name]; n++ {
		name = base + "_" + strconv.Itoa(n)
	}
	return name
}

// mentions reports whether any string in the values contains s (case-insensitively).
func mentions(values []any, s string) bool {
	ls := strings.ToLower(s)
	found := false
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			if strings.Contains(strings.ToLower(x), ls) {
				found = true
			}
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	for _, v := range values {
		walk(v)
	}
	return found
}

func replaceStrings(v any, re *regexp.Regexp, repl string) any {
	switch x := v.(type) {
	case string:
		return re.ReplaceAllLiteralString(x, repl)
	case map[string]any:
		for k, e := range x {
			x[k] = replaceStrings(e, re, repl)
		}
	case []any:
		for i, e := range x {
			x[i] = replaceStrings(e, re, repl)
		}
	}
	return v
}

// setAt replaces the value at path inside tree; false if the path does not lead to a value.
func setAt(tree any, path []any, v any) bool {
	if len(path) == 0 {
		return false
	}
	cur := tree
	for i, step := range path {
		last := i == len(path)-1
		switch k := step.(type) {
		case string:
			m, ok := cur.(map[string]any)
			if !ok {
				return false
			}
			if _, ok := m[k]; !ok {
				return false
			}
			if last {
				m[k] = v
				return true
			}
			cur = m[k]
		case int:
			s, ok := cur.([]any)
			if !ok || k >= len(s) {
				return false
			}
			if last {
				s[k] = v
				return true
			}
			cur = s[k]
		}
	}
	return false
}

// checkNoSecrets refuses a step whose input (or auth) would put a secret into the file.
func (env recordEnv) checkNoSecrets(st Step) error {
	texts := []string{string(st.Input)}
	if st.Auth != nil {
		texts = append(texts, st.Auth.Token)
	}
	for _, c := range st.Cleanup {
		texts = append(texts, c.Key)
	}
	for _, t := range texts {
		for _, sec := range env.secrets {
			if strings.Contains(t, sec) {
				return errors.New("the input contains a secret of the target (a token or the client secret); refusing to write it")
			}
		}
	}
	return nil
}

// redactExpect replaces secrets that survived in kept expectations.
func (env recordEnv) redactExpect(e Expect) Expect {
	if len(env.secrets) == 0 {
		return e
	}
	red := func(s string) string { return redactString(s, env.secrets) }
	if len(e.Headers) > 0 {
		h := make(map[string]string, len(e.Headers))
		for k, v := range e.Headers {
			h[k] = red(v)
		}
		e.Headers = h
	}
	if e.Body != nil {
		body, err := decodeGeneric(e.Body)
		if err == nil {
			e.Body = rawOf(mapStrings(body, red))
		}
	}
	return e
}

// RedactSecrets returns a copy of a decoded JSON value (maps, slices, strings) in which every
// occurrence of a secret in a string is replaced by {{redacted}}, as Record does. Secrets shorter
// than six characters are not searched for.
func RedactSecrets(v any, secrets []string) any {
	var long []string
	for _, s := range secrets {
		if len(s) >= minSecretLen {
			long = append(long, s)
		}
	}
	if len(long) == 0 {
		return v
	}
	return mapStrings(v, func(s string) string { return redactString(s, long) })
}

func redactString(s string, secrets []string) string {
	for _, sec := range secrets {
		s = strings.ReplaceAll(s, sec, "{{redacted}}")
	}
	return s
}

func mapStrings(v any, f func(string) string) any {
	switch x := v.(type) {
	case string:
		return f(x)
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = mapStrings(e, f)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = mapStrings(e, f)
		}
		return s
	}
	return v
}

// normalizer turns observed values into expectations for one step.
type normalizer struct {
	env   recordEnv
	vars  *vars
	embed *regexp.Regexp
	keys  map[string]string // generated non-GUID values ({{newkey}}) to their names
	sites []site
	// generic normalises without names, to recognise recording's own generic output.
	generic *normalizer
}

func (env recordEnv) normalizer(vs *vars) *normalizer {
	n := &normalizer{env: env, vars: vs, keys: map[string]string{}}
	var alts []string
	for _, s := range env.secrets {
		alts = append(alts, regexp.QuoteMeta(s))
	}
	alts = append(alts, regexp.QuoteMeta("{{"))
	if env.api != "" {
		alts = append(alts, regexp.QuoteMeta(env.api))
	}
	if env.org != "" {
		alts = append(alts, regexp.QuoteMeta(env.org))
	}
	var keys []string
	for _, name := range vs.names() {
		v, _ := vs.lookup(name)
		s, ok := v.(string)
		if !ok || !vs.isGenerated(name) || wholeGUID.MatchString(s) {
			continue
		}
		if _, dup := n.keys[s]; !dup {
			n.keys[s] = name
			keys = append(keys, s)
		}
	}
	// Longer values first, so that one generated value inside another cannot split it.
	sort.SliceStable(keys, func(i, j int) bool { return len(keys[i]) > len(keys[j]) })
	for _, k := range keys {
		alts = append(alts, regexp.QuoteMeta(k))
	}
	alts = append(alts, guidRE, dateTimeRE)
	n.embed = regexp.MustCompile(strings.Join(alts, "|"))
	return n
}

// varFor returns the name of a variable holding s: a GUID (any case) or a generated value. Other
// captured values are not substituted: a captured "Contoso" says nothing about every later
// "Contoso".
func (n *normalizer) varFor(s string) string {
	guid := wholeGUID.MatchString(s)
	for _, name := range n.vars.names() {
		if name == varOrg || name == varAPI {
			continue
		}
		v, _ := n.vars.lookup(name)
		vs, ok := v.(string)
		if !ok {
			continue
		}
		if guid && strings.EqualFold(vs, s) {
			return name
		}
		if !guid && n.vars.isGenerated(name) && vs == s {
			return name
		}
	}
	return ""
}

func (n *normalizer) hasSecret(s string) bool {
	for _, sec := range n.env.secrets {
		if strings.Contains(s, sec) {
			return true
		}
	}
	return false
}

// normString turns an observed string into an expectation; path is its place in the body (nil for
// headers), where a whole GUID becomes a capture candidate.
func (n *normalizer) normString(s string, path []any) string {
	if !n.hasSecret(s) {
		if name := n.varFor(s); name != "" {
			return "{{" + name + "}}"
		}
		switch {
		case wholeGUID.MatchString(s):
			if path != nil {
				n.sites = append(n.sites, site{path: path, value: s})
			}
			return "{{guid}}"
		case wholeETag.MatchString(s):
			return "{{etag}}"
		case wholeDateTime.MatchString(s):
			return "{{datetime}}"
		}
	}
	return n.embed.ReplaceAllStringFunc(s, func(m string) string {
		for _, sec := range n.env.secrets {
			if m == sec {
				return "{{redacted}}"
			}
		}
		switch {
		case m == "{{":
			return "{{open}}"
		case m == n.env.api:
			return "{{api}}"
		case m == n.env.org:
			return "{{org}}"
		}
		if name, ok := n.keys[m]; ok {
			return "{{" + name + "}}"
		}
		if wholeGUID.MatchString(m) {
			if name := n.varFor(m); name != "" {
				return "{{" + name + "}}"
			}
			return "{{guid}}"
		}
		return "{{datetime}}"
	})
}

// normalize turns an observed body value into an expectation.
func (n *normalizer) normalize(v any, path []any) any {
	switch x := v.(type) {
	case string:
		return n.normString(x, path)
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = n.normalize(e, extend(path, k))
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = n.normalize(e, extend(path, i))
		}
		return s
	}
	return v
}

func extend(path []any, step any) []any {
	out := make([]any, len(path), len(path)+1)
	copy(out, path)
	return append(out, step)
}

// matches reports whether an expectation value (matcher or literal) accepts the observed value.
func (n *normalizer) matches(want, got any) bool {
	c, err := compileWant(want, n.vars)
	if err != nil {
		return false
	}
	// Wrapped in slices: go-cmp reports values of different types (a matcher and a JSON null) as
	// unequal without asking the matcher's comparer, so {{any}} would never match null here.
	return cmp.Equal([]any{c}, []any{got}, cmpOptions(false))
}

// merge keeps what still holds of an expectation and writes down the rest of the observation.
func (n *normalizer) merge(existing, observed any, path []any) any {
	if isSpecialNode(existing) {
		if n.matches(existing, observed) {
			if n.isGenericForm(existing, observed) {
				// Recording's own generic form ({{guid}} where a name is known now): write the
				// value by name.
				return n.normalize(observed, path)
			}
			return existing
		}
		return n.normalize(observed, path)
	}
	switch e := existing.(type) {
	case map[string]any:
		o, ok := observed.(map[string]any)
		if !ok {
			return n.normalize(observed, path)
		}
		out := make(map[string]any, len(o))
		for k, ev := range e {
			if ov, ok := o[k]; ok {
				out[k] = n.merge(ev, ov, extend(path, k))
			} else if isAbsentText(ev) {
				out[k] = ev
			}
		}
		for k, ov := range o {
			if _, ok := e[k]; !ok {
				out[k] = n.normalize(ov, extend(path, k))
			}
		}
		return out
	case []any:
		o, ok := observed.([]any)
		if !ok || len(o) != len(e) {
			return n.normalize(observed, path)
		}
		out := make([]any, len(e))
		for i := range e {
			out[i] = n.merge(e[i], o[i], extend(path, i))
		}
		return out
	}
	if cmp.Equal(existing, observed) {
		return existing
	}
	return n.normalize(observed, path)
}

// isGenericForm reports whether an expectation string is exactly what recording writes for the
// observed string when it knows no names, so that it can be tightened without losing a hand edit.
func (n *normalizer) isGenericForm(existing, observed any) bool {
	e, ok1 := existing.(string)
	o, ok2 := observed.(string)
	if !ok1 || !ok2 {
		return false
	}
	if n.generic == nil {
		n.generic = n.env.normalizer(newVars(nil))
	}
	return n.generic.normString(o, nil) == e
}

// isAbsentText reports whether an expectation value is "{{absent}}".
func isAbsentText(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	segs, err := parseTemplate(s)
	return err == nil && len(segs) == 1 && segs[0].tok != nil && segs[0].tok.kind == tokMatcher && segs[0].tok.name == mAbsent
}

// mergeStep builds a step's recorded expectation and lists the GUID sites of its body.
func (n *normalizer) mergeStep(st Step, obs observation) (Expect, []site, error) {
	n.sites = nil
	e := Expect{Status: obs.status, Exact: st.Expect.Exact}
	headers := map[string]string{}
	named := map[string]bool{}
	for name, v := range st.Expect.Headers {
		named[strings.ToLower(name)] = true
		got := headerValue(obs.header, name)
		switch {
		case got == "":
			if isAbsentText(v) {
				headers[name] = v
			}
		case v == got || (hasTokens(v) && n.matches(v, got) && !n.isGenericForm(v, got)):
			headers[name] = v
		default:
			headers[name] = n.normString(got, nil)
		}
	}
	for _, name := range interestingHeaders {
		if named[strings.ToLower(name)] {
			continue
		}
		if got := headerValue(obs.header, name); got != "" {
			headers[name] = n.normString(got, nil)
		}
	}
	if len(headers) > 0 {
		e.Headers = headers
	}
	existing, err := decodeGeneric(st.Expect.Body)
	if err != nil {
		return Expect{}, nil, err
	}
	switch {
	case obs.hasBody && st.Expect.Body != nil:
		e.Body = rawOf(n.merge(existing, obs.body, []any{}))
	case obs.hasBody:
		e.Body = rawOf(n.normalize(obs.body, []any{}))
	case st.Expect.Body != nil && isAbsentText(existing):
		e.Body = json.RawMessage(`"{{absent}}"`)
	}
	return e, n.sites, nil
}
