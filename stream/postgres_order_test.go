package stream

import (
	"context"
	"database/sql"
	"slices"
	"testing"

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

// begin starts a transaction that stores an event, as the store's own do, and returns it
// with the event's seq.
func (p *pgOrder) begin() (*sql.Tx, int64) {
	tx, err := p.raw.BeginTx(p.ctx, nil)
	if err != nil {
		p.t.Fatal(err)
	}
	var seq int64
	err = tx.QueryRowContext(p.ctx, `INSERT INTO events (id, account_id, name, occurred_at, data)
		VALUES ($1, $2, $3, 0, '{}') RETURNING seq`, switchboard.NewEventID(), pgAccount, switchboard.EventSMSSent).Scan(&seq)
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
