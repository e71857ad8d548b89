package recording

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/events"
	"switchboard/webhook"
)

// The recording.available and recording.failed events the service stores (read back from
// the store, as the webhook worker reads them) render in the providers' formats: Voice Over
// Cloud callRecordingAvailable with the call id and crm id, VoIPLine by direction with the
// signed URL, Standard with every canonical field.
func TestEventsRenderInTheFormats(t *testing.T) {
	e := newEnv(t, dirStore(t))
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	call := &switchboard.CallRecord{AccountID: e.acct.ID, UniqueID: "1772442000.7", Direction: "outbound", From: "1001",
		To: "+61288880000", Extension: "1001", StartedAt: at, CRMID: "deal-7"}
	if err := e.db.StartCallRecord(e.ctx, call); err != nil {
		t.Fatal(err)
	}
	e.svc.Calls = e.db
	rec := &switchboard.Recording{AccountID: e.acct.ID, CallID: call.UniqueID, Direction: "outbound", StartedAt: at}
	w, err := e.svc.Begin(e.ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(testWAVHeader())
	w.Write(stereo(8000, 3, 4))
	if _, err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Finish(context.Background(), rec.ID, 1000, 0); err != nil {
		t.Fatal(err)
	}
	failed := &switchboard.Recording{AccountID: e.acct.ID, CallID: call.UniqueID, Direction: "outbound"}
	w2, _ := e.svc.Begin(e.ctx, failed)
	w2.Abort()
	if err := e.svc.Fail(e.ctx, failed.ID, "upload refused"); err != nil {
		t.Fatal(err)
	}
	avail := e.events(t, switchboard.EventRecordingAvailable)[0]
	fail := e.events(t, switchboard.EventRecordingFailed)[0]
	target := func(format string) webhook.Target {
		return webhook.Target{Format: format, URL: "https://receiver.example/hook", Secrets: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}
	}

	req, err := webhook.Render(target(events.FormatVoiceOverCloud), avail, "callRecordingAvailable", "msg_1", at)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(req.URL)
	if q := u.Query(); q.Get("event") != "callRecordingAvailable" || q.Get("callid") != call.UniqueID || q.Get("crm_id") != "deal-7" {
		t.Fatalf("voiceovercloud: %s", req.URL)
	}
	names := events.WireNames(events.FormatVoipline, avail)
	if len(names) != 1 || names[0] != "outbound_call_recording" {
		t.Fatalf("voipline names %v", names)
	}
	req, err = webhook.Render(target(events.FormatVoipline), avail, names[0], "msg_2", at)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(req.Body), "recordings/"+rec.ID+"/audio?expires=") {
		t.Fatalf("voipline body without the signed url: %s", req.Body)
	}
	for _, ev := range []*switchboard.Event{avail, fail} {
		req, err = webhook.Render(target(events.FormatStandard), ev, ev.Name, "msg_3", at)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		}
		if err := json.Unmarshal(req.Body, &body); err != nil {
			t.Fatalf("standard %s: %v\n%s", ev.Name, err, req.Body)
		}
		if body.Type != ev.Name || !strings.Contains(string(req.Body), ev.Data["recording_id"].(string)) {
			t.Fatalf("standard %s: %s", ev.Name, req.Body)
		}
		if ev == fail && !strings.Contains(string(req.Body), "upload refused") {
			t.Fatalf("standard recording.failed without the reason: %s", req.Body)
		}
	}
}
