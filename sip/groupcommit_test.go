package sip

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"switchboard"
	"switchboard/internal/tstest"
	"switchboard/store"
	"switchboard/store/storetest"
)

// gatedStore is the real store with its first group commit held until the test opens the
// gate, so the test can see REGISTERs wait for their commit and queue behind it.
type gatedStore struct {
	*store.DB
	once sync.Once
	held chan struct{} // closed when the first commit has reached the gate
	gate chan struct{} // closed by the test to let it through
}

func (g *gatedStore) SaveRegistrationChanges(ctx context.Context, changes []switchboard.RegistrationChange) error {
	g.once.Do(func() {
		close(g.held)
		<-g.gate
	})
	return g.DB.SaveRegistrationChanges(ctx, changes)
}

// TestRegistersShareCommitsAndAnswerAfterThem: REGISTERs that arrive while a commit is
// under way wait for it, then share the next one; none is answered 200 before its binding
// is in the store, and after a restart every acknowledged binding is there, as the phone
// last sent it. On a SQLite file and on PostgreSQL.
func TestRegistersShareCommitsAndAnswerAfterThem(t *testing.T) {
	for name, open := range storetest.Dialects(t) {
		t.Run(name, func(t *testing.T) {
			tstest.CheckGoroutines(t)
			db := open(t)
			gs := &gatedStore{DB: db, held: make(chan struct{}), gate: make(chan struct{})}
			e := startServerOn(t, db, func(c *Config) { c.Store = gs })
			const n = 8
			phones := make([]*phone, n)
			for i := range phones {
				u := e.user(t, fmt.Sprint(1001+i))
				user, pw := fmt.Sprintf("u%d", 1001+i), fmt.Sprintf("pw-%d", i)
				e.device(t, u, user, pw)
				phones[i] = dialPhone(t, "udp", e.udp, "", user, pw)
			}
			// authorized sends the phone's REGISTER with its answer to a fresh challenge.
			authorized := func(p *phone) {
				res := p.do("REGISTER", p.contactHeader(3600)...)
				c := pick(t, challenges(t, res, "WWW-Authenticate"), "MD5")
				p.send(p.request("REGISTER", append([]string{p.auth("MD5", c.nonce, 1)}, p.contactHeader(3600)...)...))
			}

			// The first REGISTER's commit is held: it gets no answer, and the others queue.
			authorized(phones[0])
			<-gs.held
			for _, p := range phones[1:] {
				authorized(p)
			}
			tstest.WaitFor(t, "the other REGISTERs queued behind the held commit", func() bool {
				e.srv.regWrites.mu.Lock()
				defer e.srv.regWrites.mu.Unlock()
				return len(e.srv.regWrites.pending) == n-1
			})
			if res, err := phones[0].readWithin(50 * time.Millisecond); err == nil {
				t.Fatalf("answered %d before its binding was committed", res.StatusCode)
			}
			close(gs.gate)
			for i, p := range phones {
				if res := p.read(); res.StatusCode != 200 {
					t.Fatalf("phone %d: %d %s", i, res.StatusCode, res.Reason)
				}
			}
			if b, c := e.srv.regWrites.batches.Load(), e.srv.regWrites.changes.Load(); b != 2 || c != n {
				t.Errorf("%d changes in %d commits, want %d in 2: the held one, then all the queued ones together", c, b, n)
			}

			// Acknowledged means stored: read the store before anything else happens.
			stored, err := db.ListRegistrations(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(stored) != n {
				t.Fatalf("%d bindings stored after %d answered 200: %+v", len(stored), n, stored)
			}
			for i, r := range stored {
				p := phones[i] // users and devices were created in order, and the list is ordered by user
				if want := "sip:" + p.user + "@" + p.conn.LocalAddr().String(); r.Contact != want || r.CSeq != uint32(p.cseq) || r.CallID != p.callID {
					t.Errorf("stored binding %d = %s cseq %d call %s, want %s cseq %d call %s", i, r.Contact, r.CSeq, r.CallID, want, p.cseq, p.callID)
				}
			}

			// A re-REGISTER rewrites the phone's row in place: still one row, with the new CSeq.
			if res := phones[3].register("MD5", phones[3].contactHeader(3600)...); res.StatusCode != 200 {
				t.Fatalf("re-REGISTER: %d", res.StatusCode)
			}
			// An un-REGISTER deletes the phone's row.
			const gone = 5
			if res := phones[gone].register("MD5", phones[gone].contactHeader(0)...); res.StatusCode != 200 {
				t.Fatalf("un-REGISTER: %d", res.StatusCode)
			}
			// A REGISTER refused after it announced a change (out of order: a CSeq already
			// seen) takes the announcement back, or every later commit would wait for it.
			stale := phones[2].cseq
			phones[2].cseq = 0
			if res := phones[2].register("MD5", phones[2].contactHeader(3600)...); res.StatusCode != 500 {
				t.Fatalf("out-of-order REGISTER: %d, want 500", res.StatusCode)
			}
			phones[2].cseq = stale
			if n := e.srv.regWrites.preparing.Load(); n != 0 {
				t.Fatalf("%d REGISTERs still counted as preparing a change after all were answered", n)
			}
			e.stop()
			second := startServerOn(t, db)
			for i, p := range phones {
				dev, err := db.GetDeviceBySIPUsername(context.Background(), p.user)
				if err != nil {
					t.Fatal(err)
				}
				bs := second.srv.deviceBindings(dev)
				if i == gone {
					if len(bs) != 0 {
						t.Errorf("phone %d unregistered, after the restart it has %+v", i, bs)
					}
					continue
				}
				if len(bs) != 1 || bs[0].cseq != uint32(p.cseq) {
					t.Errorf("phone %d after the restart: bindings %+v, want one with CSeq %d", i, bs, p.cseq)
				}
			}
		})
	}
}

// TestDeviceCacheShowsChangesWithinItsTTL: with DeviceCacheTTL a changed password and a
// deleted device take effect once the TTL has run out, not before the store is read again.
func TestDeviceCacheShowsChangesWithinItsTTL(t *testing.T) {
	e := startServer(t, func(c *Config) { c.DeviceCacheTTL = time.Minute })
	dev := e.device(t, e.user(t, "1001"), "alice", "old-password")
	old := dialPhone(t, "udp", e.udp, "", "alice", "old-password")
	if res := old.register("MD5", old.contactHeader(3600)...); res.StatusCode != 200 {
		t.Fatalf("register: %d", res.StatusCode)
	}
	if _, err := e.db.UpdateDeviceFunc(context.Background(), dev.AccountID, dev.ID, func(d *switchboard.Device) error {
		d.SetSIPPassword("new-password")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if res := old.register("MD5", old.contactHeader(3600)...); res.StatusCode != 200 {
		t.Fatalf("old password within the TTL: %d, want 200 from the cached credentials", res.StatusCode)
	}
	e.clock.Advance(time.Minute)
	if res := old.register("MD5", old.contactHeader(3600)...); res.StatusCode != 401 {
		t.Fatalf("old password after the TTL: %d, want 401", res.StatusCode)
	}
	current := dialPhone(t, "udp", e.udp, "", "alice", "new-password")
	if res := current.register("MD5", current.contactHeader(3600)...); res.StatusCode != 200 {
		t.Fatalf("new password after the TTL: %d, want 200", res.StatusCode)
	}
	if err := e.db.DeleteDevice(context.Background(), dev.AccountID, dev.ID); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	if res := current.register("MD5", current.contactHeader(3600)...); res.StatusCode != 401 {
		t.Fatalf("deleted device after the TTL: %d, want 401", res.StatusCode)
	}
}

// blockingStore is the real store whose binding writes wait while it is blocked.
type blockingStore struct {
	*store.DB
	mu   sync.Mutex
	gate chan struct{} // nil = open
}

func (b *blockingStore) block() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.gate = make(chan struct{})
}

func (b *blockingStore) open() {
	b.mu.Lock()
	defer b.mu.Unlock()
	close(b.gate)
	b.gate = nil
}

func (b *blockingStore) SaveRegistrationChanges(ctx context.Context, changes []switchboard.RegistrationChange) error {
	b.mu.Lock()
	gate := b.gate
	b.mu.Unlock()
	if gate != nil {
		<-gate
	}
	return b.DB.SaveRegistrationChanges(ctx, changes)
}

// TestRefreshIsWrittenBehind: a refresh of a stored binding from the same address, whose
// stored expiry still covers half the new interval, is answered without waiting for the
// store, and is stored by the time the server stops; a new binding, or a refresh once the
// stored expiry covers less than half, waits for its commit.
func TestRefreshIsWrittenBehind(t *testing.T) {
	tstest.CheckGoroutines(t)
	db := storetest.NewSQLite(t)
	bs := &blockingStore{DB: db}
	e := startServerOn(t, db, func(c *Config) { c.Store = bs })
	u := e.user(t, "1001")
	e.device(t, u, "alice", "pw-alice")
	desk := dialPhone(t, "udp", e.udp, "", "alice", "pw-alice")
	if res := desk.register("MD5", desk.contactHeader(3600)...); res.StatusCode != 200 { // stored until +60 min
		t.Fatalf("register: %d", res.StatusCode)
	}

	bs.block()
	e.clock.Advance(10 * time.Minute) // the stored expiry covers 50 of the new 60 minutes
	if res := desk.register("MD5", desk.contactHeader(3600)...); res.StatusCode != 200 {
		t.Fatalf("refresh while the store is blocked: %d, want 200 without waiting for it", res.StatusCode)
	}
	// A second contact (another address) is a new binding: no answer until it is stored.
	laptop := dialPhone(t, "udp", e.udp, "", "alice", "pw-alice")
	laptop.send(laptop.request("REGISTER", laptop.contactHeader(3600)...))
	c := pick(t, challenges(t, laptop.read(), "WWW-Authenticate"), "MD5")
	laptop.send(laptop.request("REGISTER", append([]string{laptop.auth("MD5", c.nonce, 1)}, laptop.contactHeader(3600)...)...))
	if res, err := laptop.readWithin(50 * time.Millisecond); err == nil {
		t.Fatalf("new binding answered %d before it was stored", res.StatusCode)
	}
	bs.open()
	if res := laptop.read(); res.StatusCode != 200 {
		t.Fatalf("new binding: %d", res.StatusCode)
	}

	// 35 minutes on, the desk's stored expiry (+60 min) covers 25 of a new 60: that
	// refresh waits for its commit.
	bs.block()
	e.clock.Advance(25 * time.Minute)
	desk.send(desk.request("REGISTER", desk.contactHeader(3600)...))
	c = pick(t, challenges(t, desk.read(), "WWW-Authenticate"), "MD5")
	desk.send(desk.request("REGISTER", append([]string{desk.auth("MD5", c.nonce, 1)}, desk.contactHeader(3600)...)...))
	if res, err := desk.readWithin(50 * time.Millisecond); err == nil {
		t.Fatalf("refresh with less than half the interval stored answered %d before it was stored", res.StatusCode)
	}
	bs.open()
	if res := desk.read(); res.StatusCode != 200 {
		t.Fatalf("refresh: %d", res.StatusCode)
	}
	// One more written-behind refresh, then a stop: it is stored when Run returns.
	e.clock.Advance(time.Minute)
	if res := desk.register("MD5", desk.contactHeader(3600)...); res.StatusCode != 200 {
		t.Fatalf("last refresh: %d", res.StatusCode)
	}
	e.stop()
	stored, err := db.ListRegistrations(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := e.clock.Now().Add(time.Hour)
	for _, r := range stored {
		if r.Contact == "sip:alice@"+desk.conn.LocalAddr().String() {
			if r.CSeq != uint32(desk.cseq) || !r.Expires.Equal(want) {
				t.Fatalf("desk stored with CSeq %d until %v, want the last refresh's %d until %v", r.CSeq, r.Expires, desk.cseq, want)
			}
			return
		}
	}
	t.Fatalf("desk binding not stored: %+v", stored)
}

// A write-behind refresh that a later change of the same batch overwrites entirely is not
// written; anything else is, in order: a change someone waits for, one with events or
// removals, and a refresh with a binding no later change saves.
func TestSupersededRefreshesAreNotWritten(t *testing.T) {
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	save := func(expires int, contacts ...string) switchboard.RegistrationChange {
		c := switchboard.RegistrationChange{AccountID: 1, UserID: 1}
		for _, k := range contacts {
			c.Save = append(c.Save, switchboard.Registration{AccountID: 1, UserID: 1, DeviceID: 7, Contact: k,
				Expires: at.Add(time.Duration(expires) * time.Second)})
		}
		return c
	}
	behind := func(c switchboard.RegistrationChange) *pendingChange { return &pendingChange{change: c} }
	waited := func(c switchboard.RegistrationChange) *pendingChange {
		return &pendingChange{change: c, done: make(chan error, 1)}
	}
	withEvent := save(3, "sip:a@h")
	withEvent.Events = []*switchboard.Event{{Name: "presence.changed"}}
	removal := save(4, "sip:e@h")
	removal.Remove = []switchboard.Registration{{DeviceID: 7, Contact: "sip:f@h"}}
	batch := []*pendingChange{
		behind(save(1, "sip:a@h")),            // 0: a saved again by 2: dropped
		behind(save(1, "sip:b@h")),            // 1: b saved by no one later: kept
		behind(save(2, "sip:a@h")),            // 2: a saved again by 3: dropped
		behind(withEvent),                     // 3: has an event: kept
		behind(save(5, "sip:c@h", "sip:d@h")), // 4: d saved by no one later: kept
		waited(save(5, "sip:e@h")),            // 5: waited for, though 6 saves e again: kept
		behind(removal),                       // 6: removes, though 7 saves e again: kept
		behind(save(6, "sip:c@h", "sip:e@h")), // 7: kept
		behind(save(7, "sip:a@h")),            // 8: last: kept
	}
	got := withoutSuperseded(batch)
	want := []switchboard.RegistrationChange{batch[1].change, batch[3].change, batch[4].change,
		batch[5].change, batch[6].change, batch[7].change, batch[8].change}
	if !cmp.Equal(got, want) {
		t.Errorf("written changes differ (-want +got):\n%s", cmp.Diff(want, got))
	}
}
