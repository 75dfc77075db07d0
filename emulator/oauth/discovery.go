package oauth

import (
	"fmt"
	"net/http"

	"github.com/gorilla/mux"
)

// openIDConfiguration is the OpenID Connect discovery document, with the members Entra
// publishes that the emulator can stand behind.
type openIDConfiguration struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	ClaimsSupported                   []string `json:"claims_supported"`
	RequestURIParameterSupported      bool     `json:"request_uri_parameter_supported"`
}

// handleOpenIDConfiguration serves GET /{tenant}/v2.0/.well-known/openid-configuration. The
// issuer always names the tenant id; the endpoints keep the tenant segment the client used.
//
// Entra: https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc#find-your-apps-openid-configuration-document-uri
func (s *Server) handleOpenIDConfiguration(w http.ResponseWriter, r *http.Request) {
	if !s.discoveryRequest(w, r) {
		return
	}
	base := origin(r) + "/" + s.pathTenant(mux.Vars(r)["tenant"])
	writeJSON(w, http.StatusOK, openIDConfiguration{
		Issuer:                            s.issuer(r),
		AuthorizationEndpoint:             base + "/oauth2/v2.0/authorize",
		TokenEndpoint:                     base + "/oauth2/v2.0/token",
		JWKSURI:                           base + "/discovery/v2.0/keys",
		ResponseTypesSupported:            []string{"code"},
		ResponseModesSupported:            []string{"query", "fragment"},
		SubjectTypesSupported:             []string{"pairwise"},
		IDTokenSigningAlgValuesSupported:  []string{algRS256},
		ScopesSupported:                   []string{"openid", "profile", "email", "offline_access"},
		TokenEndpointAuthMethodsSupported: []string{"client_secret_post", "client_secret_basic"},
		GrantTypesSupported:               []string{"authorization_code", "client_credentials", "refresh_token"},
		CodeChallengeMethodsSupported:     []string{"S256", "plain"},
		ClaimsSupported: []string{"sub", "iss", "aud", "exp", "iat", "nbf", "name", "nonce", "oid",
			"preferred_username", "upn", "tid", "ver", "scp", "appid", "azp", "idtyp", "uti", "jti"},
	})
}

// handleKeys serves the signing keys as a JWK set, at /{tenant}/discovery/v2.0/keys and the
// older /{tenant}/discovery/keys and /discovery/keys.
//
// Entra: https://learn.microsoft.com/entra/identity-platform/access-tokens#validate-the-signature
func (s *Server) handleKeys(w http.ResponseWriter, r *http.Request) {
	if !s.discoveryRequest(w, r) {
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Keys []jwk `json:"keys"`
	}{[]jwk{s.jwk}})
}

// discoveryRequest answers what is wrong with a discovery request (method, tenant) and
// reports whether the handler should go on.
func (s *Server) discoveryRequest(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		s.writeError(w, r, &aadError{http.StatusMethodNotAllowed, "invalid_request", 900561, fmt.Sprintf(
			"The endpoint only accepts GET requests. Received a %s request.", r.Method)})
		return false
	}
	if t, ok := mux.Vars(r)["tenant"]; ok {
		if e := s.checkTenant(t); e != nil {
			s.writeError(w, r, e)
			return false
		}
	}
	return true
}
