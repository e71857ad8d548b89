package pbx_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"switchboard"
	"switchboard/blob"
	"switchboard/events"
	"switchboard/internal/tstest"
	"switchboard/media"
	"switchboard/pbx"
	"switchboard/provision"
	"switchboard/webhook"
)

// vmEnv wires voicemail as cmd/switchboard does: the provisioning service keeps the
// messages in a directory and lights the lamps through the SIP server.
func vmEnv(t *testing.T) (*env, *provision.Service, *switchboard.VoicemailLinks) {
	e := newEnv(t)
	blobs, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	svc := provision.New(provision.Config{Store: e.db, Blobs: blobs})
	svc.SetVoicemail(provision.VoicemailConfig{
		Changed: func(accountID, _, userID int64) { e.srv.NotifyMessageWaiting(accountID, userID) }})
	links := &switchboard.VoicemailLinks{Key: []byte("0123456789abcdef0123456789abcdef"), BaseURL: "https://pbx.example.com"}
	e.eng.SetVoicemail(pbx.VoicemailConfig{Service: svc, Store: e.db, Links: links})
	e.srv.SetMessageSummary(e.eng.MessageSummary)
	return e, svc, links
}

// tone1k is 20 ms of a 1 kHz tone as µ-law.
func tone1k(frame int) []byte {
	out := make([]byte, 160)
	for i := range out {
		n := frame*160 + i
		out[i] = media.UlawEncode(int16(8000 * math.Sin(2*math.Pi*1000*float64(n)/8000)))
	}
	return out
}

// waitNotify waits for a message-summary NOTIFY body holding want.
func waitNotify(t *testing.T, u *ua, want string) {
	t.Helper()
	deadline := time.After(tstest.DefaultWait)
	for {
		select {
		case body := <-u.notifies:
			if strings.Contains(body, want) {
				return
			}
		case <-deadline:
			t.Fatalf("no NOTIFY with %q", want)
		}
	}
}

