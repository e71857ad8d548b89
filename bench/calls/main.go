// Command calls benchmarks the call engine with SIPp as both carriers: SIPp's uac calls a
// number of the account from the trunk's address; the number forwards to an external
// number, which the PBX dials out through the trunk to SIPp's uas. Every call therefore
// crosses the B2BUA with two SIP dialogs and two anchored RTP legs.
//
//	go run ./bench/calls -mode setup -calls 6000 -rate 300   # call set-ups per second
//	go run ./bench/calls -mode rtp -calls 500 -hold 20s       # concurrent calls with RTP
//
// In rtp mode SIPp's uac plays a generated PCMU stream (50 packets/s) into each call and
// the uas echoes it back (-rtp_echo), so each anchored leg carries 50 pps each way; loss is
// read from the engine's RTP counters. In setup mode a baseline follows in the same run: the
// same uac calling the uas directly, no B2BUA, at the same rate and count. The result is printed as a Markdown block for
// docs/benchmarks.md (bench/calls/run.sh puts it between the calls markers).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"switchboard"
	"switchboard/bench/internal/benchpbx"
)

func main() {
	mode := flag.String("mode", "setup", "setup (call set-ups per second) or rtp (concurrent calls with RTP)")
	calls := flag.Int("calls", 3000, "calls to place")
	rate := flag.Int("rate", 300, "offered call rate per second")
	hold := flag.Duration("hold", 0, "how long each call stays up (default: setup 0 s, rtp 20 s)")
	flag.Parse()
	if *hold == 0 && *mode == "rtp" {
		*hold = 20 * time.Second
	}
	if err := run(*mode, *calls, *rate, *hold); err != nil {
		log.Fatal(err)
	}
}

