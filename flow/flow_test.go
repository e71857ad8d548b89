package flow_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/flow"
)

// mainLine is business hours -> menu (1 sales queue, 2 a user, 9 back to the menu) ->
// voicemail, with an announcement when closed.
func mainLine() *switchboard.CallFlow {
	one := 1
	return &switchboard.CallFlow{AccountID: 1, Name: "Main line", Start: "hours", Nodes: map[string]switchboard.FlowNode{
		"hours": {Type: "time_condition", TimeZone: "Europe/Berlin", Then: "tag", Else: "closed",
			Open: []switchboard.OpenHours{{Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "09:00", To: "17:00"}}},
		"closed":  {Type: "announcement", PromptID: 2, Next: "mailbox"},
		"tag":     {Type: "set_caller_name", Prefix: "Main: ", Next: "menu"},
		"menu":    {Type: "ivr", Name: "Main menu", PromptID: 1, Options: map[string]string{"1": "sales", "2": "anna", "9": "menu"}, Retries: &one, Timeout: "mailbox", Invalid: "bye"},
		"sales":   {Type: "queue", QueueID: 7, Next: "mailbox"},
		"anna":    {Type: "user", UserID: 5, Next: "mailbox"},
		"mailbox": {Type: "voicemail", VoicemailBoxID: 3},
		"bye":     {Type: "hangup"},
	}}
}

const (
	mondayOpen   = "2026-06-01T10:00:00+02:00"
	mondayClosed = "2026-06-01T20:00:00+02:00"
)

// path is the trace as "node:kind[:key]" words, for comparing.
func path(tr flow.Trace) string {
	var out []string
	for _, s := range tr {
		w := s.Node + ":" + s.Kind
		if s.Key != "" {
			w += ":" + s.Key
		}
		out = append(out, w)
	}
	return strings.Join(out, " ")
}

