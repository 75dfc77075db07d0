package store

import (
	"context"
	"database/sql"
	"os"
	"strconv"
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
			if _, err := conn.Exec("PRAGMA wal_autocheckpoint=0", nil); err != nil {
				return err
			}
			// Once a checkpoint has caught up, the log starts over and its file is cut back to
			// walLimit.
			_, err := conn.Exec("PRAGMA journal_size_limit="+strconv.Itoa(walLimit), nil)
			return err
		},
	})
}

// checkpointer copies committed pages of the write-ahead log back into the database file on a
// connection of its own, in PASSIVE mode, which neither waits for nor blocks readers and the
// writer, except that past walLimit it holds the writer while it copies. It runs when enough
// commits have gathered, or a little after the last one.
type checkpointer struct {
	db *sql.DB
	// wal is the log's file, and hold takes the writer's turn with no write open (group.go) when
	// the log has grown past walLimit; it reports false if stop closes first.
	wal  string
	hold func(stop <-chan struct{}) (release func(), ok bool)
	// limit is walLimit (tests lower it).
	limit   atomic.Int64
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

// walLimit is the size of the log past which a checkpoint holds the writer. SQLite starts the log
// over only when a write begins after a checkpoint has copied all of it. Under writes that never
// pause (a group of writes always open, or the next one begun before the checkpoint ends) that
// never happens, and the log grows without end: 2.5 GB after 30 s of creates from 16 clients.
// With the writer held, nothing is appended while the checkpoint copies, it catches up (unless a
// reader still needs the older pages), and the next write starts the log over.
const walLimit = 64 << 20

func newCheckpointer(db *sql.DB, wal string, hold func(stop <-chan struct{}) (func(), bool)) *checkpointer {
	c := &checkpointer{db: db, wal: wal, hold: hold, now: make(chan struct{}, 1), stop: make(chan struct{})}
	c.limit.Store(walLimit)
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
		if !c.checkpoint() {
			return
		}
	}
}

// checkpoint copies the log's committed pages into the database file, first taking the writer's
// turn when the log has grown past walLimit. It reports false when the checkpointer was stopped
// while it waited for the turn.
func (c *checkpointer) checkpoint() bool {
	if fi, err := os.Stat(c.wal); err == nil && fi.Size() > c.limit.Load() && c.hold != nil {
		release, ok := c.hold(c.stop)
		if !ok {
			return false
		}
		defer release()
	}
	// A failed checkpoint leaves the pages in the log, where readers still find them; the next
	// one copies them.
	_, _ = c.db.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
	return true
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
