package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"time"

	"switchboard"
	"switchboard/events"
)

// insertEvent stores ev in tx, the transaction of the change that caused it, sets ev.Seq,
// and creates the event's webhook deliveries in the same transaction. Every event is stored
// through here. A missing id or time is filled in.
const sqlInsertEvent = `INSERT INTO events (id, account_id, name, occurred_at, call_id, crm_id, data)
	VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING seq`

func (db *DB) insertEvent(ctx context.Context, tx *sql.Tx, ev *switchboard.Event) error {
	if ev.AccountID <= 0 {
		return badRequest("account_id", "is required for an event")
	}
	if ev.Name == "" {
		return badRequest("name", "is required for an event")
	}
	if ev.ID == "" {
		ev.ID = switchboard.NewEventID()
	}
	if ev.OccurredAt.IsZero() {
		ev.OccurredAt = now()
	}
	// Kept as stored, so the caller's copy equals what a later read returns.
	ev.OccurredAt = ev.OccurredAt.UTC().Truncate(time.Millisecond)
	data := []byte("{}")
	if ev.Data != nil {
		var err error
		if data, err = json.Marshal(ev.Data); err != nil {
			return badRequest("data", "cannot be stored as JSON: "+err.Error())
		}
	}
	err := db.queryRow(ctx, tx, sqlInsertEvent, ev.ID, ev.AccountID, ev.Name, toMS(ev.OccurredAt), ev.CallID, ev.CRMID, string(data)).Scan(&ev.Seq)
	if isUniqueViolation(err) {
		return conflict("id", "of event "+ev.ID+" is already stored")
	}
	if err != nil {
		return internal("insertEvent", err)
	}
	db.noteEventStored(tx, ev.AccountID)
	return db.fanOutDeliveries(ctx, tx, ev)
}

// AppendEvents stores events that come with no other state change, all or none.
func (db *DB) AppendEvents(ctx context.Context, events ...*switchboard.Event) error {
	if len(events) == 0 {
		return nil
	}
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		for _, ev := range events {
			if err := db.insertEvent(ctx, tx, ev); err != nil {
				return err
			}
		}
		return nil
	})
}

// Event page sizes of ListEvents.
const (
	defaultEventLimit = 100
	maxEventLimit     = 1000
)

// ListEvents returns the account's events with Seq > afterSeq, oldest first; limit <= 0
// means 100, and at most 1000 are returned.
func (db *DB) ListEvents(ctx context.Context, accountID, afterSeq int64, limit int) ([]*switchboard.Event, error) {
	if limit <= 0 {
		limit = defaultEventLimit
	}
	limit = min(limit, maxEventLimit)
	rows, err := db.query(ctx, db.read, `SELECT seq, id, account_id, name, occurred_at, call_id, crm_id, data
		FROM events WHERE account_id = ? AND seq > ? ORDER BY seq LIMIT ?`, accountID, afterSeq, limit)
	if err != nil {
		return nil, internal("ListEvents", err)
	}
	defer rows.Close()
	events := []*switchboard.Event{}
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return nil, internal("ListEvents", err)
		}
		events = append(events, ev)
	}
	return events, internal("ListEvents", rows.Err())
}

// scanEvent reads the columns seq, id, account_id, name, occurred_at, call_id, crm_id, data.
// Shared with the package's other files (webhook deliveries read events too).
func scanEvent(s interface{ Scan(...any) error }) (*switchboard.Event, error) {
	var ev switchboard.Event
	var occurred int64
	var data string
	if err := s.Scan(&ev.Seq, &ev.ID, &ev.AccountID, &ev.Name, &occurred, &ev.CallID, &ev.CRMID, &data); err != nil {
		return nil, err
	}
	ev.OccurredAt = fromMS(occurred)
	if err := json.Unmarshal([]byte(data), &ev.Data); err != nil {
		return nil, err
	}
	return &ev, nil
}

// noteEventStored remembers that tx stored an event of the account, so that writeTx
// publishes it on the event bus once tx has committed (and forgets it on a rollback).
// A transaction runs on one goroutine, so the slice needs no lock of its own.
func (db *DB) noteEventStored(tx *sql.Tx, accountID int64) {
	v, _ := db.txEvents.LoadOrStore(tx, new([]int64))
	ids := v.(*[]int64)
	if !slices.Contains(*ids, accountID) {
		*ids = append(*ids, accountID)
	}
}

// EventBus is the bus on which the store announces, after each commit, the accounts whose
// events it stored. Events stored by other processes on the same database are not
// announced: listeners poll for those.
func (db *DB) EventBus() *events.Bus { return db.eventBus }

// LatestEventSeq returns the seq of the account's newest event, 0 when it has none: where
// a consumer that asks for live events only starts.
func (db *DB) LatestEventSeq(ctx context.Context, accountID int64) (int64, error) {
	var seq sql.NullInt64
	err := db.queryRow(ctx, db.read, `SELECT MAX(seq) FROM events WHERE account_id = ?`, accountID).Scan(&seq)
	if err != nil {
		return 0, internal("LatestEventSeq", err)
	}
	return seq.Int64, nil
}
