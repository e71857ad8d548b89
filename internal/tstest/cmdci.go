package tstest

import "testing"

// FreePortPair returns a port p such that p and p+1 are both free for UDP and TCP and
// handed out by no other call in this process: for a peer that binds the next port too,
// as baresip binds SIP over TLS next to its SIP port.
func FreePortPair(t testing.TB, ip string) int {
	t.Helper()
	p := FreePort(t, ip)
	for range portRangeHigh - portRangeLow {
		next := FreePort(t, ip)
		if next == p+1 {
			return p
		}
		p = next
	}
	t.Fatalf("no two free neighbouring ports on %s between %d and %d", ip, portRangeLow, portRangeHigh)
	return 0
}
