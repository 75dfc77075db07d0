package contracts

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/dynlocal/dynlocal/client"
)

// Target is where suites run: an org URL and a connection. Give client credentials (TokenURL,
// ClientID, ClientSecret and optionally Scope) or a static Token; HTTPClient, when set, carries the
// requests (an in-process transport, a proxy, custom TLS).
type Target struct {
	// URL is the org root, such as https://org.crm.dynamics.com or http://127.0.0.1:8080.
	URL string
	// TokenURL, ClientID and ClientSecret are the client-credentials grant's endpoint and app.
	TokenURL, ClientID, ClientSecret string
	// Scope defaults to <URL>/.default.
	Scope string
	// Token is a bearer token used as it is (never refreshed).
	Token string
	// HTTPClient defaults to a client with short connect and TLS handshake timeouts.
	HTTPClient *http.Client
}

// secrets lists the values that must never reach a recorded file.
func (t Target) secrets() []string {
	var out []string
	for _, s := range []string{t.ClientSecret, t.Token} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Option adjusts Run and Record.
type Option func(*settings)

type settings struct {
	parallel     int
	probeTimeout time.Duration
	stepTimeout  time.Duration
}

func newSettings(opts []Option) settings {
	s := settings{parallel: 4, probeTimeout: 10 * time.Second, stepTimeout: 60 * time.Second}
	for _, o := range opts {
		if o != nil {
			o(&s)
		}
	}
	if s.parallel < 1 {
		s.parallel = 1
	}
	return s
}

// Parallel bounds how many cases of a parallel suite run at once (default 4).
func Parallel(n int) Option { return func(s *settings) { s.parallel = n } }

// ProbeTimeout bounds the first request, which checks that the target answers and accepts the
// credentials (default 10 s).
func ProbeTimeout(d time.Duration) Option { return func(s *settings) { s.probeTimeout = d } }

// StepTimeout bounds each step (default 60 s).
func StepTimeout(d time.Duration) Option { return func(s *settings) { s.stepTimeout = d } }

// connection is a target resolved into clients.
type connection struct {
	target  Target
	orgURL  string // as the client normalised it
	apiURL  string
	main    *client.Client
	plain   *http.Client // without the sniffer, for steps with their own auth
	sniffer *tokenSniffer
}

// tokenSniffer remembers the bearer tokens requests carried, so that recording can keep them out
// of files even when they were fetched with client credentials.
type tokenSniffer struct {
	base http.RoundTripper
	mu   sync.Mutex
	seen map[string]bool
}

func (t *tokenSniffer) RoundTrip(r *http.Request) (*http.Response, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		t.mu.Lock()
		if t.seen == nil {
			t.seen = map[string]bool{}
		}
		t.seen[strings.TrimSpace(strings.TrimPrefix(h, "Bearer"))] = true
		t.mu.Unlock()
	}
	return t.base.RoundTrip(r)
}

func (t *tokenSniffer) tokens() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for s := range t.seen {
		out = append(out, s)
	}
	return out
}

// defaultHTTPClient fails fast on a target that is down or unreachable: a refused or silent
// connection ends within seconds instead of the transport's 30 s dial timeout.
func defaultHTTPClient() *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Transport: tr}
}

func connect(t Target) (*connection, error) {
	if t.URL == "" {
		return nil, errors.New("contracts: the target has no URL")
	}
	base := t.HTTPClient
	if base == nil {
		base = defaultHTTPClient()
	}
	rt := base.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	sniffer := &tokenSniffer{base: rt}
	hc := *base
	hc.Transport = sniffer
	var cred client.Option
	switch {
	case t.Token != "":
		cred = client.WithStaticToken(t.Token)
	case t.TokenURL != "" || t.ClientID != "":
		var scopes []string
		if t.Scope != "" {
			scopes = []string{t.Scope}
		}
		cred = client.WithClientCredentials(t.TokenURL, t.ClientID, t.ClientSecret, scopes...)
	default:
		return nil, errors.New("contracts: the target has no credentials: give a token, or a token URL, client id and client secret")
	}
	c, err := client.New(t.URL, client.WithHTTPClient(&hc), cred)
	if err != nil {
		return nil, fmt.Errorf("contracts: %w", err)
	}
	return &connection{target: t, orgURL: c.OrgURL(), apiURL: c.APIURL(), main: c, plain: base, sniffer: sniffer}, nil
}

