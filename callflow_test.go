package switchboard_test

import (
	"encoding/json"
	"strings"
	"testing"

	"switchboard"
)

// validFlow is business hours -> menu -> queue -> voicemail: every rule holds.
func validFlow() *switchboard.CallFlow {
	one := 1
	return &switchboard.CallFlow{AccountID: 1, Name: "Main line", Start: "hours", Nodes: map[string]switchboard.FlowNode{
		"hours": {Type: "time_condition", TimeZone: "Europe/Berlin", Then: "menu", Else: "closed",
			Open:       []switchboard.OpenHours{{Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "09:00", To: "17:00"}},
			Exceptions: []switchboard.DateException{{Date: "2026-12-25", Name: "Christmas"}}},
		"closed":  {Type: "announcement", PromptID: 2, Next: "mailbox"},
		"menu":    {Type: "ivr", Name: "Main", PromptID: 1, Options: map[string]string{"1": "sales", "0": "menu"}, TimeoutS: 5, Retries: &one, Timeout: "mailbox", Invalid: "mailbox"},
		"sales":   {Type: "queue", QueueID: 7, Next: "mailbox"},
		"mailbox": {Type: "voicemail", VoicemailBoxID: 3},
	}}
}

func TestCallFlowValidAccepted(t *testing.T) {
	if err := validFlow().Validate(); err != nil {
		t.Fatal(err)
	}
}

