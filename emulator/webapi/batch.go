package webapi

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/dynlocal/dynlocal/emulator/batch"
	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/store"
	"github.com/dynlocal/dynlocal/emulator/webhook"
	"github.com/dynlocal/dynlocal/emulator/wire"
)

// serveBatch runs a $batch request: each operation through the same handler as a standalone
// request, with the batch's caller; each change set inside one transaction, committed only when
// every operation in it succeeds. Without Prefer: odata.continue-on-error processing stops at the
// first failure and the batch answers 400: the answers of the operations that ran before it (they
// were committed), then the failure (for a change set, only its failing operation).
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/execute-batch-operations-using-web-api
func (s *Handler) serveBatch(w http.ResponseWriter, req *Request) error {
	if req.R.Method != http.MethodPost {
		return wire.MethodNotAllowed(req.R)
	}
	if req.R.ContentLength > maxBatchBytes {
		return errBatchTooLarge()
	}
	parts, err := spoolBatch(req.R)
	if err != nil {
		return err
	}
	defer parts.close()
	cont := req.Prefer.ContinueOnError
	var out []batch.ResponsePart
	failed := false
	for {
		p, err := parts.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return batchReadError(err)
		}
		if p.IsChangeSet() {
			resps, ok, err := s.runChangeSet(req, p.ChangeSet)
			if err != nil {
				return err
			}
			if !ok && !cont {
				// The change set was rolled back: of it only the failing operation is reported.
				// Operations before it that committed keep their answers, as OData asks.
				out = append(out, batch.ResponsePart{ChangeSet: resps[len(resps)-1:]})
				failed = true
				break
			}
			out = append(out, batch.ResponsePart{ChangeSet: resps})
			continue
		}
		resp := s.runOperation(req, p.Request, nil)
		if resp.Status >= 400 && !cont {
			out = append(out, batch.ResponsePart{Response: resp})
			failed = true
			break
		}
		out = append(out, batch.ResponsePart{Response: resp})
	}
	var buf bytes.Buffer
	ct, err := batch.Write(&buf, out, s.cfg.NewID)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("OData-Version", "4.0")
	if cont {
		w.Header().Set("Preference-Applied", "odata.continue-on-error")
	}
	if failed {
		w.WriteHeader(http.StatusBadRequest)
	} else {
		w.WriteHeader(http.StatusOK)
	}
	w.Write(buf.Bytes())
	return nil
}

// ChangeSet is what the operations of one $batch change set share: the transaction they all run
// in, and the URLs of the rows earlier operations wrote, by Content-ID.
//
// A change set whose operations meet synchronous webhook steps runs more than once (runChangeSet):
// what the chain around an operation does once per operation, whatever the runs, goes through
// Remember and AfterRun.
type ChangeSet struct {
	tx   *store.Tx
	refs changeSetRefs
	// part is the index of the operation running.
	part int
	// memo keeps what Remember computed, across runs.
	memo map[changeSetMemoKey]any
	// after is what AfterRun deferred in this run.
	after []func()
}

type changeSetMemoKey struct {
	part int
	name string
}

// Tx is the change set's transaction.
func (cs *ChangeSet) Tx() *store.Tx { return cs.tx }

// Remember returns what f returned the first time it was called under name for the running
// operation, in this run or an earlier one, calling it only the first time.
func (cs *ChangeSet) Remember(name string, f func() any) any {
	k := changeSetMemoKey{cs.part, name}
	if v, ok := cs.memo[k]; ok {
		return v
	}
	v := f()
	cs.memo[k] = v
	return v
}

// AfterRun defers f until the change set is over; f is dropped with a run that is made again,
// so it runs only for the run whose answers the client gets.
func (cs *ChangeSet) AfterRun(f func()) { cs.after = append(cs.after, f) }

// changeSetRefs maps Content-IDs of a change set to the URLs of the rows their operations wrote.
type changeSetRefs map[string]string

// runChangeSet runs the operations of a change set in one transaction. It reports whether all
// succeeded; on failure the transaction is rolled back and the last response is the failure.
// When operations meet synchronous webhook steps the run is rolled back, the endpoints are called
// with nothing held, and the change set runs again (webhook.Ledger), until a run needs no new call.
func (s *Handler) runChangeSet(req *Request, ops []*batch.Request) ([]*batch.Response, bool, error) {
	l := webhook.NewLedger(s.cfg.NewID, s.cfg.Clock)
	memo := map[changeSetMemoKey]any{}
	for {
		l.Begin()
		cs := &ChangeSet{refs: changeSetRefs{}, memo: memo}
		resps, ok, err := s.runChangeSetOnce(req, ops, cs, l)
		if l.Pending() {
			l.Settle(req.Ctx)
			continue
		}
		for _, f := range cs.after {
			f()
		}
		return resps, ok, err
	}
}

// runChangeSetOnce is one run of runChangeSet; it commits only when every operation succeeded and
// no webhook call is pending.
func (s *Handler) runChangeSetOnce(req *Request, ops []*batch.Request, cs *ChangeSet, l *webhook.Ledger) ([]*batch.Response, bool, error) {
	tx, err := s.store.Begin(req.Ctx, true)
	if err != nil {
		return nil, false, err
	}
	defer tx.Rollback()
	tx.SetValue(ledgerKey{}, l)
	cs.tx = tx
	var resps []*batch.Response
	for i, op := range ops {
		cs.part = i
		resp := s.runOperation(req, op, cs)
		resps = append(resps, resp)
		if resp.Status >= 400 {
			return resps, false, nil
		}
		if op.ContentID != "" {
			if u := resp.Header.Get("OData-EntityId"); u != "" {
				cs.refs[op.ContentID] = u
			}
		}
	}
	if l.Pending() {
		return nil, false, nil
	}
	if err := tx.Commit(); err != nil {
		return nil, false, err
	}
	return resps, true, nil
}