func run(mode string, calls, rate int, hold time.Duration) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := benchpbx.Start(ctx, "bench-calls")
	if err != nil {
		return err
	}
	defer p.Close()
	db, eng, dir := p.DB, p.Engine, p.Dir

	uasPort := benchpbx.FreePort("127.0.0.3")
	acct := &switchboard.Account{Name: "Bench"}
	if err := db.CreateAccount(ctx, acct); err != nil {
		return err
	}
	tr := &switchboard.Trunk{AccountID: acct.ID, Name: "SIPp", Host: "127.0.0.3", Port: uasPort,
		InboundAddresses: []string{"127.0.0.2"}, CallerIDNumber: "+15550009999"}
	if err := db.CreateTrunk(ctx, tr); err != nil {
		return err
	}
	if err := db.CreateNumber(ctx, &switchboard.Number{AccountID: acct.ID, Number: "+15550001000", Status: "active",
		Target: switchboard.Target{Type: switchboard.TargetExternal, Number: "+15550002000"}}); err != nil {
		return err
	}

	uasArgs := []string{"-i", "127.0.0.3", "-p", strconv.Itoa(uasPort), "-nostdin"}
	uacArgs := []string{"-i", "127.0.0.2", "-p", strconv.Itoa(benchpbx.FreePort("127.0.0.2")), "-s", "+15550001000",
		"-m", strconv.Itoa(calls), "-r", strconv.Itoa(rate), "-d", strconv.Itoa(int(hold / time.Millisecond)),
		"-nostdin", "-timeout", "600s", "-timeout_error", "-trace_stat", "-stf", filepath.Join(dir, "stat.csv"), "-fd", "1"}
	if mode == "rtp" {
		pcap := filepath.Join(dir, "pcmu.pcap")
		if err := benchpbx.WritePCMUPcap(pcap, hold+5*time.Second); err != nil {
			return err
		}
		scenario := filepath.Join(dir, "uac_rtp.xml")
		if err := os.WriteFile(scenario, []byte(strings.ReplaceAll(benchpbx.UACRTPScenario, "PCAP", pcap)), 0o644); err != nil {
			return err
		}
		uasArgs = append(uasArgs, "-rtp_echo", "-mp", strconv.Itoa(benchpbx.FreePort("127.0.0.3")))
		uacArgs = append([]string{"-sf", scenario, "-mp", strconv.Itoa(benchpbx.FreePort("127.0.0.2"))}, uacArgs...)
		uacArgs = append(uacArgs, "-l", strconv.Itoa(calls))
	} else {
		uacArgs = append([]string{"-sn", "uac"}, uacArgs...)
		uacArgs = append(uacArgs, "-l", "1000")
	}
	stopUAS, err := benchpbx.StartUAS(ctx, uasArgs...)
	if err != nil {
		return err
	}
	defer stopUAS()

	cpuBefore := benchpbx.CPUTime()
	peak := 0
	stopPeak := benchpbx.Every(100*time.Millisecond, func() { peak = max(peak, eng.ActiveCalls()) })
	start := time.Now()
	out, err := exec.CommandContext(ctx, "sipp", append(uacArgs, p.SIPAddr)...).CombinedOutput()
	elapsed := time.Since(start)
	stopPeak()
	sippFailed := err != nil
	cpu := benchpbx.CPUTime() - cpuBefore
	for eng.ActiveCalls() > 0 && time.Since(start) < elapsed+30*time.Second {
		time.Sleep(50 * time.Millisecond)
	}
	ended := eng.CallsEnded()
	ok, failed := ended[switchboard.DispositionAnswered], 0
	for d, n := range ended {
		if d != switchboard.DispositionAnswered {
			failed += n
		}
	}
	if sippFailed {
		fmt.Fprintf(os.Stderr, "SIPp output:\n%s\n", out)
	}
	m := eng.MediaTotals()
	offered := fmt.Sprintf("%d calls at %d/s, hold %v", calls, rate, hold)
	fmt.Printf("### Calls through the B2BUA (%s)\n\n", mode)
	fmt.Printf("Measured %s on this machine (%d cores), SIPp 3.6 as both carriers on loopback, SQLite; load average %s at the start.\n\n",
		time.Now().UTC().Format("2006-01-02"), runtime.NumCPU(), loadAverage)
	if mode == "setup" {
		fmt.Printf("Baseline, in the same run: SIPp's uac calls SIPp's uas directly (no B2BUA), at the same offered\n" +
			"rate and call count, after the run through the PBX; answered and not answered are SIPp's own counts.\n\n")
	}
	fmt.Printf("| path | offered | answered | not answered | wall time | set-ups/s | peak concurrent | PBX CPU | SIPp reported failures |\n|---|---|---|---|---|---|---|---|---|\n")
	rps := float64(ok) / elapsed.Seconds()
	fmt.Printf("| through the B2BUA | %s | %d | %d | %.1f s | %.0f | %d | %.1f s (%.0f%% of one core) | %v |\n",
		offered, ok, failed, elapsed.Seconds(), rps, peak, cpu.Seconds(), 100*cpu.Seconds()/elapsed.Seconds(), sippFailed)
	if mode == "setup" {
		// The same uac scenario against the uas itself: what SIPp and loopback UDP manage at
		// this rate with no PBX in between.
		baseArgs := slices.Clone(uacArgs)
		baseArgs[slices.Index(baseArgs, "-s")+1] = "+15550002000"
		baseArgs[slices.Index(baseArgs, "-p")+1] = strconv.Itoa(benchpbx.FreePort("127.0.0.2"))
		baseArgs[slices.Index(baseArgs, "-stf")+1] = filepath.Join(dir, "stat-baseline.csv")
		start := time.Now()
		out, err := exec.CommandContext(ctx, "sipp", append(baseArgs, "127.0.0.3:"+strconv.Itoa(uasPort))...).CombinedOutput()
		baseElapsed := time.Since(start)
		baseFailed := err != nil
		if baseFailed {
			fmt.Fprintf(os.Stderr, "SIPp output (baseline):\n%s\n", out)
		}
		baseOK, baseNotOK := sippCount(out, "Successful call"), sippCount(out, "Failed call")
		baseRPS := float64(baseOK) / baseElapsed.Seconds()
		fmt.Printf("| baseline: SIPp uac → SIPp uas | %s | %d | %d | %.1f s | %.0f | – | – | %v |\n\n",
			offered, baseOK, baseNotOK, baseElapsed.Seconds(), baseRPS, baseFailed)
		ratio := "n/a"
		if baseRPS > 0 {
			ratio = fmt.Sprintf("%.2f", rps/baseRPS)
		}
		fmt.Printf("Ratio B2BUA / baseline set-ups/s: **%s**.", ratio)
		if baseRPS >= 0.97*float64(rate) {
			fmt.Printf(" The baseline ran at the offered rate, so it could go faster and the ratio is an upper bound.")
		}
		if rps >= 0.97*float64(rate) {
			fmt.Printf(" The B2BUA kept up with the offered rate too: %d/s is what was offered, not its ceiling.", rate)
		}
		fmt.Printf("\n\n")
	} else {
		fmt.Printf("\n")
	}
	if mode == "rtp" {
		// Audio from SIPp's uac comes in on the caller legs and is relayed out of the callee
		// legs; SIPp's uas echoes it back in on the callee legs, relayed out of the caller legs.
		pct := func(got, sent uint64) float64 {
			if sent == 0 {
				return 0
			}
			return 100 * (1 - float64(got)/float64(sent))
		}
		fmt.Printf("RTP over %d legs (50 packets/s each way per leg): caller legs in %d / out %d, callee legs in %d / out %d; "+
			"%d dropped (unexpected source), %d malformed.\n\n", m.Legs, m.CallerIn, m.CallerOut, m.CalleeIn, m.CalleeOut, m.Dropped, m.Malformed)
		fmt.Printf("Loss: relay caller->callee %.3f%%, echo round trip through SIPp %.3f%%, relay callee->caller %.3f%%.\n\n",
			pct(m.CalleeOut, m.CallerIn), pct(m.CalleeIn, m.CalleeOut), pct(m.CallerOut, m.CalleeIn))
		fmt.Printf("The relay loss is the engine's own counters, packets in on one leg against packets out of the\n" +
			"other. The \"echo round trip\" figure counts the audio SIPp's uas sends back, including what is\n" +
			"still in flight when each call's BYE closes its legs, so it is an upper bound that includes\n" +
			"SIPp and call teardown, not relay loss.\n\n")
	}
	return nil
}

// loadAverage is the machine's 1/5/15-minute load when the benchmark started: the cores are
// shared with whatever else runs.
var loadAverage = func() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}()

// sippCount reads a cumulative counter (e.g. "Successful call") from SIPp's final statistics
// screen: the last such line's third column.
func sippCount(out []byte, name string) int {
	n := 0
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Split(line, "|"); len(f) >= 3 && strings.TrimSpace(f[0]) == name {
			if v, err := strconv.Atoi(strings.TrimSpace(f[2])); err == nil {
				n = v
			}
		}
	}
	return n
}
