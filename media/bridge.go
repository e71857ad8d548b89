package media

import (
	"errors"
	"sync"
)

// Relay is a running bridge between two sessions, made by Bridge.
type Relay struct {
	a, b      *Session
	closeOnce sync.Once
}

// bridgeMu serialises the setting up of bridges, so that two Bridge calls racing for one
// session cannot both win; the relay path itself never takes it.
var bridgeMu sync.Mutex

// ErrAlreadyBridged is returned by Bridge for a session that is in another bridge.
var ErrAlreadyBridged = errors.New("media: session is already bridged")

// Bridge relays RTP between a and b until the Relay (or either session) is closed: audio
// is forwarded with each leg's own SSRC, sequence numbers and timestamps, transcoded
// between PCMU and PCMA when the legs' codecs differ; telephone-events are forwarded with
// the receiving leg's event payload type (and still reach each sender's Digits). Bridge
// starts no goroutine: each session's receiver forwards what it receives.
func Bridge(a, b *Session) (*Relay, error) {
	if a == nil || b == nil || a == b {
		return nil, errors.New("media: Bridge needs two different sessions")
	}
	bridgeMu.Lock()
	defer bridgeMu.Unlock()
	if a.closed.Load() || b.closed.Load() {
		return nil, ErrClosed
	}
	r := &Relay{a: a, b: b}
	a.relayMu.Lock()
	defer a.relayMu.Unlock()
	b.relayMu.Lock()
	defer b.relayMu.Unlock()
	if a.relay != nil || b.relay != nil {
		return nil, ErrAlreadyBridged
	}
	a.peer, a.relay = b, r
	b.peer, b.relay = a, r
	return r, nil
}

// Close stops relaying; no packet is forwarded after it returns. The sessions stay open
// (to play hold music, or to be bridged elsewhere). It is safe to call more than once.
func (r *Relay) Close() error {
	r.closeOnce.Do(func() {
		for _, s := range []*Session{r.a, r.b} {
			s.relayMu.Lock()
			if s.relay == r {
				s.peer, s.relay = nil, nil
			}
			s.relayMu.Unlock()
		}
	})
	return nil
}
