package pbx_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/testpeer"
	"switchboard/internal/tstest"
)

// sippInfoCaller is a SIPp scenario for a carrier's caller who presses 1 by SIP INFO
// (application/dtmf-relay) in the menu, stays on the line while the agent answers, then
// hangs up.
const sippInfoCaller = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="caller pressing 1 by SIP INFO">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:+15551234567@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:+15551234567@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=sipp 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true" rrs="true"/>
  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:+15551234567@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <pause milliseconds="1000"/>
  <send retrans="500">
    <![CDATA[
      INFO [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:+15551234567@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 INFO
      Max-Forwards: 70
      Content-Type: application/dtmf-relay
      Content-Length: [len]

      Signal=1
      Duration=160
    ]]>
  </send>
  <recv response="200"/>
  <pause milliseconds="4000"/>
  <send retrans="500">
    <![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:+15551234567@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 3 BYE
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200"/>
</scenario>
`

// SIPp, an independent SIP implementation, calls the main line from the carrier and
// presses 1 in the menu by SIP INFO: the key reaches the queue, whose agent is offered
// the call and answers, and the trace records the key.
func TestSIPpCallerPressesMenuKeyBySIPInfo(t *testing.T) {
	sipp := testpeer.Require(t, "sipp", "sip-tester")
	fe := newFlowEnv(t)
	f := fe.mainFlow(func(f *switchboard.CallFlow) {
		n := f.Nodes["menu"]
		n.TimeoutS = 15
		f.Nodes["menu"] = n
	})
	fe.trunk(&carrier{ua: &ua{addr: "127.0.0.3:5999"}}, func(tr *switchboard.Trunk) {
		tr.Username, tr.SealedPassword = "", nil
		tr.InboundAddresses = []string{"127.0.0.2"}
	})
	if err := fe.db.CreateNumber(context.Background(), &switchboard.Number{AccountID: fe.account.ID, Number: "+15559876543",
		Status: "active", Target: switchboard.Target{Type: switchboard.TargetCallFlow, ID: f.ID}}); err != nil {
		t.Fatal(err)
	}
	scenario := filepath.Join(t.TempDir(), "info.xml")
	if err := os.WriteFile(scenario, []byte(sippInfoCaller), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	uac := exec.CommandContext(ctx, sipp, "-sf", scenario, "-i", "127.0.0.2", "-p", strconv.Itoa(tstest.FreePort(t, "127.0.0.2")),
		"-s", "+15559876543", "-m", "1", "-nostdin", "-timeout", "40s", "-trace_msg", "-message_file", scenario+".log", fe.sipAddr)
	out := &tstest.Buffer{}
	uac.Stdout, uac.Stderr = out, out
	if err := uac.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = uac.Wait()
		if t.Failed() {
			msgs, _ := os.ReadFile(scenario + ".log")
			t.Logf("SIPp's output:\n%s\nits messages:\n%s", lastLines(out.Bytes(), 20), lastLines(msgs, 80))
		}
	})
	_, in := fe.ringing()
	in.answer(t, "127.0.0.1", 0)
	if err := uac.Wait(); err != nil && ctx.Err() == nil {
		t.Fatalf("SIPp's caller failed: %v\n%s", err, lastLines(out.Bytes(), 40))
	}
	fe.waitIdle()
	if tr := fe.trace(callIDOf(fe.env, nil)); !hasStep(tr, "menu", "key", "option 1 -> sales") || !hasStep(tr, "sales", "end", "answered") {
		t.Fatalf("trace = %+v", tr.Steps)
	}
}
