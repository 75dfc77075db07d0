package webapi

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strings"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/odata"
	"github.com/dynlocal/dynlocal/emulator/store"
	"github.com/dynlocal/dynlocal/emulator/webhook"
	"github.com/dynlocal/dynlocal/emulator/wire"
)

// Request carries what every Web API handler needs.
type Request struct {
	R      *http.Request
	Ctx    context.Context
	Base   string
	Caller Caller
	Prefer wire.Prefer
	Query  odata.Options
	Res    *odata.Resource
	// h is the handler serving the request.
	h *Handler
	// expandPage is the page size of expanded collections (a nested $expand with
	// odata.maxpagesize), 0 when they are not paged.
	expandPage int
	// cs is the $batch change set the request is an operation of, nil otherwise.
	cs *ChangeSet
}

// InTx runs fn in the request's transaction on st: its change set's when it is an operation of a
// $batch change set, else a new transaction that commits when fn succeeds.
//
// A write's fn may run more than once: when it meets synchronous webhook steps, the run is rolled
// back, the endpoints are called with nothing held and fn runs again (settledWrite). So fn must
// set, not accumulate, what it hands out through its closure.
func InTx(st *store.Store, req *Request, write bool, fn func(*store.Tx) error) error {
	if req.cs != nil {
		return fn(req.cs.tx)
	}
	if !write {
		return st.Read(req.Ctx, fn)
	}
	if req.h != nil && req.h.store == st {
		return req.h.settledWrite(req.Ctx, fn)
	}
	return st.Write(req.Ctx, fn)
}

// errRunAgain rolls back a run whose synchronous webhook calls are still to be made.
var errRunAgain = errors.New("webapi: synchronous webhook calls pending")

// settledWrite runs fn in a write transaction that is never held while a synchronous webhook is
// called: a run that meets steps whose calls are not made yet is rolled back, the calls are made,
// and fn runs again until a run needs no new call (webhook.Ledger describes the protocol).
func (s *Handler) settledWrite(ctx context.Context, fn func(*store.Tx) error) error {
	l := webhook.NewLedger(s.cfg.NewID, s.cfg.Clock)
	for {
		l.Begin()
		err := s.store.Write(ctx, func(tx *store.Tx) error {
			tx.SetValue(ledgerKey{}, l)
			err := fn(tx)
			if l.Pending() {
				// Whatever fn made of the run (it may have failed later, or succeeded), nothing
				// of it stands until the calls are made.
				return errRunAgain
			}
			return err
		})
		if !l.Pending() {
			return err
		}
		l.Settle(ctx)
	}
}

// InTx runs fn in the request's transaction.
func (s *Handler) InTx(req *Request, write bool, fn func(*store.Tx) error) error {
	return InTx(s.store, req, write, fn)
}

// Serve handles a request under /api/data/v9.x/ once authenticated: c is who it acts as, cs the
// $batch change set it is an operation of (nil for a standalone request or a $batch operation
// outside a change set). Errors are returned for the caller to render.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/compose-http-requests-handle-errors
func (s *Handler) Serve(w http.ResponseWriter, r *http.Request, c Caller, cs *ChangeSet) error {
	version := wire.APIVersion(r.URL.Path)
	prefix := "/api/data/" + version
	rest := strings.TrimPrefix(r.URL.Path, prefix)
	rest = strings.TrimPrefix(rest, "/")
	q, err := odata.ParseOptions(r.URL.RawQuery)
	if err != nil {
		return err
	}
	if err := wire.CheckPrefer(r.Header); err != nil {
		return err
	}
	req := &Request{R: r, Ctx: r.Context(), Base: wire.APIBase(r), Caller: c, Prefer: wire.ParsePrefer(r.Header), Query: q, cs: cs, h: s}
	var resp *wire.Response
	switch {
	case rest == "":
		resp, err = s.serviceDocument(req)
	case rest == "$batch":
		return s.serveBatch(w, req)
	case s.cfg.Metadata != nil && s.cfg.Metadata.Serves(rest):
		resp, err = s.cfg.Metadata.Serve(req, rest)
	default:
		segs, perr := odata.SplitPath(rest)
		if perr != nil {
			return perr
		}
		res, perr := odata.ResolvePath(s.store.Schema(), segs, s.isOperation(req))
		if perr != nil {
			return perr
		}
		req.Res = res
		resp, err = s.dispatch(req)
	}
	if err != nil {
		return err
	}
	resp.Write(w)
	return nil
}

