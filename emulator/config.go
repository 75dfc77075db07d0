package emulator

import (
	"log/slog"
	"time"

	"github.com/dynlocal/dynlocal/fixtures"
	"github.com/google/uuid"
)

// Well-known development credentials, printed at start-up like Azurite's development account. The
// ids match the users in the default fixtures.
const (
	DefaultTenantID     = "4d2c9a10-5e1f-4b7a-9c3d-0000000000f0"
	DefaultClientID     = "4d2c9a10-5e1f-4b7a-9c3d-0000000000c0"
	DefaultClientSecret = "dynlocal-dev-secret"

	// DefaultOrganizationID is the organization row of the default fixtures.
	DefaultOrganizationID = "4d2c9a10-5e1f-4b7a-9c3d-000000000001"
	// DefaultAppUserID is the application user that client-credentials tokens act as.
	DefaultAppUserID = fixtures.AppUserID
	// DefaultAppUserObjectID is the application user's Entra object id.
	DefaultAppUserObjectID = "4d2c9a10-5e1f-4b7a-9c3d-0000000000a0"
	// DefaultHumanUserID is the user the authorization-code flow signs in.
	DefaultHumanUserID = fixtures.HumanUserID
	// DefaultHumanUserObjectID is the human user's Entra object id.
	DefaultHumanUserObjectID = "4d2c9a10-5e1f-4b7a-9c3d-0000000000a1"
	// DefaultHumanUserName is the human user's sign-in name.
	DefaultHumanUserName = "dana@dynlocal.test"
)

// Config configures a Server. The zero value is usable: an in-memory database with the default
// fixtures and the well-known development credentials.
type Config struct {
	// DataDir keeps the database file (dynlocal.sqlite) and saved snapshots. Empty means an in-memory
	// database.
	DataDir string
	// Fixtures is the metadata and rows loaded into a new database and restored by reset. Nil means
	// fixtures.Default(). An existing database made from another set is refused with
	// ErrFixturesMismatch, unless ResetData is set.
	Fixtures *fixtures.Set
	// CacheDir keeps fixture databases across processes, so a start from a set this binary has
	// loaded before copies a file instead of loading the set again. Empty means no such cache (the
	// default, so tests never depend on what an earlier run left); cmd/emulator uses
	// os.UserCacheDir()/dynlocal. Files are named by the binary and the set, written atomically,
	// and rebuilt when unreadable.
	CacheDir string
	// ResetData replaces an existing database's data with the fixtures at start, as
	// POST /_emulator/reset does.
	ResetData bool
	// TenantID, ClientID and ClientSecret are the development app registration's credentials.
	TenantID, ClientID, ClientSecret string
	// RedirectURIs are the redirect URIs the sign-in (authorize) endpoint sends codes to beside
	// the loopback ones (http://localhost, http://127.0.0.1 and http://[::1], any port and
	// path), which it always accepts; any other gets Entra's AADSTS50011 error page.
	RedirectURIs []string
	// OrgURL, when set, is accepted as token audience in addition to the origin of each request,
	// and its host as a Host header.
	OrgURL string
	// Hosts are further host names (or addresses) requests may carry in their Host header, beside
	// the loopback names, the listeners' addresses and OrgURL's host; any other Host is answered
	// 421 Misdirected Request, which keeps web pages from reaching the emulator by DNS rebinding.
	Hosts []string
	// AdminToken, when set, must be sent as "Authorization: Bearer <token>" with every request to
	// the admin API (/_emulator/ and /env/{name}/_emulator/) but GET /_emulator/health. Listen and
	// ListenTLS refuse an address that is not loopback without it.
	AdminToken string
	// MaxConnections bounds the connections the listeners hold open at once (default 4096); a few
	// more are kept for health checks, and connections beyond those are answered 503.
	MaxConnections int
	// Apps are further application registrations, each signing in as an application user of its
	// own, beside the development app (ClientID).
	Apps []App
	// CORSOrigins are the browser origins allowed to call the Web API from another origin, as
	// "scheme://host[:port]", or "*" for any. Nil means the loopback origins (localhost,
	// 127.0.0.1 and [::1] on any port); an empty, non-nil list allows none.
	CORSOrigins []string
	// Loose makes the emulator ignore query options and headers the real service rejects.
	Loose bool
	// Logger receives structured request logs. Nil discards them.
	Logger *slog.Logger
	// Clock returns the current time; nil means time.Now. Tests inject a fixed clock.
	Clock func() time.Time
	// NewID returns a new lower-case GUID; nil means random version 4 UUIDs.
	NewID func() string
	// TokenLifetime is the lifetime of access tokens (default one hour).
	TokenLifetime time.Duration
	// WebhookTimeout bounds one webhook call (Dataverse waits 60 seconds).
	WebhookTimeout time.Duration
	// AggregateLimit is the most source rows an aggregate query may read (Dataverse's
	// AggregateQueryRecordLimit, 50,000 by default).
	AggregateLimit int
	// JournalSize is how many recent requests GET /_emulator/requests keeps (default 1000; a
	// negative size turns the journal off). JournalBodyLimit is how much of each request and
	// response body an entry keeps (default 16 KiB).
	JournalSize, JournalBodyLimit int
	// Limits are the service protection limits to enforce; nil enforces none (the default).
	Limits *Limits
	// MaxEnvironments bounds how many environments POST /_emulator/environments may create
	// (default 100; each holds a database in memory, about 10 MB with the built-in fixtures).
	MaxEnvironments int
}

// App is an application registration: the client id and secret of the client-credentials grant.
type App struct {
	ClientID, ClientSecret string
}

func (c *Config) setDefaults() {
	if c.TenantID == "" {
		c.TenantID = DefaultTenantID
	}
	if c.ClientID == "" {
		c.ClientID = DefaultClientID
	}
	if c.ClientSecret == "" {
		c.ClientSecret = DefaultClientSecret
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.NewID == nil {
		c.NewID = newUUID
	}
	if c.WebhookTimeout <= 0 {
		c.WebhookTimeout = 60 * time.Second
	}
	if c.AggregateLimit <= 0 {
		c.AggregateLimit = 50000
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MaxConnections <= 0 {
		c.MaxConnections = defaultMaxConnections
	}
	if c.MaxEnvironments <= 0 {
		c.MaxEnvironments = defaultMaxEnvironments
	}
}

// newUUID returns a random (version 4) UUID in lower case.
func newUUID() string { return uuid.NewString() }
