package emulator

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/oauth"
	"github.com/dynlocal/dynlocal/emulator/store"
	"github.com/dynlocal/dynlocal/emulator/webapi"
	"github.com/dynlocal/dynlocal/emulator/wire"
)

// serveAPI serves a request under /api/data/v9.x/: authentication (the bearer token and the
// impersonation headers), then the Web API handlers.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, cs *webapi.ChangeSet) error {
	c, err := s.authenticateRequest(r, cs)
	if err != nil {
		return err
	}
	// Service protection counts a request once: the parts of a $batch are not counted again.
	if s.limits != nil && r.Context().Value(limitsKey{}) == nil {
		done, err := s.limits.admit(c.UserID)
		if err != nil {
			noteReason(r.Context(), "service protection: "+errorReason(err))
			return err
		}
		defer done()
		r = r.WithContext(context.WithValue(r.Context(), limitsKey{}, true))
	}
	return s.web.Serve(w, r, c, cs)
}

// serveOperation is the handler chain of one $batch operation: the one standalone requests take,
// with the change set passed along.
func (s *Server) serveOperation(w http.ResponseWriter, r *http.Request, cs *webapi.ChangeSet) {
	s.journalPart(w, r, cs, func(w http.ResponseWriter, r *http.Request) {
		if s.applyFault(w, r, cs, true) {
			return
		}
		if err := s.serveAPI(w, r, cs); err != nil {
			s.writeError(w, r, err)
		}
	})
}

func (s *Server) unauthorized(r *http.Request) error {
	e := dverr.New(http.StatusUnauthorized, dverr.CodeNone, "")
	e.Header = http.Header{}
	e.Header.Set("WWW-Authenticate", s.idp.Challenge(r, wire.Origin(r)))
	return e
}

// authenticateRequest verifies the bearer token and resolves the caller, impersonation headers
// included. Inside a $batch change set the users are read in its transaction.
func (s *Server) authenticateRequest(r *http.Request, cs *webapi.ChangeSet) (webapi.Caller, error) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		s.log.Info("request refused: no bearer token", "method", r.Method, "path", r.URL.Path)
		noteReason(r.Context(), "no bearer token (an Authorization: Bearer header is required)")
		return webapi.Caller{}, s.unauthorized(r)
	}
	origin := wire.Origin(r)
	audiences := func() []string {
		out := loopbackAliases(origin)
		if s.cfg.OrgURL != "" {
			out = append(out, s.cfg.OrgURL)
		}
		return out
	}
	claims, err := s.auth.verify(s.idp, strings.TrimSpace(token), origin, audiences, s.cfg.Clock())
	if err != nil {
		// The reason names claims (aud, iss, exp), never the token itself.
		s.log.Info("request refused: token not accepted", "method", r.Method, "path", r.URL.Path, "reason", err.Error())
		noteReason(r.Context(), tokenReason(err, audiences()))
		return webapi.Caller{}, s.unauthorized(r)
	}
	ck := callerCacheKey{app: claims.IsApp, id: claims.ObjectID + "|" + claims.AppID, objectID: r.Header.Get("CallerObjectId"), callerID: r.Header.Get("MSCRMCallerID")}
	gen := s.store.Generation("systemuser")
	if c, ok := s.auth.caller(ck, gen); ok {
		c.Host = r.Host
		noteCaller(r.Context(), c.UserID)
		return c, nil
	}
	var c webapi.Caller
	resolve := func(tx *store.Tx) error {
		users, ok := tx.Schema().Entity("systemuser")
		if !ok {
			return errors.New("emulator: no systemuser table in the metadata")
		}
		var id string
		var err error
		if claims.IsApp {
			id, err = tx.FindByKey(users, model.Row{"applicationid": strings.ToLower(claims.AppID)})
		} else {
			id, err = tx.FindByKey(users, model.Row{"azureactivedirectoryobjectid": strings.ToLower(claims.ObjectID)})
		}
		if errors.Is(err, store.ErrNotFound) {
			// A valid token for someone with no user in this organization.
			return dverr.New(http.StatusForbidden, dverr.CodeUserNotInOrganization, "The user is not a member of the organization.")
		}
		if err != nil {
			return err
		}
		c.RealUserID, c.UserID = id, id
		if v := r.Header.Get("CallerObjectId"); v != "" {
			if !model.IsGUID(v) {
				return dverr.BadRequest("Invalid CallerObjectId header value '%s'. It must be a GUID.", v)
			}
			imp, err := tx.FindByKey(users, model.Row{"azureactivedirectoryobjectid": strings.ToLower(v)})
			if errors.Is(err, store.ErrNotFound) {
				return dverr.RecordNotFound("systemuser", strings.ToLower(v))
			}
			if err != nil {
				return err
			}
			c.UserID = imp
		} else if v := r.Header.Get("MSCRMCallerID"); v != "" {
			v = strings.Trim(v, "{}")
			if !model.IsGUID(v) {
				return dverr.BadRequest("Invalid MSCRMCallerID header value '%s'. It must be a GUID.", v)
			}
			ok, err := tx.Exists(users, v)
			if err != nil {
				return err
			}
			if !ok {
				return dverr.RecordNotFound("systemuser", strings.ToLower(v))
			}
			c.UserID = strings.ToLower(v)
		}
		row, _, err := tx.Get(users, c.UserID, []string{"businessunitid"})
		if err != nil {
			return err
		}
		if l, ok := row["businessunitid"].(model.Lookup); ok {
			c.BusinessUnitID = l.ID
		}
		return nil
	}
	if cs != nil {
		// What the change set has written so far is not committed: resolve with it, remember
		// nothing.
		err = resolve(cs.Tx())
	} else if err = s.store.Read(r.Context(), resolve); err == nil {
		s.auth.remember(ck, gen, c)
	}
	c.Host = r.Host
	if err == nil {
		noteCaller(r.Context(), c.UserID)
	}
	return c, err
}

