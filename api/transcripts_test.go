package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"switchboard"
	"switchboard/api"
	"switchboard/store/storetest"
)

// A call's transcript is readable with the developer key of its account, analytics as an
// object; another account's call and a call with no transcript are 404; a user key is refused.
func TestCallTranscript(t *testing.T) {
	db := storetest.NewSQLite(t)
	e := newEnv(t, db, func(c *api.Config) { c.Transcripts = db })
	ctx := context.Background()
	acct := e.a.account.ID
	must(t, db.PutTranscriptionSettings(ctx, &switchboard.TranscriptionSettings{AccountID: acct, Enabled: true, Redact: true}))
	job := &switchboard.TranscriptionJob{AccountID: acct, RecordingID: switchboard.NewRecordingID(), CallID: "1772443800.17",
		Direction: "inbound", BlobKey: "accounts/1/recordings/x.wav"}
	if _, err := db.EnqueueTranscription(ctx, job); err != nil {
		t.Fatal(err)
	}
	jobs, err := db.ClaimTranscriptionJobs(ctx, time.Now(), time.Minute, 1, 1)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("claim: %v %v", jobs, err)
	}
	must(t, db.CompleteTranscriptionJob(ctx, jobs[0], &switchboard.Transcript{Engine: "openai", Model: "whisper-1", Language: "en-US",
		TotalTokens: 42, Redactions: 1, Analytics: []byte(`{"JobName":"call-analytics-1772443800.17","Transcript":[]}`)}))

	r := e.request("GET", e.a.base(e.srv)+"/calls/1772443800.17/transcript", e.a.devKey, nil)
	expectOK(t, r, http.StatusOK, "Call transcript")
	res := r.result()
	list, _ := res["transcripts"].([]any)
	if res["call_id"] != "1772443800.17" || len(list) != 1 {
		t.Fatalf("transcript: %s", r.raw)
	}
	tr := list[0].(map[string]any)
	analytics, _ := tr["analytics"].(map[string]any)
	if tr["recording_id"] != job.RecordingID || tr["model"] != "whisper-1" || tr["redactions"] != float64(1) ||
		analytics["JobName"] != "call-analytics-1772443800.17" {
		t.Fatalf("transcript: %v", tr)
	}
	expectError(t, e.request("GET", e.b.base(e.srv)+"/calls/1772443800.17/transcript", e.b.devKey, nil), http.StatusNotFound, "NOT_FOUND")
	expectError(t, e.request("GET", e.a.base(e.srv)+"/calls/1772443800.18/transcript", e.a.devKey, nil), http.StatusNotFound, "NOT_FOUND")
	expectError(t, e.request("GET", e.a.base(e.srv)+"/calls/1772443800.17/transcript", e.a.userKey, nil), http.StatusForbidden, "AUTH_INVALID")
}
