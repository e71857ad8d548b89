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

// musicClassNotFound is the error of a class missing by name.
func musicClassNotFound(name string) error {
	return switchboard.Errorf(switchboard.ENOTFOUND, "No music class named %q in this account", name)
}

// PutMusicClass stores the class m with its audio (8 kHz µ-law), replacing the audio of
// the account's class of that name if there is one, in one transaction: a class is never
// seen half written. It reports whether the class is new; m gets its id and times.
func (db *DB) PutMusicClass(ctx context.Context, m *switchboard.MusicClass, audio []byte) (created bool, err error) {
	if err := m.Validate(); err != nil {
		return false, err
	}
	t := now()
	err = db.writeTx(ctx, func(tx *sql.Tx) error {
		var id, createdMS int64
		err := db.queryRow(ctx, tx, `UPDATE music_classes SET format = ?, samples = ?, audio = ?, updated_at = ?
			WHERE account_id = ? AND name = ? RETURNING id, created_at`,
			m.Format, m.Samples, audio, toMS(t), m.AccountID, m.Name).Scan(&id, &createdMS)
		if noRows(err) {
			created, createdMS = true, toMS(t)
			err = db.queryRow(ctx, tx, `INSERT INTO music_classes (account_id, name, format, samples, audio, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, m.AccountID, m.Name, m.Format, m.Samples, audio, toMS(t), toMS(t)).Scan(&id)
			if isForeignKeyViolation(err) {
				return switchboard.Errorf(switchboard.ENOTFOUND, "No account with id %d", m.AccountID)
			}
			if isUniqueViolation(err) {
				return conflict("name", "another upload of this class was stored at the same time; try again")
			}
		}
		if err != nil {
			return internal("PutMusicClass", err)
		}
		m.ID, m.CreatedAt, m.UpdatedAt = id, fromMS(createdMS), t
		return nil
	})
	return created, err
}

// GetMusicClass returns the account's uploaded class of that name (without its audio).
func (db *DB) GetMusicClass(ctx context.Context, accountID int64, name string) (*switchboard.MusicClass, error) {
	m, err := scanMusicClass(db.queryRow(ctx, db.read, "SELECT "+musicClassColumns+" FROM music_classes WHERE account_id = ? AND name = ?", accountID, name))
	if noRows(err) {
		return nil, musicClassNotFound(name)
	}
	return m, internal("GetMusicClass", err)
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

// PageMusicClasses returns one page of the account's uploaded classes by id.
func (db *DB) PageMusicClasses(ctx context.Context, accountID int64, p switchboard.Page) ([]*switchboard.MusicClass, bool, error) {
	return pageRows(ctx, db, "PageMusicClasses", scanMusicClass, p, "SELECT "+musicClassColumns+" FROM music_classes WHERE account_id = ?", accountID)
}

// DeleteMusicClass deletes the account's uploaded class of that name. While a queue of the
// account names it the class stays (CONFLICT naming the queue): checked in the same
// transaction, so no queue is left playing a class that is gone. The default class can
// always go: the generated default takes its place.
func (db *DB) DeleteMusicClass(ctx context.Context, accountID int64, name string) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		var queue string
		err := sql.ErrNoRows
		if name != switchboard.DefaultMusicClass {
			err = db.queryRow(ctx, tx, "SELECT queue_name FROM queues WHERE account_id = ? AND music_on_hold = ? ORDER BY id LIMIT 1",
				accountID, name).Scan(&queue)
		}
		if err == nil {
			return conflict("name", "the queue "+queue+" plays this class: give it another musiconhold first")
		}
		if !noRows(err) {
			return internal("DeleteMusicClass", err)
		}
		ok, err := db.execAffected(ctx, tx, "DELETE FROM music_classes WHERE account_id = ? AND name = ?", accountID, name)
		if err != nil {
			return internal("DeleteMusicClass", err)
		}
		if !ok {
			return musicClassNotFound(name)
		}
		return nil
	})
}
