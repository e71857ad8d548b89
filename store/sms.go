package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"switchboard"
)

// SMS messages, their history, settings and opt-outs (migration 00022). The messages table
// is also the outbound outbox: the worker claims due rows with ClaimMessages.

const messageColumns = `id, account_id, direction, from_number, to_number, body, encoding, segments, status,
	carrier, carrier_ref, number_id, user_id, sent_by_user_id, attempts, next_attempt_at, error, phone_pending,
	phone_user_id, created_at, updated_at`

// The statements of the outbox's transactions (warmWrites prepares them on SQLite).
const (
	sqlInsertMessage = `INSERT INTO messages (` + messageColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqlInsertMessageHistory = `INSERT INTO message_status_history (message_id, status, carrier_status, error, at)
		VALUES (?, ?, ?, ?, ?)`
	sqlSelectMessage = `SELECT ` + messageColumns + ` FROM messages WHERE id = ?`
	sqlOptedOut      = `SELECT COUNT(*) FROM sms_optouts WHERE account_id = ? AND number_id = ? AND party = ?`
	sqlSaveMessage   = `UPDATE messages SET status = ?, carrier = ?, carrier_ref = ?, attempts = ?,
		next_attempt_at = ?, error = ?, updated_at = ?, user_id = ?, phone_pending = ?, phone_user_id = ?, encoding = ?,
		segments = ? WHERE id = ?`
	// sqlSaveProgress saves only what sending and delivery reports change, so that the index
	// on the phone columns (messages_phone_pending) is not rewritten.
	sqlSaveProgress = `UPDATE messages SET status = ?, carrier = ?, carrier_ref = ?, attempts = ?,
		next_attempt_at = ?, error = ?, updated_at = ? WHERE id = ?`
	// The If forms save only the version of the message the caller had (UpdateMessageFrom).
	sqlSaveIf         = ` AND status = ? AND attempts = ? AND updated_at = ?`
	sqlSaveMessageIf  = sqlSaveMessage + sqlSaveIf
	sqlSaveProgressIf = sqlSaveProgress + sqlSaveIf
	// One status at a time, so that the index (status, next_attempt_at, id) gives the order and
	// the scan stops at the limit; with both statuses in one query the whole backlog is sorted.
	// The IN is the partial index's condition, written as the index has it (migration 00030).
	sqlDueMessages = `SELECT ` + messageColumns + ` FROM messages WHERE status IN ('queued', 'sending')
		AND status = ? AND next_attempt_at <= ? AND direction = 'outbound' ORDER BY next_attempt_at, id LIMIT ?`
)

// writeMessages is the message writes' transaction: shared with other message writes
// (groupcommit.go), its statements prepared once.
func (db *DB) writeMessages(ctx context.Context, apply func(ctx context.Context, tx *sql.Tx) error) error {
	db.warmWrites(ctx, sqlOptedOut, sqlInsertMessage, sqlInsertMessageHistory, sqlSelectMessage, sqlSaveMessage, sqlSaveMessageIf,
		sqlSaveProgress, sqlSaveProgressIf, sqlInsertEvent)
	return db.groupWrite(ctx, &db.messageWrites, apply)
}

func scanMessage(row interface{ Scan(...any) error }) (*switchboard.Message, error) {
	var m switchboard.Message
	var next, created, updated int64
	err := row.Scan(&m.ID, &m.AccountID, &m.Direction, &m.From, &m.To, &m.Body, &m.Encoding, &m.Segments, &m.Status,
		&m.Carrier, &m.CarrierRef, &m.NumberID, &m.UserID, &m.SentByUserID, &m.Attempts, &next, &m.Error,
		&m.PhonePending, &m.PhoneUserID, &created, &updated)
	if err != nil {
		return nil, err
	}
	m.NextAttemptAt, m.CreatedAt, m.UpdatedAt = fromMS(next), fromMS(created), fromMS(updated)
	return &m, nil
}

func messageNotFound(id string) error {
	return switchboard.Errorf(switchboard.ENOTFOUND, "Message %s not found", id)
}

