package emulator_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/dynlocal/dynlocal/client"
	"github.com/dynlocal/dynlocal/emulator"
)

// Beyond the request limit a user gets Dataverse's 429 with Retry-After until the window moves
// on; another user is not held back; the refusal is in the journal.
func TestRequestLimit(t *testing.T) {
	t.Parallel()
	const other = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	e := newEnvWith(t, emulator.Config{Limits: &emulator.Limits{Requests: 3, Window: time.Minute},
		Apps: []emulator.App{{ClientID: other, ClientSecret: "other"}}})
	for range 3 {
		e.do("GET", "WhoAmI", nil).expect(t, 200)
	}
	r := e.do("GET", "WhoAmI", nil).expect(t, 429)
	code, msg := r.Error(t)
	if code != "0x80072322" || msg != "Number of requests exceeded the limit of 3 over time window of 60 seconds." || r.Header.Get("Retry-After") != "60" {
		t.Errorf("429: %s %q Retry-After %q", code, msg, r.Header.Get("Retry-After"))
	}
	tok, status := tokenFor(t, e.url, other, "other", e.url+"/.default")
	if status != 200 {
		t.Fatal(status)
	}
	if status, _ := whoAmI(t, e.url, tok); status != 200 {
		t.Errorf("another user: %d", status)
	}
	if got := journal(t, e, "?status=429"); len(got) != 1 || got[0].Reason == "" {
		t.Errorf("journal: %+v", got)
	}
	// The admin API (and the console) shows the limits and each user's use of them.
	var info emulator.LimitsInfo
	if err := json.Unmarshal(e.do("GET", "/_emulator/limits", nil).expect(t, 200).Body, &info); err != nil {
		t.Fatal(err)
	}
	if !info.Enabled || info.Requests != 3 || info.WindowSeconds != 60 || len(info.Users) != 2 {
		t.Fatalf("limits = %+v, want 3 requests a minute and two users", info)
	}
	for _, u := range info.Users {
		if u.Caller == emulator.DefaultAppUserID && u.Requests != 3 {
			t.Errorf("the throttled user's requests in the window = %d, want 3", u.Requests)
		}
	}
	e.clock.Advance(61 * time.Second)
	e.do("GET", "WhoAmI", nil).expect(t, 200)
}

// Without limits the admin API says so.
func TestNoLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var info emulator.LimitsInfo
	if err := json.Unmarshal(e.do("GET", "/_emulator/limits", nil).expect(t, 200).Body, &info); err != nil {
		t.Fatal(err)
	}
	if info.Enabled || info.Users == nil {
		t.Errorf("limits = %+v, want none enforced and an empty list of users", info)
	}
}

// The Go client waits the Retry-After of a 429 and goes on: a burst over a scaled-down limit
// succeeds, only later.
func TestClientRecoversFromLimits(t *testing.T) {
	t.Parallel()
	srv, err := emulator.New(context.Background(), emulator.Config{Limits: &emulator.Limits{Requests: 2, Window: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(srv.URL(), client.WithClientCredentials(srv.URL()+"/"+emulator.DefaultTenantID+"/oauth2/v2.0/token",
		emulator.DefaultClientID, emulator.DefaultClientSecret))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if _, _, err := c.WhoAmI(context.Background()); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	throttled := 0
	for _, en := range srv.Journal() {
		if en.Status == 429 {
			throttled++
		}
	}
	if throttled == 0 {
		t.Error("the burst was never throttled, so the retries were not tested")
	}
}
