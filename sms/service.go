package sms

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"switchboard"
	"switchboard/internal/ttlcache"
	"switchboard/phone"
)

// Sealer seals and opens secrets with the server's key (webhook.Sealer).
type Sealer interface {
	Seal(plaintext string) []byte
	Open(sealed []byte) (string, error)
}

// Store is what the service reads and writes: the domain store and its messages.
type Store interface {
	switchboard.Store
	switchboard.SMSStore
}

// Config configures a Service.
type Config struct {
	Store  Store
	Sealer Sealer // opens Kannel passwords; nil: none stored
	Logger *slog.Logger
	// DefaultCarrier is the carrier of accounts and numbers that choose none ("simulator"
	// with serve --demo); "" = none: sending answers 503 until the account picks one.
	DefaultCarrier string
	// PublicURL is the server's base URL as carriers reach it (Kannel's dlr-url).
	PublicURL string
	// Carriers overrides the registry (tests); nil = Carriers.
	Carriers map[string]CarrierFactory
	// Default send rates per minute, per number and per account; 0 = 600 and 6000.
	NumberRate, AccountRate int
	// SimulatorDelay is how long the simulator waits before its delivery report; 0 = 1 s.
	SimulatorDelay time.Duration
	// PollInterval is how often the worker looks for due messages without a kick; 0 = 1 s.
	PollInterval time.Duration
	// Senders is how many messages the worker hands to carriers at once; 0 = DefaultSenders.
	Senders int
	// Lease is how long a claimed message is the worker's before another may claim it
	// again; 0 = Lease (a minute).
	Lease time.Duration
	// CacheTTL is how long the senders' numbers and the SMS settings sms/send reads are kept
	// in memory; 0 = not at all. Changes through this service or this server's API
	// (ForgetAccount) drop an account's entries at once; other processes' show within it.
	CacheTTL time.Duration
}

// DefaultSenders is how many messages the worker has in flight to carriers by default. The
// worker's rate is Senders per carrier round trip, and Kannel's sendsms answers only once
// bearerbox has stored the message: its round trip grows with the load of the machine (6 ms
// idle, 25–65 ms beside a busy Switchboard, whose goroutines then wait for the core to read
// the answers). With 16, bench/sms delivered at most about 650 msg/s through Kannel; with 64,
// 1,100–2,000 msg/s while the API accepted up to 3,600, so the outbox fell behind; with 128
// delivery keeps pace with acceptance (256 was no better).
const DefaultSenders = 128

// CarrierConfig is what a carrier factory gets: the effective settings of the number (its
// own over the account's), the opened Kannel password, where to report back.
type CarrierConfig struct {
	Settings  switchboard.SMSSettings
	Password  string // Settings.KannelPassword opened
	Inbox     switchboard.SMSInbox
	PublicURL string
	Logger    *slog.Logger
}

// CarrierFactory builds a carrier from its configuration.
type CarrierFactory func(CarrierConfig) (switchboard.SMSCarrier, error)

// Carriers is the registry of carriers by sms_carrier name. The kannel and sip packages add
// theirs ("kannel", "sip") from cmd/switchboard; the simulator is built in.
var Carriers = map[string]CarrierFactory{}

// CarrierNames are the values sms_carrier accepts.
var CarrierNames = []string{"simulator", "kannel", "sip"}

// Service sends and receives SMS. It implements switchboard.SMSSender (sms/send),
// switchboard.SMSInbox (carriers' callbacks) and switchboard.PhoneSMS (SIP MESSAGE).
type Service struct {
	cfg       Config
	st        Store
	log       *slog.Logger
	simulator *Simulator
	kick      chan struct{}
	// numbers are the account's numbers by the sender as written (senderNumber); settings
	// are the settings rows (Effective). Both for Config.CacheTTL.
	numbers  *ttlcache.Map[numberKey, []*switchboard.Number]
	settings *ttlcache.Map[settingsKey, *switchboard.SMSSettings]

	mu       sync.Mutex
	phones   switchboard.PhoneMessenger
	carriers map[string]switchboard.SMSCarrier // by configuration key
	buckets  map[string]*bucket
	// turns are the messages held back by a send rate (reserve), by id.
	turns      map[string]turn
	turnsSwept time.Time
	// sent are the messages a carrier took from this process, by id, with their copy as
	// recorded sent: the delivery report that follows changes the copy without reading the
	// message first (UpdateMessageFrom). At most maxRemembered; a report that finds none
	// reads it.
	sent map[string]*sentCopy
}

