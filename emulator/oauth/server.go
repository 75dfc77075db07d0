package oauth

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/google/uuid"
	"github.com/gorilla/mux"
)

// User is a Dataverse user the identity stand-in issues tokens for.
type User struct {
	SystemUserID string // the systemuser row id in Dataverse
	ObjectID     string // Entra object id (oid claim), = systemuser.azureactivedirectoryobjectid
	Name         string // display name (name claim)
	Username     string // preferred_username / upn, e.g. dana@dynlocal.test
}

// Config describes the one tenant, app registration and users the Server knows.
type Config struct {
	// TenantID is the dev tenant GUID. Request paths may name it, "common" or "organizations".
	TenantID string
	// ClientID is the dev app registration's client (application) id.
	ClientID string
	// ClientSecret is the app registration's secret value.
	ClientSecret string
	// AppUser is the application user behind client_credentials tokens (oid = its ObjectID,
	// appid = ClientID, idtyp "app").
	AppUser User
	// Apps are further app registrations, each with the application user its client
	// credentials tokens are for.
	Apps []App
	// SigningKey signs the tokens (RS256); nil means a new key. A key kept across restarts keeps
	// the tokens issued before valid.
	SigningKey *rsa.PrivateKey
	// HumanUser is the user the authorize endpoint signs in without a login page.
	HumanUser User
	// RedirectURIs are the redirect URIs the authorize endpoint sends codes to besides loopback
	// ones (http://localhost, http://127.0.0.1 and http://[::1], any port and path), which it
	// always accepts. Each is an absolute http or https URL without a fragment, matched exactly
	// except that the port of a loopback URL does not count.
	RedirectURIs []string
	// TokenLifetime is how long access and id tokens last; 0 means one hour (expires_in 3599).
	TokenLifetime time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// NewID makes ids (UUID v4 text) for codes, token ids, refresh tokens and trace ids; nil means
	// random UUIDs from crypto/rand.
	NewID func() string
}

// App is an app registration beside Config's: its client id and secret, and its application user.
type App struct {
	ClientID, ClientSecret string
	User                   User
}

// Server issues and verifies tokens for one tenant. It is safe for concurrent use.
type Server struct {
	cfg Config
	key *rsa.PrivateKey
	jwk jwk // the public half of key, as published in the JWKS

	mu        sync.Mutex
	codes     map[string]*authCode
	refresh   map[string]*refreshGrant
	nextSweep time.Time // when sweepLocked next looks for expired entries
}

const (
	// codeLifetime is how long an authorization code can be redeemed, as in Entra.
	codeLifetime = 10 * time.Minute
	// refreshLifetime is Entra's inactivity limit for refresh tokens; rotation restarts it.
	refreshLifetime      = 90 * 24 * time.Hour
	defaultTokenLifetime = time.Hour
)

// New checks cfg, fills its defaults and generates a fresh ECDSA P-256 signing key.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.TenantID == "":
		return nil, errors.New("oauth: Config.TenantID is required")
	case isTenantAlias(cfg.TenantID):
		return nil, fmt.Errorf("oauth: Config.TenantID must be a tenant id, not %q", cfg.TenantID)
	case cfg.ClientID == "":
		return nil, errors.New("oauth: Config.ClientID is required")
	case cfg.ClientSecret == "":
		return nil, errors.New("oauth: Config.ClientSecret is required")
	case cfg.AppUser.ObjectID == "":
		return nil, errors.New("oauth: Config.AppUser.ObjectID is required")
	case cfg.HumanUser.ObjectID == "":
		return nil, errors.New("oauth: Config.HumanUser.ObjectID is required")
	case cfg.TokenLifetime < 0:
		return nil, fmt.Errorf("oauth: Config.TokenLifetime %v is negative", cfg.TokenLifetime)
	}
	if cfg.TokenLifetime == 0 {
		cfg.TokenLifetime = defaultTokenLifetime
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NewID == nil {
		cfg.NewID = newUUID
	}
	if err := checkRedirectURIs(cfg.RedirectURIs); err != nil {
		return nil, err
	}
	for _, a := range cfg.Apps {
		if a.ClientID == "" || a.ClientSecret == "" || a.User.ObjectID == "" {
			return nil, errors.New("oauth: Config.Apps: every app needs a client id, a secret and its user's object id")
		}
	}
	key := cfg.SigningKey
	if key == nil {
		var err error
		if key, err = NewSigningKey(); err != nil {
			return nil, err
		}
	} else if key.N.BitLen() < signingKeyBits {
		return nil, fmt.Errorf("oauth: Config.SigningKey has %d bits, fewer than %d", key.N.BitLen(), signingKeyBits)
	}
	pub := publicJWK(&key.PublicKey)
	return &Server{
		cfg:     cfg,
		key:     key,
		jwk:     pub,
		codes:   make(map[string]*authCode),
		refresh: make(map[string]*refreshGrant),
	}, nil
}

