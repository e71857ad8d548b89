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
//
// On SQLite seq is the rowid, read back with LastInsertId: RETURNING would build a temporary
// b-tree for its one row on every insert, which profiled at a third of the statement's cost.
// PostgreSQL's driver has no LastInsertId; there it is RETURNING.
const sqlInsertEvent = `INSERT INTO events (id, account_id, name, occurred_at, call_id, crm_id, data)
	VALUES (?, ?, ?, ?, ?, ?, ?)`

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
	args := []any{ev.ID, ev.AccountID, ev.Name, toMS(ev.OccurredAt), ev.CallID, ev.CRMID, string(data)}
	var err error
	if db.dialect == DialectPostgres {
		err = db.queryRow(ctx, tx, sqlInsertEvent+" RETURNING seq", args...).Scan(&ev.Seq)
	} else {
		var res sql.Result
		if res, err = db.exec(ctx, tx, sqlInsertEvent, args...); err == nil {
			ev.Seq, err = res.LastInsertId()
		}
	}
	if isUniqueViolation(err) {
		return conflict("id", "of event "+ev.ID+" is already stored")
	}
	if err != nil {
		return internal("insertEvent", err)
	}
	return db.fanOutDeliveries(ctx, tx, db.noteEventStored(tx, ev.AccountID), ev)
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
// means 100, and at most 1000 are returned. These are the events committed so far: to follow
// the table as it grows, use FollowEvents.
func (db *DB) ListEvents(ctx context.Context, accountID, afterSeq int64, limit int) ([]*switchboard.Event, error) {
	return db.listEvents(ctx, `account_id = ? AND seq > ?`, limit, accountID, afterSeq)
}

// listEvents returns the events that match where, in seq order, at most limit (see ListEvents).
func (db *DB) listEvents(ctx context.Context, where string, limit int, args ...any) ([]*switchboard.Event, error) {
	if limit <= 0 {
		limit = defaultEventLimit
	}
	limit = min(limit, maxEventLimit)
	rows, err := db.query(ctx, db.read, `SELECT seq, id, account_id, name, occurred_at, call_id, crm_id, data
		FROM events WHERE `+where+` ORDER BY seq LIMIT ?`, append(args, limit)...)
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

// txEventState is what a transaction's events leave for its commit and for its next events.
// A transaction runs on one goroutine, so it needs no lock of its own.
type txEventState struct {
	accounts []int64 // whose events it stored
	// hooks are each account's active webhooks as the transaction first read them: a group
	// commit stores the events of many messages of one account (fanOutDeliveries).
	hooks map[int64][]hookTarget
}

// noteEventStored remembers that tx stored an event of the account, so that writeTx
// publishes it on the event bus once tx has committed (and forgets it on a rollback).
func (db *DB) noteEventStored(tx *sql.Tx, accountID int64) *txEventState {
	v, _ := db.txEvents.LoadOrStore(tx, &txEventState{})
	st := v.(*txEventState)
	if !slices.Contains(st.accounts, accountID) {
		st.accounts = append(st.accounts, accountID)
	}
	return st
}

// EventBus is the bus on which the store announces, after each commit, the accounts whose
// events it stored. Events stored by other processes on the same database are not
// announced: listeners poll for those.
func (db *DB) EventBus() *events.Bus { return db.eventBus }

// LatestEventSeq returns the seq of the account's newest event, 0 when it has none: where
// a follower of new events only starts (FollowEvents). On PostgreSQL it returns once the
// transactions running when it was called have ended, so that no event with a seq at or
// below it is committed after it returns: a follower from there misses nothing new.
func (db *DB) LatestEventSeq(ctx context.Context, accountID int64) (int64, error) {
	var seq sql.NullInt64
	err := db.queryRow(ctx, db.read, `SELECT MAX(seq) FROM events WHERE account_id = ?`, accountID).Scan(&seq)
	if err != nil {
		return 0, internal("LatestEventSeq", err)
	}
	if db.dialect != DialectPostgres || !seq.Valid {
		return seq.Int64, nil
	}
	xid, err := db.newTransactionID(ctx)
	if err != nil {
		return 0, internal("LatestEventSeq", err)
	}
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		var ended bool
		if err := db.queryRow(ctx, db.read, `SELECT `+endedBefore, xid).Scan(&ended); err != nil {
			return 0, internal("LatestEventSeq", err)
		}
		if ended {
			return seq.Int64, nil
		}
		select {
		case <-ctx.Done():
			return 0, internal("LatestEventSeq", ctx.Err())
		case <-time.After(wait):
		}
	}
}

