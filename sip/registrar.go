package sip

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"switchboard"
)

// maxContactsPerDevice bounds the bindings one credential can hold, so a device cannot grow
// the registrar's memory without limit.
const maxContactsPerDevice = 10

// binding is one registered contact of a device (RFC 3261 §10).
type binding struct {
	uri       string // the Contact URI, the binding's identity
	expires   time.Time
	callID    string
	cseq      uint32
	source    string // ip:port the REGISTER came from; where requests go behind NAT
	transport string
}

type userKey struct{ accountID, userID int64 }

// userReg is the registration state of one user: the bindings of each of their devices,
// and the presence last announced with a presence.changed event.
type userReg struct {
	extension string
	online    bool                          // as last announced
	devices   map[int64]map[string]*binding // device id -> contact URI -> binding
}

func (u *userReg) liveDevices(now time.Time) int {
	n := 0
	for _, bs := range u.devices {
		for _, b := range bs {
			if now.Before(b.expires) {
				n++
				break
			}
		}
	}
	return n
}

// registrations is the registrar's in-memory location service.
type registrations struct {
	mu    sync.Mutex
	users map[userKey]*userReg
}

// contactRequest is one Contact of a REGISTER with its effective expiry in seconds.
type contactRequest struct {
	uri     string
	expires int
}

// registerRequest is a validated REGISTER, ready to apply.
type registerRequest struct {
	device    *switchboard.Device
	wildcard  bool // Contact: * with Expires: 0 — remove every binding
	contacts  []contactRequest
	callID    string
	cseq      uint32
	source    string
	transport string
}

// registerError is a REGISTER refused before any state changed.
type registerError struct {
	code       int
	reason     string
	outcome    string
	minExpires int // for 423
}

func (e *registerError) Error() string { return fmt.Sprintf("%d %s", e.code, e.reason) }

// parseRegister validates a REGISTER's Contact and Expires headers (RFC 3261 §10.3 steps
// 6–7). Nothing is changed here, so a bad request loses nothing.
func (s *Server) parseRegister(req *sip.Request, dev *switchboard.Device) (*registerRequest, *registerError) {
	bad := func(reason string) *registerError {
		return &registerError{code: 400, reason: reason, outcome: outcomeBadRequest}
	}
	r := &registerRequest{device: dev, source: req.Source(), transport: req.Transport()}
	if h := req.CallID(); h != nil {
		r.callID = h.Value()
	}
	if h := req.CSeq(); h != nil {
		r.cseq = h.SeqNo
	}
	headerExpires := -1
	if h := req.GetHeader("Expires"); h != nil {
		v, ok := parseSeconds(h.Value())
		if !ok {
			return nil, bad("Bad Expires")
		}
		headerExpires = v
	}
	for _, h := range req.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			return nil, bad("Bad Contact")
		}
		if c.Address.Wildcard {
			r.wildcard = true
			continue
		}
		expires := headerExpires
		if v, ok := c.Params.Get("expires"); ok {
			e, ok := parseSeconds(v)
			if !ok {
				return nil, bad("Bad Contact expires")
			}
			expires = e
		}
		if expires < 0 {
			expires = s.cfg.DefaultExpires
		}
		if expires > 0 && expires < s.cfg.MinExpires {
			return nil, &registerError{code: 423, reason: "Interval Too Brief", outcome: outcomeTooBrief, minExpires: s.cfg.MinExpires}
		}
		if expires > s.cfg.MaxExpires {
			expires = s.cfg.MaxExpires
		}
		u := c.Address
		u.UriParams = nil // the binding is the address; parameters are not part of its identity
		u.Headers = nil
		r.contacts = append(r.contacts, contactRequest{uri: u.String(), expires: expires})
	}
	if r.wildcard && (len(r.contacts) > 0 || headerExpires != 0) {
		return nil, bad("Contact: * needs Expires: 0 and no other Contact")
	}
	if len(r.contacts) > maxContactsPerDevice {
		return nil, &registerError{code: 403, reason: "Too Many Contacts", outcome: outcomeForbidden}
	}
	return r, nil
}

// parseSeconds parses a delta-seconds value; values beyond 2^32-1 are clamped as RFC 3261
// §25.1 allows.
func parseSeconds(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v > 1<<32-1 {
		return 1<<32 - 1, true
	}
	return int(v), true
}

