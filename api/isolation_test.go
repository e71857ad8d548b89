package api_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"switchboard"
	"switchboard/api"
	"switchboard/blob"
	"switchboard/internal/tstest"
	"switchboard/pbx"
	"switchboard/prompt"
	"switchboard/provision"
	"switchboard/recording"
	"switchboard/sip"
	"switchboard/sms"
	"switchboard/store"
	"switchboard/store/storetest"
	"switchboard/webhook"
)

func TestTenantIsolationSQLite(t *testing.T) {
	testTenantIsolation(t, newIsolationEnv(t, storetest.NewSQLite(t)))
}

func TestTenantIsolationPostgres(t *testing.T) {
	testTenantIsolation(t, newIsolationEnv(t, storetest.NewPostgres(t)))
}

// isolationEnv is a server with every service it can have: the real webhook service, the
// call engine for trunks with fakes for placing calls and sending SMS that answer per
// account, and the store's call records. Each tenant has a webhook, a delivery and a trunk,
// so that every route has something of each account to find, or to refuse.
type isolationEnv struct {
	*env
	db       *store.DB
	webhooks *webhook.Service
	recv     *httptest.Server
	vm       *provision.Service
	// ids of each tenant's things, by path parameter name
	aIDs, bIDs map[string]int64
	// rec records calls; recordingIDs is each tenant's recording (ids are strings), by the
	// tenant's user_id in its ids.
	rec          *recording.Service
	recordingIDs map[int64]string
}

func newIsolationEnv(t *testing.T, db *store.DB) *isolationEnv {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	svc, err := webhook.NewService(webhook.Config{Store: db, Key: key,
		Policy: webhook.URLPolicy{AllowHTTP: true, AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}})
	must(t, err)
	sipSrv, err := sip.NewServer(sip.Config{Store: db, UDPAddr: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: prometheus.NewRegistry()})
	must(t, err)
	sealer, err := webhook.NewSealer(key)
	must(t, err)
	engine, err := pbx.New(pbx.Config{Store: db, SIP: sipSrv, Sealer: sealer})
	must(t, err)
	ie := &isolationEnv{db: db, webhooks: svc}
	ie.recv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(ie.recv.Close)
	blobs, err := blob.NewDir(t.TempDir())
	must(t, err)
	provisioning := provision.New(provision.Config{Store: db, Sealer: sealer, Engine: engine, Blobs: blobs,
		Speaker: &prompt.Speaker{Path: "/nonexistent/espeak-ng"}})
	ie.vm = provisioning
	ie.rec = &recording.Service{Store: db, Blobs: blobs, Links: &recording.Links{Key: key}}
	ie.recordingIDs = map[int64]string{}
	ie.env = newEnv(t, db, func(c *api.Config) {
		c.Recordings = ie.rec
		c.Voicemail, c.VoicemailLinks = provisioning, &switchboard.VoicemailLinks{Key: key}
		c.Webhooks, c.Calls, c.SMS = svc, accountCalls{engine}, accountSMS{}
		c.CallControl = engine // the real engine: it finds only calls of the path's account
		c.CallRecording = engine
		c.Conferences = engine // likewise for the parties of conference rooms
		c.Provision, c.Trunks = provisioning, provisioning
		c.Messages = sms.New(sms.Config{Store: db, Sealer: sealer, DefaultCarrier: "simulator"}) // no worker: nothing is sent
		c.Agents = provisioning
		c.Transcripts = db
		c.EventStream = endedStream{} // the walk needs an answer that ends: the stream's own tests are in stream/
	})
	ie.aIDs = ie.seedServices(ie.a, "192.0.2.10")
	ie.bIDs = ie.seedServices(ie.b, "192.0.2.20")
	// Live state for both: B's calls show B's numbers, so a leak of them is seen.
	for _, tn := range []*tenant{ie.a, ie.b} {
		ie.live.setUser(tn.account.ID, tn.john.ID, switchboard.Channel{To: tn.mainLine.Number, From: "1001", CallSeconds: 5, Direction: "outbound"})
		ie.live.setQueue(tn.account.ID, tn.sales.ID, switchboard.QueueLiveStats{AgentsOnline: 1, ActiveCalls: 1})
	}
	return ie
}

