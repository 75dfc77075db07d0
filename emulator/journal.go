package emulator

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/oauth"
	"github.com/dynlocal/dynlocal/emulator/webapi"
	"github.com/dynlocal/dynlocal/emulator/wire"
)

// The request journal answers what a test most often asks of an emulator: what did my code send,
// and why was it refused. It keeps the most recent requests to the Web API and the identity
// endpoints (not the admin API, which reads it) in a ring, each with its status, duration, caller,
// selected headers and bodies up to a size, and for every refusal the reason in words. A $batch's
// parts are entries of their own, linked to their batch. GET /_emulator/requests lists it.

// JournalEntry is one request as the journal keeps it.
type JournalEntry struct {
	ID         int64     `json:"id"`
	Time       time.Time `json:"time"`
	Method     string    `json:"method"`
	Path       string    `json:"path"`
	Query      string    `json:"query,omitempty"`
	Status     int       `json:"status"`
	DurationMs float64   `json:"durationMs"`
	// Reason says in words why a request was refused (every 4xx and 5xx): the token problem of a
	// 401, the Dataverse error code and message of others.
	Reason string `json:"reason,omitempty"`
	// Caller is the systemuser the request acted as, once its token was accepted.
	Caller string `json:"caller,omitempty"`
	// Headers are the request headers a test asks about; Authorization is kept as its scheme only.
	Headers map[string]string `json:"headers,omitempty"`
	// ResponseHeaders are the answer's headers a client acts on (ETag, OData-EntityId,
	// Retry-After, ...).
	ResponseHeaders map[string]string `json:"responseHeaders,omitempty"`
	RequestBody     string            `json:"requestBody,omitempty"`
	ResponseBody    string            `json:"responseBody,omitempty"`
	// Truncated says a body was longer than the journal keeps.
	Truncated bool `json:"truncated,omitempty"`
	// BatchID is, for a $batch part, the id of its $batch request.
	BatchID int64 `json:"batchId,omitempty"`
	// Fault is the id of the fault rule that acted on the request.
	Fault int64 `json:"fault,omitempty"`
}

// journaledHeaders are the request headers an entry keeps.
var journaledHeaders = headerPick("Authorization", "Content-Type", "Accept", "Prefer", "If-Match", "If-None-Match",
	"MSCRMCallerID", "CallerObjectId", "OData-MaxVersion", "OData-Version", "Content-ID", "Origin",
	"MSCRM.SuppressDuplicateDetection", "MSCRM.BypassCustomPluginExecution", "User-Agent")

// journaledResponseHeaders are the answer's headers an entry keeps: the ones a client acts on.
var journaledResponseHeaders = headerPick("Content-Type", "ETag", "OData-EntityId", "Location", "Preference-Applied",
	"Retry-After", "WWW-Authenticate", "OData-Version", "x-ms-request-id")

// headerPick maps the canonical form of each name to the name as an entry spells it.
func headerPick(names ...string) map[string]string {
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[textproto.CanonicalMIMEHeaderKey(n)] = n
	}
	return m
}

const (
	defaultJournalSize      = 1000
	defaultJournalBodyLimit = 16 << 10
)

// journal is the ring of recent requests.
type journal struct {
	size, bodyLimit int

	mu      sync.Mutex
	entries []JournalEntry // ring; next is where the next entry goes
	next    int
	full    bool
	lastID  int64
}

func newJournal(size, bodyLimit int) *journal {
	if size == 0 {
		size = defaultJournalSize
	}
	if bodyLimit == 0 {
		bodyLimit = defaultJournalBodyLimit
	}
	if size < 0 {
		return nil
	}
	return &journal{size: size, bodyLimit: max(bodyLimit, 0), entries: make([]JournalEntry, size)}
}

func (j *journal) newID() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.lastID++
	return j.lastID
}

