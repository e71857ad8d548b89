package events_test

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"switchboard"
	"switchboard/events"
)

func ev(name string, data map[string]any) *switchboard.Event {
	return &switchboard.Event{ID: "evt_1", AccountID: 1, Name: name, Data: data}
}

// TestWireNamesMappingTable checks rows of EVENTS.md's mapping table, cell by cell.
func TestWireNamesMappingTable(t *testing.T) {
	answered := map[string]any{"answered": true, "answered_duration": 77}
	unanswered := map[string]any{"answered": false, "answered_duration": 0}
	tests := []struct {
		format, name string
		data         map[string]any
		want         []string
	}{
		{"voice360", "call.inbound.started", nil, []string{"INCOMING_EXTERNAL_CALL"}},
		{"voice360", "call.inbound.ringing", nil, nil},
		{"voice360", "call.inbound.answered", nil, []string{"USER_ANSWER"}},
		{"voice360", "call.inbound.ended", nil, []string{"CALL_ENDED"}},
		{"voice360", "call.outbound.started", nil, []string{"USER_DIAL"}},
		{"voice360", "call.outbound.ended", nil, []string{"USER_HANGUP", "CALL_ENDED"}},
		{"voice360", "queue.timeout", nil, []string{"QUEUE_HANGUP_TIMEOUT"}},
		{"voice360", "queue.abandoned", nil, []string{"QUEUE_HANGUP_ABANDONED"}},
		{"voice360", "sms.delivered", nil, []string{"SMS_DELIVERED"}},
		{"voice360", "contact.updated", nil, []string{"CONTACT_UPDATED"}},
		{"voice360", "transcription.finished", nil, []string{"TRANSCRIPTION_FINISHED"}},
		{"voice360", "campaign.started", nil, nil},
		{"voiceovercloud", "call.inbound.ringing", nil, []string{"inboundCallRinging"}},
		{"voiceovercloud", "call.outbound.answered", nil, []string{"outboundCallAnswered"}},
		{"voiceovercloud", "ivr.option", nil, []string{"ivrOption"}},
		{"voiceovercloud", "recording.available", nil, []string{"callRecordingAvailable"}},
		{"voiceovercloud", "transcription.finished", nil, []string{"callTranscriptionAvailable"}},
		{"voiceovercloud", "sms.received", nil, nil},
		{"voxpria", "call.inbound.started", nil, []string{"call.started"}},
		{"voxpria", "call.outbound.started", nil, []string{"call.started"}},
		{"voxpria", "call.inbound.ended", answered, []string{"call.completed"}},
		{"voxpria", "call.inbound.ended", unanswered, []string{"call.failed"}},
		{"voxpria", "call.outbound.ended", map[string]any{"answered_duration": 3}, []string{"call.completed"}},
		{"voxpria", "call.outbound.ended", map[string]any{}, []string{"call.failed"}},
		{"voxpria", "call.inbound.answered", nil, nil},
		{"voxpria", "campaign.paused", nil, []string{"campaign.paused"}},
		{"voipline", "call.inbound.ringing", nil, []string{"user_inbound_call"}},
		{"voipline", "call.inbound.ended", nil, []string{"user_inbound_call_completed"}},
		{"voipline", "call.outbound.answered", nil, []string{"user_outbound_call_answered"}},
		{"voipline", "recording.available", map[string]any{"direction": "inbound"}, []string{"inbound_call_recording"}},
		{"voipline", "recording.available", map[string]any{"direction": "outbound"}, []string{"outbound_call_recording"}},
		{"voipline", "voicemail.left", nil, []string{"voicemail"}},
		{"voipline", "flow.webhook", nil, []string{"webhook_component_event"}},
		{"voipline", "queue.call.summary", nil, []string{"queue_call_summary"}},
		{"voipline", "ringgroup.call.summary", nil, []string{"ring_group_call_summary"}},
		{"voipline", "call.inbound.started", nil, nil},
		{"standard", "presence.changed", nil, []string{"presence.changed"}},
		{"standard", "call.outbound.ended", nil, []string{"call.outbound.ended"}},
		{"standard", "no.such.event", nil, nil},
		{"nosuchformat", "call.inbound.started", nil, nil},
	}
	for _, tt := range tests {
		got := events.WireNames(tt.format, ev(tt.name, tt.data))
		if !slices.Equal(got, tt.want) {
			t.Errorf("WireNames(%s, %s, %v) = %q, want %q", tt.format, tt.name, tt.data, got, tt.want)
		}
	}
}

// TestPresenceIsOnlyStandard: the table's last row has no provider event.
func TestPresenceIsOnlyStandard(t *testing.T) {
	for _, f := range events.Formats {
		got := events.WireNames(f, ev(switchboard.EventPresenceChanged, nil))
		if (f == "standard") != (len(got) == 1) {
			t.Errorf("%s: presence.changed -> %q", f, got)
		}
	}
}

