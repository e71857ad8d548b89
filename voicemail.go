package switchboard

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Canonical voicemail events besides voicemail.left (event.go): a message was listened to
// (by phone or marked read by API) or removed. Both change the message waiting lamp.
const (
	EventVoicemailRead    = "voicemail.read"
	EventVoicemailDeleted = "voicemail.deleted"
)

// VoicemailBox is a mailbox: one per user (created on first use, UserID set) or a shared
// box of the account (UserID 0) that call flows send callers to. The PIN guards listening
// by phone; it is kept as a salted PBKDF2 hash only.
type VoicemailBox struct {
	ID        int64
	AccountID int64
	UserID    int64 // 0 for a shared box
	Name      string
	// PINHash is "pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>", "" for no PIN.
	PINHash string
	// GreetingKey is the blob of the box's own greeting (8 kHz µ-law), "" for the default.
	GreetingKey string
	// MaxMessageSeconds bounds one message; MaxMessages the messages kept (new and old).
	MaxMessageSeconds int
	MaxMessages       int
	// Which situations of a direct call to the box's user go to voicemail.
	OnNoAnswer, OnBusy, OnDND, OnOffline bool
	// Email sends each new message to the user's email address (when the server has an
	// SMTP server configured); EmailAttach attaches the WAV, else the mail holds a signed link.
	Email, EmailAttach   bool
	CreatedAt, UpdatedAt time.Time
}

// Defaults of a new box.
const (
	DefaultVoicemailMaxSeconds  = 180
	DefaultVoicemailMaxMessages = 100
	MaxVoicemailMaxSeconds      = 600
	MaxVoicemailMaxMessages     = 1000
)

// NewVoicemailBox returns a box with the defaults: every situation goes to voicemail, no
// PIN, no email.
func NewVoicemailBox(accountID, userID int64, name string) *VoicemailBox {
	return &VoicemailBox{AccountID: accountID, UserID: userID, Name: name,
		MaxMessageSeconds: DefaultVoicemailMaxSeconds, MaxMessages: DefaultVoicemailMaxMessages,
		OnNoAnswer: true, OnBusy: true, OnDND: true, OnOffline: true, EmailAttach: true}
}

// Validate checks the box's fields.
func (b *VoicemailBox) Validate() error {
	v := ValidationErrors{}
	if strings.TrimSpace(b.Name) == "" || len(b.Name) > 80 {
		v.Add("name", "must be 1 to 80 characters")
	}
	if b.MaxMessageSeconds < 5 || b.MaxMessageSeconds > MaxVoicemailMaxSeconds {
		v.Add("max_message_seconds", "must be between 5 and "+strconv.Itoa(MaxVoicemailMaxSeconds))
	}
	if b.MaxMessages < 1 || b.MaxMessages > MaxVoicemailMaxMessages {
		v.Add("max_messages", "must be between 1 and "+strconv.Itoa(MaxVoicemailMaxMessages))
	}
	return v.Err()
}

// VoicemailBoxChange is a create or PATCH of a box: nil fields are left as they are. PIN
// "" removes the PIN.
type VoicemailBoxChange struct {
	Name                                 *string
	PIN                                  *string
	MaxMessageSeconds, MaxMessages       *int
	OnNoAnswer, OnBusy, OnDND, OnOffline *bool
	Email, EmailAttach                   *bool
}

// A PIN is 4 to 10 digits: what a keypad sends.
var voicemailPIN = regexp.MustCompile(`^[0-9]{4,10}$`)

// ValidVoicemailPIN reports whether s can be a box's PIN.
func ValidVoicemailPIN(s string) bool { return voicemailPIN.MatchString(s) }

// pinIterations makes an offline guess of a leaked hash cost ~100k SHA-256 rounds: PINs
// are short, so a plain hash would fall to a table at once.
const pinIterations = 100_000

