package pbx_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"math"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"switchboard"
	"switchboard/internal/tstest"
	"switchboard/media"
	"switchboard/pbx"
	"switchboard/store"
	"switchboard/store/storetest"
	"switchboard/webhook"
)

// Calls running call flows, end to end: a carrier (sipgo UA) calls a number whose target is
// a flow; what the caller hears is checked by tone detection on the RTP it receives, keys
// are RFC 4733 events it sends, an agent's phone answers the queue, webhooks go to real
// HTTP servers.

// Prompts of these tests, told apart by their tone (the prompt library is faked by tones:
// the prompts branch's library is not part of this one).
const (
	promptClosed = 1 // 600 Hz
	promptMenu   = 2 // 800 Hz
	promptBye    = 3 // 1000 Hz
	promptLong   = 4 // 800 Hz like the menu, for a minute: longer than any wait of a test
)

var promptFreq = map[int64]float64{promptClosed: 600, promptMenu: 800, promptBye: 1000, promptLong: 800}

// tonePrompts is a switchboard.PromptLibrary whose prompts are half-second tones of
// promptFreq, and whose system prompts are 300 Hz; it records the languages asked for.
type tonePrompts struct {
	mu        sync.Mutex
	languages []string
}

func (p *tonePrompts) Prompt(_ context.Context, _, id int64) ([]int16, error) {
	f, ok := promptFreq[id]
	if !ok {
		return nil, switchboard.Errorf(switchboard.ENOTFOUND, "no prompt %d", id)
	}
	if id == promptLong {
		return sine(f, time.Minute), nil
	}
	return sine(f, 500*time.Millisecond), nil
}

func (p *tonePrompts) System(_ context.Context, _ int64, name, language string) ([]int16, error) {
	p.mu.Lock()
	p.languages = append(p.languages, name+":"+language)
	p.mu.Unlock()
	return sine(300, 300*time.Millisecond), nil
}

func sine(freq float64, d time.Duration) []int16 {
	n := int(d.Seconds() * media.SampleRate)
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(8000 * math.Sin(2*math.Pi*freq*float64(i)/media.SampleRate))
	}
	return out
}

// flowEnv is a queue env (one agent, the clock on Tuesday 2025-03-04 09:00 UTC) whose
// engine plays tonePrompts and lets webhook nodes reach loopback over http.
type flowEnv struct {
	*qenv
	queue   *switchboard.Queue
	prompts *tonePrompts
	carrier *carrier
	hooks   *tstest.HookReceiver
}

var loopbackHTTP = webhook.URLPolicy{AllowHTTP: true, AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}

func newFlowEnv(t *testing.T, mutate ...func(*pbx.Config)) *flowEnv {
	t.Helper()
	prompts := &tonePrompts{}
	clk := tstest.NewClock(time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)) // a Tuesday
	e := newEnvSIP(t, storetest.NewSQLite(t), nil, append([]func(*pbx.Config){func(c *pbx.Config) {
		c.Now = clk.Now
		c.SweepInterval = time.Hour
		c.QueuePoll = queuePoll
		c.Prompts = prompts
		c.WebhookPolicy = loopbackHTTP
	}}, mutate...)...)
	q := &qenv{env: e, clk: clk}
	u := e.user("2001", func(u *switchboard.User) { u.FirstName, u.LastName = "Agent", "1" })
	e.device(u, "agent1", "agent1-pw-1")
	a := newUA(t, "127.0.0.1", "agent1")
	a.register(e, "agent1", "agent1-pw-1")
	q.agents = append(q.agents, &agent{u: u, ua: a})
	fe := &flowEnv{qenv: q, prompts: prompts, hooks: tstest.NewHookReceiver(t)}
	fe.queue = q.queue(nil)
	return fe
}

