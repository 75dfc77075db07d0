package client_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dynlocal/dynlocal/client"
	"github.com/google/go-cmp/cmp"
)

// The bulk calls run against the emulator in-process (startPollEmulator).

func TestBulkAgainstEmulator(t *testing.T) {
	t.Parallel()
	c, _ := startPollEmulator(t)
	ctx := context.Background()

	ids, resp, err := c.CreateMultiple(ctx, "accounts", "account", []client.Record{
		{"name": "bulk a", "accountnumber": "BLK-A"},
		{"name": "bulk b"},
		{"@odata.type": "Microsoft.Dynamics.CRM.account", "name": "bulk c"},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || len(ids) != 3 {
		t.Fatalf("CreateMultiple: status %d, ids %v", resp.StatusCode, ids)
	}

	resp, err = c.UpdateMultiple(ctx, "accounts", "account", []client.Record{
		{"accountid": ids[1], "name": "bulk b2"},
		{"@odata.id": "accounts(accountnumber='BLK-A')", "name": "bulk a2"},
	}, nil)
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("UpdateMultiple: %v %v", resp, err)
	}

	resp, err = c.UpsertMultiple(ctx, "accounts", "account", []client.Record{
		{"@odata.id": "accounts(accountnumber='BLK-A')", "name": "bulk a3"},
		{"@odata.id": "accounts(accountnumber='BLK-D')", "name": "bulk d"},
	}, nil)
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("UpsertMultiple: %v %v", resp, err)
	}

	var got []string
	for rec, err := range c.QueryAll(ctx, "accounts", &client.QueryOptions{Select: []string{"name"}, Filter: "startswith(name,'bulk ')", OrderBy: []string{"name"}}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, rec["name"].(string))
	}
	if diff := cmp.Diff([]string{"bulk a3", "bulk b2", "bulk c", "bulk d"}, got); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
}

func TestBulkErrorsAgainstEmulator(t *testing.T) {
	t.Parallel()
	c, _ := startPollEmulator(t)
	ctx := context.Background()
	tests := []struct {
		name    string
		call    func() error
		status  int
		code    string
		message string
		invalid bool // refused by the client before sending
	}{
		{"bad row", func() error {
			_, _, err := c.CreateMultiple(ctx, "accounts", "account", []client.Record{{"name": "ok"}, {"name": "bad", "nope": 1}}, nil)
			return err
		}, 400, "0x0", "Targets[1]: ", false},
		{"missing type", func() error {
			_, _, err := c.CreateMultiple(ctx, "accounts", "", []client.Record{{"name": "untyped"}}, nil)
			return err
		}, 400, "0x0", "Targets[0]: The record has no @odata.type annotation.", false},
		{"missing row", func() error {
			_, err := c.UpdateMultiple(ctx, "accounts", "account", []client.Record{{"accountid": "00000000-0000-0000-0000-0000000000b1", "name": "x"}}, nil)
			return err
		}, 404, "0x80040217", "Targets[0]: Account With Ids = 00000000-0000-0000-0000-0000000000b1 Do Not Exist", false},
		{"invalid entity set", func() error {
			_, err := c.UpsertMultiple(ctx, "accounts/x", "account", nil, nil)
			return err
		}, 0, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if tt.invalid {
				if !errors.Is(err, client.ErrInvalidInput) {
					t.Fatalf("err = %v, want ErrInvalidInput", err)
				}
				return
			}
			var ce *client.Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *client.Error", err)
			}
			if ce.StatusCode != tt.status || ce.Code != tt.code || !strings.HasPrefix(ce.Message, tt.message) {
				t.Errorf("error = %d %q %q, want %d %q and a message starting %q", ce.StatusCode, ce.Code, ce.Message, tt.status, tt.code, tt.message)
			}
		})
	}
	n, _, err := c.Count(ctx, "accounts", "name eq 'ok'")
	if err != nil || n != 0 {
		t.Errorf("rows left by the failed CreateMultiple: %d (%v)", n, err)
	}
}