func (s *Handler) dispatch(req *Request) (*wire.Response, error) {
	res, m := req.Res, req.R.Method
	switch res.Kind {
	case odata.KindOperation:
		return s.operation(req)
	case odata.KindEntitySet:
		switch {
		case res.Count && m == http.MethodGet:
			if _, ok := req.Query.Get("$deltatoken"); ok {
				return s.countChanges(req, res.Entity)
			}
			return s.countRecords(req, res.Entity, nil)
		case m == http.MethodGet && isChangeRequest(req):
			return s.listChanges(req, res.Entity)
		case m == http.MethodGet:
			if fx, ok := req.Query.Get("fetchXml"); ok {
				return s.fetchRecords(req, res.Entity, fx)
			}
			return s.listRecords(req, res.Entity, nil, res.Entity.EntitySetName)
		case m == http.MethodPost && !res.Count:
			return s.createRecord(req)
		}
	case odata.KindEntity:
		switch m {
		case http.MethodGet:
			return s.getRecord(req)
		case http.MethodPatch:
			return s.upsertRecord(req)
		case http.MethodDelete:
			return s.deleteRecord(req)
		}
	case odata.KindProperty:
		if res.Value || m == http.MethodPatch || fileKind(res.Property) != "" {
			return s.fileProperty(req)
		}
		switch m {
		case http.MethodGet:
			return s.getProperty(req)
		case http.MethodPut:
			return s.putProperty(req)
		case http.MethodDelete:
			return s.deleteProperty(req)
		}
	case odata.KindNavigation:
		if res.Ref {
			return s.reference(req)
		}
		if m == http.MethodGet && res.Nav.Kind == model.NavSingle && res.NavKey == nil {
			return s.getSingleNav(req)
		}
		if m == http.MethodGet && res.Nav.Kind != model.NavSingle && res.NavKey == nil {
			return s.listNavigation(req)
		}
	}
	return nil, wire.MethodNotAllowed(req.R)
}

// serviceDocument lists every entity set.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/web-api-service-documents
func (s *Handler) serviceDocument(req *Request) (*wire.Response, error) {
	if req.R.Method != http.MethodGet && req.R.Method != http.MethodHead {
		return nil, wire.MethodNotAllowed(req.R)
	}
	var names []string
	for _, e := range s.store.Schema().Entities() {
		names = append(names, e.EntitySetName)
	}
	// The metadata sets are entity sets of the service too.
	if s.cfg.Metadata != nil {
		names = append(names, s.cfg.Metadata.EntitySets()...)
	}
	sort.Strings(names)
	var items []*wire.Object
	for _, n := range names {
		o := wire.NewObject()
		o.Set("name", n)
		o.Set("kind", "EntitySet")
		o.Set("url", n)
		items = append(items, o)
	}
	body := wire.NewObject()
	body.Set("@odata.context", req.Base+"$metadata")
	body.Set("value", items)
	resp := wire.NewResponse(http.StatusOK)
	resp.JSON = body
	return resp, nil
}

// whoAmI answers the WhoAmI function (GET only; POST gets Dataverse's 404).
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/whoami
func (s *Handler) whoAmI(req *Request) (*wire.Response, error) {
	if req.R.Method != http.MethodGet {
		return nil, dverr.NoHTTPResource(strings.TrimSuffix(req.Base, "/") + "/" + strings.TrimPrefix(req.R.URL.Path[strings.Index(req.R.URL.Path, "/api/data/")+len("/api/data/v9.2/"):], "/"))
	}
	if req.Res.HasParens && strings.TrimSpace(req.Res.Params) != "" {
		return nil, dverr.BadRequest("The function 'WhoAmI' takes no parameters.")
	}
	o := wire.NewObject()
	o.Set("@odata.context", req.Base+"$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse")
	o.Set("BusinessUnitId", req.Caller.BusinessUnitID)
	o.Set("UserId", req.Caller.UserID)
	org, err := s.organizationID(req)
	if err != nil {
		return nil, err
	}
	o.Set("OrganizationId", org)
	resp := wire.NewResponse(http.StatusOK)
	resp.JSON = o
	return resp, nil
}

// organizationID returns the id of the organization row for req, without a transaction while
// no write has changed the organization table since it was last read. In a change set it is read
// in the change set's transaction, which may have changed it.
func (s *Handler) organizationID(req *Request) (string, error) {
	gen := s.store.Generation("organization")
	if c := s.org.Load(); c != nil && c.gen == gen && req.cs == nil {
		return c.id, nil
	}
	var id string
	err := s.InTx(req, false, func(tx *store.Tx) error {
		var err error
		id, err = organizationID(tx)
		return err
	})
	if err == nil && req.cs == nil {
		// Read after gen: a write committed in between bumps the generation again, so this is
		// read anew next time.
		s.org.Store(&cachedOrg{gen: gen, id: id})
	}
	return id, err
}

