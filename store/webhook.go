package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"switchboard"
)

// This file implements switchboard.WebhookStore: subscriptions, the delivery outbox and the
// attempt logs. Times are unix milliseconds, 0 meaning "none".

const webhookColumns = `id, account_id, name, url, events, event_filter, format, method, retries, headers, active,
	disabled_reason, disabled_at, secret, previous_secret, previous_secret_until, consecutive_failures,
	created_at, updated_at, fallback_url`

func scanWebhook(row interface{ Scan(...any) error }) (*switchboard.Webhook, error) {
	var (
		w                                  switchboard.Webhook
		events, filter, headers            string
		disabledAt, prevUntil, created, up int64
	)
	if err := row.Scan(&w.ID, &w.AccountID, &w.Name, &w.URL, &events, &filter, &w.Format, &w.Method, &w.Retries,
		&headers, &w.Active, &w.DisabledReason, &disabledAt, &w.SealedSecret, &w.SealedPreviousSecret, &prevUntil,
		&w.ConsecutiveFailures, &created, &up, &w.FallbackURL); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(events), &w.Events); err != nil {
		return nil, fmt.Errorf("webhook %d events: %w", w.ID, err)
	}
	if err := json.Unmarshal([]byte(filter), &w.EventFilter); err != nil {
		return nil, fmt.Errorf("webhook %d event_filter: %w", w.ID, err)
	}
	if err := json.Unmarshal([]byte(headers), &w.Headers); err != nil {
		return nil, fmt.Errorf("webhook %d headers: %w", w.ID, err)
	}
	w.DisabledAt, w.PreviousSecretUntil = fromMS(disabledAt), fromMS(prevUntil)
	w.CreatedAt, w.UpdatedAt = fromMS(created), fromMS(up)
	return &w, nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only strings, slices and maps of strings are marshalled here
	}
	return string(b)
}

// webhookArgs are the user-changeable columns, in the order of the INSERT and UPDATE below.
func webhookArgs(w *switchboard.Webhook) []any {
	events, filter, headers := w.Events, w.EventFilter, w.Headers
	if events == nil {
		events = []string{}
	}
	if filter == nil {
		filter = []string{}
	}
	if headers == nil {
		headers = map[string]string{}
	}
	var prev any // NULL, not an empty blob, when there is no previous secret
	if len(w.SealedPreviousSecret) > 0 {
		prev = w.SealedPreviousSecret
	}
	return []any{w.Name, w.URL, mustJSON(events), mustJSON(filter), w.Format, w.Method, w.Retries, mustJSON(headers),
		w.Active, w.SealedSecret, prev, toMS(w.PreviousSecretUntil), w.FallbackURL}
}

// CreateWebhook stores a new subscription and sets its ID and times.
func (db *DB) CreateWebhook(ctx context.Context, w *switchboard.Webhook) error {
	if len(w.SealedSecret) == 0 {
		return internal("CreateWebhook", fmt.Errorf("webhook without a sealed secret"))
	}
	stamp := now()
	args := append([]any{w.AccountID}, webhookArgs(w)...)
	args = append(args, stamp.UnixMilli(), stamp.UnixMilli())
	var id int64
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, db.rebind(`INSERT INTO webhooks (account_id, name, url, events, event_filter,
			format, method, retries, headers, active, secret, previous_secret, previous_secret_until, fallback_url, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`), args...).Scan(&id)
	})
	if isForeignKeyViolation(err) {
		return notFound("account", w.AccountID)
	}
	if err != nil {
		return internal("CreateWebhook", err)
	}
	w.ID, w.CreatedAt, w.UpdatedAt = id, stamp, stamp
	w.DisabledReason, w.DisabledAt, w.ConsecutiveFailures = "", time.Time{}, 0
	return nil
}

// GetWebhook returns one subscription of the account.
func (db *DB) GetWebhook(ctx context.Context, accountID, id int64) (*switchboard.Webhook, error) {
	w, err := scanWebhook(db.read.QueryRowContext(ctx, db.rebind(`SELECT `+webhookColumns+` FROM webhooks
		WHERE account_id = ? AND id = ?`), accountID, id))
	if noRows(err) {
		return nil, notFound("webhook", id)
	}
	if err != nil {
		return nil, internal("GetWebhook", err)
	}
	return w, nil
}

