package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/api"
	"switchboard/blob"
	"switchboard/internal/tstest"
	"switchboard/provision"
	"switchboard/store/storetest"
)

// vmAPIEnv serves the API with voicemail configured, and leaves one message for John of
// each tenant (a WAV of 1 s of a ramp), returning A's message.
func vmAPIEnv(t *testing.T) (*env, *switchboard.VoicemailLinks, *switchboard.VoicemailMessage, *switchboard.VoicemailMessage) {
	t.Helper()
	db := storetest.NewSQLite(t)
	blobs, err := blob.NewDir(t.TempDir())
	must(t, err)
	svc := provision.New(provision.Config{Store: db, Blobs: blobs})
	links := &switchboard.VoicemailLinks{Key: []byte("k-0123456789abcdef0123456789abcd"), BaseURL: "https://pbx.example.com"}
	e := newEnv(t, db, func(c *api.Config) {
		c.Provision, c.Voicemail, c.VoicemailLinks = svc, svc, links
	})
	links.BaseURL = e.srv.URL
	leave := func(tn *tenant) *switchboard.VoicemailMessage {
		box, err := svc.UserVoicemailBox(context.Background(), tn.account.ID, tn.john.ID)
		must(t, err)
		samples := make([]int16, 8000)
		for i := range samples {
			samples[i] = int16(i)
		}
		m := &switchboard.VoicemailMessage{AccountID: tn.account.ID, BoxID: box.ID, CallID: "1.1", From: "+14155550100", DurationMS: 1000}
		must(t, svc.LeaveVoicemail(context.Background(), m, tstest.WAV(8000, 1, samples), nil))
		return m
	}
	return e, links, leave(e.a), leave(e.b)
}

func TestVoicemailAPIMessagesAndSignedLinks(t *testing.T) {
	e, links, msgA, msgB := vmAPIEnv(t)
	a := e.a.base(e.srv)
	id := strconv.FormatInt(msgA.ID, 10)
	box := strconv.FormatInt(msgA.BoxID, 10)

	r := e.request("GET", a+"/voicemail/boxes/"+box+"/messages?status=new", e.a.devKey, nil)
	expectOK(t, r, 200, "List of voicemail messages")
	if len(r.results()) != 1 || r.results()[0].(map[string]any)["caller_id"] != "+14155550100" {
		t.Fatalf("new messages: %s", r.raw)
	}
	expectError(t, e.request("GET", a+"/voicemail/boxes/"+box+"/messages?status=old", e.a.devKey, nil), 400, "BAD_REQUEST")

	// Download with the key, whole and a range.
	wav := e.request("GET", a+"/voicemail/messages/"+id+"/audio", e.a.devKey, nil)
	if wav.status != 200 || !strings.HasPrefix(wav.raw, "RIFF") || wav.header.Get("Content-Type") != "audio/wav" {
		t.Fatalf("download: %d %q", wav.status, wav.raw[:min(len(wav.raw), 40)])
	}
	part := e.request("GET", a+"/voicemail/messages/"+id+"/audio", e.a.devKey, nil, "Range", "bytes=0-3")
	if part.status != http.StatusPartialContent || part.raw != "RIFF" {
		t.Fatalf("range: %d %q", part.status, part.raw)
	}

	// The signed link works without a key; tampered, for another message or expired: 403.
	link := links.URL(e.a.account.ID, msgA.ID, e.clock.Now())
	got := get(t, link, e)
	if got.status != 200 || got.raw != wav.raw {
		t.Fatalf("signed link: %d", got.status)
	}
	tampered := link[:len(link)-1] + string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", link[len(link)-1])+1)%16])
	expectError(t, get(t, tampered, e), 403, "AUTH_INVALID")
	other := strings.Replace(link, "/messages/"+id+"/", "/messages/"+strconv.FormatInt(msgB.ID, 10)+"/", 1)
	expectError(t, get(t, other, e), 403, "AUTH_INVALID")
	e.clock.Advance(switchboard.DefaultVoicemailLinkTTL + time.Second)
	expectError(t, get(t, link, e), 403, "AUTH_INVALID")

	// Mark read, then delete: each with its event.
	r = e.request("PATCH", a+"/voicemail/messages/"+id, e.a.devKey, map[string]any{"read": true})
	expectOK(t, r, 200, "Voicemail message updated")
	if r.result()["read"] != true {
		t.Fatalf("patched: %s", r.raw)
	}
	expectError(t, e.request("PATCH", a+"/voicemail/messages/"+id, e.a.devKey, map[string]any{"read": false}), 400, "BAD_REQUEST")
	expectOK(t, e.request("DELETE", a+"/voicemail/messages/"+id, e.a.devKey, nil), 200, "Voicemail message deleted")
	expectError(t, e.request("GET", a+"/voicemail/messages/"+id, e.a.devKey, nil), 404, "NOT_FOUND")
	evs, err := e.store.ListEvents(context.Background(), e.a.account.ID, 0, 1000)
	must(t, err)
	var names []string
	for _, ev := range evs {
		if strings.HasPrefix(ev.Name, "voicemail.") {
			names = append(names, ev.Name)
		}
	}
	if strings.Join(names, ",") != "voicemail.read,voicemail.deleted" {
		t.Fatalf("voicemail events: %v", names)
	}
}

