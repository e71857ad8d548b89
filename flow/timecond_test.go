package flow_test

import (
	"testing"
	"time"

	"switchboard"
	"switchboard/flow"
)

func berlinHours() *switchboard.FlowNode {
	return &switchboard.FlowNode{Type: "time_condition", TimeZone: "Europe/Berlin", Then: "open", Else: "closed",
		Open: []switchboard.OpenHours{
			{Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "09:00", To: "17:00"},
			{Days: []string{"sat"}, From: "22:00", To: "02:00"}, // overnight into Sunday
		},
		Exceptions: []switchboard.DateException{
			{Date: "2026-12-25", Name: "Christmas"},
			{Date: "2026-12-24", Name: "Christmas Eve", Open: []switchboard.OpenHours{{From: "09:00", To: "12:00"}}},
			{Date: "2026-03-29", Name: "Sunday special", Open: []switchboard.OpenHours{{From: "10:00", To: "11:00"}}},
		}}
}

func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Hours are wall-clock in the zone, across both DST changes; exceptions win over the
// weekly hours; an overnight range counts on the next morning; the override wins over all.
func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		name, at string
		open     bool
		reason   string
	}{
		{"weekday open", "2026-06-01T09:30:00+02:00", true, "open: Mon 09:00-17:00 Europe/Berlin"},
		{"weekday before opening", "2026-06-01T08:59:00+02:00", false, "closed: outside open hours (Mon 08:59 Europe/Berlin)"},
		{"end is exclusive", "2026-06-01T17:00:00+02:00", false, "closed: outside open hours (Mon 17:00 Europe/Berlin)"},
		// 07:30 UTC is 08:30 in winter (closed) and 09:30 in summer (open): the zone's rules, not a fixed offset.
		{"winter, before DST", "2026-03-27T07:30:00Z", false, "closed: outside open hours (Fri 08:30 Europe/Berlin)"},
		{"summer, after DST starts", "2026-03-30T07:30:00Z", true, "open: Mon 09:00-17:00 Europe/Berlin"},
		{"summer, last day", "2026-10-23T15:30:00Z", false, "closed: outside open hours (Fri 17:30 Europe/Berlin)"},
		{"winter, after DST ends", "2026-10-26T15:30:00Z", true, "open: Mon 09:00-17:00 Europe/Berlin"},
		{"holiday on a weekday", "2026-12-25T10:00:00+01:00", false, "closed: holiday 2026-12-25 Christmas"},
		{"half day, morning", "2026-12-24T11:59:00+01:00", true, "open: special hours 2026-12-24 Christmas Eve 09:00-12:00 Europe/Berlin"},
		{"half day, afternoon", "2026-12-24T14:00:00+01:00", false, "closed: special hours 2026-12-24 Christmas Eve (14:00 Europe/Berlin)"},
		{"overnight, evening", "2026-06-06T23:00:00+02:00", true, "open: Sat 22:00-02:00 Europe/Berlin"},
		{"overnight, next morning", "2026-06-07T01:30:00+02:00", true, "open: Sat 22:00-02:00 Europe/Berlin"},
		{"overnight over", "2026-06-07T02:00:00+02:00", false, "closed: outside open hours (Sun 02:00 Europe/Berlin)"},
		// Sunday 2026-03-29 is the day clocks go forward at 02:00: the Saturday night range
		// still ends at 02:00 wall clock, which is then 03:00.
		{"overnight on DST night", "2026-03-29T00:30:00Z", true, "open: Sat 22:00-02:00 Europe/Berlin"},
		{"special hours on a Sunday", "2026-03-29T10:30:00+02:00", true, "open: special hours 2026-03-29 Sunday special 10:00-11:00 Europe/Berlin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			open, reason := flow.Decide(berlinHours(), at(t, tc.at))
			if open != tc.open || reason != tc.reason {
				t.Fatalf("Decide = %v %q, want %v %q", open, reason, tc.open, tc.reason)
			}
		})
	}
}

// A closed-all-day exception also closes the early hours an overnight range of the day
// before would have opened.
func TestDecideHolidayAfterOvernight(t *testing.T) {
	n := berlinHours()
	n.Exceptions = append(n.Exceptions, switchboard.DateException{Date: "2026-06-07", Name: "Closed Sunday"})
	open, reason := flow.Decide(n, at(t, "2026-06-07T01:30:00+02:00"))
	if open || reason != "closed: holiday 2026-06-07 Closed Sunday" {
		t.Fatalf("Decide = %v %q", open, reason)
	}
}

// The manual override decides over the hours and the exceptions, until it lapses.
func TestDecideOverride(t *testing.T) {
	n := berlinHours()
	n.Override = switchboard.OverrideClosed
	if open, reason := flow.Decide(n, at(t, "2026-06-01T10:00:00+02:00")); open || reason != "closed: override" {
		t.Fatalf("closed override in open hours: %v %q", open, reason)
	}
	n.Override = switchboard.OverrideOpen
	if open, reason := flow.Decide(n, at(t, "2026-12-25T10:00:00+01:00")); !open || reason != "open: override" {
		t.Fatalf("open override on a holiday: %v %q", open, reason)
	}
	until := at(t, "2026-06-01T18:00:00+02:00")
	n.Override, n.OverrideUntil = switchboard.OverrideClosed, &until
	if open, _ := flow.Decide(n, at(t, "2026-06-01T17:59:00+02:00")); open {
		t.Fatal("override not in force before until")
	}
	if open, reason := flow.Decide(n, at(t, "2026-06-02T10:00:00+02:00")); !open || reason != "open: Tue 09:00-17:00 Europe/Berlin" {
		t.Fatalf("lapsed override still decides: %v %q", open, reason)
	}
}
