package sip

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard/internal/testpeer"
)

// SIPp (Debian package sip-tester) is an independent SIP implementation: if it registers,
// real phones can. CI installs it; locally the test is skipped when it is missing.
// SIPp 3.6 computes only MD5 digests and reads only the first challenge: these servers run
// with the defaults, which SIPp must register with unchanged.
func requireSIPp(t *testing.T) string {
	t.Helper()
	path := testpeer.Require(t, "sipp", "sip-tester")
	return path
}

// freePort returns a loopback port that was free a moment ago, for SIPp's local socket.
func freePort(t *testing.T, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// runSIPp runs one scenario once per line of users against addr and returns its output
// and whether every call passed.
func runSIPp(t *testing.T, sipp, scenario, network, addr string, users []string) (string, bool) {
	t.Helper()
	dir := t.TempDir()
	inf := filepath.Join(dir, "users.csv")
	var lines strings.Builder
	lines.WriteString("SEQUENTIAL\n")
	for _, u := range users { // "username;password" -> the fields the scenarios read
		name, password, _ := strings.Cut(u, ";")
		fmt.Fprintf(&lines, "%s;[authentication username=%s password=%s]\n", name, name, password)
	}
	if err := os.WriteFile(inf, []byte(lines.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	transport := "u1"
	if network == "tcp" {
		transport = "t1"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sipp, addr,
		"-sf", filepath.Join("testdata", scenario),
		"-inf", inf,
		"-t", transport,
		"-i", "127.0.0.1",
		"-p", strconv.Itoa(freePort(t, network)),
		"-m", strconv.Itoa(len(users)),
		"-r", "50",
		"-timeout", "30s", "-timeout_error",
		"-nostdin", "-trace_err", "-error_file", filepath.Join(dir, "errors.log"),
	)
	cmd.Dir = "."
	out, err := cmd.CombinedOutput()
	if b, rerr := os.ReadFile(filepath.Join(dir, "errors.log")); rerr == nil {
		out = append(out, b...)
	}
	return string(out), err == nil
}

func TestSIPpRegisters(t *testing.T) {
	sipp := requireSIPp(t)
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			e := startServer(t)
			a := e.user(t, "1001")
			b := e.user(t, "1002")
			e.device(t, a, "alice1001", "pw-alice-1")
			e.device(t, b, "bob1002", "pw-bob-22")
			addr := e.udp
			if network == "tcp" {
				addr = e.tcp
			}
			out, ok := runSIPp(t, sipp, "register_digest.xml", network, addr,
				[]string{"alice1001;pw-alice-1", "bob1002;pw-bob-22"})
			if !ok {
				t.Fatalf("sipp failed:\n%s", out)
			}
			for _, u := range []int64{a.ID, b.ID} {
				if on, _ := e.srv.UserPresence(e.account.ID, u); !on {
					t.Errorf("user %d not online after SIPp registered", u)
				}
			}
			if got := e.outcomes(outcomeRegistered); got != 2 {
				t.Errorf("registered outcomes = %v, want 2", got)
			}
		})
	}
}

func TestSIPpWrongPasswordIsRefused(t *testing.T) {
	sipp := requireSIPp(t)
	e := startServer(t)
	a := e.user(t, "1001")
	e.device(t, a, "alice1001", "pw-alice-1")
	out, ok := runSIPp(t, sipp, "register_wrong_password.xml", "udp", e.udp, []string{"alice1001;not-it", "nobody;x"})
	if !ok {
		t.Fatalf("sipp failed (the scenario expects 401 for both):\n%s", out)
	}
	if on, _ := e.srv.UserPresence(e.account.ID, a.ID); on {
		t.Fatal("online with a wrong password")
	}
	if got := e.counter(t, e.srv.metrics.authFailures); got != 2 {
		t.Errorf("auth failures = %v, want 2", got)
	}
}
