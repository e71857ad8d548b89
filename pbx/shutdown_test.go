package pbx_test

import (
	"context"
	"testing"

	"github.com/emiago/sipgo/sip"

	"switchboard/internal/tstest"
)

// Once Run's context has ended the engine takes no new work: a re-INVITE that arrives while
// the calls are being hung up is refused (503, the session unchanged), and so is a new call
// after Run returned. The old engine answered both and counted their goroutines after Run's
// wg.Wait had started, which the race detector reports.
func TestEngineRefusesWorkOnceStopping(t *testing.T) {
	e := newEnv(t)
	alice, bob, _, _ := twoPhones(t, e)
	c, in := callBob(t, e, alice, bob)

	// Alice answers the engine's shutdown BYE only after a re-INVITE of her own: the engine
	// is stopping, and her dialog is still up.
	reinvite := make(chan int, 1)
	alice.setOnBye(func(*sip.Request) {
		req := sip.NewRequest(sip.INVITE, c.dlg.InviteResponse.Contact().Address)
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		req.SetBody(c.rtp.offer(0))
		ctx, cancel := context.WithTimeout(context.Background(), tstest.DefaultWait)
		defer cancel()
		res, err := c.dlg.Do(ctx, req)
		if err != nil {
			reinvite <- 0
			return
		}
		reinvite <- res.StatusCode
	})
	e.stopEngine()
	if code := <-reinvite; code != 503 {
		t.Errorf("a re-INVITE while the engine stops got %d; want 503", code)
	}
	endedWithin(t, in.dlg.Context(), "bob's leg at shutdown")

	alice.setOnBye(nil)
	again := alice.dial(e, "1002", "alice", "alice-pw-1", 0)
	if code := again.finalCode(t); code != 503 {
		t.Errorf("a call after the engine stopped got %d; want 503", code)
	}
}
