package pbx

import (
	"context"
	"sync"

	"switchboard"
	"switchboard/events"
	"switchboard/media"
	"switchboard/recording"
)

// Call recording. When a call is answered the engine decides from the recording policies
// whether to record it (recordingWanted); the API can start, stop, pause and resume a
// recording while the call runs (ControlCallRecording). A recording is a media.Recorder
// writing a two-channel WAV into the recording service's writer as the call goes: the left
// channel hears the caller's leg (c.a when the recording starts), the right one the other
// party. A transfer re-bridges the call (call.bridge): the party who stays keeps its
// channel, the one who joins takes the channel of the one who left, and hears the consent
// announcement. A pause is the recorder's and so lasts across transfers and holds. When
// the call ends, the recording is completed (recording.available); a write failure (a full
// disk) fails it at once (recording.failed) and the call goes on unrecorded.

// RecordingService stores recordings: recording.Service.
type RecordingService interface {
	Begin(ctx context.Context, r *switchboard.Recording) (recording.RecordingWriter, error)
	Finish(ctx context.Context, id string, durationMs, pausedMs int64) error
	Fail(ctx context.Context, id, reason string) error
}

// SetRecordings gives the engine its recording service (nil: calls are not recorded, and
// recording requests are refused as unavailable). Call it before the SIP server runs.
func (e *Engine) SetRecordings(svc RecordingService) {
	e.usersMu.Lock()
	e.cfg.Recordings = svc
	e.usersMu.Unlock()
}

func (e *Engine) recordings() RecordingService {
	e.usersMu.Lock()
	defer e.usersMu.Unlock()
	return e.cfg.Recordings
}

var _ switchboard.CallRecorder = (*Engine)(nil)

// callRecording is a call's recording in progress.
type callRecording struct {
	c   *call
	id  string
	w   recording.RecordingWriter
	rec *media.Recorder
	// legs are the legs the left and right channels hear, under c.mu.
	legs [2]*leg
	// announced are the legs that heard the consent announcement (under recMu): a
	// transferor who gets the call back does not hear it again.
	announced map[*leg]bool
	once      sync.Once // ends it once: completed (end) or failed (fail)
}

// consentTone stands for a consent prompt that cannot be read: the recording warning
// beep (1400 Hz, half a second).
var consentTone = sync.OnceValue(func() []int16 { return tones(6000, toneStep{1400, 500}) })

