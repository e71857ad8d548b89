package sip

// Instant messages: SIP MESSAGE (RFC 3428) between phones, from phones to SMS numbers, and
// between the account's SIP trunk and its numbers.
//
//   - A MESSAGE from a phone is authenticated like a SUBSCRIBE (401, answered in
//     Authorization; Proxy-Authorization is taken too), must come from a registered device
//     (403 otherwise: a phone that cannot be reached cannot get an answer back), and must
//     carry text/plain in UTF-8 (415 otherwise, with Accept). It is handed to the messaging
//     service (PhoneSMS.FromPhone), which stores it, and answered 202 Accepted: stored, not
//     yet delivered (RFC 3428 section 7).
//   - A MESSAGE from an address one of the account's trunks trusts, to one of that account's
//     numbers, is an inbound SMS: SMSInbox.Receive, 202.
//   - DeliverToUser (switchboard.PhoneMessenger) sends a MESSAGE to every registered contact
//     of a user, over the flow the REGISTER came in on (its source address, its connection),
//     so that phones behind NAT are reached.
//   - After every successful REGISTER the messaging service is told (UserRegistered) when it
//     may hold messages for the user that no phone took yet; see pendingUsers.
//
// Without a messaging service (SetPhoneSMS) a phone's MESSAGE is answered 405 as before.

import (
	"context"
	"errors"
	"mime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/emiago/sipgo/sip"

	"switchboard"
)

// MaxMessageBody is the largest text a MESSAGE may carry, in bytes. RFC 3428 keeps a
// MESSAGE outside a session under 1300 bytes on paths of unknown MTU; phones over TCP may
// send more, and the messaging service applies its own limit (SMS parts) to numbers.
const MaxMessageBody = 4096

// messageTimeout bounds one MESSAGE sent to a phone or a trunk: over UDP a non-INVITE
// transaction would retransmit for 32 s (Timer F); a phone that has not answered by then is
// taken as not there and the message stays pending.
const messageTimeout = 8 * time.Second

// textPlain is the Content-Type of the MESSAGEs the server sends.
const textPlain = "text/plain;charset=UTF-8"

// PhonePendingChecker is optional on the switchboard.PhoneSMS given to SetPhoneSMS: a
// service that knows, from memory, which users have messages waiting for their phones
// implements it, and UserRegistered is called only for those. Without it the server keeps
// its own set (pendingUsers).
type PhonePendingChecker interface {
	// HasPhonePending reports whether the user may have undelivered phone messages. It is
	// called on every successful REGISTER, so it must not read the store.
	HasPhonePending(accountID, userID int64) bool
}

// smsHub is the messaging side of the server.
type smsHub struct {
	mu    sync.Mutex
	phone switchboard.PhoneSMS
	inbox switchboard.SMSInbox
	// pending are users for whom a delivery found no phone that took it (DeliverToUser
	// answered 0): their next REGISTER asks the service to try again.
	pending map[userKey]struct{}
	// asked are users who registered since the server started and for whom the service was
	// asked once: messages left pending before a restart are not in pending, so each
	// user's first REGISTER after the start asks too.
	asked map[userKey]struct{}
}

// SetPhoneSMS connects the messaging service: phones' MESSAGEs go to it, and it hears of
// REGISTERs (UserRegistered). Call it before Run.
func (s *Server) SetPhoneSMS(p switchboard.PhoneSMS) {
	s.sms.mu.Lock()
	s.sms.phone = p
	s.sms.mu.Unlock()
}

// SetSMSInbox connects where MESSAGEs from trunks to the account's numbers go (inbound SMS).
func (s *Server) SetSMSInbox(in switchboard.SMSInbox) {
	s.sms.mu.Lock()
	s.sms.inbox = in
	s.sms.mu.Unlock()
}

func (s *Server) smsServices() (switchboard.PhoneSMS, switchboard.SMSInbox) {
	s.sms.mu.Lock()
	defer s.sms.mu.Unlock()
	return s.sms.phone, s.sms.inbox
}

// allowed is the Allow header's methods: MESSAGE too once a messaging service is set.
func (s *Server) allowed() string {
	if p, _ := s.smsServices(); p != nil {
		return allowed + ", MESSAGE"
	}
	return allowed
}

