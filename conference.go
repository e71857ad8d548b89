package switchboard

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ConferenceRoom is a meeting room of an account: phones dial its extension (or are
// transferred to it, or a call flow sends them) and everyone in it hears everyone else.
type ConferenceRoom struct {
	ID        int64
	AccountID int64
	Name      string
	// Extension is the room number phones dial; unique in the account among users, queues,
	// ring groups and rooms.
	Extension string
	// PINHash is the room's PIN, hashed (HashConferencePIN); "" = no PIN. The PIN itself is
	// never stored and never shown.
	PINHash string
	// MaxParticipants bounds the room; a caller beyond it hears a busy tone.
	MaxParticipants int
	// MuteOnJoin makes everyone join muted (a listen-only webinar); each may unmute by key.
	MuteOnJoin bool
	// AnnounceJoinLeave plays a short tone to the room whenever someone joins or leaves.
	AnnounceJoinLeave bool
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// Room limits: a room of 200 costs one core a few percent (docs/benchmarks.md).
const (
	DefaultConferenceMaxParticipants = 50
	MaxConferenceParticipants        = 200
)

var conferencePINRE = regexp.MustCompile(`^[0-9]{4,12}$`)

// ValidConferencePIN reports whether s can be a room's PIN: 4 to 12 digits.
func ValidConferencePIN(s string) bool { return conferencePINRE.MatchString(s) }

// HasPIN reports whether callers must enter a PIN to join.
func (r *ConferenceRoom) HasPIN() bool { return r.PINHash != "" }

// Validate checks the room's fields.
func (r *ConferenceRoom) Validate() error {
	v := ValidationErrors{}
	if strings.TrimSpace(r.Name) == "" || len(r.Name) > 100 {
		v.Add("name", "is required, at most 100 characters")
	}
	if !ValidExtension(r.Extension) {
		v.Add("extension", "must be an extension of 2 to 8 digits")
	}
	if r.MaxParticipants < 2 || r.MaxParticipants > MaxConferenceParticipants {
		v.Add("max_participants", "must be between 2 and "+strconv.Itoa(MaxConferenceParticipants))
	}
	if r.PINHash != "" && !strings.HasPrefix(r.PINHash, pinHashScheme) {
		v.Add("pin", "is not a hashed PIN")
	}
	return v.Err()
}

// The PIN hash: PBKDF2-SHA256 with a random salt. A PIN of a few digits cannot resist a
// search by whoever reads the database whatever the hash; the iterations make that search
// cost, and nobody reading the API or the logs ever sees the PIN.
const (
	pinHashScheme     = "pbkdf2-sha256$"
	pinHashIterations = 20000
)

// HashConferencePIN returns the stored form of a PIN.
func HashConferencePIN(pin string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	return pinHashScheme + base64.RawStdEncoding.EncodeToString(salt) + "$" + base64.RawStdEncoding.EncodeToString(pinKey(pin, salt))
}

func pinKey(pin string, salt []byte) []byte {
	key, _ := pbkdf2.Key(sha256.New, pin, salt, pinHashIterations, 32)
	return key
}

// CheckPIN reports whether pin is the room's PIN, in constant time. A room without a PIN
// accepts nothing here: ask HasPIN first.
func (r *ConferenceRoom) CheckPIN(pin string) bool {
	rest, ok := strings.CutPrefix(r.PINHash, pinHashScheme)
	if !ok {
		return false
	}
	saltText, keyText, ok := strings.Cut(rest, "$")
	if !ok {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(saltText)
	want, err2 := base64.RawStdEncoding.DecodeString(keyText)
	if err1 != nil || err2 != nil {
		return false
	}
	return subtle.ConstantTimeCompare(pinKey(pin, salt), want) == 1
}

// ConferenceRoomChange is a create or PATCH of a room: nil fields are left as they are (on
// create, the defaults). PIN "" removes the PIN.
type ConferenceRoomChange struct {
	Name              *string
	Extension         *string
	PIN               *string
	MaxParticipants   *int
	MuteOnJoin        *bool
	AnnounceJoinLeave *bool
}

// ConferenceParticipant is one party in a room right now.
type ConferenceParticipant struct {
	ID       int64 // unique in the process while it runs; the API's participant_id
	RoomID   int64
	CallID   string // the call's uniqueid
	Number   string // the party's number or extension
	Name     string // the party's caller name
	Muted    bool
	JoinedAt time.Time
}

// ConferenceService keeps an account's rooms. provision.Service implements it.
type ConferenceService interface {
	CreateConferenceRoom(ctx context.Context, accountID int64, c ConferenceRoomChange) (*ConferenceRoom, error)
	UpdateConferenceRoom(ctx context.Context, accountID, id int64, c ConferenceRoomChange) (*ConferenceRoom, error)
	DeleteConferenceRoom(ctx context.Context, accountID, id int64) error
}

// ConferenceController acts on the rooms in progress (the call engine implements it).
// ENOTFOUND: no such room of the account, or no such participant in it.
type ConferenceController interface {
	ConferenceParticipants(ctx context.Context, accountID, roomID int64) ([]ConferenceParticipant, error)
	// MuteConferenceParticipant mutes or unmutes a participant for the others.
	MuteConferenceParticipant(ctx context.Context, accountID, roomID, participantID int64, muted bool) error
	// KickConferenceParticipant hangs up the participant's call.
	KickConferenceParticipant(ctx context.Context, accountID, roomID, participantID int64) error
}
