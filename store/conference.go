package store

import (
	"context"
	"database/sql"

	"switchboard"
)

// ownerConference is a room's owner_type in the extensions table: a room number is an
// extension like a user's, so the same key keeps it unique in the account.
const ownerConference = "conference"

func init() {
	kindTables[ownerConference] = "conference_rooms"
	kindWords[ownerConference] = "conference room"
}

const conferenceRoomColumns = `id, account_id, name, extension, pin_hash, max_participants, mute_on_join,
	announce_join_leave, created_at, updated_at`

func scanConferenceRoom(s interface{ Scan(...any) error }) (*switchboard.ConferenceRoom, error) {
	var r switchboard.ConferenceRoom
	var created, updated int64
	err := s.Scan(&r.ID, &r.AccountID, &r.Name, &r.Extension, &r.PINHash, &r.MaxParticipants, &r.MuteOnJoin,
		&r.AnnounceJoinLeave, &created, &updated)
	if err != nil {
		return nil, err
	}
	r.CreatedAt, r.UpdatedAt = fromMS(created), fromMS(updated)
	return &r, nil
}

func conferenceExtensionTaken(r *switchboard.ConferenceRoom) error {
	return conflict("extension", r.Extension+" is already used by another conference room")
}

// CreateConferenceRoom stores a new room and claims its extension, in one transaction.
func (db *DB) CreateConferenceRoom(ctx context.Context, r *switchboard.ConferenceRoom) error {
	if err := r.Validate(); err != nil {
		return err
	}
	t := now()
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := db.queryRow(ctx, tx, `INSERT INTO conference_rooms (account_id, name, extension, pin_hash, max_participants,
			mute_on_join, announce_join_leave, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			r.AccountID, r.Name, r.Extension, r.PINHash, r.MaxParticipants, r.MuteOnJoin, r.AnnounceJoinLeave,
			toMS(t), toMS(t)).Scan(&id)
		switch {
		case isUniqueViolation(err):
			return conferenceExtensionTaken(r)
		case isForeignKeyViolation(err):
			return switchboard.Errorf(switchboard.ENOTFOUND, "No account with id %d", r.AccountID)
		case err != nil:
			return internal("CreateConferenceRoom", err)
		}
		if err := db.claimExtension(ctx, tx, r.AccountID, r.Extension, ownerConference, id, "extension"); err != nil {
			return err
		}
		r.ID = id
		return nil
	})
	if err != nil {
		r.ID = 0
		return err
	}
	r.CreatedAt, r.UpdatedAt = t, t
	return nil
}

// GetConferenceRoom returns the account's room with the id.
func (db *DB) GetConferenceRoom(ctx context.Context, accountID, id int64) (*switchboard.ConferenceRoom, error) {
	return oneRow(ctx, db, db.read, "conference room", id, scanConferenceRoom,
		"SELECT "+conferenceRoomColumns+" FROM conference_rooms WHERE account_id = ? AND id = ?", accountID, id)
}

// GetConferenceRoomByExtension returns the account's room with the room number: the call
// engine's lookup when a phone dials an extension.
func (db *DB) GetConferenceRoomByExtension(ctx context.Context, accountID int64, extension string) (*switchboard.ConferenceRoom, error) {
	r, err := scanConferenceRoom(db.queryRow(ctx, db.read,
		"SELECT "+conferenceRoomColumns+" FROM conference_rooms WHERE account_id = ? AND extension = ?", accountID, extension))
	if noRows(err) {
		return nil, switchboard.Errorf(switchboard.ENOTFOUND, "No conference room with extension %s", extension)
	}
	return r, internal("GetConferenceRoomByExtension", err)
}

// PageConferenceRooms returns one page of the account's rooms by id.
func (db *DB) PageConferenceRooms(ctx context.Context, accountID int64, p switchboard.Page) ([]*switchboard.ConferenceRoom, bool, error) {
	return pageRows(ctx, db, "PageConferenceRooms", scanConferenceRoom, p,
		"SELECT "+conferenceRoomColumns+" FROM conference_rooms WHERE account_id = ?", accountID)
}

// UpdateConferenceRoomFunc changes the account's room with change in one write transaction
// (see updateFunc) and returns it as saved; a new extension is claimed in it.
func (db *DB) UpdateConferenceRoomFunc(ctx context.Context, accountID, id int64, change func(*switchboard.ConferenceRoom) error) (*switchboard.ConferenceRoom, error) {
	load := func(tx *sql.Tx) (*switchboard.ConferenceRoom, error) {
		return lockedRow(ctx, db, tx, "conference room", id, scanConferenceRoom,
			"SELECT "+conferenceRoomColumns+" FROM conference_rooms WHERE account_id = ? AND id = ?", accountID, id)
	}
	save := func(tx *sql.Tx, r *switchboard.ConferenceRoom) error {
		r.AccountID, r.ID = accountID, id // change may not move the row
		t := now()
		err := db.queryRow(ctx, tx, `UPDATE conference_rooms SET name = ?, extension = ?, pin_hash = ?, max_participants = ?,
			mute_on_join = ?, announce_join_leave = ?, updated_at = ? WHERE account_id = ? AND id = ? RETURNING id`,
			r.Name, r.Extension, r.PINHash, r.MaxParticipants, r.MuteOnJoin, r.AnnounceJoinLeave, toMS(t), accountID, id).Scan(&id)
		if isUniqueViolation(err) {
			return conferenceExtensionTaken(r)
		}
		if err != nil {
			return internal("UpdateConferenceRoom", err)
		}
		r.UpdatedAt = t
		return db.claimExtension(ctx, tx, accountID, r.Extension, ownerConference, id, "extension")
	}
	return updateFunc(ctx, db, load, change, save)
}

// DeleteConferenceRoom deletes the room and frees its extension.
func (db *DB) DeleteConferenceRoom(ctx context.Context, accountID, id int64) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		if ok, err := db.exists(ctx, tx, accountID, ownerConference, id); err != nil || !ok {
			return orNotFound(err, "conference room", id)
		}
		if err := db.refuseIfFlowsName(ctx, tx, accountID, switchboard.FlowRefConference, id); err != nil {
			return err
		}
		if err := db.releaseExtension(ctx, tx, ownerConference, id); err != nil {
			return err
		}
		if _, err := db.exec(ctx, tx, "DELETE FROM conference_rooms WHERE account_id = ? AND id = ?", accountID, id); err != nil {
			return internal("DeleteConferenceRoom", err)
		}
		return nil
	})
}