// sentCopy is a message a carrier took: m is its copy as recorded sent, set before ready is
// closed (nil when the record failed or found the message changed).
type sentCopy struct {
	m     *switchboard.Message
	ready chan struct{}
}

// New returns a service; Run starts its worker.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.NumberRate == 0 {
		cfg.NumberRate = 600
	}
	if cfg.AccountRate == 0 {
		cfg.AccountRate = 6000
	}
	if cfg.SimulatorDelay == 0 {
		cfg.SimulatorDelay = time.Second
	}
	if cfg.Senders <= 0 {
		cfg.Senders = DefaultSenders
	}
	if cfg.Lease == 0 {
		cfg.Lease = Lease
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = time.Second
	}
	s := &Service{cfg: cfg, st: cfg.Store, log: cfg.Logger, kick: make(chan struct{}, 1),
		numbers:  ttlcache.New[numberKey, []*switchboard.Number](cfg.CacheTTL, nil),
		settings: ttlcache.New[settingsKey, *switchboard.SMSSettings](cfg.CacheTTL, nil),
		carriers: map[string]switchboard.SMSCarrier{}, buckets: map[string]*bucket{}, turns: map[string]turn{},
		sent: map[string]*sentCopy{}}
	s.simulator = NewSimulator(s, cfg.SimulatorDelay)
	return s
}

// SetPhoneMessenger connects the SIP side (inbound SMS and phone-to-phone to phones).
func (s *Service) SetPhoneMessenger(p switchboard.PhoneMessenger) {
	s.mu.Lock()
	s.phones = p
	s.mu.Unlock()
}

// Simulator is the service's simulated carrier.
func (s *Service) Simulator() *Simulator { return s.simulator }

var (
	_ switchboard.SMSSender = (*Service)(nil)
	_ switchboard.SMSInbox  = (*Service)(nil)
	_ switchboard.PhoneSMS  = (*Service)(nil)
)

// NewMessageID returns a fresh message id ("msg_" + 32 hex, time-ordered: new messages share
// index pages, see switchboard.NewOrderedID).
func NewMessageID() string { return switchboard.NewOrderedID("msg_") }

// premiumPrefixes are E.164 prefixes of premium-rate services refused unless the account
// allows premium numbers: NANP 900 and 976, UK 09 and 087, DE 0900, FR 089, AU 190.
var premiumPrefixes = []string{"+1900", "+1976", "+449", "+4487", "+49900", "+3389", "+61190"}

// shortCodeRE is a short code: 3 to 6 digits, as carriers route them.
var shortCodeRE = regexp.MustCompile(`^[0-9]{3,6}$`)

// Effective returns the settings for a number: its own values over the account's.
func (s *Service) Effective(ctx context.Context, accountID, numberID int64) (switchboard.SMSSettings, error) {
	return effective(ctx, s.cachedSettings, accountID, numberID)
}

type numberKey struct {
	account int64
	number  string
}

type settingsKey struct{ account, number int64 }

// cachedSettings reads a settings row through the cache (Config.CacheTTL); the row is
// shared: not to be modified.
func (s *Service) cachedSettings(ctx context.Context, accountID, numberID int64) (*switchboard.SMSSettings, error) {
	return s.settings.Get(settingsKey{accountID, numberID}, func() (*switchboard.SMSSettings, error) {
		return s.st.GetSMSSettings(ctx, accountID, numberID)
	})
}

// numbersNamed lists the account's numbers stored as number, through the cache.
func (s *Service) numbersNamed(ctx context.Context, accountID int64, number string) ([]*switchboard.Number, error) {
	return s.numbers.Get(numberKey{accountID, number}, func() ([]*switchboard.Number, error) {
		return s.st.ListNumbers(ctx, accountID, switchboard.NumberFilter{Number: number})
	})
}

