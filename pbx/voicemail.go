package pbx

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"sync"
	"time"

	"switchboard"
	"switchboard/events"
	"switchboard/media"
)

// Voicemail in the engine: a direct call to a user goes to their box when the user does
// not answer, is busy, on do not disturb or offline (as the box's settings say); the
// caller hears the greeting and a beep and is recorded until '#', 4 s of silence, the
// box's maximum length or their hangup. *97 (own box) and *98 (any box: extension then
// PIN) listen to messages by phone (voicemail_access.go). docs/voicemail.md has the
// key map and the tones.

// VoicemailConfig is what the engine needs for voicemail; without it (SetVoicemail) calls
// are never sent to voicemail and *97/*98 answer 503.
type VoicemailConfig struct {
	Service switchboard.VoicemailService
	Store   switchboard.VoicemailStore
	Links   *switchboard.VoicemailLinks
}

// voicemailState is the engine's voicemail configuration and the PIN failure counts.
type voicemailState struct {
	mu       sync.Mutex
	cfg      VoicemailConfig
	pinFails map[int64][]time.Time // by box id: calls that ended after three wrong PINs
}

// SetVoicemail gives the engine the voicemail service; call it before the SIP server runs.
func (e *Engine) SetVoicemail(cfg VoicemailConfig) {
	e.vm.mu.Lock()
	e.vm.cfg = cfg
	e.vm.mu.Unlock()
}

func (e *Engine) voicemail() VoicemailConfig {
	e.vm.mu.Lock()
	defer e.vm.mu.Unlock()
	return e.vm.cfg
}

// Why a call goes to voicemail.
type voicemailReason int

const (
	vmOnNoAnswer voicemailReason = iota + 1 // ring first; voicemail if nobody answers
	vmNow                                   // busy, do not disturb or offline: straight to the box
)

// voicemailPlan is the voicemail part of a plan: the box a direct call falls back to, or
// the call flow (flowID) the user has for their unanswered calls instead of the box.
type voicemailPlan struct {
	reason voicemailReason
	user   *switchboard.User
	box    *switchboard.VoicemailBox
	flowID int64
}

// userBox returns u's box when u has voicemail enabled and the engine has voicemail.
func (e *Engine) userBox(ctx context.Context, u *switchboard.User) *switchboard.VoicemailBox {
	vm := e.voicemail()
	if vm.Service == nil || !u.VoicemailEnabled {
		return nil
	}
	b, err := vm.Service.UserVoicemailBox(ctx, u.AccountID, u.ID)
	if err != nil {
		e.log.Warn("reading a voicemail box failed", "user_id", u.ID, "error", err)
		return nil
	}
	return b
}

// planUserOrVoicemail is planUser for a direct call to user u (an extension dialled, a
// number whose target is u): where u takes no call now (busy, do not disturb, offline) and
// their box says so, the plan goes straight to voicemail; where u's phones ring and the box
// takes unanswered calls, the plan keeps the box for a no answer or busy outcome.
func (e *Engine) planUserOrVoicemail(ctx context.Context, p *plan, u *switchboard.User, fromUser, fromName string) error {
	err := e.planUser(ctx, p, u, fromUser, fromName)
	var r *refusal
	if err != nil && !errors.As(err, &r) {
		return err
	}
	if u.ForwardEnabled && u.ForwardNumber != "" {
		return err // a forwarded user's calls follow the forward, not the box
	}
	if u.UnansweredCallFlowID != 0 { // the user's flow takes every unanswered outcome
		if err == nil {
			p.voicemail = &voicemailPlan{reason: vmOnNoAnswer, user: u, flowID: u.UnansweredCallFlowID}
			return nil
		}
		p.voicemail = &voicemailPlan{reason: vmNow, user: u, flowID: u.UnansweredCallFlowID}
		if p.destUsers == nil {
			p.destUsers = map[int64]*switchboard.User{}
		}
		p.destUsers[u.ID] = u
		return nil
	}
	box := e.userBox(ctx, u)
	if box == nil {
		return err
	}
	if err == nil {
		if box.OnNoAnswer || box.OnBusy {
			p.voicemail = &voicemailPlan{reason: vmOnNoAnswer, user: u, box: box}
		}
		return nil
	}
	var applies bool
	switch {
	case r.code == 486 && u.DoNotDisturb:
		applies = box.OnDND
	case r.code == 486:
		applies = box.OnBusy
	case r.code == 480:
		applies = box.OnOffline
	}
	if !applies {
		return err
	}
	p.voicemail = &voicemailPlan{reason: vmNow, user: u, box: box}
	if p.destUsers == nil {
		p.destUsers = map[int64]*switchboard.User{}
	}
	p.destUsers[u.ID] = u
	return nil
}

