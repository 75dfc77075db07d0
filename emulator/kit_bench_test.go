package emulator_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/dynlocal/dynlocal/emulator"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/store"
)

// kitAccounts sizes the data set of BenchmarkKit: that many accounts and twice as many
// contacts, as the performance kit generates them (names in shuffled order, a random employee
// count, revenue and category, contacts spread over random accounts). CI runs the default; the
// kit's own size is -kit.accounts 100000.
var kitAccounts = flag.Int("kit.accounts", 2000, "accounts in BenchmarkKit's data set (contacts: twice as many)")

// BenchmarkKit runs the performance kit's four workloads against an in-process emulator, without
// wrk or a network:
//
//	W1        accounts?$filter=numberofemployees ge 5000&$orderby=name&$top=50 (every column)
//	W1select  the same with $select of the six columns the kit's hand-written floor returns
//	W2        accounts(<id>)
//	W3        POST accounts
//	W4        contacts?$filter=_parentcustomerid_value eq <id>
//
// W1hand, W2hand and W4hand serve the same reads of every column from a hand-written handler
// over the same data file (see handWritten): the cost of the rows' width without the emulator.
//
// go test ./emulator -run '^$' -bench Kit [-kit.accounts 100000]
func BenchmarkKit(b *testing.B) {
	dir := b.TempDir()
	accounts, err := kitData(dir, *kitAccounts)
	if err != nil {
		b.Fatal(err)
	}
	srv, err := emulator.New(context.Background(), emulator.Config{DataDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	h, tok := handlerWithToken(b, srv)
	pick := func(i int) string { return accounts[(i*7919)%len(accounts)] }
	hand := newHandWritten(b, filepath.Join(dir, "dynlocal.sqlite"))
	w1 := "accounts?" + q("$filter=numberofemployees ge 5000&$orderby=name&$top=50")
	w4 := func(i int) string { return "contacts?" + q("$filter=_parentcustomerid_value eq "+pick(i)) }
	for _, path := range []string{w1, "accounts(" + pick(1) + ")", w4(1), w4(2)} {
		sameRows(b, h, hand, tok, path)
	}

	b.Run("W1", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			get(b, h, tok, w1)
		}
	})
	b.Run("W1hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			get(b, hand, tok, w1)
		}
	})
	b.Run("W1select", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			get(b, h, tok, "accounts?"+q("$select=name,numberofemployees,revenue,accountcategorycode,createdon&$filter=numberofemployees ge 5000&$orderby=name&$top=50"))
		}
	})
	b.Run("W2", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			get(b, h, tok, "accounts("+pick(i)+")")
		}
	})
	b.Run("W2hand", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			get(b, hand, tok, "accounts("+pick(i)+")")
		}
	})
	b.Run("W3", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			serve(b, h, tok, http.MethodPost, "accounts", fmt.Sprintf(`{"name":"W3 %d","numberofemployees":%d,"revenue":1234.5,"accountcategorycode":1}`, i, i%10000), 204)
		}
	})
	b.Run("W4", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			get(b, h, tok, w4(i))
		}
	})
	b.Run("W4hand", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			get(b, hand, tok, w4(i))
		}
	})
}

// sameRows fails b unless the emulator and the hand-written handler answer path with the same
// rows, in the same order, each with at least as many members as the table has columns.
func sameRows(b *testing.B, emu, hand http.Handler, tok, path string) {
	b.Helper()
	rows := func(h http.Handler) ([]string, int) {
		var body map[string]any
		if err := json.Unmarshal(serve(b, h, tok, http.MethodGet, path, "", 200).Body.Bytes(), &body); err != nil {
			b.Fatal(err)
		}
		list := []any{body}
		if v, ok := body["value"].([]any); ok {
			list = v
		}
		var ids []string
		width := -1
		for _, r := range list {
			m := r.(map[string]any)
			id, _ := m["accountid"].(string)
			if c, ok := m["contactid"].(string); ok {
				id = c
			}
			ids = append(ids, id)
			if width < 0 || len(m) < width {
				width = len(m)
			}
		}
		return ids, width
	}
	want, emuWidth := rows(emu)
	got, handWidth := rows(hand)
	if !slices.Equal(got, want) || len(want) == 0 {
		b.Fatalf("%s: the hand-written handler returned rows %v, the emulator %v", path, got, want)
	}
	// The emulator adds annotations and names lookups _x_value; the hand-written handler returns
	// the stored columns, type columns included, so it is never narrower.
	if handWidth < emuWidth*9/10 {
		b.Fatalf("%s: the hand-written handler returned %d members a row, the emulator %d", path, handWidth, emuWidth)
	}
}

// kitData writes the data set into a new data directory at dir and returns the account ids.
func kitData(dir string, n int) ([]string, error) {
	srv, err := emulator.New(context.Background(), emulator.Config{DataDir: dir})
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	st := srv.Store()
	sch := st.Schema()
	acc, _ := sch.Entity("account")
	con, _ := sch.Entity("contact")
	rng := rand.New(rand.NewPCG(20261126, 1))
	guid := func() string {
		return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", rng.Uint32(), rng.Uint32()&0xffff, rng.Uint32()&0xfff, rng.Uint32()&0xfff, rng.Uint64()&0xffffffffffff)
	}
	ids := make([]string, n)
	order := rng.Perm(n)
	epoch := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	err = st.Write(context.Background(), func(tx *store.Tx) error {
		for _, i := range order {
			ids[i] = guid()
			if _, err := tx.Insert(acc, model.Row{
				"accountid": ids[i], "name": fmt.Sprintf("Account %06d", i),
				"numberofemployees": int64(rng.IntN(10000)), "accountcategorycode": int64(rng.IntN(2) + 1),
				"revenue":   model.Decimal{Unscaled: rng.Int64N(1_000_000_000), Scale: 2},
				"createdon": epoch.Add(time.Duration(rng.Int64N(int64(5 * 365 * 24 * time.Hour)))).Truncate(time.Second),
				"statecode": int64(0), "statuscode": int64(1),
			}); err != nil {
				return err
			}
		}
		for range 2 * n {
			if _, err := tx.Insert(con, model.Row{
				"contactid": guid(), "firstname": "Ada", "lastname": fmt.Sprintf("Contact %d", rng.IntN(1000)),
				"parentcustomerid": model.Lookup{ID: ids[rng.IntN(n)], Entity: "account"},
				"statecode":        int64(0), "statuscode": int64(1),
			}); err != nil {
				return err
			}
		}
		return nil
	})
	return ids, err
}