// applyRegister changes the device's bindings and, if the user comes online or goes
// offline, stores the presence.changed event. The event is stored before the change is
// made visible: if the store refuses it, the registration is left as it was.
// It returns the device's live bindings after the change.
func (s *Server) applyRegister(ctx context.Context, r *registerRequest) ([]binding, *registerError) {
	now := s.now()
	dev := r.device
	key := userKey{dev.AccountID, dev.UserID}

	s.regs.mu.Lock()
	defer s.regs.mu.Unlock()

	u := s.regs.users[key]
	var current map[string]*binding
	if u != nil {
		current = u.devices[dev.ID]
	}
	// Work on a copy so nothing changes until the event, if any, is stored.
	next := make(map[string]*binding, len(current)+len(r.contacts))
	for k, b := range current {
		if now.Before(b.expires) {
			next[k] = b
		}
	}
	if r.wildcard {
		clear(next)
	}
	for _, c := range r.contacts {
		old := next[c.uri]
		if old != nil && old.callID == r.callID && r.cseq <= old.cseq {
			return nil, &registerError{code: 500, reason: "Out Of Order REGISTER", outcome: outcomeOutOfOrder}
		}
		if c.expires == 0 {
			delete(next, c.uri)
			continue
		}
		next[c.uri] = &binding{uri: c.uri, expires: now.Add(time.Duration(c.expires) * time.Second),
			callID: r.callID, cseq: r.cseq, source: r.source, transport: r.transport}
	}
	if len(next) > maxContactsPerDevice {
		return nil, &registerError{code: 403, reason: "Too Many Contacts", outcome: outcomeForbidden}
	}

	if u == nil {
		if len(next) == 0 {
			return []binding{}, nil // an un-REGISTER of nothing: nothing to store
		}
		u = &userReg{devices: make(map[int64]map[string]*binding)}
	}
	before := u.devices[dev.ID]
	u.devices[dev.ID] = next
	live := u.liveDevices(now)
	if online := live > 0; online != u.online {
		if err := s.announce(ctx, key, u, online, live); err != nil {
			if before == nil {
				delete(u.devices, dev.ID)
			} else {
				u.devices[dev.ID] = before
			}
			s.log.Error("storing presence.changed failed; registration not changed", "error", err,
				"account_id", key.accountID, "user_id", key.userID)
			return nil, &registerError{code: 500, reason: "Server Internal Error", outcome: outcomeError}
		}
	}
	if len(next) == 0 {
		delete(u.devices, dev.ID)
	}
	if len(u.devices) == 0 && !u.online {
		delete(s.regs.users, key)
	} else {
		s.regs.users[key] = u
	}
	s.updateGaugesLocked(now)
	return sortedBindings(next), nil
}

// announce stores presence.changed for the user and records the announced state. The
// caller holds regs.mu, so events of one user are stored in the order they happen.
func (s *Server) announce(ctx context.Context, key userKey, u *userReg, online bool, devices int) error {
	if u.extension == "" {
		usr, err := s.cfg.Store.GetUser(ctx, key.accountID, key.userID)
		if err != nil {
			return fmt.Errorf("look up user for presence: %w", err)
		}
		u.extension = usr.Extension
	}
	ev := switchboard.NewEvent(key.accountID, switchboard.EventPresenceChanged, map[string]any{
		"user_id":   key.userID,
		"extension": u.extension,
		"online":    online,
		"devices":   devices,
	})
	ev.OccurredAt = s.now().UTC()
	if err := s.cfg.Store.AppendEvents(ctx, ev); err != nil {
		return err
	}
	u.online = online
	return nil
}

// sweep removes expired bindings and announces users who went offline. The sweeper runs it
// every second; tests call it after moving the clock.
func (s *Server) sweep(ctx context.Context) {
	now := s.now()
	s.nonces.prune()
	s.bans.prune()

	s.regs.mu.Lock()
	defer s.regs.mu.Unlock()
	for key, u := range s.regs.users {
		live := u.liveDevices(now)
		if u.online && live == 0 {
			if err := s.announce(ctx, key, u, false, 0); err != nil {
				// Keep the expired bindings (they no longer count as live) and try again on
				// the next sweep, so the offline event is not lost.
				s.log.Error("storing presence.changed failed; will retry", "error", err,
					"account_id", key.accountID, "user_id", key.userID)
				continue
			}
		}
		for id, bs := range u.devices {
			for k, b := range bs {
				if !now.Before(b.expires) {
					delete(bs, k)
				}
			}
			if len(bs) == 0 {
				delete(u.devices, id)
			}
		}
		if len(u.devices) == 0 && !u.online {
			delete(s.regs.users, key)
		}
	}
	s.updateGaugesLocked(now)
}

