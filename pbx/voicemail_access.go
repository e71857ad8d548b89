package pbx

import (
	"bytes"
	"context"
	"strconv"
	"time"

	"switchboard"
	"switchboard/media"
)

// Listening by phone. *97 opens the caller's own box, *98 asks for a box's extension
// first (then '#'). A box with a PIN asks for it (digits then '#') every time, from the
// user's own phone too: a phone on a desk is not its owner. Three wrong PINs end the call,
// and every such call is counted against the box: after vmPINLockCalls of them within
// vmPINLockWindow the box refuses phone access until the window has passed (the API still
// works). Then the count of new messages is played as pips, and each message, new ones
// first:
//
//	1 play again   7 delete   9 save (keep, read)   # next   * exit
//
// A message played is marked read (voicemail.read, the lamp goes out when none is new).
// After the last message (or none) the box offers its options: 0 records the box's
// greeting, which callers then hear instead of the default one.

// The voicemail access feature codes.
const (
	codeOwnVoicemail = "*97"
	codeAnyVoicemail = "*98"
)

// Brute force guard of phone PINs.
const (
	vmPINLockCalls  = 3
	vmPINLockWindow = time.Hour
)

// vmMaxGreeting bounds a greeting recorded by phone.
const vmMaxGreeting = 60 * time.Second

// routeVoicemailCode plans *97 and *98 (false for another code).
func routeVoicemailCode(p *plan, dialled string) bool {
	if dialled != codeOwnVoicemail && dialled != codeAnyVoicemail {
		return false
	}
	p.voicemailAccess = dialled
	return true
}

// runVoicemailAccess runs *97 or *98 for the caller's leg a. Like a feature code it leaves
// no call record.
func (c *call) runVoicemailAccess(a *leg, answer []byte, p *plan) {
	defer c.e.wg.Done()
	defer a.close()
	vm := c.e.voicemail()
	if vm.Service == nil || vm.Store == nil {
		a.reject(503, "Service Unavailable: voicemail is not configured")
		return
	}
	if err := c.answerCallerAndAwaitAck(a, answer, nil); err != nil {
		return
	}
	defer a.hangup()
	var box *switchboard.VoicemailBox
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	if p.voicemailAccess == codeOwnVoicemail {
		box, _ = vm.Service.UserVoicemailBox(ctx, p.user.AccountID, p.user.ID)
	} else {
		cancel()
		// No system prompt asks for a mailbox: the tone asks for the extension.
		_ = a.media.Play(a.ctx(), media.PCM(vmEnterPINTone()))
		ext := c.collectDigits(a)
		ctx, cancel = context.WithTimeout(context.Background(), lookupTimeout)
		if u, err := c.e.store.GetUserByExtension(ctx, p.user.AccountID, ext); err == nil {
			box, _ = vm.Service.UserVoicemailBox(ctx, u.AccountID, u.ID)
		}
	}
	cancel()
	// A box that does not exist asks for a PIN all the same: *98 tells nobody which
	// extensions have boxes.
	if box == nil || box.PINHash != "" {
		if box != nil && c.e.pinLocked(box.ID) {
			c.e.log.Warn("voicemail: phone access refused, too many wrong PINs", "box_id", box.ID)
			c.prompt(a, switchboard.SysPromptPINInvalid, vmWrongPINTone)
			return
		}
		ok := false
		for range vmMaxPINAttempts {
			c.prompt(a, switchboard.SysPromptEnterPIN, vmEnterPINTone)
			pin := c.collectDigits(a)
			if a.ended() {
				return
			}
			if box != nil && box.CheckPIN(pin) {
				ok = true
				break
			}
			c.prompt(a, switchboard.SysPromptPINInvalid, vmWrongPINTone)
		}
		if !ok {
			if box != nil {
				c.e.countPINFailure(box.ID)
				c.e.log.Warn("voicemail: three wrong PINs", "account_id", box.AccountID, "box_id", box.ID, "from", c.from)
			}
			return
		}
	}
	if c.listen(a, vm, box) {
		c.boxOptions(a, vm, box)
	}
	if !a.ended() {
		c.prompt(a, switchboard.SysPromptGoodbye, vmGoodbyeTone)
	}
}

