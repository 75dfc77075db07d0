package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// File and image column data is kept outside the entity tables: one row of _dynlocal_file per
// stored file (or upload in progress) and its bytes in _dynlocal_file_block, in blocks of at most
// FileBlockSize keyed by their offset. A file's bytes never change once it is committed: a new
// upload is a new file that replaces the old one when it commits, so a reader that walks a file
// block by block, in several short statements, reads one whole file or fails, never a mix.
const filesDDL = `
CREATE TABLE IF NOT EXISTS "_dynlocal_file" (
	fileid TEXT PRIMARY KEY, entity TEXT NOT NULL, recordid TEXT NOT NULL, attribute TEXT NOT NULL,
	variant TEXT NOT NULL, name TEXT NOT NULL, mimetype TEXT NOT NULL, size INTEGER NOT NULL,
	received INTEGER NOT NULL, maxsize INTEGER NOT NULL, committed INTEGER NOT NULL, createdon TEXT NOT NULL,
	token TEXT);
CREATE INDEX IF NOT EXISTS "_dynlocal_file_record" ON "_dynlocal_file" (entity, recordid, attribute, variant);
CREATE UNIQUE INDEX IF NOT EXISTS "_dynlocal_file_token" ON "_dynlocal_file" (token) WHERE token IS NOT NULL;
CREATE TABLE IF NOT EXISTS "_dynlocal_file_block" (fileid TEXT NOT NULL, pos INTEGER NOT NULL, blockid TEXT, data BLOB NOT NULL, PRIMARY KEY (fileid, pos));
`

// FileBlockSize is the largest block file data is kept (and read and written) in: the most of a
// file the store holds in memory at a time.
const FileBlockSize = 1 << 20

// ErrFileTooLarge is returned when data appended to an upload would exceed its maximum size.
var ErrFileTooLarge = errors.New("store: file larger than the column allows")

// ErrFileOffset is returned when appended data does not start where the upload's data ends.
var ErrFileOffset = errors.New("store: data does not continue the upload")

// ErrNoFile is returned when a file or upload does not exist.
var ErrNoFile = errors.New("store: no such file")

// File describes a stored file or an upload in progress.
type File struct {
	ID        string
	Entity    string
	RecordID  string
	Attribute string
	// Variant tells the files of one column apart: "" for a file column's file and an image
	// column's full-size image, "thumbnail" for an image column's thumbnail.
	Variant  string
	Name     string
	MimeType string
	// Size is the committed size; for an upload in progress, the size announced (or -1).
	Size int64
	// Received is how many bytes an upload holds so far.
	Received int64
	// MaxSize bounds an upload, in bytes.
	MaxSize   int64
	Committed bool
	CreatedOn time.Time
	// Token is the session token of an upload in progress.
	Token string
}

func initFiles(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, filesDDL); err != nil {
		return fmt.Errorf("store: init files: %w", err)
	}
	return nil
}

// sqlConn is what the file functions run statements on: a transaction of the caller's, or a
// short transaction of their own.
type sqlConn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// short runs fn in a transaction of its own on the writer (tx nil), committed when fn succeeds,
// or in tx. Each block of an upload is written in one of these, so a big upload holds the write
// lock for one block at a time and other writes interleave.
func (s *Store) short(ctx context.Context, tx *Tx, fn func(c sqlConn) error) error {
	if tx != nil {
		if err := tx.mustWrite(); err != nil {
			return err
		}
		return fn(tx.tx)
	}
	t, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(t); err != nil {
		t.Rollback()
		return err
	}
	return t.Commit()
}

// reading runs fn on tx, or on the reader pool outside any transaction.
func (s *Store) reading(tx *Tx) sqlConn {
	if tx != nil {
		return tx.conn
	}
	return s.reader
}

const fileColumns = `fileid, entity, recordid, attribute, variant, name, mimetype, size, received, maxsize, committed, createdon, token`

