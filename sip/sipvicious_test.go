package sip

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard/internal/testpeer"
	"switchboard/internal/tstest"
)

// runSipvicious runs one of sipvicious's tools (Debian's sipvicious package) from srcIP and
// returns what it printed. The tools stop on their own; the context bounds a hung one.
func runSipvicious(t *testing.T, tool, srcIP string, args ...string) string {
	t.Helper()
	path := testpeer.Require(t, tool, "sipvicious")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	port := tstest.FreePort(t, srcIP)
	cmd := exec.CommandContext(ctx, path, append([]string{"-b", srcIP, "-P", strconv.Itoa(port)}, args...)...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "HOME="+cmd.Dir)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s did not finish: %s", tool, out)
	}
	t.Logf("%s %s: err %v\n%s", tool, strings.Join(args, " "), err, out)
	return string(out)
}

// sipvicious, the usual first tool of a SIP attacker, against the UDP port (its OSS edition
// speaks no TCP; TLS is tested with the TLS listener): svmap sees a SIP server but no
// product version, svwar --force cannot tell existing extensions from others (every
// REGISTER gets the same 401), and svcrack is banned before it reaches the password even
// when the operator offers MD5 first, the one algorithm it knows (with SHA-256 first, the
// default, it cannot even start).
func TestSipviciousFindsNothing(t *testing.T) {
	e := startServer(t)
	for _, ext := range []string{"1001", "1002", "1005"} {
		u := e.user(t, ext)
		e.device(t, u, ext, "s3cret-pass-"+ext)
	}
	_, port, _ := strings.Cut(e.udp, ":")

	out := runSipvicious(t, "svmap", "127.0.0.2", "-p", port, "127.0.0.1")
	if !strings.Contains(out, "Switchboard") {
		t.Errorf("svmap did not see the server at all (is it scanning the right port?):\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		cols := strings.Split(line, "|")
		if len(cols) == 4 && strings.Contains(cols[1], ":"+port) && versionRE.MatchString(cols[2]) {
			t.Errorf("svmap found a version in the user agent: %s", line)
		}
	}

	out = runSipvicious(t, "svwar", "127.0.0.3", "--force", "-e", "1000-1010", "udp://"+e.udp)
	for _, ext := range []string{"1001", "1002", "1005"} {
		if strings.Contains(out, "| "+ext+" ") {
			t.Errorf("svwar enumerated extension %s:\n%s", ext, out)
		}
	}
	if !strings.Contains(out, "found nothing") {
		t.Errorf("svwar did not report finding nothing:\n%s", out)
	}

	// 30 wrong guesses, then the password: the ban (10 failures) comes first.
	dict := filepath.Join(t.TempDir(), "words")
	var words []string
	for i := range 30 {
		words = append(words, "guess"+strconv.Itoa(i))
	}
	words = append(words, "s3cret-pass-1001")
	if err := os.WriteFile(dict, []byte(strings.Join(words, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bansBefore := e.counter(t, e.srv.metrics.bans)
	out = runSipvicious(t, "svcrack", "127.0.0.4", "-u", "1001", "-d", dict, "udp://"+e.udp)
	if strings.Contains(out, "s3cret-pass") {
		t.Errorf("svcrack found the password:\n%s", out)
	}
	if got := e.counter(t, e.srv.metrics.bans); got != bansBefore+1 {
		t.Errorf("bans went from %v to %v during svcrack; want one more", bansBefore, got)
	}
	// svcrack does not pass its -b to the socket: it sends from 127.0.0.1.
	if !e.srv.bans.isBanned(netip.MustParseAddr("127.0.0.1")) {
		t.Errorf("svcrack's address 127.0.0.1 is not banned")
	}
	// svcrack with the default challenges (SHA-256 first) gets nowhere either.
	e2 := startServer(t)
	u := e2.user(t, "1001")
	e2.device(t, u, "1001", "s3cret-pass-1001")
	out = runSipvicious(t, "svcrack", "127.0.0.5", "-u", "1001", "-d", dict, "udp://"+e2.udp)
	if strings.Contains(out, "s3cret-pass") {
		t.Errorf("svcrack found the password:\n%s", out)
	}
}

// versionRE matches a product version such as "Switchboard/1.2" or "1.2.3".
var versionRE = regexp.MustCompile(`[0-9]+\.[0-9]+(\.[0-9]+)?`)
