package switchboard

import (
	"context"
	"time"
)

// Message statuses (the API's "status"). Outbound: queued → sending → sent →
// delivered / failed / undelivered. Inbound messages are "received".
const (
	SMSQueued      = "queued"
	SMSSending     = "sending"
	SMSSent        = "sent"
	SMSDelivered   = "delivered"
	SMSFailed      = "failed"
	SMSUndelivered = "undelivered"
	SMSReceived    = "received"
)

// Message directions (the API's "direction").
const (
	SMSInbound  = "inbound"
	SMSOutbound = "outbound"
)

// EventSMSFailed: an outbound SMS failed for good (carrier refused it permanently, retries
// exhausted, or a failed/undelivered delivery report).
const EventSMSFailed = "sms.failed"

// Message is one SMS, inbound or outbound.
type Message struct {
	ID            string // "msg_" + 32 hex; the API's message_id
	AccountID     int64
	Direction     string // SMSInbound / SMSOutbound
	From, To      string // E.164 (or an extension for phone-to-phone, see sipmsg)
	Body          string
	Encoding      string // "gsm7" / "ucs2"
	Segments      int
	Status        string
	Carrier       string // the carrier's Name() that handled it ("simulator", "kannel", "sip", "phone")
	CarrierRef    string // the carrier's own id, if any
	NumberID      int64  // the account's number it was sent from / received on (0 phone-to-phone)
	UserID        int64  // the user it belongs to (sender with a user key, or assigned user)
	SentByUserID  int64  // user whose key or phone sent it; 0 for a developer key
	Attempts      int
	NextAttemptAt time.Time
	Error         string // last failure, readable
	// PhonePending: a message for a user's phones (phone-to-phone, or inbound to an
	// sms_assigned_user) not yet accepted by any device; retried at the user's next REGISTER.
	PhonePending bool
	// PhoneUserID: the user whose phones PhonePending delivery targets.
	PhoneUserID          int64
	CreatedAt, UpdatedAt time.Time
}

// MessageStatusChange is one row of a message's status history.
type MessageStatusChange struct {
	Status        string
	CarrierStatus string // the carrier's own text, if any
	Error         string
	At            time.Time
}

// SMSCarrier hands outbound messages to a carrier. Implementations: sms.Simulator (sms
// helper), kannel.Carrier (kannel helper), sip trunk MESSAGE (sipmsg helper).
type SMSCarrier interface {
	Name() string
	// Send submits m. It returns the carrier's reference for m (may be "").
	// Errors: a *CarrierError; Permanent=false means retry later (with backoff).
	// Send may be called again for the same m.ID after a crash between claim and
	// confirmation; carriers that can should use m.ID as an idempotency key.
	Send(ctx context.Context, m *Message) (ref string, err error)
}

// CarrierError is a carrier's refusal; Permanent=false means retry later.
type CarrierError struct {
	Permanent bool
	Reason    string
}

func (e *CarrierError) Error() string { return e.Reason }

// SMSInbox is what carriers call back into (implemented by sms.Service).
type SMSInbox interface {
	// Receive stores an inbound message to the account number `to` (E.164, must exist and be
	// sms_enabled; ENOTFOUND otherwise), fires sms.received in the same transaction, and
	// delivers it to the number's sms_assigned_user's phones (see PhoneMessenger).
	Receive(ctx context.Context, carrier, from, to, body, carrierRef string) (*Message, error)
	// Report applies a delivery report: status is SMSDelivered, SMSFailed or SMSUndelivered;
	// carrierStatus is the carrier's own text. The message is found by id (messageID, which
	// carriers echo back, e.g. in Kannel's dlr-url) and must be account accountID's (whose
	// callback secret authenticated the report). It fires sms.delivered (or sms.failed) in
	// the same transaction. Unknown id, or another account's: ENOTFOUND. Reports are
	// idempotent.
	Report(ctx context.Context, accountID int64, carrier, messageID, status, carrierStatus string) error
}

// PhoneMessenger delivers a message to registered phones as SIP MESSAGE (implemented by
// the sip package; sipmsg helper). DeliverToUser sends to every registered device of the
// user and reports how many accepted (2xx). 0 with nil error: none online.
type PhoneMessenger interface {
	DeliverToUser(ctx context.Context, accountID, userID int64, from, body string) (int, error)
}

// PhoneSMS is what the sip package calls (implemented by sms.Service):
type PhoneSMS interface {
	// FromPhone: a registered user's phone sent a SIP MESSAGE to `to`. An extension of the
	// account: deliver to that user's phones (stored and delivered at next REGISTER if none
	// online). An E.164 number: sent like sms/send from the user's SMS number (the number they
	// own with sms_enabled, or are sms_assigned to). Returns the stored message.
	FromPhone(ctx context.Context, accountID, userID int64, to, body string) (*Message, error)
	// UserRegistered: the user's device just registered; pending phone deliveries are retried.
	UserRegistered(ctx context.Context, accountID, userID int64)
}

