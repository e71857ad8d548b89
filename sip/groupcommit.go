package sip

import (
	"context"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
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

	// batches and changes count what was committed, so tests can see commits shared.
	batches, changes atomic.Int64
	// preparing counts the REGISTERs computing a change they will save (see prepare).
	preparing atomic.Int64

	log *slog.Logger

	mu      sync.Mutex
	pending []*pendingChange
	waiters int  // pending changes someone waits for (not write-behind)
	writing bool // a writer goroutine is draining pending
	// wake tells a lingering writer that changes are pending.
	wake chan struct{}
}

// writerLinger is how long the writer goroutine waits for more changes before it exits.
// Under load it never exits, so its stack, grown once to SQLite's depth, is not grown again
// for every batch (a fresh goroutine per batch spent a sixth of the CPU copying stacks).
const writerLinger = 100 * time.Millisecond

// commitDelay bounds how long the writer waits, before a commit, for the REGISTERs that are
// about to queue a change (as PostgreSQL's commit_delay with commit_siblings): a
// transaction's fixed cost — BEGIN, COMMIT, the WAL's locks — then buys several REGISTERs
// instead of one. It waits only while such REGISTERs exist, so a REGISTER that comes alone
// is written at once, and REGISTERs that cannot join (waiting behind an earlier REGISTER of
// the same user) hold nothing up.
const commitDelay = time.Millisecond

// behindDelay is how long a write-behind change (saveLater) may wait for company before it
// is committed: many refreshes then share one transaction.
const behindDelay = 20 * time.Millisecond

type pendingChange struct {
	change switchboard.RegistrationChange
	done   chan error // nil for a write-behind change: nobody waits for it
}

// prepare announces a change about to be saved, so the writer can wait for it to join the
// next commit. The caller calls the returned function when it gives up instead; save
// takes the announcement back itself once the change is queued.
func (g *groupCommit) prepare() (abandon func()) {
	g.preparing.Add(1)
	return sync.OnceFunc(func() { g.preparing.Add(-1) })
}

