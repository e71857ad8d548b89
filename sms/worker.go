package sms

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"switchboard"
)

// The outbox worker. A message is sent at least once and, for every carrier that honours
// the message id as its idempotency key, exactly once:
//
//  1. ClaimMessages marks it "sending" and leases it (Lease) in a committed transaction
//     before the carrier is called, so two workers never send it side by side;
//  2. the carrier's answer is recorded in a second transaction (sent with its reference,
//     or queued again with backoff, or failed), which the store may share with other
//     messages' writes (group commit) but which is all or nothing for this message;
//  3. a crash between 1 and 2 leaves it "sending" with a lease that runs out; it is then
//     claimed again and handed to the carrier again with the SAME id. The simulator and
//     the counting carriers of the tests dedupe by id; Kannel gets the id in its dlr-url and
//     as its "id" so a double is visible at the SMSC. A crash before the carrier call
//     (the common window) therefore sends once; a crash after the carrier accepted and
//     before step 2 is the one window where a carrier without idempotency may see it twice.
//
// We chose at-least-once over at-most-once because a lost customer message is worse than a
// rare double, and the window is the carrier's round trip.

// Lease is how long a claimed message stays claimed before another worker may take it. It
// must outlast a claimed message's wait for a sender, its send and the record of the answer:
// two rounds of carrier round trips at most (Kannel's client gives up after 15 s).
const Lease = time.Minute

// MaxAttempts bounds the sends of a message that keeps failing temporarily.
const MaxAttempts = 8

// Backoff is the wait before attempt n+1 after n failed: 5 s doubling, at most 10 minutes.
func Backoff(n int) time.Duration {
	d := 5 * time.Second
	for i := 1; i < n && d < 10*time.Minute; i++ {
		d *= 2
	}
	return min(d, 10*time.Minute)
}

// Kick wakes the worker: a message was queued.
func (s *Service) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run sends the outbox until ctx ends. It keeps up to two rounds of Config.Senders messages
// claimed: while the senders work on one, the next is claimed, so that a sender never waits
// for the slowest send of a batch nor for a claim, and one claim transaction takes several
// messages.
func (s *Service) Run(ctx context.Context) error {
	p := s.startSenders(ctx)
	defer p.stop()
	t := time.NewTicker(s.cfg.PollInterval)
	defer t.Stop()
	for {
		if !p.waitRoom(ctx, s.cfg.Senders) {
			return nil
		}
		n, err := s.claim(ctx, p, p.room())
		if err != nil && ctx.Err() == nil {
			s.log.Warn("sms: outbox", "err", err)
		}
		if n > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.kick:
		case <-t.C:
		}
	}
}

// Drain claims one batch of due messages (at most 50), sends them and records the outcomes;
// it returns how many it claimed.
func (s *Service) Drain(ctx context.Context) (int, error) {
	p := s.startSenders(ctx)
	n, err := s.claim(ctx, p, 50)
	p.stop()
	if err == nil {
		err = ctx.Err()
	}
	return n, err
}

// outgoing is a claimed message with the settings it is sent with.
type outgoing struct {
	m           *switchboard.Message
	set         switchboard.SMSSettings // its number's, over its account's (Effective)
	accountRate int
}

// claim claims up to limit due messages, reads their settings (once per account and
// number of the claim) and hands them to the senders.
func (s *Service) claim(ctx context.Context, p *senders, limit int) (int, error) {
	claimed, err := s.st.ClaimMessages(ctx, time.Now(), s.cfg.Lease, limit)
	if err != nil {
		return 0, err
	}
	get := readOnce(s.cachedSettings)
	list := make([]outgoing, 0, len(claimed))
	for _, m := range claimed {
		set, err := effective(ctx, get, m.AccountID, m.NumberID)
		var acc *switchboard.SMSSettings
		if err == nil {
			acc, err = get(ctx, m.AccountID, 0)
		}
		if err != nil {
			s.log.Warn("sms: settings", "message_id", m.ID, "err", err)
			continue // the lease runs out and it is tried again
		}
		list = append(list, outgoing{m: m, set: set, accountRate: acc.RatePerMinute})
	}
	p.hand(ctx, list)
	return len(claimed), nil
}

// readOnce remembers what get read (and its error): the settings of one claim are read once.
func readOnce(get settingsReader) settingsReader {
	type key struct{ account, number int64 }
	type result struct {
		set *switchboard.SMSSettings
		err error
	}
	seen := map[key]result{}
	return func(ctx context.Context, accountID, numberID int64) (*switchboard.SMSSettings, error) {
		k := key{accountID, numberID}
		r, ok := seen[k]
		if !ok {
			r.set, r.err = get(ctx, accountID, numberID)
			seen[k] = r
		}
		return r.set, r.err
	}
}