// handleMessage takes a MESSAGE: from a trunk to one of its account's numbers, or from a
// registered phone.
func (s *Server) handleMessage(req *sip.Request, tx sip.ServerTransaction) {
	if req.To() == nil || req.From() == nil || req.CallID() == nil || req.CSeq() == nil {
		s.respond(req, tx, 400, "Missing To, From, Call-ID or CSeq")
		return
	}
	phoneSMS, inbox := s.smsServices()
	if calls := s.callHandler(); calls != nil && inbox != nil && s.mayBeTrunk(req) {
		if ip, ok := sourceIP(req); ok && calls.TrunkSource(ip, dialledUser(req), strings.EqualFold(req.Transport(), "TLS")) {
			s.messageFromTrunk(req, tx, inbox)
			return
		}
	}
	acct, ok := s.tenantOrRefuse(req, tx, fromHost(req))
	if !ok {
		return
	}
	if phoneSMS == nil {
		s.respond(req, tx, 405, "Method Not Allowed", sip.NewHeader("Allow", allowed))
		return
	}
	header := "Authorization"
	if headerOf(req, header) == nil && headerOf(req, "Proxy-Authorization") != nil {
		header = "Proxy-Authorization"
	}
	dev, res := s.authenticate(req, header, acct)
	switch res.kind {
	case authOK:
	case authWeakDigest:
		s.respond(req, tx, 403, forbiddenWeakDigest)
		return
	case authMalformed:
		s.respond(req, tx, 400, "Bad Authorization")
		return
	case authStoreError:
		s.respond(req, tx, 500, "Server Internal Error")
		return
	default:
		s.challenge(req, tx, 401, "Unauthorized", "WWW-Authenticate", res.kind == authStale, acct, fromUser(req))
		return
	}
	if refuseInsecure(dev, req) {
		s.respond(req, tx, 403, forbiddenInsecure)
		return
	}
	if len(s.deviceBindings(dev)) == 0 {
		s.respond(req, tx, 403, "Forbidden: register the device before sending messages")
		return
	}
	body, code, reason := messageText(req)
	if code != 0 {
		s.respondText(req, tx, code, reason)
		return
	}
	to := dialledUser(req)
	if to == "" {
		s.respond(req, tx, 404, "Not Found: no recipient")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := phoneSMS.FromPhone(ctx, dev.AccountID, dev.UserID, to, body)
	if err != nil {
		s.refuseMessage(req, tx, err)
		return
	}
	s.metrics.messages.WithLabelValues("phone").Inc()
	s.respond(req, tx, 202, "Accepted", sip.NewHeader("X-Message-Id", m.ID))
}

// messageFromTrunk takes an inbound SMS: a trunk's MESSAGE to one of its account's numbers
// (TrunkSource has checked both).
func (s *Server) messageFromTrunk(req *sip.Request, tx sip.ServerTransaction, inbox switchboard.SMSInbox) {
	body, code, reason := messageText(req)
	if code != 0 {
		s.respondText(req, tx, code, reason)
		return
	}
	from := req.From().Address.User
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := inbox.Receive(ctx, TrunkCarrierName, from, dialledUser(req), body, req.CallID().Value())
	if err != nil {
		s.refuseMessage(req, tx, err)
		return
	}
	s.metrics.messages.WithLabelValues("trunk").Inc()
	s.respond(req, tx, 202, "Accepted", sip.NewHeader("X-Message-Id", m.ID))
}

// respondText answers a refused body, listing what is accepted when the type was wrong.
func (s *Server) respondText(req *sip.Request, tx sip.ServerTransaction, code int, reason string) {
	if code == 415 {
		s.respond(req, tx, code, reason, sip.NewHeader("Accept", "text/plain"))
		return
	}
	s.respond(req, tx, code, reason)
}

// messageText checks a MESSAGE's body: text/plain (charset UTF-8 or US-ASCII, or none),
// valid UTF-8, not empty, at most MaxMessageBody bytes. It returns the text, or the status
// and reason to refuse it with.
func messageText(req *sip.Request) (string, int, string) {
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "text/plain" {
		return "", 415, "Unsupported Media Type: only text/plain is accepted"
	}
	if cs := strings.ToLower(params["charset"]); cs != "" && cs != "utf-8" && cs != "us-ascii" {
		return "", 415, "Unsupported Media Type: only the UTF-8 charset is accepted"
	}
	b := req.Body()
	if len(b) > MaxMessageBody {
		return "", 413, "Request Entity Too Large: at most " + strconv.Itoa(MaxMessageBody) + " bytes of text"
	}
	if !utf8.Valid(b) {
		return "", 400, "Bad Request: the text is not valid UTF-8"
	}
	if strings.TrimSpace(string(b)) == "" {
		return "", 400, "Bad Request: empty message"
	}
	return string(b), 0, ""
}

// refuseMessage answers a MESSAGE the messaging service refused, mapping its error code to
// the SIP status a phone shows.
func (s *Server) refuseMessage(req *sip.Request, tx sip.ServerTransaction, err error) {
	reason := switchboard.ErrorMessage(err)
	switch switchboard.ErrorCode(err) {
	case switchboard.ENOTFOUND:
		s.respond(req, tx, 404, "Not Found: "+reason)
	case switchboard.ETOOLARGE:
		s.respond(req, tx, 413, "Request Entity Too Large: "+reason)
	case switchboard.EBADREQUEST:
		s.respond(req, tx, 488, "Not Acceptable Here: "+reason)
	case switchboard.EAUTHINVALID, switchboard.EAUTHREQUIRED:
		s.respond(req, tx, 403, "Forbidden: "+reason)
	case switchboard.ERATELIMITED:
		s.respond(req, tx, 503, "Service Unavailable: "+reason, sip.NewHeader("Retry-After", "60"))
	case switchboard.EUNAVAILABLE:
		s.respond(req, tx, 503, "Service Unavailable: "+reason)
	default:
		s.log.Error("storing a SIP MESSAGE failed", "error", err)
		s.respond(req, tx, 500, "Server Internal Error")
	}
}

// DeliverToUser sends the text to every registered contact of the user as a MESSAGE from
// `from` (an extension or an E.164 number), all at once, and returns how many answered 2xx
// (switchboard.PhoneMessenger). No contact, or none taking it, is 0 with no error: the
// messaging service keeps the message and the user's next REGISTER brings it back.
func (s *Server) DeliverToUser(ctx context.Context, accountID, userID int64, from, body string) (int, error) {
	client := s.Client()
	if client == nil {
		return 0, errors.New("sip: the SIP server is not running")
	}
	contacts := s.Contacts(accountID, userID)
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := 0
	for _, c := range contacts {
		wg.Go(func() {
			if s.sendToContact(ctx, c, from, body) {
				mu.Lock()
				accepted++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if accepted == 0 {
		s.markPending(accountID, userID)
	}
	return accepted, nil
}

// sendToContact sends one MESSAGE to a registered contact, to the address and over the
// transport its REGISTER came by, and reports whether the phone took it (2xx).
func (s *Server) sendToContact(ctx context.Context, c Contact, from, body string) bool {
	client := s.Client()
	var uri sip.Uri
	if client == nil || sip.ParseUri(c.URI, &uri) != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, messageTimeout)
	defer cancel()
	contact := s.ContactHeaderFor(c.Transport)
	req := sip.NewRequest(sip.MESSAGE, uri)
	req.SetTransport(strings.ToUpper(c.Transport))
	req.SetDestination(c.Source)
	// From names the server's address and port, so that the phone's "reply" comes back here.
	fromH := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: uriUser(from), Host: contact.Address.Host,
		Port: contact.Address.Port}, Params: sip.NewParams()}
	fromH.Params.Add("tag", sip.GenerateTagN(16))
	toH := &sip.ToHeader{Address: sip.Uri{Scheme: uri.Scheme, User: uri.User, Host: uri.Host, Port: uri.Port},
		Params: sip.NewParams()}
	callID := sip.CallIDHeader(sip.GenerateTagN(24))
	req.AppendHeader(fromH)
	req.AppendHeader(toH)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.MESSAGE})
	req.AppendHeader(sip.NewHeader("Content-Type", textPlain))
	req.SetBody([]byte(body))
	res, err := client.Do(ctx, req)
	switch {
	case err != nil:
		s.log.Debug("MESSAGE to a phone got no answer", "to", c.Source, "error", err)
		s.metrics.messagesOut.WithLabelValues("no_answer").Inc()
		return false
	case !res.IsSuccess():
		s.log.Debug("MESSAGE refused by a phone", "to", c.Source, "code", res.StatusCode)
		s.metrics.messagesOut.WithLabelValues("refused").Inc()
		return false
	}
	s.metrics.messagesOut.WithLabelValues("delivered").Inc()
	return true
}

