// Package testpeer finds the real SIP peers (SIPp, baresip) that integration tests drive.
package testpeer

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Require returns the path of the program name. When it is missing the test is skipped on a
// developer's machine, but fails under CI (CI=true), where .ci/run installs it: a peer that
// silently went missing must not turn the suite green.
func Require(t testing.TB, name, debianPackage string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	msg := name + " is not installed (apt-get install -y " + debianPackage + ")"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + "; .ci/run should have installed it")
	}
	t.Skip(msg + "; CI installs it")
	return ""
}

// UDPBound reports whether some process has a UDP socket bound to ip:port (IPv4), read from
// /proc/net/udp: a test waits with it for a peer it started to listen, without binding the
// port itself, which would race the peer for it.
func UDPBound(ip string, port int) bool {
	addr, err := netip.ParseAddr(ip)
	if err != nil || !addr.Is4() {
		return false
	}
	b := addr.As4()
	// /proc/net/udp writes an IPv4 address as one little-endian word in hex.
	want := fmt.Sprintf("%02X%02X%02X%02X:%04X", b[3], b[2], b[1], b[0], port)
	data, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[1] == want {
			return true
		}
	}
	return false
}