// senders are Config.Senders goroutines, each sending one message at a time: a carrier's
// round trip (Kannel's HTTP answer) would otherwise bound the throughput. They take at most
// two rounds of messages claimed and not yet sent. A carrier's answer is recorded beside
// them (recording), so that a sender goes on to the next message while the store commits.
type senders struct {
	work      chan outgoing
	window    int
	wg        sync.WaitGroup
	recording sync.WaitGroup
	mu        sync.Mutex
	busy      int           // handed and not yet sent
	freed     chan struct{} // signalled when one is sent
}

func (s *Service) startSenders(ctx context.Context) *senders {
	p := &senders{window: 2 * s.cfg.Senders, freed: make(chan struct{}, 1)}
	p.work = make(chan outgoing, p.window)
	for range s.cfg.Senders {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for o := range p.work {
				s.send(ctx, p, o)
				p.mu.Lock()
				p.busy--
				p.mu.Unlock()
				select {
				case p.freed <- struct{}{}:
				default:
				}
			}
		}()
	}
	return p
}

// room is how many more messages the senders take.
func (p *senders) room() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.window - p.busy
}

// waitRoom waits until the senders take at least n more messages; false when ctx ended.
func (p *senders) waitRoom(ctx context.Context, n int) bool {
	for p.room() < n {
		select {
		case <-ctx.Done():
			return false
		case <-p.freed:
		}
	}
	return ctx.Err() == nil
}

// hand queues claimed messages for the senders. When ctx ends first, the rest stay claimed
// until their lease runs out.
func (p *senders) hand(ctx context.Context, list []outgoing) {
	p.mu.Lock()
	p.busy += len(list)
	p.mu.Unlock()
	for i, o := range list {
		select {
		case p.work <- o:
		case <-ctx.Done():
			p.mu.Lock()
			p.busy -= len(list) - i
			p.mu.Unlock()
			return
		}
	}
}

// stop waits for the messages handed to be sent and recorded.
func (p *senders) stop() {
	close(p.work)
	p.wg.Wait()
	p.recording.Wait()
}

// send hands one claimed message to its carrier and has the outcome recorded.
func (s *Service) send(ctx context.Context, p *senders, o outgoing) {
	m := o.m
	if wait := s.reserve(m, o.set.RatePerMinute, o.accountRate); wait > 0 {
		s.defer_(ctx, m, wait)
		return
	}
	carrier, err := s.carrier(o.set)
	var ref string
	if err == nil {
		m.Carrier = carrier.Name()
		ref, err = carrier.Send(ctx, m)
	}
	if err != nil && ctx.Err() != nil {
		return // shutting down mid-send: the lease runs out and the message is claimed again
	}
	var took *sentCopy
	if err == nil {
		took = s.carrierTook(m)
	}
	// What the carrier accepted is recorded even when the server is stopping meanwhile:
	// otherwise the message would be sent again after the restart.
	p.recording.Add(1)
	go func() {
		defer p.recording.Done()
		saved := s.record(context.WithoutCancel(ctx), m, ref, err)
		if took != nil {
			took.recorded(saved)
		}
	}()
}

// record stores a carrier's answer: sent (with sms.sent), queued again with backoff after a
// temporary failure, or failed for good (with sms.failed). m is the message as claimed, which
// it mostly still is: the store then saves without reading it first. It returns the message
// as it recorded it sent, nil when it did not.
func (s *Service) record(ctx context.Context, m *switchboard.Message, ref string, err error) *switchboard.Message {
	saved, uerr := s.st.UpdateMessageFrom(ctx, m, func(cur *switchboard.Message) ([]switchboard.MessageStatusChange, []*switchboard.Event, error) {
		if cur.Status != switchboard.SMSSending {
			// A delivery report overtook us (it fired sms.sent then); keep the ref.
			if err == nil && cur.CarrierRef == "" {
				cur.CarrierRef = ref
			}
			return nil, nil, nil
		}
		cur.Carrier = m.Carrier
		if err == nil {
			cur.Status, cur.CarrierRef, cur.Error = switchboard.SMSSent, ref, ""
			return []switchboard.MessageStatusChange{{Status: switchboard.SMSSent, CarrierStatus: ref}},
				[]*switchboard.Event{s.sentEvent(cur)}, nil
		}
		var ce *switchboard.CarrierError
		permanent := errors.As(err, &ce) && ce.Permanent
		cur.Error = err.Error()
		if permanent || cur.Attempts >= MaxAttempts {
			if !permanent {
				cur.Error = "gave up after " + itoa(cur.Attempts) + " attempts: " + cur.Error
			}
			cur.Status = switchboard.SMSFailed
			return []switchboard.MessageStatusChange{{Status: switchboard.SMSFailed, Error: cur.Error}},
				[]*switchboard.Event{s.failedEvent(cur, "")}, nil
		}
		cur.Status, cur.NextAttemptAt = switchboard.SMSQueued, time.Now().Add(Backoff(cur.Attempts))
		return []switchboard.MessageStatusChange{{Status: switchboard.SMSQueued, Error: cur.Error}}, nil, nil
	})
	if uerr != nil {
		s.log.Warn("sms: record send", "message_id", m.ID, "err", uerr)
		return nil
	}
	if saved.Status != switchboard.SMSSent {
		return nil
	}
	return saved
}

