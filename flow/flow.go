// Package flow runs call flows (switchboard.CallFlow): the interpreter Run walks a flow's
// nodes for one call through a Caller, the call's side of things. pbx implements Caller for
// live calls; Script implements it from a script (a time, a caller number, keys and
// outcomes) for the simulator, which answers the path a call would take without placing
// one. Both run the same Run, so the simulator shows what a live call does.
//
// Every step is recorded in a Trace (node entered, key pressed, decision and its reason,
// invalid key, timeout, outcome of a connection, end) and passed to Options.OnStep as it
// happens, which is where pbx emits ivr.option and stores the call's trace.
package flow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"switchboard"
)

// Caller is what the interpreter needs from a call: pbx implements it for live calls, the
// simulator implements it from a script (time, caller number, keys).
type Caller interface {
	// Play plays an account prompt (id > 0) or a system prompt (name) in the call's
	// language; it returns the first key pressed while it played (barge-in), or 0.
	Play(ctx context.Context, p Prompt) (key rune, err error)
	// ReadKey waits up to timeout for one key; ok is false on timeout.
	ReadKey(ctx context.Context, timeout time.Duration) (key rune, ok bool, err error)
	// Connect sends the call to a queue, ring group, user or external number and returns
	// how that ended: Answered (the call is over for the flow), NoAnswer, Busy, Unavailable.
	Connect(ctx context.Context, t switchboard.Target, node *switchboard.FlowNode) (Outcome, error)
	Voicemail(ctx context.Context, boxID int64) error
	Conference(ctx context.Context, roomID int64) error
	// Webhook delivers the node's webhook_component_event (fire and continue).
	Webhook(ctx context.Context, node *switchboard.FlowNode) error
	SetCallerName(prefix string)
	SetLanguage(lang string)
	Hangup(ctx context.Context)
	Now() time.Time
	CallerNumber() string
}

// Prompt is what Play plays: an account prompt by ID, or a system prompt by name.
type Prompt struct {
	ID     int64
	System string
}

// System prompts the interpreter plays.
const (
	// PromptInvalidOption follows a key an ivr has no option for, before the menu again.
	PromptInvalidOption = "invalid-option"
)

// Outcome is how connecting a call ended.
type Outcome int

const (
	Answered Outcome = iota
	NoAnswer
	Busy
	Unavailable
)

var outcomeNames = []string{"answered", "no_answer", "busy", "unavailable"}

func (o Outcome) String() string {
	if o >= 0 && int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("outcome(%d)", int(o))
}

// ParseOutcome reads an outcome's name (answered, no_answer, busy, unavailable).
func ParseOutcome(s string) (Outcome, bool) {
	for i, n := range outcomeNames {
		if n == s {
			return Outcome(i), true
		}
	}
	return 0, false
}

// Step kinds.
const (
	StepEntered  = "entered"
	StepKey      = "key"
	StepDecision = "decision"
	StepInvalid  = "invalid"
	StepTimeout  = "timeout"
	StepOutcome  = "outcome"
	StepEnd      = "end"
)

// Step is one thing that happened while a call walked its flow. Kind says what (Step*);
// Key is the key of a "key" or "invalid" step; Detail says more in words, e.g. the reason
// of a decision ("open: Mon 09:00-17:00 Europe/Berlin") or where a key leads.
type Step struct {
	At     time.Time `json:"at"`
	Node   string    `json:"node"`
	Type   string    `json:"type"`
	Kind   string    `json:"kind"`
	Key    string    `json:"key,omitempty"`
	Detail string    `json:"detail,omitempty"`
}

// Trace is the steps of one call, in order.
type Trace []Step

// Options tune Run.
type Options struct {
	// MaxSteps caps the nodes one call enters (0 = DefaultMaxSteps): the second guard,
	// after validation, against a flow that keeps a call going round.
	MaxSteps int
	// OnStep, when set, is called with each step as it happens.
	OnStep func(Step)
	// ResolveExtension finds the user, queue or ring group an extension dialled in an ivr
	// with direct_dial names; nil or false = no such extension.
	ResolveExtension func(ext string) (switchboard.Target, bool)
}

// DefaultMaxSteps is the step cap when Options.MaxSteps is 0.
const DefaultMaxSteps = 100

// Direct dial: digits after the first are read with this wait each, up to this many.
const (
	DirectDialDigitTimeout = 3 * time.Second
	MaxExtensionDigits     = 10
)

