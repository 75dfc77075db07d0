package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// fakeRow is one row of the fake's accounts table.
type fakeRow struct {
	ID       string
	Name     string
	State    int
	Created  time.Time
	Modified time.Time
	Version  int64
}

// fakeLateWrite is a write whose timestamps and version were taken before it becomes visible, as when a
// Dataverse transaction commits some time after modifiedon was stamped.
type fakeLateWrite struct {
	row      fakeRow
	requests int // table requests still to serve before it commits
}

// pollFake is an in-memory accounts table behind the Web API shapes PollChanges uses: $filter with
// comparisons joined by and/or/not, $orderby, $select, $top, Prefer: odata.maxpagesize and keyset
// $skiptoken paging (the token holds the sort values of a page's last row, as Dataverse's paging
// cookie does), so that rows changed during a walk move instead of shifting later pages.
type pollFake struct {
	srv     *httptest.Server
	handler http.Handler

	mu       sync.Mutex
	now      time.Time
	version  int64
	rows     map[string]*fakeRow
	late     []fakeLateWrite
	rng      *rand.Rand
	nextID   int
	requests []url.Values // table requests, in order
	prefers  []string     // their Prefer headers
	defs     int          // EntityDefinitions requests
	noETag   bool
	badRow   map[string]any // served instead of the rows when set
	// beforeRequest runs with mu held before each table request is answered: concurrent writers.
	beforeRequest func(f *pollFake)
}

var pollEpoch = time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)

