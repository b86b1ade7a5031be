package sqlite

import (
	"context"
	"database/sql"
)

// checkpointEvents is how many events a store opened for bulk writes
// commits between asking its checkpointer to copy the write-ahead log into
// the file.
const checkpointEvents = 25_000

// checkpointer copies the write-ahead log into the ledger file on a
// connection and goroutine of its own while a bulk writer goes on
// appending, so that the writer's own checkpoint, when the log reaches
// bulkCheckpointPages, finds most pages copied already and is short.
// Only that checkpoint restarts the log: the writer runs it right after a
// commit, when no frame is left behind it.
type checkpointer struct {
	db    *sql.DB
	kick  chan struct{}
	done  chan struct{}
	every int // checkpointEvents, but in tests
	since int // events committed since the last kick; the writer's
}

func newCheckpointer(db *sql.DB) *checkpointer {
	c := &checkpointer{db: db, kick: make(chan struct{}, 1), done: make(chan struct{}), every: checkpointEvents}
	go c.run()
	return c
}

func (c *checkpointer) run() {
	defer close(c.done)
	for range c.kick {
		// PASSIVE never waits for the writer or readers. An error here
		// (the log busy with the writer's own checkpoint, say) loses
		// nothing: the writer's checkpoint copies what this one did not.
		_, _ = c.db.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
	}
}

// committed counts events the writer committed, and asks for a checkpoint
// once checkpointEvents have been since the last one asked for, unless one
// is under way.
func (c *checkpointer) committed(events int) {
	c.since += events
	if c.since < c.every {
		return
	}
	select {
	case c.kick <- struct{}{}:
		c.since = 0
	default:
	}
}

// close waits for a checkpoint under way and closes the connection.
func (c *checkpointer) close() error {
	close(c.kick)
	<-c.done
	return c.db.Close()
}
