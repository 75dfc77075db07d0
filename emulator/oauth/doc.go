// Package oauth is the emulator's stand-in for the Microsoft identity platform (Entra ID) v2
// endpoints: the token and authorize endpoints, the OpenID Connect discovery document and the
// signing keys, plus the bearer-token check the Web API middleware runs on every request.
//
// It serves one tenant with one app registration, an application user for the client
// credentials grant and a human user who is signed in by the authorize endpoint without a
// login page. Requests and answers keep the shapes of login.microsoftonline.com, including its
// error bodies (error, error_description with an AADSTS code, error_codes, trace and correlation
// ids), so that standard OAuth clients such as golang.org/x/oauth2 work against it unchanged.
//
// Tokens are RS256-signed JWTs, as Entra's are, signed and checked with golang-jwt; the key's id
// is in each token's header and the public key is published as a JWKS. The key is Config's (the
// emulator keeps one in its data directory, so tokens survive a restart) or a new one.
// Authorization codes and refresh tokens are kept in memory: codes are single-use and last ten
// minutes, refresh tokens are rotated on every use. Since nobody types a password, a code is
// sent only to a loopback or configured redirect URI, and is redeemed only with the client
// secret or the PKCE verifier; a refresh token works only for its client, with the secret when
// the code was redeemed with it.
//
// Entra: https://learn.microsoft.com/entra/identity-platform/v2-protocols
package oauth
