package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"switchboard"
	"switchboard/phone"
	"switchboard/sms"
)

// MessageService is the SMS service's side of the Messages API (sms.Service).
type MessageService interface {
	ListMessages(ctx context.Context, accountID, userID int64, f switchboard.MessageFilter) ([]*switchboard.Message, bool, error)
	GetMessage(ctx context.Context, accountID, userID int64, id string) (*switchboard.Message, []switchboard.MessageStatusChange, error)
	Conversations(ctx context.Context, accountID, userID int64, f switchboard.MessageFilter) ([]*switchboard.Conversation, error)
	InjectInbound(ctx context.Context, accountID int64, from, to, body string) (*switchboard.Message, error)
	Settings(ctx context.Context, accountID, numberID int64) (*switchboard.SMSSettings, error)
	UpdateSettings(ctx context.Context, accountID int64, c sms.SettingsChange) (*switchboard.SMSSettings, error)
}

type messageJSON struct {
	MessageID    string  `json:"message_id" doc:"The message's id (msg_…)"`
	Direction    string  `json:"direction" doc:"inbound or outbound"`
	From         string  `json:"from" doc:"Sender: E.164, or an extension for phone-to-phone"`
	To           string  `json:"to" doc:"Recipient: E.164, or an extension"`
	Body         string  `json:"body" doc:"The text"`
	Encoding     string  `json:"encoding" doc:"gsm7 or ucs2"`
	Segments     int     `json:"segments" doc:"Parts it is sent in"`
	Status       string  `json:"status" doc:"queued, sending, sent, delivered, failed, undelivered, received"`
	Carrier      string  `json:"carrier" doc:"The carrier that handled it: simulator, kannel, sip, phone"`
	CarrierRef   string  `json:"carrier_ref" doc:"The carrier's own id, if any"`
	NumberID     *int64  `json:"number_id" doc:"The account's number it was sent from or received on"`
	UserID       *int64  `json:"user_id" doc:"The user it belongs to"`
	SentByUserID *int64  `json:"sms_sent_by_user_id" doc:"The user whose key or phone sent it; null for a developer key"`
	Attempts     int     `json:"attempts" doc:"Sends tried"`
	Error        string  `json:"error" doc:"The last failure, readable"`
	CreatedAt    string  `json:"created_at" doc:"RFC 3339"`
	UpdatedAt    string  `json:"updated_at" doc:"RFC 3339"`
	History      []histJ `json:"history,omitempty" doc:"Status history, oldest first (GET /messages/{message_id} only)"`
}

type histJ struct {
	Status        string `json:"status" doc:"The status entered"`
	CarrierStatus string `json:"carrier_status" doc:"The carrier's own text"`
	Error         string `json:"error" doc:"Why, on a failure or retry"`
	At            string `json:"at" doc:"RFC 3339"`
}

func messageOut(m *switchboard.Message) messageJSON {
	return messageJSON{MessageID: m.ID, Direction: m.Direction, From: m.From, To: m.To, Body: m.Body, Encoding: m.Encoding,
		Segments: m.Segments, Status: m.Status, Carrier: m.Carrier, CarrierRef: m.CarrierRef, NumberID: nullableID(m.NumberID),
		UserID: nullableID(m.UserID), SentByUserID: nullableID(m.SentByUserID), Attempts: m.Attempts, Error: m.Error,
		CreatedAt: m.CreatedAt.UTC().Format(time.RFC3339Nano), UpdatedAt: m.UpdatedAt.UTC().Format(time.RFC3339Nano)}
}

type conversationJSON struct {
	NumberID *int64      `json:"number_id" doc:"The account's number"`
	Number   string      `json:"number" doc:"The account's side (E.164 or extension)"`
	Party    string      `json:"party" doc:"The other party"`
	Count    int         `json:"message_count" doc:"Messages between them"`
	Last     messageJSON `json:"last_message" doc:"The most recent message"`
}

type simulatorSMSJSON struct {
	From    string `json:"from" doc:"The sender (any phone number)" required:"true"`
	To      string `json:"to" doc:"The account's SMS-enabled number whose carrier is the simulator" required:"true"`
	Message string `json:"message" doc:"The text" required:"true"`
}

type kannelJSON struct {
	URL         *string `json:"url" doc:"smsbox sendsms URL, e.g. http://127.0.0.1:13013/cgi-bin/sendsms"`
	Username    *string `json:"username" doc:"sendsms user"`
	Password    *string `json:"password,omitempty" doc:"sendsms password (write only; sealed with the server key)"`
	HasPassword bool    `json:"has_password" doc:"Whether a password is stored"`
	SMSC        *string `json:"smsc" doc:"smsc id to route through"`
}

type smsSettingsJSON struct {
	NumberID      *int64      `json:"number_id" doc:"The number these settings are for; null: the account's defaults"`
	MaxParts      *int        `json:"sms_max_parts" doc:"Concatenated messages up to this many parts (153 GSM-7 / 67 UCS-2 characters each); 0 or 1: single part (160 / 70)"`
	Carrier       *string     `json:"sms_carrier" doc:"simulator, kannel or sip; empty: the server's default"`
	AllowPremium  *bool       `json:"allow_premium" doc:"Allow short codes and premium-rate numbers as recipients"`
	RatePerMinute *int        `json:"rate_per_minute" doc:"Messages per minute (per number for a number's settings, per account for the account's); 0: server default"`
	Kannel        *kannelJSON `json:"kannel" doc:"Kannel smsbox settings (sms_carrier kannel)"`
}