// TestWireNamesAfterStoreRoundTrip: the store gives Data back JSON-decoded (numbers as
// float64); the data-dependent names must not change.
func TestWireNamesAfterStoreRoundTrip(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, f := range events.Formats {
		for _, name := range switchboard.EventNames {
			e := events.Example(name, 7, now)
			raw, err := json.Marshal(e.Data)
			if err != nil {
				t.Fatal(err)
			}
			back := *e
			back.Data = nil
			if err := json.Unmarshal(raw, &back.Data); err != nil {
				t.Fatal(err)
			}
			if a, b := events.WireNames(f, e), events.WireNames(f, &back); !slices.Equal(a, b) {
				t.Errorf("%s %s: fresh %q, after JSON %q", f, name, a, b)
			}
		}
	}
}

func TestResolveEventFilter(t *testing.T) {
	tests := []struct {
		in   []string
		want []string
	}{
		{[]string{"call.inbound.ended"}, []string{"call.inbound.ended"}},
		{[]string{"CALL_ENDED"}, []string{"call.inbound.ended", "call.outbound.ended"}},
		{[]string{"USER_HANGUP"}, []string{"call.outbound.ended"}},
		{[]string{"call.completed"}, []string{"call.inbound.ended", "call.outbound.ended"}},
		{[]string{"call.started"}, []string{"call.inbound.started", "call.outbound.started"}},
		{[]string{"inboundCallRinging", "user_inbound_call"}, []string{"call.inbound.ringing"}},
		{[]string{"outbound_call_recording"}, []string{"recording.available"}},
		{[]string{"sms.sent", "SMS_SENT", "QUEUE_ENTER", "contact.created"},
			[]string{"contact.created", "queue.entered", "sms.sent"}},
		{[]string{"*"}, []string{"*"}},
		{[]string{"SMS_SENT", "*"}, []string{"*"}},
		{[]string{"presence.changed"}, []string{"presence.changed"}},
	}
	for _, tt := range tests {
		got, err := events.ResolveEventFilter(tt.in)
		if err != nil {
			t.Errorf("ResolveEventFilter(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ResolveEventFilter(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestResolveEventFilterRejectsUnknownNames(t *testing.T) {
	_, err := events.ResolveEventFilter([]string{"CALL_ENDED", "call.ended", "Sms_Sent", ""})
	var e *switchboard.Error
	if !errors.As(err, &e) || e.Code != switchboard.EBADREQUEST {
		t.Fatalf("err = %v, want a BAD_REQUEST *switchboard.Error", err)
	}
	for _, name := range []string{"call.ended", "Sms_Sent", ""} {
		if _, ok := e.Details[name]; !ok {
			t.Errorf("details %v do not name %q", e.Details, name)
		}
	}
	if _, ok := e.Details["CALL_ENDED"]; ok {
		t.Errorf("details name the known CALL_ENDED: %v", e.Details)
	}
	if _, err := events.ResolveEventFilter(nil); switchboard.ErrorCode(err) != switchboard.EBADREQUEST {
		t.Errorf("empty filter: err = %v, want BAD_REQUEST", err)
	}
}

// TestEveryProviderNameResolves: every name a format can send is accepted in a filter and
// resolves to a canonical event that the format sends under that name.
func TestEveryProviderNameResolves(t *testing.T) {
	now := time.Now()
	for _, f := range events.Formats {
		for _, name := range switchboard.EventNames {
			for _, wire := range events.WireNames(f, events.Example(name, 1, now)) {
				got, err := events.ResolveEventFilter([]string{wire})
				if err != nil || !slices.Contains(got, name) {
					t.Errorf("%s: %q resolves to %q, %v; want it to include %s", f, wire, got, err, name)
				}
			}
		}
	}
}

func TestExampleCoversEveryEvent(t *testing.T) {
	now := time.Date(2026, 5, 20, 18, 30, 0, 0, time.UTC)
	for _, name := range switchboard.EventNames {
		e := events.Example(name, 42, now)
		if e == nil {
			t.Errorf("no example for %s", name)
			continue
		}
		if e.Name != name || e.AccountID != 42 || !e.OccurredAt.Equal(now) || len(e.Data) == 0 || e.ID == "" {
			t.Errorf("example %s = %+v", name, e)
		}
	}
	if events.Example("no.such.event", 1, now) != nil {
		t.Error("an unknown name has an example")
	}
	// Examples do not share state: changing one leaves the next untouched.
	a := events.Example(switchboard.EventSMSSent, 1, now)
	a.Data["to"].([]string)[0] = "changed"
	a.Data["body"] = "changed"
	b := events.Example(switchboard.EventSMSSent, 1, now)
	if b.Data["body"] == "changed" || b.Data["to"].([]string)[0] == "changed" {
		t.Error("examples share their data")
	}
	if a.ID == b.ID {
		t.Error("two examples have the same event id")
	}
}

func TestExampleValuesComeFromTheDocuments(t *testing.T) {
	e := events.Example(switchboard.EventCallInboundStarted, 12345, time.Now())
	if e.CallID != "1704067200.12345" || events.String(e.Data, "from") != "+15551234567" ||
		events.String(e.Data, "caller_name") != "John Doe" || events.String(e.Data, "to") != "+15559876543" {
		t.Errorf("call.inbound.started example = %+v", e)
	}
	if got := events.WireNames("voxpria", events.Example(switchboard.EventCallInboundEnded, 1, time.Now())); !slices.Equal(got, []string{"call.completed"}) {
		t.Errorf("the ended example is sent to voxpria as %q, want call.completed (the document's example)", got)
	}
}
