package store

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/mattn/go-sqlite3"
)

// Options configure Open.
type Options struct {
	// Path is the database file. Empty means an in-memory database.
	Path string
	// SnapshotDir keeps named snapshots as files. Empty keeps them in memory.
	SnapshotDir string
	// ReadConns is the size of the read pool of a file database (default 4).
	ReadConns int
}

// Store is an open dynlocal database.
type Store struct {
	opts   Options
	writer *sql.DB
	reader *sql.DB // == writer for in-memory databases
	// ckpt checkpoints the write-ahead log of a file database (nil in memory).
	ckpt *checkpointer
	// wtok is the writer's turn, wwait counts the writes waiting for it, and grp is the open
	// group of writes of a file database; wtok is nil in memory (group.go).
	wtok   chan struct{}
	wwait  atomic.Int32
	grp    *writeGroup
	schema atomic.Pointer[model.Schema]

	snapMu sync.Mutex
	// getPlans and colPlans are the statements of Get and GetColumns by table and column list
	// (records.go).
	plansMu  sync.RWMutex
	getPlans map[getPlanKey]*getPlan
	colPlans map[colPlanKey]*getPlan
	// lists are the select lists of queries, by table and column list.
	lists     listCache
	snapshots map[string]*sql.DB // in-memory snapshots

	// generation counts committed writes per table (and restores, which change every table), so
	// callers can cache what they derive from a table and notice when it changed.
	genMu      sync.Mutex
	generation map[string]uint64
	restores   uint64
}

// Generation returns a number that changes whenever a committed write touched table, or the
// database was restored.
func (s *Store) Generation(table string) uint64 {
	s.genMu.Lock()
	defer s.genMu.Unlock()
	return s.generation[table] + s.restores<<32
}

func (s *Store) bump(tables map[string]bool, restored bool) {
	s.genMu.Lock()
	defer s.genMu.Unlock()
	for t := range tables {
		s.generation[t]++
	}
	if restored {
		s.restores++
	}
}

var memSeq atomic.Int64

// stmtCacheSize is how many prepared statements each connection keeps, by SQL text. The store's
// statements come in few shapes (a table's read by id, a page of a query), and preparing one is a
// third of the cost of a read by id; a statement the schema outdates is prepared again by SQLite.
const stmtCacheSize = 256

// Open opens (creating if needed) the database described by opts and loads its metadata.
func Open(ctx context.Context, opts Options) (*Store, error) {
	s := &Store{opts: opts, snapshots: map[string]*sql.DB{}, generation: map[string]uint64{}}
	if opts.Path == "" {
		// One connection to a private in-memory database: database/sql never closes it while the
		// pool holds it, and every statement is serialised through it.
		name := fmt.Sprintf("file:dynlocal-mem-%d-%d?mode=memory&cache=shared&_foreign_keys=0&_stmt_cache_size=%d", os.Getpid(), memSeq.Add(1), stmtCacheSize)
		db, err := sql.Open(driverName, name)
		if err != nil {
			return nil, fmt.Errorf("store: open: %w", err)
		}
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
		s.writer, s.reader = db, db
	} else {
		if err := os.MkdirAll(filepath.Dir(opts.Path), 0o755); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		base := "file:" + opts.Path
		w, err := sql.Open(writerDriverName, base+"?_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=10000&_txlock=immediate&_foreign_keys=0&_stmt_cache_size="+strconv.Itoa(stmtCacheSize))
		if err != nil {
			return nil, fmt.Errorf("store: open: %w", err)
		}
		w.SetMaxOpenConns(1)
		w.SetMaxIdleConns(1)
		w.SetConnMaxLifetime(0)
		w.SetConnMaxIdleTime(0)
		// The writer creates the file and switches it to WAL before readers open it.
		if err := w.PingContext(ctx); err != nil {
			w.Close()
			return nil, fmt.Errorf("store: open %s: %w", opts.Path, err)
		}
		r, err := sql.Open(driverName, base+"?_journal_mode=WAL&_busy_timeout=10000&_query_only=1&_foreign_keys=0&_stmt_cache_size="+strconv.Itoa(stmtCacheSize))
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("store: open: %w", err)
		}
		n := opts.ReadConns
		if n <= 0 {
			n = 4
		}
		r.SetMaxOpenConns(n)
		r.SetMaxIdleConns(n)
		s.writer, s.reader = w, r
		cp, err := sql.Open(driverName, base+"?_busy_timeout=10000&_foreign_keys=0")
		if err != nil {
			w.Close()
			r.Close()
			return nil, fmt.Errorf("store: open: %w", err)
		}
		cp.SetMaxOpenConns(1)
		s.wtok = make(chan struct{}, 1)
		s.ckpt = newCheckpointer(cp, opts.Path+"-wal", s.holdWriter)
	}
	if err := s.init(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if opts.SnapshotDir != "" {
		cleanSnapshotTemps(opts.SnapshotDir)
	}
	return s, nil
}