// voicemailInstead sends a call whose ringing ended without an answer (d: no answer or
// busy) to the plan's box, when the box takes that outcome, and runs it to its end
// (true). The caller's INVITE has no final response yet.
func (c *call) voicemailInstead(a *leg, answer []byte, p *plan, d switchboard.CallDisposition) bool {
	vp := p.voicemail
	if vp == nil || a.ended() || c.hangingUp() {
		return false
	}
	if vp.flowID != 0 {
		if d != switchboard.DispositionNoAnswer && d != switchboard.DispositionBusy {
			return false
		}
		c.runFlow(&callerState{a: a, answer: answer, p: p}, vp.flowID)
		return true
	}
	if !(d == switchboard.DispositionNoAnswer && vp.box.OnNoAnswer || d == switchboard.DispositionBusy && vp.box.OnBusy) {
		return false
	}
	c.runVoicemail(&callerState{a: a, answer: answer, p: p}, vp.box.ID)
	return true
}

// runVoicemailNow runs a call planned straight to voicemail (vmNow) from its start.
func (c *call) runVoicemailNow(a *leg, answer []byte, p *plan) {
	defer c.e.wg.Done()
	if !c.begin(a) {
		return
	}
	st := &callerState{a: a, answer: answer, p: p}
	if p.voicemail.flowID != 0 {
		c.runFlow(st, p.voicemail.flowID)
		return
	}
	c.runVoicemail(st, p.voicemail.box.ID)
}

// Recording limits and thresholds.
const (
	vmSilence        = 4 * time.Second // this much silence ends a message
	vmSilenceLevel   = 300             // RMS of a 20 ms frame below which it is silence (about -40 dBFS)
	vmMinMessage     = time.Second     // shorter messages are discarded
	vmKeyWait        = 5 * time.Second // how long menus wait for a key
	vmMaxPINAttempts = 3
)

