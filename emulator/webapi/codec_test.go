package webapi

import (
	"context"
	"sync"
	"testing"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/odata"
	"github.com/dynlocal/dynlocal/emulator/store"
	"github.com/dynlocal/dynlocal/fixtures"
)

var (
	fuzzOnce   sync.Once
	fuzzSchema *model.Schema
)

func schemaForFuzz(t testing.TB) *model.Schema {
	fuzzOnce.Do(func() {
		set, err := fixtures.Default()
		if err != nil {
			t.Fatal(err)
		}
		st, err := store.Open(context.Background(), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if err := st.Write(context.Background(), func(tx *store.Tx) error { return tx.PutMetadata(set.Entities, set.Relationships) }); err != nil {
			t.Fatal(err)
		}
		fuzzSchema = st.Schema()
	})
	return fuzzSchema
}

// FuzzDecodeRecord feeds arbitrary bodies to the record decoder: it must never panic, and every
// rejection must be a Dataverse error with a 4xx status.
func FuzzDecodeRecord(f *testing.F) {
	for _, s := range []string{
		`{"name":"x","revenue":12.5,"numberofemployees":3,"creditonhold":true,"accountcategorycode":1}`,
		`{"primarycontactid@odata.bind":"/contacts(00000000-0000-0000-0000-000000000001)"}`,
		`{"primarycontactid":{"lastname":"a"},"Account_Tasks":[{"subject":"t"}]}`,
		`{"Account_Tasks@odata.bind":["tasks(00000000-0000-0000-0000-000000000001)"]}`,
		`{"name":"a","name":"b"}`, `{"revenue":1e400}`, `{"revenue":"1"}`, `[`, `{"a":`, `{}`, `null`,
		`{"createdon":"2024-01-01T00:00:00Z","@odata.type":"x","x@y":1}`, `{"primarycontactid@odata.bind":"$1"}`,
		`{"accountid":"not a guid"}`, `{"description":"\ud83d\ude00"}`, `{"numberofemployees":99999999999}`,
	} {
		f.Add(s)
	}
	sch := schemaForFuzz(f)
	e, _ := sch.EntityBySet("accounts")
	f.Fuzz(func(t *testing.T, body string) {
		d := &decoder{sch: sch, base: "http://h/api/data/v9.2/"}
		d.resolve = d.resolveURL
		d.lookup = func(e *model.Entity, k *odata.Key) (string, error) {
			if k.Single != nil {
				return k.Single.Text, nil
			}
			return "00000000-0000-0000-0000-000000000001", nil
		}
		members, err := ParseObject([]byte(body), e.EntitySetName)
		if err != nil {
			check4xx(t, err)
			return
		}
		for _, op := range []writeOp{opCreate, opUpdate} {
			if _, err := d.decodeRecord(e, members, op); err != nil {
				check4xx(t, err)
			}
		}
	})
}

func check4xx(t *testing.T, err error) {
	t.Helper()
	de, ok := dverr.As(err)
	if !ok || de.Status < 400 || de.Status >= 500 {
		t.Fatalf("error %v is not a Dataverse 4xx", err)
	}
}
