package api_test

import (
	"context"
	"encoding/binary"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hajimehoshi/go-mp3"
	"github.com/thesyncim/gopus"
	"github.com/thesyncim/gopus/container/ogg"

	"switchboard"
	"switchboard/api"
	"switchboard/blob"
	"switchboard/internal/tstest"
	"switchboard/media"
	"switchboard/recording"
	"switchboard/store"
	"switchboard/store/storetest"
)

// recEnv serves the API with recording configured and records one call of John in each
// tenant (1 s, two channels), returning A's and B's recordings and the links.
func recEnv(t *testing.T) (*env, *recording.Service, *switchboard.Recording, *switchboard.Recording) {
	t.Helper()
	db := storetest.NewSQLite(t)
	blobs, err := blob.NewDir(t.TempDir())
	must(t, err)
	svc := &recording.Service{Store: db, Calls: db, Blobs: blobs,
		Links: &recording.Links{Key: []byte("k-0123456789abcdef0123456789abcd"), BaseURL: "https://pbx.example.com"}}
	e := newEnv(t, db, func(c *api.Config) { c.Recordings = svc })
	svc.Links.BaseURL = e.srv.URL
	svc.Now = e.clock.Now
	return e, svc, recordCall(t, svc, e.a, e.a.john, "1705314600.1", e.clock.Now()), recordCall(t, svc, e.b, e.b.john, "1705314600.1", e.clock.Now())
}

// recordCall records 1 s of the user's call: left a ramp, right silence.
func recordCall(t *testing.T, svc *recording.Service, tn *tenant, user *switchboard.User, callID string, at time.Time) *switchboard.Recording {
	t.Helper()
	samples := make([]int16, 16000)
	for i := 0; i < 8000; i++ {
		samples[2*i] = int16(i)
	}
	return recordAudio(t, svc, tn, user, callID, at, samples)
}

// recordAudio records the user's call as the interleaved stereo 8 kHz frames.
func recordAudio(t *testing.T, svc *recording.Service, tn *tenant, user *switchboard.User, callID string, at time.Time, frames []int16) *switchboard.Recording {
	t.Helper()
	ctx := context.Background()
	rec := &switchboard.Recording{AccountID: tn.account.ID, CallID: callID, UserID: user.ID, Direction: "inbound", StartedAt: at}
	w, err := svc.Begin(ctx, rec)
	must(t, err)
	_, err = w.Write(tstest.WAV(8000, 2, frames))
	must(t, err)
	_, err = w.Commit()
	must(t, err)
	must(t, svc.Finish(ctx, rec.ID, int64(len(frames)/16), 0))
	got, err := svc.Store.GetRecording(ctx, rec.AccountID, rec.ID)
	must(t, err)
	return got
}

