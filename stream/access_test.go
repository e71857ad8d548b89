package stream_test

import (
	"encoding/json"
	"testing"

	"switchboard/stream"
)

func TestVisible(t *testing.T) {
	const john, jane = 7, 8
	for _, tc := range []struct {
		name string
		data map[string]any
		user int64
		want bool
	}{
		{"developer key sees an event naming nobody", map[string]any{"contact_id": 1}, 0, true},
		{"developer key sees another user's call", map[string]any{"user_id": jane}, 0, true},
		{"own call", map[string]any{"user_id": john}, john, true},
		{"own call, id read back from JSON", map[string]any{"user_id": float64(john)}, john, true},
		{"own call, json.Number", map[string]any{"user_id": json.Number("7")}, john, true},
		{"someone else's call", map[string]any{"user_id": jane}, john, false},
		{"answered by me", map[string]any{"user_id": jane, "answered_by_user_id": john}, john, true},
		{"transferred to me", map[string]any{"user_id": jane, "transfer_to_user_id": int64(john)}, john, true},
		{"ringing me", map[string]any{"ringing_user_id": john}, john, true},
		{"event of the account, naming nobody", map[string]any{"contact_id": 1}, john, false},
		{"a number that only looks like my id", map[string]any{"queue_id": john, "extension": john}, john, false},
		{"no data", nil, john, false},
		{"a fractional id is no id", map[string]any{"user_id": 7.5}, john, false},
	} {
		if got := stream.Visible(tc.data, tc.user); got != tc.want {
			t.Errorf("%s: Visible = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestParseFilter(t *testing.T) {
	for _, tc := range []struct {
		list    string
		match   []string
		nomatch []string
		bad     bool
	}{
		{list: "", match: []string{"call.inbound.started", "contact.created"}},
		{list: "*", match: []string{"sms.sent"}},
		{list: "call.*,queue.entered", match: []string{"call.inbound.started", "call.transferred", "queue.entered"},
			nomatch: []string{"queue.left", "contact.created"}},
		{list: "queue.member.*", match: []string{"queue.member.ringing"}, nomatch: []string{"queue.entered"}},
		{list: "CALL_ENDED", match: []string{"call.inbound.ended", "call.outbound.ended"}, nomatch: []string{"call.inbound.started"}},
		{list: " sms.sent , ", match: []string{"sms.sent"}, nomatch: []string{"sms.received"}},
		{list: "nope.*", bad: true},
		{list: "call.bogus", bad: true},
	} {
		f, err := stream.ParseFilter(tc.list)
		if (err != nil) != tc.bad {
			t.Errorf("%q: err %v", tc.list, err)
			continue
		}
		for _, n := range tc.match {
			if !f.Match(n) {
				t.Errorf("%q does not match %s", tc.list, n)
			}
		}
		for _, n := range tc.nomatch {
			if f.Match(n) {
				t.Errorf("%q matches %s", tc.list, n)
			}
		}
	}
}
