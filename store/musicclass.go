package store

import (
	"context"
	"database/sql"

	"switchboard"
)

const musicClassColumns = "id, account_id, name, format, samples, created_at, updated_at"

func scanMusicClass(s interface{ Scan(...any) error }) (*switchboard.MusicClass, error) {
	var m switchboard.MusicClass
	var created, updated int64
	if err := s.Scan(&m.ID, &m.AccountID, &m.Name, &m.Format, &m.Samples, &created, &updated); err != nil {
		return nil, err
	}
	m.CreatedAt, m.UpdatedAt = fromMS(created), fromMS(updated)
	return &m, nil
}

// CreateMusicClass stores a new class with its audio (8 kHz µ-law) in one statement: a
// class is never seen half written. m gets its id and times.
func (db *DB) CreateMusicClass(ctx context.Context, m *switchboard.MusicClass, audio []byte) error {
	if err := m.Validate(); err != nil {
		return err
	}
	t := now()
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := db.queryRow(ctx, tx, `INSERT INTO music_classes (account_id, name, format, samples, audio, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, m.AccountID, m.Name, m.Format, m.Samples, audio, toMS(t), toMS(t)).Scan(&id)
		switch {
		case isForeignKeyViolation(err):
			return switchboard.Errorf(switchboard.ENOTFOUND, "No account with id %d", m.AccountID)
		case isUniqueViolation(err):
			return conflict("name", "is the name of another music class of this account: replace that one's audio instead")
		case err != nil:
			return internal("CreateMusicClass", err)
		}
		m.ID, m.CreatedAt, m.UpdatedAt = id, t, t
		return nil
	})
}

// GetMusicClass returns the account's class with the id (without its audio).
func (db *DB) GetMusicClass(ctx context.Context, accountID, id int64) (*switchboard.MusicClass, error) {
	return oneRow(ctx, db, db.read, "music class", id, scanMusicClass,
		"SELECT "+musicClassColumns+" FROM music_classes WHERE account_id = ? AND id = ?", accountID, id)
}

// GetMusicClassByName returns the account's class of that name (without its audio).
func (db *DB) GetMusicClassByName(ctx context.Context, accountID int64, name string) (*switchboard.MusicClass, error) {
	m, err := scanMusicClass(db.queryRow(ctx, db.read, "SELECT "+musicClassColumns+" FROM music_classes WHERE account_id = ? AND name = ?", accountID, name))
	if noRows(err) {
		return nil, musicClassNotFound(name)
	}
	return m, internal("GetMusicClassByName", err)
}

func musicClassNotFound(name string) error {
	return switchboard.Errorf(switchboard.ENOTFOUND, "No music class named %q in this account", name)
}

// GetMusicClassAudio returns the audio of the account's class of that name: 8 kHz µ-law.
func (db *DB) GetMusicClassAudio(ctx context.Context, accountID int64, name string) ([]byte, error) {
	var audio []byte
	err := db.queryRow(ctx, db.read, "SELECT audio FROM music_classes WHERE account_id = ? AND name = ?", accountID, name).Scan(&audio)
	if noRows(err) {
		return nil, musicClassNotFound(name)
	}
	return audio, internal("GetMusicClassAudio", err)
}

// PageMusicClasses returns one page of the account's classes by id.
func (db *DB) PageMusicClasses(ctx context.Context, accountID int64, p switchboard.Page) ([]*switchboard.MusicClass, bool, error) {
	return pageRows(ctx, db, "PageMusicClasses", scanMusicClass, p, "SELECT "+musicClassColumns+" FROM music_classes WHERE account_id = ?", accountID)
}

// ReplaceMusicClassAudio gives the account's class new audio in one statement: callers put
// on hold hear the old audio or the new, never part of either.
func (db *DB) ReplaceMusicClassAudio(ctx context.Context, accountID, id int64, format string, samples int, audio []byte) (*switchboard.MusicClass, error) {
	var m *switchboard.MusicClass
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		m, err = scanMusicClass(db.queryRow(ctx, tx, `UPDATE music_classes SET format = ?, samples = ?, audio = ?, updated_at = ?
			WHERE account_id = ? AND id = ? RETURNING `+musicClassColumns, format, samples, audio, toMS(now()), accountID, id))
		if noRows(err) {
			return notFound("music class", id)
		}
		if err == nil {
			err = m.Validate()
		}
		return internal("ReplaceMusicClassAudio", err)
	})
	return m, err
}

// DeleteMusicClass deletes the account's class with the id. While a queue of the account
// names it the class stays (CONFLICT naming the queue): checked in the same transaction,
// so no queue is left naming a class that is gone. The default class can always go: the
// generated default takes its place.
func (db *DB) DeleteMusicClass(ctx context.Context, accountID, id int64) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		m, err := scanMusicClass(db.queryRow(ctx, tx, "SELECT "+musicClassColumns+" FROM music_classes WHERE account_id = ? AND id = ?", accountID, id))
		if noRows(err) {
			return notFound("music class", id)
		}
		if err != nil {
			return internal("DeleteMusicClass", err)
		}
		if m.Name != switchboard.DefaultMusicClass {
			var queue string
			err := db.queryRow(ctx, tx, "SELECT queue_name FROM queues WHERE account_id = ? AND music_on_hold = ? ORDER BY id LIMIT 1",
				accountID, m.Name).Scan(&queue)
			if err == nil {
				return conflict("name", "is played by the queue "+queue+": give the queue another musiconhold first")
			}
			if !noRows(err) {
				return internal("DeleteMusicClass", err)
			}
		}
		if _, err := db.exec(ctx, tx, "DELETE FROM music_classes WHERE account_id = ? AND id = ?", accountID, id); err != nil {
			return internal("DeleteMusicClass", err)
		}
		return nil
	})
}
