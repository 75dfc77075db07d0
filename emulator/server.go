package emulator

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/metadataapi"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/oauth"
	"github.com/dynlocal/dynlocal/emulator/store"
	"github.com/dynlocal/dynlocal/emulator/webapi"
	"github.com/dynlocal/dynlocal/emulator/webhook"
	"github.com/dynlocal/dynlocal/emulator/wire"
)

// Server is a running emulator: a store, the identity endpoints and the Web API handlers.
type Server struct {
	limits  *limiter
	faults  faults
	journal *journal
	cfg     Config
	log     *slog.Logger
	store   *store.Store
	idp     *oauth.Server
	auth    authCache
	hooks   *webhook.Dispatcher
	web     *webapi.Handler
	router  *mux.Router
	handler http.Handler // router behind the Host check (guard.go)
	hosts   *hostSet     // the names the emulator answers to
	conns   *connLimiter // open connections of the listeners (connlimit.go)
	root    *Server      // the default organisation: s itself, or an environment's parent

	mu      sync.Mutex
	url     string         // of the plain HTTP listener
	tlsURL  string         // of the HTTPS listener
	servers []*http.Server // one per listener, sharing the router

	// envs are the environments served beside this organisation under /env/{name}/; nil in an
	// environment, which has none of its own.
	envs *environments
	// env names the environment this server is, "" for the default organisation.
	env string
}

// New opens the database (creating it from the fixtures when it is new) and builds the handlers.
func New(ctx context.Context, cfg Config) (*Server, error) {
	cfg.setDefaults()
	return newServer(ctx, cfg, nil, "")
}

// newServer builds the default organisation (parent nil) or, served by parent, the environment
// named env.
func newServer(ctx context.Context, cfg Config, parent *Server, env string) (*Server, error) {
	s := &Server{cfg: cfg, log: cfg.Logger, journal: newJournal(cfg.JournalSize, cfg.JournalBodyLimit),
		limits: newLimiter(cfg.Limits, cfg.Clock), env: env, root: parent}
	if parent == nil {
		s.root = s
		s.hosts = newHostSet(cfg)
		s.conns = &connLimiter{max: int64(cfg.MaxConnections)}
	}
	opts := store.Options{}
	if cfg.DataDir != "" {
		opts.Path = filepath.Join(cfg.DataDir, "dynlocal.sqlite")
		opts.SnapshotDir = filepath.Join(cfg.DataDir, "snapshots")
	}
	st, err := store.Open(ctx, opts)
	if err != nil {
		return nil, err
	}
	s.store = st
	s.hooks = webhook.New(webhook.Config{Store: st, Timeout: cfg.WebhookTimeout, Clock: cfg.Clock, NewID: cfg.NewID, Log: s.log,
		InsertJob: func(ctx context.Context, row model.Row) error { return s.web.InsertSystemJob(ctx, row) },
		UpdateJob: func(ctx context.Context, id string, row model.Row) error { return s.web.UpdateSystemJob(ctx, id, row) },
		DeleteJob: func(ctx context.Context, id string) error { return s.web.DeleteSystemJob(ctx, id) },
		Self:      s.webhookSelf})
	md := metadataapi.New(metadataapi.Config{Store: st, Loose: cfg.Loose, Clock: cfg.Clock, NewID: cfg.NewID})
	s.web = webapi.New(webapi.Config{Store: st, Hooks: s.hooks, Loose: cfg.Loose, AggregateLimit: cfg.AggregateLimit,
		Clock: cfg.Clock, NewID: cfg.NewID, Log: s.log, Operation: s.serveOperation, Metadata: md})
	s.web.AddOperationSource(s.web.CustomAPISource())
	if len(st.Schema().Entities()) > 0 && !cfg.ResetData {
		if err := s.checkFixtures(ctx); err != nil {
			s.Close()
			return nil, err
		}
	} else {
		if err := s.resetToFixtures(ctx); err != nil {
			s.Close()
			return nil, fmt.Errorf("emulator: load fixtures: %w", err)
		}
	}
	s.hooks.Start()
	if parent != nil {
		// One tenant serves every environment, as Entra serves every environment of a tenant:
		// the same token endpoints, keys and app registrations.
		s.idp = parent.idp
		s.router = s.routes()
		return s, nil
	}
	s.envs = newEnvironments(cfg.MaxEnvironments)
	apps, err := s.applicationUsers(ctx)
	if err != nil {
		s.Close()
		return nil, err
	}
	key, err := s.signingKey()
	if err != nil {
		s.Close()
		return nil, err
	}
	s.idp, err = oauth.New(oauth.Config{
		TenantID:      cfg.TenantID,
		ClientID:      cfg.ClientID,
		ClientSecret:  cfg.ClientSecret,
		AppUser:       oauth.User{SystemUserID: DefaultAppUserID, ObjectID: DefaultAppUserObjectID, Name: "# dynlocal-app"},
		Apps:          apps,
		RedirectURIs:  cfg.RedirectURIs,
		HumanUser:     oauth.User{SystemUserID: DefaultHumanUserID, ObjectID: DefaultHumanUserObjectID, Name: "Dana Developer", Username: DefaultHumanUserName},
		SigningKey:    key,
		TokenLifetime: cfg.TokenLifetime,
		Now:           cfg.Clock,
		NewID:         cfg.NewID,
	})
	if err != nil {
		s.Close()
		return nil, err
	}
	s.router = s.routes()
	s.handler = s.guardHost(s.router)
	return s, nil
}

