package oauth

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims is what Verify learned from a valid access token.
type Claims struct {
	Issuer   string // iss: <origin>/<tenant id>/v2.0
	Subject  string // sub: pairwise per app for users, the object id for apps
	TenantID string // tid
	ObjectID string // oid: the caller's Entra object id (systemuser.azureactivedirectoryobjectid)
	AppID    string // appid / azp: the client id the token was issued to
	Name     string // name (user tokens)
	Username string // preferred_username (user tokens)
	Scope    string // scp (user tokens), space separated
	Audience string // aud, as written in the token

	IssuedAt  time.Time
	NotBefore time.Time
	ExpiresAt time.Time

	IsApp bool // an app-only (client credentials) token
}

// ErrInvalidToken is matched (with errors.Is) by every error Verify returns.
var ErrInvalidToken = errors.New("oauth: invalid token")

// Reason says why Verify rejected a token.
type Reason string

// The reasons Verify gives.
const (
	ReasonMissing       Reason = "missing"
	ReasonMalformed     Reason = "malformed"
	ReasonBadSignature  Reason = "bad signature"
	ReasonExpired       Reason = "expired"
	ReasonNotYetValid   Reason = "not yet valid"
	ReasonWrongAudience Reason = "wrong audience"
	ReasonWrongIssuer   Reason = "wrong issuer" // also a tid of another tenant
)

// TokenError is the error Verify returns: a Reason an API can map to its 401 answer and a
// detail for logs. It unwraps to ErrInvalidToken.
type TokenError struct {
	Reason Reason
	Detail string
}

// Error implements error.
func (e *TokenError) Error() string {
	if e.Detail == "" {
		return "oauth: invalid token: " + string(e.Reason)
	}
	return "oauth: invalid token: " + string(e.Reason) + ": " + e.Detail
}

// Unwrap makes errors.Is(err, ErrInvalidToken) true.
func (e *TokenError) Unwrap() error { return ErrInvalidToken }

func tokenErr(r Reason, format string, args ...any) *TokenError {
	return &TokenError{Reason: r, Detail: fmt.Sprintf(format, args...)}
}

// maxTokenSize bounds the work Verify does on hostile input; the Server's tokens are well
// under 2 KB.
const maxTokenSize = 16 << 10

