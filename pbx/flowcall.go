package pbx

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"switchboard"
	"switchboard/events"
	"switchboard/flow"
	"switchboard/media"
	"switchboard/webhook"
)

// Calls walking a call flow (switchboard.CallFlow, package flow). A number, a queue's
// overflow or a ring group's fallback whose target is a flow runs it here: flow.Run
// interprets the nodes, and flowCaller is the live call under it — the caller's leg,
// answered when the flow first plays something, keys read from that leg, connections made
// by the same walk along targets that routed calls use (walk in routed.go). Every step is
// kept on the call and stored as its trace (GET /calls/{call_id}/trace); a key pressed in
// a menu is an ivr.option event, a webhook node a flow.webhook event and a POST.

// maxFlowNesting bounds flows entered from flows (a queue overflow of a flow's queue that
// is a flow again, and so on): validation cannot see across flows.
const maxFlowNesting = 4

// flowWebhookTimeout bounds a webhook node's POST: the caller waits for it, in silence.
const flowWebhookTimeout = 3 * time.Second

// errCallerGone stops a flow whose caller hung up or whose call is being ended.
var errCallerGone = errors.New("pbx: the caller hung up")

// flowState is what a call keeps of the flows it ran; only the call's own goroutine
// touches it (through callerState).
type flowState struct {
	depth  int
	flowID int64 // the first flow the call ran: the trace's
	steps  []switchboard.CallTraceStep
	// language is the call's language, set by a set_language node: every later prompt
	// follows it ("" = the account's default).
	language string
}

// runFlow runs flow flowID of the call's account for the caller of st, to the call's end.
func (c *call) runFlow(st *callerState, flowID int64) {
	e := c.e
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	f, err := e.store.GetCallFlow(ctx, c.accountID, flowID)
	cancel()
	if err != nil {
		// Another account's flow is none: a number never runs a flow outside its account.
		e.log.Error("call flow unavailable", "uniqueid", c.id, "callflow_id", flowID, "error", err)
		c.endUnanswered(st, switchboard.DispositionFailed, 480, "Temporarily Unavailable")
		return
	}
	if st.flow.depth >= maxFlowNesting {
		e.log.Warn("call flows nested too deep: cut", "uniqueid", c.id, "callflow_id", flowID)
		c.endUnanswered(st, switchboard.DispositionFailed, 482, "Loop Detected")
		return
	}
	if st.flow.flowID == 0 {
		st.flow.flowID = f.ID
	}
	if st.flow.language == "" {
		st.flow.language = c.language // the number's, else its account's (routeFromTrunk)
	}
	st.flow.depth++
	fc := &flowCaller{c: c, st: st, flow: f}
	// The flow's context ends when the caller hangs up or the call is asked to end
	// (shutdown): Play and ReadKey return then, and Run with them.
	runCtx, stop := c.untilHangup(context.WithCancel(st.a.ctx()))
	_, err = flow.Run(runCtx, f, fc, flow.Options{MaxSteps: e.flowMaxSteps(), OnStep: fc.onStep,
		ResolveExtension: fc.resolveExtension})
	stop()
	st.flow.depth--
	c.saveTrace(st)
	if err != nil && !errors.Is(err, errCallerGone) && !errors.Is(err, context.Canceled) {
		e.log.Warn("call flow ended with an error", "uniqueid", c.id, "callflow_id", f.ID, "error", err)
	}
	if !c.isFinished() {
		c.endUnanswered(st, switchboard.DispositionNoAnswer, 480, "Temporarily Unavailable")
	}
}

// flowMaxSteps is the engine's cap on the nodes one call enters per flow.
func (e *Engine) flowMaxSteps() int {
	if e.cfg.FlowMaxSteps > 0 {
		return e.cfg.FlowMaxSteps
	}
	return flow.DefaultMaxSteps
}

// isFinished reports whether finish has run for the call.
func (c *call) isFinished() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.finished
}

// saveTrace stores the steps of the flows the call ran so far (replacing what an earlier
// flow of the same call stored).
func (c *call) saveTrace(st *callerState) {
	if len(st.flow.steps) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	tr := &switchboard.CallTrace{AccountID: c.accountID, CallID: c.id, CallFlowID: st.flow.flowID,
		Steps: st.flow.steps}
	if err := c.e.store.SaveCallTrace(ctx, tr); err != nil {
		c.e.log.Error("storing a call's flow trace failed", "uniqueid", c.id, "error", err)
	}
}