// PageWebhooks returns one page of the account's subscriptions by id, and whether more
// follow.
func (db *DB) PageWebhooks(ctx context.Context, accountID int64, p switchboard.Page) ([]*switchboard.Webhook, bool, error) {
	return pageRows(ctx, db, "PageWebhooks", scanWebhook, p, "SELECT "+webhookColumns+" FROM webhooks WHERE account_id = ?", accountID)
}

// ListWebhooks returns the account's subscriptions, oldest first.
func (db *DB) ListWebhooks(ctx context.Context, accountID int64) ([]*switchboard.Webhook, error) {
	rows, err := db.read.QueryContext(ctx, db.rebind(`SELECT `+webhookColumns+` FROM webhooks
		WHERE account_id = ? ORDER BY id`), accountID)
	if err != nil {
		return nil, internal("ListWebhooks", err)
	}
	defer rows.Close()
	list := []*switchboard.Webhook{}
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, internal("ListWebhooks", err)
		}
		list = append(list, w)
	}
	return list, internal("ListWebhooks", rows.Err())
}

// UpdateWebhook writes the user-changeable fields. Turning the subscription active clears
// what the server recorded when it disabled it.
func (db *DB) UpdateWebhook(ctx context.Context, w *switchboard.Webhook) error {
	stamp := now()
	args := append(webhookArgs(w), stamp.UnixMilli(), w.Active, w.Active, w.Active, w.AccountID, w.ID)
	var n int64
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.rebind(`UPDATE webhooks SET name = ?, url = ?, events = ?, event_filter = ?,
			format = ?, method = ?, retries = ?, headers = ?, active = ?, secret = ?, previous_secret = ?,
			previous_secret_until = ?, fallback_url = ?, updated_at = ?,
			disabled_reason = CASE WHEN ? THEN '' ELSE disabled_reason END,
			disabled_at = CASE WHEN ? THEN 0 ELSE disabled_at END,
			consecutive_failures = CASE WHEN ? THEN 0 ELSE consecutive_failures END
			WHERE account_id = ? AND id = ?`), args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return internal("UpdateWebhook", err)
	}
	if n == 0 {
		return notFound("webhook", w.ID)
	}
	w.UpdatedAt = stamp
	if w.Active {
		w.DisabledReason, w.DisabledAt, w.ConsecutiveFailures = "", time.Time{}, 0
	}
	return nil
}

// DeleteWebhook removes a subscription; its deliveries and their logs go with it (cascade).
func (db *DB) DeleteWebhook(ctx context.Context, accountID, id int64) error {
	var n int64
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.rebind(`DELETE FROM webhooks WHERE account_id = ? AND id = ?`), accountID, id)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return internal("DeleteWebhook", err)
	}
	if n == 0 {
		return notFound("webhook", id)
	}
	return nil
}

const deliveryColumns = `d.id, d.account_id, d.webhook_id, d.event_seq, d.event_id, d.event_name, d.wire_name,
	d.message_id, d.call_id, d.status, d.attempts, d.round_attempts, d.next_attempt_at, d.last_status, d.last_error,
	d.created_at, d.updated_at, d.completed_at`

func scanDelivery(row interface{ Scan(...any) error }) (*switchboard.Delivery, error) {
	var d switchboard.Delivery
	var next, created, updated, completed int64
	err := row.Scan(&d.ID, &d.AccountID, &d.WebhookID, &d.EventSeq, &d.EventID, &d.EventName, &d.WireName,
		&d.MessageID, &d.CallID, &d.Status, &d.Attempts, &d.RoundAttempts, &next, &d.LastStatus, &d.LastError,
		&created, &updated, &completed)
	if err != nil {
		return nil, err
	}
	d.NextAttemptAt, d.CreatedAt, d.UpdatedAt, d.CompletedAt = fromMS(next), fromMS(created), fromMS(updated), fromMS(completed)
	return &d, nil
}

