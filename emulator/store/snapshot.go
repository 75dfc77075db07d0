package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/mattn/go-sqlite3"

	"github.com/dynlocal/dynlocal/emulator/model"
)

var snapshotName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// ErrBadSnapshotName reports a snapshot name outside [A-Za-z0-9_.-]{1,64}.
var ErrBadSnapshotName = errors.New("store: snapshot names are 1 to 64 letters, digits, '.', '_' or '-'")

// ErrNoSnapshot reports an unknown snapshot.
var ErrNoSnapshot = errors.New("store: no such snapshot")

// backup copies the main database of src into dst with SQLite's online backup API.
func backup(ctx context.Context, dst, src *sql.Conn) error {
	return dst.Raw(func(dc any) error {
		return src.Raw(func(sc any) error {
			d, ok1 := dc.(*sqlite3.SQLiteConn)
			s, ok2 := sc.(*sqlite3.SQLiteConn)
			if !ok1 || !ok2 {
				return errors.New("store: backup needs sqlite3 connections")
			}
			b, err := d.Backup("main", s, "main")
			if err != nil {
				return err
			}
			for {
				done, err := b.Step(-1)
				if err != nil {
					b.Finish()
					return err
				}
				if done {
					break
				}
			}
			return b.Finish()
		})
	})
}

func (s *Store) snapshotDB(name string, create bool) (*sql.DB, bool, error) {
	if s.opts.SnapshotDir != "" {
		path := filepath.Join(s.opts.SnapshotDir, name+".sqlite")
		if !create {
			if _, err := os.Stat(path); err != nil {
				return nil, false, ErrNoSnapshot
			}
		} else if err := os.MkdirAll(s.opts.SnapshotDir, 0o755); err != nil {
			return nil, false, err
		}
		db, err := sql.Open(driverName, "file:"+path)
		if err != nil {
			return nil, false, err
		}
		db.SetMaxOpenConns(1)
		return db, true, nil
	}
	if db, ok := s.snapshots[name]; ok {
		return db, false, nil
	}
	if !create {
		return nil, false, ErrNoSnapshot
	}
	db, err := sql.Open(driverName, fmt.Sprintf("file:dynlocal-snap-%d-%d?mode=memory&cache=shared", os.Getpid(), memSeq.Add(1)))
	if err != nil {
		return nil, false, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	s.snapshots[name] = db
	return db, false, nil
}

// Snapshot saves the whole database under name, replacing a snapshot of the same name. It waits
// for running writes and blocks new ones while it copies.
func (s *Store) Snapshot(ctx context.Context, name string) error {
	if !snapshotName.MatchString(name) {
		return ErrBadSnapshotName
	}
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	if s.opts.SnapshotDir != "" {
		if err := s.snapshotToFile(ctx, name); err != nil {
			return fmt.Errorf("store: snapshot %s: %w", name, err)
		}
		return nil
	}
	db, _, err := s.snapshotDB(name, true)
	if err != nil {
		return fmt.Errorf("store: snapshot %s: %w", name, err)
	}
	if err := s.copyInto(ctx, db); err != nil {
		return fmt.Errorf("store: snapshot %s: %w", name, err)
	}
	return nil
}

// Restore replaces the whole database with a snapshot and reloads metadata.
func (s *Store) Restore(ctx context.Context, name string) error {
	if !snapshotName.MatchString(name) {
		return ErrBadSnapshotName
	}
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	db, closeAfter, err := s.snapshotDB(name, false)
	if err != nil {
		return err
	}
	if closeAfter {
		defer db.Close()
	}
	// Check the whole snapshot before the copy starts, so a damaged one leaves the data as it is.
	sch, err := verifySnapshot(ctx, db)
	if err != nil {
		return fmt.Errorf("store: restore %s: %w", name, err)
	}
	return s.restore(ctx, db, sch)
}

// RestoreFrom replaces the whole database with the contents of another store (for example one
// holding freshly loaded fixtures) and takes over its schema. A Schema is never changed in place
// (metadata writes build a new one), so the two stores can share it; not parsing the metadata
// again keeps a restore's cost to the page copy, however large the schema.
func (s *Store) RestoreFrom(ctx context.Context, other *Store) error {
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	return s.restore(ctx, other.writer, other.Schema())
}

func (s *Store) restoreFrom(ctx context.Context, db *sql.DB) error {
	return s.restore(ctx, db, nil)
}

// restore copies db over the store's database, then takes sch as its schema, or reads the schema
// from the copied metadata when sch is nil.
func (s *Store) restore(ctx context.Context, db *sql.DB, sch *model.Schema) error {
	dst, err := s.writer.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	defer dst.Close()
	src, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	defer src.Close()
	if err := backup(ctx, dst, src); err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	// The copied history is not this database's: delta tokens issued since the copy was made stop
	// being answerable.
	if err := branch(ctx, dst); err != nil {
		return err
	}
	// A snapshot or file made by an older build may lack the file tables.
	if _, err := dst.ExecContext(ctx, filesDDL); err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	if sch == nil {
		if sch, err = loadSchema(ctx, dst); err != nil {
			return err
		}
	}
	s.schema.Store(sch)
	s.bump(nil, true)
	return nil
}

// Snapshots lists the saved snapshot names.
func (s *Store) Snapshots() ([]string, error) {
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	var out []string
	if s.opts.SnapshotDir != "" {
		entries, err := os.ReadDir(s.opts.SnapshotDir)
		if err != nil && !os.IsNotExist(err) {
			return nil, err
		}
		for _, e := range entries {
			if n, ok := strings.CutSuffix(e.Name(), ".sqlite"); ok && snapshotName.MatchString(n) {
				out = append(out, n)
			}
		}
	} else {
		for n := range s.snapshots {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}