// HashVoicemailPIN returns the stored form of pin (salted PBKDF2-SHA256).
func HashVoicemailPIN(pin string) string {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	key, _ := pbkdf2.Key(sha256.New, pin, salt, pinIterations, 32)
	return "pbkdf2-sha256$" + strconv.Itoa(pinIterations) + "$" + hex.EncodeToString(salt) + "$" + hex.EncodeToString(key)
}

// CheckPIN reports whether pin is the box's PIN; a box without a PIN takes any. The
// comparison is constant-time.
func (b *VoicemailBox) CheckPIN(pin string) bool {
	if b.PINHash == "" {
		return true
	}
	parts := strings.Split(b.PINHash, "$")
	if len(parts) != 4 || parts[0] != "pbkdf2-sha256" {
		return false
	}
	iter, err1 := strconv.Atoi(parts[1])
	salt, err2 := hex.DecodeString(parts[2])
	want, err3 := hex.DecodeString(parts[3])
	if err1 != nil || err2 != nil || err3 != nil || iter < 1 {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, pin, salt, iter, len(want))
	return err == nil && subtle.ConstantTimeCompare(got, want) == 1
}

// VoicemailMessage is one message left in a box. Its audio (a WAV file, 8 kHz 16-bit
// mono) is kept in the BlobStore under AudioKey.
type VoicemailMessage struct {
	ID         int64
	AccountID  int64
	BoxID      int64
	CallID     string // the uniqueid of the call that left it
	From       string // the caller's number or extension, "" when anonymous
	CallerName string
	DurationMS int
	AudioKey   string
	AudioBytes int64
	Read       bool
	CreatedAt  time.Time
	ReadAt     time.Time
}

// Duration is how long the message is.
func (m *VoicemailMessage) Duration() time.Duration {
	return time.Duration(m.DurationMS) * time.Millisecond
}

// VoicemailFilter picks messages of a box: Read nil for all, else only read or unread ones.
type VoicemailFilter struct {
	BoxID int64
	Read  *bool
}

// VoicemailCounts is what a message waiting lamp shows (RFC 3842): new and old messages.
type VoicemailCounts struct{ New, Old int }

// VoicemailService keeps boxes and messages: one validated path for the API, the call
// engine and *97. provision.Service implements it.
type VoicemailService interface {
	// UserVoicemailBox returns the user's box, creating it (defaults) on first use.
	UserVoicemailBox(ctx context.Context, accountID, userID int64) (*VoicemailBox, error)
	CreateVoicemailBox(ctx context.Context, accountID int64, c VoicemailBoxChange) (*VoicemailBox, error)
	UpdateVoicemailBox(ctx context.Context, accountID, id int64, c VoicemailBoxChange) (*VoicemailBox, error)
	DeleteVoicemailBox(ctx context.Context, accountID, id int64) error
	// SetVoicemailGreeting converts an uploaded WAV or MP3 and makes it the box's greeting;
	// DeleteVoicemailGreeting brings back the default.
	SetVoicemailGreeting(ctx context.Context, accountID, id int64, u MusicUpload) (*VoicemailBox, error)
	DeleteVoicemailGreeting(ctx context.Context, accountID, id int64) (*VoicemailBox, error)
	// VoicemailGreeting is the box's own greeting as 8 kHz PCM, nil for the default.
	VoicemailGreeting(ctx context.Context, b *VoicemailBox) ([]int16, error)
	// LeaveVoicemail stores the WAV and the message with its voicemail.left event (built by
	// event once the message has its id) in one transaction. A full box is ECONFLICT.
	LeaveVoicemail(ctx context.Context, m *VoicemailMessage, wav []byte, event func(*VoicemailMessage) *Event) error
	MarkVoicemailRead(ctx context.Context, accountID, id int64) (*VoicemailMessage, error)
	DeleteVoicemailMessage(ctx context.Context, accountID, id int64) error
	// OpenVoicemailAudio opens a message's WAV.
	OpenVoicemailAudio(ctx context.Context, accountID, id int64) (*VoicemailMessage, io.ReadSeekCloser, int64, error)
}