// ForgetAccount drops what the cache holds of the account: its numbers or settings changed.
func (s *Service) ForgetAccount(accountID int64) {
	s.numbers.DeleteFunc(func(k numberKey, _ []*switchboard.Number) bool { return k.account == accountID })
	s.settings.DeleteFunc(func(k settingsKey, _ *switchboard.SMSSettings) bool { return k.account == accountID })
}

// settingsReader reads an account's (numberID 0) or a number's settings row.
type settingsReader func(ctx context.Context, accountID, numberID int64) (*switchboard.SMSSettings, error)

func effective(ctx context.Context, get settingsReader, accountID, numberID int64) (switchboard.SMSSettings, error) {
	acc, err := get(ctx, accountID, 0)
	if err != nil {
		return switchboard.SMSSettings{}, err
	}
	eff := *acc
	if numberID == 0 {
		return eff, nil
	}
	num, err := get(ctx, accountID, numberID)
	if err != nil {
		return switchboard.SMSSettings{}, err
	}
	eff.NumberID = numberID
	if num.MaxParts != 0 {
		eff.MaxParts = num.MaxParts
	}
	if num.Carrier != "" {
		eff.Carrier = num.Carrier
		eff.KannelURL, eff.KannelUser, eff.KannelPassword, eff.KannelSMSC = num.KannelURL, num.KannelUser, num.KannelPassword, num.KannelSMSC
	}
	if num.AllowPremium {
		eff.AllowPremium = true
	}
	eff.RatePerMinute = num.RatePerMinute // the number's own rate; the account's is read apart
	return eff, nil
}

// SendSMS checks and queues an SMS from the API (sms/send). req.FromNumber is the sender as
// the client wrote it; with a user key (req.UserKey), the number must be the user's own or
// SMS-assigned to them. The message is stored queued and the worker sends it.
func (s *Service) SendSMS(ctx context.Context, req switchboard.SMSRequest) (*switchboard.SMSMessage, error) {
	v := switchboard.ValidationErrors{}
	from := req.From
	if from == nil {
		var err error
		if from, err = s.senderNumber(ctx, v, req); err != nil {
			return nil, err
		}
	}
	m, err := s.queue(ctx, v, from, req.To, req.Message, req.SentBy)
	if err != nil {
		return nil, err
	}
	return &switchboard.SMSMessage{MessageID: m.ID, Status: m.Status, From: m.From, To: m.To}, nil
}

// senderNumber resolves and checks sms/send's from.
func (s *Service) senderNumber(ctx context.Context, v switchboard.ValidationErrors, req switchboard.SMSRequest) (*switchboard.Number, error) {
	if req.FromNumber == "" {
		v.Add("from", "is required: one of your SMS-enabled numbers")
		return nil, nil
	}
	// The account's numbers are stored in E.164, as clients mostly write them: one found as
	// written needs no parsing (the parser is a tenth of sms/send's CPU).
	list, err := s.numbersNamed(ctx, req.AccountID, req.FromNumber)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		e164, ok := phone.Normalize(req.FromNumber)
		if !ok {
			v.Add("from", "is not a valid phone number")
			return nil, nil
		}
		if e164 != req.FromNumber {
			if list, err = s.numbersNamed(ctx, req.AccountID, e164); err != nil {
				return nil, err
			}
		}
	}
	switch {
	case len(list) == 0:
		v.Add("from", "must be one of this account's numbers")
	case !list[0].SMSEnabled:
		v.Add("from", "does not have SMS enabled")
	case req.UserKey && list[0].OwnerUserID != req.SentBy && list[0].SMSAssignedUserID != req.SentBy:
		v.Add("from", "must be a number you own or are SMS-assigned to")
	default:
		return list[0], nil
	}
	return nil, nil
}

