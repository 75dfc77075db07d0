package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// These tests use golang.org/x/oauth2, the client the project's own client package builds on,
// to show that a standard OAuth client works against the endpoints unchanged.

func TestStandardClientCredentials(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		style oauth2.AuthStyle
	}{
		{"auto-detected auth style", oauth2.AuthStyleAutoDetect},
		{"secret in Basic auth", oauth2.AuthStyleInHeader},
		{"secret in the form", oauth2.AuthStyleInParams},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			ctx := context.WithValue(t.Context(), oauth2.HTTPClient, e.ts.Client())
			cc := clientcredentials.Config{
				ClientID:     testClient,
				ClientSecret: testSecret,
				TokenURL:     e.tokenURL(),
				Scopes:       []string{e.ts.URL + "/.default"},
				AuthStyle:    tt.style,
			}
			tok, err := cc.Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if tok.TokenType != "Bearer" || tok.Expiry.IsZero() || tok.RefreshToken != "" {
				t.Errorf("token %+v", tok)
			}
			c, err := e.srv.Verify(tok.AccessToken, []string{e.ts.URL})
			if err != nil || !c.IsApp {
				t.Fatalf("Verify: %+v, %v", c, err)
			}

		})
	}
}

func TestStandardClientWrongSecret(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, e.ts.Client())
	cc := clientcredentials.Config{ClientID: testClient, ClientSecret: "nope", TokenURL: e.tokenURL(),
		Scopes: []string{e.ts.URL + "/.default"}}
	_, err := cc.Token(ctx)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_client" || re.Response.StatusCode != http.StatusUnauthorized {
		t.Fatalf("err = %v, want a 401 invalid_client RetrieveError", err)
	}
}

func TestStandardClientAuthorizationCode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, e.ts.Client())
	conf := &oauth2.Config{
		ClientID:    testClient, // a public client: no secret, PKCE instead
		Endpoint:    oauth2.Endpoint{AuthURL: e.authURL(), TokenURL: e.tokenURL()},
		RedirectURL: "http://127.0.0.1:53682/",
		Scopes:      []string{e.ts.URL + "/user_impersonation", "offline_access", "openid"},
	}
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "nonce-1"))

	resp, err := e.noRedirects().Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound || loc.Query().Get("state") != "state-1" {
		t.Fatalf("authorize: %s %v %v", resp.Status, loc, err)
	}

	tok, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	if idt, _ := tok.Extra("id_token").(string); idt == "" || payload(t, idt)["nonce"] != "nonce-1" {
		t.Errorf("id_token %q", idt)
	}
	if _, err := e.srv.Verify(tok.AccessToken, []string{e.ts.URL}); err != nil {
		t.Fatal(err)
	}

	// Let the access token lapse on both clocks; the token source must refresh on its own.
	e.clock.Advance(time.Hour)
	if _, err := e.srv.Verify(tok.AccessToken, []string{e.ts.URL}); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("old access token still valid: %v", err)
	}
	oldRefresh := tok.RefreshToken
	tok.Expiry = time.Now().Add(-time.Minute)
	fresh, err := conf.TokenSource(ctx, tok).Token()
	if err != nil {
		t.Fatal(err)
	}
	if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken == oldRefresh || fresh.RefreshToken == "" {
		t.Fatalf("token source did not refresh and rotate: %+v", fresh)
	}
	c, err := e.srv.Verify(fresh.AccessToken, []string{e.ts.URL})
	if err != nil || c.Username != testHuman.Username || c.Scope != "user_impersonation" {
		t.Fatalf("refreshed token: %+v, %v", c, err)
	}

	// The rotated-out refresh token no longer works.
	stale := &oauth2.Token{RefreshToken: oldRefresh, Expiry: time.Now().Add(-time.Minute)}
	_, err = conf.TokenSource(ctx, stale).Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("stale refresh token: %v", err)
	}
}
