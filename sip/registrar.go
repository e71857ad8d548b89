package sip

import (
	"context"
	"fmt"
	"maps"
	"math"
	"net/netip"
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
	stored    time.Time // the expiry the store holds for it (older after a write-behind refresh)
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

// liveDevices counts the devices with at least one unexpired binding.
func liveDevices(devices map[int64]map[string]*binding, now time.Time) int {
	n := 0
	for _, bs := range devices {
		for _, b := range bs {
			if now.Before(b.expires) {
				n++
				break
			}
		}
	}
	return n
}

// registrations is the registrar's location service: in memory for routing, written
// through to the store so that a restart keeps it.
type registrations struct {
	mu    sync.Mutex // guards users, bySource and every userReg in it
	users map[userKey]*userReg
	// bySource indexes users by the addresses their bindings came from (expired bindings
	// included until swept), so registeredSource asks a few users, not every binding.
	bySource map[netip.Addr]map[userKey]bool
	// stripes serialize the changes of one user (compute, store, apply) without holding
	// up other users' REGISTERs while their store write is under way.
	stripes [64]sync.Mutex
	loaded  bool // the stored registrations were read (Run reads them once)
}

func (r *registrations) userLock(k userKey) *sync.Mutex {
	return &r.stripes[uint64(k.accountID*31+k.userID)%uint64(len(r.stripes))]
}

// storedRegistrations lists the bindings of devices as the store keeps them.
func storedRegistrations(key userKey, devices map[int64]map[string]*binding) []switchboard.Registration {
	out := []switchboard.Registration{}
	for deviceID, bs := range devices {
		for _, b := range bs {
			out = append(out, switchboard.Registration{AccountID: key.accountID, UserID: key.userID, DeviceID: deviceID,
				Contact: b.uri, Expires: b.expires, CallID: b.callID, CSeq: b.cseq, Source: b.source, Transport: b.transport})
		}
	}
	return out
}

// loadRegistrations reads the stored bindings into memory. A user with stored bindings was
// last announced online (bindings and presence events are stored together); one whose
// bindings all expired while the server was down is announced offline by the first sweep.
func (s *Server) loadRegistrations(ctx context.Context) error {
	s.regs.mu.Lock()
	defer s.regs.mu.Unlock()
	if s.regs.loaded {
		return nil
	}
	regs, err := s.cfg.Store.ListRegistrations(ctx)
	if err != nil {
		return fmt.Errorf("sip: reading stored registrations: %w", err)
	}
	for _, r := range regs {
		key := userKey{r.AccountID, r.UserID}
		u := s.regs.users[key]
		if u == nil {
			u = &userReg{online: true, devices: make(map[int64]map[string]*binding)}
			s.regs.users[key] = u
		}
		if u.devices[r.DeviceID] == nil {
			u.devices[r.DeviceID] = make(map[string]*binding)
		}
		u.devices[r.DeviceID][r.Contact] = &binding{uri: r.Contact, expires: r.Expires, stored: r.Expires, callID: r.CallID,
			cseq: r.CSeq, source: r.Source, transport: r.Transport}
	}
	for key, u := range s.regs.users {
		s.regs.indexLocked(key, u.devices, true)
	}
	s.regs.loaded = true
	if len(regs) > 0 {
		s.log.Info("registrations restored from the store", "contacts", len(regs), "users", len(s.regs.users))
	}
	return nil
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
	// retransmission: this very request was applied before (authResult.retransmission), so
	// its CSeq equal to the binding's is not out of order.
	retransmission bool
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
	if h := headerOf(req, "Expires"); h != nil {
		v, ok := parseSeconds(h.Value())
		if !ok {
			return nil, bad("Bad Expires")
		}
		headerExpires = v
	}
	for _, h := range headersOf(req, "Contact") {
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

// parseSeconds parses a delta-seconds value; values beyond 2^31-1 are clamped (RFC 3261 §25.1
// allows clamping at 2^32-1; 2^31-1 also fits a 32-bit int, and any expiry that long is
// cut to the registrar's maximum anyway).
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
	if err != nil || v > math.MaxInt32 {
		return math.MaxInt32, true
	}
	return int(v), true
}

// applyRegister changes the device's bindings. The user's bindings are stored, with
// presence.changed when the user comes online or goes offline, before the change is made
// visible: if the store refuses them, the registration is left as it was.
// It returns the device's live bindings after the change.
func (s *Server) applyRegister(ctx context.Context, r *registerRequest) ([]binding, *registerError) {
	now := s.now()
	dev := r.device
	key := userKey{dev.AccountID, dev.UserID}
	lock := s.regs.userLock(key)
	lock.Lock()
	defer lock.Unlock()
	prepared := s.regWrites.prepare()
	defer prepared() // when nothing is saved; save takes it back as soon as it queues

	// Work on copies so nothing changes until the store has taken the new state.
	s.regs.mu.Lock()
	u := s.regs.users[key]
	devices := make(map[int64]map[string]*binding)
	wasOnline, extension := false, ""
	if u != nil {
		maps.Copy(devices, u.devices)
		wasOnline, extension = u.online, u.extension
	}
	s.regs.mu.Unlock()

	next := make(map[string]*binding, len(devices[dev.ID])+len(r.contacts))
	for k, b := range devices[dev.ID] {
		if now.Before(b.expires) {
			next[k] = b
		}
	}
	if r.wildcard {
		clear(next)
	}
	for _, c := range r.contacts {
		old := next[c.uri]
		if old != nil && old.callID == r.callID && (r.cseq < old.cseq || r.cseq == old.cseq && !r.retransmission) {
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
	if u == nil && len(next) == 0 {
		return []binding{}, nil // an un-REGISTER of nothing: nothing to store
	}
	before := devices[dev.ID]
	if len(next) == 0 {
		delete(devices, dev.ID)
	} else {
		devices[dev.ID] = next
	}
	live := liveDevices(devices, now)
	online := live > 0
	var presence *switchboard.Event
	if online != wasOnline {
		var err error
		if presence, extension, err = s.presenceEvent(ctx, key, extension, online, live); err != nil {
			s.log.Error("looking up the user for presence failed; registration not changed", "error", err,
				"account_id", key.accountID, "user_id", key.userID)
			return nil, &registerError{code: 500, reason: "Server Internal Error", outcome: outcomeError}
		}
	}
	change := deviceChange(key, dev.ID, before, next, r, presence)
	if refreshOnly(change, before, now) {
		// The store already holds these bindings, live for at least half the new interval:
		// the new expiry is written behind, and the 200 does not wait for it.
		for _, c := range change.Save {
			next[c.Contact].stored = before[c.Contact].stored
		}
		s.regWrites.saveLater(change, prepared)
	} else {
		for _, c := range change.Save {
			next[c.Contact].stored = c.Expires
		}
		if err := s.regWrites.save(ctx, change, prepared); err != nil {
			s.log.Error("storing the registration failed; registration not changed", "error", err,
				"account_id", key.accountID, "user_id", key.userID)
			return nil, &registerError{code: 500, reason: "Server Internal Error", outcome: outcomeError}
		}
	}

	s.regs.mu.Lock()
	s.setUserLocked(key, devices, online, extension)
	s.regs.mu.Unlock()
	return sortedBindings(next), nil
}

// deviceChange is what a REGISTER changes in the store: the bindings it set, and those the
// device had before that it no longer has (removed, or expired and dropped).
func deviceChange(key userKey, deviceID int64, before, after map[string]*binding, r *registerRequest, presence *switchboard.Event) switchboard.RegistrationChange {
	c := switchboard.RegistrationChange{AccountID: key.accountID, UserID: key.userID}
	for _, req := range r.contacts {
		if b := after[req.uri]; b != nil && req.expires > 0 {
			c.Save = append(c.Save, storedBinding(key, deviceID, b))
		}
	}
	for uri, b := range before {
		if after[uri] == nil {
			c.Remove = append(c.Remove, storedBinding(key, deviceID, b))
		}
	}
	if presence != nil {
		c.Events = []*switchboard.Event{presence}
	}
	return c
}

// refreshOnly reports whether a change only refreshes bindings the store holds — from the
// same source and transport, with no presence event — whose stored expiry still covers at
// least half of the new interval. Such a change is written behind: a crash before it lands
// leaves the binding stored with that earlier expiry, by which time the phone, which
// re-registers before its interval runs out, has usually refreshed it again. Anything
// else — a new binding, a move to another address, a removal — is committed before the 200.
func refreshOnly(c switchboard.RegistrationChange, before map[string]*binding, now time.Time) bool {
	if len(c.Save) == 0 || len(c.Remove) > 0 || len(c.Events) > 0 {
		return false
	}
	for _, r := range c.Save {
		old := before[r.Contact]
		if old == nil || old.source != r.Source || old.transport != r.Transport ||
			old.stored.Before(now.Add(r.Expires.Sub(now)/2)) {
			return false
		}
	}
	return true
}

func storedBinding(key userKey, deviceID int64, b *binding) switchboard.Registration {
	return switchboard.Registration{AccountID: key.accountID, UserID: key.userID, DeviceID: deviceID,
		Contact: b.uri, Expires: b.expires, CallID: b.callID, CSeq: b.cseq, Source: b.source, Transport: b.transport}
}

// storeUser writes the user's bindings, and the presence event if any, in one transaction.
func (s *Server) storeUser(ctx context.Context, key userKey, devices map[int64]map[string]*binding, presence *switchboard.Event) error {
	var events []*switchboard.Event
	if presence != nil {
		events = append(events, presence)
	}
	return s.cfg.Store.ReplaceUserRegistrations(ctx, key.accountID, key.userID, storedRegistrations(key, devices), events...)
}

// setUserLocked makes the stored state of a user the one in memory. The caller holds
// regs.mu.
func (s *Server) setUserLocked(key userKey, devices map[int64]map[string]*binding, online bool, extension string) {
	if old := s.regs.users[key]; old != nil {
		s.regs.indexLocked(key, old.devices, false)
	}
	if len(devices) == 0 && !online {
		delete(s.regs.users, key)
		return
	}
	s.regs.users[key] = &userReg{extension: extension, online: online, devices: devices}
	s.regs.indexLocked(key, devices, true)
}

// indexLocked adds the user's binding sources to bySource, or removes them.
func (r *registrations) indexLocked(key userKey, devices map[int64]map[string]*binding, add bool) {
	for _, bs := range devices {
		for _, b := range bs {
			ip, ok := bindingSource(b)
			if !ok {
				continue
			}
			if !add {
				delete(r.bySource[ip], key)
				if len(r.bySource[ip]) == 0 {
					delete(r.bySource, ip)
				}
				continue
			}
			if r.bySource == nil {
				r.bySource = make(map[netip.Addr]map[userKey]bool)
			}
			if r.bySource[ip] == nil {
				r.bySource[ip] = make(map[userKey]bool)
			}
			r.bySource[ip][key] = true
		}
	}
}

// bindingSource is the address a binding's REGISTER came from.
func bindingSource(b *binding) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(b.source)
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

// presenceEvent builds the user's presence.changed event; it returns the user's extension,
// looked up once and then remembered.
func (s *Server) presenceEvent(ctx context.Context, key userKey, extension string, online bool, devices int) (*switchboard.Event, string, error) {
	if extension == "" {
		usr, err := s.cfg.Store.GetUser(ctx, key.accountID, key.userID)
		if err != nil {
			return nil, "", fmt.Errorf("look up user for presence: %w", err)
		}
		extension = usr.Extension
	}
	ev := switchboard.NewEvent(key.accountID, switchboard.EventPresenceChanged, map[string]any{
		"user_id":   key.userID,
		"extension": extension,
		"online":    online,
		"devices":   devices,
	})
	ev.OccurredAt = s.now().UTC()
	return ev, extension, nil
}

// sweep removes expired bindings, in the store and in memory, and announces users who went
// offline. The sweeper runs it every second; tests call it after moving the clock.
func (s *Server) sweep(ctx context.Context) {
	now := s.now()
	s.nonces.prune()
	s.bans.prune()
	s.devices.prune(now)
	s.logParseSummary()

	s.regs.mu.Lock()
	var stale []userKey
	for key, u := range s.regs.users {
		if u.online && liveDevices(u.devices, now) == 0 || hasExpired(u.devices, now) {
			stale = append(stale, key)
		}
	}
	s.regs.mu.Unlock()
	for _, key := range stale {
		s.sweepUser(ctx, key, now)
	}
}

// sweepUser drops the user's expired bindings. If storing that fails, memory keeps them
// (they no longer count as live) and the next sweep tries again, so an offline event is
// not lost.
func (s *Server) sweepUser(ctx context.Context, key userKey, now time.Time) {
	lock := s.regs.userLock(key)
	lock.Lock()
	defer lock.Unlock()
	s.regs.mu.Lock()
	u := s.regs.users[key]
	if u == nil {
		s.regs.mu.Unlock()
		return
	}
	wasOnline, extension := u.online, u.extension
	devices := make(map[int64]map[string]*binding)
	for id, bs := range u.devices {
		kept := make(map[string]*binding)
		for k, b := range bs {
			if now.Before(b.expires) {
				kept[k] = b
			}
		}
		if len(kept) > 0 {
			devices[id] = kept
		}
	}
	s.regs.mu.Unlock()

	online := len(devices) > 0
	var presence *switchboard.Event
	if wasOnline && !online {
		var err error
		if presence, extension, err = s.presenceEvent(ctx, key, extension, false, 0); err != nil {
			s.log.Error("looking up the user for presence failed; will retry", "error", err,
				"account_id", key.accountID, "user_id", key.userID)
			return
		}
	}
	if err := s.storeUser(ctx, key, devices, presence); err != nil {
		s.log.Error("storing expired registrations failed; will retry", "error", err,
			"account_id", key.accountID, "user_id", key.userID)
		return
	}
	s.regs.mu.Lock()
	s.setUserLocked(key, devices, wasOnline && online, extension)
	s.regs.mu.Unlock()
}

func hasExpired(devices map[int64]map[string]*binding, now time.Time) bool {
	for _, bs := range devices {
		for _, b := range bs {
			if !now.Before(b.expires) {
				return true
			}
		}
	}
	return false
}

// liveCounts counts the live contact bindings and the devices that have one (the gauges).
func (s *Server) liveCounts() (contacts, devices int) {
	now := s.now()
	s.regs.mu.Lock()
	defer s.regs.mu.Unlock()
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
	return contacts, devices
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
	return u != nil && liveDevices(u.devices, now) > 0
}

// registeredSource reports whether a live registration of any device came from ip. Such an
// address is a phone's: its INVITEs are authenticated, never taken as a trunk's.
func (s *Server) registeredSource(ip netip.Addr) bool {
	now := s.now()
	s.regs.mu.Lock()
	defer s.regs.mu.Unlock()
	ip = ip.Unmap()
	for key := range s.regs.bySource[ip] {
		for _, bs := range s.regs.users[key].devices {
			for _, b := range bs {
				if src, ok := bindingSource(b); ok && src == ip && now.Before(b.expires) {
					return true
				}
			}
		}
	}
	return false
}
