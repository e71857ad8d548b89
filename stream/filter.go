package stream

import (
	"slices"
	"strings"

	"switchboard"
	"switchboard/events"
)

// Filter picks events by name: canonical names (or any webhook format's names, which stand
// for their canonical events), "prefix.*" for every canonical name under the prefix
// ("call.*", "queue.member.*") and "*" for all. The zero Filter passes everything.
type Filter struct {
	names    map[string]bool
	prefixes []string // "call." for "call.*"
}

// ParseFilter reads a comma-separated list such as "call.*,queue.entered"; "" passes
// everything. A name that is no event, or a wildcard that matches none, is a BAD_REQUEST.
func ParseFilter(list string) (Filter, error) {
	var f Filter
	var exact, unknown []string
	for raw := range strings.SplitSeq(list, ",") {
		n := strings.TrimSpace(raw)
		switch {
		case n == "":
		case n == "*":
			return Filter{}, nil
		case strings.HasSuffix(n, ".*"):
			prefix := strings.TrimSuffix(n, "*")
			if !slices.ContainsFunc(switchboard.EventNames, func(e string) bool { return strings.HasPrefix(e, prefix) }) {
				unknown = append(unknown, n)
				continue
			}
			f.prefixes = append(f.prefixes, prefix)
		default:
			exact = append(exact, n)
		}
	}
	if len(unknown) > 0 {
		return Filter{}, &switchboard.Error{Code: switchboard.EBADREQUEST,
			Message: "The wildcard(s) " + strings.Join(unknown, ", ") + " match no event name: use a prefix of shared/EVENTS.md's names, such as call.* or queue.*",
			Details: map[string]string{"events": list}}
	}
	if len(exact) > 0 {
		canonical, err := events.ResolveEventFilter(exact)
		if err != nil {
			return Filter{}, err
		}
		f.names = map[string]bool{}
		for _, n := range canonical {
			f.names[n] = true
		}
	}
	return f, nil
}

// Match reports whether the filter passes the event name.
func (f Filter) Match(name string) bool {
	if f.names == nil && f.prefixes == nil {
		return true
	}
	if f.names[name] {
		return true
	}
	for _, p := range f.prefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