// resolve turns "$n" (optionally followed by a path) into the URL of the row operation n wrote.
func (refs changeSetRefs) resolve(v string) (string, error) {
	id, rest := v[1:], ""
	if i := strings.IndexByte(id, '/'); i >= 0 {
		id, rest = id[:i], id[i:]
	}
	u, ok := refs[id]
	if !ok {
		return "", dverr.BadRequest("Content-ID Reference: '$%s' does not exist in the batch context.", id)
	}
	return u + rest, nil
}

// runOperation runs one operation through the handler chain a standalone request takes
// (authentication with the batch's token and the operation's own impersonation headers, then the
// API handler) and captures its response. cs is the change set the operation belongs to, if any.
func (s *Handler) runOperation(outer *Request, op *batch.Request, cs *ChangeSet) *batch.Response {
	target := op.Target
	if strings.HasPrefix(target, "$") {
		if cs == nil {
			return errorResponse(dverr.BadRequest("Content-ID Reference: '%s' does not exist in the batch context.", target))
		}
		u, err := cs.refs.resolve(target)
		if err != nil {
			return errorResponse(err)
		}
		target = u
	}
	u, version, err := batchURL(outer, target)
	if err != nil {
		return errorResponse(err)
	}
	if strings.TrimPrefix(u.Path, "/api/data/"+version+"/") == "$batch" {
		return errorResponse(dverr.BadRequest("A $batch request cannot contain another $batch request."))
	}
	r, err := http.NewRequestWithContext(outer.Ctx, op.Method, u.String(), bytes.NewReader(op.Body))
	if err != nil {
		return errorResponse(dverr.BadRequest("The request target '%s' is not a valid URL.", op.Target))
	}
	r.Host = outer.R.Host
	r.TLS = outer.R.TLS
	for k, vs := range op.Header {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	// An operation is authenticated by the batch's token. It may impersonate on its own; without
	// its own impersonation headers it acts as the batch does.
	r.Header.Set("Authorization", outer.R.Header.Get("Authorization"))
	if r.Header.Get("MSCRMCallerID") == "" && r.Header.Get("CallerObjectId") == "" {
		for _, h := range []string{"MSCRMCallerID", "CallerObjectId"} {
			if v := outer.R.Header.Get(h); v != "" {
				r.Header.Set(h, v)
			}
		}
	}
	if op.Body == nil {
		r.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	s.cfg.Operation(rec, r, cs)
	resp := &batch.Response{ContentID: op.ContentID, Status: rec.Code, Header: rec.Header().Clone(), Body: rec.Body.Bytes()}
	if id := resp.Header.Get("OData-EntityId"); id != "" && resp.Status == http.StatusNoContent {
		resp.Header.Set("Location", id)
	}
	if op.Method == http.MethodGet && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		resp.Header.Set("Content-Type", "application/json; odata.metadata=minimal; odata.streaming=true")
	}
	if resp.Status >= 400 {
		resp.Header.Set("REQ_ID", s.cfg.NewID())
	}
	return resp
}

// errorResponse renders an error as an operation's response.
func errorResponse(err error) *batch.Response {
	de, ok := dverr.As(err)
	if !ok {
		de = dverr.New(http.StatusInternalServerError, "0x80040216", "An unexpected error occurred.")
	}
	body, _ := wire.Marshal(wire.ErrorEnvelope{Error: wire.ErrorBody{Code: de.Code, Message: de.Message}})
	h := http.Header{}
	h.Set("Content-Type", "application/json; odata.metadata=minimal")
	h.Set("OData-Version", "4.0")
	return &batch.Response{Status: de.Status, Header: h, Body: body}
}

// targetEscaper escapes what clients leave raw in batch request lines.
var targetEscaper = strings.NewReplacer(" ", "%20", `"`, "%22")

// batchURL resolves an operation's target: absolute, server-relative or relative to the service
// root. Raw spaces and quotes, which clients leave in batch request lines, are escaped first.
func batchURL(outer *Request, target string) (*url.URL, string, error) {
	t := targetEscaper.Replace(target)
	var u *url.URL
	var err error
	switch {
	case strings.Contains(t, "://"):
		u, err = url.Parse(t)
	case strings.HasPrefix(t, "/"):
		u, err = url.Parse(wire.HostOrigin(outer.R) + t)
	default:
		u, err = url.Parse(outer.Base + t)
	}
	if err != nil {
		return nil, "", dverr.BadRequest("The request target '%s' is not a valid URL.", target)
	}
	// In an organisation served under a path prefix, absolute and server-relative targets carry
	// the prefix; the operation is served as the outer request is, without it.
	if p := wire.BasePath(outer.R.Context()); p != "" {
		if rest, ok := strings.CutPrefix(u.Path, p); ok && strings.HasPrefix(rest, "/") {
			u.Path = rest
			u.RawPath = strings.TrimPrefix(u.RawPath, p)
		}
	}
	version := wire.APIVersion(u.Path)
	if version == "" {
		return nil, "", dverr.BadRequest("The request target '%s' is not a Web API URL of this service.", target)
	}
	return u, version, nil
}