// queue checks to and body (adding to v), then the carrier, and stores the message queued
// unless its recipient opted out (the store checks that as it inserts). from nil means from
// had a problem already in v.
func (s *Service) queue(ctx context.Context, v switchboard.ValidationErrors, from *switchboard.Number, rawTo, body string, sentBy int64) (*switchboard.Message, error) {
	set := switchboard.SMSSettings{}
	if from != nil {
		var err error
		if set, err = s.Effective(ctx, from.AccountID, from.ID); err != nil {
			return nil, err
		}
	}
	to := s.checkTo(v, rawTo, set.AllowPremium)
	count, err := CheckBody(body, set.MaxParts)
	if err != nil {
		v.Add("message", fieldMessage(err))
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	carrier := s.carrierName(set)
	if carrier == "" {
		return nil, switchboard.Errorf(switchboard.EUNAVAILABLE,
			"Sending SMS is not available: no SMS carrier is configured for this account (set sms_carrier in PUT /sms/settings)")
	}
	if carrier != "simulator" && s.factory(carrier) == nil {
		return nil, switchboard.Errorf(switchboard.EUNAVAILABLE, "Sending SMS is not available: the %s carrier is not available on this server", carrier)
	}
	userID := sentBy
	if userID == 0 {
		userID = from.SMSAssignedUserID
		if userID == 0 {
			userID = from.OwnerUserID
		}
	}
	now := time.Now().UTC()
	m := &switchboard.Message{ID: NewMessageID(), AccountID: from.AccountID, Direction: switchboard.SMSOutbound,
		From: from.Number, To: to, Body: body, Encoding: count.Encoding, Segments: count.Segments,
		Status: switchboard.SMSQueued, Carrier: carrier, NumberID: from.ID, UserID: userID, SentByUserID: sentBy,
		NextAttemptAt: now, CreatedAt: now}
	if err := s.st.CreateMessage(ctx, m, switchboard.MessageStatusChange{Status: switchboard.SMSQueued}, nil); err != nil {
		if errors.Is(err, switchboard.ErrOptedOut) {
			return nil, switchboard.FieldError(switchboard.EBADREQUEST, "to",
				to+" has opted out of messages from "+from.Number+" (replied STOP); they opt in again by texting START")
		}
		return nil, err
	}
	s.Kick()
	return m, nil
}

func fieldMessage(err error) string {
	var e *switchboard.Error
	if ok := asErr(err, &e); ok && len(e.Details) > 0 {
		for _, d := range e.Details {
			return d
		}
	}
	return err.Error()
}

// checkTo normalises a recipient; short codes and premium numbers only when allowed.
func (s *Service) checkTo(v switchboard.ValidationErrors, raw string, allowPremium bool) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		v.Add("to", "is required: the recipient's number in E.164 (+15551234567)")
		return ""
	}
	if shortCodeRE.MatchString(raw) {
		if !allowPremium {
			v.Add("to", "is a short code; sending to short codes needs allow_premium in the account's SMS settings")
		}
		return raw
	}
	to, ok := phone.Normalize(raw)
	if !ok {
		v.Add("to", "is not a valid phone number (E.164, e.g. +15551234567)")
		return ""
	}
	if !allowPremium {
		for _, p := range premiumPrefixes {
			if strings.HasPrefix(to, p) {
				v.Add("to", "is a premium-rate number; sending to it needs allow_premium in the account's SMS settings")
				break
			}
		}
	}
	return to
}

func (s *Service) carrierName(set switchboard.SMSSettings) string {
	if set.Carrier != "" {
		return set.Carrier
	}
	return s.cfg.DefaultCarrier
}

func (s *Service) factory(name string) CarrierFactory {
	reg := s.cfg.Carriers
	if reg == nil {
		reg = Carriers
	}
	return reg[name]
}

// carrier builds (once per configuration) the carrier of the settings.
func (s *Service) carrier(set switchboard.SMSSettings) (switchboard.SMSCarrier, error) {
	name := s.carrierName(set)
	f := s.factory(name)
	if f == nil {
		if name == "simulator" {
			return s.simulator, nil
		}
		return nil, &switchboard.CarrierError{Reason: fmt.Sprintf("carrier %q is not available on this server", name)}
	}
	key := fmt.Sprintf("%s|%s|%s|%x|%s", name, set.KannelURL, set.KannelUser, set.KannelPassword, set.KannelSMSC)
	s.mu.Lock()
	c := s.carriers[key]
	s.mu.Unlock()
	if c != nil {
		return c, nil
	}
	cc := CarrierConfig{Settings: set, Inbox: s, PublicURL: s.cfg.PublicURL, Logger: s.log}
	if len(set.KannelPassword) > 0 && s.cfg.Sealer != nil {
		pw, err := s.cfg.Sealer.Open(set.KannelPassword)
		if err != nil {
			return nil, &switchboard.CarrierError{Permanent: true, Reason: "the carrier's stored password cannot be opened with this server's key"}
		}
		cc.Password = pw
	}
	c, err := f(cc)
	if err != nil {
		return nil, &switchboard.CarrierError{Reason: "carrier " + name + ": " + err.Error()}
	}
	s.mu.Lock()
	s.carriers[key] = c
	s.mu.Unlock()
	return c, nil
}