// clientFor returns the client a step uses: the target's, or one with the step's own auth.
func (cn *connection) clientFor(a *Auth) (*client.Client, error) {
	if a == nil {
		return cn.main, nil
	}
	var opts []client.Option
	// A step's own token is part of the suite, not a secret of the target: it does not go
	// through the sniffer.
	opts = append(opts, client.WithHTTPClient(cn.plain))
	if !a.Anonymous {
		opts = append(opts, client.WithStaticToken(a.Token))
	}
	return client.New(cn.orgURL, opts...)
}

// probe checks, with a short deadline, that the target answers and accepts the credentials, so that
// a target that is down or refuses the credentials fails the run at once with one clear message.
func (cn *connection) probe(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, _, err := cn.main.WhoAmI(ctx)
	if err == nil {
		return nil
	}
	var te *client.TokenError
	var ce *client.Error
	switch {
	case errors.As(err, &te):
		if te.StatusCode == 0 {
			return fmt.Errorf("contracts: cannot get an access token from %s: %w", cn.target.TokenURL, describeNetErr(ctx, err))
		}
		return fmt.Errorf("contracts: the token endpoint %s refused the credentials: %w", cn.target.TokenURL, err)
	case errors.As(err, &ce):
		if ce.StatusCode == http.StatusUnauthorized || ce.StatusCode == http.StatusForbidden {
			return fmt.Errorf("contracts: target %s refused the credentials: %w", cn.orgURL, err)
		}
		return fmt.Errorf("contracts: target %s answered WhoAmI with an error: %w", cn.orgURL, err)
	}
	return fmt.Errorf("contracts: cannot reach target %s: %w", cn.orgURL, describeNetErr(ctx, err))
}

func describeNetErr(ctx context.Context, err error) error {
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		return fmt.Errorf("no answer in time (%w)", err)
	}
	return err
}

// Run runs every case of the suite against the target and reports the outcome. The error is for
// failures to run at all (no credentials, a target that is down or refuses the credentials, a
// cancelled context); failing cases are in the Report.
func Run(ctx context.Context, s *Suite, t Target, opts ...Option) (*Report, error) {
	cn, err := connect(t)
	if err != nil {
		return nil, err
	}
	set := newSettings(opts)
	if err := cn.probe(ctx, set.probeTimeout); err != nil {
		return nil, err
	}
	r := &runner{suite: s, conn: cn, set: set}
	return r.run(ctx)
}

// runner executes one suite; in recording mode it also keeps what each step saw.
type runner struct {
	suite *Suite
	conn  *connection
	set   settings
	rec   *recording // nil when not recording
}

func (r *runner) run(ctx context.Context) (*Report, error) {
	start := time.Now()
	rep := &Report{Suite: r.suite.Name, Path: r.suite.Path}
	suiteVars := newVars(nil)
	suiteVars.set(varOrg, r.conn.orgURL)
	suiteVars.set(varAPI, r.conn.apiURL)

	setupClean := &tracker{}
	var setupFailed *CaseResult
	if len(r.suite.Setup) > 0 {
		res := r.runSteps(ctx, "setup", r.suite.Setup, suiteVars, setupClean, r.rec.stepsFor(phaseSetup, 0))
		if !res.Passed() {
			setupFailed = &res
			rep.Cases = append(rep.Cases, res)
		}
	}

	results := make([]CaseResult, len(r.suite.Cases))
	runCase := func(i int) {
		c := r.suite.Cases[i]
		if setupFailed != nil {
			results[i] = CaseResult{Name: c.Name, Failures: []Failure{{Message: "not run: the suite's setup failed"}}}
			return
		}
		cv := newVars(suiteVars)
		tr := &tracker{}
		res := r.runSteps(ctx, c.Name, c.Steps, cv, tr, r.rec.stepsFor(phaseCase, i))
		res.Failures = append(res.Failures, r.cleanup(ctx, tr, cv)...)
		results[i] = res
	}
	if r.suite.Parallel && r.set.parallel > 1 {
		sem := make(chan struct{}, r.set.parallel)
		var wg sync.WaitGroup
		for i := range r.suite.Cases {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				runCase(i)
			}()
		}
		wg.Wait()
	} else {
		for i := range r.suite.Cases {
			runCase(i)
		}
	}
	rep.Cases = append(rep.Cases, results...)

	if len(r.suite.Teardown) > 0 && setupFailed == nil {
		res := r.runSteps(ctx, "teardown", r.suite.Teardown, newVars(suiteVars), setupClean, r.rec.stepsFor(phaseTeardown, 0))
		if !res.Passed() {
			rep.Cases = append(rep.Cases, res)
		}
	}
	if f := r.cleanup(ctx, setupClean, suiteVars); len(f) > 0 {
		rep.Cases = append(rep.Cases, CaseResult{Name: "setup cleanup", Failures: f})
	}
	rep.Duration = time.Since(start)
	return rep, ctx.Err()
}