func (j *journal) add(e JournalEntry) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.entries[j.next] = e
	j.next = (j.next + 1) % j.size
	if j.next == 0 {
		j.full = true
	}
}

// list returns the entries newest first, those keep accepts.
func (j *journal) list(keep func(*JournalEntry) bool) []JournalEntry {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := j.next
	if j.full {
		n = j.size
	}
	out := []JournalEntry{}
	for i := range n {
		e := &j.entries[(j.next-1-i+j.size)%j.size]
		if keep(e) {
			out = append(out, *e)
		}
	}
	return out
}

func (j *journal) clear() {
	j.mu.Lock()
	defer j.mu.Unlock()
	clear(j.entries)
	j.next, j.full = 0, false
}

// journalNote is what the handlers tell the journal about the request under way: carried in the
// request's context.
type journalNote struct {
	id     int64
	mu     sync.Mutex
	reason string
	caller string
	fault  int64
}

type journalKey struct{}

func noteOf(ctx context.Context) *journalNote {
	n, _ := ctx.Value(journalKey{}).(*journalNote)
	return n
}

// noteReason records why the request under way is refused, unless a reason is there already (the
// first is the most precise: an authentication failure, before the error that reports it).
func noteReason(ctx context.Context, reason string) {
	if n := noteOf(ctx); n != nil {
		n.mu.Lock()
		if n.reason == "" {
			n.reason = reason
		}
		n.mu.Unlock()
	}
}

func noteFault(ctx context.Context, rule int64) {
	if n := noteOf(ctx); n != nil {
		n.mu.Lock()
		n.fault = rule
		n.mu.Unlock()
	}
}

func noteCaller(ctx context.Context, userID string) {
	if n := noteOf(ctx); n != nil {
		n.mu.Lock()
		n.caller = userID
		n.mu.Unlock()
	}
}

// journalRequests records every request it serves.
func (s *Server) journalRequests(next http.Handler) http.Handler {
	if s.journal == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		note := &journalNote{id: s.journal.newID()}
		r = r.WithContext(context.WithValue(r.Context(), journalKey{}, note))
		s.serveJournaled(w, r, note, 0, s.journal.add, func(w http.ResponseWriter, r *http.Request) { next.ServeHTTP(w, r) })
	})
}

// journalPart records one $batch part, linked to its batch. A change set's part is recorded once
// the change set is over, from the run whose answers the client gets (webapi.ChangeSet).
func (s *Server) journalPart(w http.ResponseWriter, r *http.Request, cs *webapi.ChangeSet, serve func(http.ResponseWriter, *http.Request)) {
	outer := noteOf(r.Context())
	if s.journal == nil || outer == nil {
		serve(w, r)
		return
	}
	note := &journalNote{id: s.journal.newID()}
	r = r.WithContext(context.WithValue(r.Context(), journalKey{}, note))
	add := s.journal.add
	if cs != nil {
		add = func(e JournalEntry) { cs.AfterRun(func() { s.journal.add(e) }) }
	}
	s.serveJournaled(w, r, note, outer.id, add, serve)
}

