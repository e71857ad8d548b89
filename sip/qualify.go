package sip

import (
	"context"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Qualifying (Asterisk's qualify_frequency): every registered contact is sent an OPTIONS
// each QualifyInterval, from our SIP socket to the address its REGISTER came from, so the
// request also keeps a NAT binding open. A contact that does not answer within
// QualifyTimeout is unreachable: it vanished without un-registering (a phone unplugged, a
// laptop closed), and ringing it would only make a caller or a queue wait out INVITE's
// timer B (32 s). Contacts skips it until it answers again; any answer counts, even 405 or
// 404, since it proves the phone is there. A new REGISTER makes a new binding, reachable.
//
// The state lives here, keyed by binding, rather than in the registrar's bindings: the
// REGISTER path does not pay for it, and a binding replaced by a REGISTER simply leaves
// the map at the next round.

const (
	// DefaultQualifyInterval is Config.QualifyInterval's default: short enough that a
	// vanished phone stops being rung within a minute, and under the 30–60 s many NATs
	// keep an idle UDP mapping.
	DefaultQualifyInterval = 30 * time.Second
	// DefaultQualifyTimeout is Config.QualifyTimeout's default. A phone answers OPTIONS in
	// milliseconds; 3 s allows for a lost datagram and its retransmission (T1 = 500 ms).
	DefaultQualifyTimeout = 3 * time.Second
	// maxQualifyInFlight bounds the OPTIONS waiting at once; bindings due beyond it wait
	// for the next tick, so a mass of vanished contacts cannot grow goroutines unbounded.
	maxQualifyInFlight = 256
)

// qualifyState is what qualifying knows of one binding.
type qualifyState struct {
	next        time.Time // when to send the next OPTIONS
	inFlight    bool
	unreachable bool
}

// qualifier holds the reachability of the registrar's bindings.
type qualifier struct {
	mu       sync.Mutex
	state    map[*binding]*qualifyState
	inFlight int
}

// unreachable reports whether b failed its last qualify. Safe under regs.mu (the lock order
// is regs.mu, then qualifier.mu).
func (q *qualifier) unreachable(b *binding) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	st := q.state[b]
	return st != nil && st.unreachable
}

// qualifyTarget is a binding to qualify, copied out of the registrar's lock.
type qualifyTarget struct {
	b                      *binding
	uri, source, transport string
}

// qualifyLoop qualifies the bindings that are due until ctx ends, then waits for the
// OPTIONS under way. Scheduling uses the wall clock, not Config.Now: a test's fake clock
// moving hours ahead must not make every contact look silent.
func (s *Server) qualifyLoop(ctx context.Context, client *sipgo.Client) {
	interval := s.cfg.QualifyInterval
	if interval <= 0 {
		return
	}
	tick := min(interval, time.Second)
	t := time.NewTicker(tick)
	defer t.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, tg := range s.dueForQualify(time.Now(), interval) {
			wg.Go(func() { s.qualifyOne(ctx, client, tg) })
		}
	}
}

// dueForQualify lists the live bindings whose OPTIONS is due, marking them in flight, and
// forgets the bindings that are gone. A binding seen for the first time was just registered
// (or restored from the store) and is first qualified one interval later.
func (s *Server) dueForQualify(now time.Time, interval time.Duration) []qualifyTarget {
	regNow := s.now()
	var live []qualifyTarget
	s.regs.mu.Lock()
	for _, u := range s.regs.users {
		for _, bs := range u.devices {
			for _, b := range bs {
				if regNow.Before(b.expires) {
					live = append(live, qualifyTarget{b: b, uri: b.uri, source: b.source, transport: b.transport})
				}
			}
		}
	}
	s.regs.mu.Unlock()

	q := &s.qualify
	q.mu.Lock()
	defer q.mu.Unlock()
	seen := make(map[*binding]bool, len(live))
	var due []qualifyTarget
	for _, tg := range live {
		seen[tg.b] = true
		st := q.state[tg.b]
		if st == nil {
			if q.state == nil {
				q.state = make(map[*binding]*qualifyState)
			}
			q.state[tg.b] = &qualifyState{next: now.Add(interval)}
			continue
		}
		if st.inFlight || now.Before(st.next) || q.inFlight >= maxQualifyInFlight {
			continue
		}
		st.inFlight, st.next = true, now.Add(interval)
		q.inFlight++
		due = append(due, tg)
	}
	for b, st := range q.state {
		if !seen[b] && !st.inFlight {
			delete(q.state, b)
		}
	}
	return due
}

// qualifyOne sends one OPTIONS and records whether anything answered.
func (s *Server) qualifyOne(ctx context.Context, client *sipgo.Client, tg qualifyTarget) {
	answered := s.sendQualify(ctx, client, tg)
	if ctx.Err() != nil {
		answered = true // shutting down: say nothing of the contact
	}
	q := &s.qualify
	q.mu.Lock()
	q.inFlight--
	st := q.state[tg.b]
	changed := false
	if st != nil {
		st.inFlight = false
		changed = st.unreachable == answered
		st.unreachable = !answered
	}
	q.mu.Unlock()
	if !changed {
		return
	}
	if answered {
		s.log.Info("registered contact reachable again", "contact", tg.uri, "source", tg.source, "transport", tg.transport)
	} else {
		s.log.Warn("registered contact unreachable: no answer to OPTIONS; not rung until it answers",
			"contact", tg.uri, "source", tg.source, "transport", tg.transport, "timeout", s.cfg.QualifyTimeout)
	}
}

// sendQualify sends OPTIONS to the binding's contact over its transport, to the address its
// REGISTER came from, and reports whether any response came back in time.
func (s *Server) sendQualify(ctx context.Context, client *sipgo.Client, tg qualifyTarget) bool {
	var uri sip.Uri
	if err := sip.ParseUri(tg.uri, &uri); err != nil {
		return true // not a URI we can send to; leave it to ringing to find out
	}
	req := sip.NewRequest(sip.OPTIONS, uri)
	if tg.transport != "" {
		req.SetTransport(tg.transport)
	}
	if tg.source != "" {
		req.SetDestination(tg.source)
	}
	req.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
	ctx, cancel := context.WithTimeout(ctx, s.cfg.QualifyTimeout)
	defer cancel()
	res, err := client.Do(ctx, req)
	return err == nil && res != nil
}