// defer_ puts a claimed message back in the queue without counting the attempt: its
// number or account is over its send rate.
func (s *Service) defer_(ctx context.Context, m *switchboard.Message, wait time.Duration) {
	_, err := s.st.UpdateMessageFunc(ctx, m.ID, func(cur *switchboard.Message) ([]switchboard.MessageStatusChange, []*switchboard.Event, error) {
		if cur.Status == switchboard.SMSSending {
			cur.Status, cur.Attempts, cur.NextAttemptAt = switchboard.SMSQueued, max(0, cur.Attempts-1), time.Now().Add(wait)
		}
		return nil, nil, nil
	})
	if err != nil {
		s.log.Warn("sms: defer", "message_id", m.ID, "err", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// bucket is a token bucket of one number's or account's send rate.
type bucket struct {
	tokens float64
	last   time.Time
}

// reserve takes a token of the message's number and of its account and says how long the
// message waits for its turn: 0 when both buckets had one. A bucket short of a token goes
// into debt for the message, so that the messages held back wait in line, each for its own
// token, rather than all for the next one: with a backlog over the rate they would otherwise
// be claimed and held back again, all of them, every time a token came. The other bucket is
// paid only when the message goes, so that one number's backlog does not hold back the
// account's other numbers. Rates are per minute; a bucket holds 10 seconds' worth (at least
// 1). The buckets are this process's: several nodes each allow the rate.
func (s *Service) reserve(m *switchboard.Message, numberRate, accountRate int) time.Duration {
	if numberRate <= 0 {
		numberRate = s.cfg.NumberRate
	}
	if accountRate <= 0 {
		accountRate = s.cfg.AccountRate
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	s.sweepTurns(now)
	t := s.turns[m.ID] // the buckets it paid when it was held back, if it was
	delete(s.turns, m.ID)
	type pick struct {
		b    *bucket
		rate int
	}
	buckets := [2]pick{
		{s.fill("n"+itoa(int(m.NumberID)), numberRate, now), numberRate},
		{s.fill("a"+itoa(int(m.AccountID)), accountRate, now), accountRate},
	}
	var short [2]bool // unpaid buckets without a token
	held := false
	for i, p := range buckets {
		short[i] = !t.paid[i] && p.b.tokens < 1
		held = held || short[i]
	}
	if !held {
		for i, p := range buckets {
			if !t.paid[i] {
				p.b.tokens--
			}
		}
		return 0
	}
	wait := time.Duration(0)
	for i, p := range buckets {
		if short[i] {
			p.b.tokens--
			t.paid[i] = true
			wait = max(wait, time.Duration(-p.b.tokens*float64(time.Minute)/float64(p.rate)))
		}
	}
	wait = max(wait, 10*time.Millisecond)
	t.at = now.Add(wait)
	s.turns[m.ID] = t
	return wait
}

// turn is a message held back by a send rate: when its turn comes, and the buckets (number,
// account) that have its token already.
type turn struct {
	at   time.Time
	paid [2]bool
}

// sweepTurns forgets, once a minute, turns long past: their messages were sent by another
// node, or deleted.
func (s *Service) sweepTurns(now time.Time) {
	if now.Sub(s.turnsSwept) < time.Minute {
		return
	}
	s.turnsSwept = now
	for id, t := range s.turns {
		if now.Sub(t.at) > 2*s.cfg.Lease {
			delete(s.turns, id)
		}
	}
}

func (s *Service) fill(key string, perMinute int, now time.Time) *bucket {
	capacity := max(1, float64(perMinute)/6)
	b := s.buckets[key]
	if b == nil {
		b = &bucket{tokens: capacity, last: now}
		s.buckets[key] = b
	}
	b.tokens = min(capacity, b.tokens+now.Sub(b.last).Minutes()*float64(perMinute))
	b.last = now
	return b
}
