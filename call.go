package switchboard

import (
	"context"
	"net/netip"
	"strings"
	"time"
)

// Trunk is an account's SIP trunk: the carrier that takes its calls to the phone network and
// brings calls to its numbers. A call from the carrier is recognised by its source address
// alone (InboundAddresses, or Host when it is an IP literal) — never by a header, which any
// caller can forge.
type Trunk struct {
	ID        int64
	AccountID int64
	Name      string
	Host      string // the carrier's SIP server, IP or host name
	Port      int    // default 5060
	Transport string // "udp", "tcp" or "tls"
	Username  string // digest username for the carrier's challenges; "" = the carrier does not challenge
	// SealedPassword is the digest password sealed (AES-256-GCM) with the server key. It must
	// be readable to answer the carrier's challenges, so it cannot be hashed; it is never
	// stored or shown in plaintext.
	SealedPassword []byte
	// InboundAddresses are the IPs or CIDRs calls from the carrier come from. Empty means
	// Host, when Host is an IP literal.
	InboundAddresses []string
	// CallerIDNumber is the number presented on outbound calls (E.164), unless the user's own
	// number may be presented (AllowUserCallerID) and the user has one.
	CallerIDNumber    string
	AllowUserCallerID bool
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// Trunk transports.
const (
	TransportUDP = "udp"
	TransportTCP = "tcp"
	// TransportTLS: SIP over TLS, with SRTP (SDES) media on the trunk's calls.
	TransportTLS = "tls"
)

// ApplyDefaults fills the port and transport.
func (t *Trunk) ApplyDefaults() {
	if t.Port == 0 {
		t.Port = 5060
	}
	if t.Transport == "" {
		t.Transport = TransportUDP
	}
}

// Validate checks the trunk's fields.
func (t *Trunk) Validate() error {
	v := ValidationErrors{}
	if strings.TrimSpace(t.Name) == "" || len(t.Name) > 100 {
		v.Add("name", "is required, at most 100 characters")
	}
	if !validHost(t.Host) {
		v.Add("host", "must be an IP address or a host name")
	}
	if t.Port < 1 || t.Port > 65535 {
		v.Add("port", "must be between 1 and 65535")
	}
	if t.Transport != TransportUDP && t.Transport != TransportTCP && t.Transport != TransportTLS {
		v.Add("transport", "must be udp, tcp or tls")
	}
	if len(t.Username) > 128 || strings.ContainsAny(t.Username, "\"\\\r\n") {
		v.Add("username", "must be at most 128 characters, without quotes, backslashes or line breaks")
	}
	if t.Username != "" && len(t.SealedPassword) == 0 {
		v.Add("password", "is required with a username")
	}
	if len(t.InboundAddresses) > 32 {
		v.Add("inbound_addresses", "may list at most 32 addresses")
	}
	for _, a := range t.InboundAddresses {
		if _, ok := ParseAddressOrPrefix(a); !ok {
			v.Add("inbound_addresses", "must be IP addresses or CIDR prefixes")
		}
	}
	if len(t.TrunkSources()) == 0 {
		v.Add("inbound_addresses", "are required when host is not an IP address: calls from the carrier are recognised by source address only")
	}
	if t.CallerIDNumber != "" && !ValidE164(t.CallerIDNumber) {
		v.Add("caller_id_number", "must be an E.164 number such as +15551234567")
	}
	return v.Err()
}

// TrunkSources are the prefixes a call from this trunk may come from.
func (t *Trunk) TrunkSources() []netip.Prefix {
	var out []netip.Prefix
	for _, a := range t.InboundAddresses {
		if p, ok := ParseAddressOrPrefix(a); ok {
			out = append(out, p)
		}
	}
	if len(t.InboundAddresses) == 0 {
		if ip, err := netip.ParseAddr(t.Host); err == nil {
			out = append(out, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
		}
	}
	return out
}

// ParseAddressOrPrefix reads "192.0.2.7" or "192.0.2.0/24" as a prefix.
func ParseAddressOrPrefix(s string) (netip.Prefix, bool) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), true
	}
	if ip, err := netip.ParseAddr(s); err == nil {
		ip = ip.Unmap()
		return netip.PrefixFrom(ip, ip.BitLen()), true
	}
	return netip.Prefix{}, false
}

func validHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// Call directions.
const (
	CallInbound  = "inbound"
	CallOutbound = "outbound"
)