func TestRecordingsAPI(t *testing.T) {
	e, svc, recA, recB := recEnv(t)
	a := e.a.base(e.srv)
	// A second recording of A, of Jane, a day later.
	e.clock.Advance(24 * time.Hour)
	recJane := recordCall(t, svc, e.a, e.a.jane, "1705401000.2", e.clock.Now())
	ctx := context.Background()
	if _, err := svc.Store.EndRecording(ctx, recJane.AccountID, recJane.ID, func(*switchboard.Recording) error { return nil }, nil); err == nil {
		t.Fatal("an ended recording ended again")
	}

	// List: newest first, filters, the user key sees its own only.
	r := e.request("GET", a+"/recordings", e.a.devKey, nil)
	expectOK(t, r, 200, "List of recordings")
	if len(r.results()) != 2 || r.results()[0].(map[string]any)["id"] != recJane.ID || r.results()[1].(map[string]any)["id"] != recA.ID {
		t.Fatalf("list: %s", r.raw)
	}
	first := r.results()[1].(map[string]any)
	if first["status"] != "available" || first["duration"] != 1.0 || first["call_id"] != "1705314600.1" ||
		first["audio_url"] != "/v3/voice/61/recordings/"+recA.ID+"/audio" {
		t.Fatalf("recording JSON: %v", first)
	}
	for q, want := range map[string]string{
		"call_id=1705314600.1":         recA.ID,
		"from=2024-01-16":              recJane.ID,
		"to=2024-01-16":                recA.ID,
		"user_id=" + itoa(e.a.john.ID): recA.ID,
		"from=2024-01-15T00:00:00Z&to=2024-01-15T23:59:59Z": recA.ID,
	} {
		r := e.request("GET", a+"/recordings?"+q, e.a.devKey, nil)
		if r.status != 200 || len(r.results()) != 1 || r.results()[0].(map[string]any)["id"] != want {
			t.Errorf("?%s: %s", q, r.raw)
		}
	}
	// Paged with the cursor.
	p1 := e.request("GET", a+"/recordings?limit=1", e.a.devKey, nil)
	next := p1.header.Get("X-Next-Cursor")
	if len(p1.results()) != 1 || next == "" {
		t.Fatalf("page 1: %s (cursor %q)", p1.raw, next)
	}
	p2 := e.request("GET", a+"/recordings?limit=1&after="+url.QueryEscape(next), e.a.devKey, nil)
	if len(p2.results()) != 1 || p2.results()[0].(map[string]any)["id"] != recA.ID || p2.header.Get("X-Next-Cursor") != "" {
		t.Fatalf("page 2: %s", p2.raw)
	}
	for _, bad := range []string{"after=nope", "from=yesterday", "user_id=x", "from=2024-01-16&to=2024-01-15"} {
		expectError(t, e.request("GET", a+"/recordings?"+bad, e.a.devKey, nil), 400, "BAD_REQUEST")
	}
	mine := e.request("GET", a+"/recordings", e.a.userKey, nil) // John's key
	if len(mine.results()) != 1 || mine.results()[0].(map[string]any)["id"] != recA.ID {
		t.Fatalf("John's list: %s", mine.raw)
	}
	expectError(t, e.request("GET", a+"/recordings/"+recJane.ID, e.a.userKey, nil), 404, "NOT_FOUND")

	// Another account's recording is not found, in every route.
	expectError(t, e.request("GET", a+"/recordings/"+recB.ID, e.a.devKey, nil), 404, "NOT_FOUND")
	expectError(t, e.request("GET", a+"/recordings/"+recB.ID+"/audio", e.a.devKey, nil), 404, "NOT_FOUND")
	expectError(t, e.request("DELETE", a+"/recordings/"+recB.ID, e.a.devKey, nil), 404, "NOT_FOUND")
	expectError(t, e.request("GET", a+"/recordings/rec_x", e.a.devKey, nil), 404, "NOT_FOUND")

	// Metadata and audio.
	r = e.request("GET", a+"/recordings/"+recA.ID, e.a.devKey, nil)
	expectOK(t, r, 200, "Recording details")
	wav := e.request("GET", a+"/recordings/"+recA.ID+"/audio", e.a.devKey, nil)
	if wav.status != 200 || !strings.HasPrefix(wav.raw, "RIFF") || wav.header.Get("Content-Type") != "audio/wav" ||
		int64(len(wav.raw)) != recA.Size || wav.header.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("download: %d, %d bytes of %d", wav.status, len(wav.raw), recA.Size)
	}
	part := e.request("GET", a+"/recordings/"+recA.ID+"/audio", e.a.devKey, nil, "Range", "bytes=44-47")
	if part.status != http.StatusPartialContent || part.raw != wav.raw[44:48] ||
		part.header.Get("Content-Range") != "bytes 44-47/"+itoa(recA.Size) {
		t.Fatalf("range: %d %q %s", part.status, part.raw, part.header.Get("Content-Range"))
	}
	for _, bad := range []string{"bytes=999999-", "bytes=abc", "bytes=10-5"} {
		r := e.request("GET", a+"/recordings/"+recA.ID+"/audio", e.a.devKey, nil, "Range", bad)
		if r.status != http.StatusRequestedRangeNotSatisfiable {
			t.Errorf("Range %s: %d, want 416", bad, r.status)
		}
	}

	// The signed link of recording.available works without a key, for that recording only.
	evs, err := e.store.ListEvents(ctx, e.a.account.ID, 0, 100)
	must(t, err)
	var link string
	for _, ev := range evs {
		if ev.Name == switchboard.EventRecordingAvailable && ev.Data["recording_id"] == recA.ID {
			link, _ = ev.Data["recording_url"].(string)
			if ev.Data["from"] != nil && ev.Data["user_id"] == nil {
				t.Fatalf("event data %v", ev.Data)
			}
		}
	}
	got := get(t, link, e)
	if got.status != 200 || got.raw != wav.raw {
		t.Fatalf("signed link %s: %d", link, got.status)
	}
	if mp3 := get(t, link+"&format=mp3", e); mp3.status != 200 || mp3.header.Get("Content-Type") != "audio/mpeg" {
		t.Fatalf("signed link as MP3: %d %s", mp3.status, mp3.header.Get("Content-Type"))
	}
	other := strings.Replace(link, recA.ID, recJane.ID, 1)
	expectError(t, get(t, other, e), 403, "AUTH_INVALID")
	otherAccount := strings.Replace(link, "/voice/61/", "/voice/62/", 1)
	expectError(t, get(t, otherAccount, e), 403, "AUTH_INVALID")
	e.clock.Advance(8 * 24 * time.Hour)
	expectError(t, get(t, link, e), 403, "AUTH_INVALID")

	// Delete: user keys cannot; a developer key removes row and audio.
	expectError(t, e.request("DELETE", a+"/recordings/"+recA.ID, e.a.userKey, nil), 403, "AUTH_INVALID")
	r = e.request("DELETE", a+"/recordings/"+recA.ID, e.a.devKey, nil)
	expectOK(t, r, 200, "Recording deleted")
	expectError(t, e.request("GET", a+"/recordings/"+recA.ID+"/audio", e.a.devKey, nil), 404, "NOT_FOUND")
	if _, err := svc.Blobs.Stat(ctx, recA.BlobKey); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Fatalf("audio after delete: %v", err)
	}
	// B's recording is untouched.
	b := e.b.base(e.srv)
	if r := e.request("GET", b+"/recordings/"+recB.ID+"/audio", e.b.devKey, nil); r.status != 200 {
		t.Fatalf("B's audio: %d", r.status)
	}
}

