package emulator_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
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

	b.Run("W1", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			get(b, h, tok, "accounts?"+q("$filter=numberofemployees ge 5000&$orderby=name&$top=50"))
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
	b.Run("W3", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			serve(b, h, tok, http.MethodPost, "accounts", fmt.Sprintf(`{"name":"W3 %d","numberofemployees":%d,"revenue":1234.5,"accountcategorycode":1}`, i, i%10000), 204)
		}
	})
	b.Run("W4", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			get(b, h, tok, "contacts?"+q("$filter=_parentcustomerid_value eq "+pick(i)))
		}
	})
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