// runVoicemail takes a message for box boxID from the caller of st and ends the call: the
// caller is answered (unless a queue did), hears the greeting and the beep, and is recorded
// until '#', silence, the box's maximum length or their hangup. A message under a second is
// discarded. A full box plays the box full tone instead. Call flows (a voicemail node) call
// this too. The call's record ends as no_answer: no user answered it.
func (c *call) runVoicemail(st *callerState, boxID int64) {
	e := c.e
	vm := e.voicemail()
	if vm.Service == nil || vm.Store == nil {
		c.endUnanswered(st, switchboard.DispositionNoAnswer, 480, "Temporarily Unavailable")
		return
	}
	c.stopMOH(st)
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	box, err := vm.Store.GetVoicemailBox(ctx, c.accountID, boxID)
	var u *switchboard.User
	var counts switchboard.VoicemailCounts
	if err == nil && box.UserID != 0 {
		u, err = e.store.GetUser(ctx, c.accountID, box.UserID)
	}
	if err == nil {
		counts, err = vm.Store.VoicemailCounts(ctx, c.accountID, boxID)
	}
	cancel()
	if err != nil {
		e.log.Error("voicemail: reading the box failed", "uniqueid", c.id, "box_id", boxID, "error", err)
		c.endUnanswered(st, switchboard.DispositionFailed, 480, "Temporarily Unavailable")
		return
	}
	if !c.answerCaller(st) {
		c.finish(switchboard.DispositionFailed)
		return
	}
	a := st.a
	if counts.New+counts.Old >= box.MaxMessages {
		e.log.Info("voicemail: box full", "uniqueid", c.id, "box_id", boxID)
		c.prompt(a, switchboard.SysPromptVMBoxFull, vmBoxFullTone)
		c.finish(switchboard.DispositionNoAnswer)
		return
	}
	ctx, cancel = context.WithTimeout(context.Background(), lookupTimeout)
	greeting, err := vm.Service.VoicemailGreeting(ctx, box)
	cancel()
	if err != nil {
		e.log.Warn("voicemail: the box's greeting cannot be read; playing the default", "box_id", boxID, "error", err)
	}
	if len(greeting) > 0 {
		_ = a.media.Play(a.ctx(), media.PCM(greeting))
	} else {
		c.prompt(a, switchboard.SysPromptVMGreetingDefault, vmGreetingTone)
	}
	_ = a.media.Play(a.ctx(), media.PCM(vmBeep()))
	samples := c.recordMessage(a, time.Duration(box.MaxMessageSeconds)*time.Second)
	length := time.Duration(len(samples)) * time.Second / media.SampleRate
	if length < vmMinMessage {
		e.log.Info("voicemail: message under a second discarded", "uniqueid", c.id, "box_id", boxID)
		c.finish(switchboard.DispositionNoAnswer)
		return
	}
	m := &switchboard.VoicemailMessage{AccountID: c.accountID, BoxID: boxID, CallID: c.id, From: c.from,
		CallerName: c.callerName, DurationMS: int(length / time.Millisecond)}
	ctx, cancel = context.WithTimeout(context.Background(), storeTimeout)
	err = vm.Service.LeaveVoicemail(ctx, m, wavFile(samples), func(m *switchboard.VoicemailMessage) *switchboard.Event {
		extra := map[string]any{events.FieldDuration: int(math.Round(length.Seconds())),
			events.FieldVoicemailID: m.ID, events.FieldVoicemailBoxID: m.BoxID}
		if vm.Links != nil {
			extra[events.FieldRecordingURL] = vm.Links.URL(m.AccountID, m.ID, e.now())
		}
		return c.event(switchboard.EventVoicemailLeft, u, extra)
	})
	cancel()
	switch {
	case switchboard.ErrorCode(err) == switchboard.ECONFLICT:
		c.prompt(a, switchboard.SysPromptVMBoxFull, vmBoxFullTone) // filled up while recording
	case err != nil:
		// The disk is full or the store is down: the caller must not think the message was
		// taken. They hear that the box cannot take it, and the call ends as usual.
		e.log.Error("voicemail: storing the message failed", "uniqueid", c.id, "box_id", boxID, "error", err)
		c.prompt(a, switchboard.SysPromptVMBoxFull, vmBoxFullTone)
	default:
		c.prompt(a, switchboard.SysPromptGoodbye, vmGoodbyeTone)
	}
	c.finish(switchboard.DispositionNoAnswer)
}

// recordMessage records what a's remote sends until '#', vmSilence of silence (trimmed),
// max, a's hangup or the call's end, and returns it as 8 kHz PCM.
func (c *call) recordMessage(a *leg, max time.Duration) []int16 {
	limit := int(max / time.Second * media.SampleRate)
	var mu sync.Mutex
	var buf []int16
	silent := 0
	done := make(chan struct{})
	var once sync.Once
	stop := a.media.Listen(func(s []int16) {
		mu.Lock()
		defer mu.Unlock()
		if len(buf) >= limit {
			once.Do(func() { close(done) })
			return
		}
		buf = append(buf, s[:min(len(s), limit-len(buf))]...)
		if rms(s) < vmSilenceLevel {
			silent += len(s)
		} else {
			silent = 0
		}
		if silent >= int(vmSilence/time.Second*media.SampleRate) {
			once.Do(func() { close(done) })
		}
	})
	// A phone that sends no RTP at all is stopped by the maximum length on the clock.
	deadline := time.NewTimer(max + vmSilence)
	defer deadline.Stop()
	keys := a.keys()
wait:
	for {
		select {
		case <-done:
			break wait
		case <-a.ctx().Done():
			break wait
		case <-c.hangupC:
			break wait
		case <-deadline.C:
			break wait
		case d, ok := <-keys:
			if !ok || d == '#' {
				break wait
			}
		}
	}
	stop()
	mu.Lock()
	defer mu.Unlock()
	return buf[:len(buf)-min(silent, len(buf))]
}