// Routes registers the token, authorize, discovery and key endpoints on r. The {tenant} segment
// takes the configured tenant id, "common" or "organizations".
func (s *Server) Routes(r *mux.Router) {
	r.HandleFunc("/{tenant}/oauth2/v2.0/token", s.handleToken)
	r.HandleFunc("/{tenant}/oauth2/v2.0/authorize", s.handleAuthorize)
	r.HandleFunc("/{tenant}/v2.0/.well-known/openid-configuration", s.handleOpenIDConfiguration)
	r.HandleFunc("/{tenant}/discovery/v2.0/keys", s.handleKeys)
	r.HandleFunc("/{tenant}/discovery/keys", s.handleKeys)
	r.HandleFunc("/discovery/keys", s.handleKeys)
}

// Challenge returns the WWW-Authenticate value Dataverse sends with a 401, pointing clients at
// this tenant's authority on the request's origin; resourceID is the org URL.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/compose-http-requests-handle-errors
func (s *Server) Challenge(r *http.Request, resourceID string) string {
	if !strings.HasSuffix(resourceID, "/") {
		resourceID += "/"
	}
	return fmt.Sprintf("Bearer authorization_uri=%s/%s/oauth2/authorize, resource_id=%s",
		origin(r), s.cfg.TenantID, resourceID)
}

// issuer is the iss of every token and of the discovery document: Entra's v2 form on the
// origin the client used, always naming the tenant id (even when the path said "common").
func (s *Server) issuer(r *http.Request) string {
	return origin(r) + "/" + s.cfg.TenantID + "/v2.0"
}

// origin is the scheme and host the client used to reach the emulator. A reverse proxy may
// announce TLS termination with X-Forwarded-Proto.
func origin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p != "" {
		p, _, _ = strings.Cut(p, ",")
		switch p = strings.ToLower(strings.TrimSpace(p)); p {
		case "http", "https":
			scheme = p
		}
	}
	host := r.Host
	if host == "" {
		host = "localhost"
	}
	return scheme + "://" + host
}

// isTenantAlias reports whether t is one of the multi-tenant path segments the emulator
// resolves to its one tenant.
func isTenantAlias(t string) bool {
	return strings.EqualFold(t, "common") || strings.EqualFold(t, "organizations")
}

// checkTenant answers the {tenant} path segment the way Entra does for tenants it does not know.
func (s *Server) checkTenant(t string) *aadError {
	if isTenantAlias(t) || strings.EqualFold(t, s.cfg.TenantID) {
		return nil
	}
	if model.IsGUID(t) || strings.Contains(t, ".") {
		return &aadError{http.StatusBadRequest, "invalid_request", 90002, fmt.Sprintf(
			"Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. "+
				"Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", t)}
	}
	return &aadError{http.StatusBadRequest, "invalid_request", 900023, fmt.Sprintf(
		"Specified tenant identifier '%s' is neither a valid DNS name, nor a valid external domain.", t)}
}

// pathTenant is the tenant segment to echo in endpoint URLs: the alias as given, or the
// configured tenant id in its configured spelling.
func (s *Server) pathTenant(t string) string {
	if isTenantAlias(t) {
		return strings.ToLower(t)
	}
	return s.cfg.TenantID
}

func newUUID() string { return uuid.NewString() }
