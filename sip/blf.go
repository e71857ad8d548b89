package sip

// Busy lamps: the dialog event package (RFC 4235) over SUBSCRIBE/NOTIFY (RFC 6665).
//
// A phone subscribes to a colleague's extension of its own account; the call engine
// reports every change of each user's dialogs (PublishDialog), and each subscription has a
// goroutine of its own that sends the watched user's full state in a NOTIFY whenever it
// changed. Changes that come while a NOTIFY is under way are folded into the next one, so
// a slow phone never holds up the engine or the other subscribers.

import (
	"context"
	"maps"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"switchboard"
)

// Subscription lifetimes, in seconds (Expires). One hour is RFC 4235's suggested default.
const (
	blfDefaultExpires = 3600
	blfMinExpires     = 60
	blfMaxExpires     = 3600
)

// Default caps on live subscriptions (Config.BLFMaxPerDevice, BLFMaxPerAccount). A desk
// phone with three expansion modules has about 200 keys.
const (
	DefaultBLFMaxPerDevice  = 200
	DefaultBLFMaxPerAccount = 5000
)

// notifyTimeout bounds waiting for a NOTIFY's answer (a UDP transaction would go on for
// 32 s); finalNotifyTimeout bounds the last NOTIFYs sent as the server shuts down.
const (
	notifyTimeout      = 10 * time.Second
	finalNotifyTimeout = 2 * time.Second
)

// Reasons a subscription ends, as the final NOTIFY's Subscription-State says (RFC 6665
// section 4.1.3): timeout when it expired or was ended by the subscriber (Expires: 0),
// deactivated when the server shuts down (the phone may subscribe again at once, to
// another node).
const (
	endTimeout     = "timeout"
	endDeactivated = "deactivated"
)

// blfHub is the busy lamp state: each user's live dialogs, and the subscriptions that
// watch them. mu is a leaf: PublishDialog is called with the call engine's locks held.
type blfHub struct {
	mu         sync.Mutex
	dialogs    map[userKey]map[string]UserDialog
	subs       map[string]*subscription // by dialog key (dialogKey)
	watchers   map[userKey]map[*subscription]bool
	perDevice  map[int64]int
	perAccount map[int64]int
	// open: Run is serving; subscriptions are taken and their goroutines counted in wg.
	open bool
	// ctx ends when Run stops, cutting short the NOTIFYs under way.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newBLFHub() *blfHub {
	return &blfHub{dialogs: map[userKey]map[string]UserDialog{}, subs: map[string]*subscription{},
		watchers: map[userKey]map[*subscription]bool{}, perDevice: map[int64]int{}, perAccount: map[int64]int{}}
}

// subscription is one phone's subscription to one user's dialogs: a dialog of its own in
// which this server is the notifier.
type subscription struct {
	key                 string
	accountID, deviceID int64
	watched             userKey
	entity, host        string // sip:1002@host, as subscribed to, and its host
	callID              string
	localTag, remoteTag string  // ours (the To tag we gave) and the subscriber's (its From tag)
	local, remote       sip.Uri // the SUBSCRIBE's To and From URIs
	target              sip.Uri // the subscriber's Contact: the NOTIFY's Request-URI
	// dest and transport are where NOTIFYs go: the address the SUBSCRIBE came from, as
	// for registrations, so a phone behind NAT is reached.
	dest, transport string
	routes          []string // the SUBSCRIBE's Record-Route values: our route set
	eventID         string   // the Event header's id parameter, echoed in NOTIFYs

	wake chan struct{} // buffered 1: the watched state changed, or the subscription ended

	// Under blfHub.mu.
	expires time.Time
	end     string // "" while active; the reason once ended

	// The subscription's own goroutine's.
	cseq    uint32
	version int                   // of the next document: 0, 1, 2 ... (RFC 4235 section 4.1)
	shown   map[string]UserDialog // the dialogs the last document listed
}

// poke makes the subscription's goroutine send the current state.
func (sub *subscription) poke() {
	select {
	case sub.wake <- struct{}{}:
	default: // a NOTIFY is pending already; it will carry this change too
	}
}

// dialogKey identifies a subscription dialog from the notifier's side.
func dialogKey(callID, remoteTag, localTag string) string {
	return callID + "\x00" + remoteTag + "\x00" + localTag
}