// VoicemailLinks signs and checks the expiring download links of messages: an HMAC-SHA256
// over account, message and expiry with a server secret, so that a webhook or email
// receiver fetches the audio without an API key.
type VoicemailLinks struct {
	Key     []byte // the server secret (derived from the secret key)
	BaseURL string // the public base URL of the API, e.g. https://pbx.example.com
	TTL     time.Duration
}

// DefaultVoicemailLinkTTL is how long a signed link works.
const DefaultVoicemailLinkTTL = 7 * 24 * time.Hour

func (l *VoicemailLinks) mac(accountID, messageID, expires int64) []byte {
	h := hmac.New(sha256.New, l.Key)
	h.Write([]byte("voicemail-audio\x00" + strconv.FormatInt(accountID, 10) + "\x00" +
		strconv.FormatInt(messageID, 10) + "\x00" + strconv.FormatInt(expires, 10)))
	return h.Sum(nil)
}

// URL is the signed link to a message's audio, valid until now + TTL.
func (l *VoicemailLinks) URL(accountID, messageID int64, now time.Time) string {
	ttl := l.TTL
	if ttl <= 0 {
		ttl = DefaultVoicemailLinkTTL
	}
	exp := now.Add(ttl).Unix()
	q := url.Values{"expires": {strconv.FormatInt(exp, 10)}, "sig": {hex.EncodeToString(l.mac(accountID, messageID, exp))}}
	return strings.TrimRight(l.BaseURL, "/") + "/v3/voice/" + strconv.FormatInt(accountID, 10) +
		"/voicemail/messages/" + strconv.FormatInt(messageID, 10) + "/audio?" + q.Encode()
}

// Check reports whether expires and sig sign the message's link and it has not expired at
// now. The signature is compared in constant time.
func (l *VoicemailLinks) Check(accountID, messageID int64, expires, sig string, now time.Time) bool {
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil || len(l.Key) == 0 {
		return false
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return false
	}
	ok := hmac.Equal(got, l.mac(accountID, messageID, exp))
	return ok && now.Unix() <= exp
}

// VoicemailStore persists boxes and messages (store.DB). The event builders run inside
// the write transaction, once the message has its id.
type VoicemailStore interface {
	CreateVoicemailBox(ctx context.Context, b *VoicemailBox) error // CONFLICT: the user has one
	GetVoicemailBox(ctx context.Context, accountID, id int64) (*VoicemailBox, error)
	GetUserVoicemailBox(ctx context.Context, accountID, userID int64) (*VoicemailBox, error)
	PageVoicemailBoxes(ctx context.Context, accountID int64, p Page) (boxes []*VoicemailBox, more bool, err error)
	UpdateVoicemailBoxFunc(ctx context.Context, accountID, id int64, change func(*VoicemailBox) error) (*VoicemailBox, error)
	DeleteVoicemailBox(ctx context.Context, accountID, id int64) (audioKeys []string, err error)
	CreateVoicemailMessage(ctx context.Context, m *VoicemailMessage, event func(*VoicemailMessage) *Event) error // CONFLICT: box full
	GetVoicemailMessage(ctx context.Context, accountID, id int64) (*VoicemailMessage, error)
	PageVoicemailMessages(ctx context.Context, accountID int64, f VoicemailFilter, p Page) (msgs []*VoicemailMessage, more bool, err error)
	MarkVoicemailRead(ctx context.Context, accountID, id int64, event func(*VoicemailMessage) *Event) (m *VoicemailMessage, changed bool, err error)
	DeleteVoicemailMessage(ctx context.Context, accountID, id int64, event func(*VoicemailMessage) *Event) (*VoicemailMessage, error)
	VoicemailCounts(ctx context.Context, accountID, boxID int64) (VoicemailCounts, error)
}