// runSteps runs steps in order with vs. In run mode the first failing step ends the list; in
// recording mode every step runs, because recording is how a failing expectation gets fixed.
func (r *runner) runSteps(ctx context.Context, name string, steps []Step, vs *vars, tr *tracker, rec []*stepRecord) CaseResult {
	start := time.Now()
	res := CaseResult{Name: name}
	for i := range steps {
		if ctx.Err() != nil {
			res.Failures = append(res.Failures, Failure{Step: i + 1, Action: steps[i].Action, Message: "not run: " + ctx.Err().Error()})
			break
		}
		var sr *stepRecord
		if rec != nil {
			sr = rec[i]
		}
		fails := r.runStep(ctx, &steps[i], i+1, vs, tr, sr)
		res.Failures = append(res.Failures, fails...)
		if len(fails) > 0 && rec == nil {
			break
		}
	}
	res.Duration = time.Since(start)
	return res
}

// runStep resolves the step's input, calls the client, compares and captures.
func (r *runner) runStep(ctx context.Context, st *Step, index int, vs *vars, tr *tracker, sr *stepRecord) []Failure {
	fail := func(format string, args ...any) []Failure {
		return []Failure{{Step: index, Action: st.Action, Message: fmt.Sprintf(format, args...)}}
	}
	a := actions[st.Action]
	raw, err := decodeGeneric(st.Input)
	if err != nil {
		return fail("input: %v", err)
	}
	if raw == nil {
		raw = map[string]any{}
	}
	resolved, err := resolveInput(raw, vs)
	if err != nil {
		return fail("input: %v", err)
	}
	in := a.newInput()
	if err := decodeInput(resolved, in); err != nil {
		return fail("input: %v", err)
	}
	if a.check != nil {
		if err := a.check(in); err != nil {
			return fail("input: %v", err)
		}
	}
	c, err := r.conn.clientFor(st.Auth)
	if err != nil {
		return fail("auth: %v", err)
	}
	sctx, cancel := context.WithTimeout(ctx, r.set.stepTimeout)
	obs := a.run(sctx, c, in)
	cancel()
	if sr != nil {
		sr.obs = obs
		sr.ran = true
	}
	if obs.err != nil {
		return fail("%s failed without an answer: %v", st.Action, obs.err)
	}
	tr.observe(in, obs)

	if sr != nil {
		// Recording normalises this step with the values its expectation can refer to: those
		// known before its own captures are bound.
		sr.vars = vs.snapshot()
	}
	for _, cl := range st.Cleanup {
		tr.addLater(cl)
	}
	want, err := r.wantTree(st, vs)
	if err != nil {
		return fail("expect: %v", err)
	}
	got := observedTree(obs, want)
	bindCaptures(want, got, func(name string, v any) { vs.set(name, v) })
	if sr != nil {
		return nil
	}
	diffs := compare(want, got, r.exact(st))
	if len(diffs) == 0 {
		return nil
	}
	out := make([]Failure, len(diffs))
	for i, d := range diffs {
		out[i] = Failure{Step: index, Action: st.Action, Difference: d}
	}
	return out
}

func (r *runner) exact(st *Step) bool {
	if st.Expect.Exact != nil {
		return *st.Expect.Exact
	}
	return r.suite.Exact
}