// mainFlow is the documented example: business hours (Mon-Fri 08:00-17:00 UTC) → menu
// (1 = sales queue), closed → announcement; no input → a webhook, then a goodbye.
func (fe *flowEnv) mainFlow(mutate func(f *switchboard.CallFlow)) *switchboard.CallFlow {
	fe.t.Helper()
	zero := 0
	f := &switchboard.CallFlow{AccountID: fe.account.ID, Name: "Main line", Start: "hours", Nodes: map[string]switchboard.FlowNode{
		"hours": {Type: switchboard.FlowNodeTimeCondition, TimeZone: "UTC", Then: "menu", Else: "closed",
			Open: []switchboard.OpenHours{{Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "08:00", To: "17:00"}}},
		"closed": {Type: switchboard.FlowNodeAnnouncement, PromptID: promptClosed},
		"menu": {Type: switchboard.FlowNodeIVR, Name: "Main Menu", PromptID: promptMenu, TimeoutS: 1, Retries: &zero,
			Options: map[string]string{"1": "sales"}, Timeout: "nobody", Invalid: "bye"},
		"sales":  {Type: switchboard.FlowNodeQueue, QueueID: fe.queue.ID},
		"nobody": {Type: switchboard.FlowNodeWebhook, Name: "No input", URL: fe.hooks.URL + "/flow?x=1", Token: fe.sealedToken("tok-123"), Headers: map[string]string{"X-Tenant": "acme"}, Next: "bye"},
		"bye":    {Type: switchboard.FlowNodeAnnouncement, PromptID: promptBye},
	}}
	if mutate != nil {
		mutate(f)
	}
	if err := fe.db.CreateCallFlow(context.Background(), f); err != nil {
		fe.t.Fatal(err)
	}
	return f
}

// sealedToken is a webhook node's token as the provisioning service stores it: sealed with
// the server's key (the engine's Sealer here).
func (fe *flowEnv) sealedToken(token string) string {
	return switchboard.SealedTokenPrefix + base64.StdEncoding.EncodeToString(fe.sealer.Seal(token))
}

// callNumber routes +15559876543 to the flow and calls it from the carrier.
func (fe *flowEnv) callNumber(f *switchboard.CallFlow) *call {
	fe.t.Helper()
	if fe.carrier == nil {
		fe.carrier = fe.fromTrunk(switchboard.Target{Type: switchboard.TargetCallFlow, ID: f.ID})
	}
	return fe.carrier.dial(fe.env, "+15559876543", "+15551234567", "", 0)
}

// hearsPrompt reports whether the caller's peer receives audio whose strongest tone is freq
// (PCMU) within the wait: a 200 ms window where freq's power dominates the other prompts'.
func hearsPrompt(t *testing.T, p *rtpPeer, freq float64) bool {
	t.Helper()
	var window []int16
	for deadline := time.Now().Add(tstest.DefaultWait); time.Now().Before(deadline); {
		pkt := p.recv(200 * time.Millisecond)
		if pkt == nil || pkt.PayloadType != 0 {
			continue
		}
		for _, b := range pkt.Payload {
			window = append(window, media.UlawDecode(b))
		}
		if len(window) < 1600 {
			continue
		}
		power := media.Goertzel(window, freq)
		loudest := true
		for _, other := range []float64{300, 600, 800, 1000} {
			if other != freq && media.Goertzel(window, other)*10 > power {
				loudest = false
			}
		}
		if power > 1e5 && loudest {
			return true
		}
		window = window[:0]
	}
	return false
}

// pressKey sends one key press as RFC 4733 telephone-events (payload type 101): three
// packets of the press, then the end packet three times, as phones do.
func pressKey(t *testing.T, p *rtpPeer, key byte) {
	t.Helper()
	code, err := media.EventForDigit(media.Digit(key))
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	ts := p.ts
	p.ts += 800
	remote := p.remote
	p.mu.Unlock()
	for i := range 6 {
		ev := media.TelephoneEvent{Event: code, Volume: 10, Duration: uint16(160 * min(i+1, 4)), End: i >= 3}
		p.mu.Lock()
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SequenceNumber: p.seq, Timestamp: ts,
			SSRC: p.ssrc, Marker: i == 0}, Payload: ev.Marshal()}
		p.seq++
		p.mu.Unlock()
		b, _ := pkt.Marshal()
		if _, err := p.conn.WriteToUDPAddrPort(b, remote); err != nil {
			t.Fatal(err)
		}
	}
}

// byeWithin waits for the PBX to hang up on the caller.
func (c *call) byeWithin(t *testing.T, what string) { endedWithin(t, c.dlg.Context(), what) }

// trace waits for the call's stored trace.
func (fe *flowEnv) trace(callID string) *switchboard.CallTrace {
	fe.t.Helper()
	var tr *switchboard.CallTrace
	tstest.WaitFor(fe.t, "the call's flow trace", func() bool {
		var err error
		tr, err = fe.db.GetCallTrace(context.Background(), fe.account.ID, callID)
		return err == nil
	})
	return tr
}

