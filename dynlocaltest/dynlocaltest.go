package dynlocaltest

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/dynlocal/dynlocal/client"
	"github.com/dynlocal/dynlocal/emulator"
	"github.com/dynlocal/dynlocal/emulator/store"
)

// Org is one emulated Dataverse organisation, private to the test that started it: its own
// database (in memory unless WithConfig gives it a DataDir), its own loopback listener and a client
// signed in as the development app. New makes one; the test's cleanup closes it.
//
// The methods that can fail (NewClient, Snapshot, Restore, Reset) fail the test given to New with
// t.Fatal, so, like t.Fatal itself, they must be called from the goroutine running that test; a
// subtest should not call them on its parent's Org. The accessors may be called from any goroutine.
type Org struct {
	tb       testing.TB
	cfg      emulator.Config
	srv      *emulator.Server
	url      string
	tokenURL string
	hc       *http.Client
	client   *client.Client

	// shared is, for an Org made with Shared, the emulator that serves its environment env.
	shared *emulator.Server
	env    string
}

// shutdownTimeout bounds how long the cleanup waits for requests still running when the test ends
// (a goroutine the test left behind, a webhook call) before it closes their connections.
const shutdownTimeout = 5 * time.Second

// New starts an organisation for the test tb: an emulator with the fixtures (the built-in set
// unless an option says otherwise) listening on a free port of 127.0.0.1, and a client for it. It
// registers tb.Cleanup to stop the listener and close the database, and fails the test with
// tb.Fatal when the organisation cannot start.
//
// Each call makes a separate organisation, so parallel tests (t.Parallel) never see each other's
// rows. Starting one is cheap once the process has loaded the fixture set: the first New of a set
// loads it into a baseline database, and every later New from the same set copies that baseline
// (a few milliseconds; see the package documentation).
func New(tb testing.TB, opts ...Option) *Org {
	tb.Helper()
	var s settings
	for _, opt := range opts {
		if opt != nil {
			opt(&s)
		}
	}
	if s.err != nil {
		tb.Fatalf("dynlocaltest: %v", s.err)
	}
	if s.shared {
		return newShared(tb, &s)
	}
	cfg := s.cfg
	// The emulator fills in the same defaults; doing it here too lets Config and the client see
	// the credentials the server accepts.
	if cfg.TenantID == "" {
		cfg.TenantID = emulator.DefaultTenantID
	}
	if cfg.ClientID == "" {
		cfg.ClientID = emulator.DefaultClientID
	}
	if cfg.ClientSecret == "" {
		cfg.ClientSecret = emulator.DefaultClientSecret
	}
	srv, err := emulator.New(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("dynlocaltest: start the emulator: %v", err)
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		srv.Close()
		tb.Fatalf("dynlocaltest: %v", err)
	}
	o := &Org{tb: tb, cfg: cfg, srv: srv, url: srv.URL()}
	o.tokenURL = o.url + "/" + cfg.TenantID + "/oauth2/v2.0/token"
	o.start()
	return o
}

// start gives o its HTTP client and client and registers its cleanup.
func (o *Org) start() {
	o.tb.Helper()
	// A transport of its own, so that closing its idle connections at cleanup touches no other
	// test's, and nothing else's closing breaks this one's.
	o.hc = &http.Client{Transport: newTransport()}
	o.tb.Cleanup(o.close)
	c, err := o.newClient(nil)
	if err != nil {
		o.tb.Fatalf("dynlocaltest: %v", err)
	}
	o.client = c
}

// newTransport returns a copy of http.DefaultTransport.
func newTransport() *http.Transport {
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		return t.Clone()
	}
	return &http.Transport{}
}