// Each rule, broken once, is refused naming the node and the field with the problem.
func TestCallFlowValidation(t *testing.T) {
	for _, tc := range []struct {
		name         string
		change       func(f *switchboard.CallFlow)
		field, words string
	}{
		{"unknown node type", func(f *switchboard.CallFlow) { f.Nodes["sales"] = switchboard.FlowNode{Type: "sms"} },
			"nodes.sales.type", `"sms" is not a node type`},
		{"dangling option", func(f *switchboard.CallFlow) { f.Nodes["menu"].Options["1"] = "support" },
			"nodes.menu.options.1", `node "support" does not exist`},
		{"dangling next", func(f *switchboard.CallFlow) { n := f.Nodes["sales"]; n.Next = "nobody"; f.Nodes["sales"] = n },
			"nodes.sales.next", `node "nobody" does not exist`},
		{"dangling start", func(f *switchboard.CallFlow) { f.Start = "begin" }, "start", `node "begin" does not exist`},
		{"unreachable node", func(f *switchboard.CallFlow) { f.Nodes["orphan"] = switchboard.FlowNode{Type: "hangup"} },
			"nodes.orphan", "cannot be reached from start"},
		{"loop without ivr", func(f *switchboard.CallFlow) {
			f.Nodes["sales"] = switchboard.FlowNode{Type: "queue", QueueID: 7, Next: "backup"}
			f.Nodes["backup"] = switchboard.FlowNode{Type: "ring_group", RingGroupID: 2, Next: "sales"}
		}, "nodes.backup", "is on a loop without an ivr (backup -> sales -> backup)"},
		{"self loop", func(f *switchboard.CallFlow) { n := f.Nodes["sales"]; n.Next = "sales"; f.Nodes["sales"] = n },
			"nodes.sales.next", "cannot lead to itself"},
		{"ivr without prompt", func(f *switchboard.CallFlow) { n := f.Nodes["menu"]; n.PromptID = 0; f.Nodes["menu"] = n },
			"nodes.menu.prompt_id", "is required for a ivr node"},
		{"queue without queue", func(f *switchboard.CallFlow) { f.Nodes["sales"] = switchboard.FlowNode{Type: "queue", Next: "mailbox"} },
			"nodes.sales.queue_id", "is required for a queue node"},
		{"time condition without else", func(f *switchboard.CallFlow) { n := f.Nodes["hours"]; n.Else = ""; f.Nodes["hours"] = n },
			"nodes.hours.else", "is required"},
		{"bad key", func(f *switchboard.CallFlow) { f.Nodes["menu"].Options["A"] = "sales" },
			"nodes.menu.options.A", "keys must be one of 0-9, * or #"},
		{"two-digit key", func(f *switchboard.CallFlow) { f.Nodes["menu"].Options["12"] = "sales" },
			"nodes.menu.options.12", "keys must be one of 0-9, * or #"},
		{"timeout too long", func(f *switchboard.CallFlow) { n := f.Nodes["menu"]; n.TimeoutS = 61; f.Nodes["menu"] = n },
			"nodes.menu.timeout_s", "between 1 and 60"},
		{"negative timeout", func(f *switchboard.CallFlow) { n := f.Nodes["menu"]; n.TimeoutS = -1; f.Nodes["menu"] = n },
			"nodes.menu.timeout_s", "between 1 and 60"},
		{"too many retries", func(f *switchboard.CallFlow) { n := f.Nodes["menu"]; r := 10; n.Retries = &r; f.Nodes["menu"] = n },
			"nodes.menu.retries", "between 0 and 9"},
		{"bad time zone", func(f *switchboard.CallFlow) {
			n := f.Nodes["hours"]
			n.TimeZone = "Mars/Olympus"
			f.Nodes["hours"] = n
		},
			"nodes.hours.time_zone", `"Mars/Olympus" is not an IANA time zone`},
		{"bad open time", func(f *switchboard.CallFlow) { f.Nodes["hours"].Open[0].To = "25:00" },
			"nodes.hours.open.0.to", "must be a time HH:MM"},
		{"bad day", func(f *switchboard.CallFlow) { f.Nodes["hours"].Open[0].Days[0] = "monday" },
			"nodes.hours.open.0.days", `"monday" is not a day`},
		{"bad exception date", func(f *switchboard.CallFlow) { f.Nodes["hours"].Exceptions[0].Date = "25.12.2026" },
			"nodes.hours.exceptions.0.date", "must be a date YYYY-MM-DD"},
		{"bad override", func(f *switchboard.CallFlow) { n := f.Nodes["hours"]; n.Override = "shut"; f.Nodes["hours"] = n },
			"nodes.hours.override", `must be "open", "closed" or empty`},
		{"webhook ftp url", func(f *switchboard.CallFlow) {
			f.Nodes["sales"] = switchboard.FlowNode{Type: "webhook", URL: "ftp://example.com/x", Next: "mailbox"}
		}, "nodes.sales.url", "must be an http or https URL with a host"},
		{"webhook url without host", func(f *switchboard.CallFlow) {
			f.Nodes["sales"] = switchboard.FlowNode{Type: "webhook", URL: "https:///x", Next: "mailbox"}
		}, "nodes.sales.url", "must be an http or https URL with a host"},
		{"webhook header name", func(f *switchboard.CallFlow) {
			f.Nodes["sales"] = switchboard.FlowNode{Type: "webhook", URL: "https://example.com/x", Headers: map[string]string{"Bad Header": "1"}, Next: "mailbox"}
		}, "nodes.sales.headers.Bad Header", "header names must be"},
		{"forward not E.164", func(f *switchboard.CallFlow) {
			f.Nodes["sales"] = switchboard.FlowNode{Type: "forward", Number: "0301234", Next: "mailbox"}
		}, "nodes.sales.number", "must be an E.164 number"},
		{"long menu name", func(f *switchboard.CallFlow) {
			n := f.Nodes["menu"]
			n.Name = strings.Repeat("x", 201)
			f.Nodes["menu"] = n
		},
			"nodes.menu.name", "at most 200 characters"},
		{"long flow name", func(f *switchboard.CallFlow) { f.Name = strings.Repeat("x", 101) }, "name", "at most 100 characters"},
		{"bad language", func(f *switchboard.CallFlow) {
			f.Nodes["sales"] = switchboard.FlowNode{Type: "set_language", Language: "German", Next: "mailbox"}
		}, "nodes.sales.language", "must be a language tag"},
		{"bad node name", func(f *switchboard.CallFlow) { f.Nodes["bad name"] = switchboard.FlowNode{Type: "hangup"} },
			"nodes.bad name", "node names must be"},
		{"no nodes", func(f *switchboard.CallFlow) { f.Nodes = nil }, "nodes", "at least one node"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := validFlow()
			tc.change(f)
			err := f.Validate()
			e, ok := err.(*switchboard.Error)
			if !ok || e.Code != switchboard.EBADREQUEST {
				t.Fatalf("Validate = %v, want BAD_REQUEST", err)
			}
			if got := e.Details[tc.field]; !strings.Contains(got, tc.words) {
				t.Fatalf("details[%q] = %q, want it to say %q (all: %v)", tc.field, got, tc.words, e.Details)
			}
		})
	}
}

// A loop through an ivr is allowed: the caller chooses to go round, the engine does not.
func TestCallFlowLoopThroughIVRAccepted(t *testing.T) {
	f := validFlow()
	f.Nodes["sales"] = switchboard.FlowNode{Type: "queue", QueueID: 7, Next: "back"}
	f.Nodes["back"] = switchboard.FlowNode{Type: "announcement", PromptID: 4, Next: "menu"}
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
}

// box_id is read as voicemail_box_id; the node is written back with voicemail_box_id.
func TestFlowNodeBoxIDAlias(t *testing.T) {
	var n switchboard.FlowNode
	if err := json.Unmarshal([]byte(`{"type":"voicemail","box_id":9}`), &n); err != nil {
		t.Fatal(err)
	}
	if n.VoicemailBoxID != 9 {
		t.Fatalf("box_id read as %d", n.VoicemailBoxID)
	}
	b, _ := json.Marshal(n)
	if string(b) != `{"type":"voicemail","voicemail_box_id":9}` {
		t.Fatalf("written as %s", b)
	}
}
