package emulator

import (
	"net/http"
	"strings"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/wire"
)

// consolePath is where the web console is served (package console), under the admin API and so
// behind its protections; its files alone load without the admin token (guardAdmin).
const consolePath = "/_emulator/ui"

// consoleSession serves GET /_emulator/session: what the console, or a developer setting up a
// client, needs to talk to this organization (or environment): its Web API and identity URLs,
// tenant, client id and scope, and a delegated access token for the development user, which the
// console uses to call the Web API. It is an admin endpoint: the token is handed out only under
// the admin API's protections (own origin; the admin token when one is set).
func (s *Server) consoleSession(w http.ResponseWriter, r *http.Request) error {
	if s.idp == nil {
		return dverr.New(http.StatusServiceUnavailable, dverr.CodeNone, "The identity endpoints are not running.")
	}
	host := wire.HostOrigin(r)
	org := wire.Origin(r)
	// The token is for this organization (an environment's URL is its own audience).
	aud := org
	if s.cfg.OrgURL != "" {
		aud = strings.TrimSuffix(s.cfg.OrgURL, "/")
	}
	tok, user, err := s.idp.DeveloperToken(r, aud)
	if err != nil {
		return err
	}
	o := wire.NewObject()
	o.Set("environment", s.env)
	o.Set("organizationUrl", org)
	o.Set("webApiUrl", org+"/api/data/v9.2/")
	o.Set("tenantId", s.cfg.TenantID)
	o.Set("clientId", s.idp.ClientID())
	o.Set("tokenUrl", s.identityURL(host, "token"))
	o.Set("authorizeUrl", s.identityURL(host, "authorize"))
	o.Set("scope", aud+"/.default")
	o.Set("adminTokenRequired", s.cfg.AdminToken != "")
	o.Set("accessToken", tok)
	o.Set("expiresIn", int(s.idp.TokenLifetime().Seconds()))
	u := wire.NewObject()
	u.Set("systemuserid", user.SystemUserID)
	u.Set("name", user.Name)
	u.Set("username", user.Username)
	o.Set("user", u)
	w.Header().Set("Cache-Control", "no-store")
	wire.WriteJSON(w, http.StatusOK, o)
	return nil
}

// identityURL is the URL of one of the tenant's identity endpoints ("token", "authorize") at the
// emulator reached as host.
func (s *Server) identityURL(host, endpoint string) string {
	return host + "/" + s.cfg.TenantID + "/oauth2/v2.0/" + endpoint
}
