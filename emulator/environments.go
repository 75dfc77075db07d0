package emulator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/wire"
)

// An environment is an organisation served beside the default one by the same process, under the
// path prefix /env/{name}/: its Web API at /env/{name}/api/data/v9.2/ and its own admin API at
// /env/{name}/_emulator/. It starts as a copy of the fixtures and has its own database (in memory),
// snapshots, journal, fault rules, service protection counters and webhook registrations; parallel
// CI jobs each take one and never see each other's rows.
//
// Why a path prefix and not a host name per environment: a path works with every HTTP client on
// 127.0.0.1 without DNS or /etc/hosts entries, and one listener serves them all. Clients take the
// environment URL (http://127.0.0.1:8080/env/ci-1234) as the organisation URL; tokens are asked
// of the tenant's one token endpoint (at the root, as Entra serves every environment of a tenant)
// with the scope "<environment URL>/.default", and their audience must be that URL: a token for
// the default organisation or another environment is refused with 401.

// defaultMaxEnvironments is Config.MaxEnvironments' default.
const defaultMaxEnvironments = 100

// envPrefix is the path under which environments are served.
const envPrefix = "/env/"

// envNamePattern is what an environment name may be: it is a path segment and a log field.
var envNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// EnvironmentInfo describes an environment, as the admin API lists it.
type EnvironmentInfo struct {
	Name string `json:"name"`
	// URL is the organisation URL clients take (no trailing slash); APIURL its Web API root;
	// TokenURL the tenant's token endpoint, where a token for URL is asked with the scope
	// URL+"/.default". The admin API fills them from the origin of the request.
	URL       string    `json:"url,omitempty"`
	APIURL    string    `json:"apiUrl,omitempty"`
	TokenURL  string    `json:"tokenUrl,omitempty"`
	CreatedOn time.Time `json:"createdOn"`
}

type environment struct {
	name    string
	srv     *Server
	created time.Time
	// active counts the requests being served, so that deleting waits for them before it
	// closes the database.
	active sync.WaitGroup
}

type environments struct {
	max int

	mu sync.RWMutex
	m  map[string]*environment
	// pending holds the names being created, so that two creations of one name do not both
	// load a database.
	pending map[string]bool
}

func newEnvironments(max int) *environments {
	return &environments{max: max, m: map[string]*environment{}, pending: map[string]bool{}}
}

// Errors of the environment operations; the admin API answers them with 400, 409 and 404.
var (
	ErrBadEnvironmentName    = errors.New("an environment name is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	ErrEnvironmentExists     = errors.New("an environment of that name exists")
	ErrTooManyEnvironments   = errors.New("the emulator holds as many environments as Config.MaxEnvironments allows (--max-environments)")
	ErrNoEnvironment         = errors.New("no environment of that name")
	errEnvironmentsForbidden = errors.New("an environment has no environments of its own")
)

// CreateEnvironment creates the environment name from the fixtures, as POST
// /_emulator/environments does, and returns its server. An empty name gets a generated one. The
// server is served under /env/{name}/ by s's listeners and closed by DeleteEnvironment or s.Close;
// do not close it.
func (s *Server) CreateEnvironment(ctx context.Context, name string) (*Server, error) {
	if s.envs == nil {
		return nil, errEnvironmentsForbidden
	}
	if name == "" {
		name = "env-" + randomHex(4)
	}
	if !envNamePattern.MatchString(name) {
		return nil, ErrBadEnvironmentName
	}
	key := strings.ToLower(name)
	e := s.envs
	e.mu.Lock()
	switch {
	case e.m[key] != nil || e.pending[key]:
		e.mu.Unlock()
		return nil, ErrEnvironmentExists
	case len(e.m)+len(e.pending) >= e.max:
		e.mu.Unlock()
		return nil, ErrTooManyEnvironments
	}
	e.pending[key] = true
	e.mu.Unlock()

	srv, err := newServer(ctx, s.environmentConfig(name), s, name)

	e.mu.Lock()
	delete(e.pending, key)
	if err == nil {
		e.m[key] = &environment{name: name, srv: srv, created: s.cfg.Clock().UTC()}
	}
	e.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("emulator: create environment %s: %w", name, err)
	}
	s.log.Info("environment created", "environment", name)
	return srv, nil
}

