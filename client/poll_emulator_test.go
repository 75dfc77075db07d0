package client_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dynlocal/dynlocal/client"
	"github.com/dynlocal/dynlocal/emulator"
	"github.com/google/go-cmp/cmp"
)

// The tests in this file run PollChanges against the real emulator, in-process, where the fake of
// poll_test.go only knows the few query shapes PollChanges sends. The emulator's clock is injected,
// so the rows' modifiedon values (and the seconds they share) are chosen by each test.

// stepClock is the emulator's clock: it stands still until a test moves it.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// startPollEmulator starts an in-memory emulator whose clock starts at 2025-06-01 10:00:00.250 UTC
// and returns a client for it with the development credentials. Tokens last a day of the emulator's
// time, so that moving its clock does not expire them.
func startPollEmulator(t *testing.T) (*client.Client, *stepClock) {
	t.Helper()
	clock := &stepClock{now: time.Date(2025, 6, 1, 10, 0, 0, 250_000_000, time.UTC)}
	srv, err := emulator.New(context.Background(), emulator.Config{Clock: clock.Now, TokenLifetime: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		srv.Close()
	})
	c, err := client.New(hs.URL, client.WithHTTPClient(hs.Client()), client.WithClientCredentials(
		hs.URL+"/"+emulator.DefaultTenantID+"/oauth2/v2.0/token", emulator.DefaultClientID, emulator.DefaultClientSecret))
	if err != nil {
		t.Fatal(err)
	}
	return c, clock
}

// createAccounts creates one account per name at the emulator's current time and returns their ids.
func createAccounts(t *testing.T, c *client.Client, names ...string) []string {
	t.Helper()
	var ids []string
	for _, n := range names {
		_, resp, err := c.CreateRecord(context.Background(), "accounts", client.Record{"name": n}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, resp.ID)
	}
	return ids
}

// names lists the name column of rows, in the order given.
func names(rows []client.Record) []string {
	out := []string{}
	for _, r := range rows {
		s, _ := r["name"].(string)
		out = append(out, s)
	}
	return out
}

func TestPollChangesEmulator(t *testing.T) {
	t.Parallel()
	c, clock := startPollEmulator(t)
	ctx := context.Background()
	// PrimaryKey is left empty: the poll looks it up in EntityDefinitions, as it would on a tenant.
	opts := &client.PollOptions{Select: []string{"name"}, PageSize: 2}

	// The first poll reports nothing (the fixture rows predate it) and marks the end of the table.
	res, resp, err := c.PollChanges(ctx, "accounts", nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	if resp == nil || resp.StatusCode != 200 {
		t.Fatalf("baseline response = %+v, want a 200", resp)
	}
	if len(res.Created)+len(res.Updated) != 0 || res.Cursor.ModifiedOn.IsZero() {
		t.Fatalf("baseline reported %v / %v, cursor %v", names(res.Created), names(res.Updated), res.Cursor)
	}
	cur := res.Cursor

	// Five rows in one second: more than two pages, all sharing modifiedon.
	clock.Add(time.Hour)
	ids := createAccounts(t, c, "p1", "p2", "p3", "p4", "p5")
	res, resp, err = c.PollChanges(ctx, "accounts", &cur, opts)
	if err != nil {
		t.Fatal(err)
	}
	if resp == nil || resp.StatusCode != 200 {
		t.Fatalf("response = %+v, want the last page's 200", resp)
	}
	if diff := cmp.Diff([]string{"p1", "p2", "p3", "p4", "p5"}, sorted(names(res.Created))); diff != "" || len(res.Updated) != 0 {
		t.Fatalf("created (-want +got):\n%s\nupdated %v", diff, names(res.Updated))
	}
	cur = res.Cursor

	// Two more rows in the same second, and an update of one reported row: each reported once.
	createAccounts(t, c, "p6", "p7")
	if _, _, err := c.UpdateRecord(ctx, "accounts", ids[1], client.Record{"name": "p2 renamed"}, nil); err != nil {
		t.Fatal(err)
	}
	res, _, err = c.PollChanges(ctx, "accounts", &cur, opts)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"p6", "p7"}, sorted(names(res.Created))); diff != "" {
		t.Errorf("created in the same second (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"p2 renamed"}, names(res.Updated)); diff != "" {
		t.Errorf("updated in the same second (-want +got):\n%s", diff)
	}
	cur = res.Cursor

	// Nothing changed: nothing reported, however often the cursor's second is read again.
	for range 2 {
		res, _, err = c.PollChanges(ctx, "accounts", &cur, opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Created)+len(res.Updated) != 0 {
			t.Fatalf("quiet poll reported %v / %v", names(res.Created), names(res.Updated))
		}
		cur = res.Cursor
	}

	// A later second: an update of an old row, and a row created then updated between two polls,
	// which is still created.
	clock.Add(3 * time.Second)
	if _, _, err := c.UpdateRecord(ctx, "accounts", ids[0], client.Record{"name": "p1 renamed"}, nil); err != nil {
		t.Fatal(err)
	}
	late := createAccounts(t, c, "p8")
	clock.Add(time.Second)
	if _, _, err := c.UpdateRecord(ctx, "accounts", late[0], client.Record{"name": "p8 renamed"}, nil); err != nil {
		t.Fatal(err)
	}
	res, _, err = c.PollChanges(ctx, "accounts", &cur, opts)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"p8 renamed"}, names(res.Created)); diff != "" {
		t.Errorf("created then updated (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"p1 renamed"}, names(res.Updated)); diff != "" {
		t.Errorf("updated later (-want +got):\n%s", diff)
	}
}

func TestPollChangesEmulatorSinceAndFilter(t *testing.T) {
	t.Parallel()
	c, clock := startPollEmulator(t)
	ctx := context.Background()
	start := clock.Now()
	clock.Add(time.Minute)
	createAccounts(t, c, "keep a", "drop b", "keep c")

	opts := &client.PollOptions{PrimaryKey: "accountid", Select: []string{"name"}, Since: start,
		Filter: "startswith(name,'keep')", PageSize: 1, MaxPages: 1}
	var got []string
	var cur *client.PollCursor
	for i := 0; ; i++ {
		if i > 5 {
			t.Fatal("MaxPages never let the poll finish")
		}
		res, _, err := c.PollChanges(ctx, "accounts", cur, opts)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, names(res.Created)...)
		if len(res.Updated) != 0 {
			t.Errorf("updated %v, want none", names(res.Updated))
		}
		cur = &res.Cursor
		if !res.More {
			break
		}
	}
	if diff := cmp.Diff([]string{"keep a", "keep c"}, sorted(got)); diff != "" {
		t.Errorf("created since %v (-want +got):\n%s", start, diff)
	}
}

func TestPollChangesEmulatorErrors(t *testing.T) {
	t.Parallel()
	c, _ := startPollEmulator(t)
	ctx := context.Background()
	res, resp, err := c.PollChanges(ctx, "accounts", &client.PollCursor{}, &client.PollOptions{PrimaryKey: "accountid", Filter: "nosuch eq 1"})
	if err == nil || res != nil {
		t.Fatalf("result %v, error %v: want only an error", res, err)
	}
	if resp == nil || resp.StatusCode != 400 {
		t.Errorf("response = %+v, want the 400 of the failed page", resp)
	}
	if _, _, err := c.PollChanges(ctx, "widgets", nil, nil); err == nil {
		t.Error("an unknown entity set polled without an error")
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