// ListDeliveries lists deliveries newest first, a page at a time.
func (db *DB) ListDeliveries(ctx context.Context, f switchboard.DeliveryFilter) ([]*switchboard.Delivery, int64, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	where := []string{"d.account_id = ?"}
	args := []any{f.AccountID}
	if f.WebhookID != 0 {
		where, args = append(where, "d.webhook_id = ?"), append(args, f.WebhookID)
	}
	if f.EventName != "" {
		where, args = append(where, "(d.event_name = ? OR d.wire_name = ?)"), append(args, f.EventName, f.EventName)
	}
	if f.Status != "" {
		where, args = append(where, "d.status = ?"), append(args, string(f.Status))
	}
	if !f.Since.IsZero() {
		where, args = append(where, "d.created_at >= ?"), append(args, f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		where, args = append(where, "d.created_at < ?"), append(args, f.Until.UnixMilli())
	}
	if f.Cursor > 0 {
		where, args = append(where, "d.id < ?"), append(args, f.Cursor)
	}
	args = append(args, limit+1)
	rows, err := db.read.QueryContext(ctx, db.rebind(`SELECT `+deliveryColumns+` FROM webhook_deliveries d
		WHERE `+strings.Join(where, " AND ")+` ORDER BY d.id DESC LIMIT ?`), args...)
	if err != nil {
		return nil, 0, internal("ListDeliveries", err)
	}
	defer rows.Close()
	list := []*switchboard.Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, 0, internal("ListDeliveries", err)
		}
		list = append(list, d)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, internal("ListDeliveries", err)
	}
	var next int64
	if len(list) > limit {
		list = list[:limit]
		next = list[limit-1].ID
	}
	return list, next, nil
}

// GetDelivery returns a delivery of the account and its attempts, first attempt first.
func (db *DB) GetDelivery(ctx context.Context, accountID, id int64) (*switchboard.Delivery, []*switchboard.DeliveryAttempt, error) {
	d, err := scanDelivery(db.read.QueryRowContext(ctx, db.rebind(`SELECT `+deliveryColumns+`
		FROM webhook_deliveries d WHERE d.account_id = ? AND d.id = ?`), accountID, id))
	if noRows(err) {
		return nil, nil, notFound("delivery", id)
	}
	if err != nil {
		return nil, nil, internal("GetDelivery", err)
	}
	rows, err := db.read.QueryContext(ctx, db.rebind(`SELECT id, delivery_id, number, at, request_method, request_url,
		request_headers, request_body, response_status, response_body, latency_us, error
		FROM webhook_attempts WHERE delivery_id = ? ORDER BY number, id`), id)
	if err != nil {
		return nil, nil, internal("GetDelivery", err)
	}
	defer rows.Close()
	attempts := []*switchboard.DeliveryAttempt{}
	for rows.Next() {
		var a switchboard.DeliveryAttempt
		var at, latency int64
		var headers string
		if err := rows.Scan(&a.ID, &a.DeliveryID, &a.Number, &at, &a.RequestMethod, &a.RequestURL, &headers,
			&a.RequestBody, &a.ResponseStatus, &a.ResponseBody, &latency, &a.Error); err != nil {
			return nil, nil, internal("GetDelivery", err)
		}
		if err := json.Unmarshal([]byte(headers), &a.RequestHeaders); err != nil {
			return nil, nil, internal("GetDelivery", err)
		}
		a.At, a.Latency = fromMS(at), time.Duration(latency)*time.Microsecond
		attempts = append(attempts, &a)
	}
	return d, attempts, internal("GetDelivery", rows.Err())
}

// ResendDeliveries makes the account's deliveries pending again with a fresh retry budget.
func (db *DB) ResendDeliveries(ctx context.Context, accountID int64, ids []int64, now time.Time) (int, error) {
	var found int
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		found = 0
		for _, id := range ids {
			res, err := tx.ExecContext(ctx, db.rebind(`UPDATE webhook_deliveries SET status = 'pending', round_attempts = 0,
				next_attempt_at = ?, completed_at = 0, updated_at = ? WHERE account_id = ? AND id = ?`),
				now.UnixMilli(), now.UnixMilli(), accountID, id)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			found += int(n)
		}
		return nil
	})
	return found, internal("ResendDeliveries", err)
}

// outboxStatements are the statements of the delivery hot path, prepared once per DB:
// parsing SQL costs modernc's SQLite more than running these small statements, and the
// single SQLite writer is what bounds delivery throughput. Their text is fixed, so lists
// of ids travel as one parameter (idsIn).
type outboxStatements struct {
	busy, due, pick, lease                                               *sql.Stmt
	readEvents, readHooks, anyDue                                        *sql.Stmt // on the read pool
	succeed, fail, disable, countFailure, autoDisable, attempt, resetRun *sql.Stmt
	fanOutHooks, fanOutInsert                                            *sql.Stmt
}

