package emulator_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/dynlocal/dynlocal/client"
	"github.com/dynlocal/dynlocal/emulator"
)

// newClient is a client with the client-credentials connection a daemon would use.
func (e *env) newClient(t *testing.T) *client.Client {
	t.Helper()
	c, err := client.New(e.url, client.WithClientCredentials(e.url+"/"+emulator.DefaultTenantID+"/oauth2/v2.0/token", emulator.DefaultClientID, emulator.DefaultClientSecret))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClientRecordLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.newClient(t)
	ctx := context.Background()

	who, _, err := c.WhoAmI(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if who.UserID != emulator.DefaultAppUserID || who.OrganizationID != emulator.DefaultOrganizationID {
		t.Errorf("WhoAmI = %+v", who)
	}
	me, _, err := c.GetCurrentUser(ctx, "fullname", "applicationid")
	if err != nil {
		t.Fatal(err)
	}
	if me["fullname"] != "# dynlocal-app" || me["applicationid"] != emulator.DefaultClientID {
		t.Errorf("current user = %v", me)
	}

	_, resp, err := c.CreateRecord(ctx, "accounts", client.Record{"name": "Client Co", "revenue": 10}, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := resp.ID
	if id == "" || resp.StatusCode != 204 {
		t.Fatalf("create response %+v", resp)
	}
	rec, resp, err := c.GetRecord(ctx, "accounts", id, &client.GetOptions{Select: []string{"name", "revenue"}})
	if err != nil {
		t.Fatal(err)
	}
	if rec["name"] != "Client Co" || rec["revenue"].(interface{ String() string }).String() != "10.0000" {
		t.Errorf("record = %v", rec)
	}
	etag := resp.ETag
	if _, resp, err = c.GetRecord(ctx, "accounts", id, &client.GetOptions{Select: []string{"name"}, IfNoneMatch: etag}); err != nil || resp.StatusCode != http.StatusNotModified {
		t.Errorf("conditional get: %v %+v", err, resp)
	}
	updated, _, err := c.UpdateRecord(ctx, "accounts", id, client.Record{"name": "Renamed"}, &client.UpdateOptions{ReturnRepresentation: true, Select: []string{"name"}})
	if err != nil || updated["name"] != "Renamed" {
		t.Fatalf("update: %v %v", updated, err)
	}
	_, _, err = c.UpdateRecord(ctx, "accounts", id, client.Record{"name": "stale"}, &client.UpdateOptions{IfMatch: etag})
	var ce *client.Error
	if !errors.Is(err, client.ErrPreconditionFailed) || !errors.As(err, &ce) || ce.Code != "0x80060882" {
		t.Errorf("stale update err = %v", err)
	}
	missing := "3b2c3d4e-0000-4000-8000-000000000001"
	_, _, err = c.UpdateRecord(ctx, "accounts", missing, client.Record{"name": "x"}, nil)
	if !errors.Is(err, client.ErrNotFound) || !errors.As(err, &ce) || ce.Code != "0x80040217" || ce.Message != "Entity 'account' With Id = "+missing+" Does Not Exist" {
		t.Errorf("update missing err = %v", err)
	}
	_, resp, err = c.UpsertRecord(ctx, "accounts", missing, client.Record{"name": "made"}, &client.UpsertOptions{ReturnRepresentation: true})
	if err != nil || !resp.Created {
		t.Errorf("upsert create: %v %+v", err, resp)
	}
	_, resp, err = c.UpsertRecord(ctx, "accounts", missing, client.Record{"name": "again"}, &client.UpsertOptions{ReturnRepresentation: true})
	if err != nil || resp.Created {
		t.Errorf("upsert update: %v %+v", err, resp)
	}
	if _, _, err = c.UpsertRecord(ctx, "accounts", missing, client.Record{"name": "x"}, &client.UpsertOptions{IfNoneMatch: "*"}); !errors.Is(err, client.ErrPreconditionFailed) {
		t.Errorf("create-only upsert on existing row: %v", err)
	}
	if _, err = c.DeleteRecord(ctx, "accounts", missing, nil); err != nil {
		t.Fatal(err)
	}
	if _, err = c.DeleteRecord(ctx, "accounts", missing, nil); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}

	// Raw request through the same connection.
	raw, err := c.Do(ctx, &client.RawRequest{Method: "GET", Path: "/api/data/v9.2/accounts(" + id + ")", Query: []client.KeyValue{{Key: "$select", Value: "name"}}})
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := raw.JSON.(map[string]any); m["name"] != "Renamed" {
		t.Errorf("raw JSON = %v", raw.JSON)
	}
}

// TestAuthorizationCodeFlow signs the human user in the way an interactive app would: authorize
// redirect, code exchange with PKCE, then API calls as that user, refreshing through x/oauth2.
func TestAuthorizationCodeFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := &oauth2.Config{
		ClientID:     emulator.DefaultClientID,
		ClientSecret: emulator.DefaultClientSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL:  e.url + "/" + emulator.DefaultTenantID + "/oauth2/v2.0/authorize",
			TokenURL: e.url + "/" + emulator.DefaultTenantID + "/oauth2/v2.0/token",
		},
		RedirectURL: "http://127.0.0.1:9/callback",
		Scopes:      client.UserScopes(e.url),
	}
	flow, err := client.NewAuthCodeFlow(cfg)
	if err != nil {
		t.Fatal(err)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(flow.AuthCodeURL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %d %v", resp.StatusCode, err)
	}
	ctx := context.Background()
	tok, err := flow.Exchange(ctx, loc.Query().Get("code"), loc.Query().Get("state"))
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token although offline_access was asked")
	}
	c, err := client.New(e.url, client.WithAuthorizationCode(cfg, tok))
	if err != nil {
		t.Fatal(err)
	}
	who, _, err := c.WhoAmI(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if who.UserID != emulator.DefaultHumanUserID {
		t.Errorf("WhoAmI as the signed-in user = %+v", who)
	}
	// With an expired access token the client refreshes on its own, and the refreshed token works.
	expired := *tok
	expired.Expiry = time.Now().Add(-time.Hour)
	expired.AccessToken = "expired"
	c2, err := client.New(e.url, client.WithAuthorizationCode(cfg, &expired))
	if err != nil {
		t.Fatal(err)
	}
	if who, _, err := c2.WhoAmI(ctx); err != nil || who.UserID != emulator.DefaultHumanUserID {
		t.Errorf("after refresh: %+v %v", who, err)
	}
}

