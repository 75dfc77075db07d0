package webapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/odata"
	"github.com/dynlocal/dynlocal/emulator/store"
	"github.com/dynlocal/dynlocal/emulator/wire"
	"github.com/dynlocal/dynlocal/fixtures"
)

// systemUserID is the user fixture rows are created by: SYSTEM.
const systemUserID = fixtures.SystemUserID

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
		if err := addDevelopmentRows(tx, d, w); err != nil {
			return err
		}
		if err := tx.CheckReferences(); err != nil {
			return fmt.Errorf("emulator: fixtures: %w", err)
		}
		return nil
	})
}

// addDevelopmentRows adds the development identities a set lacks (fixtures.DevelopmentRows): the
// business unit, SYSTEM and the two users the development credentials sign in as. A schema pulled
// from a tenant has none of them, and without them every call would be refused. Members the set's
// tables lack are left out; a set without businessunit and systemuser tables gets nothing.
func addDevelopmentRows(tx *store.Tx, d *decoder, w *writer) error {
	dev, err := fixtures.DevelopmentRows()
	if err != nil {
		return err
	}
	sch := tx.Schema()
	for _, rs := range dev {
		if _, ok := sch.EntityBySet(rs.EntitySet); !ok {
			return nil
		}
	}
	for _, rs := range dev {
		e, _ := sch.EntityBySet(rs.EntitySet)
		for i, rec := range rs.Records {
			if err := addDevelopmentRow(tx, d, w, e, rec); err != nil {
				return fmt.Errorf("emulator: development %s row %d: %w", rs.EntitySet, i, err)
			}
		}
	}
	return nil
}

// addDevelopmentRow creates one development row unless a row with its id exists, keeping only the
// members e has.
func addDevelopmentRow(tx *store.Tx, d *decoder, w *writer, e *model.Entity, rec json.RawMessage) error {
	body, err := ParseObject(rec, e.EntitySetName)
	if err != nil {
		return err
	}
	var id string
	if raw, ok := body.Get(e.PrimaryIDAttribute); ok {
		if r, ok := raw.(json.RawMessage); ok {
			json.Unmarshal(r, &id)
		}
	}
	if exists, err := tx.Exists(e, id); err != nil || exists {
		return err
	}
	kept := wire.NewObject()
	for _, m := range body.Members() {
		name, _, _ := strings.Cut(m.Name, "@")
		_, isAttr := e.Attribute(name)
		_, isNav := e.Nav(name)
		if isAttr || isNav {
			kept.Set(m.Name, m.Value)
		}
	}
	plan, err := d.decodeRecord(e, kept, opFixture)
	if err != nil {
		return err
	}
	_, err = w.create(plan)
	return err
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

// ApplicationUser is an application user the emulator keeps for an app registration: the
// systemuser row client-credentials tokens of ClientID sign in as.
type ApplicationUser struct {
	ClientID, UserID, ObjectID, BusinessUnitID, Name string
}

// EnsureApplicationUsers makes each app's client id an application user's: a user row with the
// id already there gets the client id (the development app started with another --client-id),
// one that is missing is created. Rows that already say so are left alone, so a restart writes
// nothing.
func (s *Handler) EnsureApplicationUsers(ctx context.Context, apps []ApplicationUser) error {
	return s.store.Write(ctx, func(tx *store.Tx) error {
		users, ok := tx.Schema().Entity("systemuser")
		if !ok {
			return nil
		}
		w := s.newWriter(ctx, tx, Caller{UserID: systemUserID, RealUserID: systemUserID})
		for _, a := range apps {
			clientID := strings.ToLower(a.ClientID)
			if id, err := tx.FindByKey(users, model.Row{"applicationid": clientID}); err == nil {
				if id == a.UserID {
					continue
				}
				return fmt.Errorf("emulator: client id %s is already the application user %s's", clientID, id)
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			exists, err := tx.Exists(users, a.UserID)
			if err != nil {
				return err
			}
			if exists {
				if err := w.update(&writePlan{Entity: users, Row: model.Row{"applicationid": clientID}}, a.UserID); err != nil {
					return err
				}
				continue
			}
			row := model.Row{
				"systemuserid": a.UserID, "firstname": "#", "lastname": a.Name,
				"applicationid": clientID, "azureactivedirectoryobjectid": a.ObjectID, "accessmode": int64(4),
				"businessunitid": model.Lookup{ID: a.BusinessUnitID, Entity: "businessunit"},
			}
			for k := range row {
				if at, ok := users.Attribute(k); !ok || !at.Stored() {
					delete(row, k)
				}
			}
			if _, err := w.create(&writePlan{Entity: users, ID: a.UserID, Row: row}); err != nil {
				return err
			}
		}
		return nil
	})
}