// PublishDialog tells busy lamps that one of a user's dialogs began or changed state, or
// ended (DialogTerminated). It takes only the hub's own lock and never waits for the
// network: the call engine calls it wherever a call changes.
func (s *Server) PublishDialog(d UserDialog) {
	h := s.blf
	k := userKey{d.AccountID, d.UserID}
	h.mu.Lock()
	defer h.mu.Unlock()
	ds := h.dialogs[k]
	if d.State == DialogTerminated {
		if _, ok := ds[d.ID]; !ok {
			return
		}
		delete(ds, d.ID)
		if len(ds) == 0 {
			delete(h.dialogs, k)
		}
	} else {
		if ds == nil {
			ds = map[string]UserDialog{}
			h.dialogs[k] = ds
		}
		ds[d.ID] = d
	}
	for sub := range h.watchers[k] {
		sub.poke()
	}
}

// UserDialogs returns the user's live dialogs as busy lamps see them.
func (s *Server) UserDialogs(accountID, userID int64) []UserDialog {
	s.blf.mu.Lock()
	defer s.blf.mu.Unlock()
	out := []UserDialog{}
	for _, d := range s.blf.dialogs[userKey{accountID, userID}] {
		out = append(out, d)
	}
	return out
}

// BLFSubscriptions is the number of live busy lamp subscriptions.
func (s *Server) BLFSubscriptions() int {
	s.blf.mu.Lock()
	defer s.blf.mu.Unlock()
	return len(s.blf.subs)
}

// openBLF starts taking subscriptions (Run, as it starts).
func (h *blfHub) openBLF() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.open = true
}

// closeBLF ends every subscription with a final NOTIFY (reason deactivated) and returns
// once their goroutines are gone. Run calls it before closing its transports.
func (h *blfHub) closeBLF() {
	h.mu.Lock()
	h.open = false
	for _, sub := range h.subs {
		if sub.end == "" {
			sub.end = endDeactivated
		}
		sub.poke()
	}
	cancel := h.cancel
	h.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	h.wg.Wait()
}

// expireBLF ends the subscriptions whose time is up; the sweeper runs it every second.
func (h *blfHub) expireBLF(now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, sub := range h.subs {
		if sub.end == "" && !now.Before(sub.expires) {
			sub.end = endTimeout
			sub.poke()
		}
	}
}

// remove forgets an ended subscription.
func (h *blfHub) remove(sub *subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs[sub.key] != sub {
		return
	}
	delete(h.subs, sub.key)
	if w := h.watchers[sub.watched]; w != nil {
		delete(w, sub)
		if len(w) == 0 {
			delete(h.watchers, sub.watched)
		}
	}
	if h.perDevice[sub.deviceID]--; h.perDevice[sub.deviceID] <= 0 {
		delete(h.perDevice, sub.deviceID)
	}
	if h.perAccount[sub.accountID]--; h.perAccount[sub.accountID] <= 0 {
		delete(h.perAccount, sub.accountID)
	}
}

