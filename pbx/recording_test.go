package pbx_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"switchboard"
	"switchboard/blob"
	"switchboard/internal/audiotest"
	"switchboard/internal/tstest"
	"switchboard/media"
	"switchboard/pbx"
	"switchboard/recording"
	"switchboard/webhook"
)

// recEnv is a PBX that records calls into a data directory, with the recording service of
// the server (recording.Service on a blob.Dir).
type recEnv struct {
	*env
	svc  *recording.Service
	root string
}

func newRecEnv(t *testing.T, mutate ...func(*pbx.Config)) *recEnv {
	t.Helper()
	return withRecordings(t, newEnv(t, mutate...))
}

// withRecordings gives e's engine a recording service on a data directory.
func withRecordings(t *testing.T, e *env) *recEnv {
	t.Helper()
	root := t.TempDir()
	blobs, err := blob.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	svc := &recording.Service{Store: e.db, Calls: e.db, Blobs: blobs, Logger: quietLogger(),
		Links: &recording.Links{Key: key, BaseURL: "http://pbx.example"}}
	e.eng.SetRecordings(svc)
	return &recEnv{env: e, svc: svc, root: root}
}

// recordingsOf is the call's recordings as stored.
func (e *recEnv) recordingsOf(callID string) []*switchboard.Recording {
	e.t.Helper()
	recs, err := e.db.CallRecordings(context.Background(), e.account.ID, callID)
	if err != nil {
		e.t.Fatal(err)
	}
	return recs
}

// waitRecording waits for the call's recording in the status and returns it.
func (e *recEnv) waitRecording(callID, status string) *switchboard.Recording {
	e.t.Helper()
	var got *switchboard.Recording
	tstest.WaitFor(e.t, "the call's recording to be "+status, func() bool {
		for _, r := range e.recordingsOf(callID) {
			if r.Status == status {
				got = r
				return true
			}
		}
		return false
	})
	return got
}

// stereo reads a stored recording's WAV as a player would and splits its channels.
func (e *recEnv) stereo(r *switchboard.Recording) (left, right []int16) {
	e.t.Helper()
	b, err := os.ReadFile(filepath.Join(e.root, filepath.FromSlash(r.BlobKey)))
	if err != nil {
		e.t.Fatal(err)
	}
	left, right = audiotest.StereoWAV(e.t, b)
	if int64(len(b)) != r.Size {
		e.t.Fatalf("the WAV is %d bytes, its row says %d", len(b), r.Size)
	}
	return left, right
}

// talk sends frames from each peer to the PBX every 20 ms, as phones do: caller's frames
// from callerPCM, callee's a 1 kHz tone, for as long as callerPCM lasts.
func talk(t *testing.T, caller, callee *rtpPeer, callerPCM []int16) {
	t.Helper()
	talkBoth(t, caller, callee, callerPCM, tstest.Sine(8000, len(callerPCM), 8000, 1000))
}

// talkBoth sends callerPCM and calleePCM (as long) from the two peers, 20 ms at a time.
func talkBoth(t *testing.T, caller, callee *rtpPeer, callerPCM, tone []int16) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond) // the media clock, not a wait
	defer tick.Stop()
	for i := 0; i+media.FrameSamples <= len(callerPCM); i += media.FrameSamples {
		caller.send(t, media.EncodeFrame(nil, media.PCMU, callerPCM[i:i+media.FrameSamples]))
		callee.send(t, media.EncodeFrame(nil, media.PCMU, tone[i:i+media.FrameSamples]))
		<-tick.C
	}
}