// FollowEvents returns a follower of the account's events with Seq > afterSeq.
//
// SQLite has one writer at a time, so its events commit in seq order and the follower reads
// past the last seq it returned. On PostgreSQL a transaction that took seq N can commit after
// one that took N+1 (or roll back, leaving N unused for ever). There the follower, having seen
// the account's events up to seq M, starts a transaction of its own, whose id is above every
// transaction id handed out so far; once no transaction below that id is running (the
// snapshot's xmin has passed it), every transaction that took a seq up to M has ended —
// because a transaction takes its id before its first seq (migration 00028) — and the events
// up to M are final. Until then it returns none of them. The cost: an extra statement or two
// per batch of new events, and an event waits for the transactions that were running when
// it was seen (a long transaction delays the stream; it never reorders or loses an event).
func (db *DB) FollowEvents(accountID, afterSeq int64) switchboard.EventFollower {
	return &eventFollower{db: db, accountID: accountID, after: afterSeq}
}

// endedBefore is true when no transaction with an id below the parameter is running.
const endedBefore = `pg_snapshot_xmin(pg_current_snapshot()) >= ?::xid8`

// newTransactionID starts and ends a transaction with an id of its own and returns the id:
// above every transaction id handed out before the call. Its commit writes no WAL to flush.
func (db *DB) newTransactionID(ctx context.Context) (string, error) {
	var xid string
	err := db.queryRow(ctx, db.read, `SELECT pg_current_xact_id()::text`).Scan(&xid)
	return xid, err
}

type eventFollower struct {
	db        *DB
	accountID int64
	after     int64 // the seq of the last event returned (or the starting point)
	// PostgreSQL: the account's events up to seq pendingTo were seen before the transaction
	// pendingXID began; they are final once no transaction below it is running.
	pendingTo  int64
	pendingXID string
}

func (f *eventFollower) Next(ctx context.Context, limit int) ([]*switchboard.Event, error) {
	db := f.db
	if db.dialect != DialectPostgres {
		return f.advance(db.ListEvents(ctx, f.accountID, f.after, limit))
	}
	if f.pendingXID == "" {
		var newest sql.NullInt64
		err := db.queryRow(ctx, db.read, `SELECT MAX(seq) FROM events WHERE account_id = ? AND seq > ?`, f.accountID, f.after).Scan(&newest)
		if err != nil {
			return nil, internal("FollowEvents", err)
		}
		if !newest.Valid {
			return nil, nil
		}
		xid, err := db.newTransactionID(ctx)
		if err != nil {
			return nil, internal("FollowEvents", err)
		}
		f.pendingTo, f.pendingXID = newest.Int64, xid
	}
	// None while the transactions are running: the event at pendingTo is there once they ended.
	evs, err := f.advance(db.listEvents(ctx, `account_id = ? AND seq > ? AND seq <= ? AND `+endedBefore,
		limit, f.accountID, f.after, f.pendingTo, f.pendingXID))
	if f.after >= f.pendingTo {
		f.pendingXID = ""
	}
	return evs, err
}

// advance moves the follower past the events read.
func (f *eventFollower) advance(evs []*switchboard.Event, err error) ([]*switchboard.Event, error) {
	if err != nil {
		return nil, err
	}
	if len(evs) > 0 {
		f.after = evs[len(evs)-1].Seq
	}
	return evs, nil
}