// A recording still being written cannot be downloaded or deleted (409), and without a
// recording service the routes answer 503.
func TestRecordingsAPIActiveAndUnavailable(t *testing.T) {
	e, svc, _, _ := recEnv(t)
	a := e.a.base(e.srv)
	rec := &switchboard.Recording{AccountID: e.a.account.ID, CallID: "1.9", UserID: e.a.john.ID, Direction: "outbound"}
	w, err := svc.Begin(context.Background(), rec)
	must(t, err)
	defer w.Abort()
	r := e.request("GET", a+"/recordings/"+rec.ID, e.a.devKey, nil)
	if r.status != 200 || r.result()["status"] != "recording" || r.result()["ended_at"] != nil {
		t.Fatalf("active: %s", r.raw)
	}
	expectError(t, e.request("GET", a+"/recordings/"+rec.ID+"/audio", e.a.devKey, nil), 409, "CONFLICT")
	expectError(t, e.request("DELETE", a+"/recordings/"+rec.ID, e.a.devKey, nil), 409, "CONFLICT")

	plain := newSQLiteEnv(t)
	expectError(t, plain.request("GET", plain.a.base(plain.srv)+"/recordings", plain.a.devKey, nil), 503, "SERVICE_UNAVAILABLE")
}

// Call records list their recordings.
func TestCallRecordsLinkRecordings(t *testing.T) {
	e, _, recA, _ := recEnv(t)
	ctx := context.Background()
	at := e.clock.Now()
	call := &switchboard.CallRecord{AccountID: e.a.account.ID, UniqueID: recA.CallID, Direction: "inbound", From: "+14155550100",
		To: "+15551234567", UserID: e.a.john.ID, Extension: "1001", StartedAt: at}
	must(t, e.store.(*store.DB).StartCallRecord(ctx, call))
	other := &switchboard.CallRecord{AccountID: e.a.account.ID, UniqueID: "1705314600.7", Direction: "inbound", From: "+14155550101",
		To: "+15551234567", UserID: e.a.john.ID, Extension: "1001", StartedAt: at.Add(time.Second)}
	must(t, e.store.(*store.DB).StartCallRecord(ctx, other))
	r := e.request("GET", e.a.base(e.srv)+"/calls/users?date_from=2024-01-01&date_to=2024-12-31", e.a.devKey, nil)
	if r.status != 200 {
		t.Fatalf("calls: %s", r.raw)
	}
	calls, _ := r.result()["calls"].([]any)
	found := 0
	for _, c := range calls {
		c := c.(map[string]any)
		recs, ok := c["recordings"].([]any)
		if !ok {
			t.Fatalf("call without a recordings list: %v", c)
		}
		switch c["call_id"] {
		case recA.CallID:
			if len(recs) != 1 || recs[0].(map[string]any)["id"] != recA.ID {
				t.Fatalf("recorded call's recordings: %v", recs)
			}
			found++
		case other.UniqueID:
			if len(recs) != 0 {
				t.Fatalf("unrecorded call lists %v", recs)
			}
			found++
		}
	}
	if found != 2 {
		t.Fatalf("calls: %s", r.raw)
	}
}