func (db *DB) insertMessageHistory(ctx context.Context, tx *sql.Tx, id string, c switchboard.MessageStatusChange) error {
	if c.At.IsZero() {
		c.At = now()
	}
	_, err := db.exec(ctx, tx, sqlInsertMessageHistory, id, c.Status, c.CarrierStatus, c.Error, toMS(c.At))
	return err
}

// CreateMessage stores m with its first history row and events in one transaction (shared
// with other messages' writes: groupcommit.go). The opt-out is looked up in that transaction:
// a STOP stored before it commits is always seen, and the lookup costs no read transaction of
// its own.
func (db *DB) CreateMessage(ctx context.Context, m *switchboard.Message, first switchboard.MessageStatusChange, events []*switchboard.Event) error {
	if m.ID == "" || m.AccountID <= 0 {
		return badRequest("message", "needs an id and an account")
	}
	t := now()
	if m.CreatedAt.IsZero() {
		m.CreatedAt = t
	}
	m.CreatedAt = m.CreatedAt.UTC().Truncate(time.Millisecond)
	m.UpdatedAt = m.CreatedAt
	m.NextAttemptAt = m.NextAttemptAt.UTC().Truncate(time.Millisecond)
	if first.At.IsZero() {
		first.At = m.CreatedAt
	}
	err := db.writeMessages(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if m.Direction == switchboard.SMSOutbound && m.NumberID != 0 {
			var n int
			if err := db.queryRow(ctx, tx, sqlOptedOut, m.AccountID, m.NumberID, m.To).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return switchboard.ErrOptedOut
			}
		}
		_, err := db.exec(ctx, tx, sqlInsertMessage, m.ID, m.AccountID, m.Direction, m.From, m.To, m.Body, m.Encoding, m.Segments, m.Status, m.Carrier,
			m.CarrierRef, m.NumberID, m.UserID, m.SentByUserID, m.Attempts, toMS(m.NextAttemptAt), m.Error,
			m.PhonePending, m.PhoneUserID, toMS(m.CreatedAt), toMS(m.UpdatedAt))
		if isUniqueViolation(err) {
			return switchboard.Errorf(switchboard.ECONFLICT, "Message %s exists already", m.ID)
		}
		if isForeignKeyViolation(err) {
			return notFound("account", m.AccountID)
		}
		if err != nil {
			return err
		}
		if err := db.insertMessageHistory(ctx, tx, m.ID, first); err != nil {
			return err
		}
		return db.insertEvents(ctx, tx, events)
	})
	return internal("CreateMessage", err)
}

func (db *DB) GetMessage(ctx context.Context, accountID int64, id string) (*switchboard.Message, error) {
	m, err := scanMessage(db.queryRow(ctx, db.read, `SELECT `+messageColumns+` FROM messages WHERE account_id = ? AND id = ?`, accountID, id))
	if noRows(err) {
		return nil, messageNotFound(id)
	}
	return m, internal("GetMessage", err)
}

func (db *DB) GetMessageByID(ctx context.Context, id string) (*switchboard.Message, error) {
	m, err := scanMessage(db.queryRow(ctx, db.read, `SELECT `+messageColumns+` FROM messages WHERE id = ?`, id))
	if noRows(err) {
		return nil, messageNotFound(id)
	}
	return m, internal("GetMessageByID", err)
}

func (db *DB) GetInboundByCarrierRef(ctx context.Context, accountID, numberID int64, carrier, ref string) (*switchboard.Message, error) {
	m, err := scanMessage(db.queryRow(ctx, db.read, `SELECT `+messageColumns+` FROM messages
		WHERE account_id = ? AND number_id = ? AND direction = 'inbound' AND carrier = ? AND carrier_ref = ?
		ORDER BY created_at DESC LIMIT 1`, accountID, numberID, carrier, ref))
	if noRows(err) {
		return nil, messageNotFound(ref)
	}
	return m, internal("GetInboundByCarrierRef", err)
}

func (db *DB) MessageHistory(ctx context.Context, accountID int64, id string) ([]switchboard.MessageStatusChange, error) {
	if _, err := db.GetMessage(ctx, accountID, id); err != nil {
		return nil, err
	}
	return listRows(ctx, db, "MessageHistory", func(r interface{ Scan(...any) error }) (switchboard.MessageStatusChange, error) {
		var c switchboard.MessageStatusChange
		var at int64
		err := r.Scan(&c.Status, &c.CarrierStatus, &c.Error, &at)
		c.At = fromMS(at)
		return c, err
	}, `SELECT status, carrier_status, error, at FROM message_status_history WHERE message_id = ? ORDER BY id`, id)
}

