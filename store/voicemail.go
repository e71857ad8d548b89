package store

import (
	"context"
	"database/sql"

	"switchboard"
)

const voicemailBoxColumns = `id, account_id, user_id, name, pin_hash, greeting_key, max_message_seconds, max_messages,
	on_no_answer, on_busy, on_dnd, on_offline, email, email_attach, created_at, updated_at`

func scanVoicemailBox(s interface{ Scan(...any) error }) (*switchboard.VoicemailBox, error) {
	var b switchboard.VoicemailBox
	var user sql.NullInt64
	var created, updated int64
	if err := s.Scan(&b.ID, &b.AccountID, &user, &b.Name, &b.PINHash, &b.GreetingKey, &b.MaxMessageSeconds, &b.MaxMessages,
		&b.OnNoAnswer, &b.OnBusy, &b.OnDND, &b.OnOffline, &b.Email, &b.EmailAttach, &created, &updated); err != nil {
		return nil, err
	}
	b.UserID = user.Int64
	b.CreatedAt, b.UpdatedAt = fromMS(created), fromMS(updated)
	return &b, nil
}

const voicemailMessageColumns = `id, account_id, box_id, call_id, from_number, caller_name, duration_ms,
	audio_key, audio_bytes, read_at, created_at`

func scanVoicemailMessage(s interface{ Scan(...any) error }) (*switchboard.VoicemailMessage, error) {
	var m switchboard.VoicemailMessage
	var readAt sql.NullInt64
	var created int64
	if err := s.Scan(&m.ID, &m.AccountID, &m.BoxID, &m.CallID, &m.From, &m.CallerName, &m.DurationMS,
		&m.AudioKey, &m.AudioBytes, &readAt, &created); err != nil {
		return nil, err
	}
	m.Read = readAt.Valid
	if readAt.Valid {
		m.ReadAt = fromMS(readAt.Int64)
	}
	m.CreatedAt = fromMS(created)
	return &m, nil
}

