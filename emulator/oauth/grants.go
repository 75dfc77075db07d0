package oauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// grant is what the signed-in user allowed the client: the scopes, and the nonce to put in the
// id token. clientID is the client it was issued to; confidential is set once that client has
// redeemed it with its secret, which it then needs for every refresh.
type grant struct {
	user         User
	scope        scopeSet
	nonce        string
	clientID     string
	confidential bool
}

// authCode is an issued authorization code. A redeemed code is kept until it expires so that a
// second redemption gets Entra's "already redeemed" answer rather than "unknown".
type authCode struct {
	grant
	redirectURI string
	challenge   string // PKCE code_challenge, "" when the client sent none
	method      string // "S256" or "plain"
	expires     time.Time
	redeemed    bool
}

// refreshGrant is the state behind one refresh token.
type refreshGrant struct {
	grant
	issued  time.Time
	expires time.Time
}

// storeCode records a new authorization code.
func (s *Server) storeCode(code string, c *authCode, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
	s.codes[code] = c
}

// storeRefresh records a new refresh token.
func (s *Server) storeRefresh(token string, g *refreshGrant, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
	s.refresh[token] = g
}

// redeemCode checks a code redemption by clientID, authenticated when it sent its secret, and,
// when it is good, marks the code used. A failed attempt leaves the code as it was, so the
// client can correct its request.
func (s *Server) redeemCode(code, redirectURI, verifier, clientID string, authenticated bool, now time.Time) (grant, *aadError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.codes[code]
	switch {
	case !ok:
		return grant{}, errBadGrant(70000, "Provided grant is invalid or malformed. The authorization code is unknown.")
	case c.redeemed:
		return grant{}, errBadGrant(54005,
			"OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.")
	case !now.Before(c.expires):
		return grant{}, errBadGrant(70008, "The provided authorization code or refresh token has expired due to inactivity. "+
			"Send a new interactive authorization request for this user and resource.")
	case !strings.EqualFold(c.clientID, clientID):
		return grant{}, errBadGrant(70000, fmt.Sprintf("Provided grant is invalid or malformed. "+
			"The authorization code was issued to another client than '%s'.", clientID))
	case c.redirectURI != redirectURI:
		return grant{}, errBadGrant(500112, fmt.Sprintf("The reply address '%s' does not match the reply address '%s' "+
			"provided when requesting Authorization code.", redirectURI, c.redirectURI))
	}
	if e := checkPKCE(c.challenge, c.method, verifier); e != nil {
		return grant{}, e
	}
	if c.challenge == "" && !authenticated {
		return grant{}, errNeedSecret()
	}
	c.redeemed = true
	g := c.grant
	g.confidential = authenticated
	return g, nil
}

// takeRefresh looks up a refresh token for clientID, authenticated when it sent its secret,
// and, when it is good, removes it: refresh tokens are rotated, so each works once. A request
// the client can correct (the secret left out) leaves the token as it was.
func (s *Server) takeRefresh(token, clientID string, authenticated bool, now time.Time) (grant, *aadError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.refresh[token]
	switch {
	case !ok:
		return grant{}, errBadGrant(70000, "Provided grant is invalid or malformed. The refresh token is unknown or was "+
			"already used; refresh tokens are rotated, so send the one from the latest token response.")
	case !strings.EqualFold(g.clientID, clientID):
		return grant{}, errBadGrant(70000, fmt.Sprintf("Provided grant is invalid or malformed. "+
			"The refresh token was issued to another client than '%s'.", clientID))
	case g.confidential && !authenticated:
		return grant{}, errNeedSecret()
	}
	delete(s.refresh, token)
	if !now.Before(g.expires) {
		return grant{}, errBadGrant(700082, fmt.Sprintf("The refresh token has expired due to inactivity. "+
			"The token was issued on %s and was inactive for %s.", g.issued.UTC().Format(time.RFC3339Nano), timeSpan(now.Sub(g.issued))))
	}
	return g.grant, nil
}

// sweepLocked drops codes and refresh tokens that can no longer be used, at most once a minute.
func (s *Server) sweepLocked(now time.Time) {
	if now.Before(s.nextSweep) {
		return
	}
	s.nextSweep = now.Add(time.Minute)
	for k, c := range s.codes {
		if !now.Before(c.expires) {
			delete(s.codes, k)
		}
	}
	for k, g := range s.refresh {
		if !now.Before(g.expires) {
			delete(s.refresh, k)
		}
	}
}

// checkPKCE compares a code_verifier with the code_challenge of the authorization request
// (RFC 7636 section 4.6).
func checkPKCE(challenge, method, verifier string) *aadError {
	switch {
	case challenge == "" && verifier == "":
		return nil
	case challenge == "":
		return errBadGrant(501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request. "+
			"The authorization request had no code_challenge.")
	case verifier == "":
		return errMissing("code_verifier")
	}
	want := verifier
	if method == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		want = b64.EncodeToString(sum[:])
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) != 1 {
		return errBadGrant(501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request.")
	}
	return nil
}

// errNeedSecret is Entra's answer to a confidential client that did not authenticate.
func errNeedSecret() *aadError {
	return &aadError{http.StatusUnauthorized, "invalid_client", 7000218,
		"The request body must contain the following parameter: 'client_assertion' or 'client_secret'."}
}

func errBadGrant(aadsts int, msg string) *aadError {
	return &aadError{http.StatusBadRequest, "invalid_grant", aadsts, msg}
}

// timeSpan formats d like .NET's TimeSpan ("90.00:00:00"), as Entra's messages do.
func timeSpan(d time.Duration) string {
	d = d.Truncate(time.Second)
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	h := d / time.Hour
	d -= h * time.Hour
	m := d / time.Minute
	d -= m * time.Minute
	return fmt.Sprintf("%d.%02d:%02d:%02d", days, h, m, d/time.Second)
}