// messageWhere builds the filter's conditions (after account_id = ?).
func messageWhere(accountID int64, f switchboard.MessageFilter) (string, []any) {
	where := []string{"account_id = ?"}
	args := []any{accountID}
	if f.NumberIDs != nil {
		if len(f.NumberIDs) == 0 {
			where = append(where, "1 = 0")
		} else {
			ph := make([]string, len(f.NumberIDs))
			for i, id := range f.NumberIDs {
				ph[i] = "?"
				args = append(args, id)
			}
			where = append(where, "number_id IN ("+strings.Join(ph, ", ")+")")
		}
	}
	if f.NumberID != 0 {
		where, args = append(where, "number_id = ?"), append(args, f.NumberID)
	}
	if f.Party != "" {
		where = append(where, "((direction = 'outbound' AND to_number = ?) OR (direction = 'inbound' AND from_number = ?))")
		args = append(args, f.Party, f.Party)
	}
	if f.Direction != "" {
		where, args = append(where, "direction = ?"), append(args, f.Direction)
	}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, f.Status)
	}
	if !f.From.IsZero() {
		where, args = append(where, "created_at >= ?"), append(args, toMS(f.From))
	}
	if !f.To.IsZero() {
		where, args = append(where, "created_at < ?"), append(args, toMS(f.To))
	}
	return strings.Join(where, " AND "), args
}