// markPending remembers that the user has a message no phone took.
func (s *Server) markPending(accountID, userID int64) {
	s.sms.mu.Lock()
	if s.sms.pending == nil {
		s.sms.pending = map[userKey]struct{}{}
	}
	s.sms.pending[userKey{accountID, userID}] = struct{}{}
	s.sms.mu.Unlock()
}

// smsAfterRegister tells the messaging service that the device's user has a phone online
// again, when it may hold messages for them (handleRegister, after the 200). It runs on
// the REGISTER fast path, so it decides from memory and starts a goroutine only then.
func (s *Server) smsAfterRegister(dev *switchboard.Device, bindings []binding) {
	if len(bindings) == 0 {
		return
	}
	key := userKey{dev.AccountID, dev.UserID}
	phone, due := s.smsDue(key)
	if !due {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		phone.UserRegistered(ctx, key.accountID, key.userID)
	}()
}

// smsDue decides whether a REGISTER of the user's is worth a UserRegistered: the service
// says so (PhonePendingChecker), or, without one, a delivery to the user found no phone, or
// this is the user's first REGISTER since the server started. It forgets the user's
// pending mark: a delivery that finds no phone again sets it again.
func (s *Server) smsDue(key userKey) (switchboard.PhoneSMS, bool) {
	s.sms.mu.Lock()
	phone := s.sms.phone
	if phone == nil {
		s.sms.mu.Unlock()
		return nil, false
	}
	if checker, ok := phone.(PhonePendingChecker); ok {
		s.sms.mu.Unlock()
		return phone, checker.HasPhonePending(key.accountID, key.userID)
	}
	defer s.sms.mu.Unlock()
	pending := false
	if len(s.sms.pending) > 0 { // usually empty: most deliveries find a phone
		_, pending = s.sms.pending[key]
		delete(s.sms.pending, key)
	}
	_, asked := s.sms.asked[key]
	if !asked {
		if s.sms.asked == nil {
			s.sms.asked = map[userKey]struct{}{}
		}
		s.sms.asked[key] = struct{}{}
	}
	return phone, pending || !asked
}
