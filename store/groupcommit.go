package store

import (
	"context"
	"database/sql"
	"runtime"
	"sync"
	"sync/atomic"
)

// groupCommit lets concurrent writers share one transaction: each queues its write and
// waits; one goroutine at a time takes every write queued so far and commits them together.
// On SQLite, where one connection writes and a commit costs more than the small statements
// in it, the SMS outbox (messages accepted by the API, the worker's results, delivery
// reports) writes several messages per commit instead of one. Each write is still all or
// nothing, and a write's state and events share its transaction as before.
type groupCommit struct {
	mu      sync.Mutex
	pending []*queuedWrite
	running bool         // a goroutine is committing; it takes what is queued before it stops
	groups  atomic.Int64 // transactions committed (tests)
}

// queuedWrite is one queued write: apply runs it inside the shared transaction.
type queuedWrite struct {
	ctx   context.Context
	apply func(ctx context.Context, tx *sql.Tx) error
	err   error
	done  chan struct{}
}

// maxGroup bounds the writes of one transaction, so that none holds the writer for long.
const maxGroup = 128

// groupWrite runs apply in a write transaction, possibly shared with other writes of g, and
// returns its error. apply must only write through tx (the transaction may hold the only
// write connection) and may run twice: a shared transaction that fails is rolled back and
// its writes are then run one by one, so that one write's error is its own.
func (db *DB) groupWrite(ctx context.Context, g *groupCommit, apply func(ctx context.Context, tx *sql.Tx) error) error {
	w := &queuedWrite{ctx: ctx, apply: apply, done: make(chan struct{})}
	g.mu.Lock()
	g.pending = append(g.pending, w)
	if !g.running {
		g.running = true
		go db.commitGroups(g)
	}
	g.mu.Unlock()
	<-w.done
	return w.err
}

// commitGroups commits what is queued, group after group, until nothing is.
func (db *DB) commitGroups(g *groupCommit) {
	for {
		// Writers that are ready to run queue their writes before the group is taken: on a
		// busy core they would otherwise run only while this commit does, and each group
		// would hold one or two writes, each paying a commit.
		runtime.Gosched()
		g.mu.Lock()
		n := min(len(g.pending), maxGroup)
		if n == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		group := g.pending[:n:n]
		g.pending = g.pending[n:]
		g.mu.Unlock()
		db.commitGroup(group)
		g.groups.Add(1)
	}
}

func (db *DB) commitGroup(group []*queuedWrite) {
	defer func() {
		for _, w := range group {
			close(w.done)
		}
	}()
	// A write whose caller gave up before it was taken is not written. One taken is written
	// without its caller's cancellation: a caller that goes away would otherwise interrupt
	// the statement on the shared connection and fail the others' writes with its own, and
	// the driver watches a cancellable context with a goroutine per statement.
	live := group[:0:0]
	for _, w := range group {
		if w.err = w.ctx.Err(); w.err == nil {
			live = append(live, w)
		}
	}
	if len(live) > 1 {
		err := db.writeTx(context.Background(), func(tx *sql.Tx) error {
			for _, w := range live {
				if err := w.apply(context.WithoutCancel(w.ctx), tx); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			return
		}
	}
	for _, w := range live {
		ctx := context.WithoutCancel(w.ctx)
		w.err = db.writeTx(ctx, func(tx *sql.Tx) error { return w.apply(ctx, tx) })
	}
}
