package transcribe

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/blob"
	"switchboard/events"
	"switchboard/internal/transcribetest"
	"switchboard/internal/tstest"
	"switchboard/recording"
	"switchboard/store"
	"switchboard/store/storetest"
	"switchboard/webhook"
)

// rig is a store, a blob directory, the recording service with the transcription hook and
// a transcription service on a fake OpenAI server: what cmd/switchboard wires.
type rig struct {
	db   *store.DB
	recs *recording.Service
	svc  *Service
	fake *transcribetest.OpenAI
	acct int64
}

func newRig(t *testing.T, db *store.DB, dataDir string) *rig {
	t.Helper()
	ctx := context.Background()
	blobs, err := blob.NewDir(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	fake := transcribetest.NewOpenAI(t, "openai/whisper-large-v3")
	// The customer (left on an inbound call: the caller) speaks in the low tone, the agent
	// in the high one.
	fake.Answers["low"] = transcribetest.Verbose(4.5, 8.1, "Hi, I have a question about my bill.",
		9.0, 14.0, "My card number is 4111 1111 1111 1111 and I am very upset about the wrong charge.",
		20.0, 22.0, "Great, thank you so much.")
	fake.Answers["high"] = transcribetest.Verbose(0.0, 4.2, "Thanks for calling, how can I help?",
		14.5, 19.0, "I'm sorry about that. I will send an updated invoice and refund the charge.",
		22.5, 24.0, "You're welcome, goodbye.")
	svc := &Service{Store: db, Blobs: blobs, Engines: []Engine{&OpenAI{BaseURL: fake.URL(), ModelName: "openai/whisper-large-v3",
		ProviderName: "together_ai"}}, SingleNode: true, Backoff: func(int) time.Duration { return 0 }}
	recs := &recording.Service{Store: db, Blobs: blobs}
	recs.OnAvailable = svc.RecordingHook(db)
	r := &rig{db: db, recs: recs, svc: svc, fake: fake}
	a := &switchboard.Account{Name: "Acme"}
	if err := db.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	r.acct = a.ID
	if err := db.PutTranscriptionSettings(ctx, &switchboard.TranscriptionSettings{AccountID: a.ID, Enabled: true, Redact: true}); err != nil {
		t.Fatal(err)
	}
	return r
}

// record writes a 25 s inbound call's recording: low tone left (the caller), high tone right.
func (r *rig) record(t *testing.T, callID string) *switchboard.Recording {
	t.Helper()
	ctx := context.Background()
	rec := &switchboard.Recording{AccountID: r.acct, CallID: callID, Direction: "inbound"}
	w, err := r.recs.Begin(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	n := 25 * 8000
	left, right := tstest.Sine(8000, n, 8000, 440), tstest.Sine(8000, n, 8000, 1000)
	frames := make([]int16, 0, 2*n)
	for i := range left {
		frames = append(frames, left[i], right[i])
	}
	if _, err := w.Write(tstest.WAV(8000, 2, frames)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := r.recs.Finish(ctx, rec.ID, 25000, 0); err != nil {
		t.Fatal(err)
	}
	return rec
}

func (r *rig) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); r.svc.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// eventsNamed lists the account's stored events of the name.
func eventsNamed(t *testing.T, db *store.DB, acct int64, name string) []*switchboard.Event {
	t.Helper()
	all, err := db.ListEvents(context.Background(), acct, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []*switchboard.Event
	for _, ev := range all {
		if ev.Name == name {
			out = append(out, ev)
		}
	}
	return out
}

// render is the event as a voice360 subscription receives it.
func renderVoice360(t *testing.T, ev *switchboard.Event) map[string]any {
	t.Helper()
	names := events.WireNames(events.FormatVoice360, ev)
	if len(names) != 1 || names[0] != "TRANSCRIPTION_FINISHED" {
		t.Fatalf("voice360 wire names %v", names)
	}
	req, err := webhook.Render(webhook.Target{Format: events.FormatVoice360, URL: "https://example.com/hook", Secrets: []string{"s3cret"}},
		ev, names[0], ev.ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal(req.Body, &body); err != nil {
		t.Fatalf("voice360 body %s: %v", req.Body, err)
	}
	return body
}

func TestRecordingIsTranscribedIntoTheVoice360Event(t *testing.T) {
	for name, open := range storetest.Dialects(t) {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, open(t), t.TempDir())
			rec := r.record(t, "1704067200.12345")
			r.run(t)
			var finished []*switchboard.Event
			tstest.WaitFor(t, "transcription.finished", func() bool {
				finished = eventsNamed(t, r.db, r.acct, switchboard.EventTranscriptionFinished)
				return len(finished) > 0
			})
			ev := finished[0]
			if ev.CallID != "1704067200.12345" {
				t.Errorf("event call id %q", ev.CallID)
			}
			// Each channel went to the engine on its own.
			tones := map[string]bool{}
			for _, req := range r.fake.Requests() {
				tones[req.Filename+"/"+req.Tone] = true
			}
			if !tones["left.wav/low"] || !tones["right.wav/high"] || len(tones) != 2 {
				t.Errorf("engine heard %v, want left.wav/low and right.wav/high", tones)
			}

			body := renderVoice360(t, ev)
			md := body["metadata"].(map[string]any)
			if md["success"] != true || md["provider"] != "together_ai" || md["model"] != "openai/whisper-large-v3" ||
				md["uniqueid"] != "1704067200.12345" {
				t.Errorf("metadata = %v", md)
			}
			if n, ok := md["total_tokens"].(float64); !ok || n != 200 {
				t.Errorf("total_tokens = %v, want 200 (100 per channel)", md["total_tokens"])
			}
			s, ok := md["transcription"].(string)
			if !ok {
				t.Fatalf("metadata.transcription is %T, want a JSON-encoded string", md["transcription"])
			}
			var got, want any
			if err := json.Unmarshal([]byte(s), &got); err != nil {
				t.Fatalf("metadata.transcription does not parse: %v", err)
			}
			if err := json.Unmarshal([]byte(transcribetest.SeedExample), &want); err != nil {
				t.Fatal(err)
			}
			transcribetest.SameShape(t, "transcription", want, got)

			var a Analytics
			if err := json.Unmarshal([]byte(s), &a); err != nil {
				t.Fatal(err)
			}
			if len(a.AgentTranscript) != 3 || a.AgentTranscript[0].Text != "Thanks for calling, how can I help?" {
				t.Errorf("agent transcript (the right channel of an inbound call) = %+v", a.AgentTranscript)
			}
			if len(a.CustomerTranscript) != 3 || a.CustomerTranscript[0].Start != 4.5 {
				t.Errorf("customer transcript = %+v", a.CustomerTranscript)
			}
			if strings.Contains(s, "4111") || !strings.Contains(s, "[CARD]") || a.Redaction.Count != 1 {
				t.Errorf("card number not masked once: count %d in %s", a.Redaction.Count, a.CustomerTranscript[1].Text)
			}
			if a.Transcript[0].ParticipantRole != RoleAgent || a.Transcript[1].ParticipantRole != RoleCustomer || len(a.Transcript) != 6 {
				t.Errorf("turns = %+v", a.Transcript)
			}
			if a.ConversationCharacteristics.TotalConversationDurationMillis != 25000 {
				t.Errorf("duration %d", a.ConversationCharacteristics.TotalConversationDurationMillis)
			}
			if a.JobName != "call-analytics-1704067200.12345" || a.AccountID == "" {
				t.Errorf("job %q account %q", a.JobName, a.AccountID)
			}

			// Voice Over Cloud: callTranscriptionAvailable with the call id.
			vn := events.WireNames(events.FormatVoiceOverCloud, ev)
			req, err := webhook.Render(webhook.Target{Format: events.FormatVoiceOverCloud, URL: "https://example.com/hook",
				Secrets: []string{"s"}}, ev, vn[0], ev.ID, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse(req.URL)
			if q := u.Query(); q.Get("event") != "callTranscriptionAvailable" || q.Get("callid") != "1704067200.12345" {
				t.Errorf("voiceovercloud query %v", q)
			}

			// The API's read.
			ts, err := r.db.GetCallTranscripts(context.Background(), r.acct, "1704067200.12345")
			if err != nil || len(ts) != 1 || ts[0].RecordingID != rec.ID || ts[0].Redactions != 1 {
				t.Fatalf("transcripts %+v, %v", ts, err)
			}
			// Another account reads nothing.
			if _, err := r.db.GetCallTranscripts(context.Background(), r.acct+1, "1704067200.12345"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
				t.Errorf("another account: %v", err)
			}
		})
	}
}

func TestNoJobWhenTheAccountHasTranscriptionOff(t *testing.T) {
	r := newRig(t, storetest.NewSQLite(t), t.TempDir())
	ctx := context.Background()
	if err := r.db.PutTranscriptionSettings(ctx, &switchboard.TranscriptionSettings{AccountID: r.acct}); err != nil {
		t.Fatal(err)
	}
	rec := r.record(t, "1704067200.1")
	if _, err := r.db.GetTranscriptionJob(ctx, r.acct, rec.ID); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Fatalf("job of a recording with transcription off: %v", err)
	}
}

func TestRetriesThenFailsVisibly(t *testing.T) {
	r := newRig(t, storetest.NewSQLite(t), t.TempDir())
	r.svc.MaxAttempts = 3
	r.fake.Set(func() {
		r.fake.Script = []transcribetest.Response{
			{Status: 429, RetryAfter: "0", Body: `{"error":{"message":"Rate limit reached"}}`},
			{Status: 500, Body: "oops"},
			{Status: 200, Body: "<html>not json</html>"},
		}
	})
	rec := r.record(t, "1704067200.2")
	r.run(t)
	var finished []*switchboard.Event
	tstest.WaitFor(t, "the failure event", func() bool {
		finished = eventsNamed(t, r.db, r.acct, switchboard.EventTranscriptionFinished)
		return len(finished) > 0
	})
	md := renderVoice360(t, finished[0])["metadata"].(map[string]any)
	if md["success"] != false || md["transcription"] != nil {
		t.Errorf("metadata %v: want success false and transcription null", md)
	}
	if e, _ := md["error"].(string); !strings.Contains(e, "not JSON") {
		t.Errorf("error %q does not say why", md["error"])
	}
	job, err := r.db.GetTranscriptionJob(context.Background(), r.acct, rec.ID)
	if err != nil || job.Status != switchboard.TranscriptionFailed || job.Attempts != 3 {
		t.Fatalf("job %+v, %v", job, err)
	}
	if n := len(r.fake.Requests()); n != 3 {
		t.Errorf("%d requests, want 3 (one per attempt; the first channel's failure ends an attempt)", n)
	}
}

func TestBadKeyFailsAtOnce(t *testing.T) {
	r := newRig(t, storetest.NewSQLite(t), t.TempDir())
	r.fake.Set(func() {
		r.fake.Script = []transcribetest.Response{{Status: 401, Body: `{"error":{"message":"Incorrect API key provided"}}`}}
	})
	rec := r.record(t, "1704067200.3")
	r.run(t)
	tstest.WaitFor(t, "the failure event", func() bool {
		return len(eventsNamed(t, r.db, r.acct, switchboard.EventTranscriptionFinished)) > 0
	})
	job, _ := r.db.GetTranscriptionJob(context.Background(), r.acct, rec.ID)
	if job.Status != switchboard.TranscriptionFailed || job.Attempts != 1 || !strings.Contains(job.LastError, "Incorrect API key") {
		t.Fatalf("job %+v", job)
	}
}

func TestNextEngineTakesOverAndTheEventSaysSo(t *testing.T) {
	r := newRig(t, storetest.NewSQLite(t), t.TempDir())
	r.fake.Set(func() { r.fake.Script = []transcribetest.Response{{Status: 503, Body: "down"}} })
	backup := transcribetest.NewOpenAI(t, "whisper-1")
	backup.Answers = r.fake.Answers
	r.svc.Engines = append(r.svc.Engines, &OpenAI{BaseURL: backup.URL(), ModelName: "whisper-1", ProviderName: "self-hosted"})
	r.record(t, "1704067200.4")
	r.run(t)
	var finished []*switchboard.Event
	tstest.WaitFor(t, "transcription.finished", func() bool {
		finished = eventsNamed(t, r.db, r.acct, switchboard.EventTranscriptionFinished)
		return len(finished) > 0
	})
	if finished[0].Data["success"] != true || finished[0].Data["model"] != "whisper-1" {
		t.Errorf("finished %v", finished[0].Data)
	}
	over := eventsNamed(t, r.db, r.acct, switchboard.EventTranscriptionFailedOver)
	if len(over) != 1 || over[0].Data["engine"] != "openai" || !strings.Contains(over[0].Data["error"].(string), "503") {
		t.Fatalf("failed_over events %v", over)
	}
}

func TestAvailableNamesTheMissingSettings(t *testing.T) {
	err := (&Service{}).Available()
	if switchboard.ErrorCode(err) != switchboard.EUNAVAILABLE || !strings.Contains(switchboard.ErrorMessage(err), "--transcribe-openai-url") {
		t.Fatalf("Available() = %v", err)
	}
	if m := (&Service{}).Missing(); !strings.HasPrefix(m, "no speech-to-text engine is configured: set --transcribe-openai-url") {
		t.Errorf("Missing() = %q", m)
	}
	if m := (&Service{Engines: []Engine{&OpenAI{}}}).Missing(); m != "" {
		t.Errorf("Missing() with an engine = %q", m)
	}
}