// environmentConfig is the configuration of the environment name: s's, in memory.
func (s *Server) environmentConfig(name string) Config {
	cfg := s.cfg
	cfg.DataDir = ""
	cfg.ResetData = false
	if cfg.OrgURL != "" {
		cfg.OrgURL = strings.TrimSuffix(cfg.OrgURL, "/") + envPrefix + name
	}
	cfg.Logger = s.log.With("environment", name)
	return cfg
}

// Environment returns the server of the environment name, if there is one.
func (s *Server) Environment(name string) (*Server, bool) {
	if s.envs == nil {
		return nil, false
	}
	s.envs.mu.RLock()
	defer s.envs.mu.RUnlock()
	e := s.envs.m[strings.ToLower(name)]
	if e == nil {
		return nil, false
	}
	return e.srv, true
}

// Environments lists the environments by name (without URLs, which depend on the origin a client
// uses).
func (s *Server) Environments() []EnvironmentInfo {
	if s.envs == nil {
		return nil
	}
	s.envs.mu.RLock()
	out := make([]EnvironmentInfo, 0, len(s.envs.m))
	for _, e := range s.envs.m {
		out = append(out, EnvironmentInfo{Name: e.name, CreatedOn: e.created})
	}
	s.envs.mu.RUnlock()
	slices.SortFunc(out, func(a, b EnvironmentInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// DeleteEnvironment removes the environment name: it stops being served at once, requests it is
// serving finish, and then its database and everything in it are gone.
func (s *Server) DeleteEnvironment(name string) error {
	if s.envs == nil {
		return ErrNoEnvironment
	}
	key := strings.ToLower(name)
	s.envs.mu.Lock()
	e := s.envs.m[key]
	delete(s.envs.m, key)
	s.envs.mu.Unlock()
	if e == nil {
		return ErrNoEnvironment
	}
	// No request can start on e now (acquire holds the lock while it finds and counts one), so
	// the wait ends.
	e.active.Wait()
	s.log.Info("environment deleted", "environment", e.name)
	return e.srv.Close()
}

// closeAll deletes every environment.
func (e *environments) closeAll() error {
	e.mu.Lock()
	all := e.m
	e.m = map[string]*environment{}
	e.mu.Unlock()
	var errs []error
	for _, env := range all {
		env.active.Wait()
		errs = append(errs, env.srv.Close())
	}
	return errors.Join(errs...)
}

// acquire finds the environment name and counts a request on it; the caller calls release when
// the request is done.
func (e *environments) acquire(name string) (env *environment, release func()) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	env = e.m[strings.ToLower(name)]
	if env == nil {
		return nil, nil
	}
	env.active.Add(1)
	return env, env.active.Done
}

// serveEnvironment serves a request under /env/{name}/ with the environment's handlers, on the
// path after the prefix; the prefix goes into the request's context, so that the URLs in answers
// (@odata.context, @odata.nextLink, OData-EntityId) and the token audience carry it.
func (s *Server) serveEnvironment(w http.ResponseWriter, r *http.Request) error {
	name := mux.Vars(r)["env"]
	env, release := s.envs.acquire(name)
	if env == nil {
		return dverr.New(http.StatusNotFound, dverr.CodeNone,
			"No environment named '%s' is served here. POST /_emulator/environments creates one; GET lists them.", name)
	}
	defer release()
	prefix := envPrefix + env.name
	if !strings.HasPrefix(r.URL.Path, prefix+"/") {
		// The name was matched case-insensitively: serve under the spelling the client used, so
		// its URLs come back as it sent them.
		prefix = r.URL.Path[:len(prefix)]
	}
	r2 := r.Clone(wire.WithBasePath(r.Context(), prefix))
	r2.URL.Path = strings.TrimPrefix(r.URL.Path, prefix)
	if r.URL.RawPath != "" {
		r2.URL.RawPath = strings.TrimPrefix(r.URL.RawPath, prefix)
	}
	env.srv.router.ServeHTTP(w, r2)
	return nil
}

// environmentInfo completes an environment's description with its URLs as seen from r.
func (s *Server) environmentInfo(r *http.Request, info EnvironmentInfo) EnvironmentInfo {
	origin := wire.HostOrigin(r)
	info.URL = origin + envPrefix + info.Name
	info.APIURL = info.URL + "/api/data/v9.2/"
	info.TokenURL = s.identityURL(origin, "token")
	return info
}

// maxEnvironmentBody bounds POST /_emulator/environments' body.
const maxEnvironmentBody = 4 << 10

// createEnvironment serves POST /_emulator/environments: {"name": "ci-1234"}, or no body (or no
// name) for a generated name. It answers 201 with the environment's description.
func (s *Server) createEnvironment(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Name string `json:"name"`
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEnvironmentBody))
	if err != nil {
		return dverr.BadRequest("The request body could not be read: %v", err)
	}
	if len(strings.TrimSpace(string(body))) > 0 {
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			return dverr.BadRequest(`The body must be a JSON object such as {"name": "ci-1234"}: %v`, err)
		}
	}
	srv, err := s.CreateEnvironment(r.Context(), req.Name)
	if err != nil {
		return environmentErr(err, req.Name)
	}
	info := s.environmentInfo(r, EnvironmentInfo{Name: srv.env})
	for _, e := range s.Environments() {
		if e.Name == srv.env {
			info.CreatedOn = e.CreatedOn
		}
	}
	w.Header().Set("Location", wire.HostOrigin(r)+"/_emulator/environments/"+info.Name)
	wire.WriteJSON(w, http.StatusCreated, info)
	return nil
}

