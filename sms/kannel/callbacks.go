package kannel

import (
	"context"
	"crypto/subtle"
	"encoding/binary"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"switchboard"
)

// Numbers finds the account that owns a number (switchboard.Store does).
type Numbers interface {
	GetNumberByE164(ctx context.Context, number string) (*switchboard.Number, error)
}

// Messages finds one message of an account; ENOTFOUND when the account has none by that id.
type Messages interface {
	GetMessage(ctx context.Context, accountID int64, id string) (*switchboard.Message, error)
}

// Callbacks serves the two URLs Kannel calls (mounted by cmd at /kannel/):
//
//	GET      /kannel/{account_id}/dlr?id=…&status=%d&reply=%A&secret=…   (the dlr-url Carrier sends)
//	GET|POST /kannel/{account_id}/mo?from=%p&to=%P&text=%a&coding=%c&charset=%C&id=%I&secret=…
//
// The mo URL is smsbox's get-url (or post-url, with the text as the body) of an sms-service;
// KannelConf writes it. A wrong or missing secret is answered 403 and changes nothing; an
// unknown message or number 404.
type Callbacks struct {
	Inbox    switchboard.SMSInbox
	Numbers  Numbers
	Messages Messages
	// Secret returns an account's callback secret (Secret(serverKey, accountID)).
	Secret func(accountID int64) string
	Logger *slog.Logger
}

// maxBody bounds a post-url body: a concatenated SMS of 255 UCS-2 parts is under 35 kB.
const maxBody = 64 << 10

// Handler returns the callbacks' handler, with its own routes under /kannel/.
func (cb *Callbacks) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /kannel/{account_id}/dlr", cb.serve(cb.dlr))
	mux.HandleFunc("GET /kannel/{account_id}/mo", cb.serve(cb.mo))
	mux.HandleFunc("POST /kannel/{account_id}/mo", cb.serve(cb.mo))
	return mux
}

// serve authenticates the account's secret before the callback runs.
func (cb *Callbacks) serve(h func(r *http.Request, accountID int64) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := func() error {
			accountID, err := strconv.ParseInt(r.PathValue("account_id"), 10, 64)
			if err != nil || accountID <= 0 {
				return switchboard.Errorf(switchboard.ENOTFOUND, "no such account")
			}
			// Compared in constant time, and compared at all even when the account does not
			// exist, so that timing tells nothing about secrets or accounts.
			want := cb.Secret(accountID)
			got := r.URL.Query().Get("secret")
			if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
				return switchboard.Errorf(switchboard.EAUTHINVALID, "the Kannel callback secret is missing or wrong for this account")
			}
			return h(r, accountID)
		}()
		cb.write(w, r, err)
	}
}

// dlr applies a delivery report. Reports of types 4 (queued on the SMSC) and 8 (accepted by
// the SMSC) change nothing: the message is already "sent" when Kannel takes it.
func (cb *Callbacks) dlr(r *http.Request, accountID int64) error {
	q := r.URL.Query()
	id := q.Get("id")
	typ, err := strconv.Atoi(q.Get("status"))
	if err != nil {
		return switchboard.Errorf(switchboard.EBADREQUEST, "status must be Kannel's delivery report type (%%d), got %q", q.Get("status"))
	}
	// The message must be this account's: the secret is per account. Report checks that in
	// its own transaction; a report that changes nothing is checked here.
	status, carrierStatus := dlrStatus(typ, q.Get("reply"))
	if status == "" {
		_, err := cb.Messages.GetMessage(r.Context(), accountID, id)
		return err
	}
	return cb.Inbox.Report(r.Context(), accountID, Name, id, status, carrierStatus)
}

// dlrStatus maps a Kannel delivery report type to a message status ("" for intermediate
// reports) and the carrier's status text: the SMSC's "stat:" word when its report has one
// (DELIVRD, UNDELIV, EXPIRED, REJECTD…), else Kannel's meaning of the type.
func dlrStatus(typ int, reply string) (status, carrierStatus string) {
	var name string
	switch {
	case typ&1 != 0:
		status, name = switchboard.SMSDelivered, "DELIVRD"
	case typ&2 != 0:
		status, name = switchboard.SMSUndelivered, "UNDELIV"
	case typ&16 != 0:
		status, name = switchboard.SMSFailed, "REJECTD"
	default:
		return "", ""
	}
	if i := strings.Index(reply, "stat:"); i >= 0 {
		word, _, _ := strings.Cut(reply[i+len("stat:"):], " ")
		if word != "" && len(word) <= 16 {
			name = word
		}
	}
	return status, name
}

