package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/tstest"
	"switchboard/web"
)

// Tests of the pages that edit members, trunks and agent states, and of the call media,
// recordings and messages pages: each against the real store and services.

func (f *fixture) admin(i int) *browser {
	f.t.Helper()
	b := f.browser()
	if status := b.signIn(f.admins[i], adminPassword); status != http.StatusSeeOther {
		f.t.Fatalf("admin sign-in: %d", status)
	}
	return b
}

// user signs in as account 1's user u (giving them a login).
func (f *fixture) user(u *switchboard.User) *browser {
	f.t.Helper()
	login := "user" + u.Extension
	if _, _, err := (web.Logins{Store: f.db}).Create(context.Background(), u.AccountID, login, switchboard.PortalUser, u.ID, adminPassword); err != nil {
		f.t.Fatal(err)
	}
	b := f.browser()
	if status := b.signIn(login, adminPassword); status != http.StatusSeeOther {
		f.t.Fatalf("user sign-in: %d", status)
	}
	b.get("/me")
	return b
}

func (f *fixture) newUser(accountID int64, ext, first string) *switchboard.User {
	f.t.Helper()
	u, err := f.svc.CreateUser(context.Background(), accountID, switchboard.UserChange{Extension: &ext, FirstName: &first})
	if err != nil {
		f.t.Fatal(err)
	}
	return u
}

func (f *fixture) newQueue(accountID int64, name, ext string) *switchboard.Queue {
	f.t.Helper()
	q, err := f.svc.CreateQueue(context.Background(), accountID, switchboard.QueueChange{QueueName: &name, Extension: &ext})
	if err != nil {
		f.t.Fatal(err)
	}
	return q
}

func id(i int64) string { return strconv.FormatInt(i, 10) }

func expect(t *testing.T, what string, status, want int, body string) {
	t.Helper()
	if status != want {
		t.Fatalf("%s: %d, want %d\n%.2000s", what, status, want, body)
	}
}

func members(t *testing.T, f *fixture, accountID, queueID int64) map[int64]switchboard.QueueMember {
	t.Helper()
	ms, err := f.db.ListQueueMembers(context.Background(), accountID, queueID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]switchboard.QueueMember{}
	for _, m := range ms {
		out[m.UserID] = m
	}
	return out
}

func TestQueueMembers(t *testing.T) {
	f := newFixture(t)
	const evil = `<script>alert(1)</script>`
	q := f.newQueue(1, "Sales "+evil, "600")
	otherQ := f.newQueue(2, "Support", "600")
	mine := f.users[0]
	f.svc.UpdateUser(context.Background(), 1, mine.ID, switchboard.UserChange{FirstName: ptr(evil)})
	b := f.admin(0)
	path := "/queues/" + id(q.ID)

	status, body := b.get("/queues")
	expect(t, "queues list", status, 200, body)
	if !strings.Contains(body, `href="`+path+`"`) {
		t.Fatal("the queues list does not link the queue's page")
	}
	status, body = b.post(path+"/members", url.Values{"user_id": {id(mine.ID)}, "penalty": {"3"}})
	expect(t, "add member", status, http.StatusSeeOther, body)
	if m, ok := members(t, f, 1, q.ID)[mine.ID]; !ok || m.Penalty != 3 {
		t.Fatalf("member after add: %+v %v", m, ok)
	}
	status, body = b.get(path)
	expect(t, "queue page", status, 200, body)
	if strings.Contains(body, "<script>alert") || !strings.Contains(body, "&lt;script&gt;") {
		t.Fatal("the queue page does not escape the names")
	}
	if !strings.Contains(body, `action="`+path+`/members/`+id(mine.ID)+`/delete"`) {
		t.Fatal("the member is not listed with its remove form")
	}

	// Bad input: a penalty that is no number, or out of range; nothing changes.
	status, body = b.post(path+"/members/"+id(mine.ID), url.Values{"penalty": {"abc"}})
	expect(t, "penalty abc", status, http.StatusBadRequest, body)
	if !strings.Contains(body, "must be a whole number") {
		t.Fatal("no field message for a penalty that is not a number")
	}
	status, body = b.post(path+"/members/"+id(mine.ID), url.Values{"penalty": {"5000"}})
	expect(t, "penalty 5000", status, http.StatusBadRequest, body)
	status, body = b.post(path+"/members/"+id(mine.ID), url.Values{"penalty": {"7"}})
	expect(t, "penalty 7", status, http.StatusSeeOther, body)
	if m := members(t, f, 1, q.ID)[mine.ID]; m.Penalty != 7 {
		t.Fatalf("penalty after update: %d", m.Penalty)
	}

	// Cross-account ids: another account's queue is not found; another account's user
	// cannot be added; no CSRF token, nothing changes.
	status, _ = b.get("/queues/" + id(otherQ.ID))
	expect(t, "other account's queue", status, http.StatusNotFound, "")
	status, _ = b.post("/queues/"+id(otherQ.ID)+"/members", url.Values{"user_id": {id(f.users[1].ID)}})
	expect(t, "add to other account's queue", status, http.StatusNotFound, "")
	status, body = b.post(path+"/members", url.Values{"user_id": {id(f.users[1].ID)}})
	expect(t, "other account's user", status, http.StatusBadRequest, body)
	if len(members(t, f, 2, otherQ.ID)) != 0 || len(members(t, f, 1, q.ID)) != 1 {
		t.Fatal("a cross-account member was added")
	}
	status, _ = b.do("POST", path+"/members/"+id(mine.ID)+"/delete", url.Values{"csrf": {"forged"}}, nil)
	expect(t, "remove without the CSRF token", status, http.StatusForbidden, "")
	if len(members(t, f, 1, q.ID)) != 1 {
		t.Fatal("a forged form removed the member")
	}
	status, body = b.post(path+"/members/"+id(mine.ID)+"/delete", nil)
	expect(t, "remove", status, http.StatusSeeOther, body)
	if len(members(t, f, 1, q.ID)) != 0 {
		t.Fatal("the member is still there")
	}
	// A user has no queue pages.
	ub := f.user(f.newUser(1, "1010", "Agent"))
	status, _ = ub.get(path)
	expect(t, "user GET queue", status, http.StatusNotFound, "")
	status, _ = ub.post(path+"/members", url.Values{"user_id": {id(mine.ID)}})
	expect(t, "user adds member", status, http.StatusNotFound, "")
}

