package switchboard

import (
	"context"
	"time"
)

// Registration is one registered contact of a device (RFC 3261 section 10). The registrar
// keeps them in memory to route calls and in the store so that a restart does not forget
// where the phones are (a phone re-registers only when its expiry runs out, up to an hour).
type Registration struct {
	AccountID, UserID, DeviceID int64
	Contact                     string // the Contact URI: the binding's identity within the device
	Expires                     time.Time
	CallID                      string
	CSeq                        uint32
	Source                      string // ip:port the REGISTER came from: where requests go behind NAT
	Transport                   string
}

// RegistrationStore keeps the registrar's bindings.
type RegistrationStore interface {
	// ReplaceUserRegistrations makes regs the user's stored registrations (all of its
	// devices) and stores events with them, in one transaction: a user's presence event
	// is never stored without the bindings that caused it, nor the other way round.
	ReplaceUserRegistrations(ctx context.Context, accountID, userID int64, regs []Registration, events ...*Event) error
	// SaveRegistrationChanges applies the changes of several users in one transaction
	// (the registrar's group commit), each with its events: all are stored or none.
	SaveRegistrationChanges(ctx context.Context, changes []RegistrationChange) error
	// ListRegistrations returns every stored registration of every account, expired ones
	// included (the registrar announces those users offline on its first sweep).
	ListRegistrations(ctx context.Context) ([]Registration, error)
}

// RegistrationChange is what one REGISTER changed in a user's stored bindings: only those
// rows are written, so a phone refreshing its registration rewrites one row, not all of
// the user's.
type RegistrationChange struct {
	AccountID, UserID int64
	Save              []Registration // added or refreshed, keyed by device and contact
	Remove            []Registration // deleted; only DeviceID and Contact count
	Events            []*Event       // stored with the change (presence.changed)
}
