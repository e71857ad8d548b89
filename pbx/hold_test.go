package pbx_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"switchboard"
	"switchboard/internal/tstest"
	"switchboard/media"
	"switchboard/pbx"
	"switchboard/provision"
)

// reinvite sends a re-INVITE from alice's side of c with her SDP in direction dir (the
// c= address replaced by addr when given), ACKs its 200 and returns the PBX's answer.
func reinvite(t *testing.T, c *call, dir, addr string) string {
	t.Helper()
	return reinviteIn(t, c.dlg, c.dlg.InviteResponse.Contact().Address, c.rtp, dir, addr)
}

// dialogDoer is a dialog of either side that can send in-dialog requests.
type dialogDoer interface {
	Do(ctx context.Context, req *sip.Request) (*sip.Response, error)
	WriteRequest(req *sip.Request) error
}

// reinviteIn is reinvite in the dialog dlg, whose remote target is target, for peer.
func reinviteIn(t *testing.T, dlg dialogDoer, target sip.Uri, peer *rtpPeer, dir, addr string) string {
	t.Helper()
	offer := strings.TrimSuffix(string(peer.offer(0)), "a=sendrecv\r\n") + "a=" + dir + "\r\n"
	if addr != "" {
		offer = strings.ReplaceAll(offer, "IN IP4 127.0.0.1", "IN IP4 "+addr)
	}
	req := sip.NewRequest(sip.INVITE, target)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody([]byte(offer))
	ctx, cancel := context.WithTimeout(context.Background(), tstest.DefaultWait)
	defer cancel()
	res, err := dlg.Do(ctx, req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("re-INVITE a=%s: %v %v", dir, res, err)
	}
	ack := sip.NewRequest(sip.ACK, target)
	ack.AppendHeader(sip.NewHeader("CSeq", res.CSeq().Value()))
	if err := dlg.WriteRequest(ack); err != nil {
		t.Fatal(err)
	}
	return string(res.Body())
}

// hears waits until peer receives, in a 200 ms window (ten 20 ms packets), a tone of freq
// at least 20 dB above the power at each of the others: the music is what it hears.
func hears(t *testing.T, peer *rtpPeer, freq float64, others ...float64) {
	t.Helper()
	var window []int16
	for deadline := time.Now().Add(tstest.DefaultWait); time.Now().Before(deadline); {
		pkt := peer.recv(100 * time.Millisecond)
		if pkt == nil || pkt.PayloadType != 0 {
			continue
		}
		for _, b := range pkt.Payload {
			window = append(window, media.UlawDecode(b))
		}
		if len(window) < 1600 {
			continue
		}
		p, loud := media.Goertzel(window, freq), true
		for _, o := range others {
			loud = loud && p > 100*media.Goertzel(window, o)
		}
		if p > 1e5 && loud {
			return
		}
		window = window[:0]
	}
	t.Fatalf("no %.0f Hz tone was heard within %v", freq, tstest.DefaultWait)
}

// drain reads what is in flight to peer until nothing comes for a while (or, when packets
// never stop, until tstest.DefaultWait has passed and the caller's check fails).
func drain(peer *rtpPeer) {
	for deadline := time.Now().Add(tstest.DefaultWait); time.Now().Before(deadline) && peer.recv(100*time.Millisecond) != nil; {
	}
}

// uploadClass stores a class of a pure tone through the provisioning service, as a WAV
// file at 16 kHz would be uploaded.
func uploadClass(t *testing.T, e *env, name string, freq float64) {
	t.Helper()
	svc := provision.New(provision.Config{Store: e.db})
	wav := tstest.WAV(16000, 1, tstest.Sine(16000, 16000, 8000, freq))
	if _, err := svc.CreateMusicClass(context.Background(), e.account.ID, name,
		switchboard.MusicUpload{ContentType: "audio/wav", Body: bytes.NewReader(wav)}); err != nil {
		t.Fatal(err)
	}
}

