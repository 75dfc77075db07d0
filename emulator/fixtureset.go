package emulator

import (
	"context"
	"errors"
	"fmt"

	"github.com/dynlocal/dynlocal/emulator/store"
	"github.com/dynlocal/dynlocal/fixtures"
)

// ErrFixturesMismatch reports a data directory that was made from another fixture set than the
// one Config.Fixtures gives: its tables and rows are not the ones asked for.
var ErrFixturesMismatch = errors.New("emulator: the data directory was made from another fixture set")

// Settings that record, in the database, the fixture set it was made from.
const (
	settingFixturesName   = "fixtures.name"
	settingFixturesDigest = "fixtures.digest"
)

// stampFixtures records in st which fixture set its data came from. Resets and snapshots copy the
// record with the data.
func stampFixtures(ctx context.Context, st *store.Store, set *fixtures.Set) error {
	return st.Write(ctx, func(tx *store.Tx) error {
		if err := tx.SetSetting(settingFixturesName, set.Name); err != nil {
			return err
		}
		return tx.SetSetting(settingFixturesDigest, set.Digest())
	})
}

// checkFixtures refuses an existing database made from another fixture set than the one the
// configuration names. A database made before the set was recorded cannot be checked; it is
// taken as it is, with a warning.
func (s *Server) checkFixtures(ctx context.Context) error {
	if s.cfg.Fixtures == nil {
		return nil
	}
	var name, digest string
	var known bool
	err := s.store.Read(ctx, func(tx *store.Tx) error {
		var err error
		if name, _, err = tx.Setting(settingFixturesName); err != nil {
			return err
		}
		digest, known, err = tx.Setting(settingFixturesDigest)
		return err
	})
	if err != nil {
		return err
	}
	if !known {
		s.log.Warn("the data directory does not record which fixture set it was made from; it is used as it is", "dataDir", s.cfg.DataDir)
		return nil
	}
	if digest != s.cfg.Fixtures.Digest() {
		return fmt.Errorf("%w: %s holds the set %q, not %q (set Config.ResetData to replace its data with the new set, as POST /_emulator/reset does, or use another DataDir)",
			ErrFixturesMismatch, s.cfg.DataDir, name, s.cfg.Fixtures.Name)
	}
	return nil
}

// FixtureSet names the fixture set the data was made from ("built-in", a directory, or "" when
// the database does not record it) and says how many tables the schema has now.
func (s *Server) FixtureSet(ctx context.Context) (name string, tables int, err error) {
	err = s.store.Read(ctx, func(tx *store.Tx) error {
		name, _, err = tx.Setting(settingFixturesName)
		tables = len(tx.Schema().Entities())
		return err
	})
	return name, tables, err
}
