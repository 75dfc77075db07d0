package webapi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/odata"
	"github.com/dynlocal/dynlocal/emulator/store"
	"github.com/dynlocal/dynlocal/emulator/wire"
)

// Change tracking through the Web API: GET {set} with Prefer: odata.track-changes returns the rows
// and an @odata.deltaLink; GET on that link returns what changed since (new and updated rows, then
// deleted ones as $deletedEntity entries) and a new delta link; GET {set}/$count with the link's
// $deltatoken counts the changes.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/use-change-tracking-synchronize-data-external-systems
//
// A delta token reads "<version>!<MM/dd/yyyy HH:mm:ss>!<lineage>": Dataverse's "<version>!<UTC time>"
// and the lineage of the database's history (see store/changes.go), so that a token issued before a
// snapshot was restored is refused rather than answered wrongly. Clients treat the token as opaque.
//
// Paging: changes are read in version order, up to odata.maxpagesize (5,000 by default, as
// RetrieveEntityChanges pages) per page, new and updated rows first and deleted rows after. The
// first page fixes the upper version of the whole answer (the ceiling); rows that change while the
// pages are read come in the next delta. The $skiptoken of a change page carries its phase, the
// range and the keyset position.

// changePageSize is the page size of change tracking answers without odata.maxpagesize.
const changePageSize = 5000

// defaultChangeExpiryDays is how long a delta token stays valid when the organization row does not
// say (organization.expirechangetrackingindays; Dataverse's default is 7 days, and some tenants
// report 30).
const defaultChangeExpiryDays = 7

// deltaTimeLayout is the time part of a delta token.
const deltaTimeLayout = "01/02/2006 15:04:05"

// changeSkipPrefix starts the $skiptoken of a change tracking page.
const changeSkipPrefix = "ct!"

// deltaToken is a parsed $deltatoken.
type deltaToken struct {
	Version int64
	Issued  time.Time
	Lineage int64
}

func (t deltaToken) String() string {
	return strconv.FormatInt(t.Version, 10) + "!" + t.Issued.UTC().Format(deltaTimeLayout) + "!" + strconv.FormatInt(t.Lineage, 36)
}

// changePos is where a change page starts: the range of the whole answer, the phase (0: new and
// updated rows, 1: deleted rows) and the keyset position after the previous page's last change.
type changePos struct {
	Since, Upto, Lineage int64
	Phase                int
	AfterVersion         int64
	AfterID              string
}

func (p changePos) String() string {
	return changeSkipPrefix + strings.Join([]string{
		strconv.FormatInt(p.Since, 10), strconv.FormatInt(p.Upto, 10), strconv.FormatInt(p.Lineage, 36),
		strconv.Itoa(p.Phase), strconv.FormatInt(p.AfterVersion, 10), p.AfterID}, "!")
}

func parseChangePos(s string) (changePos, bool) {
	rest, ok := strings.CutPrefix(s, changeSkipPrefix)
	parts := strings.Split(rest, "!")
	if !ok || len(parts) != 6 {
		return changePos{}, false
	}
	var p changePos
	var err [5]error
	p.Since, err[0] = strconv.ParseInt(parts[0], 10, 64)
	p.Upto, err[1] = strconv.ParseInt(parts[1], 10, 64)
	p.Lineage, err[2] = strconv.ParseInt(parts[2], 36, 64)
	p.Phase, err[3] = strconv.Atoi(parts[3])
	p.AfterVersion, err[4] = strconv.ParseInt(parts[4], 10, 64)
	for _, e := range err {
		if e != nil {
			return changePos{}, false
		}
	}
	p.AfterID = parts[5]
	if p.Phase < 0 || p.Phase > 1 || p.Since < 0 || p.Upto < p.Since || (p.AfterID != "" && !model.IsGUID(p.AfterID)) {
		return changePos{}, false
	}
	return p, true
}