// When alice holds (a=sendonly, a=inactive, or the old c=0.0.0.0), the PBX answers her
// hold, bob hears the account's music on hold instead of silence and gets no re-INVITE,
// alice is sent no RTP while she asked for none, and resuming brings both voices back. The
// music is the generated default until a default class is uploaded, then the upload.
func TestHoldPlaysMusicToTheOtherParty(t *testing.T) {
	for _, tc := range []struct {
		name, dir, addr, answer string
		upload                  bool
	}{
		{"sendonly, generated default", "sendonly", "", "a=recvonly", false},
		{"sendonly, uploaded default", "sendonly", "", "a=recvonly", true},
		{"inactive", "inactive", "", "a=inactive", true},
		{"c=0.0.0.0", "sendrecv", "0.0.0.0", "a=sendrecv", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tstest.CheckGoroutines(t)
			e := newEnv(t)
			if tc.upload {
				uploadClass(t, e, switchboard.DefaultMusicClass, 1000)
			}
			bob, c, in := establishedCall(t, e)
			reinvited := make(chan struct{}, 4)
			bob.setOnInvite(func(req *sip.Request, tx sip.ServerTransaction) bool {
				if to, _ := req.To().Params.Get("tag"); to != "" {
					reinvited <- struct{}{}
				}
				return false
			})
			// Bob talks all along: while alice holds, none of it may reach her.
			talking, stopTalking := context.WithCancel(context.Background())
			talked := make(chan struct{})
			go func() {
				defer close(talked)
				for talking.Err() == nil {
					in.rtp.send(t, ulawFrame(7))
					time.Sleep(20 * time.Millisecond)
				}
			}()
			defer func() { stopTalking(); <-talked }()

			answer := reinvite(t, c, tc.dir, tc.addr)
			if !strings.Contains(answer, tc.answer) {
				t.Fatalf("hold answered without %s:\n%s", tc.answer, answer)
			}
			if tc.upload {
				hears(t, in.rtp, 1000, 523.25, 659.25, 783.99)
			} else {
				hears(t, in.rtp, 523.25, 1000) // the arpeggio's first note, C5
			}
			if len(reinvited) != 0 {
				t.Fatal("bob was re-INVITEd: the hold should have been answered with music, not passed on")
			}
			if tc.dir != "sendrecv" { // c=0.0.0.0 has nowhere to send anyway
				drain(c.rtp)
				tstest.Never(t, time.Second, "RTP reaching alice while she holds", func() bool {
					return c.rtp.recv(20*time.Millisecond) != nil
				})
			}

			if answer := reinvite(t, c, "sendrecv", ""); !strings.Contains(answer, "a=sendrecv") {
				t.Fatalf("resume answered:\n%s", answer)
			}
			expectAudio(t, c.rtp, in.rtp, ulawFrame(1), ulawFrame(1)) // the music stopped: alice's voice again
			stopTalking()
			<-talked
			expectAudio(t, in.rtp, c.rtp, ulawFrame(2), ulawFrame(2))

			_ = c.dlg.Bye(context.Background())
			endedWithin(t, in.dlg.Context(), "bob's leg")
			e.waitIdle()
			tstest.WaitFor(t, "every RTP port back", func() bool { return e.eng.Ports().InUse() == 0 })
		})
	}
}

// The called phone can hold too: the caller hears the music, and resuming brings the
// voices back.
func TestCalleeHoldPlaysMusicToTheCaller(t *testing.T) {
	e := newEnv(t)
	_, c, in := establishedCall(t, e)
	pbxContact := in.req.Contact().Address
	if answer := reinviteIn(t, in.dlg, pbxContact, in.rtp, "sendonly", ""); !strings.Contains(answer, "a=recvonly") {
		t.Fatalf("hold answered:\n%s", answer)
	}
	hears(t, c.rtp, 523.25, 1000)
	reinviteIn(t, in.dlg, pbxContact, in.rtp, "sendrecv", "")
	expectAudio(t, in.rtp, c.rtp, ulawFrame(3), ulawFrame(3))
	_ = c.dlg.Bye(context.Background())
	endedWithin(t, in.dlg.Context(), "bob's leg")
}

// A call on hold is exempt from the RTP inactivity hang-up even though the holding phone
// sends nothing: bob hears music the whole time.
func TestHeldCallIsNotHungUpForSilence(t *testing.T) {
	clk := tstest.NewClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	e := newEnv(t, func(c *pbx.Config) { c.Now = clk.Now; c.SweepInterval = time.Hour })
	_, c, in := establishedCall(t, e)
	reinvite(t, c, "inactive", "")
	hears(t, in.rtp, 523.25, 1000)
	clk.Advance(2 * time.Minute)
	e.eng.SweepInactive()
	// A hang-up would be under way now (the sweep only asks the call to end): watch a while.
	tstest.Never(t, time.Second, "the held call hung up for RTP inactivity", func() bool {
		return in.dlg.Context().Err() != nil || c.dlg.Context().Err() != nil
	})
	_ = c.dlg.Bye(context.Background())
	endedWithin(t, in.dlg.Context(), "bob's leg")
}

// A queue's musiconhold class is what a waiting caller hears.
func TestQueuePlaysItsMusicClass(t *testing.T) {
	q := newQueueEnv(t, 1)
	uploadClass(t, q.env, "jazz", 800)
	q.queue(func(qu *switchboard.Queue) { qu.MusicOnHold = "jazz" })
	c := q.callIn()
	hears(t, c.rtp, 800, 523.25, 1000)
	_ = c.dlg.Bye(context.Background())
}