// One account never reaches another's messages, and a user key reaches only its own box.
func TestVoicemailAPIIsolation(t *testing.T) {
	e, _, msgA, _ := vmAPIEnv(t)
	a := e.a.base(e.srv)
	id := strconv.FormatInt(msgA.ID, 10)
	box := strconv.FormatInt(msgA.BoxID, 10)

	// B's key on A's account path: refused; on its own path with A's ids: not found.
	expectError(t, e.request("GET", a+"/voicemail/boxes/"+box+"/messages", e.b.devKey, nil), 403, "AUTH_INVALID")
	expectError(t, e.request("GET", a+"/voicemail/messages/"+id+"/audio", e.b.devKey, nil), 403, "AUTH_INVALID")
	b := e.b.base(e.srv)
	expectError(t, e.request("GET", b+"/voicemail/boxes/"+box+"/messages", e.b.devKey, nil), 404, "NOT_FOUND")
	expectError(t, e.request("GET", b+"/voicemail/messages/"+id+"/audio", e.b.devKey, nil), 404, "NOT_FOUND")
	expectError(t, e.request("DELETE", b+"/voicemail/messages/"+id, e.b.devKey, nil), 404, "NOT_FOUND")

	// John's user key reads his box; Jane's does not (as if it did not exist).
	expectOK(t, e.request("GET", a+"/voicemail/boxes/"+box+"/messages", e.a.userKey, nil), 200, "List of voicemail messages")
	if r := e.request("GET", a+"/voicemail/messages/"+id+"/audio", e.a.userKey, nil); r.status != 200 {
		t.Fatalf("john's own message: %d", r.status)
	}
	expectError(t, e.request("GET", a+"/voicemail/boxes/"+box+"/messages", e.a.janeKey, nil), 404, "NOT_FOUND")
	expectError(t, e.request("GET", a+"/voicemail/messages/"+id+"/audio", e.a.janeKey, nil), 404, "NOT_FOUND")
	expectError(t, e.request("PATCH", a+"/voicemail/messages/"+id, e.a.janeKey, map[string]any{"read": true}), 404, "NOT_FOUND")
	expectError(t, e.request("GET", a+"/voicemail/boxes", e.a.userKey, nil), 403, "AUTH_INVALID")

	// A PIN is digits, stored hashed: only has_pin shows.
	expectError(t, e.request("PATCH", a+"/voicemail/boxes/"+box, e.a.userKey, map[string]any{"pin": "12"}), 400, "BAD_REQUEST")
	r := e.request("PATCH", a+"/voicemail/boxes/"+box, e.a.userKey, map[string]any{"pin": "123456", "on_busy": false})
	expectOK(t, r, 200, "Voicemail box updated")
	if r.result()["has_pin"] != true || r.result()["on_busy"] != false || strings.Contains(r.raw, "123456") {
		t.Fatalf("box after PATCH: %s", r.raw)
	}
}

func TestVoicemailAPIUnconfigured(t *testing.T) {
	e := newSQLiteEnv(t)
	expectError(t, e.request("GET", e.a.base(e.srv)+"/voicemail/boxes", e.a.devKey, nil), 503, "SERVICE_UNAVAILABLE")
}

// get fetches url without a key.
func get(t *testing.T, url string, _ *env) response {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		must(t, json.Unmarshal(raw, &r.body))
	}
	return r
}

// A box's greeting is uploaded as WAV (converted), refused when it is no audio, and
// removed again; a user key changes only its own box's.
func TestVoicemailAPIGreeting(t *testing.T) {
	e, _, msgA, _ := vmAPIEnv(t)
	url := e.a.base(e.srv) + "/voicemail/boxes/" + strconv.FormatInt(msgA.BoxID, 10) + "/greeting"
	upload := func(key string, body []byte) response {
		t.Helper()
		req, err := http.NewRequest("PUT", url, strings.NewReader(string(body)))
		must(t, err)
		req.Header.Set("Content-Type", "audio/wav")
		req.Header.Set("X-API-Key", key)
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		r := response{status: resp.StatusCode, raw: string(raw)}
		must(t, json.Unmarshal(raw, &r.body))
		return r
	}
	wav := tstest.WAV(16000, 1, make([]int16, 16000))
	expectError(t, upload(e.a.janeKey, wav), 404, "NOT_FOUND")
	expectError(t, upload(e.a.userKey, []byte("not audio")), 400, "BAD_REQUEST")
	r := upload(e.a.userKey, wav)
	expectOK(t, r, 200, "Voicemail box updated")
	if r.result()["greeting"] != "uploaded" {
		t.Fatalf("after upload: %s", r.raw)
	}
	r = e.request("DELETE", url, e.a.devKey, nil)
	expectOK(t, r, 200, "Voicemail box updated")
	if r.result()["greeting"] != "default" {
		t.Fatalf("after delete: %s", r.raw)
	}
}
