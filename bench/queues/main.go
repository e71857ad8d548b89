// Command queues benchmarks a call queue with SIPp as agents and as callers (not a timed
// test). The agents are real queue members: users of the account, each with a device that
// SIPp registers with digest authentication (MD5, the registrar's default challenge and the
// only digest SIPp 3.6 computes) from one address, where SIPp's
// built-in uas then answers every INVITE at once. The callers come from the SIP trunk's
// address (SIPp's built-in uac) to a number whose target is the queue; the queue answers
// each caller at once with music on hold, and each caller hangs up `hold` after that answer,
// whether or not an agent took it by then.
//
//	go run ./bench/queues -agents 50 -rate 20 -calls 1200 -hold 30s
//
// It reports the delay Switchboard adds between an agent's 200 OK and the caller being
// bridged to that agent, as the engine measures it (pbx.Engine.AnswerToBridge: ACK to the
// agent, storing the answer with its events, stopping the music, bridging the media), and
// the events stored per second. The result is a Markdown block for docs/benchmarks.md
// (bench/queues/run.sh puts it between the queues markers).
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
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"switchboard"
	"switchboard/bench/internal/benchpbx"
	"switchboard/internal/testpeer"
	"switchboard/store"
)

func main() {
	agents := flag.Int("agents", 50, "queue members (SIPp-registered devices that auto-answer)")
	rate := flag.Int("rate", 20, "callers arriving per second")
	calls := flag.Int("calls", 1200, "callers to place")
	hold := flag.Duration("hold", 30*time.Second, "how long each caller stays after the queue answers it")
	cpuProfile := flag.String("cpuprofile", "", "write the engine process's CPU profile of the run to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(*agents, *rate, *calls, *hold); err != nil {
		log.Fatal(err)
	}
}