// The recording policy fields: account settings (default, retention, consent prompt,
// transcription, redaction), users, queues and numbers; bad values and another account's
// prompt are 400 and change nothing; transcription cannot be enabled without an engine.
func TestRecordingSettingsAndPolicies(t *testing.T) {
	e := newSQLiteEnv(t)
	ctx := context.Background()
	a, b := e.a.base(e.srv), e.b.base(e.srv)
	promptA := &switchboard.Prompt{AccountID: e.a.account.ID, Name: "consent", Source: "wav", Samples: 8000, Size: 16044,
		BlobKey: switchboard.AccountBlobKey(e.a.account.ID, "prompts", "consent.wav")}
	must(t, e.store.CreatePrompt(ctx, promptA))
	promptB := &switchboard.Prompt{AccountID: e.b.account.ID, Name: "consent", Source: "wav", Samples: 8000, Size: 16044,
		BlobKey: switchboard.AccountBlobKey(e.b.account.ID, "prompts", "consent.wav")}
	must(t, e.store.CreatePrompt(ctx, promptB))

	r := e.request("GET", a+"/settings", e.a.devKey, nil)
	if r.result()["recording_default"] != "none" || r.result()["transcription_enabled"] != false {
		t.Fatalf("defaults: %s", r.raw)
	}
	r = e.request("PATCH", a+"/settings", e.a.devKey, map[string]any{"recording_default": "all", "recording_retention_days": 90,
		"recording_consent_prompt_id": promptA.ID, "redaction_enabled": true})
	expectOK(t, r, 200, "Account settings updated")
	if res := r.result(); res["recording_default"] != "all" || res["recording_retention_days"] != 90.0 ||
		res["recording_consent_prompt_id"] != float64(promptA.ID) || res["redaction_enabled"] != true {
		t.Fatalf("patched: %s", r.raw)
	}
	for name, body := range map[string]map[string]any{
		"recording_default":           {"recording_default": "sometimes"},
		"recording_retention_days":    {"recording_retention_days": -1},
		"recording_consent_prompt_id": {"recording_consent_prompt_id": promptB.ID}, // B's prompt
		"transcription_enabled":       {"transcription_enabled": true},             // no engine here
	} {
		r := e.request("PATCH", a+"/settings", e.a.devKey, body)
		expectError(t, r, 400, "BAD_REQUEST")
		if !strings.Contains(r.raw, name) {
			t.Errorf("%s: error does not name the field: %s", name, r.raw)
		}
	}
	if r := e.request("GET", a+"/settings", e.a.devKey, nil); r.result()["recording_consent_prompt_id"] != float64(promptA.ID) ||
		r.result()["transcription_enabled"] != false {
		t.Fatalf("a refused change wrote: %s", r.raw)
	}
	if r := e.request("GET", b+"/settings", e.b.devKey, nil); r.result()["recording_default"] != "none" {
		t.Fatalf("account B changed: %s", r.raw)
	}

	r = e.request("PATCH", a+"/users/"+itoa(e.a.john.ID), e.a.devKey, map[string]any{"recording": "inbound"})
	if r.status != 200 || r.result()["recording"] != "inbound" {
		t.Fatalf("user: %s", r.raw)
	}
	expectError(t, e.request("PATCH", a+"/users/"+itoa(e.a.john.ID), e.a.devKey, map[string]any{"recording": "yes"}), 400, "BAD_REQUEST")
	r = e.request("PATCH", a+"/queues/"+itoa(e.a.sales.ID), e.a.devKey, map[string]any{"recording": "all"})
	if r.status != 200 || r.result()["recording"] != "all" {
		t.Fatalf("queue: %s", r.raw)
	}
	r = e.request("PATCH", a+"/numbers/"+itoa(e.a.mainLine.ID), e.a.devKey, map[string]any{"recording": "none",
		"recording_consent_prompt_id": promptA.ID})
	if r.status != 200 || r.result()["recording"] != "none" || r.result()["recording_consent_prompt_id"] != float64(promptA.ID) {
		t.Fatalf("number: %s", r.raw)
	}
	expectError(t, e.request("PATCH", a+"/numbers/"+itoa(e.a.mainLine.ID), e.a.devKey,
		map[string]any{"recording_consent_prompt_id": promptB.ID}), 400, "BAD_REQUEST")
	if n, _ := e.store.GetNumber(ctx, e.a.account.ID, e.a.mainLine.ID); n.RecordingConsentPromptID != promptA.ID {
		t.Fatalf("number's prompt after a refused change: %d", n.RecordingConsentPromptID)
	}
}

