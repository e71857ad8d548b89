// Package kannel sends and receives SMS through Kannel (https://www.kannel.org), the
// open-source SMS gateway operators already run in front of their carriers' SMPP links.
//
// Outbound, Carrier hands a message to smsbox's sendsms HTTP interface with a dlr-url
// pointing back at Switchboard; inbound, smsbox's get-url / post-url call Callbacks. Both
// callbacks are authenticated by a per-account secret (Secret) carried in their URL:
//
//	carrier, _ := kannel.New(kannel.Config{
//		SendURL: "http://127.0.0.1:13013/cgi-bin/sendsms", Username: "switchboard", Password: "…",
//		CallbackURL: "http://10.0.0.5:8080", Secret: kannel.Secret(serverKey, accountID),
//	})
//	ref, err := carrier.Send(ctx, msg)
//
// KannelConf renders a kannel.conf for one account; docs/sms-kannel.md shows the operator's
// side.
package kannel

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"switchboard"
)

// Name is the carrier's name in message records ("carrier": "kannel").
const Name = "kannel"

// DLRMask asks Kannel for the final delivery reports only: 1 delivered to the phone, 2 not
// delivered to the phone, 16 rejected by the SMSC. The intermediate ones, 4 queued on the SMSC
// and 8 accepted by the SMSC, would change nothing (the message is "sent" once Kannel takes
// it) and would double the callbacks smsbox makes and Switchboard answers.
const DLRMask = 1 | 2 | 16

// Config is one Kannel connection (per account or per number).
type Config struct {
	// SendURL is smsbox's sendsms URL, e.g. http://127.0.0.1:13013/cgi-bin/sendsms.
	SendURL string
	// Username and Password are a sendsms-user of smsbox.
	Username, Password string
	// SMSC routes the message to one smsc-id of bearerbox (Kannel's smsc parameter); empty
	// lets Kannel choose.
	SMSC string
	// CallbackURL is Switchboard's base URL as Kannel reaches it (e.g. http://10.0.0.5:8080);
	// delivery reports come back to CallbackURL/kannel/{account_id}/dlr.
	CallbackURL string
	// Secret authenticates the callbacks (see Secret).
	Secret string
	// Client sends the requests; nil means a client with a 15 s timeout. Production wiring
	// passes one that refuses addresses outside the operator's Kannel networks (SSRF).
	Client *http.Client
}

// Secret is the callback secret of an account: derived from the server key, so every node
// sharing the key agrees and nothing is stored. It is 32 hex digits, safe in a URL and free
// of '%', which Kannel would read as an escape in a dlr-url or get-url.
func Secret(serverKey []byte, accountID int64) string {
	mac := hmac.New(sha256.New, serverKey)
	fmt.Fprintf(mac, "switchboard kannel callbacks|%d", accountID)
	return hex.EncodeToString(mac.Sum(nil)[:16])
}

// Carrier is a switchboard.SMSCarrier sending through one Kannel smsbox.
type Carrier struct {
	cfg       Config
	accountID int64
	client    *http.Client
}

// New checks cfg and returns its carrier. accountID goes into the dlr-url, where Callbacks
// checks it against the message.
func New(accountID int64, cfg Config) (*Carrier, error) {
	u, err := url.Parse(cfg.SendURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, switchboard.Errorf(switchboard.EBADREQUEST, "kannel: the sendsms URL must be an http(s) URL like http://127.0.0.1:13013/cgi-bin/sendsms, got %q", cfg.SendURL)
	}
	if cfg.Username == "" {
		return nil, switchboard.Errorf(switchboard.EBADREQUEST, "kannel: a sendsms-user username is required")
	}
	cb, err := url.Parse(cfg.CallbackURL)
	if err != nil || (cb.Scheme != "http" && cb.Scheme != "https") || cb.Host == "" {
		return nil, switchboard.Errorf(switchboard.EBADREQUEST, "kannel: the callback URL (Switchboard's URL as Kannel reaches it) must be an http(s) URL, got %q", cfg.CallbackURL)
	}
	if cfg.Secret == "" || strings.ContainsAny(cfg.Secret, "%&#? ") {
		return nil, switchboard.Errorf(switchboard.EBADREQUEST, "kannel: the callback secret must be set and URL-safe")
	}
	cfg.CallbackURL = strings.TrimRight(cfg.CallbackURL, "/")
	c := &Carrier{cfg: cfg, accountID: accountID, client: cfg.Client}
	if c.client == nil {
		c.client = &http.Client{Timeout: 15 * time.Second}
	}
	return c, nil
}

