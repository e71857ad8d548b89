package sip

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"switchboard"
)

// CallHandler is the call engine (pbx) as the SIP core sees it. The server authenticates and
// routes; the handler owns every dialog.
type CallHandler interface {
	// TrunkSource reports whether an INVITE from ip for the dialled user part comes from a
	// SIP trunk: one whose inbound addresses include ip and whose account owns the dialled
	// number, and, for a trunk that requires TLS, that came over TLS (overTLS). Such INVITEs
	// are recognised by source address only and are not challenged.
	TrunkSource(ip netip.Addr, dialled string, overTLS bool) bool
	// TrustedSource reports whether any account's trunk trusts ip. A carrier's requests name
	// its own domain, not one of ours: they are not refused as for an unknown domain.
	TrustedSource(ip netip.Addr) bool
	// Invite handles a new INVITE (no To tag). dev is the authenticated device, or nil when
	// the INVITE comes from a trunk.
	Invite(req *sip.Request, tx sip.ServerTransaction, dev *switchboard.Device)
	// InDialog handles a request inside a dialog (ACK, BYE, re-INVITE, INFO, UPDATE …) and
	// reports whether a dialog of the handler matched it; if not, the server answers 481.
	InDialog(req *sip.Request, tx sip.ServerTransaction) bool
}

// SetCallHandler connects the call engine; call it before Run. Without one, INVITEs are
// authenticated and then answered 480.
func (s *Server) SetCallHandler(h CallHandler) {
	s.addrMu.Lock()
	defer s.addrMu.Unlock()
	s.calls = h
}

func (s *Server) callHandler() CallHandler {
	s.addrMu.Lock()
	defer s.addrMu.Unlock()
	return s.calls
}

// SetChannelSource gives the live calls of each user to UserPresence.
func (s *Server) SetChannelSource(f func(accountID, userID int64) []switchboard.Channel) {
	s.addrMu.Lock()
	defer s.addrMu.Unlock()
	s.channels = f
}

func (s *Server) channelsOf(accountID, userID int64) []switchboard.Channel {
	s.addrMu.Lock()
	f := s.channels
	s.addrMu.Unlock()
	if f == nil {
		return []switchboard.Channel{}
	}
	if ch := f(accountID, userID); ch != nil {
		return ch
	}
	return []switchboard.Channel{}
}

// Client is the SIP client the call engine sends requests with (INVITE, BYE, CANCEL),
// sharing the server's sockets; nil until Ready.
func (s *Server) Client() *sipgo.Client {
	s.addrMu.Lock()
	defer s.addrMu.Unlock()
	return s.client
}

// ContactHeader is the Contact the server puts in the dialogs it creates: its public (or
// listen) address, UDP preferred.
func (s *Server) ContactHeader() sip.ContactHeader {
	s.addrMu.Lock()
	a := s.udpAddr
	if a == nil {
		a = s.tcpAddr
	}
	s.addrMu.Unlock()
	host, port := "127.0.0.1", 5060
	if a != nil {
		if h, p, err := net.SplitHostPort(a.String()); err == nil {
			host = h
			port, _ = strconv.Atoi(p)
		}
	}
	if s.cfg.PublicAddr != "" {
		if h, p, err := net.SplitHostPort(s.cfg.PublicAddr); err == nil {
			host = h
			port, _ = strconv.Atoi(p)
		} else {
			host = s.cfg.PublicAddr
		}
	}
	return sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "switchboard", Host: host, Port: port}}
}

// ContactHeaderFor is the Contact for a dialog over transport ("UDP", "TCP", "TLS"): over
// TLS it names the TLS port with ;transport=tls, so that the peer's in-dialog requests (BYE,
// re-INVITE) come back encrypted too; otherwise it is ContactHeader.
func (s *Server) ContactHeaderFor(transport string) sip.ContactHeader {
	c := s.ContactHeader()
	if !strings.EqualFold(transport, "TLS") {
		return c
	}
	s.addrMu.Lock()
	a := s.tlsAddr
	s.addrMu.Unlock()
	if a == nil {
		return c
	}
	if _, p, err := net.SplitHostPort(a.String()); err == nil {
		c.Address.Port, _ = strconv.Atoi(p)
	}
	c.Address.UriParams = sip.NewParams()
	c.Address.UriParams.Add("transport", "tls")
	return c
}

// Contact is a live registration of one of a user's devices: where a call to it goes.
type Contact struct {
	DeviceID  int64
	URI       string // the registered Contact URI
	Source    string // ip:port the REGISTER came from: where requests go, so phones behind NAT are reached
	Transport string // "UDP", "TCP" or "TLS"
}

// Contacts returns the live registrations of every device of the user, in a stable order.
// A contact that did not answer its last qualify OPTIONS (qualify.go) is left out: ringing
// it would only wait for a phone that is gone.
// A device that requires TLS (Device.RequireSecure) is reached only at its TLS
// registrations, even if it registered otherwise before the policy was set.
func (s *Server) Contacts(accountID, userID int64) []Contact {
	out := s.liveContacts(accountID, userID)
	secure := map[int64]bool{}
	kept := out[:0]
	for _, c := range out {
		if !strings.EqualFold(c.Transport, "TLS") {
			required, known := secure[c.DeviceID]
			if !known {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				d, err := s.cfg.Store.GetDevice(ctx, accountID, c.DeviceID)
				cancel()
				required = err != nil || d.RequireSecure // unknown: not reached in clear
				secure[c.DeviceID] = required
			}
			if required {
				continue
			}
		}
		kept = append(kept, c)
	}
	return kept
}

func (s *Server) liveContacts(accountID, userID int64) []Contact {
	now := s.now()
	s.regs.mu.Lock()
	defer s.regs.mu.Unlock()
	u := s.regs.users[userKey{accountID, userID}]
	if u == nil {
		return nil
	}
	var out []Contact
	for devID, bs := range u.devices {
		for _, b := range bs {
			if now.Before(b.expires) && !s.qualify.unreachable(b) {
				out = append(out, Contact{DeviceID: devID, URI: b.uri, Source: b.source, Transport: b.transport})
			}
		}
	}
	sortContacts(out)
	return out
}

func sortContacts(cs []Contact) {
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && (cs[j].DeviceID < cs[j-1].DeviceID ||
			cs[j].DeviceID == cs[j-1].DeviceID && cs[j].URI < cs[j-1].URI); j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

// Now is the server's clock (the one of Config.Now).
func (s *Server) Now() time.Time { return s.now() }

// sourceIP is the address a request came from.
func sourceIP(req *sip.Request) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

// handleInDialog passes requests of existing dialogs to the call engine, else 481.
func (s *Server) handleInDialog(req *sip.Request, tx sip.ServerTransaction) {
	if h := s.callHandler(); h != nil && h.InDialog(req, tx) {
		return
	}
	if req.IsAck() {
		return // an ACK is never answered
	}
	s.respond(req, tx, 481, "Call/Transaction Does Not Exist")
}