func TestClientQueries(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.newClient(t)
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		if _, _, err := c.CreateRecord(ctx, "accounts", client.Record{"name": fmt.Sprintf("cq %d", i), "numberofemployees": i}, nil); err != nil {
			t.Fatal(err)
		}
	}
	opts := &client.QueryOptions{Select: []string{"name"}, Filter: "startswith(name,'cq ')", OrderBy: []string{"numberofemployees desc"}, PageSize: 2, Count: true}
	page, _, err := c.QueryRecords(ctx, "accounts", opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Records) != 2 || page.NextLink == "" || page.Count != 5 || page.Records[0]["name"] != "cq 4" {
		t.Fatalf("first page: %+v", page)
	}
	next, _, err := c.QueryRecords(ctx, "accounts", &client.QueryOptions{NextLink: page.NextLink, PageSize: 2})
	if err != nil || next.Records[0]["name"] != "cq 2" {
		t.Fatalf("second page: %+v %v", next, err)
	}
	var all []string
	for r, err := range c.QueryAll(ctx, "accounts", opts) {
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, r["name"].(string))
	}
	if len(all) != 5 || all[4] != "cq 0" {
		t.Errorf("QueryAll = %v", all)
	}
	limited := *opts
	limited.MaxPages = 2
	var gotErr error
	for _, err := range c.QueryAll(ctx, "accounts", &limited) {
		gotErr = err
	}
	if !errors.Is(gotErr, client.ErrTooManyPages) {
		t.Errorf("MaxPages: err = %v", gotErr)
	}
	n, _, err := c.Count(ctx, "accounts", "startswith(name,'cq ')")
	if err != nil || n != 5 {
		t.Errorf("Count = %d, %v", n, err)
	}
	_, _, err = c.QueryRecords(ctx, "accounts", &client.QueryOptions{Filter: "nosuch eq 1"})
	var ce *client.Error
	if !errors.As(err, &ce) || ce.StatusCode != 400 || ce.Message != "Could not find a property named 'nosuch' on type 'Microsoft.Dynamics.CRM.account'." {
		t.Errorf("bad filter: %v", err)
	}
}

func TestClientFetchXMLAndBatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.newClient(t)
	ctx := context.Background()
	results, _, err := c.Batch(ctx, []client.BatchAction{
		{Collection: "accounts", Action: "create", Data: client.Record{"name": "cfb parent"}, ContentID: "1"},
		{Collection: "contacts", Action: "create", Data: client.Record{"lastname": "cfb child", "parentcustomerid_account@odata.bind": "$1"}},
		{Collection: "accounts", Action: "update", Key: "$1", Data: client.Record{"telephone1": "555"}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 3 || results[0].ID == "" || results[1].ID == "" || results[2].Err != nil {
		t.Fatalf("batch results: %+v", results)
	}
	for i := 0; i < 5; i++ {
		if _, _, err := c.CreateRecord(ctx, "accounts", client.Record{"name": fmt.Sprintf("cfx %d", i)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	xml := `<fetch count="2"><entity name="account"><attribute name="name"/><order attribute="name"/>` +
		`<filter type="or"><condition attribute="name" operator="begins-with" value="cfx "/><condition attribute="name" operator="eq" value="none"/></filter></entity></fetch>`
	var names []string
	pages := 0
	for page, err := range c.FetchXMLPages(ctx, "accounts", xml, nil) {
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range page.Records {
			names = append(names, r["name"].(string))
		}
	}
	if pages != 3 || len(names) != 5 || names[0] != "cfx 0" || names[4] != "cfx 4" {
		t.Errorf("FetchXML pages %d rows %v", pages, names)
	}
	// A failing change set rolls back and says which action failed.
	results, _, err = c.Batch(ctx, []client.BatchAction{
		{Collection: "accounts", Action: "create", Data: client.Record{"name": "cfb rolled back"}},
		{Collection: "accounts", Action: "create", Data: client.Record{"name": strings.Repeat("x", 161)}},
	}, nil)
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Code != "0x80044331" || !results[0].NotRun || results[1].Err == nil {
		t.Errorf("failed change set: %v %+v", err, results)
	}
	if n, _, _ := c.Count(ctx, "accounts", "name eq 'cfb rolled back'"); n != 0 {
		t.Errorf("rolled back row exists")
	}
}