// Name implements switchboard.SMSCarrier.
func (c *Carrier) Name() string { return Name }

// DLRURL is the dlr-url sent with message id: Kannel replaces %d with the report type and
// %A with the SMSC's own report text.
func (c *Carrier) DLRURL(id string) string {
	return fmt.Sprintf("%s/kannel/%d/dlr?id=%s&status=%%d&reply=%%A&secret=%s",
		c.cfg.CallbackURL, c.accountID, url.QueryEscape(id), c.cfg.Secret)
}

// Query is the sendsms query for m (exported for the benchmark, which drives Kannel
// directly with the same parameters).
func (c *Carrier) Query(m *switchboard.Message) url.Values {
	q := url.Values{}
	q.Set("username", c.cfg.Username)
	q.Set("password", c.cfg.Password)
	q.Set("from", m.From)
	q.Set("to", m.To)
	q.Set("text", m.Body)
	// The text is always given in UTF-8; Kannel converts it to GSM-7 (coding 0, with
	// the extension table) or to UCS-2 (coding 2) for the SMSC.
	q.Set("charset", "UTF-8")
	if m.Encoding == "ucs2" {
		q.Set("coding", "2")
	} else {
		q.Set("coding", "0")
	}
	if c.cfg.SMSC != "" {
		q.Set("smsc", c.cfg.SMSC)
	}
	q.Set("dlr-mask", strconv.Itoa(DLRMask))
	q.Set("dlr-url", c.DLRURL(m.ID))
	return q
}

// Send implements switchboard.SMSCarrier. Kannel answers 202 "0: Accepted for delivery" or
// "3: Queued for later delivery" when it has taken the message (it then owns retries
// towards the SMSC). Kannel's sendsms has no idempotency key: a crash after Kannel took the
// message and before the outbox recorded it can send it twice (see docs/sms-kannel.md).
// The returned reference is empty: Kannel names its own id only in delivery reports, which
// find the message by Switchboard's id in the dlr-url.
func (c *Carrier) Send(ctx context.Context, m *switchboard.Message) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.SendURL+"?"+c.Query(m).Encode(), nil)
	if err != nil {
		return "", &switchboard.CarrierError{Permanent: true, Reason: "kannel: " + err.Error()}
	}
	resp, err := c.client.Do(req)
	if err != nil {
		// Not connected, or no answer: retried. (A request that reached Kannel but whose
		// answer was lost is the one case that can send twice.)
		// The url.Error would quote the URL, password and callback secret included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", &switchboard.CarrierError{Reason: "kannel unreachable: " + err.Error()}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	text := strings.TrimSpace(string(body))
	switch {
	case resp.StatusCode/100 == 2 && (strings.HasPrefix(text, "0:") || strings.HasPrefix(text, "3:")):
		return "", nil
	case resp.StatusCode/100 == 2:
		// Not Kannel's answer (a wrong URL reaching some other server): nothing was queued.
		return "", &switchboard.CarrierError{Reason: fmt.Sprintf("kannel: unexpected answer %d %q: is the sendsms URL right?", resp.StatusCode, short(text))}
	case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized:
		// A configuration mistake of the operator, not of the message: kept and retried, so
		// that the messages go out once the password is fixed.
		return "", &switchboard.CarrierError{Reason: fmt.Sprintf("kannel refused the sendsms-user (%d %q): check the username and password", resp.StatusCode, short(text))}
	case resp.StatusCode == http.StatusBadRequest:
		// Kannel refuses the message itself (no receiver, a sender or text it won't take):
		// sending it again would be refused again.
		return "", &switchboard.CarrierError{Permanent: true, Reason: fmt.Sprintf("kannel rejected the message: %s", short(text))}
	default:
		return "", &switchboard.CarrierError{Reason: fmt.Sprintf("kannel answered %d %q", resp.StatusCode, short(text))}
	}
}

// short bounds a gateway's answer quoted in an error.
func short(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}
