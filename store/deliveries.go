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
func (db *DB) fanOutDeliveries(ctx context.Context, tx *sql.Tx, ev *switchboard.Event) error {
	// With a dispatcher running, its prepared statements save the parsing; without, plain
	// statements do (preparing here, inside the caller's transaction, could deadlock).
	hooksQuery := db.rebind(`SELECT id, format, event_filter FROM webhooks WHERE account_id = ? AND active = ?`)
	insertQuery := db.rebind(`INSERT INTO webhook_deliveries (account_id, webhook_id, event_seq, event_id, event_name,
		wire_name, message_id, call_id, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	query := func(args ...any) (*sql.Rows, error) { return tx.QueryContext(ctx, hooksQuery, args...) }
	insert := func(args ...any) (sql.Result, error) { return tx.ExecContext(ctx, insertQuery, args...) }
	if st := db.preparedOutboxIfReady(); st != nil {
		query = func(args ...any) (*sql.Rows, error) {
			return tx.StmtContext(ctx, st.fanOutHooks).QueryContext(ctx, args...)
		}
		insert = func(args ...any) (sql.Result, error) {
			return tx.StmtContext(ctx, st.fanOutInsert).ExecContext(ctx, args...)
		}
	}
	rows, err := query(ev.AccountID, true)
	if err != nil {
		return fmt.Errorf("fan out event %s: %w", ev.ID, err)
	}
	type target struct {
		id     int64
		format string
	}
	var targets []target
	for rows.Next() {
		var t target
		var filter string
		if err := rows.Scan(&t.id, &t.format, &filter); err != nil {
			rows.Close()
			return err
		}
		var names []string
		if err := json.Unmarshal([]byte(filter), &names); err != nil {
			rows.Close()
			return fmt.Errorf("webhook %d event_filter: %w", t.id, err)
		}
		if slices.Contains(names, "*") || slices.Contains(names, ev.Name) {
			targets = append(targets, t)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(targets) == 0 {
		return nil
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
