package sip

// Message waiting indication: the message-summary event package (RFC 3842) over
// SUBSCRIBE/NOTIFY (RFC 6665). A phone's voicemail lamp follows its user's box:
//
//   - a SUBSCRIBE for message-summary is answered 200 and at once with a NOTIFY of the
//     counts, and again on every change while the subscription lasts;
//   - every change (a message left, read or deleted) also sends an unsolicited NOTIFY to
//     every registered phone of the user (most phones light the lamp from these without
//     subscribing, as Asterisk's mwi does);
//   - and so does every successful REGISTER: a phone that re-registers (after a reboot, a
//     network change) has lost the lamp's state.
//
// The counts come from the function SetMessageSummary gives (the call engine's side).

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"switchboard"
)

// MessageSummaryType is the body type of message-summary NOTIFYs.
const MessageSummaryType = "application/simple-message-summary"

// MessageSummary returns a user's voicemail counts; has is false when the user has no
// voicemail (no NOTIFY is sent then, except to subscribers, who hear "no").
type MessageSummary func(ctx context.Context, accountID, userID int64) (c switchboard.VoicemailCounts, has bool, err error)

// mwiHub holds the message-summary subscriptions and the counts source.
type mwiHub struct {
	mu      sync.Mutex
	summary MessageSummary
	subs    map[string]*mwiSub // by dialog key
	// lamps are the users' counts as last read, for the NOTIFY after a REGISTER: reading
	// them from the store at every REGISTER doubled the registrar's cost per registration.
	// A change on this node replaces its user's entry at once (NotifyMessageWaiting); one
	// made on another node is seen here within lampTTL.
	lamps map[userKey]lampState
}

// lampState is a user's voicemail counts and when they were read.
type lampState struct {
	counts switchboard.VoicemailCounts
	has    bool
	read   time.Time
}

const lampTTL = 10 * time.Second

// mwiSub is one message-summary subscription: a dialog the NOTIFYs go in.
type mwiSub struct {
	accountID, userID   int64
	extension, host     string
	callID              string
	localTag, remoteTag string
	local, remote       sip.Uri
	target              sip.Uri
	dest, transport     string
	routes              []string
	cseq                uint32
	expires             time.Time
}

// SetMessageSummary gives the server the source of voicemail counts; without it a
// message-summary SUBSCRIBE is answered 489 and no lamp NOTIFY is sent.
func (s *Server) SetMessageSummary(f MessageSummary) {
	s.mwi.mu.Lock()
	s.mwi.summary = f
	s.mwi.mu.Unlock()
}

func (s *Server) messageSummary() MessageSummary {
	s.mwi.mu.Lock()
	defer s.mwi.mu.Unlock()
	return s.mwi.summary
}

// isMessageSummary reports whether a SUBSCRIBE is for the message-summary package.
func isMessageSummary(req *sip.Request) bool {
	pkg, _, _ := strings.Cut(eventHeader(req), ";")
	return strings.EqualFold(strings.TrimSpace(pkg), "message-summary")
}

// messageSummaryBody is the RFC 3842 body for the counts (urgent messages are not kept
// apart: the counts in parentheses are 0).
func messageSummaryBody(account string, c switchboard.VoicemailCounts) []byte {
	waiting := "no"
	if c.New > 0 {
		waiting = "yes"
	}
	return []byte(fmt.Sprintf("Messages-Waiting: %s\r\nMessage-Account: %s\r\nVoice-Message: %d/%d (0/0)\r\n",
		waiting, account, c.New, c.Old))
}

// subscribeMWI takes a new message-summary SUBSCRIBE: the subscriber's own user's box.
func (s *Server) subscribeMWI(req *sip.Request, tx sip.ServerTransaction, acct *switchboard.Account) {
	summary := s.messageSummary()
	if summary == nil {
		s.respond(req, tx, 489, "Bad Event", sip.NewHeader("Allow-Events", "dialog"))
		return
	}
	dev, fromTag, expires, ok := s.authSubscriber(req, tx, acct)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	u, err := s.cfg.Store.GetUser(ctx, dev.AccountID, dev.UserID)
	cancel()
	if err != nil {
		s.respond(req, tx, 404, "Not Found: the device has no user")
		return
	}
	localTag := sip.GenerateTagN(16)
	sub := &mwiSub{accountID: dev.AccountID, userID: u.ID, extension: u.Extension, host: req.Recipient.Host,
		callID: req.CallID().Value(), localTag: localTag, remoteTag: fromTag,
		local: req.To().Address, remote: req.From().Address, target: req.Contact().Address,
		dest: req.Source(), transport: req.Transport(),
		expires: s.now().Add(time.Duration(expires) * time.Second)}
	for _, rr := range headersOf(req, "Record-Route") {
		sub.routes = append(sub.routes, rr.Value())
	}
	key := dialogKey(sub.callID, fromTag, localTag)
	if expires > 0 {
		s.mwi.mu.Lock()
		if s.mwi.subs == nil {
			s.mwi.subs = map[string]*mwiSub{}
		}
		s.mwi.subs[key] = sub
		s.mwi.mu.Unlock()
	}
	resp := sip.NewResponseFromRequest(req, 200, "OK", nil)
	resp.To().Params.Add("tag", localTag)
	contact := s.ContactHeaderFor(sub.transport)
	resp.AppendHeader(&contact)
	resp.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	if err := tx.Respond(resp); err != nil {
		s.log.Debug("sending SIP response failed", "code", 200, "error", err, "to", req.Source())
	}
	// The first NOTIFY follows the 200 (RFC 6665 4.2.1.2); a fetch (Expires 0) gets only it.
	go s.notifySub(sub, expires == 0)
}

