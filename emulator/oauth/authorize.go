package oauth

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"
)

// handleAuthorize serves GET /{tenant}/oauth2/v2.0/authorize. There is no login page:
// Config.HumanUser is signed in at once and the browser goes straight back to redirect_uri
// with a code. Errors travel the same way once redirect_uri is known to be an allowed URL (a
// loopback one or one of Config.RedirectURIs); before that they get an error page, so the
// endpoint never redirects anywhere unchecked. The code is worth nothing without the client
// secret or the PKCE verifier, which the token endpoint asks for.
//
// Entra: https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow#request-an-authorization-code
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		s.writeErrorPage(w, r, &aadError{http.StatusMethodNotAllowed, "invalid_request", 900561, fmt.Sprintf(
			"The endpoint only accepts GET requests. Received a %s request.", r.Method)})
		return
	}
	if e := s.checkTenant(mux.Vars(r)["tenant"]); e != nil {
		s.writeErrorPage(w, r, e)
		return
	}
	q := r.URL.Query()
	redirectURI := q.Get("redirect_uri")
	target, e := parseRedirectURI(redirectURI)
	if e != nil {
		s.writeErrorPage(w, r, e)
		return
	}
	if !s.redirectAllowed(target) {
		s.writeErrorPage(w, r, errRedirectMismatch(redirectURI, q.Get("client_id")))
		return
	}
	mode := q.Get("response_mode")
	state := q.Get("state")
	switch mode {
	case "", "query", "fragment":
	default:
		mode = "query"
		redirect(w, r, target, mode, s.errorParams(r, errMalformed(fmt.Sprintf(
			"response_mode '%s' is not supported by dynlocal; use query or fragment.", q.Get("response_mode"))), state))
		return
	}

	code, e := s.authorize(q, redirectURI)
	if e != nil {
		redirect(w, r, target, mode, s.errorParams(r, e, state))
		return
	}
	v := url.Values{"code": {code}}
	if state != "" {
		v.Set("state", state)
	}
	redirect(w, r, target, mode, v)
}

// authorize checks an authorization request and issues its code.
func (s *Server) authorize(q url.Values, redirectURI string) (string, *aadError) {
	clientID := q.Get("client_id")
	switch {
	case clientID == "":
		return "", errMissing("client_id")
	case !strings.EqualFold(clientID, s.cfg.ClientID):
		return "", s.errUnknownClient(clientID)
	}
	switch rt := q.Get("response_type"); rt {
	case "code":
	case "":
		return "", errMissing("response_type")
	default:
		return "", &aadError{http.StatusBadRequest, "unsupported_response_type", 70005, fmt.Sprintf(
			"response_type '%s' is not enabled for the application. dynlocal supports only 'code'.", rt)}
	}
	if strings.TrimSpace(q.Get("scope")) == "" {
		return "", errMissing("scope")
	}
	scope, e := parseDelegatedScope(q.Get("scope"))
	if e != nil {
		return "", e
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	if challenge == "" && method != "" {
		return "", errMissing("code_challenge")
	}
	if challenge != "" {
		if method == "" {
			method = "plain" // RFC 7636 section 4.3
		}
		if method != "plain" && method != "S256" {
			return "", errMalformed(fmt.Sprintf("code_challenge_method '%s' is not supported; use S256 or plain.", method))
		}
		if !validChallenge(challenge, method) {
			return "", &aadError{http.StatusBadRequest, "invalid_request", 501491,
				"Invalid size of Code_Challenge parameter. An S256 code_challenge is 43 characters of [A-Za-z0-9-._~], " +
					"a plain one 43 to 128."}
		}
	}

	now := s.cfg.Now()
	code := s.cfg.NewID()
	s.storeCode(code, &authCode{
		grant:       grant{user: s.cfg.HumanUser, scope: scope, nonce: q.Get("nonce"), clientID: s.cfg.ClientID},
		redirectURI: redirectURI,
		challenge:   challenge,
		method:      method,
		expires:     now.Add(codeLifetime),
	}, now)
	return code, nil
}

// parseRedirectURI accepts only an absolute http or https URL without a fragment, the only
// kind of target the endpoint may send a browser to.
func parseRedirectURI(raw string) (*url.URL, *aadError) {
	if raw == "" {
		return nil, errMissing("redirect_uri")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" || u.User != nil {
		return nil, &aadError{http.StatusBadRequest, "invalid_request", 90102, fmt.Sprintf(
			"'redirect_uri' value must be a valid absolute URI. dynlocal accepts http and https URLs without a fragment; got '%s'.", raw)}
	}
	return u, nil
}

// validChallenge checks a code_challenge's length and alphabet (RFC 7636 section 4.2): an
// S256 challenge is a base64url SHA-256, a plain one is the verifier itself.
func validChallenge(c, method string) bool {
	if method == "S256" && len(c) != 43 || len(c) < 43 || len(c) > 128 {
		return false
	}
	for i := 0; i < len(c); i++ {
		switch b := c[i]; {
		case 'A' <= b && b <= 'Z', 'a' <= b && b <= 'z', '0' <= b && b <= '9', b == '-', b == '.', b == '_', b == '~':
		default:
			return false
		}
	}
	return true
}

// redirect sends the browser back to target with v in its query (after any query it already
// has) or in its fragment.
func redirect(w http.ResponseWriter, r *http.Request, target *url.URL, mode string, v url.Values) {
	u := *target
	var loc string
	switch {
	case mode == "fragment":
		loc = u.String() + "#" + v.Encode()
	case u.RawQuery != "":
		u.RawQuery += "&" + v.Encode()
		loc = u.String()
	default:
		u.RawQuery = v.Encode()
		loc = u.String()
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, loc, http.StatusFound)
}