// listen plays the count of new messages and then the messages, new ones first; false
// when the caller pressed * (exit) or left.
func (c *call) listen(a *leg, vm VoicemailConfig, box *switchboard.VoicemailBox) bool {
	unread, read := false, true
	var msgs []*switchboard.VoicemailMessage
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	for _, r := range []*bool{&unread, &read} {
		page, _, err := vm.Store.PageVoicemailMessages(ctx, box.AccountID,
			switchboard.VoicemailFilter{BoxID: box.ID, Read: r}, switchboard.Page{Limit: switchboard.MaxPageLimit})
		if err != nil {
			c.e.log.Error("voicemail: listing messages failed", "box_id", box.ID, "error", err)
		}
		msgs = append(msgs, page...)
		if r == &unread {
			c.sayNewMessages(a, len(page))
		}
	}
	cancel()
	for _, m := range msgs {
		if !c.playMessage(a, vm, m) {
			return false
		}
	}
	return !a.ended()
}

// boxOptions offers the box's options once: 0 records a new greeting after the beep,
// ended by '#' or silence, and makes it the box's greeting.
func (c *call) boxOptions(a *leg, vm VoicemailConfig, box *switchboard.VoicemailBox) {
	key, pressed := c.playUntilKey(a, c.speak(a, switchboard.SysPromptVMOptions, vmMenuTone))
	if !pressed {
		key, pressed = c.waitKey(a)
	}
	if !pressed || key != '0' {
		return
	}
	c.prompt(a, switchboard.SysPromptVMRecordGreeting, vmGreetingTone)
	_ = a.media.Play(a.ctx(), media.PCM(vmBeep()))
	samples := c.recordMessage(a, vmMaxGreeting)
	if a.ended() {
		return // a greeting cut off by a hang-up is not kept
	}
	if time.Duration(len(samples))*time.Second/media.SampleRate < vmMinMessage {
		c.prompt(a, switchboard.SysPromptInvalidOption, vmWrongPINTone)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	_, err := vm.Service.SetVoicemailGreeting(ctx, box.AccountID, box.ID,
		switchboard.MusicUpload{ContentType: "audio/wav", Body: bytes.NewReader(wavFile(samples))})
	cancel()
	if err != nil {
		c.e.log.Error("voicemail: storing a greeting recorded by phone failed", "box_id", box.ID, "error", err)
		c.prompt(a, switchboard.SysPromptInvalidOption, vmWrongPINTone)
		return
	}
	c.e.log.Info("voicemail: greeting recorded by phone", "box_id", box.ID, "seconds", len(samples)/media.SampleRate)
	c.prompt(a, switchboard.SysPromptVMGreetingSaved, vmGoodbyeTone)
}

// sayNewMessages tells the caller how many new messages there are: the number's digits
// and "new messages" (or "no new messages") from the prompt library, or one pip per new
// message without one.
func (c *call) sayNewMessages(a *leg, n int) {
	if c.e.promptLibrary() == nil {
		for range n {
			_ = a.media.Play(a.ctx(), media.PCM(vmCountPip()))
		}
		return
	}
	if n == 0 {
		c.prompt(a, switchboard.SysPromptVMNoMessages, silence)
		return
	}
	for _, d := range strconv.Itoa(n) {
		c.prompt(a, switchboard.SysPromptDigit(int(d-'0')), vmCountPip)
	}
	c.prompt(a, switchboard.SysPromptVMNewMessages, silence)
}

// playMessage plays one message and takes the keys after it; false means exit (or the
// caller left).
func (c *call) playMessage(a *leg, vm VoicemailConfig, m *switchboard.VoicemailMessage) bool {
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	_, f, _, err := vm.Service.OpenVoicemailAudio(ctx, m.AccountID, m.ID)
	cancel()
	if err != nil {
		c.e.log.Error("voicemail: opening a message failed", "voicemail_id", m.ID, "error", err)
		return true
	}
	samples, err := media.ReadWAV(f, time.Duration(switchboard.MaxVoicemailMaxSeconds+1)*time.Second)
	f.Close()
	if err != nil {
		c.e.log.Error("voicemail: reading a message failed", "voicemail_id", m.ID, "error", err)
		return true
	}
	for {
		key, pressed := c.playUntilKey(a, samples)
		if a.ended() {
			return false
		}
		if !m.Read && key != '7' {
			ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
			if _, err := vm.Service.MarkVoicemailRead(ctx, m.AccountID, m.ID); err == nil {
				m.Read = true
			}
			cancel()
		}
		if !pressed {
			key, pressed = c.playUntilKey(a, vmMenuTone())
			if !pressed {
				key, pressed = c.waitKey(a)
			}
		}
		switch {
		case !pressed:
			return !a.ended() // no key: the next message
		case key == '1':
			continue
		case key == '7':
			ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
			err := vm.Service.DeleteVoicemailMessage(ctx, m.AccountID, m.ID)
			cancel()
			if err != nil {
				c.e.log.Error("voicemail: deleting a message failed", "voicemail_id", m.ID, "error", err)
			}
			return true
		case key == '*':
			return false
		default: // 9 save, # next
			return true
		}
	}
}

// playUntilKey plays pcm to a until it ends or a key is pressed (the key, true).
func (c *call) playUntilKey(a *leg, pcm []int16) (media.Digit, bool) {
	ctx, cancel := context.WithCancel(a.ctx())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = a.media.Play(ctx, media.PCM(pcm))
	}()
	select {
	case d, ok := <-a.keys():
		cancel()
		<-done
		return d, ok
	case <-done:
		return 0, false
	}
}

