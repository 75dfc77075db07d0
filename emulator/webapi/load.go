package webapi

import (
	"context"
	"fmt"

	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/odata"
	"github.com/dynlocal/dynlocal/emulator/store"
	"github.com/dynlocal/dynlocal/fixtures"
)

// systemUserID is the user fixture rows are created by: SYSTEM when the fixtures define it, else the
// application user.
const systemUserID = "4d2c9a10-5e1f-4b7a-9c3d-000000000012"

// LoadFixtures writes a fixture set into an empty store in one transaction: metadata first, then
// rows through the same decoder and writer as POST, with references checked once at the end so
// rows may refer to each other in any order.
//
// What it writes depends on the set alone, not on the Handler's Clock or NewID: rows are stamped
// at fixtures.Epoch and what they leave without an id gets one from fixtures.RowIDs. So one
// database loaded from a set can stand in for every server that starts from that set.
func (s *Handler) LoadFixtures(ctx context.Context, st *store.Store, set *fixtures.Set) error {
	return st.Write(ctx, func(tx *store.Tx) error {
		if err := tx.PutMetadata(set.Entities, set.Relationships); err != nil {
			return fmt.Errorf("emulator: fixtures metadata: %w", err)
		}
		for _, doc := range set.OptionSets {
			if err := tx.PutOptionSet(doc); err != nil {
				return fmt.Errorf("emulator: fixtures option sets: %w", err)
			}
		}
		sch := tx.Schema()
		c := Caller{UserID: systemUserID, RealUserID: systemUserID}
		w := s.newWriter(ctx, tx, c)
		w.noHooks = true
		w.now = fixtures.Epoch
		w.newID = fixtures.RowIDs()
		d := &decoder{sch: sch, base: "/api/data/v9.2/"}
		d.resolve = d.resolveURL
		d.lookup = func(e *model.Entity, k *odata.Key) (string, error) {
			return lookupKey(tx, e, k)
		}
		for _, rs := range set.Rows {
			e, ok := sch.EntityBySet(rs.EntitySet)
			if !ok {
				return fmt.Errorf("emulator: fixtures rows: unknown entity set %q", rs.EntitySet)
			}
			for i, rec := range rs.Records {
				members, err := ParseObject(rec, e.EntitySetName)
				if err != nil {
					return fmt.Errorf("emulator: fixtures %s row %d: %w", rs.EntitySet, i, err)
				}
				plan, err := d.decodeRecord(e, members, opFixture)
				if err != nil {
					return fmt.Errorf("emulator: fixtures %s row %d: %w", rs.EntitySet, i, err)
				}
				if _, err := w.create(plan); err != nil {
					return fmt.Errorf("emulator: fixtures %s row %d: %w", rs.EntitySet, i, err)
				}
			}
		}
		if err := tx.CheckReferences(); err != nil {
			return fmt.Errorf("emulator: fixtures: %w", err)
		}
		return nil
	})
}

// InsertSystemJob writes a system job (an asyncoperation row), stamped as the system user.
func (s *Handler) InsertSystemJob(ctx context.Context, row model.Row) error {
	return s.store.Write(ctx, func(tx *store.Tx) error {
		ae, ok := tx.Schema().Entity("asyncoperation")
		if !ok {
			return nil
		}
		_, err := s.newWriter(ctx, tx, Caller{UserID: systemUserID, RealUserID: systemUserID}).insertRow(ae, row)
		return err
	})
}