// stopWords and startWords are the opt-out keywords carriers honour (CTIA).
var (
	stopWords  = map[string]bool{"STOP": true, "STOPALL": true, "UNSUBSCRIBE": true, "CANCEL": true, "END": true, "QUIT": true}
	startWords = map[string]bool{"START": true, "UNSTOP": true, "YES": true}
)

// Receive stores an inbound message (see switchboard.SMSInbox).
func (s *Service) Receive(ctx context.Context, carrier, from, to, body, carrierRef string) (*switchboard.Message, error) {
	if e, ok := phone.Normalize(to); ok {
		to = e // gateways often drop the + (Kannel's %P)
	}
	num, err := s.st.GetNumberByE164(ctx, to)
	if err != nil {
		return nil, err
	}
	if !num.SMSEnabled {
		return nil, switchboard.Errorf(switchboard.ENOTFOUND, "Number %s does not receive SMS (sms_enabled is off)", to)
	}
	if carrierRef != "" {
		// A carrier that did not hear our answer delivers the message again: store it once.
		m, err := s.st.GetInboundByCarrierRef(ctx, num.AccountID, num.ID, carrier, carrierRef)
		if err == nil {
			return m, nil
		}
		if switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			return nil, err
		}
	}
	if !utf8.ValidString(body) {
		body = strings.ToValidUTF8(body, "\uFFFD")
	}
	if e, ok := phone.Normalize(from); ok {
		from = e
	}
	switch kw := strings.ToUpper(strings.TrimSpace(body)); {
	case stopWords[kw]:
		if err := s.st.SetSMSOptOut(ctx, num.AccountID, num.ID, from, true); err != nil {
			return nil, err
		}
	case startWords[kw]:
		if err := s.st.SetSMSOptOut(ctx, num.AccountID, num.ID, from, false); err != nil {
			return nil, err
		}
	}
	user := num.SMSAssignedUserID
	if user == 0 {
		user = num.OwnerUserID
	}
	count := CountBody(body)
	m := &switchboard.Message{ID: NewMessageID(), AccountID: num.AccountID, Direction: switchboard.SMSInbound,
		From: from, To: num.Number, Body: body, Encoding: count.Encoding, Segments: count.Segments,
		Status: switchboard.SMSReceived, Carrier: carrier, CarrierRef: carrierRef, NumberID: num.ID, UserID: user,
		PhonePending: user != 0, PhoneUserID: user}
	data := map[string]any{"message_id": m.ID, "from": from, "to": []string{num.Number}, "body": body}
	if user != 0 {
		data["user_id"] = user
	}
	ev := switchboard.NewEvent(num.AccountID, switchboard.EventSMSReceived, data)
	if err := s.st.CreateMessage(ctx, m, switchboard.MessageStatusChange{Status: switchboard.SMSReceived}, []*switchboard.Event{ev}); err != nil {
		return nil, err
	}
	if user != 0 {
		s.toPhones(ctx, m)
	}
	return m, nil
}