// recordAnswered starts recording an answered call when a policy or the call's request
// (click-to-call's recording: true) asks for it. It runs in its own goroutine after the
// answer (markAnswered): the store reads and the file's creation do not delay the bridge.
func (c *call) recordAnswered() {
	if c.e.recordings() == nil {
		if c.recording {
			c.e.log.Warn("recording asked for but no recording storage is configured", "uniqueid", c.id)
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	defer cancel()
	want, err := c.recordingWanted(ctx)
	if err != nil {
		c.e.log.Error("reading the recording policies failed; the call is not recorded", "uniqueid", c.id, "error", err)
		return
	}
	if !want {
		return
	}
	if _, err := c.startRecording(ctx); err != nil && switchboard.ErrorCode(err) != switchboard.ECONFLICT {
		c.e.log.Error("starting a recording failed", "uniqueid", c.id, "error", err)
	}
}

// recordingWanted applies the recording policies to the call. A click-to-call asking for a
// recording is recorded. Otherwise the explicit policies of the call's users (the caller on
// an outbound call, the user who answered), its queue and its number are asked: the call
// is recorded when any of them covers it — so a queue or number recorded for compliance is
// recorded whatever the agent's own setting. Only when none of them says anything ("")
// does the account's default decide; an explicit "none" on the user or number is how a
// user or line opts out of the account's default.
func (c *call) recordingWanted(ctx context.Context) (bool, error) {
	if c.recording {
		return true, nil
	}
	c.mu.Lock()
	user, answeredBy, via := c.user, c.answeredBy, c.via
	c.mu.Unlock()
	explicit, want := false, false
	consider := func(policy, direction string) {
		if policy == "" {
			return
		}
		explicit = true
		want = want || switchboard.RecordingPolicyCovers(policy, direction)
	}
	if c.direction == switchboard.CallOutbound {
		if user != nil {
			consider(userRecordingPolicy(user), switchboard.CallOutbound)
		}
		if answeredBy != nil && (user == nil || answeredBy.ID != user.ID) {
			consider(userRecordingPolicy(answeredBy), switchboard.CallInbound) // an internal call's callee
		}
	} else if answeredBy != nil {
		consider(userRecordingPolicy(answeredBy), switchboard.CallInbound)
	} else if user != nil {
		consider(userRecordingPolicy(user), switchboard.CallInbound)
	}
	if qid, ok := via[events.FieldQueueID].(int64); ok && qid != 0 {
		q, err := c.e.store.GetQueue(ctx, c.accountID, qid)
		if err != nil && switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			return false, err
		}
		if q != nil {
			consider(queueRecordingPolicy(q), c.direction)
		}
	}
	if n, err := c.recordingNumber(ctx); err != nil {
		return false, err
	} else if n != nil {
		consider(numberRecordingPolicy(n), c.direction)
	}
	if want || explicit {
		return want, nil
	}
	a, err := c.e.store.GetAccount(ctx, c.accountID)
	if err != nil {
		return false, err
	}
	consider(accountRecordingPolicy(a), c.direction)
	return want, nil
}

// recordingNumber is the account's number the call came in on (inbound) or shows
// (outbound), if it is one of the account's.
func (c *call) recordingNumber(ctx context.Context) (*switchboard.Number, error) {
	if c.number == "" {
		return nil, nil
	}
	n, err := c.e.store.GetNumberByE164(ctx, c.number)
	if switchboard.ErrorCode(err) == switchboard.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if n.AccountID != c.accountID {
		return nil, nil
	}
	return n, nil
}

// consentPrompt is the audio of the call's consent announcement: the number's prompt, else
// the account's; nil when neither has one.
func (c *call) consentPrompt(ctx context.Context) []int16 {
	var id int64
	if n, err := c.recordingNumber(ctx); err == nil && n != nil {
		id = numberConsentPrompt(n)
	}
	if id == 0 {
		a, err := c.e.store.GetAccount(ctx, c.accountID)
		if err != nil {
			c.e.log.Warn("reading the account's consent announcement failed; playing the recording tone", "uniqueid", c.id, "error", err)
			return consentTone()
		}
		id = accountConsentPrompt(a)
	}
	if id == 0 {
		return nil
	}
	if lib := c.e.promptLibrary(); lib != nil {
		pcm, err := lib.Prompt(ctx, c.accountID, id)
		if err == nil && len(pcm) > 0 {
			return pcm
		}
		c.e.log.Warn("consent announcement unavailable; playing the recording tone", "uniqueid", c.id, "prompt_id", id, "error", err)
	}
	return consentTone()
}

// announceConsent plays the consent announcement (if the account or number has one) to
// the legs, side by side, without waiting.
func (c *call) announceConsent(legs ...*leg) {
	var targets []*leg
	for _, l := range legs {
		if l != nil {
			targets = append(targets, l)
		}
	}
	if len(targets) == 0 {
		return
	}
	c.e.goTracked(func() {
		ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
		pcm := c.consentPrompt(ctx)
		cancel()
		if pcm == nil {
			return
		}
		var wg sync.WaitGroup
		for _, l := range targets {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.playTo(l, pcm)
			}()
		}
		wg.Wait()
	})
}

