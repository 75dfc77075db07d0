package emulator_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dynlocal/dynlocal/emulator"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/store"
)

// The query benchmarks run on 100,000 accounts and 200,000 contacts in a file database, each beside
// the same question written by hand in SQL (plus JSON encoding of the rows) against the same file.
var (
	bigOnce sync.Once
	bigDir  string
	bigErr  error
)

func bigData(b *testing.B) (http.Handler, string, *sql.DB) {
	b.Helper()
	bigOnce.Do(func() {
		bigDir, bigErr = tempDirNoCleanup()
		if bigErr != nil {
			return
		}
		srv, err := emulator.New(context.Background(), emulator.Config{DataDir: bigDir})
		if err != nil {
			bigErr = err
			return
		}
		defer srv.Close()
		st := srv.Store()
		sch := st.Schema()
		acc, _ := sch.Entity("account")
		con, _ := sch.Entity("contact")
		bigErr = st.Write(context.Background(), func(tx *store.Tx) error {
			for i := 0; i < 100000; i++ {
				if _, err := tx.Insert(acc, model.Row{
					"accountid": fmt.Sprintf("b0000000-0000-4000-8000-%012d", i), "name": fmt.Sprintf("acc %06d", i),
					"numberofemployees": int64(i % 1000), "accountcategorycode": int64(i%2 + 1),
					"revenue": model.Decimal{Unscaled: int64(i) * 10000, Scale: 4}, "statecode": int64(0), "statuscode": int64(1),
				}); err != nil {
					return err
				}
			}
			for i := 0; i < 200000; i++ {
				if _, err := tx.Insert(con, model.Row{
					"contactid": fmt.Sprintf("c0000000-0000-4000-8000-%012d", i), "fullname": fmt.Sprintf("contact %06d", i), "lastname": "x",
					"parentcustomerid": model.Lookup{ID: fmt.Sprintf("b0000000-0000-4000-8000-%012d", i/2), Entity: "account"},
				}); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if bigErr != nil {
		b.Fatal(bigErr)
	}
	// The aggregate benchmarks read 100,000 rows, over Dataverse's 50,000-row aggregate limit.
	srv, err := emulator.New(context.Background(), emulator.Config{DataDir: bigDir, AggregateLimit: 1000000})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	h, tok := handlerWithToken(b, srv)
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(bigDir, "dynlocal.sqlite")+"?mode=ro")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return h, tok, db
}

func tempDirNoCleanup() (string, error) {
	return filepath.Abs(filepath.Join(osTempDir(), fmt.Sprintf("dynlocal-bench-%d", pid())))
}

func handlerWithToken(b *testing.B, srv *emulator.Server) (http.Handler, string) {
	hs := newTokenServer(srv)
	b.Cleanup(hs.Close)
	tokHost = hs.URL
	e := &env{t: &testing.T{}, url: hs.URL}
	return srv.Handler(), e.clientCredentialsToken(hs.URL + "/.default")
}

func get(b *testing.B, h http.Handler, tok, path string) {
	serve(b, h, tok, "GET", path, "", 200)
}

func q(s string) string { return escapeQuery(s) }

// handSQL runs a query and encodes its rows as JSON objects, the floor the emulator is compared to.
func handSQL(b *testing.B, db *sql.DB, query string, args ...any) {
	rows, err := db.Query(query, args...)
	if err != nil {
		b.Fatal(err)
	}
	cols, _ := rows.Columns()
	var out []map[string]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			b.Fatal(err)
		}
		m := make(map[string]any, len(cols))
		for i, c := range cols {
			m[c] = vals[i]
		}
		out = append(out, m)
	}
	rows.Close()
	if _, err := json.Marshal(map[string]any{"value": out}); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkQueryPage50(b *testing.B) {
	h, tok, db := bigData(b)
	b.Run("emulator", func(b *testing.B) {
		for b.Loop() {
			get(b, h, tok, "accounts?"+q("$select=name,revenue&$filter=name ge 'acc 050000'&$orderby=name&$top=50"))
		}
	})
	b.Run("sql", func(b *testing.B) {
		for b.Loop() {
			handSQL(b, db, `SELECT accountid, versionnumber, name, revenue, transactioncurrencyid FROM account WHERE name >= ? ORDER BY name, accountid LIMIT 50`, "acc 050000")
		}
	})
}

func BenchmarkQueryLookupPath(b *testing.B) {
	h, tok, db := bigData(b)
	b.Run("emulator", func(b *testing.B) {
		for b.Loop() {
			get(b, h, tok, "contacts?"+q("$select=fullname&$filter=parentcustomerid_account/name eq 'acc 012345'"))
		}
	})
	b.Run("sql", func(b *testing.B) {
		for b.Loop() {
			handSQL(b, db, `SELECT c.contactid, c.versionnumber, c.fullname FROM contact c LEFT JOIN account a ON a.accountid = c.parentcustomerid AND c."parentcustomerid@type" = 'account' WHERE a.name = ? ORDER BY c.contactid`, "acc 012345")
		}
	})
}

func BenchmarkQueryCollectionExpand(b *testing.B) {
	h, tok, db := bigData(b)
	b.Run("emulator", func(b *testing.B) {
		for b.Loop() {
			get(b, h, tok, "accounts?"+q("$select=name&$filter=name ge 'acc 050000'&$orderby=name&$top=50&$expand=contact_customer_accounts($select=fullname)"))
		}
	})
	b.Run("sql", func(b *testing.B) {
		for b.Loop() {
			rows, err := db.Query(`SELECT accountid FROM account WHERE name >= ? ORDER BY name, accountid LIMIT 50`, "acc 050000")
			if err != nil {
				b.Fatal(err)
			}
			var ids []any
			for rows.Next() {
				var id string
				rows.Scan(&id)
				ids = append(ids, id)
			}
			rows.Close()
			handSQL(b, db, `SELECT accountid, versionnumber, name FROM account WHERE name >= ? ORDER BY name, accountid LIMIT 50`, "acc 050000")
			handSQL(b, db, `SELECT contactid, versionnumber, fullname, parentcustomerid FROM contact WHERE parentcustomerid IN (`+strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")+`) ORDER BY contactid`, ids...)
		}
	})
}

func BenchmarkQueryAggregate(b *testing.B) {
	h, tok, db := bigData(b)
	b.Run("emulator", func(b *testing.B) {
		for b.Loop() {
			get(b, h, tok, "accounts?"+q("$apply=filter(numberofemployees lt 400)/groupby((accountcategorycode),aggregate(revenue with sum as total,$count as n))"))
		}
	})
	b.Run("sql", func(b *testing.B) {
		for b.Loop() {
			handSQL(b, db, `SELECT accountcategorycode, SUM(revenue), COUNT(*) FROM account WHERE numberofemployees < ? GROUP BY accountcategorycode ORDER BY 1`, 400)
		}
	})
}

func BenchmarkFetchXMLTwoLinks(b *testing.B) {
	h, tok, db := bigData(b)
	xml := `<fetch top="50"><entity name="contact"><attribute name="fullname"/>` +
		`<filter><condition attribute="fullname" operator="ge" value="contact 100000"/></filter><order attribute="fullname"/>` +
		`<link-entity name="account" from="accountid" to="parentcustomerid" alias="acc"><attribute name="name"/>` +
		`<link-entity name="systemuser" from="systemuserid" to="owninguser" alias="own" link-type="outer"><attribute name="fullname"/></link-entity>` +
		`</link-entity></entity></fetch>`
	b.Run("emulator", func(b *testing.B) {
		for b.Loop() {
			get(b, h, tok, fetchPath("contacts", xml))
		}
	})
	b.Run("sql", func(b *testing.B) {
		for b.Loop() {
			handSQL(b, db, `SELECT c.contactid, c.versionnumber, c.fullname, a.name, u.fullname FROM contact c JOIN account a ON a.accountid = c.parentcustomerid
				LEFT JOIN systemuser u ON u.systemuserid = a.owninguser WHERE c.fullname >= ? ORDER BY c.fullname, c.contactid LIMIT 50`, "contact 100000")
		}
	})
}

func BenchmarkFetchXMLAggregate(b *testing.B) {
	h, tok, db := bigData(b)
	xml := `<fetch aggregate="true"><entity name="account"><attribute name="accountcategorycode" groupby="true" alias="cat"/>` +
		`<attribute name="revenue" aggregate="sum" alias="total"/><attribute name="accountid" aggregate="count" alias="n"/></entity></fetch>`
	b.Run("emulator", func(b *testing.B) {
		for b.Loop() {
			get(b, h, tok, fetchPath("accounts", xml))
		}
	})
	b.Run("sql", func(b *testing.B) {
		for b.Loop() {
			handSQL(b, db, `SELECT accountcategorycode, SUM(revenue), COUNT(*) FROM account GROUP BY accountcategorycode ORDER BY 1`)
		}
	})
}