// Report applies a delivery report (see switchboard.SMSInbox).
func (s *Service) Report(ctx context.Context, accountID int64, carrier, messageID, status, carrierStatus string) error {
	switch status {
	case switchboard.SMSDelivered, switchboard.SMSFailed, switchboard.SMSUndelivered:
	default:
		return switchboard.FieldError(switchboard.EBADREQUEST, "status", "must be delivered, failed or undelivered")
	}
	unknown := func(m *switchboard.Message) error {
		if m.AccountID != accountID || m.Direction != switchboard.SMSOutbound || (carrier != "" && m.Carrier != carrier) {
			return switchboard.Errorf(switchboard.ENOTFOUND, "Message %s not found", messageID)
		}
		return nil
	}
	report := func(m *switchboard.Message) ([]switchboard.MessageStatusChange, []*switchboard.Event, error) {
		if err := unknown(m); err != nil {
			return nil, nil, err
		}
		switch m.Status {
		case switchboard.SMSDelivered, switchboard.SMSFailed, switchboard.SMSUndelivered:
			return nil, nil, nil // a repeated or late report: the first final one stands
		}
		var history []switchboard.MessageStatusChange
		var events []*switchboard.Event
		if m.Status == switchboard.SMSQueued || m.Status == switchboard.SMSSending {
			// A report that overtakes the worker's confirmation: the carrier had the message,
			// so it was sent; that is recorded first (its own history row and sms.sent).
			m.Status = switchboard.SMSSent
			history = append(history, switchboard.MessageStatusChange{Status: switchboard.SMSSent})
			events = append(events, s.sentEvent(m))
		}
		m.Status = status
		if status == switchboard.SMSDelivered {
			m.Error = ""
			events = append(events, switchboard.NewEvent(m.AccountID, switchboard.EventSMSDelivered, map[string]any{
				"message_id": m.ID, "from": m.From, "to": []string{m.To}, "status": status, "carrier_status": carrierStatus}))
		} else {
			m.Error = "the carrier reported " + status
			if carrierStatus != "" {
				m.Error += ": " + carrierStatus
			}
			events = append(events, s.failedEvent(m, carrierStatus))
		}
		history = append(history, switchboard.MessageStatusChange{Status: status, CarrierStatus: carrierStatus})
		return history, events, nil
	}
	var err error
	if sent := s.takeSent(ctx, messageID); sent != nil {
		_, err = s.st.UpdateMessageFrom(ctx, sent, report)
	} else {
		_, err = s.st.UpdateMessageFunc(ctx, messageID, report)
	}
	return err
}

// maxRemembered bounds Service.sent; past it the map is cleared.
const maxRemembered = 10_000

// recordWait bounds a delivery report's wait for the record of its message's send.
const recordWait = time.Second

// carrierTook notes that a carrier took m; the copy its record writes follows (recorded).
func (s *Service) carrierTook(m *switchboard.Message) *sentCopy {
	c := &sentCopy{ready: make(chan struct{})}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sent) >= maxRemembered {
		clear(s.sent)
	}
	s.sent[m.ID] = c
	return c
}

// recorded hands the report the copy of the message as recorded sent (nil when it was not).
func (c *sentCopy) recorded(m *switchboard.Message) {
	c.m = m
	close(c.ready)
}

// takeSent returns and forgets the copy of the message as recorded sent, nil when there is
// none. A report often overtakes the record of the carrier's answer (the carrier reports
// within milliseconds, while the record waits for its group's commit): it waits for the
// record, which saves it reading the message and the record finding it changed.
func (s *Service) takeSent(ctx context.Context, id string) *switchboard.Message {
	s.mu.Lock()
	c := s.sent[id]
	delete(s.sent, id)
	s.mu.Unlock()
	if c == nil {
		return nil
	}
	select {
	case <-c.ready:
		return c.m
	default:
	}
	t := time.NewTimer(recordWait)
	defer t.Stop()
	select {
	case <-c.ready:
		return c.m
	case <-t.C:
	case <-ctx.Done():
	}
	return nil
}

func (s *Service) sentEvent(m *switchboard.Message) *switchboard.Event {
	data := map[string]any{"message_id": m.ID, "from": m.From, "to": []string{m.To}, "body": m.Body}
	if m.SentByUserID != 0 {
		data["user_id"] = m.SentByUserID
	}
	return switchboard.NewEvent(m.AccountID, switchboard.EventSMSSent, data)
}

func (s *Service) failedEvent(m *switchboard.Message, carrierStatus string) *switchboard.Event {
	data := map[string]any{"message_id": m.ID, "from": m.From, "to": []string{m.To}, "status": m.Status, "error": m.Error}
	if carrierStatus != "" {
		data["carrier_status"] = carrierStatus
	}
	if m.SentByUserID != 0 {
		data["user_id"] = m.SentByUserID
	}
	return switchboard.NewEvent(m.AccountID, switchboard.EventSMSFailed, data)
}