// wantTree compiles a step's expectation into {"status", "headers", "body"}.
func (r *runner) wantTree(st *Step, vs *vars) (map[string]any, error) {
	want := map[string]any{}
	if st.Expect.Status != 0 {
		want["status"] = st.Expect.Status
	}
	if len(st.Expect.Headers) > 0 {
		h := map[string]any{}
		for name, v := range st.Expect.Headers {
			c, err := compileWant(v, vs)
			if err != nil {
				return nil, fmt.Errorf("header %s: %w", name, err)
			}
			h[name] = c
		}
		want["headers"] = h
	}
	if st.Expect.Body != nil {
		b, err := decodeGeneric(st.Expect.Body)
		if err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
		c, err := compileWant(b, vs)
		if err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
		want["body"] = c
	}
	return want, nil
}

// observedTree shapes an observation like the want tree: the parts the expectation checks, with the
// headers it names under the names as written there. Only the body can hold keys the expectation
// does not name, so exact matching concerns the body alone.
func observedTree(obs observation, want map[string]any) map[string]any {
	got := map[string]any{}
	if _, ok := want["status"]; ok {
		got["status"] = obs.status
	}
	if named, ok := want["headers"].(map[string]any); ok {
		h := map[string]any{}
		for name := range named {
			if v := headerValue(obs.header, name); v != "" {
				h[name] = v
			}
		}
		got["headers"] = h
	}
	if _, ok := want["body"]; ok && obs.hasBody {
		got["body"] = obs.body
	}
	return got
}

// headerValue joins a header's values with ", ", as a single header line would carry them.
func headerValue(h http.Header, name string) string {
	return strings.Join(h.Values(name), ", ")
}

// tracker remembers what a case created, to delete it when it ends: rows, and the table and column
// definitions of the metadata actions.
type tracker struct {
	mu    sync.Mutex
	items []tracked
	later []Cleanup
}

type trackedKind int

const (
	trackedRow    trackedKind = iota
	trackedColumn             // deleted with DeleteAttribute
	trackedTable              // deleted with DeleteEntity
)

// tracked is one thing to delete. A row is its entity set and key. A column is its table (as the
// step named it) and key (its MetadataId, or its logical name when the id is not known). A table is
// its key (MetadataId). name is the logical name of a column or table, when known, so that a step
// deleting it by name takes it off the list.
type tracked struct {
	kind trackedKind
	set  string
	key  string
	name string
}

// same reports whether two entries name the same thing. A column's MetadataId names it in any
// table; its logical name only within the table named the same way.
func (a tracked) same(b tracked) bool {
	if a.kind != b.kind || !strings.EqualFold(a.key, b.key) {
		return false
	}
	switch a.kind {
	case trackedRow:
		return strings.EqualFold(a.set, b.set)
	case trackedColumn:
		return wholeGUID.MatchString(a.key) || strings.EqualFold(a.set, b.set)
	}
	return true
}

func (t *tracker) track(it tracked) {
	if it.key == "" || (it.kind != trackedTable && it.set == "") {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, x := range t.items {
		if x.same(it) {
			return
		}
	}
	t.items = append(t.items, it)
}

// add tracks a row.
func (t *tracker) add(set, key string) { t.track(tracked{kind: trackedRow, set: set, key: key}) }

// remove forgets a row a step deleted.
func (t *tracker) remove(set, key string) {
	t.forget(func(x tracked) bool {
		return x.kind == trackedRow && strings.EqualFold(x.set, set) && strings.EqualFold(x.key, key)
	})
}

// removeColumn forgets a column a step deleted, named by MetadataId (in any table) or by logical
// name (in the table it was created in, named the same way).
func (t *tracker) removeColumn(table, column string) {
	table, column = metadataKeyName(table), metadataKeyName(column)
	t.forget(func(x tracked) bool {
		if x.kind != trackedColumn {
			return false
		}
		if wholeGUID.MatchString(column) {
			return strings.EqualFold(x.key, column)
		}
		return strings.EqualFold(x.set, table) && (strings.EqualFold(x.name, column) || strings.EqualFold(x.key, column))
	})
}

// removeTable forgets a table a step deleted, named by MetadataId or logical name.
func (t *tracker) removeTable(table string) {
	table = metadataKeyName(table)
	t.forget(func(x tracked) bool {
		return x.kind == trackedTable && (strings.EqualFold(x.key, table) || (x.name != "" && strings.EqualFold(x.name, table)))
	})
}

func (t *tracker) forget(match func(tracked) bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, x := range t.items {
		if match(x) {
			t.items = append(t.items[:i], t.items[i+1:]...)
			return
		}
	}
}

func (t *tracker) addLater(c Cleanup) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.later = append(t.later, c)
}