// authCache remembers verified tokens (until they expire) and who they resolve to (until a
// systemuser row changes), so a request pays for neither the signature check nor the user lookup
// more than once per token.
type authCache struct {
	mu      sync.Mutex
	tokens  map[tokenKey]*oauth.Claims
	callers map[callerCacheKey]cachedCaller
}

// tokenKey is a token and the origin it was sent to, which decides the audiences it may have.
type tokenKey struct{ origin, token string }

type callerCacheKey struct {
	app                bool
	id                 string
	objectID, callerID string
}

type cachedCaller struct {
	gen uint64
	c   webapi.Caller
}

// maxCached bounds each cache; when full it is simply emptied.
const maxCached = 4096

// verify checks a token sent to origin, whose accepted audiences are audiences(): asked for only
// when the token is not in the cache, which knows a token by the origin it was sent to.
func (a *authCache) verify(idp *oauth.Server, token, origin string, audiences func() []string, now time.Time) (*oauth.Claims, error) {
	key := tokenKey{origin: origin, token: token}
	a.mu.Lock()
	c, ok := a.tokens[key]
	a.mu.Unlock()
	if ok {
		if now.Before(c.ExpiresAt) && !now.Before(c.NotBefore) {
			return c, nil
		}
		a.mu.Lock()
		delete(a.tokens, key)
		a.mu.Unlock()
	}
	c, err := idp.Verify(token, audiences())
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	if a.tokens == nil || len(a.tokens) >= maxCached {
		a.tokens = map[tokenKey]*oauth.Claims{}
	}
	a.tokens[key] = c
	a.mu.Unlock()
	return c, nil
}

func (a *authCache) caller(k callerCacheKey, gen uint64) (webapi.Caller, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	cc, ok := a.callers[k]
	if !ok || cc.gen != gen {
		return webapi.Caller{}, false
	}
	return cc.c, true
}

func (a *authCache) remember(k callerCacheKey, gen uint64, c webapi.Caller) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.callers == nil || len(a.callers) >= maxCached {
		a.callers = map[callerCacheKey]cachedCaller{}
	}
	a.callers[k] = cachedCaller{gen: gen, c: c}
}

// loopbackAliases is the audiences a request's origin accepts: the origin, and when it is a
// loopback address its other names on the same port (a token asked for http://localhost:8080
// works on http://127.0.0.1:8080), since they are one emulator.
func loopbackAliases(origin string) []string {
	u, err := url.Parse(origin)
	if err != nil {
		return []string{origin}
	}
	host, port := u.Hostname(), u.Port()
	switch host {
	case "localhost", "127.0.0.1", "::1":
	default:
		return []string{origin}
	}
	out := []string{origin}
	for _, h := range []string{"localhost", "127.0.0.1", "[::1]"} {
		alias := u.Scheme + "://" + h
		if port != "" {
			alias += ":" + port
		}
		alias += u.EscapedPath()
		if alias != origin {
			out = append(out, alias)
		}
	}
	return out
}