// ErrStepLimit ends a call that entered more than MaxSteps nodes; the call was hung up.
var ErrStepLimit = errors.New("flow: the call went through more nodes than the step limit")

// Run interprets f from its Start until a terminal node, the caller hangs up (any Caller
// error), or MaxSteps; every step is appended to the trace and passed to opts.OnStep.
//
// The call ends for the flow when a connection is answered, after voicemail or a
// conference, at a hangup node, and where the flow has no next node (a missing next, an
// ivr's timeout or invalid not set): Run hangs up in the last cases. A Caller error stops
// Run and is returned with the trace so far.
func Run(ctx context.Context, f *switchboard.CallFlow, c Caller, opts Options) (Trace, error) {
	r := &run{ctx: ctx, flow: f, c: c, opts: opts}
	if r.opts.MaxSteps <= 0 {
		r.opts.MaxSteps = DefaultMaxSteps
	}
	err := r.walk()
	return r.trace, err
}

type run struct {
	ctx     context.Context
	flow    *switchboard.CallFlow
	c       Caller
	opts    Options
	trace   Trace
	entered int
}

func (r *run) step(node *switchboard.FlowNode, name, kind, key, detail string) {
	s := Step{At: r.c.Now(), Node: name, Kind: kind, Key: key, Detail: detail}
	if node != nil {
		s.Type = node.Type
	}
	r.trace = append(r.trace, s)
	if r.opts.OnStep != nil {
		r.opts.OnStep(s)
	}
}

// hangup ends the call for the flow with an end step saying why.
func (r *run) hangup(node *switchboard.FlowNode, name, why string) {
	r.step(node, name, StepEnd, "", why)
	r.c.Hangup(r.ctx)
}

func (r *run) walk() error {
	name := r.flow.Start
	for {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		n, ok := r.flow.Nodes[name]
		if !ok { // refused on write; a flow changed under a call ends cleanly
			r.hangup(nil, name, fmt.Sprintf("node %q does not exist: hung up", name))
			return nil
		}
		r.entered++
		if r.entered > r.opts.MaxSteps {
			r.hangup(&n, name, fmt.Sprintf("step limit of %d nodes reached: hung up", r.opts.MaxSteps))
			return ErrStepLimit
		}
		r.step(&n, name, StepEntered, "", "")
		next, err := r.node(name, &n)
		if err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		name = next
	}
}

// node runs one node and returns the next node's name, "" when the flow ends here.
func (r *run) node(name string, n *switchboard.FlowNode) (string, error) {
	ctx, c := r.ctx, r.c
	switch n.Type {
	case switchboard.FlowNodeTimeCondition:
		open, reason := Decide(n, c.Now())
		next := n.Else
		if open {
			next = n.Then
		}
		r.step(n, name, StepDecision, "", reason+" -> "+next)
		return next, nil
	case switchboard.FlowNodeIVR:
		return r.ivr(name, n)
	case switchboard.FlowNodeAnnouncement:
		if _, err := c.Play(ctx, Prompt{ID: n.PromptID}); err != nil {
			return "", err
		}
		return r.then(n, name, n.Next)
	case switchboard.FlowNodeQueue, switchboard.FlowNodeRingGroup, switchboard.FlowNodeUser, switchboard.FlowNodeForward:
		return r.connect(name, n, n.Target())
	case switchboard.FlowNodeVoicemail:
		if err := c.Voicemail(ctx, n.VoicemailBoxID); err != nil {
			return "", err
		}
		r.step(n, name, StepEnd, "", fmt.Sprintf("voicemail box %d", n.VoicemailBoxID))
		return "", nil
	case switchboard.FlowNodeConference:
		if err := c.Conference(ctx, n.ConferenceID); err != nil {
			return "", err
		}
		r.step(n, name, StepEnd, "", fmt.Sprintf("conference room %d", n.ConferenceID))
		return "", nil
	case switchboard.FlowNodeWebhook:
		// Fire and continue: a failed delivery is in the trace, the call goes on.
		if err := c.Webhook(ctx, n); err != nil {
			if ctx.Err() != nil {
				return "", err
			}
			r.step(n, name, StepOutcome, "", "webhook not delivered: "+err.Error())
		} else {
			r.step(n, name, StepOutcome, "", "webhook sent")
		}
		return r.then(n, name, n.Next)
	case switchboard.FlowNodeSetCallerName:
		c.SetCallerName(n.Prefix)
		return r.then(n, name, n.Next)
	case switchboard.FlowNodeSetLanguage:
		c.SetLanguage(n.Language)
		return r.then(n, name, n.Next)
	case switchboard.FlowNodeHangup:
		r.hangup(n, name, "hangup")
		return "", nil
	}
	r.hangup(n, name, fmt.Sprintf("unknown node type %q: hung up", n.Type))
	return "", nil
}

