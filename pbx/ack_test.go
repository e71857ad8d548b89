package pbx

import (
	"io"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
	"github.com/google/go-cmp/cmp"
)

// responseLog is a server transaction that notes when each response is sent, on the
// bubble's virtual clock.
type responseLog struct {
	sipmsg.ServerTransaction // only Respond is called
	start                    time.Time
	mu                       sync.Mutex
	at                       []time.Duration
}

func (r *responseLog) Respond(*sipmsg.Response) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.at = append(r.at, time.Since(r.start))
	return nil
}

func (r *responseLog) sent() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.at...)
}

// reinviteLeg is an answered leg of a call on an engine with the given ACK timeout, with
// no SIP or media under it: enough for resendUntilAck.
func reinviteLeg(ackTimeout time.Duration) (*call, *leg) {
	e := &Engine{cfg: Config{AckTimeout: ackTimeout}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	c := &call{e: e, id: "1.1", hangupC: make(chan struct{})}
	invite := sipmsg.NewRequest(sipmsg.INVITE, sipmsg.Uri{Scheme: "sip", User: "bob", Host: "127.0.0.1"})
	invite.AppendHeader(&sipmsg.CSeqHeader{SeqNo: 1, MethodName: sipmsg.INVITE})
	uac := &sipgo.DialogClientSession{Dialog: sipgo.Dialog{InviteRequest: invite}}
	uac.Init()
	return c, &leg{c: c, uac: uac}
}

// The 200 to a re-INVITE is resent until its ACK comes: after T1, the interval doubling up
// to T2 (RFC 3261 13.3.1.4), for at most the ACK timeout. On the bubble's virtual clock the
// schedule is exact and 32 s take no real time.
func TestReinvite200ResendSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, l := reinviteLeg(32 * time.Second)
		tx := &responseLog{start: time.Now()}
		c.resendUntilAck(l, tx, nil, make(chan struct{})) // no ACK ever
		var want []time.Duration
		for at, interval := sipmsg.T1, sipmsg.T1; at < 32*time.Second; at += interval {
			want = append(want, at)
			interval = min(2*interval, sipmsg.T2)
		}
		if diff := cmp.Diff(want, tx.sent()); diff != "" {
			t.Errorf("times the 200 was resent (-want +got):\n%s", diff)
		}
		if elapsed := time.Since(tx.start); elapsed != 32*time.Second {
			t.Errorf("gave up after %v; want the ACK timeout, 32s", elapsed)
		}
	})
}

func TestReinvite200ResendsStopAtTheACK(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, l := reinviteLeg(32 * time.Second)
		tx := &responseLog{start: time.Now()}
		acked := make(chan struct{})
		done := make(chan struct{})
		go func() {
			c.resendUntilAck(l, tx, nil, acked)
			close(done)
		}()
		time.Sleep(2 * time.Second) // resent at 0.5 s and 1.5 s
		close(acked)
		synctest.Wait()
		select {
		case <-done:
		default:
			t.Fatal("still resending after the ACK")
		}
		if got := len(tx.sent()); got != 2 {
			t.Errorf("resent %d times in the 2 s before the ACK; want 2", got)
		}
	})
}