// handleSubscribe takes a SUBSCRIBE: a refresh or unsubscribe inside a subscription's
// dialog, or a new subscription to an extension of the device's account.
func (s *Server) handleSubscribe(req *sip.Request, tx sip.ServerTransaction) {
	if req.To() == nil || req.From() == nil || req.CallID() == nil || req.CSeq() == nil {
		s.respond(req, tx, 400, "Missing To, From, Call-ID or CSeq")
		return
	}
	if _, ok := req.To().Params.Get("tag"); ok {
		if isMessageSummary(req) {
			s.refreshMWI(req, tx) // mwi.go
			return
		}
		s.refreshSubscription(req, tx)
		return
	}
	acct, ok := s.tenantOrRefuse(req, tx, fromHost(req))
	if !ok {
		return
	}
	if isMessageSummary(req) {
		s.subscribeMWI(req, tx, acct) // mwi.go
		return
	}
	if !s.dialogEventOK(req, tx) {
		return
	}
	dev, fromTag, expires, ok := s.authSubscriber(req, tx, acct)
	if !ok {
		return
	}
	watched, ok := s.watchedUser(req, tx, dev)
	if !ok {
		return
	}

	localTag := sip.GenerateTagN(16)
	sub := &subscription{
		key:       dialogKey(req.CallID().Value(), fromTag, localTag),
		accountID: dev.AccountID, deviceID: dev.ID,
		watched: userKey{dev.AccountID, watched.ID},
		host:    req.Recipient.Host,
		callID:  req.CallID().Value(), localTag: localTag, remoteTag: fromTag,
		local: req.To().Address, remote: req.From().Address, target: req.Contact().Address,
		dest: req.Source(), transport: req.Transport(),
		eventID: eventID(req),
		wake:    make(chan struct{}, 1),
		expires: s.now().Add(time.Duration(expires) * time.Second),
	}
	sub.entity = "sip:" + uriUser(watched.Extension) + "@" + sub.host
	for _, rr := range headersOf(req, "Record-Route") {
		sub.routes = append(sub.routes, rr.Value())
	}
	if expires == 0 {
		sub.end = endTimeout // a fetch (RFC 6665 4.4.3): one NOTIFY with the state, then done
	}
	if code, reason := s.blf.add(sub, s.cfg.BLFMaxPerDevice, s.cfg.BLFMaxPerAccount); code != 0 {
		s.respond(req, tx, code, reason)
		return
	}
	resp := sip.NewResponseFromRequest(req, 200, "OK", nil)
	resp.To().Params.Add("tag", localTag)
	contact := s.ContactHeaderFor(sub.transport)
	resp.AppendHeader(&contact)
	resp.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	resp.AppendHeader(sip.NewHeader("Server", "Switchboard"))
	if err := tx.Respond(resp); err != nil {
		s.log.Debug("sending SIP response failed", "code", 200, "error", err, "to", req.Source())
	}
	// The first NOTIFY goes once the 200 is on its way (RFC 6665 4.2.1.2).
	sub.poke()
	go s.runSubscription(sub)
}

// authSubscriber checks a new SUBSCRIBE's Contact, From tag and Expires and authenticates
// its device (the same digest as REGISTER), answering the problem itself (false). Every
// event package (dialog, message-summary) takes subscribers through here.
func (s *Server) authSubscriber(req *sip.Request, tx sip.ServerTransaction, acct *switchboard.Account) (dev *switchboard.Device, fromTag string, expires int, ok bool) {
	if req.Contact() == nil {
		s.respond(req, tx, 400, "Missing Contact")
		return nil, "", 0, false
	}
	fromTag, _ = req.From().Params.Get("tag")
	if fromTag == "" {
		s.respond(req, tx, 400, "Missing From tag")
		return nil, "", 0, false
	}
	expires, ok = s.subscribeExpires(req, tx)
	if !ok {
		return nil, "", 0, false
	}
	// The same digest as REGISTER: 401 with WWW-Authenticate, answered in Authorization.
	dev, res := s.authenticate(req, "Authorization", acct)
	switch res.kind {
	case authOK:
	case authWeakDigest:
		s.respond(req, tx, 403, forbiddenWeakDigest)
		return nil, "", 0, false
	case authMalformed:
		s.respond(req, tx, 400, "Bad Authorization")
		return nil, "", 0, false
	case authStoreError:
		s.respond(req, tx, 500, "Server Internal Error")
		return nil, "", 0, false
	default:
		s.challenge(req, tx, 401, "Unauthorized", "WWW-Authenticate", res.kind == authStale, acct, fromUser(req))
		return nil, "", 0, false
	}
	if refuseInsecure(dev, req) {
		s.respond(req, tx, 403, forbiddenInsecure)
		return nil, "", 0, false
	}
	return dev, fromTag, expires, true
}

// add registers a new subscription unless a cap is reached (a status and reason then),
// and counts the goroutine that will run it.
func (h *blfHub) add(sub *subscription, perDevice, perAccount int) (int, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.open {
		return 503, "Service Unavailable: shutting down"
	}
	if h.perDevice[sub.deviceID] >= perDevice {
		return 403, "Forbidden: too many busy lamp subscriptions for this device (limit " + strconv.Itoa(perDevice) + ")"
	}
	if h.perAccount[sub.accountID] >= perAccount {
		return 403, "Forbidden: too many busy lamp subscriptions for this account (limit " + strconv.Itoa(perAccount) + ")"
	}
	h.subs[sub.key] = sub
	if h.watchers[sub.watched] == nil {
		h.watchers[sub.watched] = map[*subscription]bool{}
	}
	h.watchers[sub.watched][sub] = true
	h.perDevice[sub.deviceID]++
	h.perAccount[sub.accountID]++
	h.wg.Add(1)
	return 0, ""
}

