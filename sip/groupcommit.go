package sip

import (
	"context"
	"sync"
	"time"

	"switchboard"
)

// maxBatch bounds the changes committed in one transaction, so one slow batch does not
// hold a burst's REGISTERs behind a single huge write.
const maxBatch = 256

// groupCommit writes the REGISTERs' binding changes to the store many to a transaction.
//
// Durability rule: a REGISTER is answered 200 only after the transaction holding its change
// has committed, so a binding acknowledged is a binding a restart (or another node) finds.
// What is shared is the commit: while one batch is being written, the changes that arrive
// queue up and go together in the next one. A lone REGISTER is written at once; under load
// the batches grow by themselves, with no timer adding latency.
type groupCommit struct {
	store Store

	mu      sync.Mutex
	pending []*pendingChange
	writing bool // a writer goroutine is draining pending
}

type pendingChange struct {
	change switchboard.RegistrationChange
	done   chan error
}

// save queues the change and waits until it is committed, or failed, or ctx ends. When ctx
// ends first the change may still be committed later: the caller answers with an error
// and the phone retries, which is harmless (a re-REGISTER rewrites the same rows).
func (g *groupCommit) save(ctx context.Context, c switchboard.RegistrationChange) error {
	p := &pendingChange{change: c, done: make(chan error, 1)}
	g.mu.Lock()
	g.pending = append(g.pending, p)
	if !g.writing {
		g.writing = true
		go g.write()
	}
	g.mu.Unlock()
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// write commits batches until nothing is pending, then exits: the goroutine lives only
// while there are changes to write.
func (g *groupCommit) write() {
	for {
		g.mu.Lock()
		n := min(len(g.pending), maxBatch)
		if n == 0 {
			g.writing = false
			g.mu.Unlock()
			return
		}
		batch := g.pending[:n:n]
		g.pending = g.pending[n:]
		if len(g.pending) == 0 {
			g.pending = nil // let the backing array go
		}
		g.mu.Unlock()
		g.commit(batch)
	}
}

// commit stores the batch in one transaction. If that fails, each change is retried in a
// transaction of its own, so that one bad change (a device deleted meanwhile) fails only
// its own REGISTER.
func (g *groupCommit) commit(batch []*pendingChange) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	changes := make([]switchboard.RegistrationChange, len(batch))
	for i, p := range batch {
		changes[i] = p.change
	}
	err := g.store.SaveRegistrationChanges(ctx, changes)
	if err == nil || len(batch) == 1 {
		for _, p := range batch {
			p.done <- err
		}
		return
	}
	for i, p := range batch {
		p.done <- g.store.SaveRegistrationChanges(ctx, changes[i:i+1])
	}
}