// rms is the root mean square of a frame.
func rms(s []int16) float64 {
	if len(s) == 0 {
		return 0
	}
	var sum float64
	for _, v := range s {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(len(s)))
}

// wavFile is samples as a WAV file: 8 kHz, 16-bit, mono PCM.
func wavFile(samples []int16) []byte {
	var b bytes.Buffer
	data := uint32(2 * len(samples))
	b.WriteString("RIFF")
	_ = binary.Write(&b, binary.LittleEndian, 36+data)
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(media.SampleRate),
		uint32(2 * media.SampleRate), uint16(2), uint16(16)} {
		_ = binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	_ = binary.Write(&b, binary.LittleEndian, data)
	_ = binary.Write(&b, binary.LittleEndian, samples)
	return b.Bytes()
}

// The voicemail tones (docs/voicemail.md). None uses 1 kHz, the test callers' tone.
const vmLevel = 4000

var (
	vmGreetingTone = sync.OnceValue(func() []int16 {
		return tones(vmLevel, toneStep{523, 150}, toneStep{659, 150}, toneStep{784, 300}, toneStep{0, 200})
	})
	vmBeep         = sync.OnceValue(func() []int16 { return tones(vmLevel, toneStep{1400, 250}) })
	vmBoxFullTone  = sync.OnceValue(func() []int16 { return tones(vmLevel, toneStep{950, 330}, toneStep{1400, 330}, toneStep{1800, 330}) })
	vmGoodbyeTone  = sync.OnceValue(func() []int16 { return tones(vmLevel, toneStep{784, 150}, toneStep{523, 300}) })
	vmEnterPINTone = sync.OnceValue(func() []int16 { return tones(vmLevel, toneStep{660, 200}) })
	vmWrongPINTone = sync.OnceValue(func() []int16 { return tones(vmLevel, toneStep{400, 150}, toneStep{0, 50}, toneStep{400, 150}) })
	vmCountPip     = sync.OnceValue(func() []int16 { return tones(vmLevel, toneStep{600, 120}, toneStep{0, 120}) })
	vmMenuTone     = sync.OnceValue(func() []int16 { return tones(vmLevel, toneStep{0, 200}, toneStep{880, 100}) })
)

// MessageSummary gives the SIP server a user's voicemail counts for the lamp
// (sip.Server.SetMessageSummary): has is false for a user without voicemail.
func (e *Engine) MessageSummary(ctx context.Context, accountID, userID int64) (switchboard.VoicemailCounts, bool, error) {
	vm := e.voicemail()
	if vm.Store == nil {
		return switchboard.VoicemailCounts{}, false, nil
	}
	b, err := vm.Store.GetUserVoicemailBox(ctx, accountID, userID)
	if switchboard.ErrorCode(err) == switchboard.ENOTFOUND {
		return switchboard.VoicemailCounts{}, false, nil
	}
	if err != nil {
		return switchboard.VoicemailCounts{}, false, err
	}
	c, err := vm.Store.VoicemailCounts(ctx, accountID, b.ID)
	return c, err == nil, err
}

// prompt plays the system prompt name to a in the call's language, or tone where none
// can be read (Engine.systemPrompt).
func (c *call) prompt(a *leg, name string, tone func() []int16) {
	ctx, cancel := context.WithTimeout(a.ctx(), lookupTimeout)
	pcm := c.e.systemPrompt(ctx, c.accountID, name, c.language, tone)
	cancel()
	_ = a.media.Play(a.ctx(), media.PCM(pcm))
}
