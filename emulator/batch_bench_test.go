package emulator_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/dynlocal/dynlocal/emulator"
)

// BenchmarkBatch1000 compares a change set of 1,000 creates with 1,000 single creates and with the
// same inserts written by hand in one SQLite transaction, all on a file database.
func BenchmarkBatch1000(b *testing.B) {
	b.Run("changeset", func(b *testing.B) {
		h, tok := benchSetup(b)
		var ops []batchPart
		for i := 0; i < 1000; i++ {
			ops = append(ops, batchPart{method: "POST", target: "/api/data/v9.2/accounts", body: fmt.Sprintf(`{"name":"batch %d","numberofemployees":%d}`, i, i), contentID: fmt.Sprint(i + 1)})
		}
		body, ct := buildBatch(nil, ops)
		for b.Loop() {
			serveBatch(b, h, tok, body, ct)
		}
	})
	b.Run("single", func(b *testing.B) {
		h, tok := benchSetup(b)
		for b.Loop() {
			for i := 0; i < 1000; i++ {
				serve(b, h, tok, "POST", "accounts", fmt.Sprintf(`{"name":"single %d","numberofemployees":%d}`, i, i), 204)
			}
		}
	})
	b.Run("sql", func(b *testing.B) {
		dir := b.TempDir()
		srv, err := emulator.New(context.Background(), emulator.Config{DataDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		srv.Close()
		db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "dynlocal.sqlite")+"?_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate")
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		n := 0
		for b.Loop() {
			tx, err := db.Begin()
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; i < 1000; i++ {
				n++
				if _, err := tx.Exec(`INSERT INTO account (accountid, name, numberofemployees, createdon, modifiedon, statecode, statuscode, versionnumber) VALUES (?, ?, ?, ?, ?, 0, 1, ?)`,
					fmt.Sprintf("d0000000-0000-4000-8000-%012d", n), fmt.Sprintf("sql %d", i), i, "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", n); err != nil {
					b.Fatal(err)
				}
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
