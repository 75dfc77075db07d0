package oauth

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// jwk is an EC public key in JSON Web Key form (RFC 7517, RFC 7518 section 6.2).
type jwk struct {
	Kty string `json:"kty"`
	Use string `json:"use"`
	Kid string `json:"kid"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	Alg string `json:"alg"`
}

// jwtHeader is the JOSE header of every token the Server signs.
type jwtHeader struct {
	Alg string `json:"alg"`
	Typ string `json:"typ,omitempty"`
	Kid string `json:"kid,omitempty"`
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

const (
	algES256 = "ES256"
	// sigSize is the length of an ES256 signature: r and s, 32 big-endian bytes each (RFC 7518
	// section 3.4), not the ASN.1 form crypto/ecdsa uses by default.
	sigSize = 64
)

var b64 = base64.RawURLEncoding

// publicJWK encodes pub as a JWK whose kid is its RFC 7638 thumbprint, so the kid changes
// whenever the key does.
func publicJWK(pub *ecdsa.PublicKey) (jwk, error) {
	raw, err := pub.Bytes() // 0x04 || X || Y
	if err != nil {
		return jwk{}, err
	}
	if len(raw) != 65 {
		return jwk{}, fmt.Errorf("unexpected P-256 public key length %d", len(raw))
	}
	k := jwk{Kty: "EC", Use: "sig", Crv: "P-256", Alg: algES256,
		X: b64.EncodeToString(raw[1:33]), Y: b64.EncodeToString(raw[33:])}
	// RFC 7638: the required members, in lexical order, without white space.
	thumb := sha256.Sum256([]byte(`{"crv":"P-256","kty":"EC","x":"` + k.X + `","y":"` + k.Y + `"}`))
	k.Kid = b64.EncodeToString(thumb[:])
	return k, nil
}

func encodeHeader(kid string) string {
	h, _ := json.Marshal(jwtHeader{Alg: algES256, Typ: "JWT", Kid: kid}) // plain strings cannot fail
	return b64.EncodeToString(h)
}

// sign returns the compact serialisation of a JWT carrying claims.
func (s *Server) sign(claims *tokenClaims) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("oauth: encode claims: %w", err)
	}
	input := s.hdr + "." + b64.EncodeToString(payload)
	digest := sha256.Sum256([]byte(input))
	r, sv, err := ecdsa.Sign(rand.Reader, s.key, digest[:])
	if err != nil {
		return "", fmt.Errorf("oauth: sign token: %w", err)
	}
	var sig [sigSize]byte
	r.FillBytes(sig[:32])
	sv.FillBytes(sig[32:])
	return input + "." + b64.EncodeToString(sig[:]), nil
}