const internalDDL = `
CREATE TABLE IF NOT EXISTS "_dynlocal" (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO "_dynlocal" (key, value) VALUES ('versionnumber', 1000), ('schemaversion', 0);
CREATE TABLE IF NOT EXISTS "_meta_entity" (logicalname TEXT PRIMARY KEY, entitysetname TEXT NOT NULL UNIQUE, metadataid TEXT NOT NULL, seq INTEGER NOT NULL, doc TEXT NOT NULL, attrs BLOB);
CREATE TABLE IF NOT EXISTS "_meta_attribute" (entity TEXT NOT NULL, logicalname TEXT NOT NULL, metadataid TEXT NOT NULL, seq INTEGER NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (entity, logicalname));
CREATE TABLE IF NOT EXISTS "_meta_key" (entity TEXT NOT NULL, logicalname TEXT NOT NULL, metadataid TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (entity, logicalname));
CREATE TABLE IF NOT EXISTS "_meta_relationship" (schemaname TEXT PRIMARY KEY, metadataid TEXT NOT NULL, doc TEXT NOT NULL, facts TEXT);
CREATE TABLE IF NOT EXISTS "_meta_optionset" (name TEXT PRIMARY KEY, metadataid TEXT NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS "_dynlocal_setting" (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`

func (s *Store) init(ctx context.Context) error {
	if _, err := s.writer.ExecContext(ctx, internalDDL); err != nil {
		return fmt.Errorf("store: init: %w", err)
	}
	if err := initChanges(ctx, s.writer); err != nil {
		return err
	}
	if err := initFiles(ctx, s.writer); err != nil {
		return err
	}
	for _, c := range [][2]string{{"_meta_entity", "attrs BLOB"}, {"_meta_relationship", "facts TEXT"}} {
		if err := addColumn(ctx, s.writer, c[0], c[1]); err != nil {
			return err
		}
	}
	return s.reloadSchema(ctx)
}