// seedServices gives the tenant a webhook with one delivery and a trunk, and returns the
// ids of all its things by path parameter name.
func (ie *isolationEnv) seedServices(tn *tenant, trunkHost string) map[string]int64 {
	t, ctx := ie.t, context.Background()
	t.Helper()
	tag := strings.TrimPrefix(tn.john.FirstName, "John")
	hook, _, err := ie.webhooks.CreateWebhook(ctx, tn.account.ID, switchboard.WebhookChange{
		Name: ptr("Hook" + tag), URL: ptr(ie.recv.URL + "/hook"), Events: []string{"*"}})
	must(t, err)
	must(t, ie.db.CreateContact(ctx, &switchboard.Contact{AccountID: tn.account.ID, Phone: "+14155550199", FirstName: "Event" + tag}))
	_, err = ie.webhooks.RunOnce(ctx)
	must(t, err)
	deliveries, _, err := ie.webhooks.ListDeliveries(ctx, switchboard.DeliveryFilter{AccountID: tn.account.ID})
	must(t, err)
	if len(deliveries) == 0 {
		t.Fatalf("account %d: no delivery to walk with", tn.account.ID)
	}
	r := ie.request("POST", tn.base(ie.srv)+"/trunks", tn.devKey, map[string]any{"name": "Carrier" + tag, "host": trunkHost})
	expectOK(t, r, http.StatusCreated, "Trunk created")
	// A developer key of its own, for the owner's walk to revoke without locking itself out.
	music := &switchboard.MusicClass{AccountID: tn.account.ID, Name: "jazz", Format: "wav", Samples: 160}
	must(t, ie.db.CreateMusicClass(ctx, music, make([]byte, 160)))
	// A call's flow trace, under a numeric call id of the tenant's own (the walk's ids are numbers).
	callID := 1772443800 + tn.account.ID
	must(t, ie.db.SaveCallTrace(ctx, &switchboard.CallTrace{AccountID: tn.account.ID, CallID: itoa(callID), CallFlowID: 1}))
	// And its transcript: a job queued, claimed and completed as the transcriber does.
	must(t, ie.db.PutTranscriptionSettings(ctx, &switchboard.TranscriptionSettings{AccountID: tn.account.ID, Enabled: true}))
	job := &switchboard.TranscriptionJob{AccountID: tn.account.ID, RecordingID: switchboard.NewRecordingID(), CallID: itoa(callID),
		Direction: "inbound", BlobKey: switchboard.AccountBlobKey(tn.account.ID, "recordings", "x.wav")}
	_, err = ie.db.EnqueueTranscription(ctx, job)
	must(t, err)
	jobs, err := ie.db.ClaimTranscriptionJobs(ctx, time.Now(), time.Minute, 10, 10)
	must(t, err)
	for _, j := range jobs {
		must(t, ie.db.CompleteTranscriptionJob(ctx, j, &switchboard.Transcript{Engine: "openai", Analytics: []byte(`{"Transcript":[]}`)}))
	}
	pr := ie.request("POST", tn.base(ie.srv)+"/prompts?name=Prompt"+tag, tn.devKey, string(tstest.WAV(8000, 1, make([]int16, 800))),
		"Content-Type", "audio/wav")
	expectOK(t, pr, http.StatusCreated, "Prompt created")
	callflow := &switchboard.CallFlow{AccountID: tn.account.ID, Name: "Main line" + tag, Start: "hours", Nodes: map[string]switchboard.FlowNode{
		"hours": {Type: "time_condition", TimeZone: "Europe/Berlin", Then: "sales", Else: "bye"},
		"sales": {Type: "queue", QueueID: tn.sales.ID, Next: "bye"},
		"bye":   {Type: "hangup"}}}
	must(t, ie.db.CreateCallFlow(ctx, callflow))
	room := &switchboard.ConferenceRoom{AccountID: tn.account.ID, Name: "Board" + tag, Extension: "8800", MaxParticipants: 10,
		PINHash: switchboard.HashConferencePIN("4321")}
	must(t, ie.db.CreateConferenceRoom(ctx, room))
	_, spare := switchboard.NewAPIKey(switchboard.KeyDeveloper)
	spare.AccountID, spare.Name = tn.account.ID, "spare"+tag
	must(t, ie.db.CreateAPIKey(ctx, spare))
	box, err := ie.vm.UserVoicemailBox(ctx, tn.account.ID, tn.john.ID)
	must(t, err)
	msg := &switchboard.VoicemailMessage{AccountID: tn.account.ID, BoxID: box.ID, CallID: "1.1", DurationMS: 1000}
	must(t, ie.vm.LeaveVoicemail(ctx, msg, []byte("RIFF"+tag), nil))
	rec := recordCall(t, ie.rec, tn, tn.john, "1772443800.9", time.Now())
	ie.recordingIDs[tn.john.ID] = rec.ID
	// An SMS of the tenant's, under a numeric id (the walk's ids are numbers).
	smsID := 1772443900 + tn.account.ID
	must(t, ie.db.CreateMessage(ctx, &switchboard.Message{ID: itoa(smsID), AccountID: tn.account.ID, Direction: switchboard.SMSOutbound,
		From: tn.mainLine.Number, To: "+14155550123", Body: "SMS" + tag, Encoding: "gsm7", Segments: 1, Status: switchboard.SMSDelivered,
		NumberID: tn.mainLine.ID, UserID: tn.john.ID}, switchboard.MessageStatusChange{Status: switchboard.SMSDelivered}, nil))
	return map[string]int64{"sms_message_id": smsID, "box_id": box.ID, "message_id": msg.ID, "user_id": tn.john.ID, "queue_id": tn.sales.ID, "device_id": tn.device.ID,
		"number_id": tn.mainLine.ID, "ring_group_id": tn.group.ID, "contact_id": tn.contact.ID, "key_id": spare.ID,
		"webhook_id": hook.ID, "delivery_id": deliveries[0].ID, "class_id": music.ID, "trunk_id": int64(r.result()["pk"].(float64)),
		"prompt_id": int64(pr.result()["pk"].(float64)), "callflow_id": callflow.ID, "conference_id": room.ID, "participant_id": 1, "call_id": callID}
}