// refreshSubscription takes a SUBSCRIBE inside a subscription's dialog: a new Expires, or 0
// to end it. The dialog's Call-ID and both random tags identify the subscriber, as they do
// a call's in-dialog requests; it is not challenged again.
func (s *Server) refreshSubscription(req *sip.Request, tx sip.ServerTransaction) {
	localTag, _ := req.To().Params.Get("tag")
	remoteTag, _ := req.From().Params.Get("tag")
	key := dialogKey(req.CallID().Value(), remoteTag, localTag)
	s.blf.mu.Lock()
	sub := s.blf.subs[key]
	live := sub != nil && sub.end == ""
	s.blf.mu.Unlock()
	if !live {
		s.respond(req, tx, 481, "Subscription Does Not Exist")
		return
	}
	if !s.dialogEventOK(req, tx) {
		return
	}
	expires, ok := s.subscribeExpires(req, tx)
	if !ok {
		return
	}
	s.blf.mu.Lock()
	if sub.end == "" {
		sub.expires = s.now().Add(time.Duration(expires) * time.Second)
		if expires == 0 {
			sub.end = endTimeout
		}
	}
	s.blf.mu.Unlock()
	s.respond(req, tx, 200, "OK", sip.NewHeader("Expires", strconv.Itoa(expires)))
	// A refresh is answered with the current state too (RFC 6665 4.2.1.2); an unsubscribe
	// with the final NOTIFY.
	sub.poke()
}

// dialogEventOK answers a SUBSCRIBE for another event package 489 and one that accepts no
// dialog-info document 406 (false); it reports true for the dialog package.
func (s *Server) dialogEventOK(req *sip.Request, tx sip.ServerTransaction) bool {
	if pkg, _, _ := strings.Cut(eventHeader(req), ";"); !strings.EqualFold(strings.TrimSpace(pkg), "dialog") {
		s.respond(req, tx, 489, "Bad Event", sip.NewHeader("Allow-Events", "dialog, message-summary"))
		return false
	}
	accepts := headersOf(req, "Accept")
	if len(accepts) == 0 {
		return true // the package's default body, RFC 6665 section 4.1.2
	}
	for _, h := range accepts {
		for _, t := range strings.Split(h.Value(), ",") {
			t, _, _ = strings.Cut(t, ";")
			switch strings.ToLower(strings.TrimSpace(t)) {
			case dialogInfoType, "application/*", "*/*":
				return true
			}
		}
	}
	s.respond(req, tx, 406, "Not Acceptable", sip.NewHeader("Accept", dialogInfoType))
	return false
}

// eventHeader is the Event header's value (or its compact form o).
func eventHeader(req *sip.Request) string {
	if h := headerOf(req, "Event"); h != nil {
		return h.Value()
	}
	if h := headerOf(req, "o"); h != nil {
		return h.Value()
	}
	return ""
}

// eventID is the Event header's id parameter, "" without one.
func eventID(req *sip.Request) string {
	_, params, _ := strings.Cut(eventHeader(req), ";")
	for _, p := range strings.Split(params, ";") {
		if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "id") {
			return v
		}
	}
	return ""
}

// subscribeExpires reads the SUBSCRIBE's Expires: the default without one, clamped to the
// maximum; a malformed one is answered 400 and one below the minimum (but 0) 423 (false).
func (s *Server) subscribeExpires(req *sip.Request, tx sip.ServerTransaction) (int, bool) {
	h := headerOf(req, "Expires")
	if h == nil {
		return blfDefaultExpires, true
	}
	n, err := strconv.Atoi(strings.TrimSpace(h.Value()))
	switch {
	case err != nil || n < 0:
		s.respond(req, tx, 400, "Bad Expires")
		return 0, false
	case n > 0 && n < blfMinExpires:
		s.respond(req, tx, 423, "Interval Too Brief", sip.NewHeader("Min-Expires", strconv.Itoa(blfMinExpires)))
		return 0, false
	}
	return min(n, blfMaxExpires), true
}