func (s *Server) updateGaugesLocked(now time.Time) {
	contacts, devices := 0, 0
	for _, u := range s.regs.users {
		for _, bs := range u.devices {
			live := 0
			for _, b := range bs {
				if now.Before(b.expires) {
					live++
				}
			}
			contacts += live
			if live > 0 {
				devices++
			}
		}
	}
	s.metrics.registrations.Set(float64(contacts))
	s.metrics.registered.Set(float64(devices))
}

// deviceBindings returns the live bindings of a device (for a REGISTER query).
func (s *Server) deviceBindings(dev *switchboard.Device) []binding {
	now := s.now()
	s.regs.mu.Lock()
	defer s.regs.mu.Unlock()
	u := s.regs.users[userKey{dev.AccountID, dev.UserID}]
	if u == nil {
		return []binding{}
	}
	live := map[string]*binding{}
	for k, b := range u.devices[dev.ID] {
		if now.Before(b.expires) {
			live[k] = b
		}
	}
	return sortedBindings(live)
}

func sortedBindings(m map[string]*binding) []binding {
	out := make([]binding, 0, len(m))
	for _, b := range m {
		out = append(out, *b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].uri < out[j].uri })
	return out
}

// UserPresence reports whether any device of the user has a live registration, and the
// user's live calls from the call engine (SetChannelSource).
func (s *Server) UserPresence(accountID, userID int64) (bool, []switchboard.Channel) {
	return s.userOnline(accountID, userID, s.now()), s.channelsOf(accountID, userID)
}

func (s *Server) userOnline(accountID, userID int64, now time.Time) bool {
	s.regs.mu.Lock()
	defer s.regs.mu.Unlock()
	u := s.regs.users[userKey{accountID, userID}]
	return u != nil && u.liveDevices(now) > 0
}

// queueMembersTTL is how long queue members are cached for QueueStats: the API may ask for
// queue stats often, and membership changes rarely.
const queueMembersTTL = 2 * time.Second

type cachedMembers struct {
	members []switchboard.QueueMember
	fetched time.Time
}

// QueueStats counts the queue's members with a live registration (online), those of them
// not paused and not on a call (available), and those on a call. ActiveCalls (callers in
// the queue) stays 0 until queues route calls.
func (s *Server) QueueStats(accountID, queueID int64) switchboard.QueueLiveStats {
	members, err := s.queueMembers(accountID, queueID)
	if err != nil {
		s.log.Warn("queue stats: listing members failed", "error", err, "account_id", accountID, "queue_id", queueID)
		return switchboard.QueueLiveStats{}
	}
	now := s.now()
	var st switchboard.QueueLiveStats
	for _, m := range members {
		onCall := len(s.channelsOf(accountID, m.UserID)) > 0
		if onCall {
			st.AgentsOnCall++
		}
		if s.userOnline(accountID, m.UserID, now) {
			st.AgentsOnline++
			if !m.Paused && !onCall {
				st.AgentsAvailable++
			}
		}
	}
	return st
}

func (s *Server) queueMembers(accountID, queueID int64) ([]switchboard.QueueMember, error) {
	key := userKey{accountID, queueID}
	now := s.now()
	s.queueMu.Lock()
	c, ok := s.queueCache[key]
	s.queueMu.Unlock()
	if ok && now.Sub(c.fetched) < queueMembersTTL {
		return c.members, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	members, err := s.cfg.Store.ListQueueMembers(ctx, accountID, queueID)
	if err != nil {
		return nil, err
	}
	s.queueMu.Lock()
	if len(s.queueCache) > 10000 { // bounded: stale entries go first, else start over
		for k, v := range s.queueCache {
			if now.Sub(v.fetched) >= queueMembersTTL {
				delete(s.queueCache, k)
			}
		}
		if len(s.queueCache) > 10000 {
			clear(s.queueCache)
		}
	}
	s.queueCache[key] = cachedMembers{members: members, fetched: now}
	s.queueMu.Unlock()
	return members, nil
}