// idsIn is a condition "column is one of the ids in the parameter"; pass idList(ids).
func (db *DB) idsIn(column string) string {
	if db.dialect == DialectPostgres {
		return column + " = ANY(CAST(CAST(? AS TEXT) AS BIGINT[]))"
	}
	return column + " IN (SELECT value FROM json_each(?))"
}

// idList is the parameter of idsIn: a JSON array for SQLite, an array literal for PostgreSQL.
func (db *DB) idList(ids []int64) string {
	var b strings.Builder
	open, close := "[", "]"
	if db.dialect == DialectPostgres {
		open, close = "{", "}"
	}
	b.WriteString(open)
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	b.WriteString(close)
	return b.String()
}

// outbox returns the prepared statements, preparing them on first use. It must not be
// called inside a transaction: on SQLite that transaction holds the only write connection.
func (db *DB) outbox(ctx context.Context) (*outboxStatements, error) {
	if st := db.outboxStmts.Load(); st != nil {
		return st, nil
	}
	indexed, lock := "", ""
	if db.dialect == DialectSQLite {
		// Only leased rows are read: without the hint SQLite walks every pending row in
		// webhook order to group them, which costs as much as the backlog is long.
		indexed = " INDEXED BY webhook_deliveries_leased"
	} else {
		lock = " FOR UPDATE OF d SKIP LOCKED"
	}
	queries := map[**sql.Stmt]string{}
	st := &outboxStatements{}
	queries[&st.busy] = `SELECT webhook_id, COUNT(*) FROM webhook_deliveries` + indexed + `
		WHERE status = 'pending' AND lease_until > ? GROUP BY webhook_id`
	dueHooks := `SELECT w.id FROM webhooks w WHERE w.active = ? AND EXISTS (
		SELECT 1 FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.status = 'pending'
		AND d.next_attempt_at <= ? AND d.lease_until <= ?)`
	queries[&st.due] = dueHooks
	// A delivery waits while an earlier delivery of the same call to the same subscription
	// is pending (in flight or waiting to retry): a call's events arrive in order.
	queries[&st.pick] = `SELECT ` + deliveryColumns + ` FROM webhook_deliveries d
		WHERE d.webhook_id = ? AND d.status = 'pending' AND d.next_attempt_at <= ? AND d.lease_until <= ?
		AND NOT (d.call_id <> '' AND EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.webhook_id = d.webhook_id
			AND p.call_id = d.call_id AND p.status = 'pending' AND p.id < d.id))
		ORDER BY d.next_attempt_at, d.id LIMIT ?` + lock
	queries[&st.lease] = `UPDATE webhook_deliveries SET lease_until = ? WHERE ` + db.idsIn("id")
	queries[&st.succeed] = `UPDATE webhook_deliveries SET status = 'succeeded', attempts = attempts + 1,
		round_attempts = round_attempts + 1, lease_until = 0, last_status = ?, last_error = '', next_attempt_at = ?,
		updated_at = ?, completed_at = ? WHERE status = 'pending' AND ` + db.idsIn("id") + ` RETURNING id`
	queries[&st.fail] = `UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1,
		round_attempts = round_attempts + 1, next_attempt_at = ?, lease_until = 0, last_status = ?, last_error = ?,
		updated_at = ?, completed_at = ? WHERE id = ? AND status = 'pending'`
	queries[&st.disable] = `UPDATE webhooks SET active = ?, disabled_reason = ?, disabled_at = ?,
		consecutive_failures = consecutive_failures + 1, updated_at = ? WHERE id = ?`
	queries[&st.countFailure] = `UPDATE webhooks SET consecutive_failures = consecutive_failures + 1 WHERE id = ?`
	queries[&st.autoDisable] = `UPDATE webhooks SET active = ?, disabled_reason = ?, disabled_at = ?, updated_at = ?
		WHERE id = ? AND active = ? AND consecutive_failures >= ?`
	queries[&st.attempt] = `INSERT INTO webhook_attempts (delivery_id, number, at, request_method, request_url,
		request_headers, request_body, response_status, response_body, latency_us, error)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	queries[&st.resetRun] = `UPDATE webhooks SET consecutive_failures = 0 WHERE consecutive_failures <> 0 AND ` + db.idsIn("id")
	queries[&st.fanOutHooks] = sqlActiveHooks
	queries[&st.fanOutInsert] = sqlInsertDelivery
	reads := map[**sql.Stmt]string{
		&st.readEvents: `SELECT seq, id, account_id, name, occurred_at, call_id, crm_id, data FROM events WHERE ` + db.idsIn("seq"),
		&st.readHooks:  `SELECT ` + webhookColumns + ` FROM webhooks WHERE ` + db.idsIn("id"),
		&st.anyDue:     dueHooks + ` LIMIT 1`,
	}
	// On PostgreSQL read and write are the same pool.
	for _, p := range []struct {
		pool *sql.DB
		set  map[**sql.Stmt]string
	}{{db.write, queries}, {db.read, reads}} {
		for dst, q := range p.set {
			stmt, err := p.pool.PrepareContext(ctx, db.rebind(q))
			if err != nil {
				return nil, fmt.Errorf("prepare outbox statement: %w", err)
			}
			*dst = stmt
		}
	}
	if !db.outboxStmts.CompareAndSwap(nil, st) { // another goroutine prepared them first
		st.close()
	}
	return db.outboxStmts.Load(), nil
}

func (st *outboxStatements) close() {
	for _, s := range []*sql.Stmt{st.busy, st.due, st.pick, st.lease, st.readEvents, st.readHooks, st.succeed,
		st.fail, st.disable, st.countFailure, st.autoDisable, st.attempt, st.resetRun, st.fanOutHooks, st.fanOutInsert} {
		if s != nil {
			s.Close()
		}
	}
}

// preparedOutboxIfReady returns the prepared statements when a dispatcher has prepared them,
// else nil: the fan-out runs inside other transactions, where preparing could deadlock.
func (db *DB) preparedOutboxIfReady() *outboxStatements {
	return db.outboxStmts.Load()
}

// ClaimDeliveries leases due deliveries to the caller. Fairness between subscriptions comes
// from taking a few from each subscription that has due work (in random order) rather than
// the oldest overall, so a backlog at one receiver never hides another's deliveries.
//
// On PostgreSQL the rows are locked FOR UPDATE SKIP LOCKED, so several nodes claim side by
// side without taking the same delivery; on SQLite the write transaction is the lock. The
// per-subscription bound counts leases of all nodes, but two nodes claiming at the same
// instant may each fill it: it is a bound on the order of PerEndpoint, not exact.
func (db *DB) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit, perEndpoint int) ([]*switchboard.ClaimedDelivery, error) {
	st, err := db.outbox(ctx)
	if err != nil {
		return nil, internal("ClaimDeliveries", err)
	}
	nowMS := now.UnixMilli()
	// Most claims of an idle dispatcher find nothing due: looking first on the read pool
	// leaves the single SQLite writer to the writes that queue behind it (and on PostgreSQL
	// saves the transaction).
	var found int64
	if err := st.anyDue.QueryRowContext(ctx, true, nowMS, nowMS).Scan(&found); noRows(err) {
		return nil, nil
	} else if err != nil {
		return nil, internal("ClaimDeliveries", err)
	}
	var deliveries []*switchboard.Delivery
	err = db.writeTx(ctx, func(tx *sql.Tx) error {
		deliveries = nil
		busy := map[int64]int{}
		rows, err := tx.StmtContext(ctx, st.busy).QueryContext(ctx, nowMS)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			var n int
			if err := rows.Scan(&id, &n); err != nil {
				rows.Close()
				return err
			}
			busy[id] = n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}

		var due []int64
		rows, err = tx.StmtContext(ctx, st.due).QueryContext(ctx, true, nowMS, nowMS)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			if busy[id] < perEndpoint {
				due = append(due, id)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rand.Shuffle(len(due), func(i, j int) { due[i], due[j] = due[j], due[i] })

		pick := tx.StmtContext(ctx, st.pick)
		for _, wid := range due {
			room := min(perEndpoint-busy[wid], limit-len(deliveries))
			if room <= 0 {
				if len(deliveries) >= limit {
					break
				}
				continue
			}
			rows, err := pick.QueryContext(ctx, wid, nowMS, nowMS, room)
			if err != nil {
				return err
			}
			for rows.Next() {
				d, err := scanDelivery(rows)
				if err != nil {
					rows.Close()
					return err
				}
				deliveries = append(deliveries, d)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		if len(deliveries) == 0 {
			return nil
		}

		ids := make([]int64, len(deliveries))
		for i, d := range deliveries {
			ids[i] = d.ID
		}
		_, err = tx.StmtContext(ctx, st.lease).ExecContext(ctx, now.Add(lease).UnixMilli(), db.idList(ids))
		return err
	})
	if err != nil || len(deliveries) == 0 {
		return nil, internal("ClaimDeliveries", err)
	}
	// The events and subscriptions are read after the claim commits, from the read pool: on
	// SQLite this keeps the single writer free for the next transaction meanwhile.
	claimed, err := db.claimedWith(ctx, st, deliveries)
	if err != nil {
		return nil, internal("ClaimDeliveries", err)
	}
	return claimed, nil
}

// claimedWith loads the event and the subscription of each claimed delivery.
func (db *DB) claimedWith(ctx context.Context, st *outboxStatements, deliveries []*switchboard.Delivery) ([]*switchboard.ClaimedDelivery, error) {
	seqs := make([]int64, len(deliveries))
	var hooks []int64
	seenHook := map[int64]bool{}
	for i, d := range deliveries {
		seqs[i] = d.EventSeq
		if !seenHook[d.WebhookID] {
			seenHook[d.WebhookID] = true
			hooks = append(hooks, d.WebhookID)
		}
	}
	events := make(map[int64]*switchboard.Event, len(seqs))
	rows, err := st.readEvents.QueryContext(ctx, db.idList(seqs))
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		events[ev.Seq] = ev
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	webhooks := map[int64]*switchboard.Webhook{}
	rows, err = st.readHooks.QueryContext(ctx, db.idList(hooks))
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		webhooks[w.ID] = w
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	claimed := make([]*switchboard.ClaimedDelivery, 0, len(deliveries))
	var orphans []int64
	for _, d := range deliveries {
		ev, w := events[d.EventSeq], webhooks[d.WebhookID]
		if ev == nil || w == nil {
			orphans = append(orphans, d.ID)
			continue
		}
		claimed = append(claimed, &switchboard.ClaimedDelivery{Delivery: d, Webhook: w, Event: ev})
	}
	if len(orphans) > 0 {
		// The event was deleted (or the subscription, between the claim and this read): there
		// is nothing left to send. Ending such deliveries keeps them from being claimed again
		// and again.
		stamp := now().UnixMilli()
		err := db.writeTx(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, db.rebind(`UPDATE webhook_deliveries SET status = 'failed', lease_until = 0,
				last_error = 'its event is no longer stored', updated_at = ?, completed_at = ?
				WHERE status = 'pending' AND `+db.idsIn("id")), stamp, stamp, db.idList(orphans))
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return claimed, nil
}

// RecordAttempts stores the outcomes of attempts in one transaction. An outcome whose
// delivery is no longer pending (its subscription was deleted, or it was finished by
// another node after a lease expired) is dropped.
//
// Successes, the common case, are written a batch at a time (one UPDATE per status code),
// because the single SQLite writer pays per statement. Failures are counted before
// successes reset the counter, so a success in the same batch as a failure breaks the run.
func (db *DB) RecordAttempts(ctx context.Context, outcomes []switchboard.AttemptOutcome, disableAfter int, now time.Time) error {
	st, err := db.outbox(ctx)
	if err != nil {
		return internal("RecordAttempts", err)
	}
	nowMS := now.UnixMilli()
	err = db.writeTx(ctx, func(tx *sql.Tx) error {
		var logged []*switchboard.AttemptOutcome
		succeeded := map[int][]*switchboard.AttemptOutcome{} // by HTTP status
		for i := range outcomes {
			o := &outcomes[i]
			if o.Status == switchboard.DeliverySucceeded && o.DisableReason == "" {
				succeeded[o.Attempt.ResponseStatus] = append(succeeded[o.Attempt.ResponseStatus], o)
				continue
			}
			ok, err := recordUnsuccessful(ctx, tx, st, o, disableAfter, nowMS)
			if err != nil {
				return err
			}
			if ok {
				logged = append(logged, o)
			}
		}
		var resetHooks []int64
		seenHook := map[int64]bool{}
		for status, group := range succeeded {
			byID := make(map[int64]*switchboard.AttemptOutcome, len(group))
			ids := make([]int64, 0, len(group))
			for _, o := range group {
				byID[o.DeliveryID] = o
				ids = append(ids, o.DeliveryID)
			}
			rows, err := tx.StmtContext(ctx, st.succeed).QueryContext(ctx, status, nowMS, nowMS, nowMS, db.idList(ids))
			if err != nil {
				return err
			}
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return err
				}
				o := byID[id]
				logged = append(logged, o)
				if !seenHook[o.WebhookID] {
					seenHook[o.WebhookID] = true
					resetHooks = append(resetHooks, o.WebhookID)
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		insert := tx.StmtContext(ctx, st.attempt)
		for _, o := range logged {
			a := o.Attempt
			headers := a.RequestHeaders
			if headers == nil {
				headers = map[string][]string{}
			}
			if _, err := insert.ExecContext(ctx, o.DeliveryID, a.Number, toMS(a.At), a.RequestMethod, a.RequestURL,
				mustJSON(headers), a.RequestBody, a.ResponseStatus, a.ResponseBody, a.Latency.Microseconds(), a.Error); err != nil {
				return err
			}
		}
		if len(resetHooks) > 0 {
			if _, err := tx.StmtContext(ctx, st.resetRun).ExecContext(ctx, db.idList(resetHooks)); err != nil {
				return err
			}
		}
		return nil
	})
	return internal("RecordAttempts", err)
}

// recordUnsuccessful writes a failed attempt (a retry to come, or the end) and counts it
// against the subscription. It reports whether the delivery was still pending.
func recordUnsuccessful(ctx context.Context, tx *sql.Tx, st *outboxStatements, o *switchboard.AttemptOutcome, disableAfter int, nowMS int64) (bool, error) {
	// A finished delivery's next_attempt_at is no longer read; it keeps the time it ended.
	completed, next := int64(0), toMS(o.NextAttemptAt)
	if o.Status != switchboard.DeliveryPending {
		completed, next = nowMS, nowMS
	}
	res, err := tx.StmtContext(ctx, st.fail).ExecContext(ctx, string(o.Status), next, o.Attempt.ResponseStatus,
		o.Attempt.Error, nowMS, completed, o.DeliveryID)
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	switch {
	case o.DisableReason != "":
		_, err = tx.StmtContext(ctx, st.disable).ExecContext(ctx, false, o.DisableReason, nowMS, nowMS, o.WebhookID)
	case o.Status == switchboard.DeliveryFailed:
		_, err = tx.StmtContext(ctx, st.countFailure).ExecContext(ctx, o.WebhookID)
		if err == nil && disableAfter > 0 {
			reason := fmt.Sprintf("%d deliveries in a row failed", disableAfter)
			_, err = tx.StmtContext(ctx, st.autoDisable).ExecContext(ctx, false, reason, nowMS, nowMS, o.WebhookID, true, disableAfter)
		}
	}
	return true, err
}

// ReleaseDeliveryLeases makes every claimed delivery claimable at once.
func (db *DB) ReleaseDeliveryLeases(ctx context.Context) error {
	return internal("ReleaseDeliveryLeases", db.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET lease_until = 0 WHERE status = 'pending' AND lease_until > 0`)
		return err
	}))
}