// refreshMWI takes a SUBSCRIBE inside a message-summary subscription: a new Expires, or 0
// to end it (answered with a final NOTIFY).
func (s *Server) refreshMWI(req *sip.Request, tx sip.ServerTransaction) {
	localTag, _ := req.To().Params.Get("tag")
	remoteTag, _ := req.From().Params.Get("tag")
	key := dialogKey(req.CallID().Value(), remoteTag, localTag)
	expires, ok := s.subscribeExpires(req, tx)
	if !ok {
		return
	}
	s.mwi.mu.Lock()
	sub := s.mwi.subs[key]
	if sub != nil {
		sub.expires = s.now().Add(time.Duration(expires) * time.Second)
		if expires == 0 {
			delete(s.mwi.subs, key)
		}
	}
	s.mwi.mu.Unlock()
	if sub == nil {
		s.respond(req, tx, 481, "Subscription Does Not Exist")
		return
	}
	s.respond(req, tx, 200, "OK", sip.NewHeader("Expires", strconv.Itoa(expires)))
	go s.notifySub(sub, expires == 0)
}

// NotifyMessageWaiting sends the user's current counts to their subscribed and registered
// phones, in the background: the voicemail service calls it after every change.
func (s *Server) NotifyMessageWaiting(accountID, userID int64) {
	if s.messageSummary() == nil || userID == 0 {
		return
	}
	now := s.now()
	var subs []*mwiSub
	s.mwi.mu.Lock()
	for k, sub := range s.mwi.subs {
		switch {
		case !sub.expires.After(now):
			delete(s.mwi.subs, k)
		case sub.accountID == accountID && sub.userID == userID:
			subs = append(subs, sub)
		}
	}
	s.mwi.mu.Unlock()
	for _, sub := range subs {
		go s.notifySub(sub, false)
	}
	go s.notifyContacts(accountID, userID, s.Contacts(accountID, userID), true)
}

// lamp is the user's counts for their lamp: read from the store when fresh is asked for or
// the remembered ones are older than lampTTL, else the remembered ones.
func (s *Server) lamp(ctx context.Context, accountID, userID int64, fresh bool) (switchboard.VoicemailCounts, bool, error) {
	key, now := userKey{accountID, userID}, s.now()
	s.mwi.mu.Lock()
	summary, l := s.mwi.summary, s.mwi.lamps[key]
	s.mwi.mu.Unlock()
	if !fresh && !l.read.IsZero() && now.Sub(l.read) < lampTTL {
		return l.counts, l.has, nil
	}
	counts, has, err := summary(ctx, accountID, userID)
	if err != nil {
		return counts, has, err
	}
	s.mwi.mu.Lock()
	if s.mwi.lamps == nil {
		s.mwi.lamps = map[userKey]lampState{}
	}
	s.mwi.lamps[key] = lampState{counts: counts, has: has, read: now}
	s.mwi.mu.Unlock()
	return counts, has, nil
}

// mayHaveLamp reports whether the user may have a mailbox to light a lamp for: not when
// there are no voicemail counts, nor while the counts read within lampTTL said the user has
// no mailbox. It decides from memory, so that a REGISTER of a user without voicemail (most
// of them, at thousands a second) costs no goroutine.
func (s *Server) mayHaveLamp(key userKey) bool {
	now := s.now()
	s.mwi.mu.Lock()
	defer s.mwi.mu.Unlock()
	if s.mwi.summary == nil {
		return false
	}
	l, ok := s.mwi.lamps[key]
	return !ok || l.has || l.read.IsZero() || now.Sub(l.read) >= lampTTL
}

// mwiAfterRegister sends the lamp's state to the device's registered contacts after a
// successful REGISTER (handleRegister).
func (s *Server) mwiAfterRegister(dev *switchboard.Device, bindings []binding) {
	if len(bindings) == 0 || !s.mayHaveLamp(userKey{dev.AccountID, dev.UserID}) {
		return
	}
	// The device's bindings are its contacts: it has just registered them (over TLS if it
	// requires it: handleRegister refused it otherwise).
	contacts := make([]Contact, 0, len(bindings))
	for _, b := range bindings {
		contacts = append(contacts, Contact{DeviceID: dev.ID, URI: b.uri, Source: b.source, Transport: b.transport})
	}
	go s.notifyContacts(dev.AccountID, dev.UserID, contacts, false)
}