func run(agents, rate, calls int, hold time.Duration) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := benchpbx.Start(ctx, "bench-queues")
	if err != nil {
		return err
	}
	defer p.Close()
	db, srv, eng, dir, sipAddr := p.DB, p.SIP, p.Engine, p.Dir, p.SIPAddr

	// The account: a trunk whose calls come from 127.0.0.2, a number to the queue, and the
	// agents as the queue's members.
	acct := &switchboard.Account{Name: "Bench"}
	if err := db.CreateAccount(ctx, acct); err != nil {
		return err
	}
	tr := &switchboard.Trunk{AccountID: acct.ID, Name: "SIPp", Host: "127.0.0.2", Port: 5060,
		InboundAddresses: []string{"127.0.0.2"}, CallerIDNumber: "+15550009999"}
	if err := db.CreateTrunk(ctx, tr); err != nil {
		return err
	}
	q := &switchboard.Queue{AccountID: acct.ID, QueueName: "Bench Queue", Extension: "8001",
		Strategy: switchboard.StrategyRRMemory, Timeout: 15}
	q.ApplyDefaults()
	if err := db.CreateQueue(ctx, q); err != nil {
		return err
	}
	if err := db.CreateNumber(ctx, &switchboard.Number{AccountID: acct.ID, Number: "+15550001000", Status: "active",
		Target: switchboard.Target{Type: switchboard.TargetQueue, ID: q.ID}}); err != nil {
		return err
	}
	var inf strings.Builder
	inf.WriteString("SEQUENTIAL\n")
	userIDs := make([]int64, 0, agents)
	for i := 1; i <= agents; i++ {
		u := &switchboard.User{AccountID: acct.ID, Extension: strconv.Itoa(2000 + i), FirstName: "Agent", LastName: strconv.Itoa(i)}
		if err := db.CreateUser(ctx, u); err != nil {
			return err
		}
		name, pw := fmt.Sprintf("agent%d", i), fmt.Sprintf("agent-pw-%d", i)
		d := &switchboard.Device{AccountID: acct.ID, UserID: u.ID, Name: "SIPp " + name, SIPUsername: name}
		d.SetSIPPassword(pw)
		if err := db.CreateDevice(ctx, d); err != nil {
			return err
		}
		if err := db.SetQueueMember(ctx, acct.ID, switchboard.QueueMember{QueueID: q.ID, UserID: u.ID}); err != nil {
			return err
		}
		userIDs = append(userIDs, u.ID)
		fmt.Fprintf(&inf, "%s;[authentication username=%s password=%s]\n", name, name, pw)
	}
	infPath, regPath := filepath.Join(dir, "agents.csv"), filepath.Join(dir, "register.xml")
	if err := os.WriteFile(infPath, []byte(inf.String()), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(regPath, []byte(testpeer.SIPpRegisterScenario), 0o600); err != nil {
		return err
	}

	// The agents register from the port their uas then answers on: the registrar sends
	// INVITEs to the address a REGISTER came from.
	agentPort := strconv.Itoa(benchpbx.FreePort("127.0.0.3"))
	if out, err := exec.CommandContext(ctx, "sipp", "-sf", regPath, "-inf", infPath, "-i", "127.0.0.3", "-p", agentPort,
		"-m", strconv.Itoa(agents), "-r", "50", "-nostdin", "-timeout", "30s", "-timeout_error", sipAddr).CombinedOutput(); err != nil {
		return fmt.Errorf("SIPp agents did not register: %v\n%s", err, out)
	}
	online := 0
	for _, id := range userIDs {
		if on, _ := srv.UserPresence(acct.ID, id); on {
			online++
		}
	}
	if online != agents {
		return fmt.Errorf("%d of %d agents online after registering", online, agents)
	}
	stopUAS, err := benchpbx.StartUAS(ctx, "-i", "127.0.0.3", "-p", agentPort, "-nostdin")
	if err != nil {
		return err
	}
	defer stopUAS()

	cpuBefore := benchpbx.CPUTime()
	peakCalls, peakWaiting := 0, 0
	stopPeak := benchpbx.Every(100*time.Millisecond, func() {
		peakCalls = max(peakCalls, eng.ActiveCalls())
		peakWaiting = max(peakWaiting, eng.QueueStats(acct.ID, q.ID).CallersWaiting)
	})
	concurrent := rate*int(hold/time.Second) + rate*5 // every caller of a hold period, and slack
	uacArgs := []string{"-sn", "uac", "-i", "127.0.0.2", "-p", strconv.Itoa(benchpbx.FreePort("127.0.0.2")), "-s", "+15550001000",
		"-m", strconv.Itoa(calls), "-r", strconv.Itoa(rate), "-l", strconv.Itoa(concurrent),
		"-d", strconv.Itoa(int(hold / time.Millisecond)), "-nostdin", "-timeout", "900s", "-timeout_error", sipAddr}
	start := time.Now()
	out, err := exec.CommandContext(ctx, "sipp", uacArgs...).CombinedOutput()
	sippFailed := err != nil
	for eng.ActiveCalls() > 0 && time.Since(start) < 15*time.Minute {
		time.Sleep(50 * time.Millisecond)
	}
	elapsed := time.Since(start)
	stopPeak()
	cpu := benchpbx.CPUTime() - cpuBefore

	nEvents, err := countEvents(ctx, db, acct.ID)
	if err != nil {
		return err
	}
	st := eng.QueueStats(acct.ID, q.ID)
	d := eng.AnswerToBridge()
	ms := func(x time.Duration) string { return fmt.Sprintf("%.2f ms", float64(x)/float64(time.Millisecond)) }

	fmt.Printf("### One queue, %d SIPp agents, callers at %d/s staying %v\n\n", agents, rate, hold)
	fmt.Printf("Measured %s on this machine (%d cores), SIPp 3.6 as agents and callers on loopback, SQLite; "+
		"the engine, its store and both SIPp processes share the cores.\n\n", time.Now().UTC().Format("2006-01-02"), runtime.NumCPU())
	fmt.Printf("| callers | answered by an agent | abandoned | peak calls in progress | peak waiting | wall time | PBX CPU | SIPp reported failures |\n|---|---|---|---|---|---|---|---|\n")
	fmt.Printf("| %d at %d/s | %d | %d | %d | %d | %.1f s | %.1f s (%.0f%% of one core) | %v |\n\n",
		calls, rate, st.Today.Answered, st.Today.Abandoned, peakCalls, peakWaiting, elapsed.Seconds(),
		cpu.Seconds(), 100*cpu.Seconds()/elapsed.Seconds(), sippFailed)
	fmt.Printf("| answer-to-bridge delay (agent's 200 OK → caller bridged) | p50 | p99 | max | events stored | events/s |\n|---|---|---|---|---|---|\n")
	fmt.Printf("| %d calls bridged | %s | %s | %s | %d | %.0f |\n\n", d.Count, ms(d.P50), ms(d.P99), ms(d.Max),
		nEvents, float64(nEvents)/elapsed.Seconds())
	verdict := "meets"
	if d.P99 >= 20*time.Millisecond {
		verdict = "misses"
	}
	fmt.Printf("Target: p99 under 20 ms — this run %s it.\n\n", verdict)
	if sippFailed {
		fmt.Fprintf(os.Stderr, "SIPp output:\n%s\n", benchpbx.LastLines(out, 60))
	}
	return nil
}

// countEvents counts the account's stored events (every call, queue and summary event of
// the run).
func countEvents(ctx context.Context, db *store.DB, accountID int64) (int, error) {
	n, after := 0, int64(0)
	for {
		evs, err := db.ListEvents(ctx, accountID, after, 1000)
		if err != nil {
			return 0, err
		}
		if len(evs) == 0 {
			return n, nil
		}
		n += len(evs)
		after = evs[len(evs)-1].Seq
	}
}
