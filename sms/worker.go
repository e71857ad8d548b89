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
//     or queued again with backoff, or failed);
//  3. a crash between 1 and 2 leaves it "sending" with a lease that runs out; it is then
//     claimed again and handed to the carrier again with the SAME id. The simulator and
//     the counting carriers of the tests dedupe by id; Kannel gets the id in its dlr-url and
//     as its "id" so a double is visible at the SMSC. A crash before the carrier call
//     (the common window) therefore sends once; a crash after the carrier accepted and
//     before step 2 is the one window where a carrier without idempotency may see it twice.
//
// We chose at-least-once over at-most-once because a lost customer message is worse than a
// rare double, and the window is the carrier's round trip.

// Lease is how long a claimed message stays claimed before another worker may take it.
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

// Run sends the outbox until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.PollInterval)
	defer t.Stop()
	for {
		n, err := s.Drain(ctx)
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

// Drain claims one batch of due messages and sends them; it returns how many it claimed.
func (s *Service) Drain(ctx context.Context) (int, error) {
	claimed, err := s.st.ClaimMessages(ctx, time.Now(), s.cfg.Lease, 50)
	if err != nil {
		return 0, err
	}
	// Up to Config.Senders messages go to carriers at once: a carrier's round trip (Kannel's
	// HTTP answer) would otherwise bound the throughput.
	work := make(chan *switchboard.Message)
	var wg sync.WaitGroup
	for range min(s.cfg.Senders, len(claimed)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range work {
				s.send(ctx, m)
			}
		}()
	}
	for _, m := range claimed {
		if ctx.Err() != nil {
			break
		}
		work <- m
	}
	close(work)
	wg.Wait()
	return len(claimed), ctx.Err()
}

// send hands one claimed message to its carrier and records the outcome.
func (s *Service) send(ctx context.Context, m *switchboard.Message) {
	set, err := s.Effective(ctx, m.AccountID, m.NumberID)
	if err != nil {
		s.log.Warn("sms: settings", "message_id", m.ID, "err", err)
		return // the lease runs out and it is tried again
	}
	acc, err := s.st.GetSMSSettings(ctx, m.AccountID, 0)
	if err != nil {
		s.log.Warn("sms: settings", "message_id", m.ID, "err", err)
		return
	}
	if wait := s.reserve(m, set.RatePerMinute, acc.RatePerMinute); wait > 0 {
		s.defer_(ctx, m, wait)
		return
	}
	carrier, err := s.carrier(set)
	var ref string
	if err == nil {
		m.Carrier = carrier.Name()
		ref, err = carrier.Send(ctx, m)
	}
	if ctx.Err() != nil {
		return // shutting down: the lease runs out and the message is claimed again
	}
	_, uerr := s.st.UpdateMessageFunc(ctx, m.ID, func(cur *switchboard.Message) (*switchboard.MessageStatusChange, []*switchboard.Event, error) {
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
			return &switchboard.MessageStatusChange{Status: switchboard.SMSSent, CarrierStatus: ref},
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
			return &switchboard.MessageStatusChange{Status: switchboard.SMSFailed, Error: cur.Error},
				[]*switchboard.Event{s.failedEvent(cur, "")}, nil
		}
		cur.Status, cur.NextAttemptAt = switchboard.SMSQueued, time.Now().Add(Backoff(cur.Attempts))
		return &switchboard.MessageStatusChange{Status: switchboard.SMSQueued, Error: cur.Error}, nil, nil
	})
	if uerr != nil {
		s.log.Warn("sms: record send", "message_id", m.ID, "err", uerr)
	}
}

// defer_ puts a claimed message back in the queue without counting the attempt: its
// number or account is over its send rate.
func (s *Service) defer_(ctx context.Context, m *switchboard.Message, wait time.Duration) {
	_, err := s.st.UpdateMessageFunc(ctx, m.ID, func(cur *switchboard.Message) (*switchboard.MessageStatusChange, []*switchboard.Event, error) {
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

// reserve takes a token of the message's number and of its account, or says how long to
// wait for both. Rates are per minute; a bucket holds 10 seconds' worth (at least 1).
// The buckets are this process's: several nodes each allow the rate.
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
	nb := s.fill("n"+itoa(int(m.NumberID)), numberRate, now)
	ab := s.fill("a"+itoa(int(m.AccountID)), accountRate, now)
	if nb.tokens >= 1 && ab.tokens >= 1 {
		nb.tokens--
		ab.tokens--
		return 0
	}
	wait := time.Duration(0)
	for _, x := range []struct {
		b    *bucket
		rate int
	}{{nb, numberRate}, {ab, accountRate}} {
		if x.b.tokens < 1 {
			wait = max(wait, time.Duration((1-x.b.tokens)*float64(time.Minute)/float64(x.rate)))
		}
	}
	return max(wait, 10*time.Millisecond)
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