// flowCaller is a live call under flow.Run: flow.Caller over the caller's leg.
type flowCaller struct {
	c    *call
	st   *callerState
	flow *switchboard.CallFlow
}

var _ flow.Caller = (*flowCaller)(nil)

// onStep keeps each step for the trace; a key pressed in a menu is an ivr.option event.
func (fc *flowCaller) onStep(s flow.Step) {
	c := fc.c
	if len(fc.st.flow.steps) < switchboard.MaxCallTraceSteps {
		fc.st.flow.steps = append(fc.st.flow.steps, switchboard.CallTraceStep{At: s.At.UTC(), Node: s.Node, Type: s.Type,
			Kind: s.Kind, Key: s.Key, Detail: s.Detail})
	}
	if s.Type != switchboard.FlowNodeIVR || (s.Kind != flow.StepKey && s.Kind != flow.StepInvalid) || s.Key == "" {
		return
	}
	menu := fc.flow.Nodes[s.Node].Name
	if menu == "" {
		menu = s.Node
	}
	c.emit(c.event(switchboard.EventIVROption, nil, map[string]any{
		events.FieldIVRID: fc.flow.ID, events.FieldIVRName: menu, events.FieldOption: s.Key,
	}))
}

// resolveExtension finds what an extension dialled in a direct-dial menu rings: a user,
// queue or ring group of the call's account.
func (fc *flowCaller) resolveExtension(ext string) (switchboard.Target, bool) {
	if !switchboard.ValidExtension(ext) {
		return switchboard.Target{}, false
	}
	e, c := fc.c.e, fc.c
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	defer cancel()
	t, err := e.store.ExtensionTarget(ctx, c.accountID, ext)
	if err != nil || t.Type == switchboard.TargetNone {
		return switchboard.Target{}, false
	}
	return t, true
}

// answer answers the caller's INVITE if nothing did yet: the flow needs media now.
func (fc *flowCaller) answer() error {
	if fc.st.a.ended() || fc.c.hangingUp() {
		return errCallerGone
	}
	if !fc.c.answerCaller(fc.st) {
		return errCallerGone
	}
	return nil
}

// Play answers the caller and plays the prompt until it ends or the caller presses a key
// (barge-in: the prompt stops at once and the key is returned).
func (fc *flowCaller) Play(ctx context.Context, p flow.Prompt) (rune, error) {
	if err := fc.answer(); err != nil {
		return 0, err
	}
	fc.c.stopMOH(fc.st) // ringback or music of an earlier connection
	a := fc.st.a
	pcm := fc.c.e.promptAudio(ctx, fc.c.accountID, p, fc.st.flow.language)
	playCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	fc.c.e.wg.Add(1) // in the call's goroutine: wg is above zero
	go func() {
		defer fc.c.e.wg.Done()
		defer close(done)
		_ = a.media.Play(playCtx, media.PCM(pcm))
	}()
	defer func() {
		cancel()
		<-done
	}()
	select {
	case d, ok := <-a.keys():
		if !ok {
			return 0, errCallerGone
		}
		return rune(d), nil
	case <-done:
		if ctx.Err() != nil {
			return 0, errCallerGone
		}
		return 0, nil
	case <-ctx.Done():
		return 0, errCallerGone
	}
}

// ReadKey waits up to timeout for one key from the caller.
func (fc *flowCaller) ReadKey(ctx context.Context, timeout time.Duration) (rune, bool, error) {
	if err := fc.answer(); err != nil {
		return 0, false, err
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case d, ok := <-fc.st.a.keys():
		if !ok {
			return 0, false, errCallerGone
		}
		return rune(d), true, nil
	case <-t.C:
		return 0, false, nil
	case <-ctx.Done():
		return 0, false, errCallerGone
	}
}

