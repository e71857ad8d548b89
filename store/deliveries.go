package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"switchboard"
	"switchboard/events"
)

// fanOutDeliveries creates the pending webhook deliveries of ev in tx, the transaction that
// stores ev, so that an event is never stored without its deliveries nor the other way round.
// insertEvent calls it for every event, after ev.Seq is set.
//
// Every active subscription of ev's account whose filter names ev (or is "*") gets one
// delivery per provider event its format maps ev to — none when the format has no such
// event. The first delivery's message id (the webhook-id header) is the event id; where one
// event maps to two provider events (voice360 sends USER_HANGUP and CALL_ENDED for an
// outbound call's end) the second is the event id + "_2".
func (db *DB) fanOutDeliveries(ctx context.Context, tx *sql.Tx, st *txEventState, ev *switchboard.Event) error {
	hooks, read := st.hooks[ev.AccountID]
	if !read {
		var err error
		if hooks, err = db.activeHooks(ctx, tx, ev.AccountID); err != nil {
			return fmt.Errorf("fan out event %s: %w", ev.ID, err)
		}
		if st.hooks == nil {
			st.hooks = map[int64][]hookTarget{}
		}
		st.hooks[ev.AccountID] = hooks
	}
	var targets []hookTarget
	for _, h := range hooks {
		if slices.Contains(h.events, "*") || slices.Contains(h.events, ev.Name) {
			targets = append(targets, h)
		}
	}
	if len(targets) == 0 {
		return nil
	}
	insertQuery := db.rebind(sqlInsertDelivery)
	insert := func(args ...any) (sql.Result, error) { return tx.ExecContext(ctx, insertQuery, args...) }
	if st := db.preparedOutboxIfReady(); st != nil {
		insert = func(args ...any) (sql.Result, error) {
			return tx.StmtContext(ctx, st.fanOutInsert).ExecContext(ctx, args...)
		}
	}
	createdAt := toMS(now())
	created := false
	for _, t := range targets {
		for i, wire := range events.WireNames(t.format, ev) {
			messageID := ev.ID
			if i > 0 {
				messageID = ev.ID + "_" + strconv.Itoa(i+1)
			}
			if _, err := insert(ev.AccountID, t.id, ev.Seq, ev.ID, ev.Name, wire, messageID,
				ev.CallID, createdAt, createdAt, createdAt); err != nil {
				return fmt.Errorf("fan out event %s to webhook %d: %w", ev.ID, t.id, err)
			}
			created = true
		}
	}
	if created {
		db.signalDeliveries()
	}
	return nil
}

// hookTarget is an active webhook as fanOutDeliveries reads it.
type hookTarget struct {
	id     int64
	format string
	events []string // its filter: event names, or "*"
}

const (
	sqlActiveHooks    = `SELECT id, format, event_filter FROM webhooks WHERE account_id = ? AND active = ?`
	sqlInsertDelivery = `INSERT INTO webhook_deliveries (account_id, webhook_id, event_seq, event_id, event_name,
		wire_name, message_id, call_id, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// activeHooks reads the account's active webhooks in tx. With a dispatcher running, its
// prepared statements save the parsing; without, plain statements do (preparing here, inside
// the caller's transaction, could deadlock).
func (db *DB) activeHooks(ctx context.Context, tx *sql.Tx, accountID int64) ([]hookTarget, error) {
	var rows *sql.Rows
	var err error
	if st := db.preparedOutboxIfReady(); st != nil {
		rows, err = tx.StmtContext(ctx, st.fanOutHooks).QueryContext(ctx, accountID, true)
	} else {
		rows, err = tx.QueryContext(ctx, db.rebind(sqlActiveHooks), accountID, true)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var hooks []hookTarget
	for rows.Next() {
		var h hookTarget
		var filter string
		if err := rows.Scan(&h.id, &h.format, &filter); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(filter), &h.events); err != nil {
			return nil, fmt.Errorf("webhook %d event_filter: %w", h.id, err)
		}
		hooks = append(hooks, h)
	}
	return hooks, rows.Err()
}

// DeliveriesCreated returns a channel that receives (without blocking the writer, so
// signals may merge) whenever an event created deliveries. The dispatcher uses it to wake
// at once instead of at its next poll. The signal may come just before the transaction
// commits; a claim that then finds nothing waits for the next poll.
func (db *DB) DeliveriesCreated() <-chan struct{} {
	return db.deliveryWake
}

func (db *DB) signalDeliveries() {
	select {
	case db.deliveryWake <- struct{}{}:
	default:
	}
}
