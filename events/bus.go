package events

import "sync"

// Bus is the in-process notice that events were stored: the store publishes the accounts
// of a transaction's events once it has committed, and listeners (the live event stream)
// wake and read the event table. It carries no events, only "look again", so a listener
// that misses nothing by reading the table can merge notices freely. Other nodes' events
// do not come through here; listeners also poll the table for those.
//
// A nil *Bus is valid and publishes nowhere.
type Bus struct {
	mu        sync.Mutex
	listeners map[*Listener]struct{}
}

// NewBus returns a bus without listeners.
func NewBus() *Bus { return &Bus{listeners: map[*Listener]struct{}{}} }

// Publish tells every listener that events of these accounts were committed. It never
// blocks: notices merge until the listener takes them.
func (b *Bus) Publish(accountIDs ...int64) {
	if b == nil || len(accountIDs) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for l := range b.listeners {
		l.add(accountIDs)
	}
}

// Listen returns a new listener; Close it when done.
func (b *Bus) Listen() *Listener {
	l := &Listener{bus: b, c: make(chan struct{}, 1), pending: map[int64]struct{}{}}
	if b != nil {
		b.mu.Lock()
		b.listeners[l] = struct{}{}
		b.mu.Unlock()
	}
	return l
}

// Listener receives the bus's notices.
type Listener struct {
	bus     *Bus
	c       chan struct{}
	mu      sync.Mutex
	pending map[int64]struct{}
}

// C receives a value when accounts are pending (several notices may merge into one).
func (l *Listener) C() <-chan struct{} { return l.c }

// Take returns the accounts notified since the last Take, and forgets them.
func (l *Listener) Take() []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	ids := make([]int64, 0, len(l.pending))
	for id := range l.pending {
		ids = append(ids, id)
	}
	clear(l.pending)
	return ids
}

// Close stops the notices.
func (l *Listener) Close() {
	if l.bus != nil {
		l.bus.mu.Lock()
		delete(l.bus.listeners, l)
		l.bus.mu.Unlock()
	}
}

func (l *Listener) add(ids []int64) {
	l.mu.Lock()
	for _, id := range ids {
		l.pending[id] = struct{}{}
	}
	l.mu.Unlock()
	select {
	case l.c <- struct{}{}:
	default:
	}
}
