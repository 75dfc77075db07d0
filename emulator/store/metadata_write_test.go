package store

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dynlocal/dynlocal/emulator/model"
)

func TestEntityDocumentRoundTrips(t *testing.T) {
	t.Parallel()
	s := openTest(t, filepath.Join(t.TempDir(), "db.sqlite"))
	acc, _ := s.Schema().Entity("account")
	doc, err := acc.Document()
	if err != nil {
		t.Fatal(err)
	}
	again, err := model.ParseEntity(doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Attributes) != len(acc.Attributes) || len(again.Keys) != 1 || again.EntitySetName != "accounts" {
		t.Errorf("document does not round-trip: %s", doc)
	}
}

func TestDeleteAttribute(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTest(t, filepath.Join(t.TempDir(), "db.sqlite"))
	acc, _ := s.Schema().Entity("account")
	if err := s.Write(ctx, func(tx *Tx) error {
		_, err := tx.Insert(acc, model.Row{"accountid": "00000000-0000-0000-0000-0000000000a1", "name": "A", "accountnumber": "N1", "primarycontactid": nil})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// A column with an index (the alternate key's), a lookup with a relationship, a polymorphic lookup.
	for _, c := range []struct{ entity, attr string }{{"account", "accountnumber"}, {"account", "primarycontactid"}, {"account", "ownerid"}, {"task", "regardingobjectid"}} {
		if err := s.Write(ctx, func(tx *Tx) error { return tx.DeleteAttribute(c.entity, c.attr) }); err != nil {
			t.Fatalf("delete %s.%s: %v", c.entity, c.attr, err)
		}
	}
	sch := s.Schema()
	acc, _ = sch.Entity("account")
	for _, n := range []string{"accountnumber", "primarycontactid", "ownerid"} {
		if _, ok := acc.Attribute(n); ok {
			t.Errorf("account.%s still in the schema", n)
		}
	}
	if len(acc.Keys) != 0 {
		t.Errorf("keys = %v, want none", acc.Keys)
	}
	for _, r := range []string{"account_primary_contact", "Account_Tasks"} {
		if _, ok := sch.Relationship(r); ok {
			t.Errorf("relationship %s survived its lookup", r)
		}
	}
	if _, ok := acc.Nav("primarycontactid"); ok {
		t.Error("navigation property primarycontactid survived")
	}
	err := s.Read(ctx, func(tx *Tx) error {
		cols, err := tx.tableColumns("account")
		if err != nil {
			return err
		}
		for _, c := range []string{"accountnumber", "primarycontactid", "ownerid", "ownerid@type"} {
			if cols[c] {
				t.Errorf("column %s still in the table", c)
			}
		}
		row, _, err := tx.Get(acc, "00000000-0000-0000-0000-0000000000a1", []string{"name"})
		if err != nil || row["name"] != "A" {
			t.Errorf("row after drop: %v, %v", row, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Write(ctx, func(tx *Tx) error { return tx.DeleteAttribute("account", "nope") })
	if !errors.Is(err, ErrNoMetadata) {
		t.Errorf("unknown attribute: %v", err)
	}
	err = s.Write(ctx, func(tx *Tx) error { return tx.DeleteAttribute("account", "accountid") })
	if err == nil {
		t.Error("the primary key was deleted")
	}
}

func TestDeleteEntity(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTest(t, filepath.Join(t.TempDir(), "db.sqlite"))
	// contact is the only target of account.primarycontactid and one of two of task.regardingobjectid.
	if err := s.Write(ctx, func(tx *Tx) error { return tx.DeleteEntity("contact") }); err != nil {
		t.Fatal(err)
	}
	sch := s.Schema()
	if _, ok := sch.Entity("contact"); ok {
		t.Fatal("contact survived")
	}
	if _, ok := sch.EntityBySet("contacts"); ok {
		t.Error("contacts set survived")
	}
	acc, _ := sch.Entity("account")
	if _, ok := acc.Attribute("primarycontactid"); ok {
		t.Error("account.primarycontactid survived its only target")
	}
	if _, ok := sch.Relationship("account_primary_contact"); ok {
		t.Error("relationship to contact survived")
	}
	err := s.Read(ctx, func(tx *Tx) error {
		var n int
		if err := tx.query().QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE name = 'contact'`).Scan(&n); err != nil {
			return err
		}
		if n != 0 {
			t.Error("table contact still exists")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The store reopens from disk with the same schema.
	if err := s.Write(ctx, func(tx *Tx) error { return tx.DeleteEntity("lead") }); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Schema().Relationship("accountleads_association"); ok {
		t.Error("N:N relationship survived its table")
	}
	if err := s.Write(ctx, func(tx *Tx) error { return tx.DeleteEntity("lead") }); !errors.Is(err, ErrNoMetadata) {
		t.Errorf("second delete: %v", err)
	}
}

func TestDeleteEntityKeepsOtherTargets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTest(t, filepath.Join(t.TempDir(), "db.sqlite"))
	rel := `{"SchemaName":"Contact_Tasks","ReferencedEntity":"contact","ReferencingEntity":"task","ReferencingAttribute":"regardingobjectid","ReferencingEntityNavigationPropertyName":"regardingobjectid_contact_task","ReferencedEntityNavigationPropertyName":"Contact_Tasks"}`
	if err := s.Write(ctx, func(tx *Tx) error { return tx.PutMetadata(nil, []json.RawMessage{json.RawMessage(rel)}) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, func(tx *Tx) error { return tx.DeleteEntity("contact") }); err != nil {
		t.Fatal(err)
	}
	task, _ := s.Schema().Entity("task")
	a, ok := task.Attribute("regardingobjectid")
	if !ok || strings.Join(a.Targets, ",") != "account" {
		t.Fatalf("task.regardingobjectid = %+v, want targets [account]", a)
	}
	if _, ok := s.Schema().Relationship("Account_Tasks"); !ok {
		t.Error("Account_Tasks went with contact")
	}
}

func TestDeleteRelationshipAndRollback(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTest(t, filepath.Join(t.TempDir(), "db.sqlite"))
	before := s.Schema()
	boom := errors.New("boom")
	err := s.Write(ctx, func(tx *Tx) error {
		if err := tx.DeleteRelationship("account_primary_contact"); err != nil {
			return err
		}
		if _, ok := tx.Schema().Entity("account"); !ok {
			t.Error("account gone from the transaction's schema")
		}
		acc, _ := tx.Schema().Entity("account")
		if _, ok := acc.Attribute("primarycontactid"); ok {
			t.Error("the lookup survived inside the transaction")
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if s.Schema() != before {
		t.Error("a rolled-back change replaced the schema")
	}
	acc, _ := s.Schema().Entity("account")
	if _, ok := acc.Attribute("primarycontactid"); !ok {
		t.Error("rolled-back delete removed the lookup")
	}
	if err := s.Write(ctx, func(tx *Tx) error { return tx.DeleteRelationship("account_primary_contact") }); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, func(tx *Tx) error { return tx.DeleteRelationship("account_primary_contact") }); !errors.Is(err, ErrNoMetadata) {
		t.Errorf("second delete: %v", err)
	}
	// The change survives a reopen.
	path := filepath.Join(t.TempDir(), "re.sqlite")
	s2 := openTest(t, path)
	if err := s2.Write(ctx, func(tx *Tx) error { return tx.DeleteAttribute("account", "score") }); err != nil {
		t.Fatal(err)
	}
	s2.Close()
	s3, err := Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s3.Close()
	acc3, _ := s3.Schema().Entity("account")
	if _, ok := acc3.Attribute("score"); ok {
		t.Error("deleted column back after reopening")
	}
}

func TestOptionSets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTest(t, filepath.Join(t.TempDir(), "db.sqlite"))
	doc := json.RawMessage(`{"MetadataId":"8a1b2c3d-0000-4000-8000-000000000001","Name":"new_colors","Options":[]}`)
	if err := s.Write(ctx, func(tx *Tx) error { return tx.PutOptionSet(doc) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, func(tx *Tx) error { return tx.PutOptionSet(json.RawMessage(`{"Name":"x"}`)) }); err == nil {
		t.Error("option set without MetadataId accepted")
	}
	err := s.Read(ctx, func(tx *Tx) error {
		sets, err := tx.OptionSets()
		if err != nil {
			return err
		}
		if len(sets) != 1 || string(sets[0]) != string(doc) {
			t.Errorf("option sets = %s", sets)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestReplaceMember(t *testing.T) {
	t.Parallel()
	got, err := replaceMember(json.RawMessage(`{"a":1,"Targets":["x","y"],"b":{"c":2}}`), "Targets", []string{"y"})
	if err != nil || string(got) != `{"a":1,"Targets":["y"],"b":{"c":2}}` {
		t.Errorf("replace = %s, %v", got, err)
	}
	got, err = replaceMember(json.RawMessage(`{"a":1}`), "Targets", []string{"y"})
	if err != nil || string(got) != `{"a":1,"Targets":["y"]}` {
		t.Errorf("append = %s, %v", got, err)
	}
	if _, err := replaceMember(json.RawMessage(`1`), "x", 1); err == nil {
		t.Error("non-object accepted")
	}
}

func TestPutMetadataRollbackLeavesNoTable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTest(t, filepath.Join(t.TempDir(), "db.sqlite"))
	before := s.Schema()
	doc := json.RawMessage(`{"MetadataId":"5f1c0d2e-0000-4000-8000-000000000001","LogicalName":"new_ghost","EntitySetName":"new_ghosts","PrimaryIdAttribute":"new_ghostid",
	"Attributes":[{"LogicalName":"new_ghostid","AttributeType":"Uniqueidentifier","IsPrimaryId":true},{"LogicalName":"new_name","AttributeType":"String","MaxLength":100}]}`)
	boom := errors.New("later step failed")
	err := s.Write(ctx, func(tx *Tx) error {
		if err := tx.PutMetadata([]json.RawMessage{doc}, nil); err != nil {
			return err
		}
		if _, ok := tx.Schema().Entity("new_ghost"); !ok {
			t.Error("the transaction does not see its own table")
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if s.Schema() != before {
		t.Error("the schema changed")
	}
	err = s.Read(ctx, func(tx *Tx) error {
		cols, err := tx.tableColumns("new_ghost")
		if err != nil {
			return err
		}
		if len(cols) != 0 {
			t.Errorf("table new_ghost exists with %v", cols)
		}
		var n int
		if err := tx.query().QueryRowContext(ctx, `SELECT COUNT(*) FROM "_meta_entity" WHERE logicalname = 'new_ghost'`).Scan(&n); err != nil {
			return err
		}
		if n != 0 {
			t.Error("metadata row left behind")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
