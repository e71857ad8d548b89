package provision

import (
	"context"

	"switchboard"
)

// CreateConferenceRoom stores a new room: DefaultConferenceMaxParticipants places, join and
// leave tones on, nobody muted on joining, no PIN, unless c says otherwise.
func (s *Service) CreateConferenceRoom(ctx context.Context, accountID int64, c switchboard.ConferenceRoomChange) (*switchboard.ConferenceRoom, error) {
	r := &switchboard.ConferenceRoom{AccountID: accountID, MaxParticipants: switchboard.DefaultConferenceMaxParticipants,
		AnnounceJoinLeave: true}
	v := applyConferenceRoom(r, c, hashPIN(c.PIN))
	return created(ctx, v, r, s.store.CreateConferenceRoom)
}

// UpdateConferenceRoom changes what c gives; PIN "" removes the PIN. Callers already in
// the room stay; the new settings apply to the next who join.
func (s *Service) UpdateConferenceRoom(ctx context.Context, accountID, id int64, c switchboard.ConferenceRoomChange) (*switchboard.ConferenceRoom, error) {
	hash := hashPIN(c.PIN) // before the transaction: the hash takes a few milliseconds
	return s.store.UpdateConferenceRoomFunc(ctx, accountID, id, func(r *switchboard.ConferenceRoom) error {
		return validate(applyConferenceRoom(r, c, hash), r)
	})
}

// hashPIN is the stored form of a PIN given in a change: nil when none is given, "" to
// remove it, a hash of a valid PIN, or the PIN itself when it is not valid (so that
// applyConferenceRoom can say so; it never reaches the store).
func hashPIN(pin *string) *string {
	if pin == nil || *pin == "" || !switchboard.ValidConferencePIN(*pin) {
		return pin
	}
	h := switchboard.HashConferencePIN(*pin)
	return &h
}

func applyConferenceRoom(r *switchboard.ConferenceRoom, c switchboard.ConferenceRoomChange, pinHash *string) switchboard.ValidationErrors {
	v := switchboard.ValidationErrors{}
	set(&r.Name, c.Name)
	set(&r.Extension, c.Extension)
	set(&r.MaxParticipants, c.MaxParticipants)
	set(&r.MuteOnJoin, c.MuteOnJoin)
	set(&r.AnnounceJoinLeave, c.AnnounceJoinLeave)
	if c.PIN != nil {
		if *c.PIN != "" && !switchboard.ValidConferencePIN(*c.PIN) {
			v.Add("pin", "must be 4 to 12 digits, or empty for no PIN")
		} else {
			r.PINHash = *pinHash
		}
	}
	return v
}

// DeleteConferenceRoom deletes the account's room; callers in it stay connected to each
// other until they hang up, and nobody new can join.
func (s *Service) DeleteConferenceRoom(ctx context.Context, accountID, id int64) error {
	return s.store.DeleteConferenceRoom(ctx, accountID, id)
}
