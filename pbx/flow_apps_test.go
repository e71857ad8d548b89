package pbx_test

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"switchboard"
	"switchboard/blob"
	"switchboard/internal/tstest"
	"switchboard/media"
	"switchboard/pbx"
	"switchboard/provision"
)

// A menu takes its key however the caller's phone or carrier sends it: RFC 4733 events,
// SIP INFO (application/dtmf-relay) and in-band tones in the G.711 audio each reach the
// queue that option 1 names.
func TestFlowMenuKeyInEveryWayReachesQueue(t *testing.T) {
	for _, way := range []struct {
		name  string
		press func(t *testing.T, c *call)
	}{
		{"rfc4733", func(t *testing.T, c *call) { pressKey(t, c.rtp, '1') }},
		{"sip-info", func(t *testing.T, c *call) {
			if code := info(t, c.dlg.Do, c.dlg.InviteResponse.Contact().Address, "application/dtmf-relay",
				"Signal=1\r\nDuration=160\r\n"); code != 200 {
				t.Fatalf("INFO: %d; want 200", code)
			}
		}},
		{"in-band", func(t *testing.T, c *call) { sendTones(t, c.rtp, media.DTMFTones("1")) }},
	} {
		t.Run(way.name, func(t *testing.T) {
			fe := newFlowEnv(t)
			f := fe.mainFlow(nil)
			c := fe.callNumber(f)
			c.answered(t)
			if !hearsPrompt(t, c.rtp, promptFreq[promptMenu]) {
				t.Fatal("the caller did not hear the menu")
			}
			way.press(t, c)
			_, in := fe.ringing()
			in.answer(t, "127.0.0.1", 0)
			fe.waitAnswered(c)
			if err := c.dlg.Bye(context.Background()); err != nil {
				t.Fatal(err)
			}
			endedWithin(t, in.dlg.Context(), "the agent after the caller's BYE")
			fe.waitIdle()
			r := fe.endedRecord(switchboard.CallInbound)
			if tr := fe.trace(r.UniqueID); !hasStep(tr, "menu", "key", "option 1 -> sales") {
				t.Fatalf("trace = %+v; want key 1 taken in the menu", tr.Steps)
			}
		})
	}
}

// A caller who presses nothing in the menu is taken to the flow's voicemail box: the
// message holds what they said (a 1 kHz tone here), and the trace ends in the box.
func TestFlowNoInputLeavesVoicemailInTheFlowsBox(t *testing.T) {
	fe := newFlowEnv(t)
	ctx := context.Background()
	blobs, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	svc := provision.New(provision.Config{Store: fe.db, Blobs: blobs})
	fe.eng.SetVoicemail(pbx.VoicemailConfig{Service: svc, Store: fe.db, Links: &switchboard.VoicemailLinks{Key: []byte("0123456789abcdef0123456789abcdef")}})
	name := "Front desk"
	box, err := svc.CreateVoicemailBox(ctx, fe.account.ID, switchboard.VoicemailBoxChange{Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	f := fe.mainFlow(func(f *switchboard.CallFlow) {
		f.Nodes["nobody"] = switchboard.FlowNode{Type: switchboard.FlowNodeVoicemail, VoicemailBoxID: box.ID}
		delete(f.Nodes, "bye")
		menu := f.Nodes["menu"]
		menu.Invalid = "nobody"
		f.Nodes["menu"] = menu
	})
	c := fe.callNumber(f)
	c.answered(t)
	waitBeep(t, c.rtp)   // the menu times out; the box's greeting ends in the beep
	for i := range 100 { // 2 s of tone, then the caller hangs up
		c.rtp.send(t, tone1k(i))
		time.Sleep(20 * time.Millisecond)
	}
	if err := c.dlg.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	var msgs []*switchboard.VoicemailMessage
	tstest.WaitFor(t, "the message in the flow's box", func() bool {
		msgs, _, _ = fe.db.PageVoicemailMessages(ctx, fe.account.ID, switchboard.VoicemailFilter{BoxID: box.ID}, switchboard.Page{Limit: 10})
		return len(msgs) == 1
	})
	_, audio, _, err := svc.OpenVoicemailAudio(ctx, fe.account.ID, msgs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(audio)
	audio.Close()
	samples, err := media.ReadWAV(bytes.NewReader(raw), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) < media.SampleRate || media.Goertzel(samples[:4000], 1000) < 10*media.Goertzel(samples[:4000], 1400) {
		t.Fatalf("the message does not hold the caller's 1 kHz tone (%d samples)", len(samples))
	}
	fe.waitIdle()
	r := fe.endedRecord(switchboard.CallInbound)
	if tr := fe.trace(r.UniqueID); !hasStep(tr, "menu", "timeout", "") || !hasStep(tr, "nobody", "end", "voicemail box") {
		t.Fatalf("trace = %+v; want the menu's timeout, then the box", tr.Steps)
	}
}
