package dynlocaltest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dynlocal/dynlocal/client"
	"github.com/dynlocal/dynlocal/dynlocaltest"
	"github.com/dynlocal/dynlocal/emulator"
)

// The examples run their bodies through runTest (helpers_test.go), which stands in for go test:
// in a test file the body is a test function's, with the test's t.

// A test starts its own organisation and works with it through the ready client.
func ExampleNew() {
	runTest(func(t testing.TB) {
		ctx := context.Background()
		dv := dynlocaltest.New(t) // closed when the test ends
		c := dv.Client()

		_, created, err := c.CreateRecord(ctx, "accounts", client.Record{"name": "Contoso"}, nil)
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		acct, _, err := c.GetRecord(ctx, "accounts", created.ID, &client.GetOptions{Select: []string{"name"}})
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		fmt.Println("read back:", acct["name"])
	})
	// Output:
	// read back: Contoso
}

// A snapshot saves the organisation's state; Restore goes back to it, as often as needed, and
// Reset goes back to the fixtures.
func ExampleOrg_Snapshot() {
	runTest(func(t testing.TB) {
		ctx := context.Background()
		dv := dynlocaltest.New(t)
		c := dv.Client()
		count := func() int64 {
			n, _, err := c.Count(ctx, "accounts", "startswith(name,'Example')")
			if err != nil {
				t.Fatalf("count: %v", err)
			}
			return n
		}

		if _, _, err := c.CreateRecord(ctx, "accounts", client.Record{"name": "Example One"}, nil); err != nil {
			t.Fatalf("create: %v", err)
		}
		dv.Snapshot("one-account")
		if _, _, err := c.CreateRecord(ctx, "accounts", client.Record{"name": "Example Two"}, nil); err != nil {
			t.Fatalf("create: %v", err)
		}
		fmt.Println("before restore:", count())
		dv.Restore("one-account")
		fmt.Println("after restore:", count())
		dv.Reset()
		fmt.Println("after reset:", count())
	})
	// Output:
	// before restore: 2
	// after restore: 1
	// after reset: 0
}

// With a fixed clock the emulator's timestamps are known in advance.
func ExampleWithClock() {
	runTest(func(t testing.TB) {
		ctx := context.Background()
		now := time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)
		dv := dynlocaltest.New(t, dynlocaltest.WithClock(func() time.Time { return now }))

		acct, _, err := dv.Client().CreateRecord(ctx, "accounts", client.Record{"name": "Contoso"},
			&client.CreateOptions{ReturnRepresentation: true, Select: []string{"createdon"}})
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		fmt.Println("createdon:", acct["createdon"])
	})
	// Output:
	// createdon: 2025-03-14T15:09:26Z
}

// With Shared, the tests of a package share one emulator, each in an environment of its own.
func ExampleShared() {
	runTest(func(t testing.TB) {
		dv := dynlocaltest.New(t, dynlocaltest.Shared()) // the environment is deleted when the test ends
		_, _, err := dv.Client().CreateRecord(context.Background(), "accounts", client.Record{"name": "Contoso"}, nil)
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		fmt.Println("served under /env/:", strings.Contains(dv.URL(), "/env/Example-"))
	})
	// Output:
	// served under /env/: true
}

// A fault rule makes the next create fail with 503; a client that retries writes recovers, and the
// journal shows both attempts.
func ExampleOrg_Inject() {
	runTest(func(t testing.TB) {
		dv := dynlocaltest.New(t)
		dv.Inject(emulator.FaultRule{
			Match:    emulator.FaultMatch{Method: "POST", EntitySet: "accounts"},
			Response: &emulator.FaultResponse{Status: 503},
			Times:    1,
		})
		c := dv.NewClient(client.WithRetry(client.RetryPolicy{MaxRetries: 1, RetryWrites: true}))
		if _, _, err := c.CreateRecord(context.Background(), "accounts", client.Record{"name": "Contoso"}, nil); err != nil {
			t.Fatalf("create: %v", err)
		}
		for _, e := range dv.Journal() {
			if e.Method == "POST" && strings.HasSuffix(e.Path, "/accounts") {
				fmt.Println(e.Method, e.Path, e.Status)
			}
		}
	})
	// Output:
	// POST /api/data/v9.2/accounts 204
	// POST /api/data/v9.2/accounts 503
}