// Done-when of issue 11: two phones talk with recording on (click-to-call's recording:
// true); the caller speaks an espeak-ng sentence, the callee a 1 kHz tone. The WAV's left
// channel holds the speech and no tone, the right one the tone; recording.available reaches
// real HTTP receivers in the Voice Over Cloud and VoIPLine formats within 5 s of the hangup.
func TestClickToCallRecordingKeepsEachPartyOnItsChannel(t *testing.T) {
	e := newRecEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	key := make([]byte, 32)
	rand.Read(key)
	hooks, err := webhook.NewService(webhook.Config{Store: e.db, Key: key, Policy: loopbackHTTP, Logger: quietLogger(),
		PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	receivers := map[string]*tstest.HookReceiver{}
	for _, format := range []string{"voiceovercloud", "voipline", "voxpria"} {
		h := tstest.NewHookReceiver(t)
		receivers[format] = h
		u, f := h.URL+"/"+format, format
		if _, _, err := hooks.CreateWebhook(ctx, e.account.ID, switchboard.WebhookChange{URL: &u, Format: &f, Events: []string{"*"}}); err != nil {
			t.Fatalf("%s subscription: %v (%+v)", format, err, err)
		}
	}
	hooksDone := make(chan error, 1)
	go func() { hooksDone <- hooks.Run(ctx) }()
	defer func() { cancel(); <-hooksDone }()

	said := audiotest.Speech(t, "Please record the account number seven four two")
	alice, bob, ua1, _ := twoPhones(t, e.env)
	oc, err := e.eng.PlaceCall(ctx, switchboard.OutboundCallRequest{AccountID: e.account.ID, FromUser: ua1, To: "1002",
		Recording: true})
	if err != nil {
		t.Fatal(err)
	}
	own := alice.next()
	own.answer(t, "127.0.0.1", 0)
	endedOrConfirmed(t, own)
	far := bob.next()
	far.answer(t, "127.0.0.1", 0)
	endedOrConfirmed(t, far)
	rec := e.waitRecording(oc.CallID, switchboard.RecordingActive)
	talk(t, own.rtp, far.rtp, said)

	if err := far.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	hungUp := time.Now()
	e.waitIdle()
	tstest.WaitForWithin(t, 5*time.Second, "recording.available at the Voice Over Cloud and VoIPLine receivers", func() bool {
		return receivers["voiceovercloud"].First("callRecordingAvailable") != nil &&
			(receivers["voipline"].First("outbound_call_recording") != nil ||
				receivers["voipline"].First("inbound_call_recording") != nil)
	})
	t.Logf("recording.available delivered %v after the hangup", time.Since(hungUp).Round(time.Millisecond))
	tstest.WaitFor(t, "VoxPria's call.completed", func() bool { return receivers["voxpria"].First("call.completed") != nil })
	if vp := receivers["voxpria"].First("call.completed"); !strings.Contains(vp.Body, "/recordings/"+rec.ID+"/audio?") {
		t.Fatalf("VoxPria's call.completed does not carry the recording %s: %s", rec.ID, vp.Body)
	}

	got := e.waitRecording(oc.CallID, switchboard.RecordingAvailable)
	if got.ID != rec.ID || got.DurationMs < int64(len(said)/8)-500 || got.PausedMs != 0 || got.UserID != ua1.ID {
		t.Fatalf("recording %+v: want %s, at least %d ms, not paused, alice's", got, rec.ID, len(said)/8-500)
	}
	left, right := e.stereo(got)
	l, r := audiotest.Audible(left), audiotest.Audible(right)
	if len(l) < len(said)/2 {
		t.Fatalf("the left channel holds %d audible samples of %d said", len(l), len(said))
	}
	if p := audiotest.TonePart(l, 1000); p > 0.05 {
		t.Fatalf("the caller's channel is %.2f the callee's 1 kHz tone", p)
	}
	if p := audiotest.TonePart(r, 1000); p < 0.3 {
		t.Fatalf("the callee's channel holds the 1 kHz tone at %.2f of its power only", p)
	}
	// The speech is on the left at its level: µ-law keeps espeak-ng's power within a few dB.
	if pl, ps := audiotest.Power(l), audiotest.Power(audiotest.Audible(said)); pl < ps/4 || pl > ps*4 {
		t.Fatalf("left channel power %.0f, the speech sent %.0f", pl, ps)
	}

	voc := receivers["voiceovercloud"].First("callRecordingAvailable")
	if voc.Query.Get("callid") != oc.CallID {
		t.Fatalf("callRecordingAvailable names the call %q, want %s", voc.Query.Get("callid"), oc.CallID)
	}
	vl := receivers["voipline"].First("outbound_call_recording")
	if vl == nil {
		vl = receivers["voipline"].First("inbound_call_recording")
	}
	var vlBody map[string]any
	if err := json.Unmarshal([]byte(vl.Body), &vlBody); err != nil {
		t.Fatalf("VoIPLine body: %v: %s", err, vl.Body)
	}
	if u, _ := vlBody["recording_url"].(string); !strings.Contains(u, "/recordings/"+got.ID+"/audio?") {
		t.Fatalf("VoIPLine's recording_url %q does not link the recording %s", vlBody["recording_url"], got.ID)
	}
}

// The call-control API's side in the engine: pause is silence in the file and lasts
// across a hold; resume records again; stop completes the recording while the call goes
// on; start records anew. Another account's call is not found; a finished one neither.
func TestRecordingControlPausesIntoSilenceAndStopsWhileTheCallGoesOn(t *testing.T) {
	e := newRecEnv(t)
	ctx := context.Background()
	alice, bob, _, _ := twoPhones(t, e.env)
	c, in := callBob(t, e.env, alice, bob)
	callID := e.liveCallID()

	ctl := func(action string) (*switchboard.CallRecordingState, error) {
		return e.eng.ControlCallRecording(ctx, e.account.ID, callID, action)
	}
	for _, action := range []string{"pause", "resume", "stop"} {
		if _, err := ctl(action); switchboard.ErrorCode(err) != switchboard.ECONFLICT {
			t.Fatalf("%s before any recording: %v, want CONFLICT", action, err)
		}
	}
	st, err := ctl("start")
	if err != nil || st.Status != switchboard.CallRecordingRecording || !switchboard.ValidRecordingID(st.RecordingID) {
		t.Fatalf("start: %+v, %v", st, err)
	}
	if _, err := ctl("start"); switchboard.ErrorCode(err) != switchboard.ECONFLICT {
		t.Fatalf("a second start: %v, want CONFLICT", err)
	}
	if _, err := e.eng.ControlCallRecording(ctx, e.account.ID+1, callID, "pause"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Fatalf("another account pausing the call: %v, want NOT_FOUND", err)
	}
	if _, err := ctl("rewind"); switchboard.ErrorCode(err) != switchboard.EBADREQUEST {
		t.Fatalf("an unknown action: %v, want BAD_REQUEST", err)
	}

	second := tstest.Sine(8000, 8000, 8000, 1000)
	talk(t, c.rtp, in.rtp, second) // a second recorded
	if st, err := ctl("pause"); err != nil || st.Status != switchboard.CallRecordingPaused {
		t.Fatalf("pause: %+v, %v", st, err)
	}
	if _, err := ctl("pause"); err != nil {
		t.Fatalf("pausing a paused recording: %v", err)
	}
	card := tstest.Sine(8000, 16000, 8000, 697, 1209) // the caller keys a card number (DTMF 1)
	talk(t, c.rtp, in.rtp, card)
	if st, err := ctl("resume"); err != nil || st.Status != switchboard.CallRecordingRecording {
		t.Fatalf("resume: %+v, %v", st, err)
	}
	talk(t, c.rtp, in.rtp, second)
	st, err = ctl("stop")
	if err != nil || st.Status != switchboard.CallRecordingStopped {
		t.Fatalf("stop: %+v, %v", st, err)
	}
	first := e.waitRecording(callID, switchboard.RecordingAvailable)
	// The call goes on after stop: audio still flows, and a new recording can start.
	expectAudio(t, c.rtp, in.rtp, ulawFrame(3), ulawFrame(3))
	st, err = ctl("start")
	if err != nil || st.RecordingID == first.ID {
		t.Fatalf("start after stop: %+v, %v", st, err)
	}
	if err := c.dlg.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	e.waitIdle()
	tstest.WaitFor(t, "both recordings available", func() bool {
		recs := e.recordingsOf(callID)
		return len(recs) == 2 && recs[0].Status == switchboard.RecordingAvailable && recs[1].Status == switchboard.RecordingAvailable
	})
	if _, err := ctl("start"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Fatalf("start on a finished call: %v, want NOT_FOUND", err)
	}

	if first.PausedMs < 1500 || first.PausedMs > 4000 {
		t.Fatalf("paused %d ms, want the two seconds keyed", first.PausedMs)
	}
	left, _ := e.stereo(first)
	// The keyed digits (697 + 1209 Hz) are nowhere in the file: a second of 1 kHz, silence,
	// a second of 1 kHz.
	for i := 0; i+800 <= len(left); i += 400 {
		w := left[i : i+800]
		if audiotest.Power(w) > 1e5 && (audiotest.TonePart(w, 697) > 0.1 || audiotest.TonePart(w, 1209) > 0.1) {
			t.Fatalf("the keyed card digits are in the recording at %d ms", i/8)
		}
	}
	var silent, tone int
	for i := 0; i+800 <= len(left); i += 800 {
		w := left[i : i+800]
		if audiotest.Power(w) == 0 {
			silent++
		}
		if audiotest.Power(w) > 1e5 && audiotest.TonePart(w, 1000) > 0.3 {
			tone++
		}
	}
	if tone < 15 { // 100 ms windows: most of the two recorded seconds
		t.Fatalf("only %d windows of the recorded 1 kHz are in the file", tone)
	}
	if silent < 10 { // 100 ms windows: at least a second of digital silence where the pause was
		t.Fatalf("only %d silent 100 ms windows; the pause is not silence", silent)
	}
}

// liveCallID is the id of the call started last (from its started event).
func (e *recEnv) liveCallID() string {
	e.t.Helper()
	evs, err := e.db.ListEvents(context.Background(), e.account.ID, 0, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	id := ""
	for _, ev := range evs {
		if strings.HasSuffix(ev.Name, ".started") && ev.CallID != "" {
			id = ev.CallID
		}
	}
	if id == "" {
		e.t.Fatal("no call started")
	}
	return id
}

// The recording policies, call by call on one PBX (alice calls bob): the account's default
// records when nobody says anything; a user's explicit "none" opts out of it; a user's
// "inbound" records the calls they receive, not the ones they make.
func TestRecordingPolicyDecidesAtAnswer(t *testing.T) {
	e := newRecEnv(t)
	alice, bob, ua1, ub := twoPhones(t, e.env)
	setUser := func(u *switchboard.User, policy string) {
		if _, err := e.db.UpdateUserFunc(context.Background(), e.account.ID, u.ID, func(u *switchboard.User) error {
			u.Recording = policy
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name                string
		account, alice, bob string
		recorded            bool
	}{
		{"nothing set", "", "", "", false},
		{"account records all", "all", "", "", true},
		{"callee opts out", "all", "", "none", false},
		{"callee records what it receives", "none", "", "inbound", true},
		{"caller records what it receives only", "none", "inbound", "", false},
		{"caller records what it makes", "none", "outbound", "", true},
	} {
		e.setAccount(func(a *switchboard.Account) { a.RecordingDefault = tc.account })
		setUser(ua1, tc.alice)
		setUser(ub, tc.bob)
		c, in := callBob(t, e.env, alice, bob)
		callID := e.liveCallID()
		if tc.recorded {
			e.waitRecording(callID, switchboard.RecordingActive)
			// Half a second of talk, so the recording holds audio however soon the BYE comes
			// on a loaded machine (a recording with no audio at all is failed, not kept).
			talkBoth(t, c.rtp, in.rtp, tstest.Sine(8000, 4000, 8000, 1000), tstest.Sine(8000, 4000, 8000, 800))
		}
		if err := c.dlg.Bye(context.Background()); err != nil {
			t.Fatal(err)
		}
		e.waitIdle()
		e.eng.Wait() // the decision, made beside the call, is made
		recs := e.recordingsOf(callID)
		if got := len(recs) == 1; got != tc.recorded || len(recs) > 1 {
			t.Fatalf("%s: %d recordings, want recorded %v", tc.name, len(recs), tc.recorded)
		}
		if tc.recorded {
			e.waitRecording(callID, switchboard.RecordingAvailable)
		}
	}
}

// A recorded call (the account records all, with a consent announcement) is transferred by
// its callee while paused: both parties hear the announcement at the start, the
// transfer's target hears it when it joins; the pause lasts across the transfer; the
// caller stays on the left channel and the target takes the right one.
func TestRecordingFollowsATransferAndItsPauseLastsAcrossIt(t *testing.T) {
	e := newRecEnv(t, func(c *pbx.Config) { c.Prompts = &tonePrompts{} })
	e.setAccount(func(a *switchboard.Account) {
		a.RecordingDefault, a.RecordingConsentPromptID = switchboard.RecordAll, promptClosed // 600 Hz
	})
	alice, bob, carol, _, _, _ := threePhones(t, e.env)
	c, in := callBob(t, e.env, alice, bob)
	callID := e.liveCallID()
	e.waitRecording(callID, switchboard.RecordingActive)
	if !hearsPrompt(t, c.rtp, 600) || !hearsPrompt(t, in.rtp, 600) {
		t.Fatal("the parties did not hear the consent announcement")
	}
	sec := func(f float64) []int16 { return tstest.Sine(8000, 8000, 8000, f) }
	talkBoth(t, c.rtp, in.rtp, sec(1000), sec(800)) // alice 1 kHz, bob 800 Hz

	ctl := func(action string) {
		t.Helper()
		if _, err := e.eng.ControlCallRecording(context.Background(), e.account.ID, callID, action); err != nil {
			t.Fatalf("%s: %v", action, err)
		}
	}
	ctl("pause")
	if code := referIn(t, in.dlg, "<sip:1003@"+e.sipAddr+">"); code != 202 {
		t.Fatalf("REFER answered %d; want 202", code)
	}
	cin := carol.next()
	cin.answer(t, "127.0.0.1", 0)
	endedWithin(t, in.dlg.Context(), "bob's leg to be hung up")
	if !hearsPrompt(t, cin.rtp, 600) {
		t.Fatal("the transfer's target did not hear the consent announcement")
	}
	talkBoth(t, c.rtp, cin.rtp, sec(1000), sec(400)) // still paused: carol's 400 Hz is not kept
	ctl("resume")
	talkBoth(t, c.rtp, cin.rtp, sec(1000), sec(2000)) // carol 2 kHz
	if err := c.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.waitIdle()
	got := e.waitRecording(callID, switchboard.RecordingAvailable)
	left, right := e.stereo(got)
	windows := func(s []int16, f float64) (first, n int) {
		first = -1
		for i := 0; i+800 <= len(s); i += 800 {
			w := s[i : i+800]
			if audiotest.Power(w) > 1e5 && audiotest.TonePart(w, f) > 0.3 {
				if first < 0 {
					first = i / 800
				}
				n++
			}
		}
		return first, n
	}
	if _, n := windows(left, 1000); n < 12 {
		t.Fatalf("alice's recorded 1 kHz: %d windows on the left", n)
	}
	for _, f := range []float64{800, 400, 2000} {
		if _, n := windows(left, f); n > 0 {
			t.Fatalf("the left channel holds %d windows of %v Hz: another party on the caller's channel", n, f)
		}
	}
	b0, bn := windows(right, 800)
	c0, cn := windows(right, 2000)
	if bn < 6 || cn < 6 || c0 < b0 {
		t.Fatalf("right channel: bob's 800 Hz %d windows from %d, carol's 2 kHz %d windows from %d", bn, b0, cn, c0)
	}
	if _, n := windows(right, 400); n > 0 {
		t.Fatalf("%d windows of what carol said while the recording was paused", n)
	}
}

// fullDisk is the recording service whose writers fail as a full disk does once they have
// taken limit bytes.
type fullDisk struct {
	*recording.Service
	limit int
}

func (f *fullDisk) Begin(ctx context.Context, r *switchboard.Recording) (recording.RecordingWriter, error) {
	w, err := f.Service.Begin(ctx, r)
	if err != nil {
		return nil, err
	}
	return &fullWriter{RecordingWriter: w, left: f.limit}, nil
}

type fullWriter struct {
	recording.RecordingWriter
	left int
}

func (w *fullWriter) Write(p []byte) (int, error) {
	if len(p) > w.left {
		return 0, syscall.ENOSPC
	}
	w.left -= len(p)
	return w.RecordingWriter.Write(p)
}

// A full disk stops the recording, not the call: recording.failed says why, the parties
// go on talking, and the call ends normally.
func TestFullDiskFailsTheRecordingAndTheCallGoesOn(t *testing.T) {
	e := newRecEnv(t)
	e.eng.SetRecordings(&fullDisk{Service: e.svc, limit: 8000}) // a quarter second of stereo
	e.setAccount(func(a *switchboard.Account) { a.RecordingDefault = switchboard.RecordAll })
	alice, bob, _, _ := twoPhones(t, e.env)
	c, in := callBob(t, e.env, alice, bob)
	callID := e.liveCallID()
	e.waitRecording(callID, switchboard.RecordingActive)
	talk(t, c.rtp, in.rtp, tstest.Sine(8000, 8000, 8000, 500))
	failed := e.waitRecording(callID, switchboard.RecordingFailed)
	if !strings.Contains(failed.Error, "no space left on device") {
		t.Fatalf("the failed recording says %q; want the disk's error", failed.Error)
	}
	ev := eventNamed(e.callEvents(callID), switchboard.EventRecordingFailed)
	if ev == nil || !strings.Contains(fmt.Sprint(ev.Data["reason"]), "no space left") || ev.Data["recording_id"] != failed.ID {
		t.Fatalf("recording.failed = %+v among %v", ev, names(e.callEvents(callID)))
	}
	// The call is unaffected: audio both ways, and a normal end.
	expectAudio(t, c.rtp, in.rtp, ulawFrame(7), ulawFrame(7))
	expectAudio(t, in.rtp, c.rtp, ulawFrame(8), ulawFrame(8))
	if err := c.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r := e.endedRecord(switchboard.CallOutbound); r.Disposition != switchboard.DispositionAnswered {
		t.Fatalf("the call ended %s; want answered", r.Disposition)
	}
	e.waitIdle()
	if recs := e.recordingsOf(callID); len(recs) != 1 {
		t.Fatalf("%d recordings; want the one failed", len(recs))
	}
}

// A click-to-call asking for a recording on a server that stores none is refused, not
// placed unrecorded.
func TestClickToCallRecordingWithoutStorageIsUnavailable(t *testing.T) {
	e := newEnv(t)
	_, _, ua1, _ := twoPhones(t, e)
	_, err := e.eng.PlaceCall(context.Background(), switchboard.OutboundCallRequest{AccountID: e.account.ID,
		FromUser: ua1, To: "1002", Recording: true})
	if switchboard.ErrorCode(err) != switchboard.EUNAVAILABLE {
		t.Fatalf("PlaceCall: %v, want UNAVAILABLE", err)
	}
	if _, err := e.eng.ControlCallRecording(context.Background(), e.account.ID, "1.1", "start"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Fatalf("ControlCallRecording of no call: %v, want NOT_FOUND", err)
	}
}

// Queue and number policies: a queue that records all records its calls (the recording
// names the queue); a number that records inbound calls records a call through it though
// the queue and the agent say nothing.
func TestQueueAndNumberRecordingPolicies(t *testing.T) {
	q := newQueueEnv(t, 1)
	e := withRecordings(t, q.env)
	qu := q.queue(func(qu *switchboard.Queue) { qu.Recording = switchboard.RecordAll })
	c := q.callIn()
	_, in := q.ringing()
	in.answer(t, "127.0.0.1", 0)
	q.waitAnswered(c)
	callID := callIDOf(q.env, c)
	rec := e.waitRecording(callID, switchboard.RecordingActive)
	if rec.QueueID != qu.ID {
		t.Fatalf("the queue's recording names queue %d, want %d", rec.QueueID, qu.ID)
	}
	if err := c.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	q.waitIdle()
	e.waitRecording(callID, switchboard.RecordingAvailable)

	if _, err := q.db.UpdateQueueFunc(context.Background(), q.account.ID, qu.ID, func(qu *switchboard.Queue) error {
		qu.Recording = ""
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	cr := q.fromTrunk(switchboard.Target{Type: switchboard.TargetQueue, ID: qu.ID})
	n, err := q.db.GetNumberByE164(context.Background(), "+15559876543")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.db.UpdateNumberFunc(context.Background(), q.account.ID, n.ID, func(n *switchboard.Number) error {
		n.Recording = switchboard.RecordInbound
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	c = cr.dial(q.env, "+15559876543", "+15551234567", "")
	c.answered(t)
	_, in = q.ringing()
	in.answer(t, "127.0.0.1", 0)
	q.waitAnswered(c)
	callID = callIDOf(q.env, c)
	e.waitRecording(callID, switchboard.RecordingActive)
	if err := c.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	q.waitIdle()
	e.waitRecording(callID, switchboard.RecordingAvailable)
}
