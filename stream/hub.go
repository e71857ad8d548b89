// Package stream is the live event stream: every event of an account as Server-Sent Events
// (GET /v3/voice/{account_id}/events/stream) or over a WebSocket (…/events/ws), in the
// canonical JSON of the standard webhook format, with the event's seq as its id.
//
// One Hub per process follows the event table once per account for all its consumers (the
// store's FollowEvents: in seq order, an event only once no smaller seq can still commit —
// on PostgreSQL transactions commit out of seq order): woken
// by the store's event bus after each commit (events.Bus), and polling at a short interval
// for events other processes stored. Each event is rendered once and handed to every
// consumer whose filter and key see it, into the consumer's bounded buffer. A consumer that
// lets its buffer fill is dropped: it is sent every event it had been given, then an
// overflow notice with the last seq delivered, and closed — it resumes with Last-Event-ID,
// which is served from the event table, as is any other resume. Nothing is skipped
// silently.
package stream

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"switchboard"
	"switchboard/events"
	"switchboard/webhook"
)

// Store is what the stream reads: the event table (store.DB).
type Store interface {
	// ListEvents returns the account's events with Seq > afterSeq, oldest first, at most limit.
	ListEvents(ctx context.Context, accountID, afterSeq int64, limit int) ([]*switchboard.Event, error)
	// LatestEventSeq returns the seq of the account's newest event, 0 for none, such that no
	// event with a seq at or below it is committed after the call returns.
	LatestEventSeq(ctx context.Context, accountID int64) (int64, error)
	// FollowEvents returns a reader of the account's events after afterSeq, in seq order as
	// they become final (on PostgreSQL a smaller seq can commit after a larger one).
	FollowEvents(accountID, afterSeq int64) switchboard.EventFollower
}

// Config configures a Hub; zero values take the defaults.
type Config struct {
	Store Store
	// Bus wakes the hub when this process stored events; nil = polling only.
	Bus *events.Bus
	// Poll is how often the table is read for events of other processes (default 500 ms).
	Poll time.Duration
	// Buffer is how many events a consumer may fall behind before it is dropped with an
	// overflow notice (default 1024).
	Buffer int
	// Heartbeat is the interval of SSE comments and WebSocket pings (default 15 s), so
	// that proxies keep an idle stream open.
	Heartbeat time.Duration
	Logger    *slog.Logger
}

// pageSize is how many events one read of the table returns (the store's maximum).
const pageSize = 1000

// Hub serves the stream's consumers. Run must be running for live events to flow; when it
// returns, every consumer's stream ends.
type Hub struct {
	cfg Config

	mu    sync.Mutex
	feeds map[int64]*feed // accounts with consumers

	done chan struct{} // closed when Run returns: streams end
	once sync.Once
}

// feed is one account's consumers and how far the hub has read its events.
type feed struct {
	accountID int64
	refs      int // consumers registered or registering; under Hub.mu

	mu     sync.Mutex
	ready  bool                      // cursor and follow are set
	cursor int64                     // every event up to here has been handed to the consumers
	follow switchboard.EventFollower // reads the events after cursor
	subs   map[*Subscription]struct{}
}

// New returns a hub; start it with Run.
func New(cfg Config) *Hub {
	if cfg.Poll <= 0 {
		cfg.Poll = 500 * time.Millisecond
	}
	if cfg.Buffer <= 0 {
		cfg.Buffer = 1024
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 15 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Hub{cfg: cfg, feeds: map[int64]*feed{}, done: make(chan struct{})}
}

// Run reads new events and hands them to the consumers until ctx ends; then it ends every
// stream and returns nil.
func (h *Hub) Run(ctx context.Context) error {
	defer h.once.Do(func() { close(h.done) })
	l := h.cfg.Bus.Listen()
	defer l.Close()
	tick := time.NewTicker(h.cfg.Poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-l.C():
			for _, id := range l.Take() {
				h.pull(ctx, h.feed(id))
			}
		case <-tick.C:
			h.mu.Lock()
			feeds := make([]*feed, 0, len(h.feeds))
			for _, f := range h.feeds {
				feeds = append(feeds, f)
			}
			h.mu.Unlock()
			for _, f := range feeds {
				h.pull(ctx, f)
			}
		}
	}
}

// feed returns the account's feed, nil when it has no consumers.
func (h *Hub) feed(accountID int64) *feed {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.feeds[accountID]
}

