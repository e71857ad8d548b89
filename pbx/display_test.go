package pbx_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"switchboard"
)

// A long display name made of multi-byte characters is shortened on a character boundary:
// the callee's INVITE carries valid UTF-8 in From (issue 14, F4).
func TestLongDisplayNameStaysValidUTF8(t *testing.T) {
	e := newEnv(t)
	// 1 + 2×40 bytes: a cut at byte 64 would fall inside an "é".
	name := "a" + strings.Repeat("é", 40)
	ua1 := e.user("1001", func(u *switchboard.User) { u.FirstName, u.LastName = name, "" })
	ub := e.user("1002")
	e.device(ua1, "alice", "alice-pw-1")
	e.device(ub, "bob", "bob-pw-1")
	alice := newUA(t, "127.0.0.1", "alice")
	bob := newUA(t, "127.0.0.1", "bob")
	alice.register(e, "alice", "alice-pw-1")
	bob.register(e, "bob", "bob-pw-1")

	c := alice.dial(e, "1002", "alice", "alice-pw-1")
	in := bob.next()
	got := in.req.From().DisplayName
	if !utf8.ValidString(got) {
		t.Fatalf("From display name %q is not valid UTF-8", got)
	}
	if got == "" || !strings.HasPrefix(name, got) || len(got) > 64 {
		t.Errorf("From display name %q; want a prefix of the caller's name of at most 64 bytes", got)
	}
	in.reject(t, 486, "Busy Here")
	c.finalCode(t)
}
