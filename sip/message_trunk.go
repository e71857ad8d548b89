package sip

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"switchboard"
)

// TrunkCarrierName is the name of the SIP trunk SMS carrier (switchboard.Message.Carrier,
// an account's or number's sms_carrier).
const TrunkCarrierName = "sip"

// TrunkLister gives an account's trunks, by id (store.DB has it).
type TrunkLister interface {
	ListTrunks(ctx context.Context, accountID int64) ([]*switchboard.Trunk, error)
}

// PasswordOpener opens a trunk's sealed digest password (webhook.Sealer with the server
// key has it).
type PasswordOpener interface {
	Open(sealed []byte) (string, error)
}

// TrunkCarrier sends SMS as SIP MESSAGE (RFC 3428) over the account's SIP trunk, the way
// its calls go out: to its first trunk (as the call engine dials), the Request-URI
// sip:<to>@<trunk host>, From sip:<from number>@<our host>, answering the carrier's digest
// challenge with the trunk's credentials. It implements switchboard.SMSCarrier.
//
// The Call-ID is derived from the message id, so a message sent again after a crash (the
// outbox cannot know whether the first try left) carries the same Call-ID, which a carrier
// that deduplicates can recognise; the Call-ID is also the reference returned.
type TrunkCarrier struct {
	srv    *Server
	trunks TrunkLister
	sealer PasswordOpener // nil: trunks with a username cannot be used
}

// NewTrunkCarrier returns the "sip" carrier sending through srv's sockets.
func NewTrunkCarrier(srv *Server, trunks TrunkLister, sealer PasswordOpener) *TrunkCarrier {
	return &TrunkCarrier{srv: srv, trunks: trunks, sealer: sealer}
}

// Name is TrunkCarrierName.
func (c *TrunkCarrier) Name() string { return TrunkCarrierName }

// Send submits m to the account's trunk and returns the MESSAGE's Call-ID. A 2xx is
// success; 408, 480, 486, 500, 503, 504, 600-class busy and no answer at all are retried
// later; any other refusal is permanent.
func (c *TrunkCarrier) Send(ctx context.Context, m *switchboard.Message) (string, error) {
	client := c.srv.Client()
	if client == nil {
		return "", &switchboard.CarrierError{Reason: "the SIP server is not running"}
	}
	ts, err := c.trunks.ListTrunks(ctx, m.AccountID)
	if err != nil {
		return "", &switchboard.CarrierError{Reason: "reading the account's SIP trunk failed: " + err.Error()}
	}
	if len(ts) == 0 {
		return "", &switchboard.CarrierError{Permanent: true, Reason: "the account has no SIP trunk to send SMS through"}
	}
	t := ts[0]
	req, ref := c.request(t, m)
	if ctx.Err() != nil {
		return "", &switchboard.CarrierError{Reason: ctx.Err().Error()}
	}
	sendCtx, cancel := context.WithTimeout(ctx, messageTimeout)
	defer cancel()
	res, err := client.Do(sendCtx, req)
	if err == nil && (res.StatusCode == 401 || res.StatusCode == 407) && t.Username != "" {
		if c.sealer == nil {
			return "", &switchboard.CarrierError{Permanent: true, Reason: "the trunk's password cannot be opened (no server key)"}
		}
		pw, oerr := c.sealer.Open(t.SealedPassword)
		if oerr != nil {
			c.srv.log.Error("opening a trunk password failed", "trunk_id", t.ID, "error", oerr)
			return "", &switchboard.CarrierError{Permanent: true, Reason: "the trunk's password cannot be opened"}
		}
		res, err = client.DoDigestAuth(sendCtx, req, res, sipgo.DigestAuth{Username: t.Username, Password: pw})
	}
	if err != nil {
		return "", &switchboard.CarrierError{Reason: "the trunk did not answer the MESSAGE: " + err.Error()}
	}
	if res.IsSuccess() {
		return ref, nil
	}
	reason := fmt.Sprintf("the trunk answered %d %s", res.StatusCode, res.Reason)
	return "", &switchboard.CarrierError{Permanent: !retriable(res.StatusCode), Reason: reason}
}

// retriable reports whether a carrier's refusal may pass: overload, timeouts, busy.
func retriable(code int) bool {
	switch code {
	case 408, 480, 486, 500, 503, 504, 600:
		return true
	}
	return false
}

// request builds the MESSAGE of m to trunk t, and its Call-ID.
func (c *TrunkCarrier) request(t *switchboard.Trunk, m *switchboard.Message) (*sip.Request, string) {
	port := t.Port
	if port == 0 {
		port = 5060
	}
	transport := strings.ToUpper(t.Transport)
	if transport == "" {
		transport = "UDP"
	}
	uri := sip.Uri{Scheme: "sip", User: uriUser(m.To), Host: t.Host, Port: port}
	req := sip.NewRequest(sip.MESSAGE, uri)
	req.SetTransport(transport)
	if ip, err := netip.ParseAddr(t.Host); err == nil {
		req.SetDestination(net.JoinHostPort(ip.String(), strconv.Itoa(port)))
	}
	contact := c.srv.ContactHeaderFor(transport)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: uriUser(m.From), Host: contact.Address.Host},
		Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	to := &sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: uriUser(m.To), Host: t.Host}, Params: sip.NewParams()}
	ref := strings.TrimPrefix(m.ID, "msg_") + "@switchboard"
	callID := sip.CallIDHeader(ref)
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.MESSAGE})
	req.AppendHeader(sip.NewHeader("Content-Type", textPlain))
	req.SetBody([]byte(m.Body))
	return req, ref
}