// CreateVoicemailBox stores a new box; b gets its id and times. A user has at most one box
// (CONFLICT), and the user must be the account's.
func (db *DB) CreateVoicemailBox(ctx context.Context, b *switchboard.VoicemailBox) error {
	if err := b.Validate(); err != nil {
		return err
	}
	t := now()
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		if b.UserID != 0 {
			if err := db.checkRef(ctx, tx, b.AccountID, ownerUser, b.UserID, "user_id"); err != nil {
				return err
			}
		}
		err := db.queryRow(ctx, tx, `INSERT INTO voicemail_boxes (account_id, user_id, name, pin_hash, greeting_key, max_message_seconds,
			max_messages, on_no_answer, on_busy, on_dnd, on_offline, email, email_attach, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			b.AccountID, nullID(b.UserID), b.Name, b.PINHash, b.GreetingKey, b.MaxMessageSeconds, b.MaxMessages, b.OnNoAnswer, b.OnBusy,
			b.OnDND, b.OnOffline, b.Email, b.EmailAttach, toMS(t), toMS(t)).Scan(&b.ID)
		switch {
		case isUniqueViolation(err):
			return conflict("user_id", "already has a voicemail box")
		case isForeignKeyViolation(err):
			return switchboard.Errorf(switchboard.ENOTFOUND, "No account with id %d", b.AccountID)
		case err != nil:
			return internal("CreateVoicemailBox", err)
		}
		b.CreatedAt, b.UpdatedAt = t, t
		return nil
	})
}

// GetVoicemailBox returns the account's box with the id.
func (db *DB) GetVoicemailBox(ctx context.Context, accountID, id int64) (*switchboard.VoicemailBox, error) {
	return oneRow(ctx, db, db.read, "voicemail box", id, scanVoicemailBox,
		"SELECT "+voicemailBoxColumns+" FROM voicemail_boxes WHERE account_id = ? AND id = ?", accountID, id)
}

// GetUserVoicemailBox returns the user's box; NOT_FOUND while the user has none.
func (db *DB) GetUserVoicemailBox(ctx context.Context, accountID, userID int64) (*switchboard.VoicemailBox, error) {
	b, err := scanVoicemailBox(db.queryRow(ctx, db.read,
		"SELECT "+voicemailBoxColumns+" FROM voicemail_boxes WHERE account_id = ? AND user_id = ?", accountID, userID))
	if noRows(err) {
		return nil, switchboard.Errorf(switchboard.ENOTFOUND, "User %d has no voicemail box", userID)
	}
	return b, internal("GetUserVoicemailBox", err)
}

// PageVoicemailBoxes returns one page of the account's boxes by id.
func (db *DB) PageVoicemailBoxes(ctx context.Context, accountID int64, p switchboard.Page) ([]*switchboard.VoicemailBox, bool, error) {
	return pageRows(ctx, db, "PageVoicemailBoxes", scanVoicemailBox, p,
		"SELECT "+voicemailBoxColumns+" FROM voicemail_boxes WHERE account_id = ?", accountID)
}

// UpdateVoicemailBoxFunc changes the account's box through change, in one transaction.
func (db *DB) UpdateVoicemailBoxFunc(ctx context.Context, accountID, id int64, change func(*switchboard.VoicemailBox) error) (*switchboard.VoicemailBox, error) {
	return updateFunc(ctx, db, func(tx *sql.Tx) (*switchboard.VoicemailBox, error) {
		return lockedRow(ctx, db, tx, "voicemail box", id, scanVoicemailBox,
			"SELECT "+voicemailBoxColumns+" FROM voicemail_boxes WHERE account_id = ? AND id = ?", accountID, id)
	}, change, func(tx *sql.Tx, b *switchboard.VoicemailBox) error {
		b.UpdatedAt = now()
		_, err := db.exec(ctx, tx, `UPDATE voicemail_boxes SET name = ?, pin_hash = ?, greeting_key = ?, max_message_seconds = ?,
			max_messages = ?, on_no_answer = ?, on_busy = ?, on_dnd = ?, on_offline = ?, email = ?, email_attach = ?, updated_at = ?
			WHERE account_id = ? AND id = ?`, b.Name, b.PINHash, b.GreetingKey, b.MaxMessageSeconds, b.MaxMessages, b.OnNoAnswer, b.OnBusy,
			b.OnDND, b.OnOffline, b.Email, b.EmailAttach, toMS(b.UpdatedAt), accountID, id)
		return internal("UpdateVoicemailBox", err)
	})
}

// DeleteVoicemailBox deletes the account's box and its messages, returning the messages'
// audio keys for the caller to remove from blob storage.
func (db *DB) DeleteVoicemailBox(ctx context.Context, accountID, id int64) ([]string, error) {
	var keys []string
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		if err := db.refuseIfFlowsName(ctx, tx, accountID, switchboard.FlowRefVoicemail, id); err != nil {
			return err
		}
		rows, err := db.query(ctx, tx, "SELECT audio_key FROM voicemail_messages WHERE account_id = ? AND box_id = ?", accountID, id)
		if err != nil {
			return internal("DeleteVoicemailBox", err)
		}
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return internal("DeleteVoicemailBox", err)
			}
			keys = append(keys, k)
		}
		rows.Close()
		if _, err := db.exec(ctx, tx, "DELETE FROM voicemail_messages WHERE account_id = ? AND box_id = ?", accountID, id); err != nil {
			return internal("DeleteVoicemailBox", err)
		}
		ok, err := db.execAffected(ctx, tx, "DELETE FROM voicemail_boxes WHERE account_id = ? AND id = ?", accountID, id)
		if err != nil {
			return internal("DeleteVoicemailBox", err)
		}
		if !ok {
			return notFound("voicemail box", id)
		}
		return nil
	})
	return keys, err
}

// CreateVoicemailMessage stores a message with the event event builds from it (the
// message has its id then) in one transaction. A box holding its MaxMessages already is
// CONFLICT (field box_id) and nothing is stored.
func (db *DB) CreateVoicemailMessage(ctx context.Context, m *switchboard.VoicemailMessage, event func(*switchboard.VoicemailMessage) *switchboard.Event) error {
	t := now()
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		b, err := lockedRow(ctx, db, tx, "voicemail box", m.BoxID, scanVoicemailBox,
			"SELECT "+voicemailBoxColumns+" FROM voicemail_boxes WHERE account_id = ? AND id = ?", m.AccountID, m.BoxID)
		if err != nil {
			return err
		}
		var n int
		if err := db.queryRow(ctx, tx, "SELECT COUNT(*) FROM voicemail_messages WHERE account_id = ? AND box_id = ?",
			m.AccountID, m.BoxID).Scan(&n); err != nil {
			return internal("CreateVoicemailMessage", err)
		}
		if n >= b.MaxMessages {
			return conflict("box_id", "the voicemail box is full")
		}
		if err := db.queryRow(ctx, tx, `INSERT INTO voicemail_messages (account_id, box_id, call_id, from_number, caller_name,
			duration_ms, audio_key, audio_bytes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			m.AccountID, m.BoxID, m.CallID, m.From, m.CallerName, m.DurationMS, m.AudioKey, m.AudioBytes, toMS(t)).Scan(&m.ID); err != nil {
			return internal("CreateVoicemailMessage", err)
		}
		m.CreatedAt = t
		if event != nil {
			if ev := event(m); ev != nil {
				return db.insertEvent(ctx, tx, ev)
			}
		}
		return nil
	})
}