func ptr[T any](v T) *T { return &v }

// accountCalls places calls as the engine would for trunks, but without SIP: it answers with
// a call id of the request's account, and refuses a caller who is not of that account.
type accountCalls struct{ *pbx.Engine }

func (accountCalls) PlaceCall(_ context.Context, req switchboard.OutboundCallRequest) (*switchboard.OutboundCall, error) {
	if req.FromUser == nil || req.FromUser.AccountID != req.AccountID {
		return nil, fmt.Errorf("placing a call for account %d from user %+v of another account", req.AccountID, req.FromUser)
	}
	return &switchboard.OutboundCall{CallID: fmt.Sprintf("call-of-%d", req.AccountID), Status: "initiating"}, nil
}

// accountSMS sends nothing; it refuses a sender number that is not of the request's account.
type accountSMS struct{}

func (accountSMS) SendSMS(_ context.Context, req switchboard.SMSRequest) (*switchboard.SMSMessage, error) {
	if req.From != nil && req.From.AccountID != req.AccountID {
		return nil, fmt.Errorf("sending an SMS for account %d from number %+v of another account", req.AccountID, req.From)
	}
	return &switchboard.SMSMessage{MessageID: fmt.Sprintf("sms-of-%d", req.AccountID), Status: "queued"}, nil
}

var (
	pathParamRE = regexp.MustCompile(`\{([a-z_]+)\}`)
	// nameParams are path parameters that name a thing every account has (a system prompt),
	// not an id of one account's: the walk fills them in as they are.
	nameParams = map[string]string{"name": "goodbye"}
	// randomValueRE matches keys, secrets and signatures: random text that may hold "Bx".
	randomValueRE = regexp.MustCompile(`"(key|prefix|secret)":"[^"]*"|[A-Za-z0-9+/=_-]{20,}`)
)