// Store returns the server's store (for tests and tools in this module).
func (s *Server) Store() *store.Store { return s.store }

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Listen starts serving plain HTTP on addr (for example "127.0.0.1:0") in the background and
// sets URL. An IPv4 address listens on IPv4 only. An address that is not loopback needs
// Config.AdminToken (ErrAdminTokenRequired); on an unspecified one (0.0.0.0) URL is the loopback
// URL of the same port.
func (s *Server) Listen(addr string) error {
	l, err := s.listen(addr, false)
	if err != nil {
		return fmt.Errorf("emulator: listen: %w", err)
	}
	srv := s.newHTTPServer()
	s.mu.Lock()
	s.servers = append(s.servers, srv)
	s.url = reachableURL("http", l.Addr())
	s.hooks.AddListenAddr(l.Addr().String())
	s.mu.Unlock()
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serve", slog.Any("err", err))
		}
	}()
	return nil
}

// ListenTLS starts serving HTTPS (HTTP/1.1 and HTTP/2) on addr in the background with the
// certificates of cfg, and sets TLSURL. It can be called beside Listen: both listeners serve the
// same handler and data, and a token is valid on the origin it was asked for.
// EnsureDevCertificate and LoadTLSCertificate make a cfg.
func (s *Server) ListenTLS(addr string, cfg *tls.Config) error {
	if cfg == nil || len(cfg.Certificates) == 0 && cfg.GetCertificate == nil && cfg.GetConfigForClient == nil {
		return errors.New("emulator: listen tls: the TLS configuration has no certificate")
	}
	l, err := s.listen(addr, true)
	if err != nil {
		return fmt.Errorf("emulator: listen tls: %w", err)
	}
	srv := s.newHTTPServer()
	srv.TLSConfig = cfg.Clone()
	// A client that does not trust the certificate fails the handshake: log that through the
	// server's logger, not the standard library's default one.
	srv.ErrorLog = slog.NewLogLogger(s.log.Handler(), slog.LevelInfo)
	s.mu.Lock()
	s.servers = append(s.servers, srv)
	s.tlsURL = reachableURL("https", l.Addr())
	s.hooks.AddListenAddr(l.Addr().String())
	s.mu.Unlock()
	go func() {
		if err := srv.ServeTLS(l, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serve tls", slog.Any("err", err))
		}
	}()
	return nil
}

// listen opens a listener on addr whose connections count against the connection limit, and
// adds the names it is reached by to those the Host check accepts.
func (s *Server) listen(addr string, isTLS bool) (net.Listener, error) {
	l, err := net.Listen(listenNetwork(addr), addr)
	if err != nil {
		return nil, err
	}
	if !isLoopbackAddr(l.Addr()) && s.cfg.AdminToken == "" {
		l.Close()
		return nil, fmt.Errorf("%s: %w", l.Addr(), ErrAdminTokenRequired)
	}
	s.hosts.addListener(l.Addr())
	return &limitListener{Listener: l, lim: s.conns, tls: isTLS}, nil
}

// newHTTPServer is an http.Server for one listener, with the timeouts of connlimit.go.
func (s *Server) newHTTPServer() *http.Server {
	return &http.Server{Handler: s.handler, ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: requestTimeout,
		WriteTimeout: requestTimeout, IdleTimeout: idleTimeout, ConnContext: connContext}
}

// URL is the base URL of the plain HTTP listener, once Listen has been called.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// TLSURL is the base URL of the HTTPS listener (https://host:port), once ListenTLS has been
// called.
func (s *Server) TLSURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tlsURL
}