// A queue's and a ring group's settings change from their pages, through the same checks
// as the API; a bad value, another account's id or a forged form changes nothing.
func TestQueueAndRingGroupSettings(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	q := f.newQueue(1, "Sales", "600")
	otherQ := f.newQueue(2, "Support", "600")
	g, err := f.svc.CreateRingGroup(ctx, 1, switchboard.RingGroupChange{Name: ptr("Front desk"), Extension: ptr("700")})
	if err != nil {
		t.Fatal(err)
	}
	b := f.admin(0)
	qPath, gPath := "/queues/"+id(q.ID), "/ring-groups/"+id(g.ID)

	settings := url.Values{"queue_name": {"Sales <b>EU</b>"}, "extension": {"601"}, "strategy": {"leastrecent"},
		"musiconhold": {"default"}, "timeout": {"25"}, "retry": {"3"}, "wrapuptime": {"10"}, "maxlen": {"5"},
		"max_wait": {"120"}, "service_level": {"30"}, "recording": {"all"},
		"callback_enabled_present": {"1"}, "callback_enabled": {"on"}}
	status, body := b.post(qPath, settings)
	expect(t, "queue settings", status, http.StatusSeeOther, body)
	got, err := f.db.GetQueue(ctx, 1, q.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.QueueName != "Sales <b>EU</b>" || got.Extension != "601" || got.Strategy != "leastrecent" || got.Timeout != 25 ||
		got.Retry != 3 || got.WrapUpTime != 10 || got.MaxLen != 5 || got.MaxWait != 120 || got.ServiceLevel != 30 ||
		got.Recording != "all" || !got.CallbackEnabled {
		t.Fatalf("queue after the settings form: %+v", got)
	}
	status, body = b.get(qPath)
	expect(t, "queue page", status, 200, body)
	if strings.Contains(body, "<b>EU</b>") || !strings.Contains(body, `value="120"`) {
		t.Fatal("the settings form does not show the stored values escaped")
	}

	// Bad input: no number, a strategy that does not exist; nothing changes.
	for _, bad := range []url.Values{{"max_wait": {"soon"}}, {"strategy": {"loudest"}}, {"extension": {""}}} {
		status, body = b.post(qPath, bad)
		expect(t, "bad queue settings", status, http.StatusBadRequest, body)
	}
	if again, _ := f.db.GetQueue(ctx, 1, q.ID); again.MaxWait != 120 || again.Strategy != "leastrecent" || again.Extension != "601" {
		t.Fatalf("a refused form changed the queue: %+v", again)
	}
	status, _ = b.post("/queues/"+id(otherQ.ID), url.Values{"queue_name": {"mine now"}})
	expect(t, "another account's queue", status, http.StatusNotFound, "")
	status, _ = b.do("POST", qPath, url.Values{"csrf": {"forged"}, "queue_name": {"forged"}}, nil)
	expect(t, "settings without the CSRF token", status, http.StatusForbidden, "")
	if theirs, _ := f.db.GetQueue(ctx, 2, otherQ.ID); theirs.QueueName != "Support" {
		t.Fatal("another account's queue was renamed")
	}

	status, body = b.post(gPath, url.Values{"name": {"Reception"}, "extension": {"701"}, "strategy": {"sequential"}, "ring_time": {"15"}})
	expect(t, "ring group settings", status, http.StatusSeeOther, body)
	rg, err := f.db.GetRingGroup(ctx, 1, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rg.Name != "Reception" || rg.Extension != "701" || rg.Strategy != switchboard.RingSequential || rg.RingTime != 15 {
		t.Fatalf("ring group after the settings form: %+v", rg)
	}
	status, body = b.post(gPath, url.Values{"ring_time": {"-4"}})
	expect(t, "negative ring time", status, http.StatusBadRequest, body)
	if rg, _ := f.db.GetRingGroup(ctx, 1, g.ID); rg.RingTime != 15 {
		t.Fatalf("a refused form changed the ring time to %d", rg.RingTime)
	}
}

func TestRingGroupMembers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	g, err := f.svc.CreateRingGroup(ctx, 1, switchboard.RingGroupChange{Name: ptr("Front desk"), Extension: ptr("700")})
	if err != nil {
		t.Fatal(err)
	}
	other, err := f.svc.CreateRingGroup(ctx, 2, switchboard.RingGroupChange{Name: ptr("Theirs"), Extension: ptr("700")})
	if err != nil {
		t.Fatal(err)
	}
	second := f.newUser(1, "1002", "Second")
	b := f.admin(0)
	path := "/ring-groups/" + id(g.ID)
	for _, u := range []*switchboard.User{f.users[0], second} {
		status, body := b.post(path+"/members", url.Values{"user_id": {id(u.ID)}, "ring_time": {""}})
		expect(t, "add", status, http.StatusSeeOther, body)
	}
	status, body := b.post(path+"/members", url.Values{"user_id": {id(second.ID)}, "ring_time": {"9999"}})
	expect(t, "ring time 9999", status, http.StatusBadRequest, body)
	status, body = b.post(path+"/members/"+id(second.ID)+"/move", url.Values{"dir": {"up"}})
	expect(t, "move up", status, http.StatusSeeOther, body)
	order := func() []int64 {
		got, err := f.db.GetRingGroup(ctx, 1, g.ID)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, m := range got.Members {
			ids = append(ids, m.UserID)
		}
		return ids
	}
	if o := order(); len(o) != 2 || o[0] != second.ID || o[1] != f.users[0].ID {
		t.Fatalf("order after moving the second up: %v", o)
	}
	status, body = b.get(path)
	expect(t, "page", status, 200, body)
	if i, j := strings.Index(body, "<td>Second</td>"), strings.Index(body, "<td>User 1001</td>"); i < 0 || j < 0 || i > j {
		t.Fatal("the page does not list the members in ring order")
	}
	status, _ = b.post("/ring-groups/"+id(other.ID)+"/members", url.Values{"user_id": {id(f.users[1].ID)}})
	expect(t, "other account's group", status, http.StatusNotFound, "")
	status, body = b.post(path+"/members", url.Values{"user_id": {id(f.users[1].ID)}})
	expect(t, "other account's user", status, http.StatusBadRequest, body)
	status, body = b.post(path+"/members/"+id(f.users[0].ID)+"/delete", nil)
	expect(t, "remove", status, http.StatusSeeOther, body)
	if o := order(); len(o) != 1 || o[0] != second.ID {
		t.Fatalf("after remove: %v", o)
	}
	status, _ = b.post(path+"/members/"+id(f.users[0].ID)+"/delete", nil)
	expect(t, "remove a non-member", status, http.StatusNotFound, "")
}

func TestTrunkSettings(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const secret = "s3cret-trunk-pass"
	tr, err := f.svc.CreateTrunk(ctx, 1, switchboard.TrunkChange{Name: ptr("Carrier"), Host: ptr("192.0.2.10"), Username: ptr("acme"), Password: ptr(secret)})
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := f.svc.CreateTrunk(ctx, 2, switchboard.TrunkChange{Name: ptr("Theirs"), Host: ptr("192.0.2.20")})
	if err != nil {
		t.Fatal(err)
	}
	b := f.admin(0)
	path := "/trunks/" + id(tr.ID)
	status, body := b.get(path)
	expect(t, "trunk page", status, 200, body)
	if strings.Contains(body, secret) || !strings.Contains(body, "one is stored") {
		t.Fatal("the trunk page shows the password, or not that one is stored")
	}
	form := url.Values{"name": {"Carrier <b>"}, "host": {"192.0.2.11"}, "port": {"5080"}, "transport": {"tcp"}, "username": {"acme"},
		"password": {""}, "inbound_addresses": {"192.0.2.11, 198.51.100.0/24"}, "caller_id_number": {"+15551230000"},
		"allow_user_caller_id_present": {"1"}, "allow_user_caller_id": {"on"}}
	status, body = b.post(path, form)
	expect(t, "save", status, http.StatusSeeOther, body)
	got, _ := f.db.GetTrunk(ctx, 1, tr.ID)
	if got.Host != "192.0.2.11" || got.Port != 5080 || got.Transport != "tcp" || !got.AllowUserCallerID ||
		len(got.InboundAddresses) != 2 || got.CallerIDNumber != "+15551230000" || string(got.SealedPassword) != string(tr.SealedPassword) {
		t.Fatalf("after save (empty password keeps it): %+v", got)
	}
	_, body = b.get(path)
	if strings.Contains(body, "Carrier <b>") || !strings.Contains(body, "Carrier &lt;b&gt;") {
		t.Fatal("the trunk's name is not escaped")
	}
	form.Set("password", "a-new-password")
	status, body = b.post(path, form)
	expect(t, "new password", status, http.StatusSeeOther, body)
	if got, _ := f.db.GetTrunk(ctx, 1, tr.ID); string(got.SealedPassword) == string(tr.SealedPassword) {
		t.Fatal("a new password was not stored")
	}
	form.Set("port", "x")
	status, body = b.post(path, form)
	expect(t, "port x", status, http.StatusBadRequest, body)
	form.Set("port", "5060")
	form.Set("transport", "carrier-pigeon")
	status, body = b.post(path, form)
	expect(t, "bad transport", status, http.StatusBadRequest, body)
	if got, _ := f.db.GetTrunk(ctx, 1, tr.ID); got.Port != 5080 || got.Transport != "tcp" {
		t.Fatalf("a refused form changed the trunk: %+v", got)
	}
	status, _ = b.get("/trunks/" + id(theirs.ID))
	expect(t, "other account's trunk", status, http.StatusNotFound, "")
	status, _ = b.post("/trunks/"+id(theirs.ID), url.Values{"host": {"203.0.113.1"}})
	expect(t, "save other account's trunk", status, http.StatusNotFound, "")
	if got, _ := f.db.GetTrunk(ctx, 2, theirs.ID); got.Host != "192.0.2.20" {
		t.Fatal("another account's trunk changed")
	}
}

func agentState(t *testing.T, f *fixture, accountID, userID, queueID int64) switchboard.AgentQueueState {
	t.Helper()
	states, err := f.svc.AgentStates(context.Background(), accountID, userID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range states {
		if s.QueueID == queueID {
			return s
		}
	}
	t.Fatalf("user %d is not in queue %d", userID, queueID)
	return switchboard.AgentQueueState{}
}

func agentEvents(t *testing.T, f *fixture, accountID int64) []*switchboard.Event {
	t.Helper()
	evs, err := f.db.ListEvents(context.Background(), accountID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []*switchboard.Event
	for _, e := range evs {
		if e.Name == switchboard.EventAgentStateChanged {
			out = append(out, e)
		}
	}
	return out
}

func TestAgentStates(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	q := f.newQueue(1, "Sales", "600")
	agent := f.users[0]
	if err := f.svc.AddQueueMember(ctx, 1, switchboard.QueueMember{QueueID: q.ID, UserID: agent.ID}); err != nil {
		t.Fatal(err)
	}
	q2 := f.newQueue(2, "Theirs", "600")
	if err := f.svc.AddQueueMember(ctx, 2, switchboard.QueueMember{QueueID: q2.ID, UserID: f.users[1].ID}); err != nil {
		t.Fatal(err)
	}
	b := f.admin(0)
	status, body := b.post("/agents/pause-reasons", url.Values{"reasons": {"Lunch\r\nTraining <b>\n\n"}})
	expect(t, "reasons", status, http.StatusSeeOther, body)
	if rs, _ := f.svc.PauseReasons(ctx, 1); len(rs) != 2 || rs[1] != "Training <b>" {
		t.Fatalf("reasons: %q", rs)
	}
	statePath := "/agents/" + id(agent.ID) + "/state"
	status, body = b.post(statePath, url.Values{"state": {"paused"}, "reason": {"Coffee"}})
	expect(t, "a reason off the list", status, http.StatusBadRequest, body)
	if st := agentState(t, f, 1, agent.ID, q.ID); st.State != switchboard.AgentAvailable || len(agentEvents(t, f, 1)) != 0 {
		t.Fatalf("a refused pause changed the state: %+v", st)
	}
	status, body = b.post(statePath, url.Values{"state": {"paused"}, "reason": {"Lunch"}, "queue_id": {id(q.ID)}})
	expect(t, "pause", status, http.StatusSeeOther, body)
	if st := agentState(t, f, 1, agent.ID, q.ID); st.State != switchboard.AgentPaused || st.Reason != "Lunch" {
		t.Fatalf("after pause: %+v", st)
	}
	if evs := agentEvents(t, f, 1); len(evs) != 1 || evs[0].Data["state"] != "paused" || evs[0].Data["reason"] != "Lunch" {
		t.Fatalf("events after pause: %v", evs)
	}
	status, body = b.get("/agents")
	expect(t, "agents page", status, 200, body)
	if !strings.Contains(body, `class="state-paused">paused</span> (Lunch)`) || strings.Contains(body, "Training <b>") {
		t.Fatal("the agents page does not show the pause and its reason, or does not escape reasons")
	}
	// Another account's agent, or queue: not found, nothing changes.
	status, _ = b.post("/agents/"+id(f.users[1].ID)+"/state", url.Values{"state": {"logged_out"}})
	expect(t, "other account's agent", status, http.StatusNotFound, "")
	status, _ = b.post(statePath, url.Values{"state": {"logged_out"}, "queue_id": {id(q2.ID)}})
	if status < 400 || status >= 500 {
		t.Fatalf("other account's queue: %d", status)
	}
	if st := agentState(t, f, 2, f.users[1].ID, q2.ID); st.State != switchboard.AgentAvailable {
		t.Fatal("another account's agent changed")
	}

	// The agent's own controls on /me: the same service, the same event.
	ub := f.user(agent)
	status, body = ub.get("/me")
	expect(t, "me", status, 200, body)
	if !strings.Contains(body, "My queues") || !strings.Contains(body, `action="/me/agent-state"`) {
		t.Fatal("/me has no agent controls")
	}
	status, body = ub.post("/me/agent-state", url.Values{"state": {"available"}})
	expect(t, "unpause", status, http.StatusSeeOther, body)
	if st := agentState(t, f, 1, agent.ID, q.ID); st.State != switchboard.AgentAvailable {
		t.Fatalf("after unpause: %+v", st)
	}
	if evs := agentEvents(t, f, 1); len(evs) != 2 || evs[1].Data["state"] != "available" {
		t.Fatalf("events after unpause: %d", len(evs))
	}
	status, _ = ub.post(statePath, url.Values{"state": {"logged_out"}})
	expect(t, "a user on the administrators' form", status, http.StatusNotFound, "")
	status, _ = ub.do("POST", "/me/agent-state", url.Values{"state": {"logged_out"}}, nil)
	expect(t, "no CSRF token", status, http.StatusForbidden, "")
	if st := agentState(t, f, 1, agent.ID, q.ID); st.State != switchboard.AgentAvailable {
		t.Fatal("a forged form changed the state")
	}
}

// mediaFixture: two users of account 1 with a recorded call each, and a recorded call in
// account 2. The first user's call has a transcript, and was transferred to the other user,
// whose part of it was recorded too and who got a voicemail from it: that user's media.
type mediaFixture struct {
	*fixture
	other             *switchboard.User
	mine, theirs, far *switchboard.Recording
	transferred       *switchboard.Recording // the other user's leg of the first user's call
	voicemail         *switchboard.VoicemailMessage
}

// record stores a call of the user's, and a recording of it.
func (f *fixture) record(u *switchboard.User, callID, from string) *switchboard.Recording {
	f.t.Helper()
	if err := f.db.StartCallRecord(context.Background(), &switchboard.CallRecord{AccountID: u.AccountID, UniqueID: callID, Direction: switchboard.CallInbound,
		From: from, To: u.Extension, UserID: u.ID, StartedAt: time.Now()}); err != nil {
		f.t.Fatal(err)
	}
	return f.recordLeg(u, callID)
}

// recordLeg stores a recording of the user's part of a call (a call transferred to them).
func (f *fixture) recordLeg(u *switchboard.User, callID string) *switchboard.Recording {
	f.t.Helper()
	ctx := context.Background()
	rec := &switchboard.Recording{AccountID: u.AccountID, CallID: callID, UserID: u.ID, Direction: "inbound", StartedAt: time.Now()}
	w, err := f.rec.Begin(ctx, rec)
	if err != nil {
		f.t.Fatal(err)
	}
	samples := make([]int16, 16000)
	for i := range samples {
		samples[i] = int16(i)
	}
	if _, err := w.Write(tstest.WAV(8000, 2, samples)); err != nil {
		f.t.Fatal(err)
	}
	if _, err := w.Commit(); err != nil {
		f.t.Fatal(err)
	}
	if err := f.rec.Finish(ctx, rec.ID, 1000, 0); err != nil {
		f.t.Fatal(err)
	}
	got, err := f.db.GetRecording(ctx, u.AccountID, rec.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return got
}

func newMediaFixture(t *testing.T) *mediaFixture {
	f := &mediaFixture{fixture: newFixture(t)}
	ctx := context.Background()
	f.other = f.newUser(1, "1077", "Other")
	f.mine = f.record(f.users[0], "100.1", "+15550000001")
	f.theirs = f.record(f.other, "100.2", "+15550000002")
	f.far = f.record(f.users[1], "100.3", "+15550000003")
	f.transferred = f.recordLeg(f.other, "100.1")
	// Transcripts of the first call's two recordings, with markup in what was said.
	must(t, f.db.PutTranscriptionSettings(ctx, &switchboard.TranscriptionSettings{AccountID: 1, Enabled: true}))
	f.transcribe(f.mine, `{"ParticipantRole":"CUSTOMER","BeginOffsetMillis":1200,"Content":"Hello, my order <b>42</b>?"},`+
		`{"ParticipantRole":"AGENT","BeginOffsetMillis":65000,"Content":"It ships today."}`)
	f.transcribe(f.transferred, `{"ParticipantRole":"AGENT","BeginOffsetMillis":0,"Content":"Said on the transferred leg."}`)
	// A voicemail left on the first call, in the other user's box.
	box, err := f.svc.UserVoicemailBox(ctx, 1, f.other.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.voicemail = &switchboard.VoicemailMessage{AccountID: 1, BoxID: box.ID, CallID: "100.1", From: "+15550000001", DurationMS: 1000}
	must(t, f.svc.LeaveVoicemail(ctx, f.voicemail, tstest.WAV(8000, 1, make([]int16, 8000)), nil))
	return f
}

// transcribe stores a finished transcript of rec with the turns (JSON objects).
func (f *fixture) transcribe(rec *switchboard.Recording, turns string) {
	f.t.Helper()
	ctx := context.Background()
	if _, err := f.db.EnqueueTranscription(ctx, &switchboard.TranscriptionJob{AccountID: rec.AccountID, RecordingID: rec.ID, CallID: rec.CallID,
		Direction: "inbound", BlobKey: rec.BlobKey}); err != nil {
		f.t.Fatal(err)
	}
	jobs, err := f.db.ClaimTranscriptionJobs(ctx, time.Now(), time.Minute, 1, 1)
	if err != nil || len(jobs) != 1 {
		f.t.Fatalf("claim: %v %v", jobs, err)
	}
	must(f.t, f.db.CompleteTranscriptionJob(ctx, jobs[0], &switchboard.Transcript{Engine: "sherpa", Analytics: []byte(`{"Transcript":[` + turns + `]}`)}))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func audioPath(r *switchboard.Recording) string { return "/recordings/" + r.ID + "/audio" }

func TestHistoryMedia(t *testing.T) {
	f := newMediaFixture(t)
	// The administrator sees every call's media of the account, the transcript as turns.
	b := f.admin(0)
	status, body := b.get("/history")
	expect(t, "history", status, 200, body)
	for _, want := range []string{`src="` + audioPath(f.mine) + `"`, `src="` + audioPath(f.theirs) + `"`, `src="` + audioPath(f.transferred) + `"`,
		`src="/voicemail/` + id(f.voicemail.ID) + `/audio"`, "<strong>Customer</strong>: Hello, my order &lt;b&gt;42&lt;/b&gt;?",
		`<span class="hint">1:05</span> <strong>Agent</strong>: It ships today.`, "Said on the transferred leg."} {
		if !strings.Contains(body, want) {
			t.Errorf("the administrator's history lacks %s", want)
		}
	}
	if strings.Contains(body, f.far.ID) || strings.Contains(body, "<b>42") {
		t.Error("the history shows another account's recording, or the transcript unescaped")
	}
	// The player's route streams with Range.
	req, _ := http.NewRequest("GET", f.srv.URL+audioPath(f.mine), nil)
	req.Header.Set("Range", "bytes=0-11")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	head, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || string(head[:4]) != "RIFF" || len(head) != 12 || resp.Header.Get("Content-Type") != "audio/wav" {
		t.Fatalf("Range request: %d %q %s", resp.StatusCode, head, resp.Header.Get("Content-Type"))
	}
	status, _ = b.get(audioPath(f.far))
	expect(t, "another account's recording", status, http.StatusNotFound, "")
	status, _ = b.get("/recordings/../../etc/passwd/audio")
	if status == 200 {
		t.Fatal("a malformed id was served")
	}

	// A user sees only their own call's media.
	ub := f.user(f.users[0])
	status, body = ub.get("/history")
	expect(t, "user history", status, 200, body)
	if !strings.Contains(body, audioPath(f.mine)) || !strings.Contains(body, "It ships today.") {
		t.Error("the user's history lacks their own recording or transcript")
	}
	if strings.Contains(body, f.theirs.ID) || strings.Contains(body, f.transferred.ID) || strings.Contains(body, "/voicemail/") ||
		strings.Contains(body, "Said on the transferred leg.") {
		t.Error("the user's history shows another user's recording, voicemail or transcript (of a call they were on too)")
	}
	status, _ = ub.get(audioPath(f.mine))
	expect(t, "own recording", status, 200, "")
	status, _ = ub.get(audioPath(f.theirs))
	expect(t, "another user's recording", status, http.StatusNotFound, "")
	status, _ = ub.get("/voicemail/" + id(f.voicemail.ID) + "/audio")
	expect(t, "another user's voicemail", status, http.StatusNotFound, "")
	// Signed out, nothing plays.
	status, _ = f.browser().get(audioPath(f.mine))
	expect(t, "signed out", status, http.StatusSeeOther, "")
}

func TestRecordingsPage(t *testing.T) {
	f := newMediaFixture(t)
	ctx := context.Background()
	if _, err := f.svc.UpdateAccount(ctx, 1, switchboard.AccountChange{RecordingRetentionDays: ptr(30)}); err != nil {
		t.Fatal(err)
	}
	ub := f.user(f.users[0])
	status, body := ub.get("/recordings")
	expect(t, "user recordings", status, 200, body)
	if !strings.Contains(body, f.mine.ID) || strings.Contains(body, f.theirs.ID) || strings.Contains(body, "/delete") {
		t.Fatal("the user's recordings page shows another user's recording, or a delete form")
	}
	if !strings.Contains(body, "deleted 30 days after they end") {
		t.Fatal("the retention is not shown")
	}
	status, _ = ub.post("/recordings/"+f.mine.ID+"/delete", nil)
	expect(t, "a user deletes", status, http.StatusNotFound, "")

	b := f.admin(0)
	status, body = b.get("/recordings")
	expect(t, "admin recordings", status, 200, body)
	if !strings.Contains(body, f.mine.ID) || !strings.Contains(body, f.theirs.ID) || strings.Contains(body, f.far.ID) {
		t.Fatal("the administrator's list is not the account's recordings")
	}
	status, _ = b.post("/recordings/"+f.far.ID+"/delete", nil)
	expect(t, "delete another account's", status, http.StatusNotFound, "")
	if _, err := f.db.GetRecording(ctx, 2, f.far.ID); err != nil {
		t.Fatal("another account's recording was deleted")
	}
	status, _ = b.do("POST", "/recordings/"+f.theirs.ID+"/delete", url.Values{"csrf": {"forged"}}, nil)
	expect(t, "forged delete", status, http.StatusForbidden, "")
	status, body = b.post("/recordings/"+f.theirs.ID+"/delete", nil)
	expect(t, "delete", status, http.StatusSeeOther, body)
	if _, err := f.db.GetRecording(ctx, 1, f.theirs.ID); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Fatalf("after delete: %v", err)
	}
	status, _ = b.get(audioPath(f.theirs))
	expect(t, "a deleted recording's audio", status, http.StatusNotFound, "")
}

func TestMessagesPage(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	other := f.newUser(1, "1077", "Other")
	number := func(accountID int64, e164 string, owner int64) {
		t.Helper()
		if _, err := f.svc.CreateNumber(ctx, accountID, switchboard.NumberChange{Number: ptr(e164), SMSEnabled: ptr(true), OwnerUserID: ptr(owner)}); err != nil {
			t.Fatal(err)
		}
	}
	number(1, "+15550001001", f.users[0].ID)
	number(1, "+15550001077", other.ID)
	number(2, "+15550002001", f.users[1].ID)
	for _, m := range []struct {
		account  int64
		from, to string
	}{{1, "+15557770001", "+15550001001"}, {1, "+15557770002", "+15550001077"}, {2, "+15557770003", "+15550002001"}} {
		if _, err := f.sms.InjectInbound(ctx, m.account, m.from, m.to, "hello from "+m.from+" <script>x</script>"); err != nil {
			t.Fatal(err)
		}
	}
	ub := f.user(f.users[0])
	status, body := ub.get("/messages")
	expect(t, "user messages", status, 200, body)
	// (html/template writes + as &#43;: the numbers are looked for without it.)
	if !strings.Contains(body, "15557770001") || strings.Contains(body, "15557770002") || strings.Contains(body, "15557770003") {
		t.Fatalf("the user's messages are not only their number's: %s", body)
	}
	if strings.Contains(body, "<script>x") || !strings.Contains(body, "&lt;script&gt;x") {
		t.Fatal("a message body is not escaped")
	}
	if !strings.Contains(body, "15550001001</option>") || strings.Contains(body, "15550001077") {
		t.Fatal("the user may pick another user's number to send from")
	}
	status, body = ub.post("/messages", url.Values{"from": {"+15550001077"}, "to": {"+15557770001"}, "message": {"hi"}})
	expect(t, "send from another user's number", status, http.StatusBadRequest, body)
	status, body = ub.post("/messages", url.Values{"from": {"+15550001001"}, "to": {"not a number"}, "message": {"hi"}})
	expect(t, "send to a bad number", status, http.StatusBadRequest, body)
	status, body = ub.post("/messages", url.Values{"from": {"+15550001001"}, "to": {"+15557770001"}, "message": {"On my way"}})
	expect(t, "send", status, http.StatusSeeOther, body)
	msgs, _, err := f.sms.ListMessages(ctx, 1, 0, switchboard.MessageFilter{Direction: switchboard.SMSOutbound})
	if err != nil || len(msgs) != 1 || msgs[0].Body != "On my way" || msgs[0].SentByUserID != f.users[0].ID {
		t.Fatalf("outbound after the user's send: %v %+v", err, msgs)
	}
	status, body = ub.get("/messages?party=%2B15557770001")
	if status != 200 || !strings.Contains(body, "On my way") {
		t.Fatal("the conversation does not show the message sent")
	}
	b := f.admin(0)
	_, body = b.get("/messages")
	if !strings.Contains(body, "15557770002") || strings.Contains(body, "15557770003") {
		t.Fatal("the administrator's messages are not the account's")
	}
	status, _ = b.do("POST", "/messages", url.Values{"from": {"+15550001077"}, "to": {"+15557770002"}, "message": {"x"}}, nil)
	expect(t, "send without the CSRF token", status, http.StatusForbidden, "")
	status, body = b.post("/messages", url.Values{"from": {"+15550002001"}, "to": {"+15557770002"}, "message": {"x"}})
	expect(t, "send from another account's number", status, http.StatusBadRequest, body)
}

func TestMusicOnHoldPage(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	upload := func(accountID int64, name string) *switchboard.MusicClass {
		t.Helper()
		m, err := f.svc.CreateMusicClass(ctx, accountID, name, switchboard.MusicUpload{ContentType: "audio/wav",
			Body: strings.NewReader(string(tstest.WAV(8000, 1, make([]int16, 16000))))})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	jazz, theirs := upload(1, "jazz"), upload(2, "theirs")
	used := upload(1, "brand")
	if _, err := f.svc.CreateQueue(ctx, 1, switchboard.QueueChange{QueueName: ptr("Sales"), Extension: ptr("600"), MusicOnHold: ptr("brand")}); err != nil {
		t.Fatal(err)
	}
	b := f.admin(0)
	status, body := b.get("/music")
	expect(t, "music", status, 200, body)
	if !strings.Contains(body, "<td>jazz</td>") || strings.Contains(body, "theirs") || !strings.Contains(body, "<td>2</td>") {
		t.Fatal("the music page does not list the account's classes with their length")
	}
	status, _ = b.post("/music/"+id(theirs.ID)+"/delete", nil)
	expect(t, "delete another account's class", status, http.StatusNotFound, "")
	status, body = b.post("/music/"+id(used.ID)+"/delete", nil)
	expect(t, "delete a class a queue plays", status, http.StatusConflict, body)
	status, body = b.post("/music/"+id(jazz.ID)+"/delete", nil)
	expect(t, "delete", status, http.StatusSeeOther, body)
	if _, err := f.db.GetMusicClass(ctx, 1, jazz.ID); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Fatalf("after delete: %v", err)
	}
	if _, err := f.db.GetMusicClass(ctx, 2, theirs.ID); err != nil {
		t.Fatal("another account's class was deleted")
	}
	ub := f.user(f.users[0])
	for _, p := range []string{"/music", "/agents", "/trunks/1", "/ring-groups/1"} {
		status, _ = ub.get(p)
		expect(t, "user GET "+p, status, http.StatusNotFound, "")
	}
}