func TestRun(t *testing.T) {
	for _, tc := range []struct {
		name     string
		at, keys string
		outcomes map[string]flow.Outcome
		change   func(f *switchboard.CallFlow)
		path     string
		actions  string
	}{
		{name: "open, 1 reaches the queue", at: mondayOpen, keys: "1",
			path:    "hours:entered hours:decision tag:entered menu:entered menu:key:1 sales:entered sales:end",
			actions: "caller name Main: |play prompt 1|connect queue 7"},
		{name: "closed, announcement then voicemail", at: mondayClosed,
			path:    "hours:entered hours:decision closed:entered mailbox:entered mailbox:end",
			actions: "play prompt 2|voicemail 3"},
		{name: "queue not answered goes on to next", at: mondayOpen, keys: "1", outcomes: map[string]flow.Outcome{"sales": flow.NoAnswer},
			path:    "hours:entered hours:decision tag:entered menu:entered menu:key:1 sales:entered sales:outcome mailbox:entered mailbox:end",
			actions: "caller name Main: |play prompt 1|connect queue 7|voicemail 3"},
		{name: "user busy goes on to next", at: mondayOpen, keys: "2", outcomes: map[string]flow.Outcome{"anna": flow.Busy},
			path:    "hours:entered hours:decision tag:entered menu:entered menu:key:2 anna:entered anna:outcome mailbox:entered mailbox:end",
			actions: "caller name Main: |play prompt 1|connect user 5|voicemail 3"},
		{name: "no input: menu again, then the timeout target", at: mondayOpen,
			path:    "hours:entered hours:decision tag:entered menu:entered menu:timeout menu:timeout mailbox:entered mailbox:end",
			actions: "caller name Main: |play prompt 1|play prompt 1|voicemail 3"},
		{name: "invalid key: invalid prompt, menu again, then the invalid target", at: mondayOpen, keys: "47",
			path:    "hours:entered hours:decision tag:entered menu:entered menu:invalid:4 menu:invalid:7 bye:entered bye:end",
			actions: "caller name Main: |play prompt 1|play system invalid-option|play prompt 1|hangup"},
		// One no-input and one invalid key are each within one retry: the counters are
		// separate, so the third event (no input again) decides, and it is a timeout.
		{name: "no input and invalid are counted separately", at: mondayOpen, keys: "-4-",
			path:    "hours:entered hours:decision tag:entered menu:entered menu:timeout menu:invalid:4 menu:timeout mailbox:entered mailbox:end",
			actions: "caller name Main: |play prompt 1|play prompt 1|play system invalid-option|play prompt 1|voicemail 3"},
		{name: "an invalid key then no input still leaves a try", at: mondayOpen, keys: "4-1",
			path:    "hours:entered hours:decision tag:entered menu:entered menu:invalid:4 menu:timeout menu:key:1 sales:entered sales:end",
			actions: "caller name Main: |play prompt 1|play system invalid-option|play prompt 1|play prompt 1|connect queue 7"},
		{name: "a menu may lead back to itself", at: mondayOpen, keys: "91",
			path:    "hours:entered hours:decision tag:entered menu:entered menu:key:9 menu:entered menu:key:1 sales:entered sales:end",
			actions: "caller name Main: |play prompt 1|play prompt 1|connect queue 7"},
		{name: "no timeout target hangs up", at: mondayOpen, change: func(f *switchboard.CallFlow) {
			n := f.Nodes["menu"]
			n.Timeout = ""
			f.Nodes["menu"] = n
		}, path: "hours:entered hours:decision tag:entered menu:entered menu:timeout menu:timeout menu:end",
			actions: "caller name Main: |play prompt 1|play prompt 1|hangup"},
		{name: "direct dial of an extension", at: mondayOpen, keys: "301#", change: directDial,
			path:    "hours:entered hours:decision tag:entered menu:entered menu:key:301 menu:end",
			actions: "caller name Main: |play prompt 1|connect user 42"},
		{name: "direct dial not answered goes on at next", at: mondayOpen, keys: "301", change: directDial,
			outcomes: map[string]flow.Outcome{"menu": flow.NoAnswer},
			path:     "hours:entered hours:decision tag:entered menu:entered menu:key:301 menu:outcome mailbox:entered mailbox:end",
			actions:  "caller name Main: |play prompt 1|connect user 42|voicemail 3"},
		{name: "direct dial of no extension is invalid input", at: mondayOpen, keys: "555#1", change: directDial,
			path:    "hours:entered hours:decision tag:entered menu:entered menu:key:555 menu:invalid:5 menu:key:1 sales:entered sales:end",
			actions: "caller name Main: |play prompt 1|play system invalid-option|play prompt 1|connect queue 7"},
		{name: "webhook, language, forward", at: mondayOpen, change: func(f *switchboard.CallFlow) {
			f.Start = "hook"
			f.Nodes = map[string]switchboard.FlowNode{
				"hook": {Type: "webhook", URL: "https://example.com/hook", Next: "lang"},
				"lang": {Type: "set_language", Language: "de", Next: "out"},
				"out":  {Type: "forward", Number: "+4930123456", Next: "room"},
				"room": {Type: "conference", ConferenceID: 8},
			}
		}, outcomes: map[string]flow.Outcome{"out": flow.Unavailable},
			path:    "hook:entered hook:outcome lang:entered out:entered out:outcome room:entered room:end",
			actions: "webhook https://example.com/hook|language de|connect external +4930123456|conference 8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := mainLine()
			if tc.change != nil {
				tc.change(f)
			}
			s := &flow.Script{Time: at(t, tc.at), CallerID: "+4930999", Keys: tc.keys, Outcomes: tc.outcomes}
			var seen flow.Trace
			tr, err := flow.Simulate(context.Background(), f, s, flow.Options{
				OnStep:           func(st flow.Step) { seen = append(seen, st) },
				ResolveExtension: extensions,
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := path(tr); got != tc.path {
				t.Errorf("path\n got %s\nwant %s", got, tc.path)
			}
			if got := strings.Join(s.Calls, "|"); got != tc.actions {
				t.Errorf("actions\n got %s\nwant %s", got, tc.actions)
			}
			if path(seen) != path(tr) {
				t.Errorf("OnStep saw %s", path(seen))
			}
		})
	}
}

func directDial(f *switchboard.CallFlow) {
	n := f.Nodes["menu"]
	n.DirectDial = true
	n.Next = "mailbox" // after a direct dial nobody answered
	f.Nodes["menu"] = n
}

func extensions(ext string) (switchboard.Target, bool) {
	if ext == "301" {
		return switchboard.Target{Type: switchboard.TargetUser, ID: 42}, true
	}
	return switchboard.Target{}, false
}

// The decision step says why, and where it leads.
func TestRunDecisionReason(t *testing.T) {
	s := &flow.Script{Time: at(t, mondayClosed)}
	tr, err := flow.Simulate(context.Background(), mainLine(), s, flow.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if tr[1].Kind != flow.StepDecision || tr[1].Detail != "closed: outside open hours (Mon 20:00 Europe/Berlin) -> closed" {
		t.Fatalf("decision step %+v", tr[1])
	}
}

// A caller who keeps choosing the menu again is hung up at the step limit.
func TestRunStepLimit(t *testing.T) {
	s := &flow.Script{Time: at(t, mondayOpen), Keys: strings.Repeat("9", 50)}
	tr, err := flow.Simulate(context.Background(), mainLine(), s, flow.Options{MaxSteps: 10})
	if !errors.Is(err, flow.ErrStepLimit) {
		t.Fatalf("err = %v, want the step limit", err)
	}
	last := tr[len(tr)-1]
	if last.Kind != flow.StepEnd || !strings.Contains(last.Detail, "step limit of 10") || !s.HungUp {
		t.Fatalf("last step %+v, hung up %v", last, s.HungUp)
	}
	entered := strings.Count(path(tr), ":entered")
	if entered != 10 {
		t.Fatalf("entered %d nodes, want 10", entered)
	}
}

// hangingUp is a caller who hangs up while the menu waits for a key.
type hangingUp struct{ flow.Script }

var errHungUp = errors.New("caller hung up")

func (h *hangingUp) ReadKey(context.Context, time.Duration) (rune, bool, error) {
	return 0, false, errHungUp
}

// A Caller error ends Run with that error and the trace so far.
func TestRunCallerHangsUp(t *testing.T) {
	h := &hangingUp{flow.Script{Time: at(t, mondayOpen)}}
	tr, err := flow.Run(context.Background(), mainLine(), h, flow.Options{})
	if !errors.Is(err, errHungUp) {
		t.Fatalf("err = %v", err)
	}
	if got := path(tr); got != "hours:entered hours:decision tag:entered menu:entered" {
		t.Fatalf("path %s", got)
	}
}

// The simulation's result carries the actions and tells the step limit apart.
func TestSimulationRun(t *testing.T) {
	sim := flow.Simulation{Time: at(t, mondayOpen), Keys: "1", Outcomes: map[string]flow.Outcome{"sales": flow.NoAnswer}}
	res, err := sim.Run(context.Background(), mainLine(), flow.Options{})
	if err != nil || res.StepLimit {
		t.Fatal(err, res.StepLimit)
	}
	if got := strings.Join(res.Actions, "|"); got != "caller name Main: |play prompt 1|connect queue 7|voicemail 3" {
		t.Fatalf("actions %s", got)
	}
}
