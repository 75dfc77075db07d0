package store

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/dynlocal/dynlocal/emulator/model"
)

// Change tracking rests on three things the store keeps:
//
//   - the store-wide versionnumber counter, which every insert and update stamps on its row, so
//     "changed since version v" is "versionnumber > v";
//   - a tombstone in _dynlocal_deleted for every row deleted from a table with change tracking,
//     stamped with a version of its own, so deletions can be reported as well;
//   - a lineage: a random number naming the database's history. Restoring a snapshot (or resetting
//     to the fixtures, or reading the fixtures' cached file) copies in another history, so the
//     lineage changes and the old one is recorded in _dynlocal_lineage with the last version it
//     shares with the new history. A delta token names its lineage, and Lineage.Valid says whether
//     the changes since the token can still be told.

const changesDDL = `
CREATE TABLE IF NOT EXISTS "_dynlocal_deleted" (entity TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS "_dynlocal_deleted_version" ON "_dynlocal_deleted" (entity, version);
CREATE TABLE IF NOT EXISTS "_dynlocal_lineage" (id INTEGER PRIMARY KEY, upto INTEGER NOT NULL);
`

// execer is a connection or a database.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// initChanges creates the change tracking tables and gives a new database its lineage.
func initChanges(ctx context.Context, db execer) error {
	if _, err := db.ExecContext(ctx, changesDDL); err != nil {
		return fmt.Errorf("store: init change tracking: %w", err)
	}
	if _, err := db.ExecContext(ctx, `INSERT OR IGNORE INTO "_dynlocal" (key, value) VALUES ('lineage', ?)`, newLineage()); err != nil {
		return fmt.Errorf("store: init change tracking: %w", err)
	}
	return nil
}

