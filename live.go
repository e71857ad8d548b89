package switchboard

import "context"

// The interfaces below are how the API reads and drives live telephony. The SIP core and the
// SMS gateway implement them; until they are wired, Offline answers for them.

// Channel is one active call of a user, as the availability endpoint shows it.
type Channel struct {
	To          string
	From        string
	CallSeconds int
	Direction   string // inbound or outbound
}

// QueueLiveStats is a queue's live state.
type QueueLiveStats struct {
	AgentsOnline    int
	AgentsAvailable int
	AgentsOnCall    int
	ActiveCalls     int

	// The fields below are filled by the call engine (pbx), which runs the queues; the SIP
	// core alone leaves them zero.
	CallersWaiting     int
	CallbacksPending   int // of CallersWaiting, the callers who hung up to be called back
	LongestWaitSeconds int
	Today              QueueDayStats // since midnight UTC
	ServiceLevel       int           // the queue's threshold in seconds
}

// LiveState reports who is registered, who is on a call, and how queues stand.
type LiveState interface {
	// UserPresence returns whether any device of the user has a live registration, and the
	// user's active calls.
	UserPresence(accountID, userID int64) (registered bool, channels []Channel)
	QueueStats(accountID, queueID int64) QueueLiveStats
}

// OutboundCallRequest is a click-to-call request, already validated by the API.
type OutboundCallRequest struct {
	AccountID int64
	FromUser  *User
	To        string // E.164
	CallerID  string // E.164 or ""
	Recording bool
	CRMID     string
}

// OutboundCall is what placing a call answers at once.
type OutboundCall struct {
	CallID string
	Status string // "initiating"
}

// CallPlacer places click-to-call calls.
type CallPlacer interface {
	PlaceCall(ctx context.Context, req OutboundCallRequest) (*OutboundCall, error)
}

// CallController acts on calls in progress (the call engine implements it).
type CallController interface {
	// TransferCall transfers an answered call blind to `to` (an extension of a user, queue
	// or ring group, a phone number, or a park slot of the account): the party of the user
	// the call's record names leaves, the other party is put through. It returns once the
	// transfer has started. ENOTFOUND: no such call in progress, or no such target;
	// ECONFLICT: the call cannot be transferred now (not answered, already being
	// transferred, park lot full, target unreachable); EBADREQUEST: a target not allowed.
	TransferCall(ctx context.Context, accountID int64, callID, to string) error
	// HangupCall ends a call in progress. ENOTFOUND: no such call in progress.
	HangupCall(ctx context.Context, accountID int64, callID string) error
}

// SMSRequest is an SMS to send, already validated by the API.
type SMSRequest struct {
	AccountID int64
	From      *Number
	To        string // E.164
	Message   string
	SentBy    int64 // the user whose key sent it; 0 for a developer key
	// FromNumber is the sender as the client wrote it, when From is nil: the SMS service
	// resolves and checks it (an SMS-enabled number of the account; with UserKey, one the
	// SentBy user owns or is SMS-assigned to).
	FromNumber string
	UserKey    bool
}

// SMSMessage is an SMS accepted for sending.
type SMSMessage struct {
	MessageID string
	Status    string
	From, To  string // E.164, as stored
}

// SMSSender sends SMS through a carrier.
type SMSSender interface {
	SendSMS(ctx context.Context, req SMSRequest) (*SMSMessage, error)
}

// Offline is the telephony of a server with no SIP core or SMS gateway configured: nobody is
// registered, nothing is live, and placing calls or sending SMS is refused with
// SERVICE_UNAVAILABLE rather than faked.
type Offline struct{}

func (Offline) UserPresence(int64, int64) (bool, []Channel) { return false, []Channel{} }
func (Offline) QueueStats(int64, int64) QueueLiveStats      { return QueueLiveStats{} }
func (Offline) PlaceCall(context.Context, OutboundCallRequest) (*OutboundCall, error) {
	return nil, Errorf(EUNAVAILABLE, "Placing calls is not available: no SIP trunk or SIP service is configured on this server")
}
func (Offline) SendSMS(context.Context, SMSRequest) (*SMSMessage, error) {
	return nil, Errorf(EUNAVAILABLE, "Sending SMS is not available: no SMS gateway is configured on this server")
}