// Connect sends the call to a queue, ring group, user or external number (forward) by the
// walk routed calls take. A target not answered returns its outcome, and the flow goes on
// at the node's next; a node without next follows the target's own overflow or fallback.
func (fc *flowCaller) Connect(ctx context.Context, t switchboard.Target, node *switchboard.FlowNode) (flow.Outcome, error) {
	c, st := fc.c, fc.st
	if st.a.ended() || c.hangingUp() {
		return flow.Unavailable, errCallerGone
	}
	if st.answered && t.Type != switchboard.TargetQueue {
		// The caller hears ringing while phones ring: a 180 cannot be sent after the 200.
		c.startRingback(st)
	}
	r := c.walk(st, t, node != nil && node.Next != "")
	c.stopMOH(st)
	if r.done {
		if c.answeredAt().IsZero() {
			return flow.Unavailable, errCallerGone // the caller left while it rang
		}
		return flow.Answered, nil
	}
	return r.outcome, nil
}

// answeredAt is when someone answered the call (zero while nobody did).
func (c *call) answeredAt() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.answered
}

// startRingback plays ringback to an answered caller until stopMOH.
func (c *call) startRingback(st *callerState) {
	if st.mohStop != nil || !c.e.track() {
		return
	}
	a := st.a
	ctx, cancel := context.WithCancel(a.ctx())
	done := make(chan struct{})
	go func() {
		defer c.e.wg.Done()
		defer close(done)
		_ = a.media.Play(ctx, media.Ringback())
	}()
	st.mohStop = func() {
		cancel()
		<-done
	}
}

// Webhook delivers the node's webhook: the canonical flow.webhook event goes to the outbox
// (subscriptions get it as webhook_component_event in the voipline format), and the node's
// own URL gets a POST in VoIPLine's format with X-Pbx-Token and the node's headers, rendered
// by the same code as subscriptions'. The answer does not matter: the flow goes on.
func (fc *flowCaller) Webhook(ctx context.Context, node *switchboard.FlowNode) error {
	c, e := fc.c, fc.c.e
	ev := c.event(switchboard.EventFlowWebhook, nil, map[string]any{events.FieldComponentName: node.Name})
	c.emit(ev)
	policy, client := e.flowHTTP()
	if err := policy.CheckURL(node.URL); err != nil {
		return err
	}
	token, err := e.openToken(node.Token)
	if err != nil {
		return err
	}
	if token == "" {
		token = "-" // Render signs with a secret; the header is removed below
	}
	req, err := webhook.Render(webhook.Target{Format: events.FormatVoipline, URL: node.URL, Headers: node.Headers,
		Secrets: []string{token}}, ev, "webhook_component_event", ev.ID, e.now())
	if err != nil {
		return err
	}
	if node.Token == "" {
		req.Header.Del("X-Pbx-Token")
	}
	rctx, cancel := context.WithTimeout(ctx, flowWebhookTimeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(rctx, req.Method, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		return err
	}
	hreq.Header = req.Header
	res, err := client.Do(hreq)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("the receiver answered %d", res.StatusCode)
	}
	return nil
}

// flowHTTP is the policy of webhook nodes and their client, which checks every address it
// dials against the policy (SSRF: a host name may resolve to a private address).
func (e *Engine) flowHTTP() (webhook.URLPolicy, *http.Client) {
	e.flowHTTPMu.Lock()
	defer e.flowHTTPMu.Unlock()
	if e.flowHTTPClient == nil {
		e.flowHTTPClient = webhook.NewHTTPClient(e.cfg.WebhookPolicy, flowWebhookTimeout)
	}
	return e.cfg.WebhookPolicy, e.flowHTTPClient
}

// SetCallerName prefixes the caller's name that agents' phones show from now on.
func (fc *flowCaller) SetCallerName(prefix string) {
	c := fc.c
	c.mu.Lock()
	c.callerName = sanitizeDisplay(prefix + c.callerName)
	c.mu.Unlock()
}

// SetLanguage makes every later prompt of the call play in lang.
func (fc *flowCaller) SetLanguage(lang string) { fc.st.flow.language = lang }

// Hangup ends the call: a BYE to an answered caller, 480 to one not yet answered.
func (fc *flowCaller) Hangup(context.Context) {
	fc.c.endUnanswered(fc.st, switchboard.DispositionNoAnswer, 480, "Temporarily Unavailable")
}

func (fc *flowCaller) Now() time.Time { return fc.c.e.now() }

