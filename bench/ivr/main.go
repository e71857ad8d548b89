// Command ivr benchmarks calls sitting in an IVR menu against the plain relay, in the same
// run: SIPp's uac, playing PCMU into each call (50 packets/s), calls a number whose call
// flow answers with a menu (a prompt of a minute, played at 50 packets/s, while the
// caller's keys are read); then, as the baseline, the same uac calls a number forwarded
// through the trunk to SIPp's uas, which echoes the audio: two relayed legs per call. Each
// phase holds its calls for -hold and reports the engine process's CPU per leg.
//
//	go run ./bench/ivr -legs 300 -hold 20s
//
// bench/ivr/run.sh writes the result into docs/benchmarks.md between the ivr markers.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"switchboard"
	"switchboard/bench/internal/benchpbx"
	"switchboard/media"
	"switchboard/pbx"
)

func main() {
	legs := flag.Int("legs", 300, "concurrent IVR legs (the relay baseline runs legs/2 calls: the same number of legs)")
	hold := flag.Duration("hold", 20*time.Second, "how long each call stays up")
	flag.Parse()
	if err := run(*legs, *hold); err != nil {
		log.Fatal(err)
	}
}

// menuPrompt is the bench's prompt library: every prompt is a minute of a 440 Hz tone,
// rendered once, so that the menu plays for the whole call as a real recording would.
type menuPrompt struct{ pcm []int16 }

func (m menuPrompt) Prompt(context.Context, int64, int64) ([]int16, error) { return m.pcm, nil }
func (m menuPrompt) System(context.Context, int64, string, string) ([]int16, error) {
	return m.pcm, nil
}

type phase struct {
	name        string
	calls, legs int
	peak        int
	elapsed     time.Duration
	cpu         time.Duration
	ended       map[switchboard.CallDisposition]int
	sippFailed  bool
}

func (ph phase) cpuPerLeg() float64 {
	// CPU seconds per wall second per leg, in percent of one core.
	return 100 * ph.cpu.Seconds() / ph.elapsed.Seconds() / float64(ph.legs)
}