// FromPhone: a user's phone sent a SIP MESSAGE (see switchboard.PhoneSMS).
func (s *Service) FromPhone(ctx context.Context, accountID, userID int64, to, body string) (*switchboard.Message, error) {
	sender, err := s.st.GetUser(ctx, accountID, userID)
	if err != nil {
		return nil, err
	}
	if switchboard.ValidExtension(to) {
		target, err := s.st.GetUserByExtension(ctx, accountID, to)
		if err != nil {
			return nil, err
		}
		if body == "" || !utf8.ValidString(body) {
			return nil, switchboard.FieldError(switchboard.EBADREQUEST, "message", "must be non-empty UTF-8")
		}
		count := CountBody(body)
		m := &switchboard.Message{ID: NewMessageID(), AccountID: accountID, Direction: switchboard.SMSOutbound,
			From: sender.Extension, To: target.Extension, Body: body, Encoding: count.Encoding, Segments: count.Segments,
			Status: switchboard.SMSSent, Carrier: "phone", UserID: userID, SentByUserID: userID,
			PhonePending: true, PhoneUserID: target.ID}
		if err := s.st.CreateMessage(ctx, m, switchboard.MessageStatusChange{Status: switchboard.SMSSent}, nil); err != nil {
			return nil, err
		}
		s.toPhones(ctx, m)
		return s.st.GetMessage(ctx, accountID, m.ID)
	}
	nums, err := s.st.ListNumbers(ctx, accountID, switchboard.NumberFilter{AssignedToUserID: userID})
	if err != nil {
		return nil, err
	}
	var from *switchboard.Number
	for _, n := range nums {
		if n.SMSEnabled && (from == nil || n.SMSAssignedUserID == userID) {
			from = n
		}
	}
	if from == nil {
		return nil, switchboard.FieldError(switchboard.EBADREQUEST, "from", "the user has no SMS-enabled number (owned or SMS-assigned)")
	}
	return s.queue(ctx, switchboard.ValidationErrors{}, from, to, body, userID)
}

// UserRegistered retries the user's pending phone deliveries (see switchboard.PhoneSMS).
func (s *Service) UserRegistered(ctx context.Context, accountID, userID int64) {
	pending, err := s.st.PhonePending(ctx, accountID, userID)
	if err != nil {
		s.log.Warn("sms: pending phone deliveries", "account_id", accountID, "user_id", userID, "err", err)
		return
	}
	for _, m := range pending {
		s.toPhones(ctx, m)
	}
}

// toPhones offers m to its user's phones; once one accepts, it is no longer pending (and a
// phone-to-phone message is delivered).
func (s *Service) toPhones(ctx context.Context, m *switchboard.Message) {
	s.mu.Lock()
	p := s.phones
	s.mu.Unlock()
	if p == nil || !m.PhonePending {
		return
	}
	n, err := p.DeliverToUser(ctx, m.AccountID, m.PhoneUserID, m.From, m.Body)
	if err != nil || n == 0 {
		if err != nil {
			s.log.Info("sms: to phones", "message_id", m.ID, "err", err)
		}
		return
	}
	_, err = s.st.UpdateMessageFunc(ctx, m.ID, func(m *switchboard.Message) ([]switchboard.MessageStatusChange, []*switchboard.Event, error) {
		if !m.PhonePending {
			return nil, nil, nil
		}
		m.PhonePending = false
		if m.Carrier == "phone" && m.Status == switchboard.SMSSent {
			m.Status = switchboard.SMSDelivered
			return []switchboard.MessageStatusChange{{Status: switchboard.SMSDelivered, CarrierStatus: fmt.Sprintf("accepted by %d phone(s)", n)}}, nil, nil
		}
		return nil, nil, nil
	})
	if err != nil {
		s.log.Warn("sms: clear phone pending", "message_id", m.ID, "err", err)
	}
}

// SetPublicURL sets the base URL carriers call back on, unless Config gave one.
func (s *Service) SetPublicURL(u string) {
	s.mu.Lock()
	if s.cfg.PublicURL == "" {
		s.cfg.PublicURL = u
	}
	s.mu.Unlock()
}