// addColumn gives a database made before a metadata table had the column (_meta_entity.attrs,
// _meta_relationship.facts) the column; its rows keep NULL there, and their documents are parsed
// instead.
func addColumn(ctx context.Context, db *sql.DB, table, col string) error {
	name, _, _ := strings.Cut(col, " ")
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info(?) WHERE name = ?`, table, name).Scan(&n); err != nil {
		return fmt.Errorf("store: init: %w", err)
	}
	if n > 0 {
		return nil
	}
	if _, err := db.ExecContext(ctx, `ALTER TABLE `+quote(table)+` ADD COLUMN `+col); err != nil {
		return fmt.Errorf("store: init: %w", err)
	}
	return nil
}

// Close closes the database and any in-memory snapshots.
func (s *Store) Close() error {
	s.snapMu.Lock()
	for _, db := range s.snapshots {
		db.Close()
	}
	s.snapshots = nil
	s.snapMu.Unlock()
	var err error
	if s.ckpt != nil {
		err = s.ckpt.close()
	}
	if s.reader != s.writer && s.reader != nil {
		if e := s.reader.Close(); e != nil {
			err = e
		}
	}
	if s.writer != nil {
		if e := s.writer.Close(); e != nil {
			err = e
		}
	}
	return err
}

// Schema returns the current metadata.
func (s *Store) Schema() *model.Schema { return s.schema.Load() }

// reloadSchema rebuilds the Schema from the metadata tables.
func (s *Store) reloadSchema(ctx context.Context) error {
	// The metadata (megabytes of documents and packed columns) is read through a memory map of
	// the file: a quarter faster than a read call per page. The map goes with the load, so the
	// pages of the data never count against the process's memory. An in-memory database ignores
	// both.
	if _, err := s.writer.ExecContext(ctx, "PRAGMA mmap_size = 1073741824"); err == nil {
		defer s.writer.ExecContext(context.WithoutCancel(ctx), "PRAGMA mmap_size = 0")
	}
	sch, err := loadSchema(ctx, s.writer)
	if err != nil {
		return err
	}
	s.schema.Store(sch)
	return nil
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func loadSchema(ctx context.Context, q queryer) (*model.Schema, error) {
	var version int64
	if err := q.QueryRowContext(ctx, `SELECT value FROM "_dynlocal" WHERE key = 'schemaversion'`).Scan(&version); err != nil {
		return nil, fmt.Errorf("store: schema version: %w", err)
	}
	keys := map[string][]json.RawMessage{}
	rows, err := q.QueryContext(ctx, `SELECT entity, doc FROM "_meta_key" ORDER BY entity, logicalname`)
	if err != nil {
		return nil, fmt.Errorf("store: load keys: %w", err)
	}
	for rows.Next() {
		var ent, doc string
		if err := rows.Scan(&ent, &doc); err != nil {
			rows.Close()
			return nil, err
		}
		keys[ent] = append(keys[ent], json.RawMessage(doc))
	}
	rows.Close()
	// The rows are read first and decoded after, on every core: decoding is most of a load.
	type entityRow struct {
		name, doc string
		packed    []byte
		seq       int64
	}
	var entityRows []entityRow
	// Sorted here rather than by ORDER BY: SQLite would sort the rows, megabytes of documents,
	// in a temporary file.
	rows, err = q.QueryContext(ctx, `SELECT logicalname, doc, attrs, seq FROM "_meta_entity"`)
	if err != nil {
		return nil, fmt.Errorf("store: load entities: %w", err)
	}
	for rows.Next() {
		var r entityRow
		if err := rows.Scan(&r.name, &r.doc, &r.packed, &r.seq); err != nil {
			rows.Close()
			return nil, err
		}
		entityRows = append(entityRows, r)
	}
	rows.Close()
	slices.SortStableFunc(entityRows, func(a, b entityRow) int { return cmp.Compare(a.seq, b.seq) })
	// A table written by putEntity has its columns packed beside it (model.PackAttributes), and
	// their rows in _meta_attribute an empty document; the columns of other tables (a database
	// made before, or a table whose columns a metadata change unpacked) are parsed from their
	// documents.
	attrs := map[string][]*model.Attribute{}
	if slices.ContainsFunc(entityRows, func(r entityRow) bool { return r.packed == nil }) {
		rows, err := q.QueryContext(ctx, `SELECT entity, doc FROM "_meta_attribute" WHERE doc <> '' ORDER BY entity, seq`)
		if err != nil {
			return nil, fmt.Errorf("store: load attributes: %w", err)
		}
		for rows.Next() {
			var ent, doc string
			if err := rows.Scan(&ent, &doc); err != nil {
				rows.Close()
				return nil, err
			}
			a, err := model.ParseAttribute(json.RawMessage(doc))
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: entity %s: %w", ent, err)
			}
			attrs[ent] = append(attrs[ent], a)
		}
		rows.Close()
	}
	type relationshipRow struct{ doc, facts []byte }
	var relRows []relationshipRow
	rows, err = q.QueryContext(ctx, `SELECT doc, facts FROM "_meta_relationship" ORDER BY schemaname`)
	if err != nil {
		return nil, fmt.Errorf("store: load relationships: %w", err)
	}
	for rows.Next() {
		var r relationshipRow
		if err := rows.Scan(&r.doc, &r.facts); err != nil {
			rows.Close()
			return nil, err
		}
		relRows = append(relRows, r)
	}
	rows.Close()

	entities := make([]*model.Entity, len(entityRows))
	rels := make([]*model.Relationship, len(relRows))
	err = parallel(len(entityRows)+len(relRows), func(i int) error {
		if i >= len(entityRows) {
			r := relRows[i-len(entityRows)]
			var err error
			if r.facts != nil {
				rels[i-len(entityRows)], err = model.RelationshipFromFacts(r.facts, r.doc)
			} else {
				rels[i-len(entityRows)], err = model.ParseRelationship(r.doc)
			}
			return err
		}
		r := entityRows[i]
		cols := attrs[r.name]
		if r.packed != nil {
			var err error
			if cols, err = model.UnpackAttributes(r.packed); err != nil {
				return fmt.Errorf("store: entity %s: %w", r.name, err)
			}
		}
		e, err := model.EntityWithAttributes(json.RawMessage(r.doc), cols, keys[r.name])
		entities[i] = e
		return err
	})
	if err != nil {
		return nil, err
	}
	return model.NewSchema(entities, rels, version)
}

// parallel runs fn for 0..n-1 on as many goroutines as there are cores and returns the first
// error.
func parallel(n int, fn func(i int) error) error {
	workers := min(runtime.GOMAXPROCS(0), n)
	var next atomic.Int64
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || errs[w] != nil {
					return
				}
				errs[w] = fn(i)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("store: row not found")

// ErrDuplicate is returned when a primary or alternate key value already exists.
var ErrDuplicate = errors.New("store: duplicate key")

// Tx is a database transaction. Reads and writes made through one Tx see each other.
type Tx struct {
	s    *Store
	conn *sql.Conn
	// tx is a write's transaction. A read's is begun and ended with plain statements on conn
	// (see Begin), so tx is nil.
	tx *sql.Tx
	// ctx is what statements run under. For a read it is the caller's context, so a given-up
	// query is interrupted. A write's statements are short and must not be cut in the middle, so
	// its ctx cannot end: each writing statement checks live first instead (execStmt), and its
	// queries run where no goroutine watches them (query).
	ctx    context.Context
	live   context.Context
	write  bool
	schema *model.Schema
	// version is the last versionnumber handed out; persisted on commit.
	version      int64
	versionDirty bool
	done         bool
	schemaDirty  bool
	touched      map[string]bool
	onCommit     []func()
	memo         map[string]any
	values       map[any]any
	// grp is the group a write to a file database commits with (group.go).
	grp *writeGroup
}

// SetValue keeps v under key for as long as the transaction lives, so that code running in it can
// find state its caller owns (Value reads it back). Unlike Memo, values are never cleared.
func (t *Tx) SetValue(key, v any) {
	if t.values == nil {
		t.values = map[any]any{}
	}
	t.values[key] = v
}

// Value returns what SetValue kept under key, or nil.
func (t *Tx) Value(key any) any { return t.values[key] }

// Memo is a scratch map that lives as long as the transaction, for callers to cache what they
// derive from rows they read in it (it is only valid while nothing they depend on changes).
func (t *Tx) Memo() map[string]any {
	if t.memo == nil {
		t.memo = map[string]any{}
	}
	return t.memo
}

// OnCommit registers f to run after the transaction commits (not after a rollback), for work
// that must only happen once the data is durable, such as asynchronous webhook deliveries.
func (t *Tx) OnCommit(f func()) { t.onCommit = append(t.onCommit, f) }

// touch records that the transaction wrote to a table.
func (t *Tx) touch(table string) {
	if t.touched == nil {
		t.touched = map[string]bool{}
	}
	t.touched[table] = true
}

// Begin starts a transaction. A write transaction waits for any other write transaction to end.
func (s *Store) Begin(ctx context.Context, write bool) (*Tx, error) {
	if write && s.wtok != nil {
		return s.beginGrouped(ctx)
	}
	db := s.reader
	if write {
		db = s.writer
	}
	// Waiting for the connection (the single writer, or the only connection of an in-memory
	// database) follows ctx, so a request that is given up stops queueing.
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: begin: %w", err)
	}
	t := &Tx{s: s, conn: conn, ctx: ctx, live: ctx, write: write, schema: s.Schema()}
	if !write {
		// A read's transaction is two statements on its connection. A sql.Tx would add a
		// goroutine and a context of its own to every read, for nothing: the connection is the
		// reader pool's (or, for an in-memory database, the only one) and is held until the read
		// ends either way. An 8th of a read by id went on them.
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), "BEGIN"); err != nil {
			s.release(conn)
			return nil, fmt.Errorf("store: begin: %w", err)
		}
		return t, nil
	}
	// The transaction itself is not tied to ctx: database/sql closes the connection of a
	// transaction whose context ends, and for an in-memory database that connection is the whole
	// database. Statements still run under ctx, so a cancelled request's statement is interrupted,
	// its handler fails and the transaction is rolled back on a connection that stays open.
	tx, err := conn.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("store: begin: %w", err)
	}
	t.tx = tx
	t.ctx = context.WithoutCancel(ctx)
	if err := t.query().QueryRowContext(t.ctx, `SELECT value FROM "_dynlocal" WHERE key = 'versionnumber'`).Scan(&t.version); err != nil {
		t.Rollback()
		return nil, fmt.Errorf("store: begin: %w", err)
	}
	return t, nil
}

// Write runs fn in a write transaction, committing when it returns nil and rolling back otherwise.
func (s *Store) Write(ctx context.Context, fn func(*Tx) error) error {
	tx, err := s.Begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// Read runs fn in a read transaction.
func (s *Store) Read(ctx context.Context, fn func(*Tx) error) error {
	tx, err := s.Begin(ctx, false)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(tx)
}

// Schema returns the metadata this transaction works with.
func (t *Tx) Schema() *model.Schema { return t.schema }

// Writable reports whether t may write.
func (t *Tx) Writable() bool { return t.write }

// Commit commits the transaction.
func (t *Tx) Commit() error {
	if t.done {
		return errors.New("store: transaction already ended")
	}
	if t.versionDirty {
		if _, err := t.execStmt(`UPDATE "_dynlocal" SET value = ? WHERE key = 'versionnumber'`, t.version); err != nil {
			t.Rollback()
			return fmt.Errorf("store: commit: %w", err)
		}
	}
	switch {
	case t.grp != nil:
		if err := t.commitGrouped(); err != nil {
			return err
		}
	case t.tx == nil:
		t.done = true
		if err := t.endRead("COMMIT"); err != nil {
			return fmt.Errorf("store: commit: %w", err)
		}
	default:
		t.done = true
		err := t.tx.Commit()
		t.conn.Close()
		if err != nil {
			return fmt.Errorf("store: commit: %w", err)
		}
	}
	if t.s.ckpt != nil {
		t.s.ckpt.committed()
	}
	if t.schemaDirty && t.grp == nil {
		t.s.schema.Store(t.schema) // a group's commit did it already
	}
	if len(t.touched) > 0 {
		t.s.bump(t.touched, false)
	}
	for _, f := range t.onCommit {
		f()
	}
	return nil
}

// Rollback abandons the transaction. It is a no-op after Commit.
func (t *Tx) Rollback() error {
	if t.done {
		return nil
	}
	t.done = true
	if t.grp != nil {
		return t.rollbackGrouped()
	}
	if t.tx == nil {
		return t.endRead("ROLLBACK")
	}
	err := t.tx.Rollback()
	t.conn.Close()
	return err
}

// endRead ends a read's transaction with stmt and gives its connection back.
func (t *Tx) endRead(stmt string) error {
	_, err := t.conn.ExecContext(context.WithoutCancel(t.ctx), stmt)
	if err != nil {
		t.s.release(t.conn)
		return err
	}
	return t.conn.Close()
}

// release gives back a read's connection whose transaction could not be begun or ended. One still
// inside a transaction would start every later read in it, so it is closed instead (database/sql
// closes a connection that reports driver.ErrBadConn), unless it is an in-memory database's only
// connection, which is the whole database. One that SQLite took out of its transaction itself
// (after an I/O or memory error) is as good as new.
func (s *Store) release(conn *sql.Conn) {
	conn.Raw(func(dc any) error {
		if c, ok := dc.(*sqlite3.SQLiteConn); ok && !c.AutoCommit() && s.opts.Path != "" {
			return driver.ErrBadConn
		}
		return nil
	})
	conn.Close()
}

// query is what the transaction's queries run on: its connection, which holds the transaction.
// database/sql starts a goroutine for every row set read through a sql.Tx, to close it should the
// transaction end first, whatever the query's context; read on the connection under a context
// that cannot end (a write's), it starts none. A change set of 1,000 creates that check a lookup
// each spent 4 % of its time starting and waking those. A read's queries follow the caller's
// context, so a given-up read is interrupted.
func (t *Tx) query() queryer { return t.conn }

// execStmt runs a statement that writes. Once started it is not interrupted (a write's t.ctx
// cannot end): under a context that can end, go-sqlite3 runs each statement on a goroutine of its
// own and hands the result back (a change set of 1,000 creates spent 14 ms on those handoffs),
// and SQLite answers an interrupted write by rolling back the whole transaction anyway. A
// transaction whose request is given up fails at its next statement instead.
func (t *Tx) execStmt(query string, args ...any) (sql.Result, error) {
	if err := t.live.Err(); err != nil {
		return nil, err
	}
	if t.tx == nil {
		return t.conn.ExecContext(t.ctx, query, args...)
	}
	return t.tx.ExecContext(t.ctx, query, args...)
}

// NextVersion hands out the next value of the store-wide versionnumber counter.
func (t *Tx) NextVersion() int64 {
	t.version++
	t.versionDirty = true
	return t.version
}

func (t *Tx) mustWrite() error {
	if !t.write {
		return errors.New("store: write in a read transaction")
	}
	return nil
}

// quote quotes an SQL identifier. Identifiers only ever come from validated metadata.
func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// typeColumn is the column that keeps the target table of a polymorphic lookup. '@' cannot occur
// in a Dataverse name, so it never collides with an attribute's column.
func typeColumn(a *model.Attribute) string { return a.LogicalName + "@type" }

func isUniqueViolation(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey
	}
	return false
}