func settingsOut(s *switchboard.SMSSettings) smsSettingsJSON {
	url, user, smsc := s.KannelURL, s.KannelUser, s.KannelSMSC
	return smsSettingsJSON{NumberID: nullableID(s.NumberID), MaxParts: &s.MaxParts, Carrier: &s.Carrier,
		AllowPremium: &s.AllowPremium, RatePerMinute: &s.RatePerMinute,
		Kannel: &kannelJSON{URL: &url, Username: &user, SMSC: &smsc, HasPassword: len(s.KannelPassword) > 0}}
}

var messageQuery = []queryParam{
	{"number", "Only messages of this number of the account (E.164)"},
	{"party", "Only messages with this other party (E.164 or extension)"},
	{"direction", "inbound or outbound"},
	{"status", "queued, sending, sent, delivered, failed, undelivered, received"},
	{"from_date", "Created at or after (RFC 3339 or YYYY-MM-DD)"},
	{"to_date", "Created before (RFC 3339 or YYYY-MM-DD)"},
	{"cursor", "The X-Next-Cursor of the previous page"},
	{"limit", "Page size, 1 to 1000 (default 100)"},
}

func (s *Server) messageRoutes() {
	s.handleAPI(route{Method: "GET", Path: "/messages", Access: accessUserOrDeveloper, Tag: "SMS",
		Summary:     "List messages",
		Description: "SMS in both directions, newest first, paged by cursor (X-Next-Cursor). A user key sees its own numbers' messages.",
		Message:     "List of messages", Result: []messageJSON{}, Query: messageQuery}, s.listMessages)
	s.handleAPI(route{Method: "GET", Path: "/messages/conversations", Access: accessUserOrDeveloper, Tag: "SMS",
		Summary:     "Conversations",
		Description: "Messages grouped by the account's number and the other party, most recent first, with the last message of each.",
		Message:     "List of conversations", Result: []conversationJSON{}, Query: messageQuery}, s.listConversations)
	s.handleAPI(route{Method: "GET", Path: "/messages/{sms_message_id}", Access: accessUserOrDeveloper, Tag: "SMS",
		Summary: "One message", Description: "One message with its status history.",
		Message: "Message details", Result: messageJSON{}}, s.getMessage)
	s.handleAPI(route{Method: "POST", Path: "/simulator/sms", Access: accessDeveloper, Tag: "SMS",
		Summary:     "Simulate an inbound SMS",
		Description: "As if the simulated carrier delivered an SMS to the account's number: it is stored and fires SMS_RECEIVED. The number's sms_carrier must be the simulator.",
		Message:     "Inbound SMS received", Request: simulatorSMSJSON{}, Result: messageJSON{}}, s.simulateSMS)
	s.handleAPI(route{Method: "GET", Path: "/sms/settings", Access: accessDeveloper, Tag: "SMS",
		Summary: "SMS settings", Description: "The account's SMS settings, or a number's with ?number_id=.",
		Message: "SMS settings", Result: smsSettingsJSON{}, Query: []queryParam{{"number_id", "A number's own settings"}}}, s.getSMSSettings)
	s.handleAPI(route{Method: "PUT", Path: "/sms/settings", Access: accessDeveloper, Tag: "SMS",
		Summary:     "Change SMS settings",
		Description: "Changes the account's SMS settings, or a number's (number_id in the body); fields left out keep their value.",
		Message:     "SMS settings updated", Request: smsSettingsJSON{}, Result: smsSettingsJSON{}}, s.putSMSSettings)
}

func (s *Server) messagesOrUnavailable() (MessageService, error) {
	if s.messages == nil {
		return nil, switchboard.Errorf(switchboard.EUNAVAILABLE, "Messages are not available: no SMS service is configured on this server")
	}
	return s.messages, nil
}

func keyUser(c *caller) int64 {
	if c.isDeveloper() {
		return 0
	}
	return c.key.UserID
}

func parseDate(v switchboard.ValidationErrors, field, raw string) time.Time {
	if raw == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339, raw); err == nil {
		return t
	}
	if t, err := time.Parse("2006-01-02", raw); err == nil {
		return t
	}
	v.Add(field, "must be RFC 3339 (2026-01-02T15:04:05Z) or a date (2026-01-02)")
	return time.Time{}
}

