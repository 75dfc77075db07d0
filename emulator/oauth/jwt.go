package oauth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Tokens are signed RS256, as the Microsoft identity platform signs them, with the key's id in
// the header (kid) and the public key published as a JWKS. Signing and checking the signature
// are golang-jwt's; Verify adds the checks Entra's tokens need beyond it (tenant, issuer,
// audience).

// jwk is an RSA public key in JSON Web Key form (RFC 7517, RFC 7518 section 6.3).
type jwk struct {
	Kty string `json:"kty"`
	Use string `json:"use"`
	Kid string `json:"kid"`
	N   string `json:"n"`
	E   string `json:"e"`
	Alg string `json:"alg"`
}

// tokenClaims is the payload of access and id tokens, with the claim names Entra's v2 tokens
// use. Times are seconds since the Unix epoch.
type tokenClaims struct {
	Aud               string `json:"aud"`
	Iss               string `json:"iss"`
	Iat               int64  `json:"iat"`
	Nbf               int64  `json:"nbf"`
	Exp               int64  `json:"exp"`
	AppID             string `json:"appid,omitempty"`
	Azp               string `json:"azp,omitempty"`
	IDTyp             string `json:"idtyp,omitempty"`
	Name              string `json:"name,omitempty"`
	Nonce             string `json:"nonce,omitempty"`
	OID               string `json:"oid"`
	PreferredUsername string `json:"preferred_username,omitempty"`
	Scp               string `json:"scp,omitempty"`
	Sub               string `json:"sub"`
	TID               string `json:"tid"`
	UPN               string `json:"upn,omitempty"`
	UTI               string `json:"uti,omitempty"`
	JTI               string `json:"jti,omitempty"`
	Ver               string `json:"ver"`
}

// The jwt.Claims methods. Verify checks aud and iss itself, so the library is given only the
// times.

func numericDate(sec int64) *jwt.NumericDate {
	if sec == 0 {
		return nil
	}
	return jwt.NewNumericDate(time.Unix(sec, 0))
}

func (c *tokenClaims) GetExpirationTime() (*jwt.NumericDate, error) { return numericDate(c.Exp), nil }
func (c *tokenClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return numericDate(c.Iat), nil }
func (c *tokenClaims) GetNotBefore() (*jwt.NumericDate, error)      { return numericDate(c.Nbf), nil }
func (c *tokenClaims) GetIssuer() (string, error)                   { return c.Iss, nil }
func (c *tokenClaims) GetSubject() (string, error)                  { return c.Sub, nil }
func (c *tokenClaims) GetAudience() (jwt.ClaimStrings, error)       { return jwt.ClaimStrings{c.Aud}, nil }

const algRS256 = "RS256"

// signingKeyBits is the size of the keys NewSigningKey makes, as Entra's.
const signingKeyBits = 2048

var b64 = base64.RawURLEncoding

// publicJWK is the public half of key as a JWK, its kid the RFC 7638 thumbprint.
func publicJWK(pub *rsa.PublicKey) jwk {
	k := jwk{Kty: "RSA", Use: "sig", Alg: algRS256,
		N: b64.EncodeToString(pub.N.Bytes()), E: b64.EncodeToString(big.NewInt(int64(pub.E)).Bytes())}
	// RFC 7638: the required members, in lexical order, without white space.
	thumb := sha256.Sum256([]byte(`{"e":"` + k.E + `","kty":"RSA","n":"` + k.N + `"}`))
	k.Kid = b64.EncodeToString(thumb[:])
	return k
}

// sign returns the compact serialisation of a JWT carrying claims.
func (s *Server) sign(claims *tokenClaims) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = s.jwk.Kid
	out, err := t.SignedString(s.key)
	if err != nil {
		return "", fmt.Errorf("oauth: sign token: %w", err)
	}
	return out, nil
}

// NewSigningKey generates a signing key for Config.SigningKey.
func NewSigningKey() (*rsa.PrivateKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, signingKeyBits)
	if err != nil {
		return nil, fmt.Errorf("oauth: generate signing key: %w", err)
	}
	return key, nil
}

// decodeHeader reads a token's JOSE header.
func decodeHeader(enc string) (map[string]any, error) {
	raw, err := b64.DecodeString(enc)
	if err != nil {
		return nil, err
	}
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, err
	}
	return h, nil
}
