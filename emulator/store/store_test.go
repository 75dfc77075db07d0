package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"encoding/binary"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"io"
	"os"
	"strings"
)

// testEntities is a small schema: account (with money, a lookup, an alternate key) and contact.
func testMetadata() (entities, rels []json.RawMessage) {
	account := `{"MetadataId":"70816501-edb9-4740-a16c-6a5efbc05d84","LogicalName":"account","SchemaName":"Account","EntitySetName":"accounts",
	"PrimaryIdAttribute":"accountid","PrimaryNameAttribute":"name","ObjectTypeCode":1,"OwnershipType":"UserOwned",
	"Attributes":[
	 {"LogicalName":"accountid","AttributeType":"Uniqueidentifier","IsPrimaryId":true},
	 {"LogicalName":"name","AttributeType":"String","MaxLength":160,"IsPrimaryName":true},
	 {"LogicalName":"accountnumber","AttributeType":"String","MaxLength":20},
	 {"LogicalName":"revenue","AttributeType":"Money","Precision":2},
	 {"LogicalName":"ratio","AttributeType":"Decimal","Precision":3},
	 {"LogicalName":"score","AttributeType":"Double"},
	 {"LogicalName":"numberofemployees","AttributeType":"Integer"},
	 {"LogicalName":"creditonhold","AttributeType":"Boolean"},
	 {"LogicalName":"createdon","AttributeType":"DateTime","Format":"DateAndTime"},
	 {"LogicalName":"founded","AttributeType":"DateTime","Format":"DateOnly"},
	 {"LogicalName":"tags","AttributeType":"Virtual","AttributeTypeName":{"Value":"MultiSelectPicklistType"},"OptionSet":{"Options":[{"Value":1},{"Value":2}]}},
	 {"LogicalName":"primarycontactid","AttributeType":"Lookup","Targets":["contact"]},
	 {"LogicalName":"ownerid","AttributeType":"Owner","Targets":["systemuser","team"]},
	 {"LogicalName":"versionnumber","AttributeType":"BigInt"}],
	"Keys":[{"LogicalName":"accountnumber_key","KeyAttributes":["accountnumber"]}]}`
	contact := `{"MetadataId":"608861bc-50a4-4c5f-a02c-21fe1943e2cf","LogicalName":"contact","EntitySetName":"contacts","PrimaryIdAttribute":"contactid","PrimaryNameAttribute":"fullname",
	"Attributes":[{"LogicalName":"contactid","AttributeType":"Uniqueidentifier","IsPrimaryId":true},{"LogicalName":"fullname","AttributeType":"String","MaxLength":160}]}`
	task := `{"LogicalName":"task","EntitySetName":"tasks","PrimaryIdAttribute":"activityid","PrimaryNameAttribute":"subject",
	"Attributes":[{"LogicalName":"activityid","AttributeType":"Uniqueidentifier","IsPrimaryId":true},{"LogicalName":"subject","AttributeType":"String","MaxLength":200},
	 {"LogicalName":"regardingobjectid","AttributeType":"Lookup","Targets":["account","contact"]}]}`
	lead := `{"LogicalName":"lead","EntitySetName":"leads","PrimaryIdAttribute":"leadid","Attributes":[{"LogicalName":"leadid","AttributeType":"Uniqueidentifier","IsPrimaryId":true},{"LogicalName":"subject","AttributeType":"String","MaxLength":200}]}`
	inter := `{"LogicalName":"accountleads","EntitySetName":"accountleadscollection","PrimaryIdAttribute":"accountleadid","IsIntersect":true,"Attributes":[{"LogicalName":"accountleadid","AttributeType":"Uniqueidentifier","IsPrimaryId":true},{"LogicalName":"accountid","AttributeType":"Uniqueidentifier"},{"LogicalName":"leadid","AttributeType":"Uniqueidentifier"}]}`
	tasks := `{"SchemaName":"Account_Tasks","ReferencedEntity":"account","ReferencingEntity":"task","ReferencingAttribute":"regardingobjectid","ReferencingEntityNavigationPropertyName":"regardingobjectid_account_task","ReferencedEntityNavigationPropertyName":"Account_Tasks"}`
	nn := `{"SchemaName":"accountleads_association","RelationshipType":"ManyToManyRelationship","Entity1LogicalName":"account","Entity2LogicalName":"lead","IntersectEntityName":"accountleads","Entity1IntersectAttribute":"accountid","Entity2IntersectAttribute":"leadid","Entity1NavigationPropertyName":"accountleads_association","Entity2NavigationPropertyName":"accountleads_association"}`
	rel := `{"SchemaName":"account_primary_contact","RelationshipType":"OneToManyRelationship","ReferencedEntity":"contact","ReferencedAttribute":"contactid",
	"ReferencingEntity":"account","ReferencingAttribute":"primarycontactid","ReferencingEntityNavigationPropertyName":"primarycontactid","ReferencedEntityNavigationPropertyName":"account_primary_contact"}`
	return []json.RawMessage{json.RawMessage(account), json.RawMessage(contact), json.RawMessage(task), json.RawMessage(lead), json.RawMessage(inter)},
		[]json.RawMessage{json.RawMessage(rel), json.RawMessage(tasks), json.RawMessage(nn)}
}

