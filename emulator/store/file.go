package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
)

// WriteFile saves the whole database as a SQLite file at path. It writes a temporary file next to
// path and renames it, so a reader sees the old file or the complete new one, never a torn one.
func (s *Store) WriteFile(ctx context.Context, path string) error {
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("store: write %s: %w", path, err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("store: write %s: %w", path, err)
	}
	tmp := f.Name()
	f.Close()
	defer os.Remove(tmp) // a no-op once renamed
	if err := s.copyTo(ctx, "file:"+tmp); err != nil {
		return fmt.Errorf("store: write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("store: write %s: %w", path, err)
	}
	return nil
}

func (s *Store) copyTo(ctx context.Context, name string) error {
	db, err := sql.Open(driverName, name)
	if err != nil {
		return err
	}
	defer db.Close()
	dst, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer dst.Close()
	src, err := s.writer.Conn(ctx)
	if err != nil {
		return err
	}
	defer src.Close()
	return backup(ctx, dst, src)
}

// ReadFile replaces the whole database with the SQLite file at path (one WriteFile wrote) and
// reads its schema. A file that is not a sound database is an error, and the store is then left
// in an unspecified state: open a new one.
func (s *Store) ReadFile(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("store: read %s: %w", path, err)
	}
	db, err := sql.Open(driverName, "file:"+path+"?mode=ro")
	if err != nil {
		return fmt.Errorf("store: read %s: %w", path, err)
	}
	defer db.Close()
	// The file is read through a memory map: copying it page by page with a read call for each
	// took a third of an --in-memory start. One connection, so the copy uses the one set up here;
	// without the map the copy is only slower.
	db.SetMaxOpenConns(1)
	_, _ = db.ExecContext(ctx, "PRAGMA mmap_size = 1073741824")
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	if err := s.restoreFrom(ctx, db); err != nil {
		return fmt.Errorf("store: read %s: %w", path, err)
	}
	var check string
	if err := s.writer.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&check); err != nil {
		return fmt.Errorf("store: read %s: %w", path, err)
	}
	if check != "ok" {
		return fmt.Errorf("store: read %s: damaged: %s", path, check)
	}
	return nil
}