func (s *Server) serveJournaled(w http.ResponseWriter, r *http.Request, note *journalNote, batchID int64, add func(JournalEntry), serve func(http.ResponseWriter, *http.Request)) {
	start := time.Now()
	limit := s.journal.bodyLimit
	var reqBody limitedBuffer
	reqBody.limit = limit
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &teeBody{ReadCloser: r.Body, copy: &reqBody}
	}
	rec := &journalRecorder{ResponseWriter: w, body: limitedBuffer{limit: limit}}
	serve(rec, r)
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	e := JournalEntry{
		ID: note.id, Time: start.UTC(), Method: r.Method, Path: wire.BasePath(r.Context()) + r.URL.Path, Query: r.URL.RawQuery,
		Status: status, DurationMs: float64(time.Since(start).Microseconds()) / 1000,
		RequestBody: reqBody.String(), ResponseBody: rec.body.String(),
		Truncated: reqBody.cut || rec.body.cut, BatchID: batchID,
	}
	if strings.Contains(r.URL.Path, "/oauth2/") {
		// Token requests carry client secrets and codes in their bodies, and answers carry tokens.
		e.RequestBody, e.ResponseBody, e.Query = "", "", ""
	} else if s.hasSecretColumns(r.URL.Path) {
		// A serviceendpoints row carries its authvalue, which nobody may read back.
		e.RequestBody = "(not kept: the table has columns not valid for read)"
	}
	e.Headers = keptHeaders(r.Header, journaledHeaders)
	if e.Headers["Authorization"] != "" {
		scheme, _, _ := strings.Cut(e.Headers["Authorization"], " ")
		e.Headers["Authorization"] = scheme + " (redacted)"
	}
	e.ResponseHeaders = keptHeaders(rec.Header(), journaledResponseHeaders)
	note.mu.Lock()
	e.Reason, e.Caller, e.Fault = note.reason, note.caller, note.fault
	note.mu.Unlock()
	if status >= 400 && e.Reason == "" {
		e.Reason = http.StatusText(status)
	}
	if status >= 400 && status != http.StatusUnauthorized {
		s.log.Debug("request refused", "method", r.Method, "path", e.Path, "status", status, "reason", e.Reason)
	}
	add(e)
}

// keptHeaders picks the headers of h that pick names, by the names pick spells them, nil when h
// has none of them. It walks h's few headers rather than looking up each name, which would
// canonicalize the name on every request.
func keptHeaders(h http.Header, pick map[string]string) map[string]string {
	var out map[string]string
	for k, vs := range h {
		n, ok := pick[k]
		if !ok || len(vs) == 0 || vs[0] == "" {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[n] = vs[0]
	}
	return out
}

// limitedBuffer keeps the first limit bytes written to it. It is a strings.Builder so that the
// entry's string is the buffer itself, and its first write sizes the buffer to fit: a response
// written in one piece (as most are) is copied once.
type limitedBuffer struct {
	strings.Builder
	limit int
	cut   bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	room := b.limit - b.Len()
	keep := p
	if room < len(p) {
		b.cut = true
		keep = p[:max(room, 0)]
	}
	if len(keep) > 0 {
		if b.Cap() == 0 {
			b.Grow(len(keep))
		}
		b.Builder.Write(keep)
	}
	return len(p), nil
}

// teeBody copies what the handler reads of a request body.
type teeBody struct {
	io.ReadCloser
	copy io.Writer
}

func (t *teeBody) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	if n > 0 {
		t.copy.Write(p[:n])
	}
	return n, err
}

// journalRecorder passes a response through, keeping its status and the start of its body.
type journalRecorder struct {
	http.ResponseWriter
	status int
	body   limitedBuffer
}