// environmentErr answers an environment operation's error in Dataverse's shape.
func environmentErr(err error, name string) error {
	switch {
	case errors.Is(err, ErrBadEnvironmentName):
		return dverr.BadRequest("'%s' is not a valid environment name: %v.", name, err)
	case errors.Is(err, ErrEnvironmentExists):
		return dverr.New(http.StatusConflict, dverr.CodeNone, "An environment named '%s' exists. DELETE /_emulator/environments/%s removes it.", name, name)
	case errors.Is(err, ErrTooManyEnvironments):
		return dverr.New(http.StatusConflict, dverr.CodeNone, "No environment was created: %v. Delete one first.", err)
	case errors.Is(err, ErrNoEnvironment):
		return dverr.New(http.StatusNotFound, dverr.CodeNone, "No environment named '%s' exists.", name)
	}
	return err
}

// listEnvironments serves GET /_emulator/environments.
func (s *Server) listEnvironments(w http.ResponseWriter, r *http.Request) error {
	list := s.Environments()
	for i := range list {
		list[i] = s.environmentInfo(r, list[i])
	}
	wire.WriteJSON(w, http.StatusOK, map[string]any{"value": list})
	return nil
}

// getEnvironment serves GET /_emulator/environments/{name}.
func (s *Server) getEnvironment(w http.ResponseWriter, r *http.Request) error {
	name := mux.Vars(r)["name"]
	for _, e := range s.Environments() {
		if strings.EqualFold(e.Name, name) {
			wire.WriteJSON(w, http.StatusOK, s.environmentInfo(r, e))
			return nil
		}
	}
	return environmentErr(ErrNoEnvironment, name)
}

// deleteEnvironment serves DELETE /_emulator/environments/{name}.
func (s *Server) deleteEnvironment(w http.ResponseWriter, r *http.Request) error {
	name := mux.Vars(r)["name"]
	if err := s.DeleteEnvironment(name); err != nil {
		if errors.Is(err, ErrNoEnvironment) {
			return environmentErr(err, name)
		}
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// deleteEnvironments serves DELETE /_emulator/environments: every environment goes.
func (s *Server) deleteEnvironments(w http.ResponseWriter, r *http.Request) error {
	if err := s.envs.closeAll(); err != nil {
		s.log.Error("delete environments", slog.Any("err", err))
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