// Verify checks an access token (the text after "Bearer ") issued by this Server: its RS256
// signature and key id, its exp and nbf against Config.Now with no leeway, that tid is the
// tenant and iss is that tenant's v2 issuer, and that aud is one of audiences, ignoring one
// trailing slash on either side. An empty audiences accepts no token. Id tokens are rejected
// as malformed: they are not access tokens. Every error is a *TokenError.
//
// Entra: https://learn.microsoft.com/entra/identity-platform/access-tokens#validate-tokens
func (s *Server) Verify(token string, audiences []string) (*Claims, error) {
	if token == "" {
		return nil, tokenErr(ReasonMissing, "no token")
	}
	if len(token) > maxTokenSize {
		return nil, tokenErr(ReasonMalformed, "token is %d bytes, more than %d", len(token), maxTokenSize)
	}
	hdr, rest, ok1 := strings.Cut(token, ".")
	_, sig, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(sig, ".") {
		return nil, tokenErr(ReasonMalformed, "a JWT has three dot-separated parts")
	}
	if err := s.checkHeader(hdr); err != nil {
		return nil, err
	}
	if raw, err := b64.DecodeString(sig); err != nil || len(raw) != s.key.Size() {
		return nil, tokenErr(ReasonMalformed, "signature is not %d base64url bytes", s.key.Size())
	}
	var c tokenClaims
	// The library checks the signature (RS256 only: no "none", no algorithm confusion) and
	// decodes the claims; the times are checked below, against Config.Now with no leeway.
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return &s.key.PublicKey, nil },
		jwt.WithValidMethods([]string{algRS256}), jwt.WithoutClaimsValidation())
	switch {
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return nil, tokenErr(ReasonBadSignature, "signature does not match")
	case err != nil:
		return nil, tokenErr(ReasonMalformed, "%v", err)
	}
	if c.AppID == "" && c.Azp == "" {
		return nil, tokenErr(ReasonMalformed, "not an access token (no appid or azp claim)")
	}
	if c.Exp == 0 {
		return nil, tokenErr(ReasonMalformed, "no exp claim")
	}

	if !strings.EqualFold(c.TID, s.cfg.TenantID) {
		return nil, tokenErr(ReasonWrongIssuer, "tid %q is not tenant %s", c.TID, s.cfg.TenantID)
	}
	if !s.isIssuer(c.Iss) {
		return nil, tokenErr(ReasonWrongIssuer, "iss %q is not this tenant's v2 issuer", c.Iss)
	}
	now := s.cfg.Now()
	exp := time.Unix(c.Exp, 0)
	if !now.Before(exp) {
		return nil, tokenErr(ReasonExpired, "expired at %s", exp.UTC().Format(time.RFC3339))
	}
	nbf := time.Unix(c.Nbf, 0)
	if c.Nbf != 0 && now.Before(nbf) {
		return nil, tokenErr(ReasonNotYetValid, "not valid before %s", nbf.UTC().Format(time.RFC3339))
	}
	if !audienceOK(c.Aud, audiences) {
		return nil, tokenErr(ReasonWrongAudience, "aud %q is not one of %q", c.Aud, audiences)
	}

	appID := c.AppID
	if appID == "" {
		appID = c.Azp
	}
	out := &Claims{
		Issuer:    c.Iss,
		Subject:   c.Sub,
		TenantID:  c.TID,
		ObjectID:  c.OID,
		AppID:     appID,
		Name:      c.Name,
		Username:  c.PreferredUsername,
		Scope:     c.Scp,
		Audience:  c.Aud,
		IssuedAt:  time.Unix(c.Iat, 0),
		NotBefore: nbf,
		ExpiresAt: exp,
		IsApp:     c.IDTyp == "app",
	}
	if c.Nbf == 0 {
		out.NotBefore = time.Time{}
	}
	return out, nil
}

// checkHeader accepts only the header shape the Server writes: RS256 and this key's kid.
// Refusing every other alg rules out "none" and algorithm-confusion tricks.
func (s *Server) checkHeader(enc string) *TokenError {
	h, err := decodeHeader(enc)
	if err != nil {
		return tokenErr(ReasonMalformed, "header: %v", err)
	}
	if alg, _ := h["alg"].(string); alg != algRS256 {
		return tokenErr(ReasonMalformed, "alg %q is not %s", h["alg"], algRS256)
	}
	if typ, ok := h["typ"].(string); ok && typ != "" && !strings.EqualFold(typ, "JWT") {
		return tokenErr(ReasonMalformed, "typ %q is not JWT", typ)
	}
	if kid, _ := h["kid"].(string); kid != s.jwk.Kid {
		return tokenErr(ReasonBadSignature, "kid %q is not this server's signing key", h["kid"])
	}
	return nil
}

// isIssuer accepts the tenant's v2 issuer on any http(s) origin: a token is minted on the
// origin its client used, which Verify cannot see.
func (s *Server) isIssuer(iss string) bool {
	rest, ok := strings.CutPrefix(iss, "http://")
	if !ok {
		rest, ok = strings.CutPrefix(iss, "https://")
	}
	if !ok {
		return false
	}
	host, path, ok := strings.Cut(rest, "/")
	return ok && host != "" && strings.EqualFold(path, s.cfg.TenantID+"/v2.0")
}

func audienceOK(aud string, audiences []string) bool {
	if aud == "" {
		return false
	}
	aud = strings.TrimSuffix(aud, "/")
	for _, a := range audiences {
		if strings.TrimSuffix(a, "/") == aud {
			return true
		}
	}
	return false
}