// save queues the change and waits until it is committed, or failed, or ctx ends. When ctx
// ends first the change may still be committed later: the caller answers with an error
// and the phone retries, which is harmless (a re-REGISTER rewrites the same rows).
func (g *groupCommit) save(ctx context.Context, c switchboard.RegistrationChange, prepared func()) error {
	p := &pendingChange{change: c, done: make(chan error, 1)}
	g.mu.Lock()
	g.pending = append(g.pending, p)
	g.waiters++
	prepared()
	g.startLocked()
	g.mu.Unlock()
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// saveLater queues a change nobody waits for (write-behind): it is committed with the next
// batch, or within behindDelay. It is queued in order with the others, so a later change of
// the same binding is never overwritten by it.
func (g *groupCommit) saveLater(c switchboard.RegistrationChange, prepared func()) {
	g.mu.Lock()
	g.pending = append(g.pending, &pendingChange{change: c})
	prepared()
	if !g.writing {
		g.startLocked()
	} // else no wake-up: it waits for company
	g.mu.Unlock()
}

// flush returns once every change queued before it is committed (or failed).
func (g *groupCommit) flush(ctx context.Context) error {
	return g.save(ctx, switchboard.RegistrationChange{}, func() {})
}

// startLocked starts the writer, or wakes it. The caller holds g.mu.
func (g *groupCommit) startLocked() {
	if !g.writing {
		g.writing = true
		if g.wake == nil {
			g.wake = make(chan struct{}, 1)
		}
		go g.write()
	} else {
		select {
		case g.wake <- struct{}{}:
		default: // already woken
		}
	}
}

// write commits batches until nothing has been pending for writerLinger, then exits: the
// goroutine lives only while there are changes to write.
func (g *groupCommit) write() {
	idle := time.NewTimer(writerLinger)
	defer idle.Stop()
	waited := false // for company of write-behind changes, since the last commit
	for {
		g.gather()
		g.mu.Lock()
		n := min(len(g.pending), maxBatch)
		if n > 0 && n < maxBatch && g.waiters == 0 && !waited {
			// Only write-behind changes: let more gather, unless someone starts waiting.
			g.mu.Unlock()
			waited = true
			idle.Reset(behindDelay)
			select {
			case <-g.wake:
			case <-idle.C:
			}
			continue
		}
		waited = false
		if n == 0 {
			g.mu.Unlock()
			idle.Reset(writerLinger)
			select {
			case <-g.wake:
				continue
			case <-idle.C:
			}
			g.mu.Lock()
			if len(g.pending) > 0 {
				g.mu.Unlock()
				continue
			}
			g.writing = false
			g.mu.Unlock()
			return
		}
		batch := g.pending[:n:n]
		for _, p := range batch {
			if p.done != nil {
				g.waiters--
			}
		}
		g.pending = g.pending[n:]
		if len(g.pending) == 0 {
			g.pending = nil // let the backing array go
		}
		g.mu.Unlock()
		g.commit(batch)
	}
}

// gather lets the REGISTERs that are preparing a change queue it, for up to commitDelay.
func (g *groupCommit) gather() {
	if g.preparing.Load() == 0 {
		return
	}
	deadline := time.Now().Add(commitDelay)
	for g.preparing.Load() > 0 && time.Now().Before(deadline) {
		runtime.Gosched()
	}
}

// commit stores the batch in one transaction. If that fails, each change is retried in a
// transaction of its own, so that one bad change (a device deleted meanwhile) fails only
// its own REGISTER.
func (g *groupCommit) commit(batch []*pendingChange) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	changes := withoutSuperseded(batch)
	g.batches.Add(1)
	g.changes.Add(int64(len(changes)))
	err := g.store.SaveRegistrationChanges(ctx, changes)
	if err == nil || len(batch) == 1 {
		for _, p := range batch {
			p.report(err, g.log)
		}
		return
	}
	for _, p := range batch {
		p.report(g.store.SaveRegistrationChanges(ctx, []switchboard.RegistrationChange{p.change}), g.log)
	}
}

// withoutSuperseded is the batch's changes in order, less the write-behind refreshes that a
// later change of the same batch overwrites entirely: every binding they save is saved
// again or removed after them in the same transaction, so writing them changes nothing
// that is committed. A phone that refreshes often (or a benchmark re-registering the
// same contacts) then costs one row per binding per commit. A change someone waits for,
// or one that removes bindings or carries events, is always written.
func withoutSuperseded(batch []*pendingChange) []switchboard.RegistrationChange {
	type bindingKey struct {
		device  int64
		contact string
	}
	later := make(map[bindingKey]bool)
	keep := make([]switchboard.RegistrationChange, 0, len(batch))
	for i := len(batch) - 1; i >= 0; i-- {
		p := batch[i]
		c := p.change
		superseded := p.done == nil && len(c.Remove) == 0 && len(c.Events) == 0 && len(c.Save) > 0
		for _, r := range c.Save {
			superseded = superseded && later[bindingKey{r.DeviceID, r.Contact}]
		}
		if superseded {
			continue
		}
		for _, r := range c.Save {
			later[bindingKey{r.DeviceID, r.Contact}] = true
		}
		for _, r := range c.Remove {
			later[bindingKey{r.DeviceID, r.Contact}] = true
		}
		keep = append(keep, c)
	}
	slices.Reverse(keep)
	return keep
}

// report gives the outcome to whoever waits for it. A write-behind change that failed only
// leaves the store with the binding's earlier expiry, which the rule of saveLater allows.
func (p *pendingChange) report(err error, log *slog.Logger) {
	if p.done != nil {
		p.done <- err
		return
	}
	if err != nil && log != nil {
		log.Warn("storing a registration refresh failed; the stored binding keeps its earlier expiry", "error", err,
			"account_id", p.change.AccountID, "user_id", p.change.UserID)
	}
}