// PendingDeliveryStats counts the pending deliveries of active subscriptions.
func (db *DB) PendingDeliveryStats(ctx context.Context) (int64, time.Time, error) {
	var n int64
	var oldest sql.NullInt64
	err := db.read.QueryRowContext(ctx, db.rebind(`SELECT COUNT(*), MIN(d.created_at) FROM webhook_deliveries d
		JOIN webhooks w ON w.id = d.webhook_id WHERE d.status = 'pending' AND w.active = ?`), true).Scan(&n, &oldest)
	if err != nil {
		return 0, time.Time{}, internal("PendingDeliveryStats", err)
	}
	return n, fromMS(oldest.Int64), nil
}

// PruneDeliveries deletes deliveries that finished before cutoff, and pending ones of
// inactive subscriptions created before cutoff (nobody will send them); their attempt logs
// go with them.
func (db *DB) PruneDeliveries(ctx context.Context, cutoff time.Time) (int64, error) {
	var n int64
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.rebind(`DELETE FROM webhook_deliveries WHERE
			(status <> 'pending' AND completed_at < ?)
			OR (status = 'pending' AND created_at < ? AND webhook_id IN (SELECT id FROM webhooks WHERE active = ?))`),
			cutoff.UnixMilli(), cutoff.UnixMilli(), false)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, internal("PruneDeliveries", err)
}

// Compile-time check that DB implements the webhook store.
var _ switchboard.WebhookStore = (*DB)(nil)