// A caller leaves a message for a user who does not answer: the event renders in
// VoIPLine's format with a signed link, the stored WAV holds the caller's 1 kHz tone, the
// user's phone's lamp lights (1 new), *97 with the PIN plays the message (the phone hears
// the tone) and marks it read (lamp: 0 new), a message-summary SUBSCRIBE and a
// re-REGISTER each get the lamp's state.
func TestVoicemailLeftListenedAndLamp(t *testing.T) {
	e, svc, links := vmEnv(t)
	prompts := &tonePrompts{} // system prompts are asked for by name (and sound as 300 Hz)
	e.eng.SetPromptLibrary(prompts)
	alice := e.user("1001", func(u *switchboard.User) { u.VoicemailEnabled = true })
	bob := e.user("1002", func(u *switchboard.User) { u.VoicemailEnabled = true; u.RingTimeSeconds = 1 })
	e.device(alice, "alice", "pw-alice")
	e.device(bob, "bob", "pw-bob")
	ctx := context.Background()
	box, err := svc.UserVoicemailBox(ctx, e.account.ID, bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	pin := "4321"
	if _, err := svc.UpdateVoicemailBox(ctx, e.account.ID, box.ID, switchboard.VoicemailBoxChange{PIN: &pin}); err != nil {
		t.Fatal(err)
	}
	alicePhone := newUA(t, "127.0.0.1", "alice")
	bobPhone := newUA(t, "127.0.0.1", "bob")
	alicePhone.register(e, "alice", "pw-alice")
	bobPhone.register(e, "bob", "pw-bob")
	waitNotify(t, bobPhone, "Voice-Message: 0/0") // the lamp's state after REGISTER

	// Bob's phone rings and nobody answers: voicemail takes the call.
	c := alicePhone.dial(e, "1002", "alice", "pw-alice")
	in := bobPhone.next()
	in.ring(t)
	c.answered(t)
	for i := range 150 { // 3 s of tone, after which alice hangs up
		c.rtp.send(t, tone1k(i))
		time.Sleep(20 * time.Millisecond)
	}
	if err := c.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitNotify(t, bobPhone, "Voice-Message: 1/0")

	var left *switchboard.Event
	tstest.WaitFor(t, "voicemail.left", func() bool {
		evs, _ := e.db.ListEvents(ctx, e.account.ID, 0, 1000)
		for _, ev := range evs {
			if ev.Name == switchboard.EventVoicemailLeft {
				left = ev
			}
		}
		return left != nil
	})
	req, err := webhook.Render(webhook.Target{Format: events.FormatVoipline, URL: "https://crm.example.com/hook",
		Method: "POST", Secrets: []string{"tok"}}, left, "voicemail", left.ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal(req.Body, &body); err != nil {
		t.Fatal(err)
	}
	if body["type"] != "voicemail" || body["caller_id"] != "1001" || body["user_extension"] != "1002" ||
		body["duration"].(float64) < 1 {
		t.Fatalf("voipline voicemail body: %s", req.Body)
	}
	link, _ := body["recording_url"].(string)
	u, err := url.Parse(link)
	if err != nil || !strings.HasPrefix(link, "https://pbx.example.com/v3/voice/") {
		t.Fatalf("recording_url %q", link)
	}
	msgID, _ := events.Int(left.Data, events.FieldVoicemailID)
	if !links.Check(e.account.ID, msgID, u.Query().Get("expires"), u.Query().Get("sig"), time.Now()) {
		t.Fatalf("the event's link does not check: %s", link)
	}

	// The stored WAV holds the caller's tone.
	_, f, _, err := svc.OpenVoicemailAudio(ctx, e.account.ID, msgID)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(f)
	f.Close()
	samples, err := media.ReadWAV(bytes.NewReader(raw), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) < media.SampleRate || media.Goertzel(samples[:4000], 1000) < 10*media.Goertzel(samples[:4000], 1400) {
		t.Fatalf("the message does not hold the 1 kHz tone (%d samples)", len(samples))
	}

	// A SUBSCRIBE for message-summary gets the state at once.
	subscribeMWI(t, e, bobPhone, "bob", "pw-bob")
	waitNotify(t, bobPhone, "Messages-Waiting: yes")

	// *97 from bob's phone with the PIN plays the message and marks it read.
	l := bobPhone.dial(e, "*97", "bob", "pw-bob")
	l.answered(t)
	heard := make(chan bool, 1)
	go func() {
		var pcm []int16
		for end := time.Now().Add(tstest.DefaultWait); time.Now().Before(end); {
			pkt := l.rtp.recv(time.Second)
			if pkt == nil || pkt.PayloadType != 0 {
				continue
			}
			for _, b := range pkt.Payload {
				pcm = append(pcm, media.UlawDecode(b))
			}
			if len(pcm) >= 800 {
				frame := pcm[len(pcm)-800:]
				if media.Goertzel(frame, 1000) > 10*media.Goertzel(frame, 600) && media.Goertzel(frame, 1000) > 1e6 {
					heard <- true
					return
				}
			}
		}
		heard <- false
	}()
	go func() { // keep the RTP path open while waiting for the prompt
		for i := range 10 {
			l.rtp.send(t, make([]byte, 160))
			_ = i
			time.Sleep(20 * time.Millisecond)
		}
		for _, d := range []byte("4321#") {
			sendDigit(t, l.rtp, d)
		}
	}()
	if !<-heard {
		t.Fatal("*97 did not play the message's tone")
	}
	// Before the message, the count is spoken: "one", "new messages".
	prompts.mu.Lock()
	asked := strings.Join(prompts.languages, " ")
	prompts.mu.Unlock()
	if !strings.Contains(asked, switchboard.SysPromptDigit(1)+": "+switchboard.SysPromptVMNewMessages+":") {
		t.Fatalf("system prompts asked for: %s; want the count (digit-1) then vm-new-messages", asked)
	}
	waitNotify(t, bobPhone, "Voice-Message: 0/1")
	_ = l.dlg.Bye(context.Background())
	m, err := e.db.GetVoicemailMessage(ctx, e.account.ID, msgID)
	if err != nil || !m.Read {
		t.Fatalf("message after *97: %+v %v", m, err)
	}

	// A re-REGISTER gets the lamp's state again.
	bobPhone.register(e, "bob", "pw-bob")
	waitNotify(t, bobPhone, "Voice-Message: 0/1")
}

// subscribeMWI sends a message-summary SUBSCRIBE for the phone's own box.
func subscribeMWI(t *testing.T, e *env, u *ua, username, password string) {
	t.Helper()
	var recipient sip.Uri
	if err := sip.ParseUri("sip:"+username+"@"+e.sipAddr, &recipient); err != nil {
		t.Fatal(err)
	}
	req := sip.NewRequest(sip.SUBSCRIBE, recipient)
	req.AppendHeader(sip.NewHeader("Contact", "<sip:"+username+"@"+u.addr+">"))
	req.AppendHeader(sip.NewHeader("Event", "message-summary"))
	req.AppendHeader(sip.NewHeader("Accept", "application/simple-message-summary"))
	req.AppendHeader(sip.NewHeader("Expires", "600"))
	ctx, cancel := context.WithTimeout(context.Background(), tstest.DefaultWait)
	defer cancel()
	res, err := u.cli.Do(ctx, req, sipgo.ClientRequestBuild)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode == 401 {
		res, err = u.cli.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: username, Password: password})
		if err != nil {
			t.Fatal(err)
		}
	}
	if res.StatusCode != 200 {
		t.Fatalf("SUBSCRIBE message-summary: %d %s", res.StatusCode, res.Reason)
	}
}

