package store

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps one prepared statement per (pool, query) so that hot reads — the API key
// lookup and the user list behind every availability request — are parsed once, not per
// request (on SQLite, parsing was a third of such a request's CPU). Queries are the store's
// own constant strings; the cache stops growing at maxCachedStmts so that a query built
// with variable parts can never make it unbounded.
type stmtCache struct {
	mu    sync.RWMutex
	stmts map[stmtKey]*sql.Stmt
}

type stmtKey struct {
	pool  *sql.DB
	query string
}

const maxCachedStmts = 512

// prepared returns the cached statement of query on pool, preparing it on first use. It
// returns nil when the statement can't be prepared or the cache is full: the caller then
// runs the query directly, which reports any error the ordinary way.
func (c *stmtCache) prepared(ctx context.Context, pool *sql.DB, query string) *sql.Stmt {
	k := stmtKey{pool, query}
	c.mu.RLock()
	st := c.stmts[k]
	c.mu.RUnlock()
	if st != nil {
		return st
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.stmts[k]; st != nil {
		return st
	}
	if len(c.stmts) >= maxCachedStmts {
		return nil
	}
	st, err := pool.PrepareContext(context.WithoutCancel(ctx), query)
	if err != nil {
		return nil
	}
	if c.stmts == nil {
		c.stmts = map[stmtKey]*sql.Stmt{}
	}
	c.stmts[k] = st
	return st
}

// cached returns the statement of query on pool if it is prepared already, else nil. It
// never waits: a transaction calls it, and whoever holds the cache's lock may be preparing,
// waiting for the connection that transaction holds; the query then runs unprepared.
func (c *stmtCache) cached(pool *sql.DB, query string) *sql.Stmt {
	if !c.mu.TryRLock() {
		return nil
	}
	defer c.mu.RUnlock()
	return c.stmts[stmtKey{pool, query}]
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, st := range c.stmts {
		st.Close()
		delete(c.stmts, k)
	}
}
