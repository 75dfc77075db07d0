package oauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"
)

// tokenResponse is a successful token endpoint answer, with Entra's member order.
type tokenResponse struct {
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope,omitempty"`
	ExpiresIn    int    `json:"expires_in"`
	ExtExpiresIn int    `json:"ext_expires_in"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
}

// maxFormSize bounds a token request body; real ones are a few hundred bytes.
const maxFormSize = 64 << 10

// handleToken serves POST /{tenant}/oauth2/v2.0/token for the client_credentials,
// authorization_code and refresh_token grants.
//
// Entra: https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
// Entra: https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.writeError(w, r, &aadError{http.StatusMethodNotAllowed, "invalid_request", 900561, fmt.Sprintf(
			"The endpoint only accepts POST requests. Received a %s request.", r.Method)})
		return
	}
	resp, err := s.token(w, r)
	var ae *aadError
	switch {
	case errors.As(err, &ae):
		s.writeError(w, r, ae)
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	default:
		writeJSON(w, http.StatusOK, resp)
	}
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) (*tokenResponse, error) {
	if e := s.checkTenant(mux.Vars(r)["tenant"]); e != nil {
		return nil, e
	}
	form, e := readForm(w, r)
	if e != nil {
		return nil, e
	}
	switch gt := form.Get("grant_type"); gt {
	case "":
		return nil, errMissing("grant_type")
	case "client_credentials":
		return s.clientCredentials(r, form)
	case "authorization_code":
		return s.authorizationCode(r, form)
	case "refresh_token":
		return s.refreshToken(r, form)
	default:
		return nil, &aadError{http.StatusBadRequest, "unsupported_grant_type", 70003,
			fmt.Sprintf("The app requested an unsupported grant type '%s'.", gt)}
	}
}

// readForm reads the form-encoded body. Parameters in the URL query are ignored, as Entra
// ignores them: secrets do not belong in URLs.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, *aadError) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, errMalformed(fmt.Sprintf("The request body must be application/x-www-form-urlencoded, not '%s'.",
			r.Header.Get("Content-Type")))
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormSize)
	if err := r.ParseForm(); err != nil {
		return nil, errMalformed("The request body could not be read as a form: " + err.Error())
	}
	for k, v := range r.PostForm {
		if len(v) > 1 {
			return nil, errMalformed(fmt.Sprintf("The parameter '%s' is repeated.", k))
		}
	}
	return r.PostForm, nil
}

// authenticateClient checks the client id and, when one is sent or needSecret is set, the
// secret. The credentials come from the form (client_secret_post) or from HTTP Basic
// (client_secret_basic), whose user and password are form-urlencoded first (RFC 6749
// section 2.3.1). It also reports whether the client proved itself with its secret.
func (s *Server) authenticateClient(r *http.Request, form url.Values, needSecret bool) (App, bool, *aadError) {
	if form.Has("client_assertion") || form.Has("client_assertion_type") {
		return App{}, false, errMalformed("dynlocal accepts client secrets only; client_assertion is not supported.")
	}
	id, secret := form.Get("client_id"), form.Get("client_secret")
	if user, pass, ok := r.BasicAuth(); ok {
		bu, err1 := url.QueryUnescape(user)
		bp, err2 := url.QueryUnescape(pass)
		switch {
		case err1 != nil || err2 != nil:
			return App{}, false, errMalformed("The client credentials in the Authorization header are not form-urlencoded (RFC 6749 section 2.3.1).")
		case bp != "" && secret != "":
			return App{}, false, errMalformed("The client sent a secret both in the Authorization header and in the body; use one.")
		case bu != "" && id != "" && bu != id:
			return App{}, false, errMalformed("The client_id in the body is not the client in the Authorization header.")
		}
		if bu != "" {
			id = bu
		}
		if bp != "" {
			secret = bp
		}
	}
	if id == "" {
		return App{}, false, errMissing("client_id")
	}
	app, ok := s.app(id)
	switch {
	case !ok:
		return App{}, false, s.errUnknownClient(id)
	case secret == "" && needSecret:
		return App{}, false, errNeedSecret()
	case secret != "" && subtle.ConstantTimeCompare([]byte(secret), []byte(app.ClientSecret)) != 1:
		return App{}, false, &aadError{http.StatusUnauthorized, "invalid_client", 7000215, fmt.Sprintf(
			"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, "+
				"not the client secret ID, for a secret added to app '%s'.", app.ClientID)}
	}
	return app, secret != "", nil
}

// app returns the registration of a client id: Config's own, or one of Config.Apps.
func (s *Server) app(id string) (App, bool) {
	if strings.EqualFold(id, s.cfg.ClientID) {
		return App{ClientID: s.cfg.ClientID, ClientSecret: s.cfg.ClientSecret, User: s.cfg.AppUser}, true
	}
	for _, a := range s.cfg.Apps {
		if strings.EqualFold(id, a.ClientID) {
			return a, true
		}
	}
	return App{}, false
}

// clientCredentials issues an app-only token for Config.AppUser.
func (s *Server) clientCredentials(r *http.Request, form url.Values) (*tokenResponse, error) {
	app, _, e := s.authenticateClient(r, form, true)
	if e != nil {
		return nil, e
	}
	resource, e := parseAppScope(form.Get("scope"))
	if e != nil {
		return nil, e
	}
	at, err := s.accessToken(r, s.cfg.Now(), resource, app.ClientID, app.User, "")
	if err != nil {
		return nil, err
	}
	return &tokenResponse{TokenType: "Bearer", ExpiresIn: s.expiresIn(), ExtExpiresIn: s.expiresIn(), AccessToken: at}, nil
}

// authorizationCode redeems a code from the authorize endpoint. The client proves it is the
// one the code was issued to with its secret (a confidential client) or with the PKCE verifier
// of the code's challenge (a public client); a code with no challenge needs the secret.
func (s *Server) authorizationCode(r *http.Request, form url.Values) (*tokenResponse, error) {
	app, authenticated, e := s.authenticateClient(r, form, false)
	if e != nil {
		return nil, e
	}
	for _, p := range []string{"code", "redirect_uri"} {
		if form.Get(p) == "" {
			return nil, errMissing(p)
		}
	}
	now := s.cfg.Now()
	g, e := s.redeemCode(form.Get("code"), form.Get("redirect_uri"), form.Get("code_verifier"), app.ClientID, authenticated, now)
	if e != nil {
		return nil, e
	}
	return s.userTokens(r, now, g)
}

// refreshToken redeems a refresh token for new tokens and a new refresh token. A scope, when
// sent, replaces the one first granted (refresh tokens in Entra work for any consented
// resource); offline access carries over either way. A refresh token is for the client it was
// issued to, and a confidential client (one that redeemed its code with the secret) must send
// the secret again.
func (s *Server) refreshToken(r *http.Request, form url.Values) (*tokenResponse, error) {
	app, authenticated, e := s.authenticateClient(r, form, false)
	if e != nil {
		return nil, e
	}
	rt := form.Get("refresh_token")
	if rt == "" {
		return nil, errMissing("refresh_token")
	}
	var scope *scopeSet
	if strings.TrimSpace(form.Get("scope")) != "" {
		ss, e := parseDelegatedScope(form.Get("scope"))
		if e != nil {
			return nil, e
		}
		scope = &ss
	}
	now := s.cfg.Now()
	g, e := s.takeRefresh(rt, app.ClientID, authenticated, now)
	if e != nil {
		return nil, e
	}
	if scope != nil {
		g.scope = *scope
	}
	g.scope.offline = true
	g.nonce = "" // a nonce belongs to the sign-in's id token only
	return s.userTokens(r, now, g)
}

// userTokens answers a delegated grant: an access token, an id token when openid was granted,
// and a refresh token when offline_access was.
func (s *Server) userTokens(r *http.Request, now time.Time, g grant) (*tokenResponse, error) {
	at, err := s.accessToken(r, now, g.scope.resource, s.cfg.ClientID, g.user, strings.Join(g.scope.perms, " "))
	if err != nil {
		return nil, err
	}
	resp := &tokenResponse{TokenType: "Bearer", Scope: g.scope.String(),
		ExpiresIn: s.expiresIn(), ExtExpiresIn: s.expiresIn(), AccessToken: at}
	if g.scope.openid {
		if resp.IDToken, err = s.idToken(r, now, g); err != nil {
			return nil, err
		}
	}
	if g.scope.offline {
		resp.RefreshToken = s.cfg.NewID()
		g.nonce = ""
		s.storeRefresh(resp.RefreshToken, &refreshGrant{grant: g, issued: now, expires: now.Add(refreshLifetime)}, now)
	}
	return resp, nil
}

// accessToken signs an access token for u on aud, issued to clientID. An empty scp makes an
// app-only token.
//
// Entra: https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference
func (s *Server) accessToken(r *http.Request, now time.Time, aud, clientID string, u User, scp string) (string, error) {
	id := s.cfg.NewID()
	c := &tokenClaims{
		Aud: aud, Iss: s.issuer(r),
		Iat: now.Unix(), Nbf: now.Unix(), Exp: now.Add(s.cfg.TokenLifetime).Unix(),
		AppID: clientID, Azp: clientID,
		OID: u.ObjectID, TID: s.cfg.TenantID, UTI: id, JTI: id, Ver: "2.0",
	}
	if scp == "" {
		c.IDTyp = "app"
		c.Sub = u.ObjectID
	} else {
		c.Name, c.PreferredUsername, c.UPN = u.Name, u.Username, u.Username
		c.Scp = scp
		c.Sub = s.pairwiseSubject(u)
	}
	return s.sign(c)
}

// idToken signs the OpenID Connect id token of a delegated grant; its audience is the client.
//
// Entra: https://learn.microsoft.com/entra/identity-platform/id-token-claims-reference
func (s *Server) idToken(r *http.Request, now time.Time, g grant) (string, error) {
	return s.sign(&tokenClaims{
		Aud: s.cfg.ClientID, Iss: s.issuer(r),
		Iat: now.Unix(), Nbf: now.Unix(), Exp: now.Add(s.cfg.TokenLifetime).Unix(),
		Name: g.user.Name, Nonce: g.nonce, OID: g.user.ObjectID, PreferredUsername: g.user.Username,
		Sub: s.pairwiseSubject(g.user), TID: s.cfg.TenantID, UTI: s.cfg.NewID(), Ver: "2.0",
	})
}

// pairwiseSubject is a user's sub: like Entra's, stable for one user and app but different
// across apps, so it cannot be used to correlate users between apps.
func (s *Server) pairwiseSubject(u User) string {
	sum := sha256.Sum256([]byte(s.cfg.TenantID + "|" + s.cfg.ClientID + "|" + u.ObjectID))
	return b64.EncodeToString(sum[:])
}

// expiresIn is the expires_in of a token response. Entra answers 3599 for an hour's token,
// which leaves clients a second of slack.
func (s *Server) expiresIn() int {
	return max(1, int(s.cfg.TokenLifetime/time.Second)-1)
}

// DeveloperToken signs a delegated access token for the user the authorize endpoint signs in,
// issued to the app registration, with the audience aud (an organization URL), as an
// authorization code grant for aud/user_impersonation would give. The admin console uses it to
// call the Web API as that user; it is only handed out behind the admin API's protections.
func (s *Server) DeveloperToken(r *http.Request, aud string) (string, User, error) {
	tok, err := s.accessToken(r, s.cfg.Now(), aud, s.cfg.ClientID, s.cfg.HumanUser, "user_impersonation")
	return tok, s.cfg.HumanUser, err
}

// TokenLifetime is how long the tokens the server signs last.
func (s *Server) TokenLifetime() time.Duration { return s.cfg.TokenLifetime }

// ClientID is the app registration's client id.
func (s *Server) ClientID() string { return s.cfg.ClientID }