func parseDeltaToken(s string) (deltaToken, bool) {
	parts := strings.Split(s, "!")
	if len(parts) != 3 {
		return deltaToken{}, false
	}
	var t deltaToken
	var err error
	if t.Version, err = strconv.ParseInt(parts[0], 10, 64); err != nil || t.Version < 0 {
		return deltaToken{}, false
	}
	if t.Issued, err = time.Parse(deltaTimeLayout, parts[1]); err != nil {
		return deltaToken{}, false
	}
	if t.Lineage, err = strconv.ParseInt(parts[2], 36, 64); err != nil {
		return deltaToken{}, false
	}
	return t, true
}

// isChangeRequest reports whether a GET of an entity set asks for changes: the track-changes
// preference, a $deltatoken, or a change page's $skiptoken.
func isChangeRequest(req *Request) bool {
	if req.Prefer.TrackChanges {
		return true
	}
	if _, ok := req.Query.Get("$deltatoken"); ok {
		return true
	}
	v, _ := req.Query.Get("$skiptoken")
	return strings.HasPrefix(v, changeSkipPrefix)
}

// errChangeTrackingOption is Dataverse's answer to a query option change tracking does not take.
// The documentation gives the message, not the code: 0x80060888 is the code of the Web API's other
// unsupported query options (uncertain).
func errChangeTrackingOption(name string) error {
	return dverr.New(http.StatusBadRequest, "0x80060888", "The \"%s\" query parameter isn't supported when Change Tracking is enabled.", name)
}

// errNotTracked is ChangeTrackingNotEnabledForEntity.
func errNotTracked(e *model.Entity) error {
	return dverr.New(http.StatusBadRequest, "0x80072491", "Entity %s isn't enabled for change tracking.", e.LogicalName)
}

// errExpiredToken is ExpiredVersionStamp, with why when the emulator knows more than Dataverse
// would say.
func errExpiredToken(why string) error {
	msg := "Version stamp associated with the client has expired. Please perform a full sync."
	if why != "" {
		msg += " (" + why + ")"
	}
	return dverr.New(http.StatusBadRequest, "0x80044352", "%s", msg)
}

func errBadDeltaToken(v string) error {
	return dverr.BadRequest("The $deltatoken value '%s' is not valid. Use the @odata.deltaLink of a change tracking answer as returned.", v)
}

// changeRequest is a parsed change tracking request.
type changeRequest struct {
	cols  []*model.Attribute // the columns each row shows
	sel   []*model.Attribute // the $select list, for the context URL
	token *deltaToken        // nil for the initial request
	pos   *changePos         // nil on the first page
}

// parseChangeRequest checks the query options of a change tracking request and reads its token,
// $select and page position.
func (s *Handler) parseChangeRequest(req *Request, e *model.Entity) (*changeRequest, error) {
	if !e.ChangeTracking {
		return nil, errNotTracked(e)
	}
	var sel odata.Options
	cr := &changeRequest{}
	for _, o := range req.Query {
		switch {
		case o.Name == "$select" || strings.HasPrefix(o.Name, "@"):
			sel = append(sel, o)
		case o.Name == "$filter" || o.Name == "$orderby" || o.Name == "$expand" || o.Name == "$top":
			return nil, errChangeTrackingOption(o.Name)
		case o.Name == "$deltatoken":
			t, ok := parseDeltaToken(o.Value)
			if !ok {
				return nil, errBadDeltaToken(o.Value)
			}
			cr.token = &t
		case o.Name == "$skiptoken":
			p, ok := parseChangePos(o.Value)
			if !ok {
				return nil, dverr.BadRequest("The $skiptoken value is not valid for this query. Follow @odata.nextLink as returned, with the same query options and page size.")
			}
			cr.pos = &p
		case strings.HasPrefix(o.Name, "$"):
			if s.cfg.Loose {
				if ig := s.ignorer(req); ig != nil {
					ig(o.Name)
				}
				continue
			}
			return nil, dverr.BadRequest("The query parameter %s is not supported when Change Tracking is enabled.", o.Name)
		}
	}
	r := s.odataRequest(req)
	r.MaxPageSize = 0
	cq, err := odata.ParseCollection(r, e, nil, sel)
	if err != nil {
		return nil, err
	}
	cr.cols, cr.sel = cq.Columns, cq.Select
	if cr.pos != nil && cr.token != nil && cr.pos.Since != cr.token.Version {
		return nil, dverr.BadRequest("The $skiptoken value is not valid for this query. Follow @odata.nextLink as returned, with the same query options and page size.")
	}
	return cr, nil
}