// walkBodies are request bodies valid in shape, aimed at tn: changing tn's things, or
// making the caller's things point at tn's.
func (ie *isolationEnv) walkBodies(tn *tenant) map[string]any {
	return map[string]any{
		"PATCH /users/{user_id}":                        map[string]any{"first_name": "Hacked"},
		"POST /users":                                   map[string]any{"presence_id": "1009", "first_name": "Hacked"},
		"POST /users/{user_id}/devices":                 map[string]any{"name": "Hacked"},
		"PATCH /devices/{device_id}":                    map[string]any{"name": "Hacked"},
		"POST /queues":                                  map[string]any{"queue_name": "Hacked", "extension": "8009", "overflow": map[string]any{"type": "user", "id": tn.john.ID}},
		"PATCH /queues/{queue_id}":                      map[string]any{"queue_name": "Hacked"},
		"POST /queues/{queue_id}/members":               map[string]any{"user_id": tn.jane.ID},
		"PATCH /queues/{queue_id}/members/{user_id}":    map[string]any{"paused": true},
		"POST /ring_groups":                             map[string]any{"name": "Hacked", "extension": "8109", "members": []any{map[string]any{"user_id": tn.john.ID}}},
		"PATCH /ring_groups/{ring_group_id}":            map[string]any{"name": "Hacked"},
		"POST /numbers":                                 map[string]any{"number": "+17775550000", "owner_id": tn.john.ID},
		"PATCH /numbers/{number_id}":                    map[string]any{"friendly_name": "Hacked"},
		"POST /contacts":                                map[string]any{"phone": "+14155550000", "first_name": "Hacked"},
		"PATCH /contacts/{contact_id}":                  map[string]any{"first_name": "Hacked"},
		"POST /api_keys":                                map[string]any{"kind": "user", "user_id": tn.john.ID},
		"PATCH /settings":                               map[string]any{"public_endpoints": true},
		"POST /call/outbound":                           map[string]any{"from": "1001", "to": "+15551234567", "caller_id": tn.mainLine.Number},
		"POST /sms/send":                                map[string]any{"from": tn.mainLine.Number, "to": "+15551234567", "message": "hi"},
		"POST /simulator/sms":                           map[string]any{"from": "+14155550123", "to": tn.mainLine.Number, "message": "hi"},
		"PUT /sms/settings":                             map[string]any{"number_id": tn.mainLine.ID, "sms_max_parts": 2},
		"POST /webhooks":                                map[string]any{"name": "Hacked", "url": ie.recv.URL + "/hacked", "events": []any{"*"}},
		"PATCH /webhooks/{webhook_id}":                  map[string]any{"name": "Hacked"},
		"POST /webhook_deliveries/resend":               map[string]any{"ids": []any{ie.bIDs["delivery_id"], ie.aIDs["delivery_id"]}},
		"POST /webhooks/{webhook_id}/test":              map[string]any{"event": "contact.created"},
		"POST /webhooks/{webhook_id}/rotate":            map[string]any{},
		"POST /calls/{call_id}/transfer":                map[string]any{"to": "1002"},
		"POST /calls/{call_id}/recording":               map[string]any{"action": "start"},
		"PUT /trunks/{trunk_id}":                        map[string]any{"name": "Hacked", "host": "192.0.2.30"},
		"POST /trunks":                                  map[string]any{"name": "Hacked", "host": "192.0.2.40"},
		"POST /conferences":                             map[string]any{"name": "Hacked", "extension": "8809"},
		"PATCH /conferences/{conference_id}":            map[string]any{"name": "Hacked", "pin": ""},
		"POST /devices/{device_id}/password":            nil,
		"POST /webhook_deliveries/{delivery_id}/resend": nil,

		// call flows (docs/callflows.md)
		"POST /callflows":                        map[string]any{"name": "Hacked", "start": "q", "nodes": map[string]any{"q": map[string]any{"type": "queue", "queue_id": tn.sales.ID}}},
		"PATCH /callflows/{callflow_id}":         map[string]any{"name": "Hacked"},
		"PUT /callflows/{callflow_id}/override":  map[string]any{"state": "closed"},
		"POST /callflows/{callflow_id}/simulate": map[string]any{"keys": "1"},
	}
}

// walkOp is one operation of the OpenAPI document.
type walkOp struct {
	method, path string // path relative to the account
	developer    bool   // a developer key may call it (else only a user key)
}