// notifyContacts sends an unsolicited NOTIFY (out of any dialog) to each contact, when the
// user has voicemail; fresh reads the counts from the store (after a change) rather than
// taking the remembered ones (after a REGISTER).
func (s *Server) notifyContacts(accountID, userID int64, contacts []Contact, fresh bool) {
	if len(contacts) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), notifyTimeout)
	defer cancel()
	counts, has, err := s.lamp(ctx, accountID, userID, fresh)
	if err != nil || !has {
		return
	}
	u, err := s.cfg.Store.GetUser(ctx, accountID, userID)
	if err != nil {
		return
	}
	client := s.Client()
	if client == nil {
		return
	}
	for _, c := range contacts {
		var uri sip.Uri
		if err := sip.ParseUri(c.URI, &uri); err != nil {
			continue
		}
		contact := s.ContactHeaderFor(c.Transport)
		host := contact.Address.Host
		aor := sip.Uri{Scheme: "sip", User: uriUser(u.Extension), Host: host}
		req := sip.NewRequest(sip.NOTIFY, uri)
		req.SetTransport(strings.ToUpper(c.Transport))
		req.SetDestination(c.Source)
		from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
		from.Params.Add("tag", sip.GenerateTagN(16))
		to := &sip.ToHeader{Address: aor, Params: sip.NewParams()}
		callID := sip.CallIDHeader(sip.GenerateTagN(24))
		req.AppendHeader(from)
		req.AppendHeader(to)
		req.AppendHeader(&callID)
		req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.NOTIFY})
		req.AppendHeader(&contact)
		req.AppendHeader(sip.NewHeader("Event", "message-summary"))
		req.AppendHeader(sip.NewHeader("Subscription-State", "active"))
		req.AppendHeader(sip.NewHeader("Content-Type", MessageSummaryType))
		req.SetBody(messageSummaryBody(aor.String(), counts))
		if res, err := client.Do(ctx, req); err != nil {
			s.log.Debug("message-summary NOTIFY got no answer", "to", c.Source, "error", err)
		} else if !res.IsSuccess() {
			s.log.Debug("message-summary NOTIFY refused", "to", c.Source, "code", res.StatusCode)
		}
	}
}

// notifySub sends one NOTIFY in a subscription's dialog with the current counts; final
// ends it (Subscription-State terminated). A subscriber that answers 481 or not at all is
// forgotten.
func (s *Server) notifySub(sub *mwiSub, final bool) {
	summary, client := s.messageSummary(), s.Client()
	if summary == nil || client == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), notifyTimeout)
	defer cancel()
	counts, _, err := summary(ctx, sub.accountID, sub.userID)
	if err != nil {
		s.log.Warn("reading voicemail counts failed", "account_id", sub.accountID, "user_id", sub.userID, "error", err)
		return
	}
	s.mwi.mu.Lock()
	sub.cseq++
	seq, expires := sub.cseq, sub.expires
	s.mwi.mu.Unlock()
	req := sip.NewRequest(sip.NOTIFY, sub.target)
	req.SetTransport(strings.ToUpper(sub.transport))
	req.SetDestination(sub.dest)
	from := &sip.FromHeader{Address: sub.local, Params: sip.NewParams()}
	from.Params.Add("tag", sub.localTag)
	to := &sip.ToHeader{Address: sub.remote, Params: sip.NewParams()}
	to.Params.Add("tag", sub.remoteTag)
	callID := sip.CallIDHeader(sub.callID)
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: sip.NOTIFY})
	for _, r := range sub.routes {
		req.AppendHeader(sip.NewHeader("Route", r))
	}
	contact := s.ContactHeaderFor(sub.transport)
	req.AppendHeader(&contact)
	req.AppendHeader(sip.NewHeader("Event", "message-summary"))
	state := "terminated;reason=timeout"
	if !final {
		left := max(0, int((expires.Sub(s.now())+time.Second-1)/time.Second))
		state = "active;expires=" + strconv.Itoa(left)
	}
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	req.AppendHeader(sip.NewHeader("Content-Type", MessageSummaryType))
	account := sip.Uri{Scheme: "sip", User: uriUser(sub.extension), Host: sub.host}
	req.SetBody(messageSummaryBody(account.String(), counts))
	res, err := client.Do(ctx, req)
	if err != nil || res.StatusCode == 481 || res.StatusCode == 408 {
		s.mwi.mu.Lock()
		delete(s.mwi.subs, dialogKey(sub.callID, sub.remoteTag, sub.localTag))
		s.mwi.mu.Unlock()
	}
}