// checkToken refuses a token that is too old, or whose changes this database cannot tell.
func (s *Handler) checkToken(tx *store.Tx, t deltaToken) error {
	days, err := s.changeExpiryDays(tx)
	if err != nil {
		return err
	}
	if s.cfg.Clock().UTC().Sub(t.Issued) > time.Duration(days)*24*time.Hour {
		return errExpiredToken("")
	}
	ok, err := tx.Tracks(t.Lineage, t.Version)
	if err != nil {
		return err
	}
	if !ok {
		return errExpiredToken("dynlocal: the token was issued for data this organisation no longer has: a snapshot restore or a reset went back before it, or it comes from another organisation")
	}
	return nil
}

// changeExpiryDays reads organization.expirechangetrackingindays.
func (s *Handler) changeExpiryDays(tx *store.Tx) (int64, error) {
	org, ok := tx.Schema().Entity("organization")
	if !ok {
		return defaultChangeExpiryDays, nil
	}
	if a, ok := org.Attribute("expirechangetrackingindays"); !ok || !a.Stored() {
		return defaultChangeExpiryDays, nil
	}
	id, err := tx.First(org)
	if err == store.ErrNotFound {
		return defaultChangeExpiryDays, nil
	}
	if err != nil {
		return 0, err
	}
	row, _, err := tx.Get(org, id, []string{"expirechangetrackingindays"})
	if err != nil {
		return 0, err
	}
	if n, ok := row["expirechangetrackingindays"].(int64); ok && n > 0 {
		return n, nil
	}
	return defaultChangeExpiryDays, nil
}

// listChanges serves a change tracking GET of an entity set.
func (s *Handler) listChanges(req *Request, e *model.Entity) (*wire.Response, error) {
	cr, err := s.parseChangeRequest(req, e)
	if err != nil {
		return nil, err
	}
	pageSize := changePageSize
	if req.Prefer.MaxPageSize > 0 {
		pageSize = min(req.Prefer.MaxPageSize, changePageSize)
	}
	var resp *wire.Response
	err = s.InTx(req, false, func(tx *store.Tx) error {
		dv, err := tx.DataVersion()
		if err != nil {
			return err
		}
		var pos changePos
		switch {
		case cr.pos != nil:
			pos = *cr.pos
			if ok, err := tx.Tracks(pos.Lineage, pos.Upto); err != nil {
				return err
			} else if !ok {
				return errExpiredToken("dynlocal: the organisation's data went back to a snapshot or to the fixtures while the pages were read; start again")
			}
		case cr.token != nil:
			if err := s.checkToken(tx, *cr.token); err != nil {
				return err
			}
			pos = changePos{Since: cr.token.Version, Upto: dv.Version, Lineage: dv.Lineage}
		default:
			pos = changePos{Upto: dv.Version, Lineage: dv.Lineage}
		}
		delta := cr.token != nil || pos.Since > 0
		sh := newShaper(tx, req.Base, req.Prefer)
		list := []*wire.Object{}
		rng := store.ChangeRange{Since: pos.Since, Upto: pos.Upto, AfterVersion: pos.AfterVersion, AfterID: pos.AfterID, Limit: pageSize}
		var next *changePos
		if pos.Phase == 0 {
			rows, more, err := tx.ChangedRows(e, attrNames(cr.cols), rng)
			if err != nil {
				return err
			}
			for _, r := range rows {
				o, err := sh.row(e, r.Row, r.Version, cr.cols)
				if err != nil {
					return err
				}
				list = append(list, o)
			}
			switch {
			case more:
				last := rows[len(rows)-1]
				next = &changePos{Since: pos.Since, Upto: pos.Upto, Lineage: pos.Lineage, AfterVersion: last.Version, AfterID: last.ID}
			case delta && len(list) < pageSize:
				// Deleted rows follow on the same page while it has room.
				rng = store.ChangeRange{Since: pos.Since, Upto: pos.Upto, Limit: pageSize - len(list)}
				pos.Phase = 1
			case delta:
				next = &changePos{Since: pos.Since, Upto: pos.Upto, Lineage: pos.Lineage, Phase: 1}
			}
		}
		if pos.Phase == 1 && next == nil {
			dels, more, err := tx.DeletedRows(e, rng)
			if err != nil {
				return err
			}
			for _, d := range dels {
				o := wire.NewObject()
				o.Set("@odata.context", req.Base+"$metadata#"+e.EntitySetName+"/$deletedEntity")
				o.Set("id", d.ID)
				o.Set("reason", "deleted")
				list = append(list, o)
			}
			if more {
				last := dels[len(dels)-1]
				next = &changePos{Since: pos.Since, Upto: pos.Upto, Lineage: pos.Lineage, Phase: 1, AfterVersion: last.Version, AfterID: last.ID}
			}
		}
		body := wire.NewObject()
		ctx := contextURL(req.Base, e.EntitySetName, cr.sel, nil, false)
		if delta {
			ctx += "/$delta"
		}
		body.Set("@odata.context", ctx)
		if next != nil {
			body.Set("value", list)
			body.Set("@odata.nextLink", changeLink(req, "$skiptoken", next.String()))
		} else {
			token := deltaToken{Version: pos.Upto, Issued: s.cfg.Clock().UTC().Truncate(time.Second), Lineage: pos.Lineage}
			body.Set("@odata.deltaLink", changeLink(req, "$deltatoken", token.String()))
			body.Set("value", list)
		}
		resp = wire.NewResponse(http.StatusOK)
		resp.JSON = body
		if req.Prefer.TrackChanges {
			resp.Header.Add("Preference-Applied", "odata.track-changes")
		}
		if req.Prefer.MaxPageSize > 0 {
			resp.Header.Add("Preference-Applied", "odata.maxpagesize="+strconv.Itoa(req.Prefer.MaxPageSize))
		}
		return nil
	})
	return resp, err
}

