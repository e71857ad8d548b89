package stream

import (
	"context"
	"database/sql"
	"slices"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/tstest"
	"switchboard/store/storetest"
)

// pgOrder is a hub on a PostgreSQL store, driven by hand (pull) so that the test decides when
// the hub reads, and a connection of its own for transactions the store would not leave open.
type pgOrder struct {
	t   *testing.T
	ctx context.Context
	hub *Hub
	raw *sql.DB
	sub *Subscription
	got []int64 // the seqs the consumer received
}

const pgAccount = 61

func newPGOrder(t *testing.T) *pgOrder {
	db, url := storetest.NewPostgresURL(t)
	ctx := context.Background()
	raw, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	// An event before the consumer subscribes, so that its live start is not 0.
	if err := db.AppendEvents(ctx, switchboard.NewEvent(pgAccount, switchboard.EventSMSSent, nil)); err != nil {
		t.Fatal(err)
	}
	p := &pgOrder{t: t, ctx: ctx, hub: New(Config{Store: db}), raw: raw}
	p.sub, err = p.hub.Subscribe(ctx, pgAccount, 0, Live, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.sub.Close)
	return p
}

// begin starts a transaction that stores an event of the account, as the store's own do,
// and returns it with the event's seq.
func (p *pgOrder) begin() (*sql.Tx, int64) { return p.beginFor(pgAccount) }

func (p *pgOrder) beginFor(account int64) (*sql.Tx, int64) {
	tx, err := p.raw.BeginTx(p.ctx, nil)
	if err != nil {
		p.t.Fatal(err)
	}
	var seq int64
	err = tx.QueryRowContext(p.ctx, `INSERT INTO events (id, account_id, name, occurred_at, data)
		VALUES ($1, $2, $3, 0, '{}') RETURNING seq`, switchboard.NewEventID(), account, switchboard.EventSMSSent).Scan(&seq)
	if err != nil {
		p.t.Fatal(err)
	}
	return tx, seq
}

// pull reads the table once and takes what the consumer was handed.
func (p *pgOrder) pull() {
	p.hub.pull(p.ctx, p.hub.feed(pgAccount))
	for {
		select {
		case it := <-p.sub.ch:
			p.got = append(p.got, it.seq)
		default:
			return
		}
	}
}

// finish stores a last event through the store and reads until the consumer has it: after
// that, everything before it has been handed out.
func (p *pgOrder) finish() []int64 {
	tx, seq := p.begin()
	if err := tx.Commit(); err != nil {
		p.t.Fatal(err)
	}
	tstest.WaitFor(p.t, "the consumer to receive the last event", func() bool {
		p.pull()
		return slices.Contains(p.got, seq)
	})
	return p.got
}

// TestLowerSeqCommittingLastIsNotSkipped: transaction A takes seq N, B takes N+1 and commits
// while A is still open, the hub reads, then A commits. The live consumer receives N, N+1
// and the next event, in that order, each once — reading "seq > the last one seen" would
// have handed out N+1 at once and passed over N for ever.
func TestLowerSeqCommittingLastIsNotSkipped(t *testing.T) {
	p := newPGOrder(t)
	txA, seqA := p.begin()
	txB, seqB := p.begin()
	if seqB <= seqA {
		t.Fatalf("seqs A=%d B=%d: want B after A", seqA, seqB)
	}
	if err := txB.Commit(); err != nil {
		t.Fatal(err)
	}
	p.pull() // sees B committed and A running
	if err := txA.Commit(); err != nil {
		t.Fatal(err)
	}
	got := p.finish()
	if len(got) != 3 || got[0] != seqA || got[1] != seqB {
		t.Fatalf("the consumer received seqs %v, want A=%d, B=%d, then the last event", got, seqA, seqB)
	}
}

// TestRolledBackSeqDoesNotHoldTheStream: a transaction that took a seq and rolled back leaves
// a gap for ever; the events after it still reach the consumer.
func TestRolledBackSeqDoesNotHoldTheStream(t *testing.T) {
	p := newPGOrder(t)
	txA, _ := p.begin()
	txB, seqB := p.begin()
	if err := txB.Commit(); err != nil {
		t.Fatal(err)
	}
	p.pull()
	if err := txA.Rollback(); err != nil {
		t.Fatal(err)
	}
	got := p.finish()
	if len(got) != 2 || got[0] != seqB {
		t.Fatalf("the consumer received seqs %v, want B=%d, then the last event", got, seqB)
	}
}

// TestLiveStartWaitsForLowerSeqs: a consumer subscribing while a transaction that holds a
// smaller seq than the account's newest event is open starts once that transaction has
// ended — else the event could commit below the consumer's starting point and never be
// sent. (The test gives Subscribe two seconds to return early before it commits; the right
// code cannot, whatever the machine's speed.)
func TestLiveStartWaitsForLowerSeqs(t *testing.T) {
	p := newPGOrder(t)
	const account = 62 // a feed not started yet
	txA, seqA := p.beginFor(account)
	txB, _ := p.beginFor(account)
	if err := txB.Commit(); err != nil {
		t.Fatal(err)
	}
	type started struct {
		sub        *Subscription
		err        error
		aCommitted bool // when Subscribe returned
	}
	done := make(chan started, 1)
	go func() {
		sub, err := p.hub.Subscribe(p.ctx, account, 0, Live, Filter{})
		var n int
		if err == nil {
			err = p.raw.QueryRowContext(p.ctx, `SELECT COUNT(*) FROM events WHERE seq = $1`, seqA).Scan(&n)
		}
		done <- started{sub, err, n == 1}
	}()
	var st started
	select {
	case st = <-done:
	case <-time.After(2 * time.Second):
		if err := txA.Commit(); err != nil {
			t.Fatal(err)
		}
		st = <-done
	}
	txA.Rollback() // when Subscribe returned early: ends A, so that the schema can be dropped
	if st.err != nil {
		t.Fatal(st.err)
	}
	st.sub.Close()
	if !st.aCommitted {
		t.Fatalf("Subscribe returned while the transaction holding seq %d was open", seqA)
	}
}