// observe tracks what a successful step created and forgets what a step deleted.
func (t *tracker) observe(in any, obs observation) {
	if rc, ok := in.(rowsCreator); ok {
		// A batch that stopped at a failure may still have created rows (independent actions).
		for _, it := range rc.createdRows(obs) {
			t.track(it)
		}
	}
	if obs.status < 200 || obs.status > 299 {
		return
	}
	switch x := in.(type) {
	case *createInput:
		id := idFromEntityID(obs.header.Get("OData-EntityId"))
		if id == "" {
			id = primaryKeyFromBody(x.EntitySet, obs.body)
		}
		t.add(x.EntitySet, id)
	case *upsertInput:
		// Deleting what an upsert touched is right only because suites upsert rows they own
		// ({{newguid}} ids, {{newkey}} alternate keys).
		key := x.Key
		if id := idFromEntityID(obs.header.Get("OData-EntityId")); id != "" {
			key = id
		} else if id := primaryKeyFromBody(x.EntitySet, obs.body); id != "" {
			key = id
		}
		t.add(x.EntitySet, strings.Trim(key, "{}"))
	case *deleteInput:
		t.remove(x.EntitySet, strings.Trim(x.Key, "{}"))
	case *createAttributeInput:
		id := createdID(obs)
		name := strings.ToLower(x.schemaName())
		if id == "" {
			id = name
		}
		t.track(tracked{kind: trackedColumn, set: metadataKeyName(x.Entity), key: id, name: name})
	case *createEntityInput:
		id := createdID(obs)
		name := strings.ToLower(x.schemaName())
		if id == "" {
			id = name
		}
		t.track(tracked{kind: trackedTable, key: id, name: name})
	case *deleteAttributeInput:
		t.removeColumn(x.Entity, x.Attribute)
	case *deleteEntityInput:
		t.removeTable(x.Entity)
	case *doInput:
		m := strings.ToUpper(x.Method)
		if m == http.MethodPost || m == http.MethodPatch {
			loc := obs.header.Get("OData-EntityId")
			if table, column, ok := metadataURLParts(loc); ok {
				if column != "" {
					t.track(tracked{kind: trackedColumn, set: table, key: column})
				} else {
					t.track(tracked{kind: trackedTable, key: table})
				}
			} else if set, id := entityURLParts(loc); id != "" {
				t.add(set, id)
			}
		}
		if m == http.MethodDelete {
			if table, column, ok := metadataURLParts(x.Path); ok {
				if column != "" {
					t.removeColumn(table, column)
				} else {
					t.removeTable(table)
				}
			} else if set, id := entityURLParts(x.Path); id != "" {
				t.remove(set, id)
			}
		}
	}
}

// createdID is the MetadataId a metadata create returned: the id the client handed back (the body's
// "id"), else the GUID at the end of OData-EntityId.
func createdID(obs observation) string {
	if m, ok := obs.body.(map[string]any); ok {
		if id, ok := m["id"].(string); ok && wholeGUID.MatchString(id) {
			return strings.ToLower(id)
		}
	}
	return idFromEntityID(obs.header.Get("OData-EntityId"))
}

// metadataURL matches the path of a table definition, EntityDefinitions(<key>), or of a column
// definition, EntityDefinitions(<key>)/Attributes(<key>), with nothing after it (a cast aside).
var metadataURL = regexp.MustCompile(`(?i)(?:^|/)EntityDefinitions\(([^()/]+)\)(?:/Attributes\(([^()/]+)\))?(?:/Microsoft\.Dynamics\.CRM\.[A-Za-z]+)?/?$`)

// metadataURLParts splits a table or column definition URL into the table's key and the column's
// key ("" for a table): a MetadataId in lower case, or an alternate key such as LogicalName='x'
// reduced to the name. ok is false for any other URL.
func metadataURLParts(u string) (table, column string, ok bool) {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	m := metadataURL.FindStringSubmatch(u)
	if m == nil {
		return "", "", false
	}
	return metadataKeyName(m[1]), metadataKeyName(m[2]), true
}