// PageMessages returns the newest messages first; f.Before is the last id of the page before.
func (db *DB) PageMessages(ctx context.Context, accountID int64, f switchboard.MessageFilter) ([]*switchboard.Message, bool, error) {
	where, args := messageWhere(accountID, f)
	if f.Before != "" {
		c, err := db.GetMessage(ctx, accountID, f.Before)
		if err != nil {
			return nil, false, badRequest("cursor", "is not a message of this account")
		}
		where += " AND (created_at < ? OR (created_at = ? AND id < ?))"
		args = append(args, toMS(c.CreatedAt), toMS(c.CreatedAt), c.ID)
	}
	limit := f.Limit
	if limit <= 0 || limit > switchboard.MaxPageLimit {
		limit = 100
	}
	args = append(args, limit+1)
	list, err := listRows(ctx, db, "PageMessages", scanMessage,
		`SELECT `+messageColumns+` FROM messages WHERE `+where+` ORDER BY created_at DESC, id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, false, err
	}
	more := len(list) > limit
	if more {
		list = list[:limit]
	}
	return list, more, nil
}

// Conversations groups the filtered messages by (number, other party), the most recent
// conversation first, at most f.Limit (100) of them.
func (db *DB) Conversations(ctx context.Context, accountID int64, f switchboard.MessageFilter) ([]*switchboard.Conversation, error) {
	where, args := messageWhere(accountID, f)
	limit := f.Limit
	if limit <= 0 || limit > switchboard.MaxPageLimit {
		limit = 100
	}
	args = append(args, limit)
	type group struct {
		numberID   int64
		party      string
		count      int
		lastCreate int64
	}
	groups, err := listRows(ctx, db, "Conversations", func(r interface{ Scan(...any) error }) (group, error) {
		var g group
		return g, r.Scan(&g.numberID, &g.party, &g.count, &g.lastCreate)
	}, `SELECT number_id, party, COUNT(*), MAX(created_at) FROM (
		SELECT number_id, CASE WHEN direction = 'outbound' THEN to_number ELSE from_number END AS party, created_at
		FROM messages WHERE `+where+`) g GROUP BY number_id, party ORDER BY MAX(created_at) DESC LIMIT ?`, args...)
	if err != nil {
		return nil, err
	}
	out := make([]*switchboard.Conversation, 0, len(groups))
	for _, g := range groups {
		last, _, err := db.PageMessages(ctx, accountID, switchboard.MessageFilter{NumberID: g.numberID, Party: g.party, Limit: 1})
		if err != nil {
			return nil, err
		}
		c := &switchboard.Conversation{NumberID: g.numberID, Party: g.party, Count: g.count}
		if len(last) == 1 {
			c.Last = last[0]
			c.Number = last[0].From
			if last[0].Direction == switchboard.SMSInbound {
				c.Number = last[0].To
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// saveMessage saves m, changed from before, with the statement (sqlSaveMessage or
// sqlSaveProgress) and its If form when cond. The If form's parameters follow.
func saveMessage(before, m *switchboard.Message, cond bool) (query string, args []any) {
	args = []any{m.Status, m.Carrier, m.CarrierRef, m.Attempts, toMS(m.NextAttemptAt), m.Error, toMS(m.UpdatedAt)}
	if m.UserID == before.UserID && m.PhonePending == before.PhonePending && m.PhoneUserID == before.PhoneUserID &&
		m.Encoding == before.Encoding && m.Segments == before.Segments {
		query = sqlSaveProgress
		if cond {
			query = sqlSaveProgressIf
		}
	} else {
		query = sqlSaveMessage
		if cond {
			query = sqlSaveMessageIf
		}
		args = append(args, m.UserID, m.PhonePending, m.PhoneUserID, m.Encoding, m.Segments)
	}
	args = append(args, m.ID)
	if cond {
		args = append(args, before.Status, before.Attempts, toMS(before.UpdatedAt))
	}
	return query, args
}

// changeMessage runs change on m and readies m to be saved; changed is false when change
// returned no history rows nor events and left m as it was: there is nothing to write.
func changeMessage(m *switchboard.Message, change func(*switchboard.Message) ([]switchboard.MessageStatusChange, []*switchboard.Event, error)) (
	history []switchboard.MessageStatusChange, events []*switchboard.Event, changed bool, err error) {
	before := *m
	if history, events, err = change(m); err != nil {
		return nil, nil, false, err
	}
	if len(history) == 0 && len(events) == 0 && *m == before {
		return nil, nil, false, nil
	}
	// updated_at is the message's version (UpdateMessageFrom saves only the version it had):
	// every write moves it forward, by a millisecond when two writes share one.
	m.UpdatedAt = now()
	if !m.UpdatedAt.After(before.UpdatedAt) {
		m.UpdatedAt = before.UpdatedAt.Add(time.Millisecond)
	}
	m.NextAttemptAt = m.NextAttemptAt.UTC().Truncate(time.Millisecond)
	return history, events, true, nil
}

// UpdateMessageFunc runs in a transaction shared with other messages' writes (groupcommit.go);
// change may therefore run twice, on the message as stored each time. A change that returns
// no history rows and leaves the message as it was writes nothing.
func (db *DB) UpdateMessageFunc(ctx context.Context, id string,
	change func(*switchboard.Message) ([]switchboard.MessageStatusChange, []*switchboard.Event, error)) (*switchboard.Message, error) {
	var saved *switchboard.Message
	err := db.writeMessages(ctx, func(ctx context.Context, tx *sql.Tx) (err error) {
		saved, err = db.updateStoredMessage(ctx, tx, id, change)
		return err
	})
	if err != nil {
		return nil, internal("UpdateMessageFunc", err)
	}
	return saved, nil
}

// UpdateMessageFrom is UpdateMessageFunc for a caller that holds the message as it was last
// written (known, as the claim returned it): change runs on a copy of known, which is saved
// only if the stored message is still that version (same status, attempts and updated_at),
// without reading it first. Otherwise it is UpdateMessageFunc: change runs again, on the
// message as stored.
func (db *DB) UpdateMessageFrom(ctx context.Context, known *switchboard.Message,
	change func(*switchboard.Message) ([]switchboard.MessageStatusChange, []*switchboard.Event, error)) (*switchboard.Message, error) {
	var saved *switchboard.Message
	err := db.writeMessages(ctx, func(ctx context.Context, tx *sql.Tx) error {
		m := *known
		history, events, changed, err := changeMessage(&m, change)
		if err != nil || !changed {
			saved = &m
			return err
		}
		saveIf, saveArgs := saveMessage(known, &m, true)
		ok, err := db.execAffected(ctx, tx, saveIf, saveArgs...)
		if err != nil {
			return err
		}
		if !ok { // changed since: as UpdateMessageFunc
			saved, err = db.updateStoredMessage(ctx, tx, known.ID, change)
			return err
		}
		saved = &m
		return db.insertMessageChanges(ctx, tx, m.ID, history, events)
	})
	if err != nil {
		return nil, internal("UpdateMessageFrom", err)
	}
	return saved, nil
}

// updateStoredMessage reads the message (locked on PostgreSQL), lets change alter it and
// saves it with its history rows and events.
func (db *DB) updateStoredMessage(ctx context.Context, tx *sql.Tx, id string,
	change func(*switchboard.Message) ([]switchboard.MessageStatusChange, []*switchboard.Event, error)) (*switchboard.Message, error) {
	q := sqlSelectMessage
	if db.dialect == DialectPostgres {
		q += " FOR UPDATE"
	}
	m, err := scanMessage(db.queryRow(ctx, tx, q, id))
	if noRows(err) {
		return nil, messageNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	before := *m
	history, events, changed, err := changeMessage(m, change)
	if err != nil || !changed {
		return m, err
	}
	query, args := saveMessage(&before, m, false)
	if _, err := db.exec(ctx, tx, query, args...); err != nil {
		return nil, err
	}
	return m, db.insertMessageChanges(ctx, tx, m.ID, history, events)
}

func (db *DB) insertMessageChanges(ctx context.Context, tx *sql.Tx, id string, history []switchboard.MessageStatusChange, events []*switchboard.Event) error {
	for _, c := range history {
		if err := db.insertMessageHistory(ctx, tx, id, c); err != nil {
			return err
		}
	}
	return db.insertEvents(ctx, tx, events)
}

func (db *DB) ClaimMessages(ctx context.Context, at time.Time, lease time.Duration, limit int) ([]*switchboard.Message, error) {
	var claimed []*switchboard.Message
	nowMS := at.UnixMilli()
	db.warmWrites(ctx, sqlDueMessages)
	err := db.writeMessages(ctx, func(ctx context.Context, tx *sql.Tx) error {
		claimed = nil
		q := sqlDueMessages
		if db.dialect == DialectPostgres {
			q += " FOR UPDATE SKIP LOCKED"
		}
		// Leases that ran out first (a worker died mid-send: the oldest business), then the queue.
		for _, status := range []string{switchboard.SMSSending, switchboard.SMSQueued} {
			if len(claimed) >= limit {
				break
			}
			rows, err := db.query(ctx, tx, q, status, nowMS, limit-len(claimed))
			if err != nil {
				return err
			}
			for rows.Next() {
				m, err := scanMessage(rows)
				if err != nil {
					rows.Close()
					return err
				}
				claimed = append(claimed, m)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		if len(claimed) == 0 {
			return nil
		}
		// One UPDATE and one history INSERT for all of them (two when some are taken
		// again): a claim takes up to a hundred messages, and statements cost SQLite far
		// more than rows do.
		t := fromMS(nowMS)
		var fresh, again []string
		for _, m := range claimed {
			if m.Status == switchboard.SMSSending { // a lease that ran out: a worker died mid-send
				again = append(again, m.ID)
			} else {
				fresh = append(fresh, m.ID)
			}
			m.Status, m.Attempts, m.NextAttemptAt, m.UpdatedAt = switchboard.SMSSending, m.Attempts+1, t.Add(lease), t
		}
		src := db.textIDsFrom()
		if _, err := db.exec(ctx, tx, `UPDATE messages SET status = ?, attempts = attempts + 1, next_attempt_at = ?, updated_at = ?
			WHERE id IN (SELECT value FROM `+src+`)`, switchboard.SMSSending, toMS(t.Add(lease)), toMS(t), db.textIDs(append(fresh, again...))); err != nil {
			return err
		}
		for _, h := range []struct {
			ids   []string
			error string
		}{{fresh, ""}, {again, "claimed again: the previous send was not confirmed before its lease ran out"}} {
			if len(h.ids) == 0 {
				continue
			}
			if _, err := db.exec(ctx, tx, `INSERT INTO message_status_history (message_id, status, carrier_status, error, at)
				SELECT value, ?, '', ?, ? FROM `+src, switchboard.SMSSending, h.error, toMS(t), db.textIDs(h.ids)); err != nil {
				return err
			}
		}
		return nil
	})
	return claimed, internal("ClaimMessages", err)
}

// textIDsFrom is a table of the ids given as textIDs, in a column named value, for a FROM
// clause.
func (db *DB) textIDsFrom() string {
	if db.dialect == DialectPostgres {
		return "unnest(CAST(? AS TEXT[])) AS ids(value)"
	}
	return "json_each(?)"
}

// textIDs is the parameter of textIDsFrom: a JSON array on SQLite, an array on PostgreSQL.
func (db *DB) textIDs(ids []string) any {
	if db.dialect == DialectPostgres {
		return ids
	}
	b, _ := json.Marshal(ids)
	return string(b)
}

// sqlPhonePending is written with the partial index's condition (migration 00030).
const sqlPhonePending = `SELECT ` + messageColumns + ` FROM messages
	WHERE account_id = ? AND phone_user_id = ? AND phone_pending = TRUE ORDER BY created_at, id LIMIT 500`

func (db *DB) PhonePending(ctx context.Context, accountID, userID int64) ([]*switchboard.Message, error) {
	return listRows(ctx, db, "PhonePending", scanMessage, sqlPhonePending, accountID, userID)
}

func (db *DB) GetSMSSettings(ctx context.Context, accountID, numberID int64) (*switchboard.SMSSettings, error) {
	s := &switchboard.SMSSettings{AccountID: accountID, NumberID: numberID}
	var updated int64
	err := db.queryRow(ctx, db.read, `SELECT max_parts, carrier, allow_premium, rate_per_minute, kannel_url, kannel_user,
		kannel_password, kannel_smsc, updated_at FROM sms_settings WHERE account_id = ? AND number_id = ?`, accountID, numberID).
		Scan(&s.MaxParts, &s.Carrier, &s.AllowPremium, &s.RatePerMinute, &s.KannelURL, &s.KannelUser, &s.KannelPassword,
			&s.KannelSMSC, &updated)
	if noRows(err) {
		return s, nil
	}
	s.UpdatedAt = fromMS(updated)
	return s, internal("GetSMSSettings", err)
}

func (db *DB) PutSMSSettings(ctx context.Context, s *switchboard.SMSSettings) error {
	s.UpdatedAt = now()
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := db.exec(ctx, tx, `INSERT INTO sms_settings (account_id, number_id, max_parts, carrier, allow_premium,
			rate_per_minute, kannel_url, kannel_user, kannel_password, kannel_smsc, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (account_id, number_id) DO UPDATE SET max_parts = excluded.max_parts, carrier = excluded.carrier,
			allow_premium = excluded.allow_premium, rate_per_minute = excluded.rate_per_minute,
			kannel_url = excluded.kannel_url, kannel_user = excluded.kannel_user,
			kannel_password = excluded.kannel_password, kannel_smsc = excluded.kannel_smsc, updated_at = excluded.updated_at`,
			s.AccountID, s.NumberID, s.MaxParts, s.Carrier, s.AllowPremium, s.RatePerMinute, s.KannelURL, s.KannelUser,
			s.KannelPassword, s.KannelSMSC, toMS(s.UpdatedAt))
		if isForeignKeyViolation(err) {
			return notFound("account", s.AccountID)
		}
		return err
	})
	return internal("PutSMSSettings", err)
}

func (db *DB) SetSMSOptOut(ctx context.Context, accountID, numberID int64, party string, out bool) error {
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		if !out {
			_, err := db.exec(ctx, tx, `DELETE FROM sms_optouts WHERE account_id = ? AND number_id = ? AND party = ?`, accountID, numberID, party)
			return err
		}
		_, err := db.exec(ctx, tx, `INSERT INTO sms_optouts (account_id, number_id, party, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (account_id, number_id, party) DO NOTHING`, accountID, numberID, party, toMS(now()))
		return err
	})
	return internal("SetSMSOptOut", err)
}

var _ switchboard.SMSStore = (*DB)(nil)