// branch starts a new lineage after a restore copied another history in: the copied lineage is
// remembered with the version it had reached, and the database gets a lineage of its own.
func branch(ctx context.Context, db execer) error {
	if err := initChanges(ctx, db); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `INSERT OR REPLACE INTO "_dynlocal_lineage" (id, upto)
		SELECT l.value, v.value FROM "_dynlocal" l, "_dynlocal" v WHERE l.key = 'lineage' AND v.key = 'versionnumber'`); err != nil {
		return fmt.Errorf("store: change tracking lineage: %w", err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE "_dynlocal" SET value = ? WHERE key = 'lineage'`, newLineage()); err != nil {
		return fmt.Errorf("store: change tracking lineage: %w", err)
	}
	return nil
}

// newLineage returns a random positive lineage number.
func newLineage() int64 { return rand.Int64N(1<<62) + 1 }

// Position of the data: the lineage and the last version handed out, as a read transaction sees
// them.
type DataVersion struct {
	Lineage int64
	Version int64
}

// DataVersion returns the current lineage and version counter.
func (t *Tx) DataVersion() (DataVersion, error) {
	var dv DataVersion
	err := t.query().QueryRowContext(t.ctx, `SELECT l.value, v.value FROM "_dynlocal" l, "_dynlocal" v WHERE l.key = 'lineage' AND v.key = 'versionnumber'`).Scan(&dv.Lineage, &dv.Version)
	if err != nil {
		return dv, fmt.Errorf("store: data version: %w", err)
	}
	if t.write && t.version > dv.Version {
		dv.Version = t.version
	}
	return dv, nil
}

// Tracks reports whether a token for version v of lineage can still be answered: the lineage is
// the current one, or one this database's history shares up to a version at or after v.
func (t *Tx) Tracks(lineage, v int64) (bool, error) {
	cur, err := t.DataVersion()
	if err != nil {
		return false, err
	}
	if lineage == cur.Lineage {
		return v <= cur.Version, nil
	}
	var upto int64
	switch err := t.query().QueryRowContext(t.ctx, `SELECT upto FROM "_dynlocal_lineage" WHERE id = ?`, lineage).Scan(&upto); err {
	case nil:
		return v <= upto, nil
	case sql.ErrNoRows:
		return false, nil
	default:
		return false, fmt.Errorf("store: change tracking lineage: %w", err)
	}
}

// tombstone records the deletion of a row of a table with change tracking.
func (t *Tx) tombstone(e *model.Entity, id string) error {
	if !e.ChangeTracking {
		return nil
	}
	if _, err := t.execStmt(`INSERT INTO "_dynlocal_deleted" (entity, id, version) VALUES (?, ?, ?)`,
		e.LogicalName, id, t.NextVersion()); err != nil {
		return fmt.Errorf("store: delete %s: record the deletion: %w", e.LogicalName, err)
	}
	return nil
}

// ChangeRange selects the changes of a table between two versions: after Since, up to and
// including Upto, and past the keyset position (AfterVersion, AfterID) when AfterID is set.
type ChangeRange struct {
	Since, Upto  int64
	AfterVersion int64
	AfterID      string
	// Limit is the most changes to return; one more is read to tell whether more follow.
	Limit int
}

// Changed is a row that was created or updated in a ChangeRange.
type Changed struct {
	ID      string
	Version int64
	Row     model.Row
}

// ChangedRows returns the rows of e created or updated in r, in version order, with the columns
// named in names (all stored columns when names is nil), and whether more follow.
func (t *Tx) ChangedRows(e *model.Entity, names []string, r ChangeRange) ([]Changed, bool, error) {
	attrs, err := storedAttrs(e, names)
	if err != nil {
		return nil, false, err
	}
	cols, n, conv := selectList(e, attrs)
	pk, ver := quote(e.PrimaryIDAttribute), quote(model.VersionColumn)
	where := []string{ver + " > ?", ver + " <= ?"}
	args := []any{r.Since, r.Upto}
	if r.AfterID != "" {
		where = append(where, "("+ver+", "+pk+") > (?, ?)")
		args = append(args, r.AfterVersion, r.AfterID)
	}
	q := "SELECT " + pk + ", " + cols + " FROM " + quote(e.LogicalName) + " WHERE " + strings.Join(where, " AND ") +
		" ORDER BY " + ver + ", " + pk + " LIMIT ?"
	args = append(args, r.Limit+1)
	rows, err := t.query().QueryContext(t.ctx, q, args...)
	if err != nil {
		return nil, false, fmt.Errorf("store: changes of %s: %w", e.LogicalName, err)
	}
	defer rows.Close()
	var out []Changed
	vals := make([]any, n+1)
	ptrs := make([]any, n+1)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if len(out) == r.Limit {
			return out, true, rows.Err()
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, false, fmt.Errorf("store: changes of %s: %w", e.LogicalName, err)
		}
		row, v, err := conv(vals[1:])
		if err != nil {
			return nil, false, err
		}
		out = append(out, Changed{ID: asString(vals[0]), Version: v, Row: row})
	}
	return out, false, rows.Err()
}

// Deleted is a row deleted in a ChangeRange.
type Deleted struct {
	ID      string
	Version int64
}

// DeletedRows returns the rows of e deleted in r, in version order, and whether more follow.
func (t *Tx) DeletedRows(e *model.Entity, r ChangeRange) ([]Deleted, bool, error) {
	// A row deleted and then created again with its id is not reported deleted: it is there.
	where := []string{"entity = ?", "version > ?", "version <= ?", notRecreated(e)}
	args := []any{e.LogicalName, r.Since, r.Upto}
	if r.AfterID != "" {
		where = append(where, "(version, id) > (?, ?)")
		args = append(args, r.AfterVersion, r.AfterID)
	}
	rows, err := t.query().QueryContext(t.ctx, `SELECT id, version FROM "_dynlocal_deleted" WHERE `+strings.Join(where, " AND ")+
		` ORDER BY version, id LIMIT ?`, append(args, r.Limit+1)...)
	if err != nil {
		return nil, false, fmt.Errorf("store: deletions of %s: %w", e.LogicalName, err)
	}
	defer rows.Close()
	var out []Deleted
	for rows.Next() {
		if len(out) == r.Limit {
			return out, true, rows.Err()
		}
		var d Deleted
		if err := rows.Scan(&d.ID, &d.Version); err != nil {
			return nil, false, fmt.Errorf("store: deletions of %s: %w", e.LogicalName, err)
		}
		out = append(out, d)
	}
	return out, false, rows.Err()
}

// CountChanges counts the rows of e created, updated or deleted after version since, up to upto.
func (t *Tx) CountChanges(e *model.Entity, since, upto int64) (int64, error) {
	var changed, deleted int64
	ver := quote(model.VersionColumn)
	if err := t.query().QueryRowContext(t.ctx, "SELECT count(*) FROM "+quote(e.LogicalName)+" WHERE "+ver+" > ? AND "+ver+" <= ?", since, upto).Scan(&changed); err != nil {
		return 0, fmt.Errorf("store: count changes of %s: %w", e.LogicalName, err)
	}
	if err := t.query().QueryRowContext(t.ctx, `SELECT count(*) FROM "_dynlocal_deleted" WHERE entity = ? AND version > ? AND version <= ? AND `+notRecreated(e), e.LogicalName, since, upto).Scan(&deleted); err != nil {
		return 0, fmt.Errorf("store: count deletions of %s: %w", e.LogicalName, err)
	}
	return changed + deleted, nil
}

// notRecreated is the condition that a tombstone's row does not exist again.
func notRecreated(e *model.Entity) string {
	return "NOT EXISTS (SELECT 1 FROM " + quote(e.LogicalName) + " WHERE " + quote(e.PrimaryIDAttribute) + ` = "_dynlocal_deleted".id)`
}
