package client_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/dynlocal/dynlocal/client"
)

// TrackChanges and ChangePages against the emulator: the first answer over several pages, then a
// delta with a create, an update and a delete, and the count of the changes.
func TestTrackChangesAgainstEmulator(t *testing.T) {
	t.Parallel()
	c, _ := startPollEmulator(t)
	ctx := context.Background()
	opts := &client.TrackChangesOptions{Select: []string{"name"}, PageSize: 2}
	var all []string
	var link string
	pages := 0
	for page, err := range c.ChangePages(ctx, "accounts", opts) {
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range page.Records {
			all = append(all, r["accountid"].(string))
		}
		if len(page.Deleted) != 0 {
			t.Errorf("the first answer lists deletions: %v", page.Deleted)
		}
		link = page.DeltaLink
	}
	if pages < 2 || link == "" || len(all) == 0 {
		t.Fatalf("%d pages, %d rows, delta link %q", pages, len(all), link)
	}

	_, created, err := c.CreateRecord(ctx, "accounts", client.Record{"name": "Tracked"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.UpdateRecord(ctx, "accounts", all[0], client.Record{"name": "Tracked update"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteRecord(ctx, "accounts", all[1], nil); err != nil {
		t.Fatal(err)
	}
	if n, _, err := c.CountChanges(ctx, "accounts", link); err != nil || n != 3 {
		t.Errorf("CountChanges = %d, %v; want 3", n, err)
	}
	var changed, deleted []string
	next := ""
	for page, err := range c.ChangePages(ctx, "accounts", &client.TrackChangesOptions{DeltaLink: link}) {
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Records {
			changed = append(changed, r["accountid"].(string))
		}
		deleted = append(deleted, page.Deleted...)
		next = page.DeltaLink
	}
	slices.Sort(changed)
	want := []string{created.ID, all[0]}
	slices.Sort(want)
	if !slices.Equal(changed, want) || !slices.Equal(deleted, []string{all[1]}) || next == "" || next == link {
		t.Errorf("delta: changed %v (want %v), deleted %v (want %s), next link %q", changed, want, deleted, all[1], next)
	}

	// A table without change tracking.
	_, _, err = c.TrackChanges(ctx, "accountleadscollection", nil)
	var de *client.Error
	if !errors.As(err, &de) || de.StatusCode != 400 || de.Code != "0x80072491" {
		t.Errorf("TrackChanges on an intersect table: %v", err)
	}
	if _, _, err := c.CountChanges(ctx, "accounts", "https://example/api/data/v9.2/accounts"); !errors.Is(err, client.ErrInvalidInput) {
		t.Errorf("CountChanges without a token: %v", err)
	}
}
