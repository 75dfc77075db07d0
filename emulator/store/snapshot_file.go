package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dynlocal/dynlocal/emulator/model"
)

// ErrBadSnapshot reports a snapshot that is not a complete dynlocal database (a file cut short, or
// one that is not SQLite, or SQLite without the emulator's tables). Restoring it is refused.
var ErrBadSnapshot = errors.New("store: snapshot is damaged or incomplete")

// snapshotTempPrefix starts the name of a snapshot file being written. Such a file never matches
// snapshotName (which starts with a letter or digit), so listing skips it, and Open removes it: a
// file still carrying the prefix is one whose save never finished.
const snapshotTempPrefix = ".tmp-"

// snapshotPath is the file of the snapshot name in dir.
func snapshotPath(dir, name string) string { return filepath.Join(dir, name+".sqlite") }

// cleanSnapshotTemps removes what interrupted saves left in dir. It is best effort: a file it
// cannot remove is still never listed nor restored.
func cleanSnapshotTemps(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), snapshotTempPrefix) && !e.IsDir() {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// removeDBFiles removes a database file and the journal files SQLite may keep beside it. It
// reports whether the database file itself existed.
func removeDBFiles(path string) (bool, error) {
	existed := true
	if err := os.Remove(path); err != nil {
		if !os.IsNotExist(err) {
			return false, err
		}
		existed = false
	}
	for _, suffix := range []string{"-journal", "-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !os.IsNotExist(err) {
			return existed, err
		}
	}
	return existed, nil
}

// syncPath flushes a file or directory to stable storage.
func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// snapshotToFile saves the database as the snapshot name in the snapshot directory. The copy is
// written to a temporary file, flushed, and only then renamed over the final name (the directory
// flushed too), so the final name holds either the previous snapshot or the complete new one,
// whenever the process stops.
func (s *Store) snapshotToFile(ctx context.Context, name string) (err error) {
	dir := s.opts.SnapshotDir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, snapshotTempPrefix+name+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if err := f.Close(); err != nil {
		return err
	}
	renamed := false
	defer func() {
		if !renamed {
			_, _ = removeDBFiles(tmp)
		}
	}()
	// No rollback journal: a temporary file that fails half way is thrown away, not repaired.
	db, err := sql.Open(driverName, "file:"+tmp+"?_journal_mode=OFF")
	if err != nil {
		return err
	}
	db.SetMaxOpenConns(1)
	if err := s.copyInto(ctx, db); err != nil {
		db.Close()
		return err
	}
	if err := db.Close(); err != nil {
		return err
	}
	if err := syncPath(tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, snapshotPath(dir, name)); err != nil {
		return err
	}
	renamed = true
	return syncPath(dir)
}

// copyInto copies the live database into db, and leaves db in rollback-journal mode so that the
// snapshot is one self-contained file (the copied header would otherwise keep the live
// database's WAL mode). The copy reads through a reader connection: in one read transaction it
// sees the last committed state while writers go on (with a WAL database; an in-memory store has
// one connection for both).
func (s *Store) copyInto(ctx context.Context, db *sql.DB) error {
	src, err := s.reader.Conn(ctx)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer dst.Close()
	if err := backup(ctx, dst, src); err != nil {
		return err
	}
	var mode string
	if err := dst.QueryRowContext(ctx, `PRAGMA journal_mode=DELETE`).Scan(&mode); err != nil {
		return err
	}
	return nil
}

// verifySnapshot checks that db is a sound SQLite database holding the emulator's own tables, and
// returns the schema its metadata describes. Any failure wraps ErrBadSnapshot.
func verifySnapshot(ctx context.Context, db *sql.DB) (*model.Schema, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	defer conn.Close()
	rows, err := conn.QueryContext(ctx, `PRAGMA quick_check`)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			rows.Close()
			return nil, fmt.Errorf("%w: %v", ErrBadSnapshot, err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrBadSnapshot, problems[0])
	}
	var tables int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN (?, ?)`,
		"_dynlocal", "_meta_entity").Scan(&tables); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	if tables != 2 {
		return nil, fmt.Errorf("%w: it lacks the emulator's tables", ErrBadSnapshot)
	}
	var keys int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM "_dynlocal" WHERE key IN (?, ?)`,
		"versionnumber", "schemaversion").Scan(&keys); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	if keys != 2 {
		return nil, fmt.Errorf("%w: it lacks the emulator's version counters", ErrBadSnapshot)
	}
	sch, err := loadSchema(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	return sch, nil
}

// DeleteSnapshot removes the snapshot name. It returns ErrNoSnapshot for an unknown one.
func (s *Store) DeleteSnapshot(name string) error {
	if !snapshotName.MatchString(name) {
		return ErrBadSnapshotName
	}
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	if s.opts.SnapshotDir == "" {
		db, ok := s.snapshots[name]
		if !ok {
			return ErrNoSnapshot
		}
		delete(s.snapshots, name)
		return db.Close()
	}
	existed, err := removeDBFiles(snapshotPath(s.opts.SnapshotDir, name))
	if err != nil {
		return fmt.Errorf("store: delete snapshot %s: %w", name, err)
	}
	if !existed {
		return ErrNoSnapshot
	}
	if err := syncPath(s.opts.SnapshotDir); err != nil {
		return fmt.Errorf("store: delete snapshot %s: %w", name, err)
	}
	return nil
}