// watchedUser finds the user a SUBSCRIBE asks to watch: the Request-URI's user part as an
// extension of the device's own account. An extension of another account is not found,
// exactly as one that does not exist, so a phone learns nothing about other tenants.
func (s *Server) watchedUser(req *sip.Request, tx sip.ServerTransaction, dev *switchboard.Device) (*switchboard.User, bool) {
	notFound := func() (*switchboard.User, bool) {
		s.respond(req, tx, 404, "Not Found: no user with that extension")
		return nil, false
	}
	ext := strings.TrimSpace(req.Recipient.User)
	if !switchboard.ValidExtension(ext) {
		return notFound()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// A Request-URI naming another account's SIP domain asks for that account's user.
	if acct, known, err := s.tenant(ctx, req.Recipient.Host); err == nil && known && acct != nil && acct.ID != dev.AccountID {
		return notFound()
	}
	u, err := s.cfg.Store.GetUserByExtension(ctx, dev.AccountID, ext)
	if switchboard.ErrorCode(err) == switchboard.ENOTFOUND {
		return notFound()
	}
	if err != nil {
		s.log.Error("user lookup failed", "error", err)
		s.respond(req, tx, 500, "Server Internal Error")
		return nil, false
	}
	return u, true
}

// runSubscription sends the subscription's NOTIFYs until it ends: the state whenever it is
// poked, and a final NOTIFY with Subscription-State terminated. A NOTIFY answered 481 or
// never answered ends it without another (RFC 6665 4.2.2).
func (s *Server) runSubscription(sub *subscription) {
	h := s.blf
	defer h.wg.Done()
	defer h.remove(sub)
	for range sub.wake {
		h.mu.Lock()
		end, expires := sub.end, sub.expires
		current := maps.Clone(h.dialogs[sub.watched])
		running := h.ctx
		h.mu.Unlock()
		parent, timeout := running, notifyTimeout
		if end == endDeactivated {
			parent, timeout = context.Background(), finalNotifyTimeout // Run is waiting for this one
		}
		ctx, cancel := context.WithTimeout(parent, timeout)
		ok := s.notify(ctx, sub, current, end, expires)
		cancel()
		if end != "" {
			return
		}
		if !ok && running.Err() == nil {
			return
		}
		// A NOTIFY cut short by the shutdown: closeBLF has poked for the final one.
	}
}

// notify sends one NOTIFY with the watched user's current dialogs, and the ones the last
// document listed that have ended since, as terminated. It reports false when the
// subscriber is gone (481, no answer, no route).
func (s *Server) notify(ctx context.Context, sub *subscription, current map[string]UserDialog, end string, expires time.Time) bool {
	client := s.Client()
	if client == nil {
		return false
	}
	dialogs := make([]UserDialog, 0, len(current)+len(sub.shown))
	for _, d := range current {
		dialogs = append(dialogs, d)
	}
	for id, d := range sub.shown {
		if _, live := current[id]; !live {
			d.State = DialogTerminated
			dialogs = append(dialogs, d)
		}
	}
	sub.shown = current
	body := dialogInfoXML(sub.entity, sub.host, sub.version, dialogs)
	sub.version++
	sub.cseq++

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
	req.AppendHeader(&sip.CSeqHeader{SeqNo: sub.cseq, MethodName: sip.NOTIFY})
	for _, r := range sub.routes {
		req.AppendHeader(sip.NewHeader("Route", r))
	}
	contact := s.ContactHeaderFor(sub.transport)
	req.AppendHeader(&contact)
	event := "dialog"
	if sub.eventID != "" {
		event += ";id=" + sub.eventID
	}
	req.AppendHeader(sip.NewHeader("Event", event))
	state := "terminated;reason=" + end
	if end == "" {
		left := max(0, int((expires.Sub(s.now())+time.Second-1)/time.Second))
		state = "active;expires=" + strconv.Itoa(left)
	}
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	req.AppendHeader(sip.NewHeader("Content-Type", dialogInfoType))
	req.SetBody(body)

	res, err := client.Do(ctx, req)
	switch {
	case err != nil:
		s.log.Debug("NOTIFY got no answer; ending the subscription", "to", sub.dest, "error", err)
		return false
	case res.StatusCode == 481 || res.StatusCode == 408:
		return false
	case !res.IsSuccess():
		s.log.Debug("NOTIFY refused", "to", sub.dest, "code", res.StatusCode)
	}
	return true
}

// blfSweeper ends expired subscriptions, on the server's clock, every second.
func (s *Server) blfSweeper(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.blf.expireBLF(s.now())
		}
	}
}
