package sip

import "github.com/emiago/sipgo/sip"

// headerOf is the first header of m named name (in any case), as m.GetHeader(name) finds
// it but without its cost: sipgo lower-cases the name of each header it passes, which
// allocates for every name outside its short list (Authorization, Expires, User-Agent…).
func headerOf(m *sip.Request, name string) sip.Header {
	for _, h := range m.Headers() {
		if equalFoldASCII(h.Name(), name) {
			return h
		}
	}
	return nil
}

// headersOf is every header of m named name (in any case), in order, as m.GetHeaders(name).
func headersOf(m *sip.Request, name string) []sip.Header {
	var out []sip.Header
	for _, h := range m.Headers() {
		if equalFoldASCII(h.Name(), name) {
			out = append(out, h)
		}
	}
	return out
}

// equalFoldASCII compares header names as sipgo does: only ASCII letters fold.
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