// mo stores an inbound message. get-url carries everything in the query; post-url sends the
// text as the body (charset in its Content-Type) and the numbers in X-Kannel-From/-To
// headers, which the query may also give.
func (cb *Callbacks) mo(r *http.Request, accountID int64) error {
	q := r.URL.Query()
	from, to, charset := q.Get("from"), q.Get("to"), q.Get("charset")
	var raw []byte
	if r.Method == http.MethodPost {
		b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
		if err != nil {
			return switchboard.Errorf(switchboard.ETOOLARGE, "the message body is over %d bytes", maxBody)
		}
		raw = b
		if from == "" {
			from = r.Header.Get("X-Kannel-From")
		}
		if to == "" {
			to = r.Header.Get("X-Kannel-To")
		}
		if _, params, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && params["charset"] != "" && charset == "" {
			charset = params["charset"]
		}
	} else {
		raw = []byte(q.Get("text"))
	}
	body, err := decodeText(raw, charset, q.Get("coding"))
	if err != nil {
		return err
	}
	from, to = normalize(from), normalize(to)
	if from == "" || to == "" {
		return switchboard.Errorf(switchboard.EBADREQUEST, "from (%%p) and to (%%P) are required")
	}
	// The number must be this account's: Receive finds the account by the number alone.
	n, err := cb.Numbers.GetNumberByE164(r.Context(), to)
	if err != nil || n.AccountID != accountID {
		return switchboard.Errorf(switchboard.ENOTFOUND, "%s is not a number of account %d", to, accountID)
	}
	_, err = cb.Inbox.Receive(r.Context(), Name, from, to, body, q.Get("id"))
	return err
}

// decodeText turns the text Kannel passed into UTF-8. With mo-recode (KannelConf sets it)
// Kannel already sends UTF-8; without it a UCS-2 message arrives as UTF-16BE bytes.
func decodeText(raw []byte, charset, coding string) (string, error) {
	switch strings.ToUpper(strings.TrimSpace(charset)) {
	case "", "UTF-8", "UTF8":
		if coding == "2" && charset == "" && len(raw)%2 == 0 && !utf8.Valid(raw) {
			return utf16be(raw), nil
		}
	case "UTF-16BE", "UCS-2", "UCS-2BE", "UTF-16":
		if len(raw)%2 != 0 {
			return "", switchboard.Errorf(switchboard.EBADREQUEST, "a %s text must have an even number of bytes", charset)
		}
		return utf16be(raw), nil
	case "ISO-8859-1", "LATIN1", "WINDOWS-1252":
		// Kannel's fallback charset for 8-bit text; its code points are Latin-1.
		r := make([]rune, len(raw))
		for i, b := range raw {
			r[i] = rune(b)
		}
		return string(r), nil
	default:
		return "", switchboard.Errorf(switchboard.EBADREQUEST, "charset %q is not one Kannel sends (UTF-8, UTF-16BE, ISO-8859-1); set mo-recode = true in smsbox", charset)
	}
	if !utf8.Valid(raw) {
		return "", switchboard.Errorf(switchboard.EBADREQUEST, "the text is not valid UTF-8")
	}
	return string(raw), nil
}

func utf16be(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.BigEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// normalize writes an international number Kannel received without its '+' (SMPP's usual
// form) in E.164. Short codes and alphanumeric senders are kept as they are.
func normalize(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "00") && allDigits(s[2:]) && len(s) > 9 {
		return "+" + s[2:]
	}
	if allDigits(s) && len(s) >= 8 {
		return "+" + s
	}
	return s
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// write answers Kannel in the API's envelope. Kannel only reads the status: 2xx done, and
// smsbox's http-request-retry retries a get-url answered 5xx.
func (cb *Callbacks) write(w http.ResponseWriter, r *http.Request, err error) {
	status, code, msg := http.StatusOK, "", "ok"
	if err != nil {
		code = switchboard.ErrorCode(err)
		msg = switchboard.ErrorMessage(err)
		switch code {
		case switchboard.EBADREQUEST:
			status = http.StatusBadRequest
		case switchboard.EAUTHINVALID:
			status = http.StatusForbidden
		case switchboard.ENOTFOUND:
			status = http.StatusNotFound
		case switchboard.ETOOLARGE:
			status = http.StatusRequestEntityTooLarge
		case switchboard.EUNAVAILABLE:
			status = http.StatusServiceUnavailable
		default:
			status = http.StatusInternalServerError
		}
		if cb.Logger != nil {
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			// The query holds the secret: log the path only.
			cb.Logger.Log(r.Context(), level, "kannel callback refused", "path", r.URL.Path, "status", status, "err", err)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(struct {
		Result    any    `json:"result"`
		Error     bool   `json:"error"`
		Message   string `json:"message"`
		ErrorCode string `json:"error_code,omitempty"`
		Timestamp string `json:"timestamp"`
	}{nil, err != nil, msg, code, time.Now().UTC().Format(time.RFC3339)})
}