// Shutdown stops accepting requests on every listener and waits for running ones, up to ctx's
// deadline.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	servers := slices.Clone(s.servers)
	s.mu.Unlock()
	errs := make([]error, len(servers))
	var wg sync.WaitGroup
	for i, srv := range servers {
		wg.Go(func() { errs[i] = srv.Shutdown(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// WaitForWebhooks returns once every asynchronous webhook delivery queued so far has been made and
// its system job written, or when ctx ends. Tests call it before looking at what webhooks did.
func (s *Server) WaitForWebhooks(ctx context.Context) error { return s.hooks.Wait(ctx) }

// Close stops the listeners (if any) and closes the database.
func (s *Server) Close() error {
	s.mu.Lock()
	servers := s.servers
	s.servers = nil
	s.mu.Unlock()
	for _, srv := range servers {
		srv.Close()
	}
	if s.hooks != nil {
		s.hooks.Close()
	}
	var errs []error
	if s.envs != nil {
		errs = append(errs, s.envs.closeAll())
	}
	if s.store != nil {
		errs = append(errs, s.store.Close())
	}
	return errors.Join(errs...)
}

// resetToFixtures replaces the database with the fixtures, copied from the baseline of the set
// (loaded the first time the process needs it). Reopening an existing data directory never gets
// here, so it does not pay for loading fixtures at all.
func (s *Server) resetToFixtures(ctx context.Context) error {
	// The first server of a process that finds its set's database in the cache directory reads it
	// straight into its own store: one copy instead of two, which is most of a cached start. The
	// shared baseline is read when a reset or another server needs it.
	if key, _ := s.fixtureSet(); !baselineLoaded(key) {
		if path := s.cachePath(key); path != "" {
			if _, err := os.Stat(path); err == nil {
				if err := s.store.ReadFile(ctx, path); err == nil {
					return nil
				}
			}
		}
	}
	b, err := s.baseline(ctx)
	if err != nil {
		return err
	}
	return s.store.RestoreFrom(ctx, b)
}

// routes builds the router. The Web API lives under /api/data/v9.x/; the identity endpoints under
// /{tenant}/; the admin API under /_emulator/.
func (s *Server) routes() *mux.Router {
	r := mux.NewRouter()
	r.SkipClean(true)
	if s.env == "" {
		// An environment's requests are logged once, by the server that serves it.
		r.Use(s.logRequests)
	}
	r.Methods(http.MethodGet, http.MethodHead).Path("/").HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			fmt.Fprintln(w, "dynlocal: Dataverse Web API emulator. API root: /api/data/v9.2/")
		}
	})
	admin := r.PathPrefix("/_emulator/").Subrouter()
	admin.Use(s.guardAdmin)
	s.adminRoutes(admin)
	api := r.PathPrefix("/api/data/{version:v9\\.[012]}").Subrouter()
	cors := s.corsMiddleware() // the Web API and the identity endpoints, not the admin API
	api.Use(s.journalRequests, cors, s.injectFaults)
	direct := s.handle(func(w http.ResponseWriter, r *http.Request) error { return s.serveAPI(w, r, nil) })
	api.PathPrefix("/").Handler(direct)
	api.Path("").Handler(direct)
	if s.envs != nil {
		// An environment has no identity endpoints of its own (its tenant's are at the root) and no
		// environments of its own.
		r.PathPrefix("/env/{env}/").Handler(s.handle(s.serveEnvironment))
		idp := r.NewRoute().Subrouter()
		idp.Use(s.journalRequests, cors, s.injectFaults)
		s.idp.Routes(idp)
	}
	r.NotFoundHandler = s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return notFoundURL(r)
	})
	r.MethodNotAllowedHandler = s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return notFoundURL(r)
	})
	return r
}

// handle adapts a handler that returns errors.
func (s *Server) handle(fn func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// statusRecorder remembers the status a handler wrote, for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

// Unwrap lets http.ResponseController reach the connection (a fault that resets it).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if s.log.Enabled(r.Context(), slog.LevelInfo) {
			// Query strings on the token endpoints never carry secrets (they are POSTed), but the
			// authorize redirect's code does: log paths only.
			s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", rec.status),
				slog.Duration("duration", time.Since(start)))
		}
	})
}

// notFoundURL is the answer for a URL nothing serves.
func notFoundURL(r *http.Request) error {
	return dverr.NoHTTPResource(strings.TrimSuffix(wire.Origin(r)+r.URL.Path, "/"))
}
