package main

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard/internal/audiotest"
	"switchboard/internal/testpeer"
	"switchboard/internal/transcribetest"
	"switchboard/internal/tstest"
	"switchboard/media"
)

// The sentence the caller's phone says in the recorded-call tests, and what the local
// OpenAI server answers for each channel.
const (
	callerSentence = "I will send the invoice for order four two seven today."
	calleeSentence = "Thank you, I will check the invoice tomorrow."
	sttModel       = "openai/whisper-large-v3"
)

// recordedCallPhones is a server's demo account set to record every call and transcribe
// it, with two baresip phones registered: alice (1001) sends espeak-ng speech of
// callerSentence, bob (1002) a 440 Hz tone and answers by himself.
type recordedCallPhones struct {
	demo       demoFile
	base       string
	alice, bob *baresip
	said       []int16 // what alice's phone says, once
}

func newRecordedCallPhones(t *testing.T, bin, base, sipAddr, dataDir string, rtpBase int) *recordedCallPhones {
	t.Helper()
	p := &recordedCallPhones{base: base, said: audiotest.Speech(t, callerSentence)}
	b, err := os.ReadFile(filepath.Join(dataDir, "demo.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &p.demo); err != nil {
		t.Fatal(err)
	}
	code, body, err := apiCall("PATCH", base+"/v3/voice/61/settings", p.demo.DeveloperKey,
		map[string]any{"recording_default": "all", "transcription_enabled": true})
	if err != nil || code != http.StatusOK {
		t.Fatalf("PATCH /settings: %d %v %s", code, err, body)
	}
	// Half a second of silence, the sentence, then silence: baresip ends the call when its
	// file ends, and the test hangs up long before.
	say := append(make([]int16, media.SampleRate/2), p.said...)
	say = append(say, make([]int16, 120*media.SampleRate)...)
	speech := filepath.Join(t.TempDir(), "say.wav")
	if err := os.WriteFile(speech, tstest.WAV(media.SampleRate, 1, say), 0o600); err != nil {
		t.Fatal(err)
	}
	p.alice = startBaresip(t, bin, sipAddr, p.demo.Users[0], rtpBase, func(s *baresipSetup) { s.source = speech })
	p.bob = startBaresip(t, bin, sipAddr, p.demo.Users[1], rtpBase+100)
	tstest.WaitForWithin(t, 20*time.Second, "both phones registered", func() bool {
		s := phoneStates(t, base, p.demo.DeveloperKey)
		return s["1001"] == "online" && s["1002"] == "online"
	})
	return p
}

// call has alice dial bob and waits for the call to be up with audio both ways.
func (p *recordedCallPhones) call(t *testing.T, sipAddr string) {
	t.Helper()
	p.alice.command(t, "dial", "sip:1002@"+sipAddr)
	tstest.WaitForWithin(t, 20*time.Second, "the call up with audio both ways", func() bool {
		s := phoneStates(t, p.base, p.demo.DeveloperKey)
		return s["1001"] == "online outbound 1001->1002" && s["1002"] == "online inbound 1001->1002" &&
			p.alice.receivingAudio() && p.bob.receivingAudio()
	})
}

// recordedSeconds is how much audio the recording being written in the data directory holds
// on disk (0 before it starts).
func recordedSeconds(dataDir string) float64 {
	paths, _ := filepath.Glob(filepath.Join(dataDir, "blobs", "accounts", "*", "recordings", "*", "*.wav"))
	if len(paths) != 1 {
		return 0
	}
	info, err := os.Stat(paths[0])
	if err != nil {
		return 0
	}
	frames := (info.Size() - media.WAVHeaderSize) / 4 // whole stereo frames: a cut one is not audio
	return float64(frames) / media.SampleRate
}

// recordingJSON is a recording as the API lists it.
type recordingJSON struct {
	ID       string  `json:"id"`
	CallID   string  `json:"call_id"`
	Status   string  `json:"status"`
	Duration float64 `json:"duration"`
	AudioURL string  `json:"audio_url"`
}

// recordings is the account's recordings, newest first.
func (p *recordedCallPhones) recordings(t *testing.T) []recordingJSON {
	t.Helper()
	var list struct{ Result []recordingJSON }
	if code := getJSON(t, http.DefaultClient, p.base+"/v3/voice/61/recordings", p.demo.DeveloperKey, &list); code != 200 {
		t.Fatalf("GET /recordings: %d", code)
	}
	return list.Result
}

// download is the recording's audio through the API, split into its channels.
func (p *recordedCallPhones) download(t *testing.T, rec recordingJSON) (left, right []int16) {
	t.Helper()
	code, wav, err := apiCall("GET", p.base+rec.AudioURL, p.demo.DeveloperKey, nil)
	if err != nil || code != 200 {
		t.Fatalf("GET %s: %d %v", rec.AudioURL, code, err)
	}
	return audiotest.StereoWAV(t, wav)
}

// Issue 11's end to end, with real softphones through `switchboard serve`: the account
// records every call and transcribes it with the openai engine, pointed at a local server
// that speaks the OpenAI API; webhooks in four formats go to local receivers. Alice's
// baresip says a sentence (espeak-ng), bob's sends a tone. After the hangup: the recording
// holds the speech on the left and the tone on the right; recording.available reaches the
// Voice Over Cloud, VoIPLine and VoxPria receivers within 5 s; the engine got each channel
// on its own; Voice360's TRANSCRIPTION_FINISHED carries the transcript, every field of the
// seed's example with its JSON type; the API's transcript is the same document.
func TestRecordedCallIsTranscribedEndToEnd(t *testing.T) {
	bin := testpeer.Require(t, "baresip", "baresip-core")
	stt := transcribetest.NewOpenAI(t, sttModel)
	stt.Set(func() {
		stt.Answer = func(r transcribetest.Request) string {
			if r.Filename == "left.wav" { // the caller's channel
				return transcribetest.Verbose(0.5, 4.0, callerSentence)
			}
			return transcribetest.Verbose(0.2, 2.0, calleeSentence)
		}
	})
	dataDir := t.TempDir()
	m, _, _ := startServe(t, "--demo", "--data", dataDir, "--http", "127.0.0.1:0", "--sip", "127.0.0.1:0",
		"--rtp-ports", "34000-34099", "--transcribe-openai-url", stt.URL(), "--transcribe-openai-model", sttModel,
		"--transcribe-openai-provider", "together_ai")
	base, sipAddr := m.HTTPURL(), m.SIPUDPAddr().String()
	p := newRecordedCallPhones(t, bin, base, sipAddr, dataDir, 34100)
	receivers := map[string]*tstest.HookReceiver{}
	for _, format := range []string{"voiceovercloud", "voipline", "voxpria", "voice360"} {
		h := tstest.NewHookReceiver(t)
		receivers[format] = h
		code, body, err := apiCall("POST", base+"/v3/voice/61/webhooks", p.demo.DeveloperKey, map[string]any{
			"name": format, "url": h.URL + "/" + format, "events": []string{"*"}, "format": format})
		if err != nil || code != http.StatusCreated {
			t.Fatalf("%s subscription: %d %v %s", format, code, err, body)
		}
	}

	p.call(t, sipAddr)
	spoken := 0.5 + float64(len(p.said))/media.SampleRate
	tstest.WaitForWithin(t, 30*time.Second, "the recording to hold the sentence", func() bool {
		return recordedSeconds(dataDir) > spoken+1
	})
	p.alice.command(t, "hangup", "")
	hungUp := time.Now()
	tstest.WaitForWithin(t, 5*time.Second, "recording.available at the Voice Over Cloud, VoIPLine and VoxPria receivers", func() bool {
		return receivers["voiceovercloud"].First("callRecordingAvailable") != nil &&
			receivers["voipline"].First("outbound_call_recording") != nil &&
			receivers["voxpria"].First("call.completed") != nil
	})
	t.Logf("recording.available delivered in three formats %v after the hangup", time.Since(hungUp).Round(time.Millisecond))

	recs := p.recordings(t)
	if len(recs) != 1 || recs[0].Status != "available" || recs[0].Duration < spoken {
		t.Fatalf("recordings %+v: want one available, at least %.1f s", recs, spoken)
	}
	rec := recs[0]
	if q := receivers["voiceovercloud"].First("callRecordingAvailable").Query; q.Get("callid") != rec.CallID {
		t.Errorf("callRecordingAvailable names the call %q, want %s", q.Get("callid"), rec.CallID)
	}
	for _, h := range []*tstest.Hook{receivers["voipline"].First("outbound_call_recording"), receivers["voxpria"].First("call.completed")} {
		if !strings.Contains(h.Body, "/recordings/"+rec.ID+"/audio?") {
			t.Errorf("the event does not link the recording %s: %s", rec.ID, h.Body)
		}
	}
	left, right := p.download(t, rec)
	if !audiotest.SpeechLike(left) || audiotest.TonePart(audiotest.Audible(left), 440) > 0.05 {
		t.Errorf("the caller's channel holds no speech, or the callee's tone (%.2f of its power)", audiotest.TonePart(audiotest.Audible(left), 440))
	}
	if p := audiotest.TonePart(audiotest.Audible(right), 440); p < 0.3 {
		t.Errorf("the callee's channel holds the 440 Hz tone at %.2f of its power only", p)
	}

	var finished *tstest.Hook
	tstest.WaitForWithin(t, 30*time.Second, "TRANSCRIPTION_FINISHED at the Voice360 receiver", func() bool {
		finished = receivers["voice360"].First("TRANSCRIPTION_FINISHED")
		return finished != nil
	})
	// The engine heard each channel on its own: the speech, then the tone.
	heard := map[string][]int16{}
	for _, r := range stt.Requests() {
		heard[r.Filename] = r.PCM
	}
	if len(heard) != 2 || !audiotest.SpeechLike(heard["left.wav"]) || audiotest.TonePart(audiotest.Audible(heard["right.wav"]), 440) < 0.3 {
		t.Errorf("the engine got %d files (%v); want left.wav with the speech, right.wav with the tone", len(stt.Requests()), keys(heard))
	}
	var event struct {
		EventName string `json:"event_name"`
		Metadata  struct {
			UniqueID      string  `json:"uniqueid"`
			Transcription string  `json:"transcription"`
			Provider      string  `json:"provider"`
			Model         string  `json:"model"`
			TotalTokens   float64 `json:"total_tokens"`
			Success       bool    `json:"success"`
		}
	}
	if err := json.Unmarshal([]byte(finished.Body), &event); err != nil {
		t.Fatalf("TRANSCRIPTION_FINISHED: %v: %s", err, finished.Body)
	}
	md := event.Metadata
	if !md.Success || md.UniqueID != rec.CallID || md.Provider != "together_ai" || md.Model != sttModel || md.TotalTokens != 200 {
		t.Fatalf("TRANSCRIPTION_FINISHED metadata %+v", md)
	}
	var got, want map[string]any
	if err := json.Unmarshal([]byte(md.Transcription), &got); err != nil {
		t.Fatalf("metadata.transcription does not parse: %v", err)
	}
	if err := json.Unmarshal([]byte(transcribetest.SeedExample), &want); err != nil {
		t.Fatal(err)
	}
	transcribetest.SameShape(t, "transcription", want, got)
	if !strings.Contains(md.Transcription, callerSentence) || !strings.Contains(md.Transcription, calleeSentence) {
		t.Errorf("the transcription lacks the sentences said: %s", md.Transcription)
	}

	var transcript struct {
		Result struct {
			CallID      string `json:"call_id"`
			Transcripts []struct {
				RecordingID string         `json:"recording_id"`
				Analytics   map[string]any `json:"analytics"`
			}
		}
	}
	if code := getJSON(t, http.DefaultClient, base+"/v3/voice/61/calls/"+rec.CallID+"/transcript", p.demo.DeveloperKey, &transcript); code != 200 {
		t.Fatalf("GET the call's transcript: %d", code)
	}
	if ts := transcript.Result.Transcripts; len(ts) != 1 || ts[0].RecordingID != rec.ID || !reflect.DeepEqual(ts[0].Analytics, got) {
		t.Fatalf("the API's transcript of %s is not the event's: %+v", rec.CallID, transcript.Result)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// A recorded call when the server dies: `switchboard serve` runs as a child process, two
// baresip phones talk with recording and transcription on, and the server is SIGKILLed in
// the middle of the call. Started again on the same data directory, it repairs the recording
// and keeps it: listed, downloadable, a valid WAV holding at least the audio that was on disk
// at the kill (the caller's speech on the left, the callee's tone on the right);
// recording.available is sent once; its transcription runs once — each channel sent to the
// engine once, one transcript.
func TestRecordingSurvivesAServerKill(t *testing.T) {
	phone := testpeer.Require(t, "baresip", "baresip-core")
	bin := buildServer(t)
	stt := transcribetest.NewOpenAI(t, sttModel)
	stt.Set(func() {
		stt.Answer = func(transcribetest.Request) string { return transcribetest.Verbose(0.5, 4.0, callerSentence) }
	})
	hooks := tstest.NewHookReceiver(t)
	dataDir := t.TempDir()
	sipAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(tstest.FreePort(t, "127.0.0.1")))
	flags := []string{"--sip", sipAddr, "--rtp-ports", "34300-34399", "--transcribe-openai-url", stt.URL(),
		"--transcribe-openai-model", sttModel}
	first := startServer(t, bin, dataDir, "", flags...)
	p := newRecordedCallPhones(t, phone, first.baseURL, sipAddr, dataDir, 34400)
	code, body, err := apiCall("POST", first.baseURL+"/v3/voice/61/webhooks", p.demo.DeveloperKey, map[string]any{
		"name": "crash", "url": hooks.URL + "/hook", "events": []string{"recording.available", "recording.failed", "transcription.finished"},
		"format": "standard"})
	if err != nil || code != http.StatusCreated {
		t.Fatalf("subscription: %d %v %s", code, err, body)
	}

	p.call(t, sipAddr)
	up := time.Now()
	spoken := 0.5 + float64(len(p.said))/media.SampleRate
	var onDisk float64
	tstest.WaitForWithin(t, 30*time.Second, "the recording to hold the sentence", func() bool {
		onDisk = recordedSeconds(dataDir)
		return onDisk > spoken+1
	})
	first.kill() // SIGKILL: no shutdown path runs, the WAV header still says "unknown size"
	talked := time.Since(up)
	if got := recordedSeconds(dataDir); got < onDisk {
		t.Fatalf("the file shrank from %.2f s to %.2f s at the kill", onDisk, got)
	}
	if n := len(hooks.Named("recording.available")); n != 0 {
		t.Fatalf("recording.available was sent %d times before the recording ended", n)
	}

	second := startServer(t, bin, dataDir, "", flags...)
	p.base = second.baseURL
	var recs []recordingJSON
	tstest.WaitFor(t, "the repaired recording listed as available", func() bool {
		recs = p.recordings(t)
		return len(recs) == 1 && recs[0].Status == "available"
	})
	rec := recs[0]
	left, right := p.download(t, rec)
	if kept := float64(len(left)) / media.SampleRate; kept < onDisk || rec.Duration < onDisk-0.001 { // the listed duration is in ms
		t.Fatalf("the repaired recording keeps %.2f s (listed %.2f s); %.2f s were on disk at the kill", kept, rec.Duration, onDisk)
	}
	if !audiotest.SpeechLike(left) || audiotest.TonePart(audiotest.Audible(right), 440) < 0.3 {
		t.Fatalf("the repaired recording lost its audio: speech on the left %v, tone on the right %.2f",
			audiotest.SpeechLike(left), audiotest.TonePart(audiotest.Audible(right), 440))
	}
	t.Logf("killed %v after the test saw the call up with audio; %.2f s were on disk then (the writer buffers 32 KiB, 1 s); the repaired recording lasts %.2f s",
		talked.Round(10*time.Millisecond), onDisk, rec.Duration)

	tstest.WaitForWithin(t, 30*time.Second, "transcription.finished", func() bool {
		return hooks.First("transcription.finished") != nil
	})
	// Nothing more comes: no second recording.available or transcription, no more engine calls.
	tstest.Never(t, 2*time.Second, "more engine requests than the two channels", func() bool { return len(stt.Requests()) > 2 })
	if ids := eventIDs(t, hooks.Named("recording.available")); len(ids) != 1 || !strings.Contains(hooks.First("recording.available").Body, rec.ID) {
		t.Errorf("recording.available events %v; want exactly one, of %s", ids, rec.ID)
	}
	if ids := eventIDs(t, hooks.Named("transcription.finished")); len(ids) != 1 {
		t.Errorf("transcription.finished events %v; want exactly one", ids)
	}
	if n := len(stt.Requests()); n != 2 {
		t.Errorf("the engine got %d requests; want 2 (each channel once)", n)
	}
	var transcript struct {
		Result struct {
			Transcripts []struct {
				RecordingID string `json:"recording_id"`
			}
		}
	}
	if code := getJSON(t, http.DefaultClient, p.base+"/v3/voice/61/calls/"+rec.CallID+"/transcript", p.demo.DeveloperKey, &transcript); code != 200 ||
		len(transcript.Result.Transcripts) != 1 || transcript.Result.Transcripts[0].RecordingID != rec.ID {
		t.Fatalf("the call's transcripts: %d %+v; want the one of %s", code, transcript.Result, rec.ID)
	}
	if strings.Contains(second.logs(), "panic") {
		t.Errorf("the restarted server panicked:\n%s", second.logs())
	}
}

// eventIDs is the distinct event ids of standard-format webhook requests.
func eventIDs(t *testing.T, hooks []tstest.Hook) []string {
	t.Helper()
	seen := map[string]bool{}
	for _, h := range hooks {
		var body struct {
			Data struct {
				EventID string `json:"event_id"`
			}
		}
		if err := json.Unmarshal([]byte(h.Body), &body); err != nil {
			t.Fatalf("webhook body %s: %v", h.Body, err)
		}
		seen[body.Data.EventID] = true
	}
	return keys(seen)
}