// pull reads the feed's events past its cursor and hands each to the consumers that see
// it. A consumer whose buffer is full is dropped (its overflow channel closed).
func (h *Hub) pull(ctx context.Context, f *feed) {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.ready || len(f.subs) == 0 {
		return
	}
	for {
		evs, err := f.follow.Next(ctx, pageSize)
		if err != nil {
			if ctx.Err() == nil {
				h.cfg.Logger.Warn("event stream: reading events failed; retrying at the next poll", "account_id", f.accountID, "err", err)
			}
			return
		}
		for _, ev := range evs {
			it, err := render(ev)
			if err != nil {
				h.cfg.Logger.Error("event stream: cannot render event", "event_id", ev.ID, "err", err)
			} else {
				for s := range f.subs {
					if !s.wants(it) {
						continue
					}
					select {
					case s.ch <- it:
					default:
						delete(f.subs, s)
						close(s.overflow)
					}
				}
			}
			f.cursor = ev.Seq
		}
		if len(evs) < pageSize {
			return
		}
	}
}

// item is one event as the stream sends it, rendered once for every consumer.
type item struct {
	seq   int64
	name  string
	users []int64 // the ids of the event's user-id fields (Visible)
	sse   []byte  // the whole SSE message
	ws    []byte  // the WebSocket message
}

// render builds the item of ev: the standard webhook format's body (the canonical JSON),
// with the seq as the SSE id, and for WebSockets the same JSON with "id" (the seq) first.
func render(ev *switchboard.Event) (*item, error) {
	body, err := webhook.StandardBody(ev)
	if err != nil {
		return nil, err
	}
	seq := strconv.FormatInt(ev.Seq, 10)
	sse := make([]byte, 0, len(body)+len(ev.Name)+len(seq)+24)
	sse = append(sse, "id: "...)
	sse = append(sse, seq...)
	sse = append(sse, "\nevent: "...)
	sse = append(sse, ev.Name...)
	sse = append(sse, "\ndata: "...)
	sse = append(sse, body...) // compact JSON: no newline inside
	sse = append(sse, "\n\n"...)
	ws := make([]byte, 0, len(body)+len(seq)+8)
	ws = append(ws, `{"id":`...)
	ws = append(ws, seq...)
	ws = append(ws, ',')
	ws = append(ws, body[1:]...) // body is a JSON object: {"type":…}
	return &item{seq: ev.Seq, name: ev.Name, users: eventUserIDs(ev.Data), sse: sse, ws: ws}, nil
}

// Live is the position of a consumer that asks for new events only (no Last-Event-ID).
const Live int64 = -1

// Subscription is one consumer: the events it missed (from the table) and then the live
// ones (from its buffer), in seq order, each once.
type Subscription struct {
	hub       *Hub
	feed      *feed
	accountID int64
	userID    int64 // 0: a developer key (every event)
	filter    Filter

	ch       chan *item
	overflow chan struct{} // closed by the hub when ch was full: the consumer was dropped

	backlogTo int64 // events up to here come from the table, later ones from ch
	last      int64 // the seq of the last event handed out (or the resume point)
	backlog   []*item
	timer     *time.Timer
}

// ErrOverflow ends a subscription whose consumer fell further behind than its buffer.
var ErrOverflow = errors.New("stream: the consumer fell behind the live events")

// errClosed ends the subscriptions when the hub stops.
var errClosed = errors.New("stream: the server is shutting down")

