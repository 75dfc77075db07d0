package store

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"
)

// writerDriverName is driverName for the writer connection of a file database: it never
// checkpoints the write-ahead log itself, so no commit waits for pages to be copied back into the
// database file and flushed (with autocheckpoint, one commit in about eighty did, stalling every
// writer behind it for milliseconds). The checkpointer does it beside the writer.
const writerDriverName = "sqlite3_dynlocal_writer"

func init() {
	sql.Register(writerDriverName, &sqlite3.SQLiteDriver{
		ConnectHook: func(conn *sqlite3.SQLiteConn) error {
			if err := connectHook(conn); err != nil {
				return err
			}
			_, err := conn.Exec("PRAGMA wal_autocheckpoint=0", nil)
			return err
		},
	})
}

// checkpointer copies committed pages of the write-ahead log back into the database file on a
// connection of its own, in PASSIVE mode, which neither waits for nor blocks readers and the
// writer. It runs when enough commits have gathered, or a little after the last one.
type checkpointer struct {
	db      *sql.DB
	commits atomic.Int64
	now     chan struct{}
	stop    chan struct{}
	wg      sync.WaitGroup
	once    sync.Once
}

const (
	// checkpointAfter is how many commits start a checkpoint at once: about as many pages as
	// SQLite's own autocheckpoint lets the log hold, for the small writes the emulator makes.
	checkpointAfter = 100
	// checkpointEvery is how soon fewer commits are checkpointed.
	checkpointEvery = 250 * time.Millisecond
)

func newCheckpointer(db *sql.DB) *checkpointer {
	c := &checkpointer{db: db, now: make(chan struct{}, 1), stop: make(chan struct{})}
	c.wg.Add(1)
	go c.run()
	return c
}

// committed counts a commit, and wakes the checkpointer when enough have gathered.
func (c *checkpointer) committed() {
	if c.commits.Add(1) == checkpointAfter {
		select {
		case c.now <- struct{}{}:
		default:
		}
	}
}

func (c *checkpointer) run() {
	defer c.wg.Done()
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		case <-c.now:
		}
		if c.commits.Swap(0) == 0 {
			continue
		}
		// A failed checkpoint leaves the pages in the log, where readers still find them; the
		// next one copies them.
		_, _ = c.db.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
	}
}

// close stops the checkpointer and closes its connection; closing the last connection of the
// database checkpoints what is left. Closing again does nothing.
func (c *checkpointer) close() error {
	var err error
	c.once.Do(func() {
		close(c.stop)
		c.wg.Wait()
		err = c.db.Close()
	})
	return err
}