// startRecording begins a recording of the answered call: left = c.a, right = c.b.
// ECONFLICT when it is being recorded already, is not bridged to a second party, or ended.
func (c *call) startRecording(ctx context.Context) (*callRecording, error) {
	svc := c.e.recordings()
	if svc == nil {
		return nil, switchboard.Errorf(switchboard.EUNAVAILABLE, "Call recording is not available: no recording storage is configured on this server")
	}
	c.recMu.Lock()
	defer c.recMu.Unlock()
	c.mu.Lock()
	a, b, finished, rec := c.a, c.b, c.finished, c.rec
	r := &switchboard.Recording{AccountID: c.accountID, CallID: c.id, Direction: c.direction}
	if c.user != nil {
		r.UserID = c.user.ID
	}
	if qid, ok := c.via[events.FieldQueueID].(int64); ok {
		r.QueueID = qid
	}
	c.mu.Unlock()
	switch {
	case finished || c.recEnded:
		return nil, switchboard.Errorf(switchboard.ECONFLICT, "The call %s has ended", c.id)
	case rec != nil:
		return nil, switchboard.Errorf(switchboard.ECONFLICT, "The call %s is being recorded already (%s)", c.id, rec.id)
	case a == nil || b == nil:
		return nil, switchboard.Errorf(switchboard.ECONFLICT, "The call %s is not connected to a second party: nothing to record", c.id)
	}
	r.StartedAt = c.e.now().UTC()
	w, err := svc.Begin(ctx, r)
	if err != nil {
		return nil, err
	}
	cr := &callRecording{c: c, id: r.ID, w: w}
	cr.rec, err = media.NewRecorder(media.RecorderConfig{Out: w, OnError: cr.writeFailed})
	if err != nil {
		w.Abort()
		cr.failWith(svc, "the recording could not be written: "+err.Error())
		return nil, switchboard.Errorf(switchboard.EINTERNAL, "The recording could not be written")
	}
	// Transfers wait for recMu to move the channels (recordingFollows), so the legs are
	// read again here, now that the recording is about to hear them.
	c.mu.Lock()
	a, b, finished = c.a, c.b, c.finished
	if !finished && a != nil && b != nil {
		c.rec = cr
		cr.legs = [2]*leg{a, b}
	}
	c.mu.Unlock()
	if finished || a == nil || b == nil {
		// The call ended (or a transfer took a party out) while the file was created.
		cr.once.Do(func() {
			_, _ = cr.rec.Close()
			w.Abort()
			cr.failWith(svc, "the call ended or was being transferred as the recording started")
		})
		return nil, switchboard.Errorf(switchboard.ECONFLICT, "The call %s changed as its recording started; try again", c.id)
	}
	_ = cr.rec.SetChannel(media.Left, a.media)
	_ = cr.rec.SetChannel(media.Right, b.media)
	c.e.log.Info("recording the call", "uniqueid", c.id, "recording_id", cr.id)
	cr.announced = map[*leg]bool{a: true, b: true}
	c.announceConsent(a, b)
	return cr, nil
}

// recordingFollows keeps the recording's channels on the parties after the call bridged x
// and y (a transfer's new party, a retrieved call): a party already recorded keeps its
// channel, the newcomer takes the other one and hears the consent announcement.
func (c *call) recordingFollows(x, y *leg) {
	c.recMu.Lock()
	defer c.recMu.Unlock()
	c.mu.Lock()
	cr := c.rec
	if cr == nil {
		c.mu.Unlock()
		return
	}
	old := cr.legs
	switch {
	case x == old[media.Left] || y == old[media.Right]:
		cr.legs = [2]*leg{x, y}
	case x == old[media.Right] || y == old[media.Left]:
		cr.legs = [2]*leg{y, x}
	default:
		cr.legs = [2]*leg{x, y}
	}
	legs := cr.legs
	c.mu.Unlock()
	var joined []*leg
	for ch, l := range legs {
		_ = cr.rec.SetChannel(ch, l.media)
		if !cr.announced[l] {
			cr.announced[l] = true
			joined = append(joined, l)
		}
	}
	c.announceConsent(joined...)
}

// recordingDrops stops recording leg l (a transferor taken out of the bridge): its channel
// is silent until a new party takes it.
func (c *call) recordingDrops(l *leg) {
	if l == nil {
		return
	}
	c.recMu.Lock()
	defer c.recMu.Unlock()
	c.mu.Lock()
	cr := c.rec
	ch := -1
	if cr != nil {
		for i, x := range cr.legs {
			if x == l {
				ch = i
				cr.legs[i] = nil
			}
		}
	}
	c.mu.Unlock()
	if ch >= 0 {
		_ = cr.rec.SetChannel(ch, nil)
	}
}

