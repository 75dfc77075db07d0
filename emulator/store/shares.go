package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// Shares are the access rights a record has been granted to principals other than its owner
// (GrantAccess, ModifyAccess, RevokeAccess), one row per record and principal, as Dataverse keeps
// them in principalobjectaccess. The table is made by the first write that needs it, so a database
// that never shared a record has none and reads of it answer no shares.
const sharesDDL = `CREATE TABLE IF NOT EXISTS "_dynlocal_share" (
	entity TEXT NOT NULL, recordid TEXT NOT NULL, principaltype TEXT NOT NULL, principalid TEXT NOT NULL,
	mask INTEGER NOT NULL, PRIMARY KEY (entity, recordid, principalid))`

// Share is the access one principal has been granted to one record.
type Share struct {
	Entity   string
	RecordID string
	// PrincipalType is the principal's table: "systemuser" or "team".
	PrincipalType string
	PrincipalID   string
	// Mask is the AccessRights flags granted.
	Mask int64
}

// hasShares reports whether the shares table exists.
func (t *Tx) hasShares() (bool, error) {
	var n int
	err := t.query().QueryRowContext(t.ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, "_dynlocal_share").Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: shares: %w", err)
	}
	return n > 0, nil
}

// Shares returns the shares of a record, in the order they were first granted.
func (t *Tx) Shares(entity, recordID string) ([]Share, error) {
	if ok, err := t.hasShares(); err != nil || !ok {
		return nil, err
	}
	rows, err := t.query().QueryContext(t.ctx, `SELECT principaltype, principalid, mask FROM "_dynlocal_share" WHERE entity = ? AND recordid = ? ORDER BY rowid`,
		entity, strings.ToLower(recordID))
	if err != nil {
		return nil, fmt.Errorf("store: shares of %s: %w", entity, err)
	}
	defer rows.Close()
	var out []Share
	for rows.Next() {
		s := Share{Entity: entity, RecordID: strings.ToLower(recordID)}
		if err := rows.Scan(&s.PrincipalType, &s.PrincipalID, &s.Mask); err != nil {
			return nil, fmt.Errorf("store: shares of %s: %w", entity, err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Share returns the share of a record with one principal; ok is false when there is none.
func (t *Tx) Share(entity, recordID, principalID string) (s Share, ok bool, err error) {
	if ok, err := t.hasShares(); err != nil || !ok {
		return Share{}, false, err
	}
	s = Share{Entity: entity, RecordID: strings.ToLower(recordID), PrincipalID: strings.ToLower(principalID)}
	err = t.query().QueryRowContext(t.ctx, `SELECT principaltype, mask FROM "_dynlocal_share" WHERE entity = ? AND recordid = ? AND principalid = ?`,
		entity, s.RecordID, s.PrincipalID).Scan(&s.PrincipalType, &s.Mask)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Share{}, false, nil
	case err != nil:
		return Share{}, false, fmt.Errorf("store: share of %s: %w", entity, err)
	}
	return s, true, nil
}

// PutShare records a share, replacing the mask of an existing share with the same principal.
func (t *Tx) PutShare(s Share) error {
	if err := t.mustWrite(); err != nil {
		return err
	}
	if _, err := t.execStmt(sharesDDL); err != nil {
		return fmt.Errorf("store: shares: %w", err)
	}
	_, err := t.execStmt(`INSERT INTO "_dynlocal_share" (entity, recordid, principaltype, principalid, mask) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (entity, recordid, principalid) DO UPDATE SET principaltype = excluded.principaltype, mask = excluded.mask`,
		s.Entity, strings.ToLower(s.RecordID), s.PrincipalType, strings.ToLower(s.PrincipalID), s.Mask)
	if err != nil {
		return fmt.Errorf("store: share %s: %w", s.Entity, err)
	}
	return nil
}

// DeleteShare removes the share of a record with a principal; it reports whether there was one.
func (t *Tx) DeleteShare(entity, recordID, principalID string) (bool, error) {
	if err := t.mustWrite(); err != nil {
		return false, err
	}
	if ok, err := t.hasShares(); err != nil || !ok {
		return false, err
	}
	res, err := t.execStmt(`DELETE FROM "_dynlocal_share" WHERE entity = ? AND recordid = ? AND principalid = ?`,
		entity, strings.ToLower(recordID), strings.ToLower(principalID))
	if err != nil {
		return false, fmt.Errorf("store: unshare %s: %w", entity, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