// GetVoicemailMessage returns the account's message with the id.
func (db *DB) GetVoicemailMessage(ctx context.Context, accountID, id int64) (*switchboard.VoicemailMessage, error) {
	return oneRow(ctx, db, db.read, "voicemail message", id, scanVoicemailMessage,
		"SELECT "+voicemailMessageColumns+" FROM voicemail_messages WHERE account_id = ? AND id = ?", accountID, id)
}

// PageVoicemailMessages returns one page of a box's messages (all, or read or unread
// only) by id: oldest first.
func (db *DB) PageVoicemailMessages(ctx context.Context, accountID int64, f switchboard.VoicemailFilter, p switchboard.Page) ([]*switchboard.VoicemailMessage, bool, error) {
	q := "SELECT " + voicemailMessageColumns + " FROM voicemail_messages WHERE account_id = ? AND box_id = ?"
	if f.Read != nil {
		if *f.Read {
			q += " AND read_at IS NOT NULL"
		} else {
			q += " AND read_at IS NULL"
		}
	}
	return pageRows(ctx, db, "PageVoicemailMessages", scanVoicemailMessage, p, q, accountID, f.BoxID)
}

// MarkVoicemailRead marks the account's message read and stores the event event builds
// with it, in one transaction; a message already read is returned as it is, without an
// event (changed false).
func (db *DB) MarkVoicemailRead(ctx context.Context, accountID, id int64, event func(*switchboard.VoicemailMessage) *switchboard.Event) (*switchboard.VoicemailMessage, bool, error) {
	var out *switchboard.VoicemailMessage
	changed := false
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		m, err := lockedRow(ctx, db, tx, "voicemail message", id, scanVoicemailMessage,
			"SELECT "+voicemailMessageColumns+" FROM voicemail_messages WHERE account_id = ? AND id = ?", accountID, id)
		if err != nil {
			return err
		}
		out = m
		if m.Read {
			return nil
		}
		t := now()
		if _, err := db.exec(ctx, tx, "UPDATE voicemail_messages SET read_at = ? WHERE account_id = ? AND id = ?", toMS(t), accountID, id); err != nil {
			return internal("MarkVoicemailRead", err)
		}
		m.Read, m.ReadAt, changed = true, t, true
		if event != nil {
			if ev := event(m); ev != nil {
				return db.insertEvent(ctx, tx, ev)
			}
		}
		return nil
	})
	return out, changed, err
}

// DeleteVoicemailMessage deletes the account's message with the event event builds from
// it, in one transaction, and returns the message (its AudioKey is the caller's to remove).
func (db *DB) DeleteVoicemailMessage(ctx context.Context, accountID, id int64, event func(*switchboard.VoicemailMessage) *switchboard.Event) (*switchboard.VoicemailMessage, error) {
	var out *switchboard.VoicemailMessage
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		m, err := lockedRow(ctx, db, tx, "voicemail message", id, scanVoicemailMessage,
			"SELECT "+voicemailMessageColumns+" FROM voicemail_messages WHERE account_id = ? AND id = ?", accountID, id)
		if err != nil {
			return err
		}
		if _, err := db.exec(ctx, tx, "DELETE FROM voicemail_messages WHERE account_id = ? AND id = ?", accountID, id); err != nil {
			return internal("DeleteVoicemailMessage", err)
		}
		out = m
		if event != nil {
			if ev := event(m); ev != nil {
				return db.insertEvent(ctx, tx, ev)
			}
		}
		return nil
	})
	return out, err
}

// VoicemailCounts counts a box's new (unread) and old messages: the lamp's state.
func (db *DB) VoicemailCounts(ctx context.Context, accountID, boxID int64) (switchboard.VoicemailCounts, error) {
	var c switchboard.VoicemailCounts
	err := db.queryRow(ctx, db.read, `SELECT COALESCE(SUM(CASE WHEN read_at IS NULL THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN read_at IS NULL THEN 0 ELSE 1 END), 0)
		FROM voicemail_messages WHERE account_id = ? AND box_id = ?`, accountID, boxID).Scan(&c.New, &c.Old)
	return c, internal("VoicemailCounts", err)
}
