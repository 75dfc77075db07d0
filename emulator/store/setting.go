package store

import (
	"database/sql"
	"errors"
	"fmt"
)

// Setting returns a value kept beside the data, such as which fixture set the database was made
// from; ok is false when it was never set. Settings travel with the database: snapshots and
// resets copy them.
func (t *Tx) Setting(key string) (value string, ok bool, err error) {
	err = t.query().QueryRowContext(t.ctx, `SELECT value FROM "_dynlocal_setting" WHERE key = ?`, key).Scan(&value)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("store: setting %s: %w", key, err)
	}
	return value, true, nil
}

// SetSetting keeps a value beside the data.
func (t *Tx) SetSetting(key, value string) error {
	if err := t.mustWrite(); err != nil {
		return err
	}
	if _, err := t.execStmt(`INSERT INTO "_dynlocal_setting" (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value); err != nil {
		return fmt.Errorf("store: set setting %s: %w", key, err)
	}
	return nil
}