// CallDisposition is how a call ended, as its record shows it.
type CallDisposition string

const (
	DispositionAnswered  CallDisposition = "answered"
	DispositionNoAnswer  CallDisposition = "no-answer"
	DispositionBusy      CallDisposition = "busy"
	DispositionFailed    CallDisposition = "failed"
	DispositionCancelled CallDisposition = "cancelled"
)

// CallRecord is the record (CDR) of one call. A row is written when the call starts (with
// EndedAt zero) and completed when it ends, so that a call up when the process died is still
// found and closed on the next start.
type CallRecord struct {
	ID         int64
	AccountID  int64
	UniqueID   string // <epoch>.<sequence>, the events' CallID
	Direction  string // inbound or outbound
	From       string // caller id number (E.164) or extension
	To         string // the number or extension dialled
	CallerName string
	UserID     int64 // the account's user involved (who rang or dialled); 0 = none
	Extension  string
	StartedAt  time.Time
	AnsweredAt time.Time // zero when not answered
	EndedAt    time.Time // zero while the call is up
	// Duration is seconds from start to end; BillableSeconds from answer to end.
	Duration        int
	BillableSeconds int
	Disposition     CallDisposition // "" while the call is up
	CRMID           string
	// RecordingRequested says the call was placed asking for a recording (click-to-call's
	// `recording`): it is recorded whatever the recording policies say.
	RecordingRequested bool
	// TransferredTo is where the call was last transferred (the extension, number or park
	// slot dialled, blind or attended); "" when it never was. TransferredByUserID is the user
	// who transferred it (0: through the API). The record stays one per call: UserID then
	// credits the user who took the call over.
	TransferredTo       string
	TransferredByUserID int64
}

// Validate checks the record before it is stored.
func (r *CallRecord) Validate() error {
	v := ValidationErrors{}
	if r.UniqueID == "" {
		v.Add("uniqueid", "is required")
	}
	if r.Direction != CallInbound && r.Direction != CallOutbound {
		v.Add("direction", "must be inbound or outbound")
	}
	if r.StartedAt.IsZero() {
		v.Add("started_at", "is required")
	}
	switch r.Disposition {
	case "", DispositionAnswered, DispositionNoAnswer, DispositionBusy, DispositionFailed, DispositionCancelled:
	default:
		v.Add("disposition", "must be answered, no-answer, busy, failed or cancelled")
	}
	if len(r.CRMID) > 255 {
		v.Add("crm_id", "must be at most 255 characters")
	}
	return v.Err()
}

// CallRecordFilter narrows ListCallRecords; zero fields match everything.
type CallRecordFilter struct {
	UserID int64
	Limit  int // default 100, at most 1000
}

// CallStore persists trunks and call records. store.DB implements it.
type CallStore interface {
	CreateTrunk(ctx context.Context, t *Trunk) error
	GetTrunk(ctx context.Context, accountID, id int64) (*Trunk, error)
	ListTrunks(ctx context.Context, accountID int64) ([]*Trunk, error) // by id
	// ListAllTrunks returns every account's trunks: the call engine matches source addresses.
	ListAllTrunks(ctx context.Context) ([]*Trunk, error)
	// UpdateTrunk replaces the trunk's fields; a nil SealedPassword keeps the stored one.
	UpdateTrunk(ctx context.Context, t *Trunk) error
	DeleteTrunk(ctx context.Context, accountID, id int64) error

	// StartCallRecord stores the open record of a call that starts, with its events, in one
	// transaction.
	StartCallRecord(ctx context.Context, r *CallRecord, events ...*Event) error
	// EndCallRecord completes the record (answer, end, durations, disposition) with its
	// events — the ended event — in one transaction. A record already ended is ECONFLICT.
	EndCallRecord(ctx context.Context, r *CallRecord, events ...*Event) error
	// CloseOpenCallRecords ends every record still open (calls that were up when the process
	// died) at the given time with disposition failed, storing for each the event that
	// endEvent builds (nil = none) in the same transaction. It returns the records closed.
	CloseOpenCallRecords(ctx context.Context, at time.Time, endEvent func(*CallRecord) *Event) ([]*CallRecord, error)
	GetCallRecord(ctx context.Context, accountID int64, uniqueID string) (*CallRecord, error)
	ListCallRecords(ctx context.Context, accountID int64, f CallRecordFilter) ([]*CallRecord, error) // newest first
}
