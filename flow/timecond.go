package flow

import (
	"fmt"
	"strings"
	"time"

	"switchboard"
)

// Decide tells whether a time_condition node is open at now, and why, in words for the
// trace: "open: Mon 09:00-17:00 Europe/Berlin", "closed: holiday 2026-12-25 Christmas",
// "closed: override". The manual override comes first, then a dated exception for the
// day (closed all day, or its special hours), then the weekly hours. Hours are wall-clock
// times in the node's zone, so they follow daylight saving time. A range that ends before
// it starts runs past midnight: its early-morning part counts on the next day, unless that
// day is closed all day by an exception.
func Decide(n *switchboard.FlowNode, now time.Time) (open bool, reason string) {
	if n.Override != switchboard.OverrideNone && (n.OverrideUntil == nil || now.Before(*n.OverrideUntil)) {
		return n.Override == switchboard.OverrideOpen, n.Override + ": override"
	}
	loc, err := time.LoadLocation(n.TimeZone)
	if err != nil { // refused on write; a zone the host lost since is closed, and says so
		return false, fmt.Sprintf("closed: unknown time zone %q", n.TimeZone)
	}
	t := now.In(loc)
	minute := t.Hour()*60 + t.Minute()
	today, todayException := hoursOf(n, t)
	if todayException != nil && len(todayException.Open) == 0 {
		return false, "closed: holiday " + exceptionName(todayException)
	}
	for _, r := range today {
		from, _ := switchboard.ParseClock(r.From)
		to, _ := switchboard.ParseClock(r.To)
		if minute >= from && (minute < to || to < from) {
			return true, "open: " + describe(t, r, todayException, n.TimeZone)
		}
	}
	yesterday, yException := hoursOf(n, t.AddDate(0, 0, -1))
	for _, r := range yesterday {
		from, _ := switchboard.ParseClock(r.From)
		to, _ := switchboard.ParseClock(r.To)
		if to < from && minute < to {
			return true, "open: " + describe(t.AddDate(0, 0, -1), r, yException, n.TimeZone)
		}
	}
	if todayException != nil {
		return false, fmt.Sprintf("closed: special hours %s (%s %s)", exceptionName(todayException), t.Format("15:04"), n.TimeZone)
	}
	return false, fmt.Sprintf("closed: outside open hours (%s %s %s)", t.Format("Mon"), t.Format("15:04"), n.TimeZone)
}

// hoursOf returns the ranges that apply on t's date: the exception's when the date has
// one (then also returned), else the weekly ranges of t's weekday.
func hoursOf(n *switchboard.FlowNode, t time.Time) ([]switchboard.OpenHours, *switchboard.DateException) {
	date := t.Format("2006-01-02")
	for i := range n.Exceptions {
		if n.Exceptions[i].Date == date {
			return n.Exceptions[i].Open, &n.Exceptions[i]
		}
	}
	day := switchboard.Weekdays[t.Weekday()]
	var out []switchboard.OpenHours
	for _, r := range n.Open {
		for _, d := range r.Days {
			if strings.EqualFold(d, day) {
				out = append(out, r)
				break
			}
		}
	}
	return out, nil
}

func exceptionName(e *switchboard.DateException) string {
	if e.Name == "" {
		return e.Date
	}
	return e.Date + " " + e.Name
}

func describe(day time.Time, r switchboard.OpenHours, e *switchboard.DateException, zone string) string {
	if e != nil {
		return fmt.Sprintf("special hours %s %s-%s %s", exceptionName(e), r.From, r.To, zone)
	}
	return fmt.Sprintf("%s %s-%s %s", day.Format("Mon"), r.From, r.To, zone)
}