func openTest(t *testing.T, path string) *Store {
	t.Helper()
	return openTestWith(t, Options{Path: path})
}

// openTestWith opens a store with opts and gives it the test schema when it has none.
func openTestWith(t *testing.T, opts Options) *Store {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if len(s.Schema().Entities()) == 0 {
		ents, rels := testMetadata()
		if err := s.Write(ctx, func(tx *Tx) error { return tx.PutMetadata(ents, rels) }); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func mustDecimal(t *testing.T, s string, scale int) model.Decimal {
	t.Helper()
	d, err := model.ParseDecimal(s, scale)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestRoundTripTypes(t *testing.T) {
	t.Parallel()
	s := openTest(t, filepath.Join(t.TempDir(), "db.sqlite"))
	ctx := context.Background()
	acc, _ := s.Schema().Entity("account")
	created := time.Date(2024, 1, 15, 9, 30, 0, 0, time.UTC)
	want := model.Row{
		"accountid":         "0f0e0d0c-0000-4000-8000-000000000001",
		"name":              "Fourth Coffee",
		"accountnumber":     "A-1",
		"revenue":           mustDecimal(t, "20000.5", 4),
		"ratio":             mustDecimal(t, "0.125", 3),
		"score":             47.63958,
		"numberofemployees": int64(4300),
		"creditonhold":      true,
		"createdon":         created,
		"founded":           time.Date(1999, 5, 17, 0, 0, 0, 0, time.UTC),
		"tags":              []int64{1, 2},
		"primarycontactid":  nil,
		"ownerid":           model.Lookup{ID: "0f0e0d0c-0000-4000-8000-0000000000aa", Entity: "team"},
	}
	var ver int64
	if err := s.Write(ctx, func(tx *Tx) error {
		var err error
		ver, err = tx.Insert(acc, want)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var got model.Row
	var gotVer int64
	if err := s.Read(ctx, func(tx *Tx) error {
		var err error
		got, gotVer, err = tx.Get(acc, "0F0E0D0C-0000-4000-8000-000000000001", nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	want["versionnumber"] = ver
	if gotVer != ver {
		t.Errorf("version = %d, want %d", gotVer, ver)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("row mismatch (-want +got):\n%s", d)
	}
	if got["revenue"].(model.Decimal).String() != "20000.5000" {
		t.Errorf("revenue = %s, want 20000.5000", got["revenue"].(model.Decimal))
	}
}

func TestParseDecimal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in    string
		scale int
		want  string
		err   bool
	}{
		{"20000", 4, "20000.0000", false},
		{"0.125", 2, "0.13", false},
		{"-0.125", 2, "-0.13", false},
		{"1e3", 2, "1000.00", false},
		{"1.5E-1", 1, "0.2", false},
		{"922337203685477.5807", 4, "922337203685477.5807", false},
		{"922337203685478", 4, "", true},
		{"abc", 2, "", true},
		{"1.2.3", 2, "", true},
		{"", 2, "", true},
		{"-", 2, "", true},
	}
	for _, tt := range tests {
		d, err := model.ParseDecimal(tt.in, tt.scale)
		if (err != nil) != tt.err {
			t.Errorf("ParseDecimal(%q) error = %v, want error %v", tt.in, err, tt.err)
			continue
		}
		if err == nil && d.String() != tt.want {
			t.Errorf("ParseDecimal(%q, %d) = %s, want %s", tt.in, tt.scale, d, tt.want)
		}
	}
}

func TestDuplicateAndAlternateKey(t *testing.T) {
	t.Parallel()
	s := openTest(t, "")
	ctx := context.Background()
	acc, _ := s.Schema().Entity("account")
	insert := func(id, num string) error {
		return s.Write(ctx, func(tx *Tx) error {
			_, err := tx.Insert(acc, model.Row{"accountid": id, "accountnumber": num})
			return err
		})
	}
	if err := insert("00000000-0000-4000-8000-000000000001", "A1"); err != nil {
		t.Fatal(err)
	}
	if err := insert("00000000-0000-4000-8000-000000000001", "A2"); !errors.Is(err, ErrDuplicate) {
		t.Errorf("same primary key: err = %v, want ErrDuplicate", err)
	}
	if err := insert("00000000-0000-4000-8000-000000000002", "a1"); !errors.Is(err, ErrDuplicate) {
		t.Errorf("same alternate key (case-insensitive): err = %v, want ErrDuplicate", err)
	}
	var id string
	s.Read(ctx, func(tx *Tx) error {
		var err error
		id, err = tx.FindByKey(acc, model.Row{"accountnumber": "A1"})
		return err
	})
	if id != "00000000-0000-4000-8000-000000000001" {
		t.Errorf("FindByKey = %q", id)
	}
}

// TestConcurrentWritersAndReaders hammers a file database with concurrent writers and readers:
// no "database is locked", no lost writes, versions unique.
func TestConcurrentWritersAndReaders(t *testing.T) {
	t.Parallel()
	s := openTest(t, filepath.Join(t.TempDir(), "db.sqlite"))
	ctx := context.Background()
	acc, _ := s.Schema().Entity("account")
	const writers, perWriter = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter*2)
	versions := make(chan int64, writers*perWriter)
	for w := 0; w < writers; w++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				err := s.Write(ctx, func(tx *Tx) error {
					v, err := tx.Insert(acc, model.Row{"accountid": fmt.Sprintf("00000000-0000-4000-8000-%04d%08d", w, i), "name": "n"})
					versions <- v
					return err
				})
				if err != nil {
					errs <- err
				}
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				if err := s.Read(ctx, func(tx *Tx) error { _, err := tx.Count(acc); return err }); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	close(versions)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	for v := range versions {
		if seen[v] {
			t.Fatalf("version %d handed out twice", v)
		}
		seen[v] = true
	}
	var n int64
	s.Read(ctx, func(tx *Tx) error { var err error; n, err = tx.Count(acc); return err })
	if n != writers*perWriter {
		t.Errorf("rows = %d, want %d", n, writers*perWriter)
	}
}

func TestSnapshotRestoreIsExact(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"memory", "file"} {
		t.Run(mode, func(t *testing.T) {
			path := ""
			if mode == "file" {
				path = filepath.Join(t.TempDir(), "db.sqlite")
			}
			s := openTest(t, path)
			ctx := context.Background()
			acc, _ := s.Schema().Entity("account")
			s.Write(ctx, func(tx *Tx) error {
				_, err := tx.Insert(acc, model.Row{"accountid": "00000000-0000-4000-8000-000000000001", "name": "before"})
				return err
			})
			before := dump(t, s, acc)
			if err := s.Snapshot(ctx, "one"); err != nil {
				t.Fatal(err)
			}
			s.Write(ctx, func(tx *Tx) error {
				if _, err := tx.Update(acc, "00000000-0000-4000-8000-000000000001", model.Row{"name": "after"}); err != nil {
					return err
				}
				_, err := tx.Insert(acc, model.Row{"accountid": "00000000-0000-4000-8000-000000000002", "name": "new"})
				return err
			})
			if err := s.Restore(ctx, "one"); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(before, dump(t, s, acc)); d != "" {
				t.Errorf("restored state differs (-want +got):\n%s", d)
			}
			names, _ := s.Snapshots()
			if d := cmp.Diff([]string{"one"}, names); d != "" {
				t.Errorf("snapshots (-want +got):\n%s", d)
			}
			if err := s.Restore(ctx, "missing"); !errors.Is(err, ErrNoSnapshot) {
				t.Errorf("restore missing: %v", err)
			}
			if err := s.Snapshot(ctx, "../evil"); !errors.Is(err, ErrBadSnapshotName) {
				t.Errorf("bad name: %v", err)
			}
			// Versions continue after the snapshot's counter, never reusing a value.
			var v int64
			s.Write(ctx, func(tx *Tx) error { v = tx.NextVersion(); return nil })
			if v <= before[0]["versionnumber"].(int64) {
				t.Errorf("version after restore = %d", v)
			}
		})
	}
}

func dump(t *testing.T, s *Store, e *model.Entity) []model.Row {
	t.Helper()
	var out []model.Row
	err := s.Read(context.Background(), func(tx *Tx) error {
		ids, err := tx.query().QueryContext(tx.ctx, `SELECT accountid FROM account ORDER BY accountid`)
		if err != nil {
			return err
		}
		var list []string
		for ids.Next() {
			var id string
			ids.Scan(&id)
			list = append(list, id)
		}
		ids.Close()
		for _, id := range list {
			r, _, err := tx.Get(e, id, nil)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFileDatabaseSurvivesRestart(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "db.sqlite")
	ctx := context.Background()
	s := openTest(t, path)
	acc, _ := s.Schema().Entity("account")
	s.Write(ctx, func(tx *Tx) error {
		_, err := tx.Insert(acc, model.Row{"accountid": "00000000-0000-4000-8000-000000000001", "name": "kept", "revenue": mustDecimal(t, "1.5", 4)})
		return err
	})
	before := dump(t, s, acc)
	s.Close()
	s2, err := Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	acc2, ok := s2.Schema().Entity("account")
	if !ok {
		t.Fatal("metadata lost across restart")
	}
	if d := cmp.Diff(before, dump(t, s2, acc2)); d != "" {
		t.Errorf("rows after restart (-want +got):\n%s", d)
	}
	if _, ok := acc2.Nav("primarycontactid"); !ok {
		t.Error("navigation property lost across restart")
	}
}

func TestDeleteClearsReferences(t *testing.T) {
	t.Parallel()
	s := openTest(t, "")
	ctx := context.Background()
	sch := s.Schema()
	acc, _ := sch.Entity("account")
	con, _ := sch.Entity("contact")
	cid := "00000000-0000-4000-8000-0000000000c1"
	aid := "00000000-0000-4000-8000-0000000000a1"
	err := s.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Insert(con, model.Row{"contactid": cid}); err != nil {
			return err
		}
		if _, err := tx.Insert(acc, model.Row{"accountid": aid, "primarycontactid": model.Lookup{ID: cid, Entity: "contact"}}); err != nil {
			return err
		}
		return tx.Delete(con, cid)
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Read(ctx, func(tx *Tx) error {
		r, _, err := tx.Get(acc, aid, []string{"primarycontactid"})
		if err != nil {
			t.Fatal(err)
		}
		if r["primarycontactid"] != nil {
			t.Errorf("lookup to deleted row = %v, want nil", r["primarycontactid"])
		}
		return nil
	})
}

// TestCancelledTransactionKeepsTheDatabase cancels requests in the middle of read and write
// transactions: they fail, and the database (for an in-memory store, its one connection) is
// still there for the next one.
func TestCancelledTransactionKeepsTheDatabase(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"", filepath.Join(t.TempDir(), "db.sqlite")} {
		s := openTest(t, path)
		acc, _ := s.Schema().Entity("account")
		bg := context.Background()
		if err := s.Write(bg, func(tx *Tx) error {
			_, err := tx.Insert(acc, model.Row{"accountid": "00000000-0000-4000-8000-000000000001", "name": "kept"})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		for _, write := range []bool{false, true} {
			ctx, cancel := context.WithCancel(bg)
			err := s.run(ctx, write, func(tx *Tx) error {
				cancel()
				if write {
					_, err := tx.Insert(acc, model.Row{"accountid": "00000000-0000-4000-8000-000000000002", "name": "lost"})
					return err
				}
				_, err := tx.Exists(acc, "00000000-0000-4000-8000-000000000001")
				return err
			})
			if err == nil {
				t.Errorf("%q write=%v: a cancelled transaction succeeded", path, write)
			}
		}
		var ok, lost bool
		err := s.Read(bg, func(tx *Tx) error {
			var err error
			if ok, err = tx.Exists(acc, "00000000-0000-4000-8000-000000000001"); err != nil {
				return err
			}
			lost, err = tx.Exists(acc, "00000000-0000-4000-8000-000000000002")
			return err
		})
		if err != nil || !ok || lost {
			t.Errorf("%q after cancelled transactions: kept row %v, cancelled row %v, err %v", path, ok, lost, err)
		}
	}
}

// TestReadsEndTheirTransaction ends reads in every way a caller can: returning, failing,
// cancelled in the middle, committed by hand. Each time the next read, on the same connection,
// must start a transaction of its own and see the write made in between.
func TestReadsEndTheirTransaction(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"", filepath.Join(t.TempDir(), "db.sqlite")} {
		s := openTest(t, path)
		acc, _ := s.Schema().Entity("account")
		bg := context.Background()
		id := func(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1) }
		exists := func(ctx context.Context, tx *Tx, i int) error {
			_, err := tx.Exists(acc, id(i))
			return err
		}
		ends := []struct {
			name string
			end  func(i int) error
		}{
			{"returned", func(i int) error {
				return s.Read(bg, func(tx *Tx) error { return exists(bg, tx, i) })
			}},
			{"failed", func(i int) error {
				err := s.Read(bg, func(tx *Tx) error {
					if err := exists(bg, tx, i); err != nil {
						return err
					}
					return errors.New("the caller gives up")
				})
				if err == nil {
					return errors.New("the failed read succeeded")
				}
				return nil
			}},
			{"cancelled", func(i int) error {
				ctx, cancel := context.WithCancel(bg)
				if err := s.Read(ctx, func(tx *Tx) error { cancel(); return exists(ctx, tx, i) }); err == nil {
					return errors.New("the cancelled read succeeded")
				}
				return nil
			}},
			{"committed", func(i int) error {
				tx, err := s.Begin(bg, false)
				if err != nil {
					return err
				}
				if err := exists(bg, tx, i); err != nil {
					tx.Rollback()
					return err
				}
				return tx.Commit()
			}},
		}
		for i, e := range ends {
			if err := e.end(i); err != nil {
				t.Fatalf("%q, read %s: %v", path, e.name, err)
			}
			if err := s.Write(bg, func(tx *Tx) error {
				_, err := tx.Insert(acc, model.Row{"accountid": id(i), "name": e.name})
				return err
			}); err != nil {
				t.Fatal(err)
			}
			var found bool
			err := s.Read(bg, func(tx *Tx) error {
				var err error
				found, err = tx.Exists(acc, id(i))
				return err
			})
			if err != nil || !found {
				t.Errorf("%q after a read %s: the next read found the new row %v, err %v", path, e.name, found, err)
			}
		}
	}
}

// run is Read or Write.
func (s *Store) run(ctx context.Context, write bool, fn func(*Tx) error) error {
	if write {
		return s.Write(ctx, fn)
	}
	return s.Read(ctx, fn)
}

// A database made before the store packed tables' columns (_meta_entity had no attrs, each
// _meta_attribute row held its text document) opens with the same schema: the column is added
// and the documents parsed.
func TestDatabaseWithoutPackedColumnsOpens(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "db.sqlite")
	ctx := context.Background()
	s := openTest(t, path)
	want, wantRels := s.Schema().Entities(), s.Schema().Relationships()
	s.Close()

	old, err := sql.Open(driverName, "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range want {
		for _, a := range e.Attributes {
			if _, err := old.Exec(`UPDATE "_meta_attribute" SET doc = ? WHERE entity = ? AND logicalname = ?`, string(a.Doc()), e.LogicalName, a.LogicalName); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := old.Exec(`ALTER TABLE "_meta_entity" DROP COLUMN attrs`); err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(`ALTER TABLE "_meta_relationship" DROP COLUMN facts`); err != nil {
		t.Fatal(err)
	}
	old.Close()

	s2, err := Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if diff := cmp.Diff(want, s2.Schema().Entities(), cmpopts.IgnoreUnexported(model.Entity{})); diff != "" {
		t.Errorf("schema (-new database +old one):\n%s", diff)
	}
	if diff := cmp.Diff(wantRels, s2.Schema().Relationships()); diff != "" {
		t.Errorf("relationships (-new database +old one):\n%s", diff)
	}
}

// The positional reads (GetColumns, ScanValues) give the values Get and Scan put in a Row, in the
// order asked for, and refuse what they cannot read by position.
func TestPositionalReadsMatchRows(t *testing.T) {
	t.Parallel()
	s := openTest(t, "")
	ctx := context.Background()
	acc, _ := s.Schema().Entity("account")
	row := model.Row{
		"accountid": "0f0e0d0c-0000-4000-8000-000000000002", "name": "Positional", "revenue": mustDecimal(t, "12.5", 4),
		"founded": time.Date(1999, 5, 17, 0, 0, 0, 0, time.UTC), "tags": []int64{2},
		"ownerid": model.Lookup{ID: "0f0e0d0c-0000-4000-8000-0000000000aa", Entity: "team"}, "creditonhold": false,
	}
	if err := s.Write(ctx, func(tx *Tx) error { _, err := tx.Insert(acc, row); return err }); err != nil {
		t.Fatal(err)
	}
	var cols []*model.Attribute
	for _, n := range []string{"ownerid", "tags", "name", "primarycontactid", "founded", "versionnumber", "revenue", "accountid", "creditonhold"} {
		a, _ := acc.Attribute(n)
		cols = append(cols, a)
	}
	err := s.Read(ctx, func(tx *Tx) error {
		want, wantVer, err := tx.Get(acc, "0f0e0d0c-0000-4000-8000-000000000002", nil)
		if err != nil {
			return err
		}
		check := func(how string, vals []any, ver int64) {
			if ver != wantVer || len(vals) != len(cols) {
				t.Fatalf("%s: version %d, %d values; want %d, %d", how, ver, len(vals), wantVer, len(cols))
			}
			for i, a := range cols {
				if d := cmp.Diff(want[a.LogicalName], vals[i]); d != "" {
					t.Errorf("%s: %s (-Get +positional):\n%s", how, a.LogicalName, d)
				}
			}
		}
		for range 2 { // the second read finds the plan kept by the first
			vals, ver, err := tx.GetColumns(acc, "0F0E0D0C-0000-4000-8000-000000000002", cols)
			if err != nil {
				return err
			}
			check("GetColumns", vals, ver)
		}
		if _, _, err := tx.GetColumns(acc, "0f0e0d0c-0000-4000-8000-000000000099", cols); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetColumns of a missing row: %v", err)
		}
		n := 0
		if _, err := tx.ScanValues(&model.Query{Entity: acc, Columns: cols}, func(r ResultRow) error {
			n++
			if r.Row != nil {
				t.Errorf("ScanValues gave a Row too")
			}
			check("ScanValues", r.Values, r.Version)
			return nil
		}); err != nil {
			return err
		}
		if n != 1 {
			t.Errorf("ScanValues read %d rows", n)
		}
		if _, err := tx.ScanValues(&model.Query{Entity: acc, Columns: cols, Distinct: true}, func(ResultRow) error { return nil }); err == nil {
			t.Errorf("ScanValues of a distinct query did not fail")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestReleaseClosesAConnectionLeftInATransaction hands release a read connection left inside a
// transaction, and one that is not: the first is closed (a file database's next read gets a
// fresh connection and can begin), the second goes back to the pool. An in-memory database's only
// connection is kept either way, with its data.
func TestReleaseClosesAConnectionLeftInATransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, path := range []string{"", filepath.Join(t.TempDir(), "db.sqlite")} {
		s := openTest(t, path)
		acc, _ := s.Schema().Entity("account")
		if err := s.Write(ctx, func(tx *Tx) error {
			_, err := tx.Insert(acc, model.Row{"accountid": "00000000-0000-4000-8000-000000000001", "name": "kept"})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		for _, inTx := range []bool{true, false} {
			conn, err := s.reader.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if inTx {
				if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
					t.Fatal(err)
				}
			}
			before := s.reader.Stats().OpenConnections
			s.release(conn)
			after := s.reader.Stats().OpenConnections
			closed := inTx && path != ""
			if (after < before) != closed {
				t.Errorf("%q, left in a transaction %v: open connections %d before release, %d after", path, inTx, before, after)
			}
			if inTx && path == "" {
				// The in-memory database kept its connection, transaction and all: end it.
				c, _ := s.reader.Conn(ctx)
				c.ExecContext(ctx, "ROLLBACK")
				c.Close()
			}
			var found bool
			err = s.Read(ctx, func(tx *Tx) error {
				found, err = tx.Exists(acc, "00000000-0000-4000-8000-000000000001")
				return err
			})
			if err != nil || !found {
				t.Errorf("%q, left in a transaction %v: the next read found the row %v, err %v", path, inTx, found, err)
			}
		}
	}
}

// TestWriteAheadLogStartsOver writes from eight goroutines without a pause, so a group of writes
// is nearly always open and a checkpoint beside the writer never catches up on its own. SQLite
// must still start the log over, again and again: each time it does, it counts a checkpoint in
// the log file's header (bytes 12-15). Without the checkpointer holding the writer the log never
// started over and grew by some 20 MB a second here; the limit that makes it hold is lowered to
// 1 MiB.
func TestWriteAheadLogStartsOver(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "db.sqlite")
	s := openTest(t, path)
	s.ckpt.limit.Store(1 << 20)
	acc, _ := s.Schema().Entity("account")
	ctx := context.Background()
	restarts := func() uint32 {
		f, err := os.Open(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var h [16]byte
		if _, err := io.ReadFull(f, h[:]); err != nil {
			t.Fatal(err)
		}
		return binary.BigEndian.Uint32(h[12:])
	}
	write := func(g, i int) error {
		return s.Write(ctx, func(tx *Tx) error {
			_, err := tx.Insert(acc, model.Row{"accountid": fmt.Sprintf("00000000-0000-4000-8%03d-%012d", g, i), "name": strings.Repeat("x", 2000)})
			return err
		})
	}
	if err := write(999, 0); err != nil {
		t.Fatal(err)
	}
	before := restarts()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := write(g, i); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	time.Sleep(2 * time.Second)
	after := restarts()
	close(stop)
	wg.Wait()
	if after < before+2 {
		t.Errorf("under writes without a pause the log started over %d times in 2 s, want at least 2", after-before)
	}
}