func hasStep(tr *switchboard.CallTrace, node, kind, detailPart string) bool {
	for _, s := range tr.Steps {
		if s.Node == node && s.Kind == kind && strings.Contains(s.Detail, detailPart) {
			return true
		}
	}
	return false
}

// Closed hours: the time condition sends the caller to the announcement, which the caller
// hears; the flow then hangs up, and the trace says why.
func TestFlowClosedHoursPlaysAnnouncement(t *testing.T) {
	fe := newFlowEnv(t)
	fe.clk.Set(time.Date(2025, 3, 9, 12, 0, 0, 0, time.UTC)) // a Sunday
	f := fe.mainFlow(nil)
	c := fe.callNumber(f)
	c.answered(t)
	if !hearsPrompt(t, c.rtp, promptFreq[promptClosed]) {
		t.Fatal("the caller did not hear the closed announcement")
	}
	c.byeWithin(t, "the caller after the announcement")
	fe.waitIdle()
	r := fe.endedRecord(switchboard.CallInbound)
	tr := fe.trace(r.UniqueID)
	if tr.CallFlowID != f.ID || !hasStep(tr, "hours", "decision", "-> closed") || !hasStep(tr, "closed", "end", "hung up") {
		t.Fatalf("trace = %+v", tr.Steps)
	}
	if hasStep(tr, "menu", "entered", "") {
		t.Fatalf("closed hours entered the menu: %+v", tr.Steps)
	}
	if n := fe.eng.Ports().InUse(); n != 0 {
		t.Fatalf("%d RTP ports still in use", n)
	}
}

// Open hours: the menu plays; pressing 1 (RFC 4733) puts the caller in the queue, whose
// agent answers and talks with them. The key is an ivr.option event, which a Voice Over
// Cloud subscription receives as ivrOption at a real HTTP receiver.
func TestFlowMenuKeyReachesQueueAndSendsIVROption(t *testing.T) {
	fe := newFlowEnv(t)
	key := make([]byte, 32)
	rand.Read(key)
	svc, err := webhook.NewService(webhook.Config{Store: fe.db, Key: key, Policy: loopbackHTTP})
	if err != nil {
		t.Fatal(err)
	}
	voc := tstest.NewHookReceiver(t)
	hookURL, format := voc.URL+"/voc", "voiceovercloud"
	if _, _, err := svc.CreateWebhook(context.Background(), fe.account.ID, switchboard.WebhookChange{URL: &hookURL,
		Format: &format, Events: []string{switchboard.EventIVROption}}); err != nil {
		t.Fatal(err)
	}

	f := fe.mainFlow(nil)
	c := fe.callNumber(f)
	c.answered(t)
	if !hearsPrompt(t, c.rtp, promptFreq[promptMenu]) {
		t.Fatal("the caller did not hear the menu")
	}
	pressKey(t, c.rtp, '1')
	_, in := fe.ringing()
	in.answer(t, "127.0.0.1", 0)
	fe.waitAnswered(c)
	expectAudio(t, c.rtp, in.rtp, ulawFrame(5), ulawFrame(5))
	if err := c.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	endedWithin(t, in.dlg.Context(), "the agent after the caller's BYE")
	fe.waitIdle()
	r := fe.endedRecord(switchboard.CallInbound)
	if r.UserID != fe.agents[0].u.ID || r.Disposition != switchboard.DispositionAnswered {
		t.Fatalf("record = %+v; want answered by the agent", r)
	}
	tr := fe.trace(r.UniqueID)
	if !hasStep(tr, "hours", "decision", "-> menu") || !hasStep(tr, "menu", "key", "option 1 -> sales") || !hasStep(tr, "sales", "end", "answered") {
		t.Fatalf("trace = %+v", tr.Steps)
	}

	if _, err := svc.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := voc.Received()
	if len(got) != 1 {
		t.Fatalf("the Voice Over Cloud receiver got %d requests; want 1 ivrOption", len(got))
	}
	q := got[0].Query
	if q.Get("event") != "ivrOption" || q.Get("ivrOption") != "1" || q.Get("callid") != r.UniqueID ||
		q.Get("callerid") != "15551234567" || q.Get("inboundNumber") != "15559876543" {
		t.Fatalf("ivrOption query = %v", q)
	}
	var menu string
	for _, ev := range fe.callEvents(r.UniqueID) {
		if ev.Name == switchboard.EventIVROption {
			menu = ev.Data["ivr_name"].(string)
		}
	}
	if menu != "Main Menu" {
		t.Fatalf("ivr.option ivr_name = %q; want the menu's name", menu)
	}
}