// countChanges serves GET {set}/$count?$deltatoken=...: how many rows changed since the token.
func (s *Handler) countChanges(req *Request, e *model.Entity) (*wire.Response, error) {
	cr, err := s.parseChangeRequest(req, e)
	if err != nil {
		return nil, err
	}
	if cr.token == nil {
		return nil, dverr.BadRequest("Counting changes needs the $deltatoken of a change tracking answer.")
	}
	var n int64
	err = s.InTx(req, false, func(tx *store.Tx) error {
		if err := s.checkToken(tx, *cr.token); err != nil {
			return err
		}
		dv, err := tx.DataVersion()
		if err != nil {
			return err
		}
		n, err = tx.CountChanges(e, cr.token.Version, dv.Version)
		return err
	})
	if err != nil {
		return nil, err
	}
	resp := wire.NewResponse(http.StatusOK)
	resp.Text = strconv.FormatInt(n, 10)
	return resp, nil
}

// changeLink is the request URL with $skiptoken and $deltatoken replaced by name=value: the next
// page's link, or the delta link of the last page. The delta link keeps the query's $select.
func changeLink(req *Request, name, value string) string {
	var parts []string
	for _, kv := range strings.Split(req.R.URL.RawQuery, "&") {
		k, _, _ := strings.Cut(kv, "=")
		if dk, err := url.QueryUnescape(k); kv == "" || err == nil && (dk == "$skiptoken" || dk == "$deltatoken") {
			continue
		}
		parts = append(parts, kv)
	}
	if name == "$skiptoken" {
		// A page of a delta keeps its $deltatoken; the initial answer's pages need none.
		if v, ok := req.Query.Get("$deltatoken"); ok {
			parts = append(parts, "$deltatoken="+strings.ReplaceAll(url.QueryEscape(v), "+", "%20"))
		}
	}
	// Spaces as %20, as Dataverse writes its tokens ("919042%2108%2f22%2f2017%2008%3a10%3a44").
	parts = append(parts, name+"="+strings.ReplaceAll(url.QueryEscape(value), "+", "%20"))
	return wire.Origin(req.R) + req.R.URL.EscapedPath() + "?" + strings.Join(parts, "&")
}
