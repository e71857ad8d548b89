package sip

import (
	"testing"

	"switchboard/internal/tstest"
)

// SIPp subscribes to 1002's busy lamp as a phone does (digest, Event: dialog), checks the
// initial full document, a NOTIFY when 1002 rings and the final one after it unsubscribes.
// (baresip cannot take part: its presence module subscribes to Event: presence only.)
// Over TCP the NOTIFYs go back on the phone's own connection.
func TestSIPpSubscribesToABusyLamp(t *testing.T) {
	sipp := requireSIPp(t)
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) { sippSubscribes(t, sipp, network) })
	}
}

func sippSubscribes(t *testing.T, sipp, network string) {
	e := startServer(t)
	addr := e.udp
	if network == "tcp" {
		addr = e.tcp
	}
	watched := e.user(t, "1002")
	e.device(t, e.user(t, "1001"), "alice1001", "pw-alice-1")

	type result struct {
		out string
		ok  bool
	}
	done := make(chan result, 1)
	go func() {
		out, ok := runSIPp(t, sipp, "blf_subscribe.xml", network, addr, []string{"alice1001;pw-alice-1"})
		done <- result{out, ok}
	}()
	// Until SIPp has subscribed (or failed before it could).
	var early *result
	tstest.WaitFor(t, "SIPp to subscribe", func() bool {
		select {
		case r := <-done:
			early = &r
			return true
		default:
			return e.srv.BLFSubscriptions() == 1
		}
	})
	if early != nil {
		t.Fatalf("sipp ended before subscribing:\n%s", early.out)
	}
	e.srv.PublishDialog(UserDialog{AccountID: e.account.ID, UserID: watched.ID, ID: "call-1", CallID: "call-1",
		State: DialogEarly, Remote: "1001"})
	r := <-done
	if !r.ok {
		t.Fatalf("sipp failed:\n%s", r.out)
	}
	tstest.WaitFor(t, "the subscription to end", func() bool { return e.srv.BLFSubscriptions() == 0 })
}
