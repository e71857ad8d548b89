package pbx_test

import (
	"context"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/testpeer"
	"switchboard/internal/tstest"
)

// SIPp (Debian package sip-tester) is an independent SIP implementation. Here it is both
// carriers: its built-in uac scenario calls one of the account's numbers from the trunk's
// address, the number forwards to an external number, and the PBX dials that out through
// the trunk to SIPp's built-in uas scenario, so every call crosses the B2BUA with both legs'
// media anchored. CI installs SIPp; locally the test is skipped when it is missing.
func TestSIPpCallsThroughTheB2BUA(t *testing.T) {
	sipp := testpeer.Require(t, "sipp", "sip-tester")
	e := newEnv(t)
	uasPort := tstest.FreePort(t, "127.0.0.3")
	e.trunk(&carrier{ua: &ua{addr: "127.0.0.3:" + strconv.Itoa(uasPort)}}, func(tr *switchboard.Trunk) {
		tr.Username, tr.SealedPassword = "", nil
		tr.InboundAddresses = []string{"127.0.0.2"}
	})
	num := &switchboard.Number{AccountID: e.account.ID, Number: "+15550001000", Status: "active",
		Target: switchboard.Target{Type: switchboard.TargetExternal, Number: "+15550002000"}}
	if err := e.db.CreateNumber(context.Background(), num); err != nil {
		t.Fatal(err)
	}

	const calls = 10
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	uas := exec.CommandContext(ctx, sipp, "-sn", "uas", "-i", "127.0.0.3", "-p", strconv.Itoa(uasPort),
		"-m", strconv.Itoa(calls), "-nostdin", "-timeout", "50s")
	uasOut := &tstest.Buffer{}
	uas.Stdout, uas.Stderr = uasOut, uasOut
	if err := uas.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = uas.Wait() }()

	uac := exec.CommandContext(ctx, sipp, "-sn", "uac", "-i", "127.0.0.2", "-p", strconv.Itoa(tstest.FreePort(t, "127.0.0.2")),
		"-s", "+15550001000", "-m", strconv.Itoa(calls), "-r", "5", "-l", "5", "-d", "200", "-nostdin",
		"-timeout", "40s", e.sipAddr)
	out, err := uac.CombinedOutput()
	if err != nil {
		t.Fatalf("SIPp uac failed: %v\n%s\nuas:\n%s", err, lastLines(out, 40), lastLines(uasOut.Bytes(), 20))
	}
	e.waitIdle()
	rs, err := e.db.ListCallRecords(context.Background(), e.account.ID, switchboard.CallRecordFilter{})
	if err != nil {
		t.Fatal(err)
	}
	answered := 0
	for _, r := range rs {
		if r.Disposition == switchboard.DispositionAnswered && r.To == "+15550001000" {
			answered++
		}
	}
	if answered != calls {
		t.Errorf("%d answered call records; want %d", answered, calls)
	}
	if n := e.eng.Ports().InUse(); n != 0 {
		t.Errorf("%d RTP ports in use after SIPp's calls", n)
	}
}

func lastLines(b []byte, n int) string {
	lines := 0
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '\n' {
			lines++
			if lines > n {
				return string(b[i+1:])
			}
		}
	}
	return string(b)
}