// close stops the listener, letting running requests finish for a while, and closes the database;
// for a shared Org, it deletes the environment.
func (o *Org) close() {
	if o.shared != nil {
		o.hc.CloseIdleConnections()
		if err := o.shared.DeleteEnvironment(o.env); err != nil {
			o.tb.Errorf("dynlocaltest: delete environment %s: %v", o.env, err)
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	// A request still running after the timeout loses its connection in Close below: the test is
	// over, and what it left running is not this package's to report.
	_ = o.srv.Shutdown(ctx)
	o.hc.CloseIdleConnections()
	if err := o.srv.Close(); err != nil {
		o.tb.Errorf("dynlocaltest: close the emulator: %v", err)
	}
}

// Client returns a client of the organisation signed in as the development app (client
// credentials of Config().ClientID, acting as the application user emulator.DefaultAppUserID). It
// is the same client on every call, safe for concurrent use; it fetches its token on first use.
func (o *Org) Client() *client.Client { return o.client }

// NewClient returns a new client of the organisation, signed in as the development app like
// Client, with opts applied after the ones New uses (the HTTP client and the credentials). An
// option such as client.WithLogger or client.WithRetry adds to them; a second credential option is
// refused by client.New, so for another identity call client.New(o.URL(), ...) directly with
// TokenURL. NewClient fails the test when client.New returns an error.
func (o *Org) NewClient(opts ...client.Option) *client.Client {
	o.tb.Helper()
	c, err := o.newClient(opts)
	if err != nil {
		o.tb.Fatalf("dynlocaltest: %v", err)
	}
	return c
}

func (o *Org) newClient(opts []client.Option) (*client.Client, error) {
	all := append([]client.Option{
		client.WithHTTPClient(o.hc),
		client.WithClientCredentials(o.TokenURL(), o.cfg.ClientID, o.cfg.ClientSecret),
	}, opts...)
	return client.New(o.url, all...)
}

// URL returns the organisation's root URL, such as http://127.0.0.1:41234 (no trailing slash), or
// for a Shared one http://127.0.0.1:41234/env/TestSync-3: what client.New and other Dataverse
// clients take as the org URL.
func (o *Org) URL() string { return o.url }

// APIURL returns the Web API root, URL()+"/api/data/v9.2/", with the trailing slash, as
// client.Client.APIURL does.
func (o *Org) APIURL() string { return o.url + "/api/data/v" + client.DefaultAPIVersion + "/" }

// TokenURL returns the OAuth 2.0 token endpoint of the organisation's tenant, where the client
// credentials (and authorization code) grants are redeemed; a token for the organisation is asked
// with the scope URL()+"/.default". A Shared organisation's tenant is the shared emulator's, at its
// root.
func (o *Org) TokenURL() string { return o.tokenURL }

// Server returns the emulator behind the organisation, for what this package does not wrap (its
// WaitForWebhooks, Store); for a Shared organisation, the environment's server, whose requests come
// through the shared emulator's listener. Do not close it: the test's cleanup does.
func (o *Org) Server() *emulator.Server { return o.srv }

// Config returns the configuration the emulator was started with, after the options, with the
// tenant and the development app's credentials filled in.
func (o *Org) Config() emulator.Config { return o.cfg }

// Snapshot saves the organisation's whole database (metadata and rows) under name, replacing an
// earlier snapshot of that name, as PUT /_emulator/snapshots/{name} does. Names are 1 to 64
// letters, digits, '.', '_' or '-'. Snapshots live as long as the organisation (in memory, or under
// the DataDir a WithConfig option set). Snapshot fails the test on error.
func (o *Org) Snapshot(name string) {
	o.tb.Helper()
	if err := o.srv.Store().Snapshot(context.Background(), name); err != nil {
		o.tb.Fatalf("dynlocaltest: snapshot %q: %v", name, snapshotErr(err))
	}
}

// Restore replaces the organisation's database with the snapshot saved under name, as POST
// /_emulator/snapshots/{name}/restore does. The snapshot stays, so it can be restored again.
// Restore fails the test on error, including when there is no snapshot of that name.
func (o *Org) Restore(name string) {
	o.tb.Helper()
	if err := o.srv.Store().Restore(context.Background(), name); err != nil {
		o.tb.Fatalf("dynlocaltest: restore snapshot %q: %v", name, snapshotErr(err))
	}
}

// snapshotErr says what a store's snapshot error means to the caller.
func snapshotErr(err error) error {
	switch {
	case errors.Is(err, store.ErrNoSnapshot):
		return errors.New("no snapshot of that name was saved")
	case errors.Is(err, store.ErrBadSnapshotName):
		return errors.New("a snapshot name is 1 to 64 letters, digits, '.', '_' or '-'")
	}
	return err
}

// Reset puts the organisation back to its fixtures, as POST /_emulator/reset does: every row and
// table the test added is gone, and so is every change to the fixtures' rows and metadata. Saved
// snapshots stay. Reset fails the test on error.
func (o *Org) Reset() {
	o.tb.Helper()
	if err := o.srv.Reset(context.Background()); err != nil {
		o.tb.Fatalf("dynlocaltest: reset: %v", err)
	}
}

// Journal returns the requests the organisation served, newest first, as GET /_emulator/requests
// does: method, path, status, caller, bodies, and for a refusal its reason.
func (o *Org) Journal() []emulator.JournalEntry { return o.srv.Journal() }

// Inject adds a fault rule (a status to answer, latency, a reset connection) for the requests it
// matches, as POST /_emulator/faults does, and returns its id. Inject fails the test on a rule
// the emulator refuses.
func (o *Org) Inject(rule emulator.FaultRule) int64 {
	o.tb.Helper()
	added, err := o.srv.AddFault(rule)
	if err != nil {
		o.tb.Fatalf("dynlocaltest: inject: %v", err)
	}
	return added.ID
}