// Barge-in: a key pressed while the menu plays stops it and is taken at once. The menu
// here plays for a minute, far longer than the test waits for the agent to ring.
func TestFlowKeyDuringPromptBargesIn(t *testing.T) {
	fe := newFlowEnv(t)
	f := fe.mainFlow(func(f *switchboard.CallFlow) {
		menu := f.Nodes["menu"]
		menu.PromptID = promptLong
		f.Nodes["menu"] = menu
	})
	c := fe.callNumber(f)
	c.answered(t)
	if !hearsPrompt(t, c.rtp, promptFreq[promptLong]) {
		t.Fatal("the caller did not hear the menu")
	}
	pressKey(t, c.rtp, '1')
	_, in := fe.ringing()
	in.reject(t, 486, "Busy Here")
	if err := c.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	fe.waitIdle()
}

// A caller who presses nothing: the menu times out, the webhook node posts
// webhook_component_event (VoIPLine) with X-Pbx-Token and the node's header to a real
// server, and the call goes on to the goodbye announcement, then ends. The canonical
// flow.webhook event is in the outbox too.
func TestFlowNoInputTimeoutRunsWebhookAndContinues(t *testing.T) {
	fe := newFlowEnv(t)
	f := fe.mainFlow(nil)
	c := fe.callNumber(f)
	c.answered(t)
	if !hearsPrompt(t, c.rtp, promptFreq[promptMenu]) {
		t.Fatal("the caller did not hear the menu")
	}
	if !hearsPrompt(t, c.rtp, promptFreq[promptBye]) {
		t.Fatal("after no input the caller did not hear the goodbye: the call did not continue past the webhook")
	}
	c.byeWithin(t, "the caller after the goodbye")
	fe.waitIdle()
	r := fe.endedRecord(switchboard.CallInbound)
	got := fe.hooks.Received()
	if len(got) != 1 {
		t.Fatalf("webhook node: %d requests; want 1", len(got))
	}
	h := got[0]
	if h.Header.Get("X-Pbx-Token") != "tok-123" || h.Header.Get("X-Tenant") != "acme" || h.Query.Get("x") != "1" {
		t.Fatalf("webhook headers %v query %v", h.Header, h.Query)
	}
	for _, want := range []string{`"type":"webhook_component_event"`, `"unique_call_id":"` + r.UniqueID + `"`,
		`"user_number":"+15551234567"`, `"dest_number":"+15559876543"`, `"component_name":"No input"`} {
		if !strings.Contains(h.Body, want) {
			t.Fatalf("webhook body %s; want %s", h.Body, want)
		}
	}
	var canonical bool
	for _, ev := range fe.callEvents(r.UniqueID) {
		canonical = canonical || ev.Name == switchboard.EventFlowWebhook && ev.Data["component_name"] == "No input"
	}
	if !canonical {
		t.Fatal("no flow.webhook event in the outbox")
	}
	tr := fe.trace(r.UniqueID)
	if !hasStep(tr, "menu", "timeout", "-> nobody") || !hasStep(tr, "nobody", "outcome", "webhook sent") || !hasStep(tr, "bye", "entered", "") {
		t.Fatalf("trace = %+v", tr.Steps)
	}
}

// A webhook node whose URL the server's policy refuses (a private address) is not
// called; the call goes on all the same and the trace says why.
func TestFlowWebhookRefusedBySSRFPolicyContinues(t *testing.T) {
	fe := newFlowEnv(t)
	fe.eng.SetWebhookPolicy(webhook.URLPolicy{}) // production: https, public addresses only
	f := fe.mainFlow(func(f *switchboard.CallFlow) {
		f.Start = "nobody"
		for _, name := range []string{"hours", "closed", "menu", "sales"} {
			delete(f.Nodes, name)
		}
	})
	c := fe.callNumber(f)
	c.answered(t)
	if !hearsPrompt(t, c.rtp, promptFreq[promptBye]) {
		t.Fatal("the call did not continue past the refused webhook")
	}
	c.byeWithin(t, "the caller after the goodbye")
	fe.waitIdle()
	if n := len(fe.hooks.Received()); n != 0 {
		t.Fatalf("the receiver on loopback got %d requests despite the policy", n)
	}
	tr := fe.trace(fe.endedRecord(switchboard.CallInbound).UniqueID)
	if !hasStep(tr, "nobody", "outcome", "webhook not delivered") {
		t.Fatalf("trace = %+v", tr.Steps)
	}
}