func scanFile(row interface{ Scan(...any) error }) (*File, error) {
	var f File
	var created string
	var token sql.NullString
	if err := row.Scan(&f.ID, &f.Entity, &f.RecordID, &f.Attribute, &f.Variant, &f.Name, &f.MimeType, &f.Size, &f.Received, &f.MaxSize, &f.Committed, &created, &token); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNoFile
		}
		return nil, fmt.Errorf("store: file: %w", err)
	}
	f.CreatedOn, _ = time.Parse(time.RFC3339Nano, created)
	f.Token = token.String
	return &f, nil
}

// BeginUpload records an upload in progress of f (ID, Entity, RecordID, Attribute, Variant, Name,
// MimeType, Size, MaxSize, CreatedOn and Token are used; Token may be empty). Its data is added
// with AppendUpload and it replaces the column's file with CommitUpload. tx may be nil.
func (s *Store) BeginUpload(ctx context.Context, tx *Tx, f *File) error {
	var token any
	if f.Token != "" {
		token = f.Token
	}
	err := s.short(ctx, tx, func(c sqlConn) error {
		_, err := c.ExecContext(ctx, `INSERT INTO "_dynlocal_file" (`+fileColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, 0, ?, ?)`,
			f.ID, f.Entity, strings.ToLower(f.RecordID), f.Attribute, f.Variant, f.Name, f.MimeType, f.Size, f.MaxSize, f.CreatedOn.UTC().Format(time.RFC3339Nano), token)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: begin upload: %w", err)
	}
	return nil
}

// Upload returns the upload in progress with the session token token.
func (s *Store) Upload(ctx context.Context, tx *Tx, token string) (*File, error) {
	return scanFile(s.reading(tx).QueryRowContext(ctx, `SELECT `+fileColumns+` FROM "_dynlocal_file" WHERE token = ? AND committed = 0`, token))
}

// FileByID returns the file or upload id.
func (s *Store) FileByID(ctx context.Context, tx *Tx, id string) (*File, error) {
	return scanFile(s.reading(tx).QueryRowContext(ctx, `SELECT `+fileColumns+` FROM "_dynlocal_file" WHERE fileid = ?`, id))
}

// AppendUpload reads r to its end and adds what it reads to the upload id, starting at byte
// offset (which must be where the upload's data ends), one block per short transaction (or in
// tx). It returns how many bytes it added. ErrFileTooLarge stops it before a block would take
// the upload past its MaxSize, ErrFileOffset when offset is not where the data ends; the blocks
// added before an error stay, for AbortUpload to remove.
func (s *Store) AppendUpload(ctx context.Context, tx *Tx, id string, offset int64, r io.Reader) (int64, error) {
	buf := make([]byte, FileBlockSize)
	var total int64
	for {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			err := s.short(ctx, tx, func(c sqlConn) error {
				var received, maxSize int64
				var committed bool
				if err := c.QueryRowContext(ctx, `SELECT received, maxsize, committed FROM "_dynlocal_file" WHERE fileid = ?`, id).Scan(&received, &maxSize, &committed); err != nil {
					if errors.Is(err, sql.ErrNoRows) {
						return ErrNoFile
					}
					return err
				}
				if committed {
					return ErrNoFile
				}
				if received != offset+total {
					return ErrFileOffset
				}
				if received+int64(n) > maxSize {
					return ErrFileTooLarge
				}
				if _, err := c.ExecContext(ctx, `INSERT INTO "_dynlocal_file_block" (fileid, pos, data) VALUES (?, ?, ?)`, id, received, buf[:n]); err != nil {
					return err
				}
				_, err := c.ExecContext(ctx, `UPDATE "_dynlocal_file" SET received = ? WHERE fileid = ?`, received+int64(n), id)
				return err
			})
			if err != nil {
				if errors.Is(err, ErrFileTooLarge) || errors.Is(err, ErrFileOffset) || errors.Is(err, ErrNoFile) {
					return total, err
				}
				return total, fmt.Errorf("store: append upload: %w", err)
			}
			total += int64(n)
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			return total, nil
		}
		if rerr != nil {
			return total, rerr
		}
	}
}

// PutBlock keeps one block of an upload made with block ids (UploadBlock), to be ordered when
// the upload commits (CommitBlocks). A block sent again under the same id replaces the first.
func (s *Store) PutBlock(ctx context.Context, tx *Tx, id, blockID string, data []byte) error {
	return s.short(ctx, tx, func(c sqlConn) error {
		var received, maxSize int64
		var committed bool
		if err := c.QueryRowContext(ctx, `SELECT received, maxsize, committed FROM "_dynlocal_file" WHERE fileid = ?`, id).Scan(&received, &maxSize, &committed); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNoFile
			}
			return fmt.Errorf("store: put block: %w", err)
		}
		if committed {
			return ErrNoFile
		}
		var old int64
		err := c.QueryRowContext(ctx, `SELECT length(data) FROM "_dynlocal_file_block" WHERE fileid = ? AND blockid = ?`, id, blockID).Scan(&old)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: put block: %w", err)
		}
		if received-old+int64(len(data)) > maxSize {
			return ErrFileTooLarge
		}
		if _, err := c.ExecContext(ctx, `DELETE FROM "_dynlocal_file_block" WHERE fileid = ? AND blockid = ?`, id, blockID); err != nil {
			return fmt.Errorf("store: put block: %w", err)
		}
		// Until the commit orders them, blocks sit at negative offsets in arrival order.
		var next int64
		if err := c.QueryRowContext(ctx, `SELECT coalesce(min(pos), 0) - 1 FROM "_dynlocal_file_block" WHERE fileid = ?`, id).Scan(&next); err != nil {
			return fmt.Errorf("store: put block: %w", err)
		}
		if _, err := c.ExecContext(ctx, `INSERT INTO "_dynlocal_file_block" (fileid, pos, blockid, data) VALUES (?, ?, ?, ?)`, id, next, blockID, data); err != nil {
			return fmt.Errorf("store: put block: %w", err)
		}
		_, err = c.ExecContext(ctx, `UPDATE "_dynlocal_file" SET received = ? WHERE fileid = ?`, received-old+int64(len(data)), id)
		return err
	})
}

// ErrUnknownBlock is returned by OrderBlocks for a block id that was never uploaded.
var ErrUnknownBlock = errors.New("store: unknown block id")

// OrderBlocks lays the blocks of an upload made with block ids out in the order of ids; blocks
// not listed are dropped. It runs in tx.
func (t *Tx) OrderBlocks(id string, ids []string) error {
	if err := t.mustWrite(); err != nil {
		return err
	}
	var offset int64
	seen := map[string]bool{}
	for _, b := range ids {
		if seen[b] {
			return ErrUnknownBlock
		}
		seen[b] = true
		var n int64
		err := t.query().QueryRowContext(t.ctx, `SELECT length(data) FROM "_dynlocal_file_block" WHERE fileid = ? AND blockid = ? AND pos < 0`, id, b).Scan(&n)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrUnknownBlock
		}
		if err != nil {
			return fmt.Errorf("store: order blocks: %w", err)
		}
		if _, err := t.execStmt(`UPDATE "_dynlocal_file_block" SET pos = ?, blockid = NULL WHERE fileid = ? AND blockid = ?`, offset, id, b); err != nil {
			return fmt.Errorf("store: order blocks: %w", err)
		}
		offset += n
	}
	if _, err := t.execStmt(`DELETE FROM "_dynlocal_file_block" WHERE fileid = ? AND pos < 0`, id); err != nil {
		return fmt.Errorf("store: order blocks: %w", err)
	}
	if _, err := t.execStmt(`UPDATE "_dynlocal_file" SET received = ? WHERE fileid = ?`, offset, id); err != nil {
		return fmt.Errorf("store: order blocks: %w", err)
	}
	return nil
}

// AbortUpload removes an upload in progress and its data. A committed file is left alone.
func (s *Store) AbortUpload(ctx context.Context, tx *Tx, id string) error {
	return s.short(ctx, tx, func(c sqlConn) error {
		res, err := c.ExecContext(ctx, `DELETE FROM "_dynlocal_file" WHERE fileid = ? AND committed = 0`, id)
		if err != nil {
			return fmt.Errorf("store: abort upload: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		if _, err := c.ExecContext(ctx, `DELETE FROM "_dynlocal_file_block" WHERE fileid = ?`, id); err != nil {
			return fmt.Errorf("store: abort upload: %w", err)
		}
		return nil
	})
}

// CommitUpload makes the upload id the file of its column (and variant), replacing and removing
// the file it had; name and mimeType, when not empty, replace the ones it began with. It returns
// the committed file.
func (t *Tx) CommitUpload(id, name, mimeType string) (*File, error) {
	if err := t.mustWrite(); err != nil {
		return nil, err
	}
	f, err := t.s.FileByID(t.ctx, t, id)
	if err != nil {
		return nil, err
	}
	if f.Committed {
		return nil, ErrNoFile
	}
	if err := t.deleteFiles(f.Entity, f.RecordID, f.Attribute, f.Variant, true); err != nil {
		return nil, err
	}
	if name == "" {
		name = f.Name
	}
	if mimeType == "" {
		mimeType = f.MimeType
	}
	if _, err := t.execStmt(`UPDATE "_dynlocal_file" SET committed = 1, size = received, token = NULL, name = ?, mimetype = ? WHERE fileid = ?`, name, mimeType, id); err != nil {
		return nil, fmt.Errorf("store: commit upload: %w", err)
	}
	f.Committed, f.Size, f.Token, f.Name, f.MimeType = true, f.Received, "", name, mimeType
	return f, nil
}

// ColumnFile returns the committed file of a row's column (and variant).
func (t *Tx) ColumnFile(entity, recordID, attribute, variant string) (*File, error) {
	return scanFile(t.query().QueryRowContext(t.ctx, `SELECT `+fileColumns+` FROM "_dynlocal_file" WHERE entity = ? AND recordid = ? AND attribute = ? AND variant = ? AND committed = 1`,
		entity, strings.ToLower(recordID), attribute, variant))
}

// DeleteColumnFiles removes the committed files of a row's column (every variant). It reports
// whether there were any.
func (t *Tx) DeleteColumnFiles(entity, recordID, attribute string) (bool, error) {
	if err := t.mustWrite(); err != nil {
		return false, err
	}
	var n int
	if err := t.query().QueryRowContext(t.ctx, `SELECT count(*) FROM "_dynlocal_file" WHERE entity = ? AND recordid = ? AND attribute = ? AND committed = 1`, entity, strings.ToLower(recordID), attribute).Scan(&n); err != nil {
		return false, fmt.Errorf("store: delete files: %w", err)
	}
	if n == 0 {
		return false, nil
	}
	return true, t.deleteFiles(entity, recordID, attribute, "", false)
}

// DeleteFileByID removes a committed file by its id and returns what it was.
func (t *Tx) DeleteFileByID(id string) (*File, error) {
	if err := t.mustWrite(); err != nil {
		return nil, err
	}
	f, err := t.s.FileByID(t.ctx, t, id)
	if err != nil {
		return nil, err
	}
	if !f.Committed {
		return nil, ErrNoFile
	}
	if err := t.deleteFiles(f.Entity, f.RecordID, f.Attribute, "", false); err != nil {
		return nil, err
	}
	return f, nil
}

// deleteFiles removes the committed files of a row (attribute ""), of one of its columns, or of
// one variant of a column (oneVariant).
func (t *Tx) deleteFiles(entity, recordID, attribute, variant string, oneVariant bool) error {
	where := `entity = ? AND recordid = ? AND committed = 1`
	args := []any{entity, strings.ToLower(recordID)}
	if attribute != "" {
		where += ` AND attribute = ?`
		args = append(args, attribute)
	}
	if oneVariant {
		where += ` AND variant = ?`
		args = append(args, variant)
	}
	if _, err := t.execStmt(`DELETE FROM "_dynlocal_file_block" WHERE fileid IN (SELECT fileid FROM "_dynlocal_file" WHERE `+where+`)`, args...); err != nil {
		return fmt.Errorf("store: delete files: %w", err)
	}
	if _, err := t.execStmt(`DELETE FROM "_dynlocal_file" WHERE `+where, args...); err != nil {
		return fmt.Errorf("store: delete files: %w", err)
	}
	return nil
}

// CopyFile writes bytes from through to (inclusive) of the file id to w, one block at a time: in
// tx, or with a statement of its own per block outside any transaction, so that other requests
// run between the blocks of a long download.
func (s *Store) CopyFile(ctx context.Context, tx *Tx, id string, from, to int64, w io.Writer) error {
	if from > to {
		return nil
	}
	c := s.reading(tx)
	// The first block is the one holding from; each next one starts where the last ended.
	off, err := copyBlock(ctx, c, `SELECT pos, data FROM "_dynlocal_file_block" WHERE fileid = ? AND pos >= 0 AND pos <= ? ORDER BY pos DESC LIMIT 1`, []any{id, from}, from, to, w)
	for err == nil && off <= to {
		off, err = copyBlock(ctx, c, `SELECT pos, data FROM "_dynlocal_file_block" WHERE fileid = ? AND pos = ?`, []any{id, off}, from, to, w)
	}
	return err
}

// copyBlock reads the block query finds and writes the part of it between from and to to w,
// without keeping a copy of it; it returns where the block ends.
func copyBlock(ctx context.Context, c sqlConn, query string, args []any, from, to int64, w io.Writer) (int64, error) {
	rows, err := c.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("store: read file: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return 0, fmt.Errorf("store: read file: %w", err)
		}
		return 0, ErrNoFile
	}
	var off int64
	var data sql.RawBytes
	if err := rows.Scan(&off, &data); err != nil {
		return 0, fmt.Errorf("store: read file: %w", err)
	}
	end := off + int64(len(data))
	if len(data) == 0 {
		return 0, ErrNoFile
	}
	lo, hi := max(from, off), min(to+1, end)
	if lo < hi {
		if _, err := w.Write(data[lo-off : hi-off]); err != nil {
			return 0, err
		}
	}
	return end, nil
}

// FileBytes reads a whole (small) file into memory.
func (s *Store) FileBytes(ctx context.Context, tx *Tx, f *File) ([]byte, error) {
	var b strings.Builder
	if f.Size == 0 {
		return []byte{}, nil
	}
	if err := s.CopyFile(ctx, tx, f.ID, 0, f.Size-1, &b); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

// FileData reads a whole (small) committed file in the transaction.
func (t *Tx) FileData(f *File) ([]byte, error) { return t.s.FileBytes(t.ctx, t, f) }

// DeleteAttributeFiles removes every file (and upload) of a column, for when the column goes.
func (t *Tx) DeleteAttributeFiles(entity, attribute string) error {
	if err := t.mustWrite(); err != nil {
		return err
	}
	if _, err := t.execStmt(`DELETE FROM "_dynlocal_file_block" WHERE fileid IN (SELECT fileid FROM "_dynlocal_file" WHERE entity = ? AND attribute = ?)`, entity, attribute); err != nil {
		return fmt.Errorf("store: delete files: %w", err)
	}
	if _, err := t.execStmt(`DELETE FROM "_dynlocal_file" WHERE entity = ? AND attribute = ?`, entity, attribute); err != nil {
		return fmt.Errorf("store: delete files: %w", err)
	}
	return nil
}