// then continues at next, or hangs up where the node has none.
func (r *run) then(n *switchboard.FlowNode, name, next string) (string, error) {
	if next == "" {
		r.hangup(n, name, "no next node: hung up")
	}
	return next, nil
}

// connect sends the call to t; an answered call is over for the flow, any other outcome
// goes on at the node's next.
func (r *run) connect(name string, n *switchboard.FlowNode, t switchboard.Target) (string, error) {
	out, err := r.c.Connect(r.ctx, t, n)
	if err != nil {
		return "", err
	}
	if out == Answered {
		r.step(n, name, StepEnd, "", "answered")
		return "", nil
	}
	if n.Next == "" {
		r.step(n, name, StepOutcome, "", out.String())
		r.hangup(n, name, "no next node: hung up")
		return "", nil
	}
	r.step(n, name, StepOutcome, "", out.String()+" -> "+n.Next)
	return n.Next, nil
}

// ivr plays the menu and reads a key, replaying after no input and after an invalid key,
// each counted separately against the node's retries; then it follows timeout or invalid.
func (r *run) ivr(name string, n *switchboard.FlowNode) (string, error) {
	ctx, c := r.ctx, r.c
	retries := n.RetryCount()
	noInput, invalid := 0, 0
	for {
		key, err := c.Play(ctx, Prompt{ID: n.PromptID})
		if err != nil {
			return "", err
		}
		if key == 0 {
			var ok bool
			key, ok, err = c.ReadKey(ctx, n.TimeoutDuration())
			if err != nil {
				return "", err
			}
			if !ok {
				noInput++
				if noInput > retries {
					r.step(n, name, StepTimeout, "", fmt.Sprintf("no input %d times -> %s", noInput, orHangup(n.Timeout)))
					return r.then(n, name, n.Timeout)
				}
				r.step(n, name, StepTimeout, "", fmt.Sprintf("no input (%d of %d retries): menu again", noInput, retries))
				continue
			}
		}
		k := string(key)
		if next, ok := n.Options[k]; ok {
			r.step(n, name, StepKey, k, "option "+k+" -> "+next)
			return next, nil
		}
		if n.DirectDial && key >= '0' && key <= '9' {
			next, done, err := r.directDial(name, n, key)
			if err != nil || done {
				return next, err
			}
		}
		invalid++
		if invalid > retries {
			r.step(n, name, StepInvalid, k, fmt.Sprintf("invalid input %d times -> %s", invalid, orHangup(n.Invalid)))
			return r.then(n, name, n.Invalid)
		}
		r.step(n, name, StepInvalid, k, fmt.Sprintf("invalid input (%d of %d retries): menu again", invalid, retries))
		if _, err := c.Play(ctx, Prompt{System: PromptInvalidOption}); err != nil {
			return "", err
		}
	}
}

func orHangup(next string) string {
	if next == "" {
		return "hang up"
	}
	return next
}

// directDial reads the rest of an extension whose first digit the ivr has no option for
// (until '#', a pause or MaxExtensionDigits) and connects the call to it. done is false
// when no extension has that number: the ivr counts it as invalid input. A connection
// that is not answered goes on at the ivr's next, or hangs up.
func (r *run) directDial(name string, n *switchboard.FlowNode, first rune) (next string, done bool, err error) {
	ext := string(first)
	for len(ext) < MaxExtensionDigits {
		key, ok, err := r.c.ReadKey(r.ctx, DirectDialDigitTimeout)
		if err != nil {
			return "", true, err
		}
		if !ok || key == '#' {
			break
		}
		if key < '0' || key > '9' {
			break
		}
		ext += string(key)
	}
	var t switchboard.Target
	ok := false
	if r.opts.ResolveExtension != nil {
		t, ok = r.opts.ResolveExtension(ext)
	}
	if !ok {
		r.step(n, name, StepKey, ext, "extension "+ext+" does not exist")
		return "", false, nil
	}
	r.step(n, name, StepKey, ext, fmt.Sprintf("direct dial %s -> %s %d", ext, t.Type, t.ID))
	next, err = r.connect(name, n, t)
	return next, true, err
}
