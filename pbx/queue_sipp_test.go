package pbx_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"switchboard"
	"switchboard/internal/testpeer"
	"switchboard/internal/tstest"
	"switchboard/pbx"
)

// SIPp as the queue's agents and as the carrier's caller. Three users of the account are
// the queue's members; SIPp registers one device of each (digest auth) from one address
// and then answers there as SIPp's built-in uas, so each agent is a registered phone that
// auto-answers. A second SIPp places calls from the trunk's address to a number that goes
// to the queue (rrmemory: one agent rings per attempt, in turn). Every call must be answered
// by an agent, with the queue's events in order and today's stats counting each.
func TestSIPpAgentsAnswerQueueCalls(t *testing.T) {
	sipp := testpeer.Require(t, "sipp", "sip-tester")
	e := newEnv(t, func(c *pbx.Config) { c.QueuePoll = 20 * time.Millisecond })
	ctx := context.Background()
	dir := t.TempDir()

	const agents, calls = 3, 6
	qu := &switchboard.Queue{AccountID: e.account.ID, QueueName: "Support", Extension: "8001", Strategy: switchboard.StrategyRRMemory}
	qu.ApplyDefaults()
	if err := e.db.CreateQueue(ctx, qu); err != nil {
		t.Fatal(err)
	}
	var inf strings.Builder
	inf.WriteString("SEQUENTIAL\n")
	agentIDs := map[int64]bool{}
	for i := 1; i <= agents; i++ {
		u := e.user(strconv.Itoa(2000+i), func(u *switchboard.User) { u.FirstName, u.LastName = "Agent", strconv.Itoa(i) })
		name, pw := fmt.Sprintf("sippagent%d", i), fmt.Sprintf("agent-pw-%d", i)
		e.device(u, name, pw)
		if err := e.db.SetQueueMember(ctx, e.account.ID, switchboard.QueueMember{QueueID: qu.ID, UserID: u.ID}); err != nil {
			t.Fatal(err)
		}
		agentIDs[u.ID] = true
		fmt.Fprintf(&inf, "%s;[authentication username=%s password=%s]\n", name, name, pw)
	}
	e.eng.InvalidateQueueMembers(qu.ID)
	infPath, scenario := filepath.Join(dir, "agents.csv"), filepath.Join(dir, "register.xml")
	if err := os.WriteFile(infPath, []byte(inf.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(scenario, []byte(testpeer.SIPpRegisterScenario), 0o600); err != nil {
		t.Fatal(err)
	}
	e.trunk(&carrier{ua: &ua{addr: "127.0.0.2:5060"}}, func(tr *switchboard.Trunk) {
		tr.Username, tr.SealedPassword = "", nil
		tr.InboundAddresses = []string{"127.0.0.2"}
	})
	if err := e.db.CreateNumber(ctx, &switchboard.Number{AccountID: e.account.ID, Number: "+15550001000", Status: "active",
		Target: switchboard.Target{Type: switchboard.TargetQueue, ID: qu.ID}}); err != nil {
		t.Fatal(err)
	}

	runCtx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	// The agents register from the port their uas will answer on: the registrar sends
	// INVITEs to the address a REGISTER came from.
	agentPortN := tstest.FreePort(t, "127.0.0.3")
	agentPort := strconv.Itoa(agentPortN)
	reg := exec.CommandContext(runCtx, sipp, "-sf", scenario, "-inf", infPath, "-i", "127.0.0.3", "-p", agentPort,
		"-m", strconv.Itoa(agents), "-r", "10", "-nostdin", "-timeout", "20s", "-timeout_error", e.sipAddr)
	if out, err := reg.CombinedOutput(); err != nil {
		t.Fatalf("SIPp agents did not register: %v\n%s", err, lastLines(out, 40))
	}
	for id := range agentIDs {
		if on, _ := e.srv.UserPresence(e.account.ID, id); !on {
			t.Fatalf("agent user %d is not online after SIPp registered", id)
		}
	}
	if st := e.eng.QueueStats(e.account.ID, qu.ID); st.AgentsOnline != agents || st.AgentsAvailable != agents {
		t.Fatalf("stats before the calls = %+v; want %d agents online and available", st, agents)
	}

	uas := exec.CommandContext(runCtx, sipp, "-sn", "uas", "-i", "127.0.0.3", "-p", agentPort,
		"-m", strconv.Itoa(calls), "-nostdin", "-timeout", "60s")
	uasOut := &tstest.Buffer{}
	uas.Stdout, uas.Stderr = uasOut, uasOut
	if err := uas.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = uas.Wait() }()
	tstest.WaitFor(t, "SIPp's uas to bind the agents' port again", func() bool {
		return testpeer.UDPBound("127.0.0.3", agentPortN)
	})

	// At most as many callers at once as agents, each staying 1 s after the queue answers.
	uac := exec.CommandContext(runCtx, sipp, "-sn", "uac", "-i", "127.0.0.2", "-p", strconv.Itoa(tstest.FreePort(t, "127.0.0.2")),
		"-s", "+15550001000", "-m", strconv.Itoa(calls), "-r", "3", "-l", strconv.Itoa(agents), "-d", "1000", "-nostdin",
		"-timeout", "60s", e.sipAddr)
	out, err := uac.CombinedOutput()
	if err != nil {
		t.Fatalf("SIPp uac failed: %v\n%s\nuas:\n%s", err, lastLines(out, 40), lastLines(uasOut.Bytes(), 20))
	}
	e.waitIdle()

	rs, err := e.db.ListCallRecords(ctx, e.account.ID, switchboard.CallRecordFilter{})
	if err != nil {
		t.Fatal(err)
	}
	wantEvents := []string{switchboard.EventCallInboundStarted, switchboard.EventQueueEntered, switchboard.EventQueueMemberRinging,
		switchboard.EventCallInboundRinging, switchboard.EventQueueMemberAnswered, switchboard.EventQueueLeft,
		switchboard.EventCallInboundAnswered, switchboard.EventQueueMemberEnded, switchboard.EventQueueCallSummary,
		switchboard.EventCallInboundEnded}
	answeredBy := map[int64]int{}
	for _, r := range rs {
		if r.Disposition != switchboard.DispositionAnswered || !agentIDs[r.UserID] {
			t.Errorf("call %s: %s by user %d; want answered by an agent", r.UniqueID, r.Disposition, r.UserID)
			continue
		}
		answeredBy[r.UserID]++
		evs := e.callEvents(r.UniqueID)
		if diff := cmp.Diff(wantEvents, names(evs)); diff != "" {
			t.Errorf("call %s events (-want +got):\n%s", r.UniqueID, diff)
			continue
		}
		if evs[5].Data["reason"] != "answered" || fmt.Sprint(evs[4].Data["user_id"]) != strconv.FormatInt(r.UserID, 10) {
			t.Errorf("call %s: left %v, member answered %v; want reason answered by the record's agent", r.UniqueID, evs[5].Data, evs[4].Data)
		}
	}
	if len(rs) != calls {
		t.Errorf("%d call records; want %d", len(rs), calls)
	}
	if len(answeredBy) != agents { // rrmemory spreads the calls over every agent
		t.Errorf("calls answered per agent = %v; want each of the %d agents to answer some", answeredBy, agents)
	}
	st := e.eng.QueueStats(e.account.ID, qu.ID)
	if st.Today.Offered != calls || st.Today.Answered != calls || st.Today.Abandoned != 0 || st.CallersWaiting != 0 || st.AgentsOnline != agents {
		t.Errorf("stats after the calls = %+v; want %d offered and answered, none abandoned or waiting, %d online", st, calls, agents)
	}
	if d := e.eng.AnswerToBridge(); d.Count != calls || d.P50 <= 0 || d.P50 > d.P99 || d.P99 > d.Max {
		t.Errorf("answer-to-bridge delays = %+v; want %d observed, 0 < p50 <= p99 <= max", d, calls)
	}
	if n := e.eng.Ports().InUse(); n != 0 {
		t.Errorf("%d RTP ports in use after SIPp's calls", n)
	}
}