// metadataKeyName reduces a table or column identifier to what the tracker compares: a MetadataId
// without braces in lower case, or the name of an alternate key (LogicalName='account': account).
func metadataKeyName(k string) string {
	k = strings.TrimSpace(k)
	if _, v, found := strings.Cut(k, "="); found {
		k = strings.Trim(strings.TrimSpace(v), "'")
	}
	k = strings.Trim(k, "{}")
	if wholeGUID.MatchString(k) {
		return strings.ToLower(k)
	}
	return k
}

// idFromEntityID returns the GUID in an OData-EntityId URL, or "".
func idFromEntityID(u string) string {
	_, id := entityURLParts(u)
	return id
}

// entityURLParts splits .../<set>(<guid>) into the set and the GUID.
func entityURLParts(u string) (string, string) {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	if !strings.HasSuffix(u, ")") {
		return "", ""
	}
	open := strings.LastIndexByte(u, '(')
	if open < 0 {
		return "", ""
	}
	id := strings.Trim(u[open+1:len(u)-1], "{}")
	if !wholeGUID.MatchString(id) {
		return "", ""
	}
	set := u[:open]
	if i := strings.LastIndexByte(set, '/'); i >= 0 {
		set = set[i+1:]
	}
	return set, strings.ToLower(id)
}

// primaryKeyFromBody finds the primary key of a returned row by Dataverse's naming: the singular of
// the entity set plus "id" (accounts: accountid, opportunities: opportunityid), or activityid.
func primaryKeyFromBody(set string, body any) string {
	m, ok := body.(map[string]any)
	if !ok {
		return ""
	}
	var names []string
	if s, ok := strings.CutSuffix(set, "ies"); ok {
		names = append(names, s+"yid")
	}
	if s, ok := strings.CutSuffix(set, "es"); ok {
		names = append(names, s+"id")
	}
	if s, ok := strings.CutSuffix(set, "s"); ok {
		names = append(names, s+"id")
	}
	names = append(names, "activityid")
	for _, n := range names {
		if v, ok := m[n].(string); ok && wholeGUID.MatchString(v) {
			return strings.ToLower(v)
		}
	}
	return ""
}

// cleanup deletes what the case created, newest first, with the target's own credentials: rows
// with DeleteRecord, columns with DeleteAttribute, tables with DeleteEntity. It runs even when the
// run's context is cancelled, with a deadline of its own, so that an interrupted run still leaves a
// tenant tidy. What is already gone (404) is fine.
func (r *runner) cleanup(ctx context.Context, tr *tracker, vs *vars) []Failure {
	for _, c := range tr.later {
		resolve := func(s string) (string, bool) {
			v, err := resolveInput(s, vs)
			if err != nil {
				return "", false // the step that would capture it failed; nothing to delete
			}
			return strings.Trim(textOf(v), "{}"), true
		}
		switch {
		case c.Table != "" && c.Column != "":
			table, ok1 := resolve(c.Table)
			column, ok2 := resolve(c.Column)
			if ok1 && ok2 {
				tr.track(tracked{kind: trackedColumn, set: metadataKeyName(table), key: metadataKeyName(column)})
			}
		case c.Table != "":
			if table, ok := resolve(c.Table); ok {
				tr.track(tracked{kind: trackedTable, key: metadataKeyName(table)})
			}
		default:
			if key, ok := resolve(c.Key); ok {
				tr.add(c.EntitySet, key)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var fails []Failure
	for i := len(tr.items) - 1; i >= 0; i-- {
		it := tr.items[i]
		var err error
		var what string
		switch it.kind {
		case trackedColumn:
			what = fmt.Sprintf("column %s of table %s", it.key, it.set)
			_, err = r.conn.main.DeleteAttribute(ctx, it.set, it.key)
		case trackedTable:
			what = "table " + it.key
			_, err = r.conn.main.DeleteEntity(ctx, it.key)
		default:
			what = fmt.Sprintf("%s(%s)", it.set, it.key)
			_, err = r.conn.main.DeleteRecord(ctx, it.set, it.key, nil)
		}
		if err != nil && !errors.Is(err, client.ErrNotFound) {
			fails = append(fails, Failure{Message: fmt.Sprintf("cleanup: delete %s: %v", what, err)})
		}
	}
	return fails
}