// A user on do not disturb sends callers straight to voicemail; a message under a second
// is discarded; a full box takes none (the caller hears the box full tone and the call
// ends); three wrong PINs on *97 hang up without playing anything.
func TestVoicemailDNDShortFullAndWrongPIN(t *testing.T) {
	e, svc, _ := vmEnv(t)
	alice := e.user("1001", func(u *switchboard.User) { u.VoicemailEnabled = true })
	bob := e.user("1002", func(u *switchboard.User) { u.VoicemailEnabled = true; u.DoNotDisturb = true })
	e.device(alice, "alice", "pw-alice")
	e.device(bob, "bob", "pw-bob")
	ctx := context.Background()
	box, err := svc.UserVoicemailBox(ctx, e.account.ID, bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	alicePhone := newUA(t, "127.0.0.1", "alice")
	alicePhone.register(e, "alice", "pw-alice")
	count := func() int {
		c, err := e.db.VoicemailCounts(ctx, e.account.ID, box.ID)
		if err != nil {
			t.Fatal(err)
		}
		return c.New + c.Old
	}
	leave := func(frames int) {
		t.Helper()
		c := alicePhone.dial(e, "1002", "alice", "pw-alice")
		c.answered(t) // DND: answered by voicemail without ringing bob
		waitBeep(t, c.rtp)
		for i := range frames {
			c.rtp.send(t, tone1k(i))
			time.Sleep(20 * time.Millisecond)
		}
		_ = c.dlg.Bye(context.Background())
		e.waitIdle()
	}
	leave(35) // 0.7 s after the beep
	if n := count(); n != 0 {
		t.Fatalf("a message under a second was kept (%d)", n)
	}
	leave(150)
	if n := count(); n != 1 {
		t.Fatalf("messages after one left: %d", n)
	}
	one := 1
	if _, err := svc.UpdateVoicemailBox(ctx, e.account.ID, box.ID, switchboard.VoicemailBoxChange{MaxMessages: &one}); err != nil {
		t.Fatal(err)
	}
	c := alicePhone.dial(e, "1002", "alice", "pw-alice")
	c.answered(t)
	ended := make(chan struct{})
	go func() {
		for i := 0; ; i++ {
			select {
			case <-c.dlg.Context().Done():
				close(ended)
				return
			case <-time.After(20 * time.Millisecond):
				c.rtp.send(t, tone1k(i))
			}
		}
	}()
	select {
	case <-ended: // the PBX hung up after the box full tone
	case <-time.After(tstest.DefaultWait):
		t.Fatal("a full box did not end the call")
	}
	if n := count(); n != 1 {
		t.Fatalf("a full box took a message: %d", n)
	}

	// Three wrong PINs: the PBX hangs up, the message stays unread.
	pin := "4321"
	if _, err := svc.UpdateVoicemailBox(ctx, e.account.ID, box.ID, switchboard.VoicemailBoxChange{PIN: &pin}); err != nil {
		t.Fatal(err)
	}
	bobPhone := newUA(t, "127.0.0.1", "bob")
	l := bobPhone.dial(e, "*97", "bob", "pw-bob")
	l.answered(t)
	for range 3 {
		for _, d := range []byte("1111#") {
			sendDigit(t, l.rtp, d)
		}
	}
	select {
	case <-l.dlg.Context().Done():
	case <-time.After(tstest.DefaultWait):
		t.Fatal("three wrong PINs did not end the call")
	}
	if c, _ := e.db.VoicemailCounts(ctx, e.account.ID, box.ID); c.New != 1 {
		t.Fatalf("counts after wrong PINs: %+v", c)
	}
}

// waitBeep reads what the PBX sends until the 1400 Hz beep has been heard, and then its end.
func waitBeep(t *testing.T, p *rtpPeer) {
	t.Helper()
	heard := false
	for end := time.Now().Add(tstest.DefaultWait); time.Now().Before(end); {
		pkt := p.recv(time.Second)
		if pkt == nil || pkt.PayloadType != 0 {
			continue
		}
		pcm := make([]int16, len(pkt.Payload))
		for i, b := range pkt.Payload {
			pcm[i] = media.UlawDecode(b)
		}
		beep := media.Goertzel(pcm, 1400) > 1e6
		if heard && !beep {
			return
		}
		heard = heard || beep
	}
	t.Fatal("no beep")
}

// Bob records his greeting by phone: *97, 0 at the box's options (there are no messages),
// his 1 kHz tone after the beep, then '#'. The box's greeting is now his recording, and
// alice, calling bob on do not disturb, hears the 1 kHz greeting before the beep instead
// of the default one.
func TestVoicemailGreetingRecordedByPhone(t *testing.T) {
	e, svc, _ := vmEnv(t)
	alice := e.user("1001", func(u *switchboard.User) { u.VoicemailEnabled = true })
	bob := e.user("1002", func(u *switchboard.User) { u.VoicemailEnabled = true; u.DoNotDisturb = true })
	e.device(alice, "alice", "pw-alice")
	e.device(bob, "bob", "pw-bob")
	ctx := context.Background()
	bobPhone := newUA(t, "127.0.0.1", "bob")
	bobPhone.register(e, "bob", "pw-bob")

	l := bobPhone.dial(e, "*97", "bob", "pw-bob")
	l.answered(t)
	for range 25 { // half a second of silence while the options are offered
		l.rtp.send(t, bytes.Repeat([]byte{0xff}, 160))
		time.Sleep(20 * time.Millisecond)
	}
	sendDigit(t, l.rtp, '0')
	waitBeep(t, l.rtp)
	for i := range 100 { // two seconds of 1 kHz
		l.rtp.send(t, tone1k(i))
		time.Sleep(20 * time.Millisecond)
	}
	sendDigit(t, l.rtp, '#')
	var box *switchboard.VoicemailBox
	tstest.WaitFor(t, "bob's box to have his recorded greeting", func() bool {
		b, err := svc.UserVoicemailBox(ctx, e.account.ID, bob.ID)
		box = b
		return err == nil && b.GreetingKey != ""
	})
	greeting, err := svc.VoicemailGreeting(ctx, box)
	if err != nil {
		t.Fatal(err)
	}
	if len(greeting) < media.SampleRate || media.Goertzel(greeting[:4000], 1000) < 10*media.Goertzel(greeting[:4000], 1400) {
		t.Fatalf("the recorded greeting does not hold bob's 1 kHz tone (%d samples)", len(greeting))
	}
	_ = l.dlg.Bye(ctx)
	e.waitIdle()

	alicePhone := newUA(t, "127.0.0.1", "alice")
	alicePhone.register(e, "alice", "pw-alice")
	c := alicePhone.dial(e, "1002", "alice", "pw-alice")
	c.answered(t)
	var pcm []int16
	for end := time.Now().Add(tstest.DefaultWait); time.Now().Before(end); {
		pkt := c.rtp.recv(time.Second)
		if pkt == nil || pkt.PayloadType != 0 {
			continue
		}
		frame := make([]int16, len(pkt.Payload))
		for i, b := range pkt.Payload {
			frame[i] = media.UlawDecode(b)
		}
		if media.Goertzel(frame, 1400) > 1e6 { // the beep after the greeting
			break
		}
		pcm = append(pcm, frame...)
	}
	if len(pcm) < media.SampleRate || media.Goertzel(pcm, 1000) < 10*media.Goertzel(pcm, 523) {
		t.Fatalf("alice did not hear bob's recorded greeting before the beep (%d samples)", len(pcm))
	}
	_ = c.dlg.Bye(ctx)
}

// fullDiskBlobs is a blob store whose disk is full: every write fails as the kernel says so
// (a full disk cannot be made here; reads work).
type fullDiskBlobs struct{ switchboard.BlobStore }

func (fullDiskBlobs) Put(context.Context, string, io.Reader) (int64, error) {
	return 0, switchboard.Errorf(switchboard.EINTERNAL, "write: no space left on device")
}

// A message that cannot be stored (the disk is full) is not lost silently: the caller
// hears that the box cannot take it (the box-full tone, not the goodbye), the call ends
// cleanly, and nothing is stored or announced.
func TestVoicemailFullDiskTellsTheCaller(t *testing.T) {
	e := newEnv(t)
	dir, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	svc := provision.New(provision.Config{Store: e.db, Blobs: fullDiskBlobs{dir}})
	e.eng.SetVoicemail(pbx.VoicemailConfig{Service: svc, Store: e.db})
	alice := e.user("1001", func(u *switchboard.User) { u.VoicemailEnabled = true })
	bob := e.user("1002", func(u *switchboard.User) { u.VoicemailEnabled = true; u.DoNotDisturb = true })
	e.device(alice, "alice", "pw-alice")
	e.device(bob, "bob", "pw-bob")
	alicePhone := newUA(t, "127.0.0.1", "alice")
	alicePhone.register(e, "alice", "pw-alice")
	c := alicePhone.dial(e, "1002", "alice", "pw-alice")
	c.answered(t)
	waitBeep(t, c.rtp)
	for i := range 100 {
		c.rtp.send(t, tone1k(i))
		time.Sleep(20 * time.Millisecond)
	}
	sendDigit(t, c.rtp, '#')
	heard := false
	for end := time.Now().Add(tstest.DefaultWait); !heard && time.Now().Before(end); {
		pkt := c.rtp.recv(time.Second)
		if pkt == nil || pkt.PayloadType != 0 {
			continue
		}
		pcm := media.DecodeFrame(nil, media.PCMU, pkt.Payload)
		heard = media.Goertzel(pcm, 950) > 1e6
	}
	if !heard {
		t.Fatal("the caller did not hear that the message could not be taken (box-full tone)")
	}
	endedWithin(t, c.dlg.Context(), "the caller's call after the failed message")
	box, err := svc.UserVoicemailBox(context.Background(), e.account.ID, bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := e.db.VoicemailCounts(context.Background(), e.account.ID, box.ID); n.New+n.Old != 0 {
		t.Fatalf("a message was stored on a full disk: %+v", n)
	}
	for _, ev := range e.accountEvents() {
		if ev.Name == switchboard.EventVoicemailLeft {
			t.Fatal("voicemail.left for a message that was not stored")
		}
	}
}