func (fc *flowCaller) CallerNumber() string { return fc.c.from }

// promptAudio is what a flow's prompt sounds like: the prompt library's audio when the
// engine has one, else a tone pattern (an account prompt: a 440 Hz second; the
// invalid-option prompt: three short low beeps), so that flows work before any prompt
// exists. A prompt that cannot be read plays the tone too, with a warning.
func (e *Engine) promptAudio(ctx context.Context, accountID int64, p flow.Prompt, lang string) []int16 {
	if p.ID == 0 && p.System != "" {
		return e.systemPrompt(ctx, accountID, p.System, lang, invalidTone)
	}
	if lib := e.promptLibrary(); lib != nil {
		pcm, err := lib.Prompt(ctx, accountID, p.ID)
		if err == nil && len(pcm) > 0 {
			return pcm
		}
		e.log.Warn("prompt unavailable; playing a tone", "account_id", accountID, "prompt_id", p.ID, "error", err)
	}
	return promptTone()
}

// systemPrompt is the system prompt name in lang from the engine's prompt library (which
// itself falls back to English, then to tones); without a library, or when it cannot be
// read, it is tone(): every part of the engine that speaks a system prompt asks here.
func (e *Engine) systemPrompt(ctx context.Context, accountID int64, name, lang string, tone func() []int16) []int16 {
	if lib := e.promptLibrary(); lib != nil {
		pcm, err := lib.System(ctx, accountID, name, lang)
		if err == nil && len(pcm) > 0 {
			return pcm
		}
		e.log.Warn("system prompt unavailable; playing a tone", "account_id", accountID, "system", name, "error", err)
	}
	return tone()
}

// promptTone stands for an account prompt without a prompt library: 440 Hz for a second.
var promptTone = sync.OnceValue(func() []int16 { return tones(6000, toneStep{440, 1000}) })

// invalidTone stands for a system prompt: three 100 ms beeps at 330 Hz.
var invalidTone = sync.OnceValue(func() []int16 {
	return tones(6000, toneStep{330, 100}, toneStep{0, 100}, toneStep{330, 100}, toneStep{0, 100}, toneStep{330, 100}, toneStep{0, 100})
})

// SetWebhookPolicy changes which URLs webhook nodes may reach (tests; a server sets
// Config.WebhookPolicy).
func (e *Engine) SetWebhookPolicy(p webhook.URLPolicy) {
	e.flowHTTPMu.Lock()
	defer e.flowHTTPMu.Unlock()
	e.cfg.WebhookPolicy = p
	e.flowHTTPClient = nil
}

// SetPromptLibrary gives flows their prompts' audio (Config.Prompts, for a library made
// after the engine). Call it before the SIP server runs.
func (e *Engine) SetPromptLibrary(lib switchboard.PromptLibrary) {
	e.usersMu.Lock()
	e.cfg.Prompts = lib
	e.usersMu.Unlock()
}

func (e *Engine) promptLibrary() switchboard.PromptLibrary {
	e.usersMu.Lock()
	defer e.usersMu.Unlock()
	return e.cfg.Prompts
}

// Conference puts the caller in the account's room until they leave it: the flow ends
// there (runConference answers the caller if the flow has not, and finishes the call).
func (fc *flowCaller) Conference(_ context.Context, roomID int64) error {
	fc.c.runConference(fc.st, roomID)
	return nil
}

// Voicemail takes a message for the box: the flow ends there (runVoicemail answers the
// caller if the flow has not, and finishes the call).
func (fc *flowCaller) Voicemail(_ context.Context, boxID int64) error {
	fc.c.runVoicemail(fc.st, boxID)
	return nil
}

// openToken is a webhook node's token in clear: sealed ones (switchboard.SealedTokenPrefix)
// are opened with the engine's key, older ones stored as given are taken as they are.
func (e *Engine) openToken(token string) (string, error) {
	sealed, ok := strings.CutPrefix(token, switchboard.SealedTokenPrefix)
	if !ok {
		return token, nil
	}
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || e.cfg.Sealer == nil {
		return "", errors.New("pbx: a webhook node's sealed token cannot be opened")
	}
	return e.cfg.Sealer.Open(raw)
}