func newPollFake(t testing.TB, seed uint64) *pollFake {
	f := &pollFake{now: pollEpoch, rows: map[string]*fakeRow{}, rng: rand.New(rand.NewPCG(seed, 1))}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/data/v9.2/EntityDefinitions", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.defs++
		f.mu.Unlock()
		q := r.URL.Query()
		if q.Get("$select") != "PrimaryIdAttribute" {
			reply(w, 400, `{"error":{"code":"0x0","message":"unexpected $select"}}`)
			return
		}
		switch q.Get("$filter") {
		case "EntitySetName eq 'accounts'":
			reply(w, 200, `{"value":[{"PrimaryIdAttribute":"accountid","MetadataId":"70816501-edb9-4740-a16c-6a5efbc05d84"}]}`)
		default:
			reply(w, 200, `{"value":[]}`)
		}
	})
	mux.HandleFunc("GET /api/data/v9.2/accounts", f.serveTable)
	f.handler = mux
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *pollFake) client(t testing.TB, opts ...Option) *Client {
	t.Helper()
	c, err := New(f.srv.URL, append([]Option{WithStaticToken(testToken)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// directClient returns a client whose requests reach the fake's handler in process, without
// sockets: the same requests and answers, fast enough for thousands of them.
func (f *pollFake) directClient(t testing.TB) *Client {
	t.Helper()
	hc := &http.Client{Transport: pollRoundTrip(func(r *http.Request) (*http.Response, error) {
		rec := httptest.NewRecorder()
		f.handler.ServeHTTP(rec, r)
		return rec.Result(), nil
	})}
	c, err := New(f.srv.URL, WithStaticToken(testToken), WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type pollRoundTrip func(*http.Request) (*http.Response, error)

func (f pollRoundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Writers; the caller holds mu (or owns the fake exclusively).

func (f *pollFake) newID() string {
	f.nextID++
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", f.rng.Uint32(), f.nextID&0xffff, f.rng.IntN(0x1000), f.rng.IntN(0x1000), f.rng.Uint64()&0xffffffffffff)
}

func (f *pollFake) tick(d time.Duration) { f.now = f.now.Add(d) }

func (f *pollFake) create(name string) *fakeRow {
	f.version++
	r := &fakeRow{ID: f.newID(), Name: name, Created: f.now, Modified: f.now, Version: f.version}
	f.rows[r.ID] = r
	return r
}

func (f *pollFake) update(id string) *fakeRow {
	r := f.rows[id]
	f.version++
	r.Modified, r.Version = f.now, f.version
	r.Name += "'"
	return r
}

// lateUpdate stamps an update now and makes it visible after n more table requests.
func (f *pollFake) lateUpdate(id string, n int) fakeRow {
	r := *f.rows[id]
	f.version++
	r.Modified, r.Version = f.now, f.version
	f.late = append(f.late, fakeLateWrite{row: r, requests: n})
	return r
}

func (f *pollFake) lateCreate(name string, n int) fakeRow {
	f.version++
	r := fakeRow{ID: f.newID(), Name: name, Created: f.now, Modified: f.now, Version: f.version}
	f.late = append(f.late, fakeLateWrite{row: r, requests: n})
	return r
}

func (f *pollFake) commitLate(all bool) {
	kept := f.late[:0]
	for _, lw := range f.late {
		lw.requests--
		if all || lw.requests <= 0 {
			r := lw.row
			f.rows[r.ID] = &r
			continue
		}
		kept = append(kept, lw)
	}
	f.late = kept
}

func (f *pollFake) pending(id string) bool {
	return slices.ContainsFunc(f.late, func(lw fakeLateWrite) bool { return lw.row.ID == id })
}

func (f *pollFake) tableRequests() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

func (f *pollFake) serveTable(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := r.URL.Query()
	f.requests = append(f.requests, q)
	f.prefers = append(f.prefers, r.Header.Get("Prefer"))
	f.commitLate(false)
	if f.beforeRequest != nil {
		f.beforeRequest(f)
	}
	// The service's clock, which PollChanges compares with page boundaries.
	w.Header().Set("Date", f.now.Format(http.TimeFormat))
	if f.badRow != nil {
		b, _ := json.Marshal(map[string]any{"value": []any{f.badRow}})
		reply(w, 200, string(b))
		return
	}
	fail := func(msg string) {
		b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": "0x80060888", "message": msg}})
		reply(w, 400, string(b))
	}
	var cond fakeFilterExpr = func(*fakeRow) bool { return true }
	if s := q.Get("$filter"); s != "" {
		var err error
		if cond, err = parseFakeFilter(s); err != nil {
			fail(err.Error())
			return
		}
	}
	order, err := parseFakeOrder(q.Get("$orderby"))
	if err != nil {
		fail(err.Error())
		return
	}
	type keyed struct {
		row *fakeRow
		key []any
	}
	var all []keyed
	for _, row := range f.rows {
		if cond(row) {
			all = append(all, keyed{row, order.values(row)})
		}
	}
	slices.SortFunc(all, func(a, b keyed) int { return order.compare(a.key, b.key) })
	if tok := q.Get("$skiptoken"); tok != "" {
		last, err := order.parseToken(tok)
		if err != nil {
			fail("bad $skiptoken")
			return
		}
		i, _ := slices.BinarySearchFunc(all, last, func(k keyed, last []any) int {
			if order.compare(k.key, last) <= 0 {
				return -1
			}
			return 1
		})
		all = all[i:]
	}
	rows := make([]*fakeRow, len(all))
	for i, k := range all {
		rows[i] = k.row
	}
	size := 5000
	for _, p := range r.Header.Values("Prefer") {
		if v, ok := strings.CutPrefix(p, "odata.maxpagesize="); ok {
			size, _ = strconv.Atoi(v)
		}
	}
	if top := q.Get("$top"); top != "" {
		n, _ := strconv.Atoi(top)
		rows, size = rows[:min(n, len(rows))], max(n, 1)
	}
	out := map[string]any{}
	if len(rows) > size {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("$skiptoken", order.token(rows[size-1]))
		out["@odata.nextLink"] = f.srv.URL + r.URL.Path + "?" + next.Encode()
		rows = rows[:size]
	}
	sel := strings.Split(q.Get("$select"), ",")
	value := []map[string]any{}
	for _, row := range rows {
		all := map[string]any{
			"accountid":     row.ID,
			"name":          row.Name,
			"statecode":     row.State,
			"createdon":     row.Created.Format(dataverseTime),
			"modifiedon":    row.Modified.Format(dataverseTime),
			"versionnumber": row.Version,
		}
		m := map[string]any{"accountid": row.ID}
		if !f.noETag {
			m["@odata.etag"] = fmt.Sprintf(`W/"%d"`, row.Version)
		}
		for k, v := range all {
			if sel[0] == "" || slices.Contains(sel, k) {
				m[k] = v
			}
		}
		value = append(value, m)
	}
	out["value"] = value
	b, _ := json.Marshal(out)
	reply(w, 200, string(b))
}

// fakeField returns a column's value for filters and sorting.
func fakeField(r *fakeRow, name string) (any, bool) {
	switch name {
	case "accountid":
		return r.ID, true
	case "name":
		return r.Name, true
	case "statecode":
		return int64(r.State), true
	case "createdon":
		return r.Created, true
	case "modifiedon":
		return r.Modified, true
	case "versionnumber":
		return r.Version, true
	}
	return nil, false
}

func compareFake(a, b any) int {
	switch x := a.(type) {
	case time.Time:
		return x.Compare(b.(time.Time))
	case int64:
		y := b.(int64)
		return fakeCmpInt(x, y)
	case string:
		return strings.Compare(x, b.(string))
	}
	panic(fmt.Sprintf("compareFake(%T)", a))
}

func fakeSameKind(a, b any) bool {
	switch a.(type) {
	case time.Time:
		_, ok := b.(time.Time)
		return ok
	case int64:
		_, ok := b.(int64)
		return ok
	case string:
		_, ok := b.(string)
		return ok
	}
	return false
}

func fakeCmpInt(x, y int64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

type fakeOrder []struct {
	field string
	desc  bool
}

func parseFakeOrder(s string) (fakeOrder, error) {
	var o fakeOrder
	if s != "" {
		for _, part := range strings.Split(s, ",") {
			fields := strings.Fields(part)
			if len(fields) == 0 || len(fields) > 2 || (len(fields) == 2 && fields[1] != "asc" && fields[1] != "desc") {
				return nil, fmt.Errorf("bad $orderby %q", s)
			}
			if _, ok := fakeField(&fakeRow{}, fields[0]); !ok {
				return nil, fmt.Errorf("Could not find a property named '%s' on type 'Microsoft.Dynamics.CRM.account'.", fields[0])
			}
			o = append(o, struct {
				field string
				desc  bool
			}{fields[0], len(fields) == 2 && fields[1] == "desc"})
		}
	}
	// Like Dataverse, end with the primary key so that the order (and the paging) is total.
	if !slices.ContainsFunc(o, func(e struct {
		field string
		desc  bool
	}) bool {
		return e.field == "accountid"
	}) {
		o = append(o, struct {
			field string
			desc  bool
		}{"accountid", false})
	}
	return o, nil
}

// values returns a row's sort values.
func (o fakeOrder) values(r *fakeRow) []any {
	out := make([]any, len(o))
	for i, e := range o {
		out[i], _ = fakeField(r, e.field)
	}
	return out
}

func (o fakeOrder) compare(a, b []any) int {
	for i, e := range o {
		c := compareFake(a[i], b[i])
		if e.desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// token renders the sort values of a page's last row as a skip token, as a paging cookie does.
func (o fakeOrder) token(r *fakeRow) string {
	var parts []string
	for _, v := range o.values(r) {
		switch x := v.(type) {
		case time.Time:
			parts = append(parts, x.Format(time.RFC3339Nano))
		default:
			parts = append(parts, fmt.Sprint(x))
		}
	}
	b, _ := json.Marshal(parts)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (o fakeOrder) parseToken(tok string) ([]any, error) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return nil, err
	}
	var parts []string
	if err := json.Unmarshal(raw, &parts); err != nil {
		return nil, err
	}
	if len(parts) != len(o) {
		return nil, errors.New("wrong length")
	}
	out := make([]any, len(o))
	for i, e := range o {
		switch e.field {
		case "createdon", "modifiedon":
			out[i], err = time.Parse(time.RFC3339Nano, parts[i])
		case "statecode", "versionnumber":
			out[i], err = strconv.ParseInt(parts[i], 10, 64)
		default:
			out[i] = parts[i]
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// fakeFilterExpr is a parsed $filter.
type fakeFilterExpr func(*fakeRow) bool

// parseFakeFilter parses the $filter subset PollChanges and the tests send: comparisons of a column
// with a literal (a bare date, a number, a quoted string, a GUID) joined by and, or, not and
// parentheses.
func parseFakeFilter(s string) (fakeFilterExpr, error) {
	p := &fakeFilterParser{toks: tokenizeFakeFilter(s)}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i != len(p.toks) {
		return nil, fmt.Errorf("syntax error at token %q in '%s'", p.toks[p.i], s)
	}
	return e, nil
}

func tokenizeFakeFilter(s string) []string {
	var toks []string
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ':
			i++
		case c == '(' || c == ')':
			toks = append(toks, string(c))
			i++
		case c == '\'':
			j := i + 1
			for j < len(s) && (s[j] != '\'' || j+1 < len(s) && s[j+1] == '\'') {
				if s[j] == '\'' {
					j++
				}
				j++
			}
			toks = append(toks, s[i:min(j+1, len(s))])
			i = j + 1
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '(' && s[j] != ')' {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks
}

type fakeFilterParser struct {
	toks []string
	i    int
}

func (p *fakeFilterParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *fakeFilterParser) next() string { t := p.peek(); p.i++; return t }

func (p *fakeFilterParser) or() (fakeFilterExpr, error) {
	l, err := p.and()
	for err == nil && p.peek() == "or" {
		p.next()
		var r fakeFilterExpr
		if r, err = p.and(); err == nil {
			a, b := l, r
			l = func(row *fakeRow) bool { return a(row) || b(row) }
		}
	}
	return l, err
}

func (p *fakeFilterParser) and() (fakeFilterExpr, error) {
	l, err := p.unary()
	for err == nil && p.peek() == "and" {
		p.next()
		var r fakeFilterExpr
		if r, err = p.unary(); err == nil {
			a, b := l, r
			l = func(row *fakeRow) bool { return a(row) && b(row) }
		}
	}
	return l, err
}

func (p *fakeFilterParser) unary() (fakeFilterExpr, error) {
	switch p.peek() {
	case "not":
		p.next()
		e, err := p.unary()
		if err != nil {
			return nil, err
		}
		return func(row *fakeRow) bool { return !e(row) }, nil
	case "(":
		p.next()
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.next() != ")" {
			return nil, errors.New("missing )")
		}
		return e, nil
	}
	field, op, lit := p.next(), p.next(), p.next()
	if _, ok := fakeField(&fakeRow{}, field); !ok {
		return nil, fmt.Errorf("Could not find a property named '%s' on type 'Microsoft.Dynamics.CRM.account'.", field)
	}
	var want any
	switch {
	case strings.HasPrefix(lit, "'"):
		want = strings.ReplaceAll(strings.Trim(lit, "'"), "''", "'")
	case field == "createdon" || field == "modifiedon":
		t, err := time.Parse(dataverseTime, lit)
		if err != nil {
			return nil, fmt.Errorf("bad date literal %q", lit)
		}
		want = t
	case field == "accountid":
		if !isGUID(lit) {
			return nil, fmt.Errorf("bad GUID literal %q", lit)
		}
		want = lit
	default:
		n, err := strconv.ParseInt(lit, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad literal %q", lit)
		}
		want = n
	}
	test := map[string]func(int) bool{
		"eq": func(c int) bool { return c == 0 }, "ne": func(c int) bool { return c != 0 },
		"gt": func(c int) bool { return c > 0 }, "ge": func(c int) bool { return c >= 0 },
		"lt": func(c int) bool { return c < 0 }, "le": func(c int) bool { return c <= 0 },
	}[op]
	if test == nil {
		return nil, fmt.Errorf("unknown operator %q", op)
	}
	return func(row *fakeRow) bool {
		v, _ := fakeField(row, field)
		if !fakeSameKind(v, want) {
			return false
		}
		return test(compareFake(v, want))
	}, nil
}

func TestFakeFilter(t *testing.T) {
	t.Parallel()
	row := &fakeRow{ID: accountID, Name: "O'Bryan", State: 1, Modified: pollEpoch.Add(time.Hour), Created: pollEpoch}
	tests := []struct {
		filter string
		want   bool
	}{
		{"modifiedon ge 2025-05-01T01:00:00Z", true},
		{"modifiedon gt 2025-05-01T01:00:00Z", false},
		{"(statecode eq 1) and modifiedon ge 2025-05-01T00:00:00Z", true},
		{"(statecode eq 0 or name eq 'O''Bryan') and not (createdon lt 2025-05-01T00:00:00Z)", true},
		{"accountid eq " + accountID, true},
		{"statecode ne 1", false},
	}
	for _, tt := range tests {
		e, err := parseFakeFilter(tt.filter)
		if err != nil {
			t.Fatalf("%s: %v", tt.filter, err)
		}
		if got := e(row); got != tt.want {
			t.Errorf("%s = %v, want %v", tt.filter, got, tt.want)
		}
	}
	for _, bad := range []string{"modifiedon ge ", "nosuch eq 1", "modifiedon ge 2025-05-01", "(statecode eq 1"} {
		if _, err := parseFakeFilter(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func pollNames(recs []Record) []string {
	out := []string{}
	for _, r := range recs {
		out = append(out, r["name"].(string))
	}
	return out
}

func pollAt(s string) time.Time {
	t, err := time.Parse(dataverseTime, s)
	if err != nil {
		panic(err)
	}
	return t
}

// The cases of the Prismatic component's trigger tests, with the semantics PollChanges implements.
func TestPollChangesTriggerCases(t *testing.T) {
	t.Parallel()
	type row struct{ name, created, modified string }
	tests := []struct {
		name        string
		cursor      *PollCursor
		since       time.Time
		rows        []row
		wantCreated []string
		wantUpdated []string
		wantCursor  time.Time
	}{
		{
			name:        "look-back date",
			since:       pollAt("2025-01-01T00:00:00Z"),
			rows:        []row{{"r1", "2025-06-01T10:00:00Z", "2025-06-01T10:00:00Z"}},
			wantCreated: []string{"r1"},
			wantCursor:  pollAt("2025-06-01T10:00:00Z"),
		},
		{
			name:   "created and updated split",
			cursor: &PollCursor{ModifiedOn: pollAt("2025-05-01T00:00:00Z"), CreatedSince: pollAt("2025-05-01T00:00:00Z")},
			rows: []row{
				{"new-1", "2025-05-15T10:00:00Z", "2025-05-15T10:00:00Z"},
				{"updated-1", "2025-01-01T00:00:00Z", "2025-05-15T12:00:00Z"},
				{"old", "2025-01-01T00:00:00Z", "2025-04-30T23:59:59Z"},
			},
			wantCreated: []string{"new-1"},
			wantUpdated: []string{"updated-1"},
			wantCursor:  pollAt("2025-05-15T12:00:00Z"),
		},
		{
			name:   "cursor is the latest modifiedon, whatever the row order",
			cursor: &PollCursor{ModifiedOn: pollAt("2025-05-01T00:00:00Z"), CreatedSince: pollAt("2025-05-01T00:00:00Z")},
			rows: []row{
				{"a", "2025-01-01T00:00:00Z", "2025-05-10T08:00:00Z"},
				{"b", "2025-01-01T00:00:00Z", "2025-05-15T14:00:00Z"},
				{"c", "2025-01-01T00:00:00Z", "2025-05-13T11:00:00Z"},
			},
			wantUpdated: []string{"a", "c", "b"},
			wantCursor:  pollAt("2025-05-15T14:00:00Z"),
		},
		{
			name:       "nothing changed",
			cursor:     &PollCursor{ModifiedOn: pollAt("2025-05-01T00:00:00Z"), CreatedSince: pollAt("2025-05-01T00:00:00Z")},
			rows:       []row{{"old", "2025-01-01T00:00:00Z", "2025-04-01T00:00:00Z"}},
			wantCursor: pollAt("2025-05-01T00:00:00Z"),
		},
		{
			name:        "created then updated before the poll is still new",
			cursor:      &PollCursor{ModifiedOn: pollAt("2025-05-01T00:00:00Z"), CreatedSince: pollAt("2025-05-01T00:00:00Z")},
			rows:        []row{{"n", "2025-05-02T00:00:00Z", "2025-05-02T00:00:05Z"}},
			wantCreated: []string{"n"},
			wantCursor:  pollAt("2025-05-02T00:00:05Z"),
		},
		{
			name:        "created in the cursor's second and not seen",
			cursor:      &PollCursor{ModifiedOn: pollAt("2025-05-01T00:00:00Z"), CreatedSince: pollAt("2025-05-01T00:00:00Z")},
			rows:        []row{{"n", "2025-05-01T00:00:00Z", "2025-05-01T00:00:00Z"}},
			wantCreated: []string{"n"},
			wantCursor:  pollAt("2025-05-01T00:00:00Z"),
		},
		{
			name:        "zero cursor reads everything as created",
			cursor:      &PollCursor{},
			rows:        []row{{"a", "2020-01-01T00:00:00Z", "2024-01-01T00:00:00Z"}, {"b", "2021-01-01T00:00:00Z", "2021-01-01T00:00:00Z"}},
			wantCreated: []string{"b", "a"},
			wantCursor:  pollAt("2024-01-01T00:00:00Z"),
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newPollFake(t, uint64(i))
			for _, r := range tt.rows {
				f.version++
				id := f.newID()
				f.rows[id] = &fakeRow{ID: id, Name: r.name, Created: pollAt(r.created), Modified: pollAt(r.modified), Version: f.version}
			}
			opts := PollOptions{PrimaryKey: "accountid", Since: tt.since}
			res, _, err := f.client(t).PollChanges(context.Background(), "accounts", tt.cursor, &opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantCreated, pollNames(res.Created), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("created (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantUpdated, pollNames(res.Updated), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("updated (-want +got):\n%s", diff)
			}
			if !res.Cursor.ModifiedOn.Equal(tt.wantCursor) {
				t.Errorf("cursor = %v, want %v", res.Cursor.ModifiedOn, tt.wantCursor)
			}
			if res.More {
				t.Error("More = true")
			}
		})
	}
}

func TestPollChangesRequests(t *testing.T) {
	t.Parallel()
	cursor := &PollCursor{ModifiedOn: pollAt("2025-05-01T10:00:00Z")}
	tests := []struct {
		name       string
		cursor     *PollCursor
		opts       PollOptions
		want       []map[string]string
		wantPrefer string
		wantDefs   int
	}{
		{
			name:   "resume with filter, select and page size",
			cursor: cursor,
			opts:   PollOptions{PrimaryKey: "accountid", Filter: "statecode eq 0", Select: []string{"name", "modifiedon"}, PageSize: 7},
			want: []map[string]string{{
				"$select":  "name,modifiedon,accountid,createdon",
				"$filter":  "(statecode eq 0) and modifiedon ge 2025-05-01T10:00:00Z",
				"$orderby": "modifiedon asc,accountid asc",
			}},
			wantPrefer: "odata.maxpagesize=7",
		},
		{
			name:   "cursor to the second",
			cursor: &PollCursor{ModifiedOn: pollAt("2025-05-01T10:00:00Z").Add(300 * time.Millisecond)},
			opts:   PollOptions{PrimaryKey: "accountid", Overlap: 90 * time.Second},
			want:   []map[string]string{{"$filter": "modifiedon ge 2025-05-01T10:00:00Z", "$orderby": "modifiedon asc,accountid asc"}},
		},
		{
			name: "look-back on the first poll, from the client's clock",
			opts: PollOptions{PrimaryKey: "accountid", LookBack: 36 * time.Hour, Overlap: time.Hour},
			want: []map[string]string{{"$filter": "modifiedon ge 2025-05-29T21:59:59Z", "$orderby": "modifiedon asc,accountid asc"}},
		},
		{
			name: "since on the first poll",
			opts: PollOptions{PrimaryKey: "accountid", Since: pollAt("2025-01-15T08:30:00Z").Add(time.Millisecond), LookBack: time.Hour},
			want: []map[string]string{{"$filter": "modifiedon ge 2025-01-15T08:30:00Z", "$orderby": "modifiedon asc,accountid asc"}},
		},
		{
			name:       "first poll without look-back: latest rows only",
			opts:       PollOptions{PrimaryKey: "accountid", Filter: "statecode eq 0", PageSize: 500},
			want:       []map[string]string{{"$select": "accountid,modifiedon", "$filter": "statecode eq 0", "$orderby": "modifiedon desc"}},
			wantPrefer: "odata.maxpagesize=50",
		},
		{
			name:   "zero cursor: no date condition",
			cursor: &PollCursor{},
			opts:   PollOptions{PrimaryKey: "accountid"},
			want:   []map[string]string{{"$orderby": "modifiedon asc,accountid asc"}},
		},
		{
			name:     "primary key discovered",
			cursor:   cursor,
			opts:     PollOptions{},
			want:     []map[string]string{{"$filter": "modifiedon ge 2025-05-01T10:00:00Z", "$orderby": "modifiedon asc,accountid asc"}},
			wantDefs: 1,
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newPollFake(t, uint64(i))
			clock := &fakeClock{now: time.Date(2025, 5, 31, 11, 59, 59, 700_000_000, time.FixedZone("CEST", 2*3600))}
			c := f.client(t, clock.option())
			if _, _, err := c.PollChanges(context.Background(), "accounts", tt.cursor, &tt.opts); err != nil {
				t.Fatal(err)
			}
			f.mu.Lock()
			prefer := slices.Clone(f.prefers)
			f.mu.Unlock()
			var got []map[string]string
			for _, q := range f.tableRequests() {
				m := map[string]string{}
				for k := range q {
					m[k] = q.Get(k)
				}
				got = append(got, m)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("queries (-want +got):\n%s", diff)
			}
			if tt.wantPrefer != "" && (len(prefer) == 0 || prefer[len(prefer)-1] != tt.wantPrefer) {
				t.Errorf("Prefer = %q, want %q", prefer, tt.wantPrefer)
			}
			if f.defs != tt.wantDefs {
				t.Errorf("%d EntityDefinitions requests, want %d", f.defs, tt.wantDefs)
			}
		})
	}
}

// Many rows share one second, across page boundaries and across polls; more arrive in that second
// after a poll, and one already reported changes again within it.
func TestPollChangesTies(t *testing.T) {
	t.Parallel()
	f := newPollFake(t, 7)
	c := f.client(t)
	ctx := context.Background()
	opts := PollOptions{PrimaryKey: "accountid", PageSize: 3}

	res, _, err := c.PollChanges(ctx, "accounts", nil, &opts) // empty table
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(PollCursor{}, res.Cursor, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("baseline of an empty table (-want +got):\n%s", diff)
	}
	cur := res.Cursor

	var first []string
	for i := range 8 {
		first = append(first, f.create(fmt.Sprintf("t%d", i)).ID)
	}
	res, _, err = c.PollChanges(ctx, "accounts", &cur, &opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Created) != 8 || len(res.Updated) != 0 {
		t.Fatalf("first poll: %d created, %d updated; want 8, 0", len(res.Created), len(res.Updated))
	}
	if got := len(f.tableRequests()); got != 1+3 {
		t.Errorf("%d requests so far, want 4 (baseline and three pages)", got)
	}
	cur = res.Cursor
	if !cur.ModifiedOn.Equal(pollEpoch) || len(cur.Seen) != 8 {
		t.Fatalf("cursor = %+v, want the epoch with 8 rows seen", cur)
	}

	// Same second: four more rows, and a change to one already reported.
	var second []string
	for i := range 4 {
		second = append(second, f.create(fmt.Sprintf("u%d", i)).ID)
	}
	f.update(first[5])
	res, _, err = c.PollChanges(ctx, "accounts", &cur, &opts)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"u0", "u1", "u2", "u3"}, sortedPollNames(res.Created)); diff != "" {
		t.Errorf("created (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"t5'"}, pollNames(res.Updated)); diff != "" {
		t.Errorf("updated (-want +got):\n%s", diff)
	}
	cur = res.Cursor

	// Nothing new: nothing reported, however many polls.
	for range 3 {
		res, _, err = c.PollChanges(ctx, "accounts", &cur, &opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Created)+len(res.Updated) != 0 {
			t.Fatalf("repeat: %v %v", pollNames(res.Created), pollNames(res.Updated))
		}
		cur = res.Cursor
	}

	// The next second. While the service's clock is within a second of the page boundaries in the
	// old second, rows can still be written behind them: the cursor stays there.
	f.tick(time.Second)
	f.update(second[0])
	res, _, err = c.PollChanges(ctx, "accounts", &cur, &opts)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"u0'"}, pollNames(res.Updated)); diff != "" {
		t.Errorf("updated (-want +got):\n%s", diff)
	}
	if !res.Cursor.ModifiedOn.Equal(pollEpoch) || len(res.Cursor.Seen) != 12 {
		t.Errorf("cursor = %v with %d rows seen, want the epoch with 12", res.Cursor.ModifiedOn, len(res.Cursor.Seen))
	}
	// Later, the old second is closed: the tie set is dropped from the cursor.
	f.tick(2 * time.Second)
	res, _, err = c.PollChanges(ctx, "accounts", &res.Cursor, &opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Created)+len(res.Updated) != 0 {
		t.Errorf("repeat: %v %v", pollNames(res.Created), pollNames(res.Updated))
	}
	want := PollCursor{ModifiedOn: pollEpoch.Add(time.Second), CreatedSince: pollEpoch.Add(time.Second),
		Seen: []PollSeen{{ID: second[0], ModifiedOn: pollEpoch.Add(time.Second), Version: fmt.Sprintf(`W/"%d"`, f.rows[second[0]].Version)}}}
	if diff := cmp.Diff(want, res.Cursor); diff != "" {
		t.Errorf("cursor (-want +got):\n%s", diff)
	}
}

func sortedPollNames(recs []Record) []string {
	n := pollNames(recs)
	slices.Sort(n)
	return n
}

func TestPollChangesBaseline(t *testing.T) {
	t.Parallel()
	f := newPollFake(t, 3)
	for i := range 5 {
		f.create(fmt.Sprintf("old%d", i))
		f.tick(time.Minute)
	}
	f.tick(-time.Minute)
	var last []string
	for i := range 4 {
		last = append(last, f.create(fmt.Sprintf("last%d", i)).ID)
	}
	c := f.client(t)
	ctx := context.Background()
	opts := PollOptions{PrimaryKey: "accountid", PageSize: 2}
	res, _, err := c.PollChanges(ctx, "accounts", nil, &opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Created)+len(res.Updated) != 0 || res.More {
		t.Fatalf("baseline reported %v %v", res.Created, res.Updated)
	}
	// old4 was written in the same minute as the last rows.
	latest := pollEpoch.Add(4 * time.Minute)
	var wantSeen []PollSeen
	for _, r := range f.rows {
		if r.Modified.Equal(latest) {
			wantSeen = append(wantSeen, PollSeen{ID: r.ID, ModifiedOn: r.Modified, Version: fmt.Sprintf(`W/"%d"`, r.Version)})
		}
	}
	if len(wantSeen) != 5 {
		t.Fatalf("%d rows in the last minute, want 5", len(wantSeen))
	}
	slices.SortFunc(wantSeen, func(a, b PollSeen) int { return strings.Compare(a.ID, b.ID) })
	want := PollCursor{ModifiedOn: latest, CreatedSince: latest.Add(time.Second), Seen: wantSeen}
	if diff := cmp.Diff(want, res.Cursor); diff != "" {
		t.Errorf("cursor (-want +got):\n%s", diff)
	}
	// Three pages of two until a row older than the last minute shows.
	if got := len(f.tableRequests()); got != 3 {
		t.Errorf("%d requests, want 3", got)
	}

	f.create("after")
	f.update(last[2])
	res, _, err = c.PollChanges(ctx, "accounts", &res.Cursor, &opts)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"after"}, pollNames(res.Created)); diff != "" {
		t.Errorf("created (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"last2'"}, pollNames(res.Updated)); diff != "" {
		t.Errorf("updated (-want +got):\n%s", diff)
	}
}

// MaxPages bounds the pages with news; pages of rows already reported do not count, so a block
// of rows sharing one second larger than MaxPages pages cannot stall the poller.
func TestPollChangesMaxPages(t *testing.T) {
	t.Parallel()
	f := newPollFake(t, 11)
	for i := range 10 {
		f.create(fmt.Sprintf("r%02d", i)) // all in one second
	}
	c := f.client(t)
	ctx := context.Background()
	opts := PollOptions{PrimaryKey: "accountid", PageSize: 2, MaxPages: 1}
	cur := PollCursor{ModifiedOn: pollEpoch.Add(-time.Hour)}
	var got []string
	for poll := 1; ; poll++ {
		if poll > 10 {
			t.Fatal("no end after 10 polls")
		}
		before := len(f.tableRequests())
		res, _, err := c.PollChanges(ctx, "accounts", &cur, &opts)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, pollNames(res.Created)...)
		if len(res.Updated) != 0 {
			t.Errorf("poll %d: updated %v", poll, pollNames(res.Updated))
		}
		// Poll n walks n-1 pages already reported, then one page of news.
		if want := min(poll, 5); len(f.tableRequests())-before != want {
			t.Errorf("poll %d: %d requests, want %d", poll, len(f.tableRequests())-before, want)
		}
		cur = res.Cursor
		if !res.More {
			if poll != 5 {
				t.Errorf("done after %d polls, want 5", poll)
			}
			break
		}
	}
	want := []string{"r00", "r01", "r02", "r03", "r04", "r05", "r06", "r07", "r08", "r09"}
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reported (-want +got):\n%s", diff)
	}
}

// A write stamped before a poll but committed after it is lost without Overlap (the reason for
// the option) and reported once with it.
func TestPollChangesOverlap(t *testing.T) {
	t.Parallel()
	for _, overlap := range []time.Duration{0, 5 * time.Second} {
		t.Run(fmt.Sprint(overlap), func(t *testing.T) {
			t.Parallel()
			f := newPollFake(t, 5)
			base := f.create("base")
			c := f.client(t)
			ctx := context.Background()
			opts := PollOptions{PrimaryKey: "accountid", Overlap: overlap}
			res, _, err := c.PollChanges(ctx, "accounts", nil, &opts)
			if err != nil {
				t.Fatal(err)
			}
			cur := res.Cursor
			if want := pollEpoch.Add(-overlap); !cur.ModifiedOn.Equal(want) {
				t.Errorf("baseline cursor at %v, want %v", cur.ModifiedOn, want)
			}

			f.tick(time.Second)
			slow := f.lateCreate("slow", 2) // stamped now, visible from the second request on
			f.tick(2 * time.Second)
			f.update(base.ID)
			var created, updated []string
			for range 4 {
				res, _, err = c.PollChanges(ctx, "accounts", &cur, &opts)
				if err != nil {
					t.Fatal(err)
				}
				created = append(created, pollNames(res.Created)...)
				updated = append(updated, pollNames(res.Updated)...)
				cur = res.Cursor
			}
			wantCreated := []string{"slow"}
			if overlap == 0 {
				wantCreated = nil
			}
			if diff := cmp.Diff(wantCreated, created, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("created (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"base'"}, updated); diff != "" {
				t.Errorf("updated (-want +got):\n%s", diff)
			}
			if _, ok := f.rows[slow.ID]; !ok {
				t.Error("the late write never committed")
			}
		})
	}
}

func TestPollChangesWithoutETags(t *testing.T) {
	t.Parallel()
	f := newPollFake(t, 9)
	f.noETag = true
	r := f.create("a")
	c := f.client(t)
	ctx := context.Background()
	opts := PollOptions{PrimaryKey: "accountid", Select: []string{"name", "versionnumber"}}
	res, _, err := c.PollChanges(ctx, "accounts", &PollCursor{}, &opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Cursor.Seen; len(got) != 1 || got[0].Version != "1" {
		t.Fatalf("seen = %+v, want version 1 from versionnumber", got)
	}
	f.update(r.ID) // same second, new version
	res, _, err = c.PollChanges(ctx, "accounts", &res.Cursor, &opts)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a'"}, pollNames(res.Updated)); diff != "" {
		t.Errorf("updated (-want +got):\n%s", diff)
	}
}

func TestPollChangesErrors(t *testing.T) {
	t.Parallel()
	cur := &PollCursor{ModifiedOn: pollEpoch}
	tests := []struct {
		name    string
		set     string
		opts    PollOptions
		badRow  map[string]any
		wantErr string
		wantIs  error
	}{
		{name: "no entity set", opts: PollOptions{PrimaryKey: "accountid"}, wantIs: ErrInvalidInput},
		{name: "bad entity set", set: "accounts?x", opts: PollOptions{PrimaryKey: "accountid"}, wantIs: ErrInvalidInput},
		{name: "bad primary key", set: "accounts", opts: PollOptions{PrimaryKey: "account id"}, wantIs: ErrInvalidInput},
		{name: "negative page size", set: "accounts", opts: PollOptions{PrimaryKey: "accountid", PageSize: -1}, wantIs: ErrInvalidInput},
		{name: "negative overlap", set: "accounts", opts: PollOptions{PrimaryKey: "accountid", Overlap: -time.Second}, wantIs: ErrInvalidInput},
		{name: "unknown entity set", set: "widgets", opts: PollOptions{}, wantIs: ErrNotFound, wantErr: "no table has this entity set name"},
		{name: "service error", set: "accounts", opts: PollOptions{PrimaryKey: "accountid", Filter: "nosuch eq 1"},
			wantErr: "Could not find a property named 'nosuch'"},
		{name: "row without modifiedon", set: "accounts", opts: PollOptions{PrimaryKey: "accountid"},
			badRow: map[string]any{"accountid": accountID}, wantErr: "modifiedon <nil> is not a date"},
		{name: "row with a bad modifiedon", set: "accounts", opts: PollOptions{PrimaryKey: "accountid"},
			badRow: map[string]any{"accountid": accountID, "modifiedon": "yesterday"}, wantErr: "modifiedon yesterday is not a date"},
		{name: "row with a bad createdon", set: "accounts", opts: PollOptions{PrimaryKey: "accountid"},
			badRow: map[string]any{"accountid": accountID, "modifiedon": "2025-05-01T00:00:00Z", "createdon": 5}, wantErr: "createdon 5 is not a date"},
		{name: "row without the key", set: "accounts", opts: PollOptions{PrimaryKey: "accountid"},
			badRow: map[string]any{"modifiedon": "2025-05-01T00:00:00Z"}, wantErr: "row without a accountid string"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newPollFake(t, uint64(i))
			f.badRow = tt.badRow
			_, _, err := f.client(t).PollChanges(context.Background(), tt.set, cur, &tt.opts)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v is not %v", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestPollCursorJSON(t *testing.T) {
	t.Parallel()
	cur := PollCursor{ModifiedOn: pollAt("2025-05-01T10:00:00Z"), CreatedSince: pollAt("2025-05-01T09:00:00Z"), Seen: []PollSeen{{ID: accountID, ModifiedOn: pollAt("2025-05-01T10:00:00Z"), Version: `W/"42"`}}}
	b, err := json.Marshal(cur)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"modifiedOn":"2025-05-01T10:00:00Z","createdSince":"2025-05-01T09:00:00Z","seen":[{"id":"7d577253-3ef0-4a0a-bb7f-8335c2596e70","modifiedOn":"2025-05-01T10:00:00Z","version":"W/\"42\""}]}`
	if string(b) != want {
		t.Errorf("JSON = %s\nwant   %s", b, want)
	}
	var back PollCursor
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(cur, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

// TestPollChangesProperty runs random interleavings of writers and polls: writes land between polls
// and between the pages of one poll, often many in the same second, some committing late. With the
// cursor persisted as JSON between polls it checks that
//
//   - no row version is reported twice;
//   - every version written after the first poll is reported, or superseded by a later version of
//     the same row that is;
//   - nothing written before the first poll is reported;
//   - a row created after the first poll is first reported as created, and only then.
func TestPollChangesProperty(t *testing.T) {
	t.Parallel()
	iterations := 150
	if testing.Short() {
		iterations = 30
	}
	for it := range iterations {
		seed := uint64(it)
		t.Run(strconv.Itoa(it), func(t *testing.T) {
			t.Parallel()
			runPollProperty(t, seed)
		})
	}
}

type pollWrite struct {
	id      string
	version int64
	create  bool
	phase   int // 0 before the first poll, 1 during it, 2 after it
}

func runPollProperty(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 2))
	f := newPollFake(t, seed)
	maxDelay := 0
	if rng.IntN(2) == 0 {
		maxDelay = 1 + rng.IntN(3) // late commits, up to this many requests later
	}
	opts := PollOptions{
		PrimaryKey: "accountid",
		PageSize:   []int{1, 2, 3, 4, 6, 10}[rng.IntN(6)],
		MaxPages:   []int{0, 0, 1, 2, 3}[rng.IntN(5)],
	}
	if maxDelay > 0 {
		// The clock moves at most one second per request, so a write commits at most maxDelay
		// seconds after its stamp.
		opts.Overlap = time.Duration(maxDelay+1) * time.Second
	}
	if rng.IntN(3) == 0 {
		opts.Filter = "statecode eq 0"
	}

	var writes []pollWrite
	phase := 0
	liveIDs := func() []string {
		var ids []string
		for id := range f.rows {
			if !f.pending(id) {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		return ids
	}
	write := func() {
		ids := liveIDs()
		delay := 0
		// Writes before the first poll commit at once, so that "before" is well defined.
		if maxDelay > 0 && phase > 0 && rng.IntN(4) == 0 {
			delay = 1 + rng.IntN(maxDelay)
		}
		if len(ids) == 0 || rng.IntN(3) == 0 {
			var r fakeRow
			if delay > 0 {
				r = f.lateCreate("n", delay)
			} else {
				r = *f.create("n")
			}
			writes = append(writes, pollWrite{r.ID, r.Version, true, phase})
			return
		}
		id := ids[rng.IntN(len(ids))]
		var r fakeRow
		if delay > 0 {
			r = f.lateUpdate(id, delay)
		} else {
			r = *f.update(id)
		}
		writes = append(writes, pollWrite{r.ID, r.Version, false, phase})
	}
	// A budget of writes, so that walks end even with one row per page and no MaxPages.
	budget := 40 + rng.IntN(160)
	writer := func(f *pollFake) {
		if len(writes) >= budget {
			return
		}
		if rng.IntN(3) == 0 {
			f.tick(time.Second)
		}
		n := rng.IntN(4)
		if rng.IntN(10) == 0 {
			n = 10 + rng.IntN(20) // a burst within one second, across page boundaries
		}
		for range n {
			write()
		}
	}
	f.mu.Lock()
	for range rng.IntN(15) {
		if rng.IntN(2) == 0 {
			f.tick(time.Second)
		}
		write()
	}
	f.mu.Unlock()
	flipped := map[string]bool{}
	// A few rows leave and re-enter the filter, to exercise it; their writes are state changes.
	f.beforeRequest = func(f *pollFake) {
		writer(f)
		for _, id := range liveIDs() {
			r := f.rows[id]
			if opts.Filter != "" && len(writes) < budget && rng.IntN(50) == 0 {
				r.State = 1 - r.State
				flipped[r.ID] = true
				f.version++
				r.Modified, r.Version = f.now, f.version
				writes = append(writes, pollWrite{r.ID, r.Version, false, phase})
			}
		}
	}

	c := f.directClient(t)
	ctx := context.Background()
	type report struct {
		id      string
		version int64
		created bool
	}
	var reports []report
	record := func(res *PollResult) {
		for i, list := range [][]Record{res.Created, res.Updated} {
			for _, rec := range list {
				v, _ := strconv.ParseInt(strings.Trim(strings.TrimPrefix(rec.ETag(), "W/"), `"`), 10, 64)
				reports = append(reports, report{rec["accountid"].(string), v, i == 0})
			}
		}
	}
	persist := func(cur PollCursor) *PollCursor {
		b, err := json.Marshal(cur)
		if err != nil {
			t.Fatal(err)
		}
		var back PollCursor
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		return &back
	}

	f.mu.Lock()
	phase = 1
	f.mu.Unlock()
	res, _, err := c.PollChanges(ctx, "accounts", nil, &opts)
	if err != nil {
		t.Fatal(err)
	}
	record(res)
	cur := persist(res.Cursor)
	f.mu.Lock()
	phase = 2
	// Rows created in the baseline's last second and updated before they are first reported are
	// reported as updated (see pollBaseline); the property is checked from the next second on.
	f.tick(time.Second)
	f.mu.Unlock()

	for range 5 + rng.IntN(25) {
		res, _, err := c.PollChanges(ctx, "accounts", cur, &opts)
		if err != nil {
			t.Fatal(err)
		}
		record(res)
		cur = persist(res.Cursor)
	}
	// Writers stop and everything commits; polls then drain what is left.
	f.mu.Lock()
	f.beforeRequest = nil
	f.commitLate(true)
	f.mu.Unlock()
	for n := 0; ; n++ {
		if n > 200 {
			t.Fatal("polls never drained the table")
		}
		res, _, err := c.PollChanges(ctx, "accounts", cur, &opts)
		if err != nil {
			t.Fatal(err)
		}
		record(res)
		cur = persist(res.Cursor)
		if !res.More && len(res.Created)+len(res.Updated) == 0 {
			break
		}
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	// Which rows match the filter in their final state decides whether their last versions must
	// be seen; rows that left the filter may have their later versions unreported.
	final := map[string]*fakeRow{}
	for id, r := range f.rows {
		final[id] = r
	}
	matches := func(r *fakeRow) bool { return opts.Filter == "" || r.State == 0 }

	reported := map[[2]any]bool{}
	latest := map[string]int64{}
	firstReport := map[string]report{}
	for _, r := range reports {
		k := [2]any{r.id, r.version}
		if reported[k] {
			t.Errorf("seed %d: %s version %d reported twice", seed, r.id, r.version)
		}
		reported[k] = true
		latest[r.id] = max(latest[r.id], r.version)
		if _, ok := firstReport[r.id]; !ok {
			firstReport[r.id] = r
		}
	}
	writePhase := map[[2]any]int{}
	createdPhase := map[string]int{}
	for _, w := range writes {
		writePhase[[2]any{w.id, w.version}] = w.phase
		if w.create {
			createdPhase[w.id] = w.phase
		}
	}
	for _, r := range reports {
		p, ok := writePhase[[2]any{r.id, r.version}]
		if !ok {
			t.Errorf("seed %d: %s version %d was never written", seed, r.id, r.version)
		}
		if p == 0 {
			t.Errorf("seed %d: %s version %d predates the first poll but was reported", seed, r.id, r.version)
		}
		if r.created && r != firstReport[r.id] {
			t.Errorf("seed %d: %s reported as created after it had been reported", seed, r.id)
		}
		if r.created && createdPhase[r.id] == 0 {
			t.Errorf("seed %d: %s created before the first poll but reported as created", seed, r.id)
		}
	}
	for id, first := range firstReport {
		// A row that left the filter before it was first seen is rightly "updated" when it
		// comes back after the cursor has moved past its creation.
		if createdPhase[id] == 2 && !first.created && !flipped[id] {
			t.Errorf("seed %d: %s created after the first poll but first reported as updated", seed, id)
		}
	}
	for _, w := range writes {
		if w.phase != 2 {
			continue
		}
		r := final[w.id]
		if !matches(r) {
			continue
		}
		if latest[w.id] < w.version {
			t.Errorf("seed %d: %s version %d lost (latest reported %d, final %d)", seed, w.id, w.version, latest[w.id], r.Version)
		}
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("opts %+v, %d writes, %d reports, %d requests", opts, len(writes), len(reports), len(f.requests))
	}
}

// A row written during a walk in the same second as a page boundary, with a smaller id, sorts
// before the boundary: the walk does not return it. The next poll must read that second again.
func TestPollChangesRowBehindPageBoundary(t *testing.T) {
	t.Parallel()
	f := newPollFake(t, 13)
	put := func(id, name string) {
		f.version++
		f.rows[id] = &fakeRow{ID: id, Name: name, Created: f.now, Modified: f.now, Version: f.version}
	}
	put("aaaaaaaa-0000-4000-8000-000000000000", "a")
	put("cccccccc-0000-4000-8000-000000000000", "c")
	n := 0
	f.beforeRequest = func(f *pollFake) {
		n++
		if n == 2 { // between the first and second page
			put("00000000-0000-4000-8000-000000000000", "behind")
			f.tick(time.Second)
			put("ffffffff-0000-4000-8000-000000000000", "later")
		}
	}
	c := f.client(t)
	ctx := context.Background()
	opts := PollOptions{PrimaryKey: "accountid", PageSize: 1}
	cur := &PollCursor{}
	var created []string
	for range 3 {
		res, _, err := c.PollChanges(ctx, "accounts", cur, &opts)
		if err != nil {
			t.Fatal(err)
		}
		created = append(created, pollNames(res.Created)...)
		if len(res.Updated) != 0 {
			t.Errorf("updated %v", pollNames(res.Updated))
		}
		cur = &res.Cursor
	}
	if diff := cmp.Diff([]string{"a", "c", "later", "behind"}, created); diff != "" {
		t.Errorf("created (-want +got):\n%s", diff)
	}
}

func TestBoundaryMayMove(t *testing.T) {
	t.Parallel()
	b := pollAt("2025-05-01T10:00:00Z")
	tests := []struct {
		date    string
		overlap time.Duration
		want    bool
	}{
		{"Thu, 01 May 2025 10:00:00 GMT", 0, true},  // the boundary's own second
		{"Thu, 01 May 2025 10:00:01 GMT", 0, true},  // Date is taken after the page was read
		{"Thu, 01 May 2025 10:00:02 GMT", 0, false}, // that second is over
		{"Thu, 01 May 2025 10:00:05 GMT", 5 * time.Second, true},
		{"Thu, 01 May 2025 09:59:00 GMT", 0, true}, // a clock behind the stamps
		{"", 0, true},
		{"yesterday", 0, true},
	}
	for _, tt := range tests {
		if got := boundaryMayMove(b, tt.date, tt.overlap); got != tt.want {
			t.Errorf("boundaryMayMove(%q, %v) = %v, want %v", tt.date, tt.overlap, got, tt.want)
		}
	}
}

// Poll a table for new and updated rows, persisting the cursor between polls.
func ExampleClient_PollChanges() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; odata.metadata=minimal")
		fmt.Fprint(w, `{"value":[
{"@odata.etag":"W/\"1001\"","name":"Contoso","createdon":"2025-05-02T09:00:00Z","modifiedon":"2025-05-02T09:00:00Z","accountid":"7d577253-3ef0-4a0a-bb7f-8335c2596e70"},
{"@odata.etag":"W/\"1002\"","name":"Fabrikam","createdon":"2024-01-10T08:00:00Z","modifiedon":"2025-05-02T09:30:00Z","accountid":"c1b2a3d4-0000-4000-8000-000000000001"}]}`)
	}))
	defer srv.Close()
	ctx := context.Background()
	c, err := New(srv.URL, WithStaticToken("token"))
	if err != nil {
		fmt.Println(err)
		return
	}
	opts := PollOptions{PrimaryKey: "accountid", Select: []string{"name"},
		Since: time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)}

	res, _, err := c.PollChanges(ctx, "accounts", nil, &opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res.Created {
		fmt.Println("created", r["name"])
	}
	for _, r := range res.Updated {
		fmt.Println("updated", r["name"])
	}
	state, _ := json.Marshal(res.Cursor) // store it with the rest of the trigger's state

	var cursor PollCursor
	json.Unmarshal(state, &cursor)
	res, _, err = c.PollChanges(ctx, "accounts", &cursor, &opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(res.Created)+len(res.Updated), "changes on the next poll")
	// Output:
	// created Contoso
	// updated Fabrikam
	// 0 changes on the next poll
}