// Subscribe registers a consumer of the account's events after the seq after (Live: only
// events stored from now on), seen by userID (0: a developer key) and passed by filter.
// Close it when done.
func (h *Hub) Subscribe(ctx context.Context, accountID, userID, after int64, filter Filter) (*Subscription, error) {
	h.mu.Lock()
	f := h.feeds[accountID]
	if f == nil {
		f = &feed{accountID: accountID, subs: map[*Subscription]struct{}{}}
		h.feeds[accountID] = f
	}
	f.refs++ // keeps f in h.feeds
	h.mu.Unlock()
	if err := h.start(ctx, f); err != nil {
		h.release(f)
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return h.register(f, userID, after, filter), nil
}

// start sets the cursor of a new feed at the account's newest event. It does not hold the
// feed's lock while it asks the store, which on PostgreSQL waits for the transactions
// running at the start: the hub, reading the other feeds, must not wait with it.
func (h *Hub) start(ctx context.Context, f *feed) error {
	f.mu.Lock()
	ready := f.ready
	f.mu.Unlock()
	if ready {
		return nil
	}
	latest, err := h.cfg.Store.LatestEventSeq(ctx, f.accountID)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.ready { // else another consumer's start came first
		f.cursor, f.follow, f.ready = latest, h.cfg.Store.FollowEvents(f.accountID, latest), true
	}
	return nil
}

// register adds a consumer to the started feed f, whose lock the caller holds. The consumer
// gets from its buffer every event past f's cursor, and reads those up to the cursor from
// the table.
func (h *Hub) register(f *feed, userID, after int64, filter Filter) *Subscription {
	s := &Subscription{hub: h, feed: f, accountID: f.accountID, userID: userID, filter: filter,
		ch: make(chan *item, h.cfg.Buffer), overflow: make(chan struct{}),
		backlogTo: f.cursor, last: after}
	if after == Live || after > f.cursor {
		s.last = f.cursor
	}
	f.subs[s] = struct{}{}
	return s
}

// release drops a consumer's reference to its feed, and the feed with the last one.
func (h *Hub) release(f *feed) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f.refs--
	if f.refs == 0 {
		delete(h.feeds, f.accountID)
	}
}

// Close unregisters the consumer.
func (s *Subscription) Close() {
	s.feed.mu.Lock()
	delete(s.feed.subs, s)
	s.feed.mu.Unlock()
	s.hub.release(s.feed)
	if s.timer != nil {
		s.timer.Stop()
	}
}

// Last is the seq of the last event handed out: where the consumer resumes.
func (s *Subscription) Last() int64 { return s.last }

// wants reports whether the consumer is to receive it.
func (s *Subscription) wants(it *item) bool {
	return s.filter.Match(it.name) && visibleTo(it.users, s.userID)
}

// next returns the next events to send, oldest first: the missed ones from the table
// while there are, then what the buffer holds. It waits at most wait for live events and
// returns none when the wait ran out (time for a heartbeat). It returns ErrOverflow once a
// dropped consumer has been given everything that was in its buffer, errClosed when the hub
// stops, and ctx's error when ctx ends.
func (s *Subscription) next(ctx context.Context, wait time.Duration) ([]*item, error) {
	for s.last < s.backlogTo {
		out, err := s.readBacklog(ctx)
		if err != nil || len(out) > 0 {
			return out, err
		}
	}
	out := s.backlog[:0]
	take := func(it *item) {
		if it.seq > s.last { // the resume point may lie past the registration point
			out = append(out, it)
			s.last = it.seq
		}
	}
	drain := func() {
		for len(out) < pageSize {
			select {
			case it := <-s.ch:
				take(it)
			default:
				return
			}
		}
	}
	drain()
	if len(out) > 0 {
		s.backlog = out
		return out, nil
	}
	if s.timer == nil {
		s.timer = time.NewTimer(wait)
	} else {
		s.timer.Reset(wait)
	}
	select {
	case it := <-s.ch:
		s.timer.Stop()
		take(it)
		drain()
	case <-s.overflow:
		s.timer.Stop()
		drain() // the hub no longer writes to ch: what is there is all there is
		if len(out) == 0 {
			return nil, ErrOverflow
		}
	case <-s.hub.done:
		s.timer.Stop()
		return nil, errClosed
	case <-ctx.Done():
		s.timer.Stop()
		return nil, ctx.Err()
	case <-s.timer.C:
	}
	s.backlog = out
	return out, nil
}

// readBacklog returns the next page of the events the consumer missed, up to backlogTo,
// read from the table and rendered for this consumer alone.
func (s *Subscription) readBacklog(ctx context.Context) ([]*item, error) {
	evs, err := s.hub.cfg.Store.ListEvents(ctx, s.accountID, s.last, pageSize)
	if err != nil {
		return nil, err
	}
	var out []*item
	end := len(evs) < pageSize // nothing else was stored up to backlogTo
	for _, ev := range evs {
		if ev.Seq > s.backlogTo {
			end = true
			break
		}
		s.last = ev.Seq
		it, err := render(ev)
		if err != nil {
			return nil, err
		}
		if s.wants(it) {
			out = append(out, it)
		}
	}
	if end {
		s.last = max(s.last, s.backlogTo)
	}
	return out, nil
}

// consumers is how many consumers of the account the hub hands live events to.
func (h *Hub) consumers(accountID int64) int {
	f := h.feed(accountID)
	if f == nil {
		return 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}