// walkOps lists the account operations of the server's OpenAPI document: reads first, then
// writes, deletes last, so that the owner's walk reads its things before deleting them.
func walkOps(t *testing.T, e *env) []walkOp {
	t.Helper()
	spec := e.request("GET", e.srv.URL+"/v3/openapi.json", "", nil)
	paths, _ := spec.body["paths"].(map[string]any)
	if len(paths) == 0 {
		t.Fatalf("no paths in the OpenAPI document: %.200s", spec.raw)
	}
	var ops []walkOp
	for path, item := range paths {
		rel, ok := strings.CutPrefix(path, "/v3/voice/{account_id}")
		if !ok {
			continue
		}
		for method, op := range item.(map[string]any) {
			kinds, _ := op.(map[string]any)["x-key-types"].([]any)
			ops = append(ops, walkOp{method: strings.ToUpper(method), path: rel, developer: kinds[0] == "developer" || len(kinds) > 1 && kinds[1] == "developer"})
		}
	}
	rank := func(method string) int {
		switch method {
		case "GET":
			return 0
		case "DELETE":
			return 2
		}
		return 1
	}
	sort.Slice(ops, func(i, j int) bool {
		if ri, rj := rank(ops[i].method), rank(ops[j].method); ri != rj {
			return ri < rj
		}
		return ops[i].method+ops[i].path < ops[j].method+ops[j].path
	})
	return ops
}

// send makes the request of op on account's path with ids, as key.
func (ie *isolationEnv) send(op walkOp, accountID int64, ids map[string]int64, body any, key string) response {
	url := ie.srv.URL + "/v3/voice/" + itoa(accountID) + pathParamRE.ReplaceAllStringFunc(op.path, func(p string) string {
		if name, ok := nameParams[p[1:len(p)-1]]; ok {
			return name
		}
		if p == "{recording_id}" {
			return ie.recordingIDs[ids["user_id"]]
		}
		return itoa(ids[p[1:len(p)-1]])
	})
	if body == nil && (op.method == "POST" || op.method == "PATCH" || op.method == "PUT") {
		body = "{}"
	}
	return ie.request(op.method, url, key, body)
}

// testTenantIsolation walks every account operation of the OpenAPI document, every method,
// with account A's developer and user keys against account B: B's path, and A's path with
// B's ids (and bodies naming B's users and numbers). Every such request is refused (403 on
// B's path, 403 or 404 with B's ids), no answer carries B's data (every B name carries the
// tag "Bx", every B number starts +1666), and B's state does not change. Then A walks its
// own account with the right key: every read answers 200 and nothing answers 5xx, so no
// route passed the walk by being unavailable.
func testTenantIsolation(t *testing.T, e *isolationEnv) {
	before := snapshot(t, e.db, e.b.account.ID)
	ops := walkOps(t, e.env)
	keys := map[string]string{"developer key": e.a.devKey, "user key": e.a.userKey}
	leaked := func(r response) bool {
		raw := randomValueRE.ReplaceAllString(r.raw, "")
		return strings.Contains(raw, "Bx") || strings.Contains(raw, "+1666") || strings.Contains(raw, "desk62")
	}
	walked := 0
	bodies := e.walkBodies(e.b)
	for _, op := range ops {
		hasIDs := pathParamRE.MatchString(strings.ReplaceAll(op.path, "{name}", ""))
		for keyName, key := range keys {
			where := fmt.Sprintf("%s %s with A's %s", op.method, op.path, keyName)
			r := e.send(op, e.b.account.ID, e.bIDs, bodies[op.method+" "+op.path], key)
			if r.status != http.StatusForbidden {
				t.Errorf("%s on B's account: status %d, want 403: %.300s", where, r.status, r.raw)
			}
			if leaked(r) {
				t.Errorf("%s on B's account: B's data in the answer: %.300s", where, r.raw)
			}
			r = e.send(op, e.a.account.ID, e.bIDs, bodies[op.method+" "+op.path], key)
			if hasIDs && r.status != http.StatusForbidden && r.status != http.StatusNotFound {
				t.Errorf("%s on A's account with B's ids: status %d, want 403 or 404: %.300s", where, r.status, r.raw)
			}
			if r.status >= 500 {
				t.Errorf("%s on A's account with B's ids: status %d: %.300s", where, r.status, r.raw)
			}
			if leaked(r) {
				t.Errorf("%s on A's account with B's ids: B's data in the answer: %.300s", where, r.raw)
			}
			walked += 2
		}
	}
	if walked < 200 {
		t.Errorf("walked only %d requests", walked)
	}
	if after := snapshot(t, e.db, e.b.account.ID); after != before {
		t.Errorf("account B changed:\nbefore %s\nafter  %s", before, after)
	}

	// The owner's walk.
	bodies = e.walkBodies(e.a)
	for _, op := range ops {
		key := e.a.userKey
		if op.developer {
			key = e.a.devKey
		}
		r := e.send(op, e.a.account.ID, e.aIDs, bodies[op.method+" "+op.path], key)
		where := fmt.Sprintf("%s %s on A's own account", op.method, op.path)
		if r.status >= 500 {
			t.Errorf("%s: status %d: %.300s", where, r.status, r.raw)
		}
		if op.method == "GET" && r.status != http.StatusOK {
			t.Errorf("%s: status %d, want 200: %.300s", where, r.status, r.raw)
		}
		// Writes come before the deletes: the owner's things are all there to be found. A
		// call in progress exists only while SIP carries it, and the walk has none: the
		// owner's transfer and hangup hear 404 like anyone's.
		// Nobody is in a conference room either: acting on a participant is 404.
		inProgress := strings.HasPrefix(op.path, "/calls/{call_id}/") || strings.Contains(op.path, "/participants/{participant_id}/")
		if op.method != "DELETE" && !inProgress && (r.status == http.StatusNotFound || r.status == http.StatusForbidden) {
			t.Errorf("%s: status %d: the owner's own thing was not found or refused: %.300s", where, r.status, r.raw)
		}
		if leaked(r) {
			t.Errorf("%s: B's data in the answer: %.300s", where, r.raw)
		}
	}
}