// waitKey waits vmKeyWait for one key.
func (c *call) waitKey(a *leg) (media.Digit, bool) {
	t := time.NewTimer(vmKeyWait)
	defer t.Stop()
	select {
	case d, ok := <-a.keys():
		return d, ok
	case <-t.C:
	case <-a.ctx().Done():
	}
	return 0, false
}

// collectDigits reads keys until '#', 10 digits, or vmKeyWait without a key.
func (c *call) collectDigits(a *leg) string {
	var out []byte
	for len(out) < 10 {
		d, ok := c.waitKey(a)
		if !ok || d == '#' {
			break
		}
		out = append(out, byte(d))
	}
	return string(out)
}

// countPINFailure counts a call that ended after three wrong PINs for the box.
func (e *Engine) countPINFailure(boxID int64) {
	e.vm.mu.Lock()
	defer e.vm.mu.Unlock()
	if e.vm.pinFails == nil {
		e.vm.pinFails = map[int64][]time.Time{}
	}
	e.vm.pinFails[boxID] = append(recentFails(e.vm.pinFails[boxID], e.now()), e.now())
}

// pinLocked reports whether the box refuses phone access after too many failed calls.
func (e *Engine) pinLocked(boxID int64) bool {
	e.vm.mu.Lock()
	defer e.vm.mu.Unlock()
	fails := recentFails(e.vm.pinFails[boxID], e.now())
	if len(fails) == 0 {
		delete(e.vm.pinFails, boxID)
	} else {
		e.vm.pinFails[boxID] = fails
	}
	return len(fails) >= vmPINLockCalls
}

func recentFails(fails []time.Time, now time.Time) []time.Time {
	kept := fails[:0]
	for _, t := range fails {
		if now.Sub(t) < vmPINLockWindow {
			kept = append(kept, t)
		}
	}
	return kept
}