// crossStore hands the engine a number whose flow is another account's, as a row written
// around the store's checks would: the engine must not follow it.
type crossStore struct {
	*store.DB
	mu     sync.Mutex
	flowID int64 // when set, the number's target becomes this flow
}

func (s *crossStore) GetNumberByE164(ctx context.Context, number string) (*switchboard.Number, error) {
	n, err := s.DB.GetNumberByE164(ctx, number)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil && s.flowID != 0 {
		n.Target = switchboard.Target{Type: switchboard.TargetCallFlow, ID: s.flowID}
	}
	return n, err
}

// A number of account A whose target names account B's flow never runs B's flow: the
// flow is looked up in the number's account only.
func TestFlowOfAnotherAccountIsNeverUsed(t *testing.T) {
	cross := &crossStore{}
	fe := newFlowEnv(t, func(c *pbx.Config) {
		cross.DB = c.Store.(*store.DB)
		c.Store = cross
	})
	other := &switchboard.Account{Name: "Other"}
	if err := fe.db.CreateAccount(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	bFlow := &switchboard.CallFlow{AccountID: other.ID, Name: "B's line", Start: "hello", Nodes: map[string]switchboard.FlowNode{
		"hello": {Type: switchboard.FlowNodeAnnouncement, PromptID: promptClosed}}}
	if err := fe.db.CreateCallFlow(context.Background(), bFlow); err != nil {
		t.Fatal(err)
	}
	aFlow := fe.mainFlow(nil)
	cross.mu.Lock()
	cross.flowID = bFlow.ID
	cross.mu.Unlock()
	c := fe.callNumber(aFlow)
	if code := c.finalCode(t); code != 480 {
		t.Fatalf("a number pointing at another account's flow answered %d; want 480", code)
	}
	fe.waitIdle()
	r := fe.endedRecord(switchboard.CallInbound)
	if _, err := fe.db.GetCallTrace(context.Background(), fe.account.ID, r.UniqueID); err == nil {
		t.Fatal("the call has a flow trace: it ran a flow")
	}
	if _, err := fe.db.GetCallTrace(context.Background(), other.ID, r.UniqueID); err == nil {
		t.Fatal("B's flow left a trace for A's call")
	}
}

// A DTMF flood (hundreds of presses while the menu plays) neither blocks nor keeps the
// call going: the menu counts one invalid key, goes to its invalid target (the goodbye),
// and the call ends with every RTP port given back.
//
// The flow sets the call's language to German first: the "invalid option" system prompt
// is asked for in German.
func TestFlowDTMFFloodEndsCleanly(t *testing.T) {
	fe := newFlowEnv(t)
	f := fe.mainFlow(func(f *switchboard.CallFlow) {
		hours := f.Nodes["hours"]
		hours.Then = "german"
		f.Nodes["hours"] = hours
		f.Nodes["german"] = switchboard.FlowNode{Type: switchboard.FlowNodeSetLanguage, Language: "de", Next: "menu"}
		menu, one := f.Nodes["menu"], 1
		menu.Retries = &one // the first invalid key plays "invalid option", the second goes to invalid
		f.Nodes["menu"] = menu
	})
	c := fe.callNumber(f)
	c.answered(t)
	if !hearsPrompt(t, c.rtp, promptFreq[promptMenu]) {
		t.Fatal("the caller did not hear the menu")
	}
	for range 300 {
		pressKey(t, c.rtp, '9')
	}
	c.byeWithin(t, "the caller after the flood")
	fe.waitIdle()
	tr := fe.trace(fe.endedRecord(switchboard.CallInbound).UniqueID)
	if !hasStep(tr, "menu", "invalid", "-> bye") {
		t.Fatalf("trace = %+v", tr.Steps)
	}
	fe.prompts.mu.Lock()
	asked := strings.Join(fe.prompts.languages, " ")
	fe.prompts.mu.Unlock()
	if !strings.Contains(asked, "invalid-option:de") {
		t.Fatalf("system prompts asked for: %q; want invalid-option in de", asked)
	}
	if n := fe.eng.Ports().InUse(); n != 0 {
		t.Fatalf("%d RTP ports still in use", n)
	}
}

// Shutting the engine down while a caller sits in a menu ends the call (BYE), and Run
// returns only once the flow's goroutines are done: no port is left open.
func TestFlowShutdownEndsCallsInMenus(t *testing.T) {
	fe := newFlowEnv(t)
	f := fe.mainFlow(func(f *switchboard.CallFlow) {
		menu := f.Nodes["menu"]
		menu.PromptID = promptLong
		f.Nodes["menu"] = menu
	})
	c := fe.callNumber(f)
	c.answered(t)
	if !hearsPrompt(t, c.rtp, promptFreq[promptLong]) {
		t.Fatal("the caller did not hear the menu")
	}
	fe.stopEngine()
	c.byeWithin(t, "the caller at shutdown")
	if n := fe.eng.Ports().InUse(); n != 0 {
		t.Fatalf("%d RTP ports still in use after Run returned", n)
	}
	r := fe.endedRecord(switchboard.CallInbound)
	if _, err := fe.db.GetCallTrace(context.Background(), fe.account.ID, r.UniqueID); err != nil {
		t.Fatalf("no trace after shutdown: %v", err)
	}
}

// A ring group whose members do not answer falls back to a flow: the caller, never
// answered by the group, is answered by the flow and hears its announcement.
func TestFlowAsRingGroupFallback(t *testing.T) {
	fe := newFlowEnv(t)
	fe.clk.Set(time.Date(2025, 3, 9, 12, 0, 0, 0, time.UTC)) // a Sunday: the flow's closed branch
	f := fe.mainFlow(nil)
	offline := fe.user("2009") // no phone registered
	rg := &switchboard.RingGroup{AccountID: fe.account.ID, Name: "Front Desk", Extension: "8100",
		Strategy: switchboard.RingSimultaneous, RingTime: 20, Members: []switchboard.RingGroupMember{{UserID: offline.ID}},
		Fallback: switchboard.Target{Type: switchboard.TargetCallFlow, ID: f.ID}}
	if err := fe.db.CreateRingGroup(context.Background(), rg); err != nil {
		t.Fatal(err)
	}
	fe.carrier = fe.fromTrunk(switchboard.Target{Type: switchboard.TargetRingGroup, ID: rg.ID})
	c := fe.carrier.dial(fe.env, "+15559876543", "+15551234567", "", 0)
	c.answered(t)
	if !hearsPrompt(t, c.rtp, promptFreq[promptClosed]) {
		t.Fatal("the ring group's fallback flow did not play its announcement")
	}
	c.byeWithin(t, "the caller after the announcement")
	fe.waitIdle()
	tr := fe.trace(fe.endedRecord(switchboard.CallInbound).UniqueID)
	if tr.CallFlowID != f.ID || !hasStep(tr, "closed", "entered", "") {
		t.Fatalf("trace = %+v", tr.Steps)
	}
}

// A user's unanswered direct calls go to their call flow instead of voicemail: the user
// is offline, the call from the trunk runs the flow (closed: the announcement), and the
// trace names the flow.
func TestFlowTakesAUsersUnansweredCalls(t *testing.T) {
	fe := newFlowEnv(t)
	fe.clk.Set(time.Date(2025, 3, 9, 12, 0, 0, 0, time.UTC)) // a Sunday: the flow's closed branch
	f := fe.mainFlow(nil)
	offline := fe.user("2010", func(u *switchboard.User) { u.UnansweredCallFlowID = f.ID }) // no phone registered
	fe.carrier = fe.fromTrunk(switchboard.Target{Type: switchboard.TargetUser, ID: offline.ID})
	c := fe.carrier.dial(fe.env, "+15559876543", "+15551234567", "", 0)
	c.answered(t)
	if !hearsPrompt(t, c.rtp, promptFreq[promptClosed]) {
		t.Fatal("the user's unanswered-call flow did not play its announcement")
	}
	c.byeWithin(t, "the caller after the announcement")
	fe.waitIdle()
	tr := fe.trace(fe.endedRecord(switchboard.CallInbound).UniqueID)
	if tr.CallFlowID != f.ID || !hasStep(tr, "closed", "entered", "") {
		t.Fatalf("trace = %+v", tr.Steps)
	}
}