func run(legs int, hold time.Duration) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pcm := make([]int16, 60*media.SampleRate)
	for i := range pcm {
		pcm[i] = int16(6000 * math.Sin(2*math.Pi*440*float64(i)/media.SampleRate))
	}
	p, err := benchpbx.StartWith(ctx, "bench-ivr", func(c *pbx.Config) { c.Prompts = menuPrompt{pcm} })
	if err != nil {
		return err
	}
	defer p.Close()
	db, dir := p.DB, p.Dir

	uasPort := benchpbx.FreePort("127.0.0.3")
	acct := &switchboard.Account{Name: "Bench"}
	if err := db.CreateAccount(ctx, acct); err != nil {
		return err
	}
	if err := db.CreateTrunk(ctx, &switchboard.Trunk{AccountID: acct.ID, Name: "SIPp", Host: "127.0.0.3", Port: uasPort,
		InboundAddresses: []string{"127.0.0.2"}, CallerIDNumber: "+15550009999"}); err != nil {
		return err
	}
	retries := 0
	flow := &switchboard.CallFlow{AccountID: acct.ID, Name: "Menu", Start: "menu", Nodes: map[string]switchboard.FlowNode{
		"menu": {Type: switchboard.FlowNodeIVR, Name: "Main Menu", PromptID: 1, TimeoutS: 60, Retries: &retries,
			Options: map[string]string{"1": "bye"}},
		"bye": {Type: switchboard.FlowNodeHangup},
	}}
	if err := db.CreateCallFlow(ctx, flow); err != nil {
		return err
	}
	for _, n := range []*switchboard.Number{
		{AccountID: acct.ID, Number: "+15550001000", Status: "active", Target: switchboard.Target{Type: switchboard.TargetCallFlow, ID: flow.ID}},
		{AccountID: acct.ID, Number: "+15550001001", Status: "active", Target: switchboard.Target{Type: switchboard.TargetExternal, Number: "+15550002000"}},
	} {
		if err := db.CreateNumber(ctx, n); err != nil {
			return err
		}
	}
	pcap := filepath.Join(dir, "pcmu.pcap")
	if err := benchpbx.WritePCMUPcap(pcap, hold+5*time.Second); err != nil {
		return err
	}
	scenario := filepath.Join(dir, "uac_rtp.xml")
	if err := os.WriteFile(scenario, []byte(strings.ReplaceAll(benchpbx.UACRTPScenario, "PCAP", pcap)), 0o644); err != nil {
		return err
	}
	stopUAS, err := benchpbx.StartUAS(ctx, "-i", "127.0.0.3", "-p", strconv.Itoa(uasPort), "-nostdin", "-rtp_echo",
		"-mp", strconv.Itoa(benchpbx.FreePort("127.0.0.3")))
	if err != nil {
		return err
	}
	defer stopUAS()

	runPhase := func(name, number string, calls, legsPerCall int) phase {
		before := p.Engine.CallsEnded()
		ph := phase{name: name, calls: calls, legs: calls * legsPerCall}
		rate := max(1, calls/5) // every call is up within about five seconds
		args := []string{"-sf", scenario, "-mp", strconv.Itoa(benchpbx.FreePort("127.0.0.2")), "-i", "127.0.0.2",
			"-p", strconv.Itoa(benchpbx.FreePort("127.0.0.2")), "-s", number, "-m", strconv.Itoa(calls),
			"-r", strconv.Itoa(rate), "-l", strconv.Itoa(calls), "-d", strconv.Itoa(int(hold / time.Millisecond)),
			"-nostdin", "-timeout", "600s", "-timeout_error", p.SIPAddr}
		cpuBefore := benchpbx.CPUTime()
		stopPeak := benchpbx.Every(100*time.Millisecond, func() { ph.peak = max(ph.peak, p.Engine.ActiveCalls()) })
		start := time.Now()
		out, err := exec.CommandContext(ctx, "sipp", args...).CombinedOutput()
		ph.elapsed = time.Since(start)
		stopPeak()
		ph.cpu = benchpbx.CPUTime() - cpuBefore
		ph.sippFailed = err != nil
		if err != nil {
			fmt.Fprintf(os.Stderr, "SIPp (%s): %v\n%s\n", name, err, benchpbx.LastLines(out, 30))
		}
		for p.Engine.ActiveCalls() > 0 && time.Since(start) < ph.elapsed+30*time.Second {
			time.Sleep(50 * time.Millisecond)
		}
		ph.ended = map[switchboard.CallDisposition]int{}
		for d, n := range p.Engine.CallsEnded() {
			if n-before[d] > 0 {
				ph.ended[d] = n - before[d]
			}
		}
		return ph
	}
	ivr := runPhase("IVR menu (prompt playing, keys read)", "+15550001000", legs, 1)
	relay := runPhase("baseline: plain relay (trunk in → trunk out, echoed)", "+15550001001", max(1, legs/2), 2)

	fmt.Printf("Measured %s on this machine (%d cores), SIPp 3.6 on loopback as the callers (PCMU, 50 packets/s) and,\n"+
		"for the relay, as the far end echoing the audio; SQLite; load average %s at the start. Each phase holds\n"+
		"its calls %v and is set up at legs/5 calls a second; CPU is the engine process's, over the phase's wall time\n"+
		"(set-up and tear-down included).\n\n", time.Now().UTC().Format("2006-01-02"), runtime.NumCPU(), loadAverage, hold)
	fmt.Printf("| phase | calls | legs | peak concurrent calls | wall time | PBX CPU | CPU per leg (%% of a core) | calls ended |\n|---|---|---|---|---|---|---|---|\n")
	for _, ph := range []phase{ivr, relay} {
		fmt.Printf("| %s | %d | %d | %d | %.1f s | %.1f s | %.3f | %v |\n", ph.name, ph.calls, ph.legs, ph.peak,
			ph.elapsed.Seconds(), ph.cpu.Seconds(), ph.cpuPerLeg(), ph.ended)
	}
	ratio := "n/a"
	if relay.cpuPerLeg() > 0 {
		ratio = fmt.Sprintf("%.2f", ivr.cpuPerLeg()/relay.cpuPerLeg())
	}
	fmt.Printf("\nRatio IVR leg / relayed leg CPU: **%s**. An IVR leg encodes its prompt (G.711, 50 frames/s) and listens\n"+
		"for keys all three ways: RFC 4733, SIP INFO, and in-band tones (the Goertzel detector on every received\n"+
		"frame); a relayed leg forwards packets. The IVR calls end \"cancelled\": SIPp hangs up while the menu\n"+
		"waits for a key, which the record counts as a caller leaving before anyone answered.\n", ratio)
	if ivr.sippFailed || relay.sippFailed {
		fmt.Printf("\nSIPp reported failed calls (see its output on stderr).\n")
	}
	return nil
}

// loadAverage is the machine's 1/5/15-minute load when the benchmark started.
var loadAverage = func() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}()
