package flow

import (
	"context"
	"strconv"
	"time"

	"switchboard"
)

// Script is a Caller played from a script, for the simulator and tests: the call happens at
// Time from CallerID; each ReadKey takes the next of Keys ('-' or a space stands for
// waiting without pressing anything; past the end every wait times out); Connect answers
// with Outcomes[node name], Answered when the node has none. Prompts play without barge-in,
// so keys are read after them. Time advances by each wait, so a script that loops is
// visible in the trace's times. It records what the call did in Calls (for tests).
type Script struct {
	Time     time.Time
	CallerID string
	Keys     string
	Outcomes map[string]Outcome

	keys     []rune
	started  bool
	node     string // the node being run, from the steps (Connect's outcome is by node)
	Language string
	NameTag  string
	HungUp   bool
	Calls    []string // "play prompt 3", "connect queue 7", …
}

func (s *Script) next() (rune, bool) {
	if !s.started {
		s.keys, s.started = []rune(s.Keys), true
	}
	if len(s.keys) == 0 {
		return 0, false
	}
	k := s.keys[0]
	s.keys = s.keys[1:]
	if k == '-' || k == ' ' {
		return 0, false
	}
	return k, true
}

// Simulate runs f with the script as its caller: Run, with the script following the steps
// so that Connect answers the outcome scripted for the node being run.
func Simulate(ctx context.Context, f *switchboard.CallFlow, s *Script, opts Options) (Trace, error) {
	onStep := opts.OnStep
	opts.OnStep = func(st Step) {
		if st.Kind == StepEntered {
			s.node = st.Node
		}
		if onStep != nil {
			onStep(st)
		}
	}
	return Run(ctx, f, s, opts)
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

func (s *Script) record(what string) { s.Calls = append(s.Calls, what) }

// Play records the prompt; no barge-in.
func (s *Script) Play(ctx context.Context, p Prompt) (rune, error) {
	if p.ID > 0 {
		s.record("play prompt " + itoa(p.ID))
	} else {
		s.record("play system " + p.System)
	}
	return 0, ctx.Err()
}

// ReadKey takes the next scripted key; a timeout moves the clock on by the wait.
func (s *Script) ReadKey(ctx context.Context, timeout time.Duration) (rune, bool, error) {
	k, ok := s.next()
	if !ok {
		s.Time = s.Time.Add(timeout)
	}
	return k, ok, ctx.Err()
}

// Connect answers the node's scripted outcome.
func (s *Script) Connect(ctx context.Context, t switchboard.Target, node *switchboard.FlowNode) (Outcome, error) {
	if t.Type == switchboard.TargetExternal {
		s.record("connect external " + t.Number)
	} else {
		s.record("connect " + string(t.Type) + " " + itoa(t.ID))
	}
	if out, ok := s.Outcomes[s.node]; ok {
		return out, ctx.Err()
	}
	return Answered, ctx.Err()
}

func (s *Script) Voicemail(ctx context.Context, boxID int64) error {
	s.record("voicemail " + itoa(boxID))
	return ctx.Err()
}

func (s *Script) Conference(ctx context.Context, roomID int64) error {
	s.record("conference " + itoa(roomID))
	return ctx.Err()
}

func (s *Script) Webhook(ctx context.Context, node *switchboard.FlowNode) error {
	s.record("webhook " + node.URL)
	return ctx.Err()
}

func (s *Script) SetCallerName(prefix string) { s.NameTag = prefix; s.record("caller name " + prefix) }
func (s *Script) SetLanguage(lang string)     { s.Language = lang; s.record("language " + lang) }
func (s *Script) Hangup(context.Context)      { s.HungUp = true; s.record("hangup") }
func (s *Script) Now() time.Time              { return s.Time }
func (s *Script) CallerNumber() string        { return s.CallerID }

// Simulation is a dry run of a flow: a call at Time from Caller pressing Keys (see Script),
// with Outcomes by node name for the nodes that connect the call (Answered when not given).
type Simulation struct {
	Time     time.Time
	Caller   string
	Keys     string
	Outcomes map[string]Outcome
}

// SimulationResult is what a dry run did: its steps, and the call's actions in order
// ("play prompt 3", "connect queue 7", "hangup" …).
type SimulationResult struct {
	Trace   Trace
	Actions []string
	// StepLimit is true when the call was hung up at the step limit.
	StepLimit bool
}

// Run runs the simulation of f with the options (OnStep and ResolveExtension as for a live
// call).
func (sim Simulation) Run(ctx context.Context, f *switchboard.CallFlow, opts Options) (SimulationResult, error) {
	s := &Script{Time: sim.Time, CallerID: sim.Caller, Keys: sim.Keys, Outcomes: sim.Outcomes}
	trace, err := Simulate(ctx, f, s, opts)
	res := SimulationResult{Trace: trace, Actions: s.Calls, StepLimit: err == ErrStepLimit}
	if res.StepLimit {
		err = nil
	}
	return res, err
}