func (r *journalRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *journalRecorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(p)
	return r.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection.
func (r *journalRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// tokenReason puts a refused token's problem in words, naming the audiences when they differ.
func tokenReason(err error, audiences []string) string {
	var te *oauth.TokenError
	if !errors.As(err, &te) {
		return "token not accepted: " + err.Error()
	}
	switch te.Reason {
	case oauth.ReasonWrongAudience:
		return "token audience does not match this organisation " + strings.Join(audiences, " or ") + ": " + te.Detail
	case oauth.ReasonBadSignature:
		return "token signature does not match this emulator's signing key (a token from another emulator, or from before its key changed): " + te.Detail
	case oauth.ReasonExpired:
		return "token expired: " + te.Detail
	}
	return "token " + string(te.Reason) + ": " + te.Detail
}

// errorReason is a refusal's reason: the Dataverse error code and message.
func errorReason(err error) string {
	var de *dverr.Error
	if errors.As(err, &de) {
		if de.Code != "" && de.Message != "" {
			return de.Code + ": " + de.Message
		}
		if de.Message != "" {
			return de.Message
		}
		return ""
	}
	return err.Error()
}

// listRequests serves GET /_emulator/requests: the journal, newest first, filtered by method,
// path (a prefix), status (a code, or a class such as 4xx), since (RFC 3339) and caller.
func (s *Server) listRequests(w http.ResponseWriter, r *http.Request) error {
	if s.journal == nil {
		return dverr.BadRequest("The request journal is off (Config.JournalSize < 0).")
	}
	keep, err := journalFilter(r.URL.Query(), wire.BasePath(r.Context()))
	if err != nil {
		return err
	}
	wire.WriteJSON(w, http.StatusOK, map[string]any{"value": s.journal.list(keep)})
	return nil
}

// clearRequests serves DELETE /_emulator/requests.
func (s *Server) clearRequests(w http.ResponseWriter, r *http.Request) error {
	if s.journal != nil {
		s.journal.clear()
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// journalFilter makes the filter of GET /_emulator/requests. In an organisation served under the
// path prefix base, entries keep the path the client sent (with the prefix) and the path filter
// matches with or without it.
func journalFilter(q url.Values, base string) (func(*JournalEntry) bool, error) {
	method, path, caller := strings.ToUpper(q.Get("method")), q.Get("path"), strings.ToLower(q.Get("caller"))
	var since time.Time
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return nil, dverr.BadRequest("since must be an RFC 3339 time such as 2026-01-31T12:00:00Z, not '%s'.", v)
		}
		since = t
	}
	statusOK := func(int) bool { return true }
	if v := q.Get("status"); v != "" {
		switch {
		case len(v) == 3 && strings.HasSuffix(strings.ToLower(v), "xx") && v[0] >= '1' && v[0] <= '5':
			class := int(v[0]-'0') * 100
			statusOK = func(s int) bool { return s >= class && s < class+100 }
		default:
			code, err := strconv.Atoi(v)
			if err != nil {
				return nil, dverr.BadRequest("status must be a code such as 401 or a class such as 4xx, not '%s'.", v)
			}
			statusOK = func(s int) bool { return s == code }
		}
	}
	return func(e *JournalEntry) bool {
		pathOK := strings.HasPrefix(e.Path, path) || base != "" && strings.HasPrefix(strings.TrimPrefix(e.Path, base), path)
		return (method == "" || e.Method == method) && pathOK &&
			(caller == "" || e.Caller == caller) && !e.Time.Before(since) && statusOK(e.Status)
	}, nil
}

// ClearJournal empties the journal, as DELETE /_emulator/requests does.
func (s *Server) ClearJournal() {
	if s.journal != nil {
		s.journal.clear()
	}
}

// Journal returns the requests the journal holds, newest first (for tests and tools in this
// module; HTTP clients use GET /_emulator/requests).
func (s *Server) Journal() []JournalEntry {
	if s.journal == nil {
		return nil
	}
	return s.journal.list(func(*JournalEntry) bool { return true })
}

// hasSecretColumns reports whether the entity set a Web API path names has secret columns
// (serviceendpoint.authvalue), whose values the journal must not keep.
func (s *Server) hasSecretColumns(path string) bool {
	_, rest, ok := strings.Cut(path, "/api/data/")
	if !ok {
		return false
	}
	_, rest, _ = strings.Cut(rest, "/") // the version
	set, _, _ := strings.Cut(rest, "/")
	set, _, _ = strings.Cut(set, "(")
	e, ok := s.store.Schema().EntityBySet(set)
	if !ok {
		return false
	}
	for _, a := range e.Attributes {
		// A secret is a text column that can be written but never read back; unreadable
		// columns nobody writes (isprivate) are not secrets.
		if !a.ValidForRead && (a.ValidForCreate || a.ValidForUpdate) && (a.Type == model.TypeString || a.Type == model.TypeMemo) {
			return true
		}
	}
	return false
}
