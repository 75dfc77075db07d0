package oauth

import (
	"crypto/rsa"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

const testOrg = "https://org.crm.dynamics.com"

// goodClaims are the claims of a valid app token for testOrg, issued at testStart.
func goodClaims() *tokenClaims {
	now := testStart.Unix()
	return &tokenClaims{
		Aud: testOrg, Iss: "http://127.0.0.1:8080/" + testTenant + "/v2.0",
		Iat: now, Nbf: now, Exp: now + 3600,
		AppID: testClient, Azp: testClient, IDTyp: "app",
		OID: testApp.ObjectID, Sub: testApp.ObjectID, TID: testTenant, UTI: "uti-1", JTI: "uti-1", Ver: "2.0",
	}
}

func mustSign(t testing.TB, s *Server, c *tokenClaims) string {
	t.Helper()
	tok, err := s.sign(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// signWith signs goodClaims after edit.
func signWith(edit func(*tokenClaims)) func(testing.TB, *Server) string {
	return func(t testing.TB, s *Server) string {
		c := goodClaims()
		edit(c)
		return mustSign(t, s, c)
	}
}

func good(t testing.TB, s *Server) string { return mustSign(t, s, goodClaims()) }

// replacePart swaps part i (0 header, 1 payload, 2 signature) of a compact JWT.
func replacePart(tok string, i int, part string) string {
	p := strings.Split(tok, ".")
	p[i] = part
	return strings.Join(p, ".")
}

// testKeys are made once, since an RSA key takes a while to generate: test servers sign with the
// first, newOtherServer's with the second.
var testKeys = sync.OnceValue(func() []*rsa.PrivateKey { return []*rsa.PrivateKey{mustKey(), mustKey()} })

func mustKey() *rsa.PrivateKey {
	k, err := NewSigningKey()
	if err != nil {
		panic(err)
	}
	return k
}

func newTestServer(t testing.TB, clock *fakeClock) *Server {
	t.Helper()
	return newServerWithKey(t, clock, testKeys()[0])
}

// newOtherServer is a test server with another signing key.
func newOtherServer(t testing.TB, clock *fakeClock) *Server {
	t.Helper()
	return newServerWithKey(t, clock, testKeys()[1])
}

func newServerWithKey(t testing.TB, clock *fakeClock, key *rsa.PrivateKey) *Server {
	t.Helper()
	s, err := New(Config{TenantID: testTenant, ClientID: testClient, ClientSecret: testSecret,
		AppUser: testApp, HumanUser: testHuman, Now: clock.Now, SigningKey: key})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestVerify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		token     func(testing.TB, *Server) string
		advance   time.Duration
		audiences []string // nil means {testOrg}
		want      Reason   // "" means accepted
	}{
		{name: "valid", token: good},
		{name: "valid until the last second", token: good, advance: time.Hour - time.Second},
		{name: "audience with trailing slash", token: good, audiences: []string{testOrg + "/"}},
		{name: "token audience with trailing slash", token: signWith(func(c *tokenClaims) { c.Aud = testOrg + "/" })},
		{name: "second audience matches", token: good, audiences: []string{"https://other.example", testOrg}},
		{name: "https issuer on another host", token: signWith(func(c *tokenClaims) { c.Iss = "https://login.example/" + testTenant + "/v2.0" })},
		{name: "user token", token: signWith(func(c *tokenClaims) { c.IDTyp, c.Scp = "", "user_impersonation" })},

		{name: "missing", token: func(testing.TB, *Server) string { return "" }, want: ReasonMissing},
		{name: "garbage", token: func(testing.TB, *Server) string { return "garbage" }, want: ReasonMalformed},
		{name: "two parts", token: func(testing.TB, *Server) string { return "e30.e30" }, want: ReasonMalformed},
		{name: "four parts", token: func(t testing.TB, s *Server) string { return good(t, s) + ".x" }, want: ReasonMalformed},
		{name: "bearer prefix left on", token: func(t testing.TB, s *Server) string { return "Bearer " + good(t, s) }, want: ReasonMalformed},
		{name: "header not base64", token: func(t testing.TB, s *Server) string { return replacePart(good(t, s), 0, "!!!") }, want: ReasonMalformed},
		{name: "header not JSON", token: func(t testing.TB, s *Server) string {
			return replacePart(good(t, s), 0, b64.EncodeToString([]byte("{")))
		}, want: ReasonMalformed},
		{name: "alg none", token: func(t testing.TB, s *Server) string {
			return replacePart(replacePart(good(t, s), 0, b64.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))), 2, "")
		}, want: ReasonMalformed},
		{name: "alg HS256", token: func(t testing.TB, s *Server) string {
			return replacePart(good(t, s), 0, b64.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT","kid":"`+s.jwk.Kid+`"}`)))
		}, want: ReasonMalformed},
		{name: "short signature", token: func(t testing.TB, s *Server) string { return replacePart(good(t, s), 2, "AAAA") }, want: ReasonMalformed},
		{name: "tampered payload", token: func(t testing.TB, s *Server) string {
			c := goodClaims()
			c.OID = testHuman.ObjectID
			forged := mustSign(t, s, c)
			return replacePart(good(t, s), 1, strings.Split(forged, ".")[1])
		}, want: ReasonBadSignature},
		{name: "tampered signature", token: func(t testing.TB, s *Server) string {
			tok := good(t, s)
			sig, _ := b64.DecodeString(strings.Split(tok, ".")[2])
			sig[10] ^= 0x01
			return replacePart(tok, 2, b64.EncodeToString(sig))
		}, want: ReasonBadSignature},
		{name: "another server's key", token: func(t testing.TB, _ *Server) string {
			return good(t, newOtherServer(t, &fakeClock{t: testStart}))
		}, want: ReasonBadSignature},
		{name: "another server's key under this kid", token: func(t testing.TB, s *Server) string {
			other := good(t, newOtherServer(t, &fakeClock{t: testStart}))
			return replacePart(other, 0, strings.Split(good(t, s), ".")[0])
		}, want: ReasonBadSignature},
		{name: "expired", token: good, advance: time.Hour, want: ReasonExpired},
		{name: "not yet valid", token: signWith(func(c *tokenClaims) { c.Nbf += 60 }), want: ReasonNotYetValid},
		{name: "wrong audience", token: good, audiences: []string{"https://other.crm.dynamics.com"}, want: ReasonWrongAudience},
		{name: "no audiences", token: good, audiences: []string{}, want: ReasonWrongAudience},
		{name: "empty token audience", token: signWith(func(c *tokenClaims) { c.Aud = "" }), audiences: []string{""}, want: ReasonWrongAudience},
		{name: "wrong tenant", token: signWith(func(c *tokenClaims) { c.TID = "00000000-0000-0000-0000-000000000000" }), want: ReasonWrongIssuer},
		{name: "issuer of another tenant", token: signWith(func(c *tokenClaims) { c.Iss = "http://127.0.0.1:8080/common/v2.0" }), want: ReasonWrongIssuer},
		{name: "issuer not a URL", token: signWith(func(c *tokenClaims) { c.Iss = testTenant + "/v2.0" }), want: ReasonWrongIssuer},
		{name: "v1 issuer", token: signWith(func(c *tokenClaims) { c.Iss = "https://sts.windows.net/" + testTenant + "/" }), want: ReasonWrongIssuer},
		{name: "id token", token: signWith(func(c *tokenClaims) { c.AppID, c.Azp = "", "" }), want: ReasonMalformed},
		{name: "no exp", token: signWith(func(c *tokenClaims) { c.Exp = 0 }), want: ReasonMalformed},
		{name: "huge", token: func(t testing.TB, s *Server) string { return strings.Repeat("a", maxTokenSize+1) }, want: ReasonMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := &fakeClock{t: testStart}
			s := newTestServer(t, clock)
			tok := tt.token(t, s)
			clock.Advance(tt.advance)
			auds := tt.audiences
			if auds == nil {
				auds = []string{testOrg}
			}
			c, err := s.Verify(tok, auds)
			if tt.want == "" {
				if err != nil || c == nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			var te *TokenError
			if !errors.As(err, &te) || !errors.Is(err, ErrInvalidToken) || c != nil {
				t.Fatalf("Verify = %v, %v; want a *TokenError matching ErrInvalidToken", c, err)
			}
			if te.Reason != tt.want {
				t.Errorf("reason %q (%v), want %q", te.Reason, err, tt.want)
			}
		})
	}
}

func FuzzVerify(f *testing.F) {
	s := newTestServer(f, &fakeClock{t: testStart})
	valid := good(f, s)
	seeds := []string{
		valid,
		"",
		"garbage",
		"..",
		"e30.e30.",
		"e30.e30.e30",
		replacePart(valid, 2, "AAAA"),
		replacePart(valid, 0, b64.EncodeToString([]byte(`{"alg":"none"}`))),
		replacePart(valid, 1, b64.EncodeToString([]byte(`{"exp":1e400,"nbf":-1}`))),
		replacePart(valid, 1, b64.EncodeToString([]byte(`[]`))),
		mustSign(f, s, &tokenClaims{Exp: 1}),
		mustSign(f, s, &tokenClaims{AppID: "x", Exp: 1 << 62, TID: testTenant, Iss: "https://h/" + testTenant + "/v2.0"}),
	}
	for _, tok := range seeds {
		f.Add(tok, testOrg)
	}
	f.Fuzz(func(t *testing.T, tok, aud string) {
		c, err := s.Verify(tok, []string{aud})
		if err == nil {
			if c == nil {
				t.Fatal("Verify returned neither claims nor an error")
			}
			return
		}
		var te *TokenError
		if !errors.As(err, &te) || !errors.Is(err, ErrInvalidToken) || te.Reason == "" {
			t.Fatalf("Verify error %v is not a *TokenError with a reason", err)
		}
	})
}
