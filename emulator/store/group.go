package store

import (
	"context"
	"fmt"
)

// Group commit. Each write to a file database commits its own transaction, and a commit writes
// every page the write changed to the write-ahead log: a create of an account changes a dozen
// (the table, its key, and indexes such as createdon, ownerid and createdby whose newest page
// every create changes). When writers queue for the single writer connection, their writes are
// committed together instead: each runs in a savepoint of one SQLite transaction, in turn, and the
// transaction commits once no writer is waiting (or maxGroup have joined). A shared page is then
// written once for the group.
//
// A write's outcome is unchanged: it succeeds only once the group's commit is durable, as before
// (Commit waits for it), and a write that fails or rolls back is undone alone, with ROLLBACK TO
// its savepoint. The writes of a group are serial, so each sees the ones before it, as it would
// have after their commits. A write that changes the schema commits its group at once, so the
// next write starts from the new schema.
//
// SQLite answers a writing statement that is interrupted by rolling back the whole transaction,
// which here holds other writes too; writing statements are never interrupted once started
// (Tx.execStmt), and a write whose request is given up fails at its next statement and is
// rolled back alone.
//
// In-memory databases keep one transaction per write: their single connection is shared with
// readers, which a group held open would block.

// maxGroup bounds how many writes one commit holds.
const maxGroup = 64

// writeGroup is the open transaction writes join.
type writeGroup struct {
	tx      *Tx // the transaction's connection and SQL transaction; a member's Tx shares them
	members int // writes released into the group
	closer  bool
	done    chan struct{}
	err     error
}

// beginGrouped starts a write on a file database: it waits for its turn (following ctx), then
// joins the open group or opens one.
func (s *Store) beginGrouped(ctx context.Context) (*Tx, error) {
	if err := s.acquireWriter(ctx); err != nil {
		return nil, fmt.Errorf("store: begin: %w", err)
	}
	g := s.grp
	if g == nil {
		conn, err := s.writer.Conn(ctx)
		if err != nil {
			s.releaseWriter()
			return nil, fmt.Errorf("store: begin: %w", err)
		}
		tx, err := conn.BeginTx(context.WithoutCancel(ctx), nil)
		if err != nil {
			conn.Close()
			s.releaseWriter()
			return nil, fmt.Errorf("store: begin: %w", err)
		}
		g = &writeGroup{tx: &Tx{conn: conn, tx: tx}, done: make(chan struct{})}
		s.grp = g
	}
	t := &Tx{s: s, conn: g.tx.conn, tx: g.tx.tx, ctx: context.WithoutCancel(ctx), live: ctx, write: true, schema: s.Schema(), grp: g}
	// Not interrupted: a savepoint that cannot be made leaves the group's state unknown.
	if _, err := t.tx.ExecContext(t.ctx, `SAVEPOINT dl_write`); err != nil {
		t.done = true
		s.abandonGroup(g, err)
		return nil, fmt.Errorf("store: begin: %w", err)
	}
	if err := t.query().QueryRowContext(t.ctx, `SELECT value FROM "_dynlocal" WHERE key = 'versionnumber'`).Scan(&t.version); err != nil {
		t.Rollback()
		return nil, fmt.Errorf("store: begin: %w", err)
	}
	return t, nil
}

// acquireWriter waits for the writer's turn; releaseWriter passes it on, to writers in the order
// they came.
func (s *Store) acquireWriter(ctx context.Context) error {
	s.wwait.Add(1)
	defer s.wwait.Add(-1)
	select {
	case s.wtok <- struct{}{}:
		// The turn may come as the request is given up: then it passes on at once.
		if err := ctx.Err(); err != nil {
			s.releaseWriter()
			return err
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) releaseWriter() { <-s.wtok }

// holdWriter takes the writer's turn with no write open, committing the open group first (as its
// closer would), for the checkpointer; release passes the turn on. It gives up, reporting false,
// when stop closes first.
func (s *Store) holdWriter(stop <-chan struct{}) (release func(), ok bool) {
	for {
		select {
		case s.wtok <- struct{}{}:
		case <-stop:
			return nil, false
		}
		g := s.grp
		if g == nil {
			return s.releaseWriter, true
		}
		_ = s.commitGroup(g, nil) // passes the turn on; its writes learn the outcome
	}
}

// commitGrouped ends a write of a group: it releases the write's savepoint, then commits the
// group when nobody waits to join it, or else leaves it open and waits for its commit.
func (t *Tx) commitGrouped() error {
	s, g := t.s, t.grp
	if _, err := t.execStmt(`RELEASE dl_write`); err != nil {
		t.Rollback()
		return fmt.Errorf("store: commit: %w", err)
	}
	t.done = true
	g.members++
	if t.schemaDirty || g.members >= maxGroup || s.wwait.Load() == 0 {
		return s.commitGroup(g, t)
	}
	if !g.closer {
		// The closer queues behind the writers waiting now: they join the group, and then it
		// commits. It always comes, even if those writers give up.
		g.closer = true
		go s.closeGroup(g)
	}
	s.releaseWriter()
	<-g.done
	if g.err != nil {
		return fmt.Errorf("store: commit: %w", g.err)
	}
	return nil
}

// commitGroup commits the group; by is the write that commits it (nil for the closer), whose
// schema, when it changed it, is the store's before the next write starts. It passes the turn on.
func (s *Store) commitGroup(g *writeGroup, by *Tx) error {
	err := g.tx.tx.Commit()
	g.tx.conn.Close()
	s.grp = nil
	if err == nil && by != nil && by.schemaDirty {
		s.schema.Store(by.schema)
	}
	g.err = err
	close(g.done)
	s.releaseWriter()
	if err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// closeGroup commits g once its turn comes, unless a write has committed it already.
func (s *Store) closeGroup(g *writeGroup) {
	_ = s.acquireWriter(context.Background())
	if s.grp == g {
		_ = s.commitGroup(g, nil)
		return
	}
	s.releaseWriter()
}

// rollbackGrouped undoes one write of a group: its savepoint, or the whole transaction when the
// group holds no other write.
func (t *Tx) rollbackGrouped() error {
	s, g := t.s, t.grp
	if g.members == 0 {
		err := g.tx.tx.Rollback()
		g.tx.conn.Close()
		s.grp = nil
		close(g.done)
		s.releaseWriter()
		return err
	}
	// Not interrupted (t.ctx cannot end): an interrupted statement here would roll back the other
	// writes.
	_, err := t.tx.ExecContext(t.ctx, `ROLLBACK TO dl_write`)
	if err == nil {
		_, err = t.tx.ExecContext(t.ctx, `RELEASE dl_write`)
	}
	if err != nil {
		s.abandonGroup(g, err)
		return err
	}
	s.releaseWriter()
	return nil
}

// abandonGroup rolls back a group whose transaction is no longer known to be sound; the writes
// that joined it fail. It passes the turn on.
func (s *Store) abandonGroup(g *writeGroup, cause error) {
	_ = g.tx.tx.Rollback()
	g.tx.conn.Close()
	s.grp = nil
	g.err = fmt.Errorf("a write committed with this one failed: %w", cause)
	close(g.done)
	s.releaseWriter()
}