// snapshot serialises everything of an account, to compare before and after.
func snapshot(t *testing.T, db *store.DB, accountID int64) string {
	t.Helper()
	ctx := context.Background()
	var parts []any
	add := func(v any, err error) {
		must(t, err)
		parts = append(parts, v)
	}
	add(db.GetAccount(ctx, accountID))
	add(db.ListUsers(ctx, accountID))
	add(db.ListDevices(ctx, accountID, 0))
	queues, err := db.ListQueues(ctx, accountID)
	add(queues, err)
	for _, q := range queues {
		add(db.ListQueueMembers(ctx, accountID, q.ID))
	}
	add(db.ListRingGroups(ctx, accountID))
	add(db.ListNumbers(ctx, accountID, switchboard.NumberFilter{}))
	add(db.ListContacts(ctx, accountID))
	add(db.ListAPIKeys(ctx, accountID))
	add(db.ListWebhooks(ctx, accountID))
	deliveries, _, err := db.ListDeliveries(ctx, switchboard.DeliveryFilter{AccountID: accountID})
	add(deliveries, err)
	add(db.ListTrunks(ctx, accountID))
	classes, _, err := db.PageMusicClasses(ctx, accountID, switchboard.Page{Limit: 100})
	add(classes, err)
	callflows, _, err := db.PageCallFlows(ctx, accountID, switchboard.Page{Limit: 100})
	add(callflows, err)
	rooms, _, err := db.PageConferenceRooms(ctx, accountID, switchboard.Page{Limit: 100})
	add(rooms, err)
	events, err := db.ListEvents(ctx, accountID, 0, 1000)
	add(len(events), err)
	recs, _, err := db.PageRecordings(ctx, accountID, switchboard.RecordingFilter{}, switchboard.Page{})
	add(recs, err)
	b, err := json.Marshal(parts)
	must(t, err)
	return string(b)
}

// endedStream answers the event stream routes with a stream that ends at once, so that the
// walk gets an answer; authentication and tenancy are the API's, before it is reached.
type endedStream struct{}

func (endedStream) ServeEventStream(w http.ResponseWriter, r *http.Request, accountID, userID int64) error {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	return nil
}

func (endedStream) ServeEventWebSocket(w http.ResponseWriter, r *http.Request, accountID, userID int64) error {
	return endedStream{}.ServeEventStream(w, r, accountID, userID)
}