// takeRecording detaches the call's recording (nil if none) for ending it; ending, the
// call's last: no recording starts after it.
func (c *call) takeRecording(ending bool) *callRecording {
	c.recMu.Lock()
	defer c.recMu.Unlock()
	if ending {
		c.recEnded = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cr := c.rec
	c.rec = nil
	return cr
}

// endRecording completes the call's recording, if any, as the call ends, and returns the
// signed link to it for the call's ended event (VoxPria's call.completed "recording"): ""
// when there is none, it failed, or the service signs no links.
func (c *call) endRecording() string {
	cr := c.takeRecording(true)
	if cr == nil || !cr.end() {
		return ""
	}
	if links, ok := c.e.recordings().(interface{ URL(int64, string) string }); ok {
		return links.URL(c.accountID, cr.id)
	}
	return ""
}

// end completes the recording: the recorder writes what it holds, the writer stores the
// file, and the service marks it available (recording.available). A failure at any step
// fails it (recording.failed) instead. It reports whether the recording is available (false
// also when it had failed before).
func (cr *callRecording) end() (available bool) {
	cr.once.Do(func() {
		svc := cr.c.e.recordings()
		st, err := cr.rec.Close()
		if err != nil {
			cr.w.Abort()
			cr.failWith(svc, "writing the recording failed: "+err.Error())
			return
		}
		if _, err := cr.w.Commit(); err != nil {
			cr.failWith(svc, "storing the recording failed: "+err.Error())
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		defer cancel()
		if err := svc.Finish(ctx, cr.id, st.Duration.Milliseconds(), st.Paused.Milliseconds()); err != nil {
			// The row stays "recording": the service's Repair completes it at the next start.
			cr.c.e.log.Error("completing a recording failed", "uniqueid", cr.c.id, "recording_id", cr.id, "error", err)
			return
		}
		available = true
	})
	return available
}

// writeFailed is the recorder's OnError: the recording stops and fails (a full disk),
// the call goes on. It runs in the recorder's goroutine, which Close waits for: the
// failing is done in another.
func (cr *callRecording) writeFailed(err error) {
	c := cr.c
	c.e.log.Error("writing a recording failed; the call goes on unrecorded", "uniqueid", c.id, "recording_id", cr.id, "error", err)
	c.e.goTracked(func() { // once the engine stops, the call's end fails it (end)
		c.mu.Lock()
		if c.rec == cr {
			c.rec = nil
		}
		c.mu.Unlock()
		cr.once.Do(func() {
			_, _ = cr.rec.Close()
			cr.w.Abort()
			cr.failWith(c.e.recordings(), "writing the recording failed: "+err.Error())
		})
	})
}

// failWith marks the recording failed with the reason (recording.failed).
func (cr *callRecording) failWith(svc RecordingService, reason string) {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if err := svc.Fail(ctx, cr.id, reason); err != nil {
		cr.c.e.log.Error("storing a recording's failure failed", "uniqueid", cr.c.id, "recording_id", cr.id, "error", err)
	}
}

// ControlCallRecording starts, stops, pauses or resumes the recording of a call in
// progress (switchboard.CallRecorder).
func (e *Engine) ControlCallRecording(ctx context.Context, accountID int64, callID, action string) (*switchboard.CallRecordingState, error) {
	c := e.liveCall(accountID, callID)
	if c == nil {
		return nil, switchboard.Errorf(switchboard.ENOTFOUND, "No call %s in progress in this account (it may have ended)", callID)
	}
	if e.recordings() == nil {
		return nil, switchboard.Errorf(switchboard.EUNAVAILABLE, "Call recording is not available: no recording storage is configured on this server")
	}
	c.mu.Lock()
	finished, answered, cr := c.finished, !c.answered.IsZero(), c.rec
	c.mu.Unlock()
	if finished {
		return nil, switchboard.Errorf(switchboard.ECONFLICT, "The call %s has ended", callID)
	}
	st := &switchboard.CallRecordingState{CallID: callID}
	notRecording := func() error {
		return switchboard.Errorf(switchboard.ECONFLICT, "The call %s is not being recorded: start a recording first", callID)
	}
	switch action {
	case switchboard.RecordingActionStart:
		if !answered {
			return nil, switchboard.Errorf(switchboard.ECONFLICT, "The call %s is not answered yet", callID)
		}
		cr, err := c.startRecording(ctx)
		if err != nil {
			return nil, err
		}
		st.RecordingID, st.Status = cr.id, switchboard.CallRecordingRecording
	case switchboard.RecordingActionStop:
		cr = c.takeRecording(false)
		if cr == nil {
			return nil, notRecording()
		}
		cr.end()
		st.RecordingID, st.Status = cr.id, switchboard.CallRecordingStopped
	case switchboard.RecordingActionPause, switchboard.RecordingActionResume:
		if cr == nil {
			return nil, notRecording()
		}
		if action == switchboard.RecordingActionPause {
			cr.rec.Pause()
			st.Status = switchboard.CallRecordingPaused
		} else {
			cr.rec.Resume()
			st.Status = switchboard.CallRecordingRecording
		}
		st.RecordingID = cr.id
		e.log.Info("recording "+action+"d", "uniqueid", c.id, "recording_id", cr.id)
	default:
		return nil, switchboard.FieldError(switchboard.EBADREQUEST, "action", "must be start, stop, pause or resume")
	}
	return st, nil
}