// The MP3 and Opus downloads: asked by ?format= or by Accept, each decodes (go-mp3, gopus) to
// the recorded audio with each party on its own channel — the caller's 1 kHz on the left,
// the other party's 440 Hz on the right, and about as long. Range is ignored for them (200,
// the whole file); an unknown format is 400 naming the field.
func TestRecordingDownloadsAsMP3AndOpusWithTheirChannels(t *testing.T) {
	e, svc, _, _ := recEnv(t)
	a := e.a.base(e.srv)
	const seconds = 3
	left, right := tstest.Sine(8000, seconds*8000, 8000, 1000), tstest.Sine(8000, seconds*8000, 8000, 440)
	frames := make([]int16, 0, 2*len(left))
	for i := range left {
		frames = append(frames, left[i], right[i])
	}
	rec := recordAudio(t, svc, e.a, e.a.john, "1705314600.7", e.clock.Now(), frames)
	audio := a + "/recordings/" + rec.ID + "/audio"

	for _, f := range []struct {
		format, mediaType, ext string
		decode                 func(t *testing.T, file string) (l, r []int16) // at 8 kHz
	}{
		{"mp3", "audio/mpeg", "mp3", decodeMP3},
		{"opus", "audio/ogg; codecs=opus", "opus", decodeOpus},
	} {
		t.Run(f.format, func(t *testing.T) {
			byQuery := e.request("GET", audio+"?format="+f.format, e.a.devKey, nil)
			byAccept := e.request("GET", audio, e.a.devKey, nil, "Accept", strings.Split(f.mediaType, ";")[0]+", audio/wav;q=0.5")
			ranged := e.request("GET", audio+"?format="+f.format, e.a.devKey, nil, "Range", "bytes=100-199")
			for name, r := range map[string]response{"?format": byQuery, "Accept": byAccept, "with a Range": ranged} {
				if r.status != 200 || r.header.Get("Content-Type") != f.mediaType || r.header.Get("Accept-Ranges") != "none" ||
					!strings.Contains(r.header.Get("Content-Disposition"), rec.ID+"."+f.ext) {
					t.Fatalf("%s: %d %v", name, r.status, r.header)
				}
				if len(r.raw) != len(byQuery.raw) {
					t.Fatalf("%s: %d bytes, ?format gave %d", name, len(r.raw), len(byQuery.raw))
				}
			}
			if n := len(byQuery.raw); n > int(rec.Size)/4 {
				t.Errorf("the file is %d bytes, the WAV %d: not compressed", n, rec.Size)
			}
			l, r := f.decode(t, byQuery.raw)
			if d := len(l) - len(left); d < -8000/4 || d > 8000/4 {
				t.Fatalf("the file lasts %d samples at 8 kHz, the recording %d", len(l), len(left))
			}
			// Whole 200 ms windows in the middle (the codec's start and end ramps aside).
			for i := 1600; i+1600 <= min(len(l), len(left))-1600; i += 1600 {
				wl, wr := l[i:i+1600], r[i:i+1600]
				if media.Goertzel(wl, 1000) < 50*media.Goertzel(wl, 440) || media.Goertzel(wr, 440) < 50*media.Goertzel(wr, 1000) {
					t.Fatalf("at %d ms: left 1 kHz %.3g / 440 Hz %.3g, right 440 Hz %.3g / 1 kHz %.3g", i/8,
						media.Goertzel(wl, 1000), media.Goertzel(wl, 440), media.Goertzel(wr, 440), media.Goertzel(wr, 1000))
				}
				if p := media.Goertzel(wl, 1000); p < 0.25*media.Goertzel(left[i:i+1600], 1000) {
					t.Fatalf("at %d ms the left tone lost more than 6 dB: %.3g", i/8, p)
				}
			}
		})
	}

	wav := e.request("GET", audio, e.a.devKey, nil, "Accept", "audio/wav, audio/mpeg;q=0.5")
	if wav.status != 200 || wav.header.Get("Content-Type") != "audio/wav" {
		t.Fatalf("Accept preferring WAV: %d %s", wav.status, wav.header.Get("Content-Type"))
	}
	r := e.request("GET", audio+"?format=flac", e.a.devKey, nil)
	expectError(t, r, 400, "BAD_REQUEST")
	if !strings.Contains(r.raw, `"format"`) {
		t.Errorf("format=flac: the error does not name the field: %s", r.raw)
	}
}

