package tstest

import (
	"fmt"
	"net"
	"os"
	"sync"
	"testing"
)

// Loopback ports for peers that bind their own sockets (SIPp, baresip), where a test cannot
// hand over an open socket.
//
// Asking the kernel for port 0 and closing the socket races: the kernel may hand the same
// ephemeral port to the next socket anywhere on the machine before the peer binds it. These
// ports come from below the kernel's ephemeral range (32768–60999 on Linux), so the kernel
// never hands them out, and from a window chosen by the process id, so parallel test
// binaries (go test runs packages at once) rarely meet; a port is used only if it can be
// bound for both UDP and TCP right now, and never twice in one process.
const (
	portRangeLow  = 20000
	portRangeHigh = 32000
	portWindow    = 400
)

var ports struct {
	sync.Mutex
	next int
}

// FreePort returns a loopback port on ip (e.g. "127.0.0.1") that is free for both UDP and
// TCP and that no other call in this process returned.
func FreePort(t testing.TB, ip string) int {
	t.Helper()
	ports.Lock()
	defer ports.Unlock()
	if ports.next == 0 {
		windows := (portRangeHigh - portRangeLow) / portWindow
		ports.next = portRangeLow + (os.Getpid()%windows)*portWindow
	}
	for range portRangeHigh - portRangeLow {
		p := ports.next
		ports.next++
		if ports.next >= portRangeHigh {
			ports.next = portRangeLow
		}
		if bindable(ip, p) {
			return p
		}
	}
	t.Fatalf("no free port on %s between %d and %d", ip, portRangeLow, portRangeHigh)
	return 0
}

func bindable(ip string, port int) bool {
	addr := net.JoinHostPort(ip, fmt.Sprint(port))
	u, err := net.ListenPacket("udp", addr)
	if err != nil {
		return false
	}
	defer u.Close()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// FreePorts returns n distinct ports as FreePort does.
func FreePorts(t testing.TB, ip string, n int) []int {
	t.Helper()
	out := make([]int, n)
	for i := range out {
		out[i] = FreePort(t, ip)
	}
	return out
}