// SMSSettings are an account's SMS settings (NumberID 0) or one number's (overriding the
// account's where set: a non-zero or non-empty value).
type SMSSettings struct {
	AccountID int64
	NumberID  int64 // 0 = the account's defaults
	// MaxParts (sms_max_parts) allows concatenated messages of up to that many parts
	// (153 GSM-7 / 67 UCS-2 characters each); 0 or 1 = one part only (160 / 70).
	MaxParts int
	// Carrier (sms_carrier) names the carrier: "simulator", "kannel", "sip"; "" = the
	// server's default (the simulator with serve --demo, else none).
	Carrier string
	// AllowPremium lets messages go to short codes and premium-rate numbers.
	AllowPremium bool
	// RatePerMinute caps the messages sent per minute (per number for a number's settings,
	// per account for the account's); 0 = the server's default.
	RatePerMinute int
	// Kannel smsbox sendsms settings (carrier "kannel"). KannelPassword is sealed with the
	// server's key; the store never holds it in clear.
	KannelURL, KannelUser, KannelSMSC string
	KannelPassword                    []byte
	UpdatedAt                         time.Time
}

// MessageFilter selects messages of an account (GET /messages).
type MessageFilter struct {
	NumberIDs []int64   // only these numbers' messages (a user key's own); nil = all
	NumberID  int64     // one number; 0 = any
	Party     string    // the other party (E.164); "" = any
	Direction string    // "" = both
	Status    string    // "" = any
	From, To  time.Time // created in [From, To); zero = unbounded
	Before    string    // cursor: messages older than this message id
	Limit     int
}

// Conversation is the messages between one of the account's numbers and another party.
type Conversation struct {
	NumberID int64
	Number   string // the account's side
	Party    string // the other side
	Count    int
	Last     *Message
}

// ErrOptedOut is CreateMessage's answer for an outbound message to a party that opted out of
// the number (texted STOP).
var ErrOptedOut = &Error{Code: EBADREQUEST, Message: "the recipient has opted out of messages from this number"}

// SMSStore persists messages (store.DB implements it). The message id is unique across
// accounts, so the worker and carriers' reports find a message by id alone.
type SMSStore interface {
	// CreateMessage stores m with its first history row and events in one transaction. An
	// outbound message to a party that opted out of its number (SetSMSOptOut) is not stored:
	// ErrOptedOut, checked in the same transaction as the insert.
	CreateMessage(ctx context.Context, m *Message, first MessageStatusChange, events []*Event) error
	GetMessage(ctx context.Context, accountID int64, id string) (*Message, error)
	// GetMessageByID reads a message of any account (carriers' delivery reports).
	GetMessageByID(ctx context.Context, id string) (*Message, error)
	// GetInboundByCarrierRef finds the inbound message a carrier delivered under its
	// reference ref to the account's number (a carrier that retries delivers it once).
	GetInboundByCarrierRef(ctx context.Context, accountID, numberID int64, carrier, ref string) (*Message, error)
	MessageHistory(ctx context.Context, accountID int64, id string) ([]MessageStatusChange, error)
	PageMessages(ctx context.Context, accountID int64, f MessageFilter) (msgs []*Message, more bool, err error)
	Conversations(ctx context.Context, accountID int64, f MessageFilter) ([]*Conversation, error)
	// UpdateMessageFunc reads the message locked, lets change alter it and saves it with the
	// history rows (in order) and events change returns (nil: none), in one transaction. change may be
	// called more than once (each time on the message as stored), so it must only alter the
	// message it is given; it must not write to the store itself.
	UpdateMessageFunc(ctx context.Context, id string, change func(*Message) ([]MessageStatusChange, []*Event, error)) (*Message, error)
	// UpdateMessageFrom is UpdateMessageFunc for a caller that holds the message as it was
	// last written (known): change runs on a copy of known, saved without reading the message
	// first if it is still that version; otherwise change runs again on the message as stored.
	UpdateMessageFrom(ctx context.Context, known *Message, change func(*Message) ([]MessageStatusChange, []*Event, error)) (*Message, error)
	// ClaimMessages marks up to limit due outbound messages (queued and due, or sending with
	// an expired lease: a worker died between claim and confirmation) as sending, counts the
	// attempt, leases them until now+lease, and returns them. On PostgreSQL the rows are
	// locked FOR UPDATE SKIP LOCKED so several nodes claim side by side.
	ClaimMessages(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*Message, error)
	// PhonePending lists the user's messages waiting for a phone, oldest first.
	PhonePending(ctx context.Context, accountID, userID int64) ([]*Message, error)

	// GetSMSSettings returns the settings row; none is zero settings (not an error).
	GetSMSSettings(ctx context.Context, accountID, numberID int64) (*SMSSettings, error)
	PutSMSSettings(ctx context.Context, s *SMSSettings) error
	// SetSMSOptOut records (out) or clears a STOP of party to the account's number.
	SetSMSOptOut(ctx context.Context, accountID, numberID int64, party string, out bool) error
}