// decodeMP3 decodes an MP3 (go-mp3: 16-bit stereo at the file's rate) to 8 kHz channels
// (every other sample of the 16 kHz: the band above 4 kHz is empty).
func decodeMP3(t *testing.T, file string) (l, r []int16) {
	dec, err := mp3.NewDecoder(strings.NewReader(file))
	must(t, err)
	if dec.SampleRate() != media.MP3SampleRate {
		t.Fatalf("MP3 sample rate %d", dec.SampleRate())
	}
	pcm, err := io.ReadAll(dec)
	must(t, err)
	for i := 0; i+8 <= len(pcm); i += 8 {
		l = append(l, int16(binary.LittleEndian.Uint16(pcm[i:])))
		r = append(r, int16(binary.LittleEndian.Uint16(pcm[i+2:])))
	}
	return l, r
}

// decodeOpus decodes an Ogg Opus file (gopus) to 8 kHz channels.
func decodeOpus(t *testing.T, file string) (l, r []int16) {
	rd, err := ogg.NewReader(strings.NewReader(file))
	must(t, err)
	if rd.Channels() != 2 {
		t.Fatalf("Opus channels %d", rd.Channels())
	}
	dec, err := gopus.NewDecoder(gopus.DefaultDecoderConfig(8000, 2))
	must(t, err)
	pcm := make([]int16, 2*8000)
	for {
		packet, _, err := rd.ReadPacket()
		if err == io.EOF {
			return l, r
		}
		must(t, err)
		n, err := dec.DecodeInt16(packet, pcm)
		must(t, err)
		for i := range n {
			l, r = append(l, pcm[2*i]), append(r, pcm[2*i+1])
		}
	}
}