func (s *Server) messageFilter(r *http.Request, c *caller) (switchboard.MessageFilter, error) {
	q := r.URL.Query()
	v := switchboard.ValidationErrors{}
	f := switchboard.MessageFilter{Party: q.Get("party"), Direction: q.Get("direction"), Status: q.Get("status"),
		Before: q.Get("cursor")}
	if n := q.Get("number"); n != "" {
		num, err := s.accountNumber(r.Context(), v, c.accountID, "number", n)
		if err != nil {
			return f, err
		}
		if num != nil {
			f.NumberID = num.ID
		}
	}
	if f.Party != "" && !switchboard.ValidExtension(f.Party) {
		if p, ok := phone.Normalize(f.Party); ok {
			f.Party = p
		} else {
			v.Add("party", "is not a phone number or extension")
		}
	}
	switch f.Direction {
	case "", switchboard.SMSInbound, switchboard.SMSOutbound:
	default:
		v.Add("direction", "must be inbound or outbound")
	}
	switch f.Status {
	case "", switchboard.SMSQueued, switchboard.SMSSending, switchboard.SMSSent, switchboard.SMSDelivered,
		switchboard.SMSFailed, switchboard.SMSUndelivered, switchboard.SMSReceived:
	default:
		v.Add("status", "must be queued, sending, sent, delivered, failed, undelivered or received")
	}
	f.From = parseDate(v, "from_date", q.Get("from_date"))
	f.To = parseDate(v, "to_date", q.Get("to_date"))
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > switchboard.MaxPageLimit {
			v.Add("limit", "must be 1 to 1000")
		}
		f.Limit = n
	}
	return f, v.Err()
}

func (s *Server) listMessages(w http.ResponseWriter, r *http.Request, c *caller) error {
	svc, err := s.messagesOrUnavailable()
	if err != nil {
		return err
	}
	f, err := s.messageFilter(r, c)
	if err != nil {
		return err
	}
	list, more, err := svc.ListMessages(r.Context(), c.accountID, keyUser(c), f)
	if err != nil {
		return err
	}
	out := make([]messageJSON, 0, len(list))
	for _, m := range list {
		out = append(out, messageOut(m))
	}
	if more && len(list) > 0 {
		w.Header().Set("X-Next-Cursor", list[len(list)-1].ID)
	}
	s.writeResult(w, http.StatusOK, "List of messages", out)
	return nil
}

func (s *Server) listConversations(w http.ResponseWriter, r *http.Request, c *caller) error {
	svc, err := s.messagesOrUnavailable()
	if err != nil {
		return err
	}
	f, err := s.messageFilter(r, c)
	if err != nil {
		return err
	}
	list, err := svc.Conversations(r.Context(), c.accountID, keyUser(c), f)
	if err != nil {
		return err
	}
	out := make([]conversationJSON, 0, len(list))
	for _, cv := range list {
		j := conversationJSON{NumberID: nullableID(cv.NumberID), Number: cv.Number, Party: cv.Party, Count: cv.Count}
		if cv.Last != nil {
			j.Last = messageOut(cv.Last)
		}
		out = append(out, j)
	}
	s.writeResult(w, http.StatusOK, "List of conversations", out)
	return nil
}

func (s *Server) getMessage(w http.ResponseWriter, r *http.Request, c *caller) error {
	svc, err := s.messagesOrUnavailable()
	if err != nil {
		return err
	}
	m, hist, err := svc.GetMessage(r.Context(), c.accountID, keyUser(c), r.PathValue("sms_message_id"))
	if err != nil {
		return err
	}
	out := messageOut(m)
	out.History = []histJ{}
	for _, h := range hist {
		out.History = append(out.History, histJ{Status: h.Status, CarrierStatus: h.CarrierStatus, Error: h.Error,
			At: h.At.UTC().Format(time.RFC3339Nano)})
	}
	s.writeResult(w, http.StatusOK, "Message details", out)
	return nil
}

func (s *Server) simulateSMS(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body simulatorSMSJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	svc, err := s.messagesOrUnavailable()
	if err != nil {
		return err
	}
	m, err := svc.InjectInbound(r.Context(), c.accountID, body.From, body.To, body.Message)
	if err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Inbound SMS received", messageOut(m))
	return nil
}

func (s *Server) getSMSSettings(w http.ResponseWriter, r *http.Request, c *caller) error {
	svc, err := s.messagesOrUnavailable()
	if err != nil {
		return err
	}
	var numberID int64
	if raw := r.URL.Query().Get("number_id"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n <= 0 {
			return switchboard.FieldError(switchboard.EBADREQUEST, "number_id", "must be a number's id")
		}
		numberID = n
	}
	set, err := svc.Settings(r.Context(), c.accountID, numberID)
	if err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "SMS settings", settingsOut(set))
	return nil
}

func (s *Server) putSMSSettings(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body smsSettingsJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	svc, err := s.messagesOrUnavailable()
	if err != nil {
		return err
	}
	ch := sms.SettingsChange{MaxParts: body.MaxParts, Carrier: body.Carrier, AllowPremium: body.AllowPremium,
		RatePerMinute: body.RatePerMinute}
	if body.NumberID != nil {
		ch.NumberID = *body.NumberID
	}
	if k := body.Kannel; k != nil {
		ch.KannelURL, ch.KannelUser, ch.KannelPassword, ch.KannelSMSC = k.URL, k.Username, k.Password, k.SMSC
	}
	set, err := svc.UpdateSettings(r.Context(), c.accountID, ch)
	if err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "SMS settings updated", settingsOut(set))
	return nil
}