// organizationID returns the id of the organization row.
func organizationID(tx *store.Tx) (string, error) {
	e, ok := tx.Schema().Entity("organization")
	if !ok {
		return "", nil
	}
	id, err := tx.First(e)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return id, err
}

// decoderFor returns a body decoder for this request.
func (s *Handler) decoderFor(req *Request, tx *store.Tx) *decoder {
	d := &decoder{sch: tx.Schema(), base: req.Base}
	d.resolve = d.resolveURL
	if cs := req.cs; cs != nil {
		d.resolve = func(v string) (*model.Entity, *odata.Key, error) {
			if !strings.HasPrefix(v, "$") {
				return d.resolveURL(v)
			}
			u, err := cs.refs.resolve(v)
			if err != nil {
				return nil, nil, err
			}
			return d.resolveURL(u)
		}
	}
	d.lookup = func(e *model.Entity, k *odata.Key) (string, error) {
		id, err := lookupKey(tx, e, k)
		if err != nil {
			return "", asNotFound(err)
		}
		ok, err := tx.Exists(e, id)
		if err != nil {
			return "", err
		}
		if !ok {
			return "", dverr.RecordNotFound(e.LogicalName, id)
		}
		return id, nil
	}
	return d
}

// readJSONBody reads and parses a JSON object body.
func readJSONBody(req *Request, set string) (*wire.Object, error) {
	body, err := readJSONBytes(req)
	if err != nil {
		return nil, err
	}
	return ParseObject(body, set)
}

// readJSONBytes reads a request body sent as JSON (or with no content type), bounded.
func readJSONBytes(req *Request) ([]byte, error) {
	if ct := req.R.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "application/json") {
		return nil, dverr.New(http.StatusUnsupportedMediaType, dverr.CodeNone, "The content type '%s' is not supported; send application/json.", ct)
	}
	return ReadBody(req.R)
}

// contextURL builds @odata.context for a row or set with an optional select list.
func contextURL(base, set string, sel []*model.Attribute, expand []odata.ExpandItem, entity bool) string {
	u := base + "$metadata#" + set
	if p := contextSelect(sel, expand); p != "" {
		u += "(" + p + ")"
	}
	if entity {
		u += "/$entity"
	}
	return u
}

// contextSelect lists selected columns and expansions (recursively) as @odata.context names them.
func contextSelect(sel []*model.Attribute, expand []odata.ExpandItem) string {
	var parts []string
	for _, a := range sel {
		if a.IsLookup() {
			parts = append(parts, a.LookupProperty())
		} else {
			parts = append(parts, a.LogicalName)
		}
	}
	for _, x := range expand {
		if x.Ref {
			parts = append(parts, x.Nav.Name, x.Nav.Name+"/$ref()")
			continue
		}
		parts = append(parts, x.Nav.Name+"("+contextSelect(x.Select, x.Expand)+")")
	}
	return strings.Join(parts, ",")
}

// representation reads a row back for Prefer: return=representation and shapes it with the
// columns and expansions rec asks for.
func (s *Handler) representation(req *Request, tx *store.Tx, rec *odata.Record, e *model.Entity, id string, status int) (*wire.Response, error) {
	body, ver, err := s.shapeRecord(req, tx, e, id, rec)
	if err != nil {
		return nil, err
	}
	resp := wire.NewResponse(status)
	body.PutFirst("@odata.context", contextURL(req.Base, e.EntitySetName, rec.Select, rec.Expand, true))
	resp.JSON = body
	resp.Header.Set("ETag", wire.ETag(ver))
	resp.Header.Add("Preference-Applied", "return=representation")
	if req.Prefer.Annotations != nil {
		resp.Header.Add("Preference-Applied", `odata.include-annotations="`+req.Prefer.AnnotationsRaw+`"`)
	}
	return resp, nil
}

// Caller is who a Web API request acts as.
type Caller struct {
	// UserID is the systemuser the request acts as: the impersonated user when MSCRMCallerID or
	// CallerObjectId is sent, else the token's user.
	UserID string
	// RealUserID is the token's user. It differs from UserID only under impersonation, and then
	// becomes createdonbehalfby / modifiedonbehalfby.
	RealUserID string
	// BusinessUnitID is UserID's business unit.
	BusinessUnitID string
	// Host is the host the request was sent to, which webhooks report as the organization.
	Host string
}

// Impersonating reports whether the request acts on behalf of another user.
func (c Caller) Impersonating() bool { return c.UserID != c.RealUserID }
