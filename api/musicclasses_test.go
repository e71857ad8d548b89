package api_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"testing"

	"switchboard"
	"switchboard/internal/tstest"
	"switchboard/media"
)

// toneIn reports whether the stored class audio (8 kHz µ-law) carries freq well above other.
func toneIn(audio []byte, freq, other float64) bool {
	pcm := make([]int16, len(audio))
	for i, b := range audio {
		pcm[i] = media.UlawDecode(b)
	}
	return media.Goertzel(pcm, freq) > 1e5 && media.Goertzel(pcm, freq) > 100*media.Goertzel(pcm, other)
}

func multipartBody(t *testing.T, name, filename string, file []byte) (string, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	if name != "" {
		must(t, w.WriteField("name", name))
	}
	fw, err := w.CreateFormFile("file", filename) // application/octet-stream, as browsers send
	must(t, err)
	_, err = fw.Write(file)
	must(t, err)
	must(t, w.Close())
	return b.String(), w.FormDataContentType()
}

// A WAV (any rate, stereo) and an MP3 become music classes stored as 8 kHz µ-law carrying
// the uploaded tone; replacing a class's audio, listing, reading and deleting work; a queue
// can name only an existing class, and a class a queue plays cannot be deleted.
func TestMusicClassUploadAndUse(t *testing.T) {
	e := newSQLiteEnv(t)
	base, key, ctx := e.a.base(e.srv), e.a.devKey, context.Background()

	wav := tstest.WAV(44100, 2, tstest.Stereo(tstest.Sine(44100, 2*44100, 8000, 1000)))
	r := e.request("POST", base+"/music_classes?name=jazz", key, string(wav), "Content-Type", "audio/wav")
	expectOK(t, r, http.StatusCreated, "Music class created")
	jazz := r.result()
	if jazz["name"] != "jazz" || jazz["format"] != "wav" || jazz["duration_seconds"] != float64(2) {
		t.Fatalf("created %v", jazz)
	}
	audio, err := e.store.GetMusicClassAudio(ctx, e.a.account.ID, "jazz")
	must(t, err)
	if len(audio) != 16000 || !toneIn(audio, 1000, 700) {
		t.Fatalf("stored %d samples; want 16000 of the 1 kHz tone", len(audio))
	}

	mp3, err := os.ReadFile("../media/testdata/tone700.mp3")
	must(t, err)
	body, ct := multipartBody(t, "rock", "tone700.mp3", mp3)
	r = e.request("POST", base+"/music_classes", key, body, "Content-Type", ct)
	expectOK(t, r, http.StatusCreated, "Music class created")
	rock := r.result()
	if rock["name"] != "rock" || rock["format"] != "mp3" {
		t.Fatalf("created %v", rock)
	}
	audio, err = e.store.GetMusicClassAudio(ctx, e.a.account.ID, "rock")
	must(t, err)
	if !toneIn(audio, 700, 1000) {
		t.Fatal("the MP3's 700 Hz tone is not in the stored class")
	}

	r = e.request("GET", base+"/music_classes", key, nil)
	expectOK(t, r, http.StatusOK, "List of music classes")
	if len(r.results()) != 2 {
		t.Fatalf("listed %v", r.results())
	}
	jazzURL := fmt.Sprintf("%s/music_classes/%.0f", base, jazz["pk"])
	expectOK(t, e.request("GET", jazzURL, key, nil), http.StatusOK, "Music class details")

	// The MP3 replaces jazz's audio.
	r = e.request("PUT", jazzURL, key, string(mp3), "Content-Type", "audio/mpeg")
	expectOK(t, r, http.StatusOK, "Music class updated")
	audio, err = e.store.GetMusicClassAudio(ctx, e.a.account.ID, "jazz")
	must(t, err)
	if r.result()["format"] != "mp3" || !toneIn(audio, 700, 1000) {
		t.Fatalf("jazz after PUT: %v", r.result())
	}

	queueURL := fmt.Sprintf("%s/queues/%d", base, e.a.sales.ID)
	r = e.request("PATCH", queueURL, key, map[string]any{"musiconhold": "polka"})
	expectError(t, r, http.StatusBadRequest, switchboard.EBADREQUEST)
	if !strings.Contains(r.raw, "musiconhold") {
		t.Fatalf("the error does not name musiconhold: %s", r.raw)
	}
	r = e.request("POST", base+"/queues", key, map[string]any{"queue_name": "Support", "extension": "8002", "musiconhold": "polka"})
	expectError(t, r, http.StatusBadRequest, switchboard.EBADREQUEST)
	expectOK(t, e.request("PATCH", queueURL, key, map[string]any{"musiconhold": "jazz"}), http.StatusOK, "Queue updated")
	r = e.request("DELETE", jazzURL, key, nil)
	expectError(t, r, http.StatusConflict, switchboard.ECONFLICT)
	expectOK(t, e.request("PATCH", queueURL, key, map[string]any{"musiconhold": "default"}), http.StatusOK, "Queue updated")
	expectOK(t, e.request("DELETE", jazzURL, key, nil), http.StatusOK, "Music class deleted")
	expectError(t, e.request("GET", jazzURL, key, nil), http.StatusNotFound, switchboard.ENOTFOUND)
}

// Uploads that are not usable audio, of another type, too long, too large, badly named or
// of a taken name get a clear 4xx in the envelope, and store nothing: neither a new class
// nor a change of the existing one.
func TestMusicClassBadUploadsStoreNothing(t *testing.T) {
	e := newSQLiteEnv(t)
	base, key, ctx := e.a.base(e.srv), e.a.devKey, context.Background()
	good := tstest.WAV(8000, 1, tstest.Sine(8000, 8000, 8000, 1000))
	r := e.request("POST", base+"/music_classes?name=jazz", key, string(good), "Content-Type", "audio/wav")
	expectOK(t, r, http.StatusCreated, "Music class created")
	jazzURL := fmt.Sprintf("%s/music_classes/%.0f", base, r.result()["pk"])
	before, err := e.store.GetMusicClassAudio(ctx, e.a.account.ID, "jazz")
	must(t, err)

	tooLong := tstest.WAV(8000, 1, make([]int16, 8000*301)) // 5 min 1 s, 4.8 MB: under the size limit
	tooLarge := strings.Repeat("x", switchboard.MaxMusicUploadBytes+1)
	for _, tc := range []struct {
		name, method, url, contentType, body string
		status                               int
		code, field                          string
	}{
		{"text as WAV", "POST", base + "/music_classes?name=bad", "audio/wav", "hello, not audio", 400, switchboard.EBADREQUEST, "audio"},
		{"MP3 declared as WAV", "POST", base + "/music_classes?name=bad", "audio/wav", "ID3\x03\x00\x00\x00\x00\x00\x00", 400, switchboard.EBADREQUEST, "audio"},
		{"WAV as MP3", "POST", base + "/music_classes?name=bad", "audio/mpeg", string(good), 400, switchboard.EBADREQUEST, "audio"},
		{"Ogg", "POST", base + "/music_classes?name=bad", "audio/ogg", "OggS", 400, switchboard.EBADREQUEST, ""},
		{"JSON", "POST", base + "/music_classes?name=bad", "application/json", "{}", 400, switchboard.EBADREQUEST, ""},
		{"too long", "POST", base + "/music_classes?name=bad", "audio/wav", string(tooLong), 400, switchboard.EBADREQUEST, "audio"},
		{"too large", "POST", base + "/music_classes?name=bad", "audio/wav", tooLarge, 413, switchboard.ETOOLARGE, ""},
		{"no name", "POST", base + "/music_classes", "audio/wav", string(good), 400, switchboard.EBADREQUEST, "name"},
		{"bad name", "POST", base + "/music_classes?name=Jazz!", "audio/wav", string(good), 400, switchboard.EBADREQUEST, "name"},
		{"taken name", "POST", base + "/music_classes?name=jazz", "audio/wav", string(good), 409, switchboard.ECONFLICT, "name"},
		{"replace with text", "PUT", jazzURL, "audio/wav", "hello, not audio", 400, switchboard.EBADREQUEST, "audio"},
		{"replace too large", "PUT", jazzURL, "audio/mpeg", tooLarge, 413, switchboard.ETOOLARGE, ""},
		{"replace another account's", "PUT", fmt.Sprintf("%s/music_classes/%d", base, 999999), "audio/wav", string(good), 404, switchboard.ENOTFOUND, ""},
	} {
		r := e.request(tc.method, tc.url, key, tc.body, "Content-Type", tc.contentType)
		if r.status != tc.status || r.body["error_code"] != tc.code {
			t.Errorf("%s: %d %v, want %d %s: %.300s", tc.name, r.status, r.body["error_code"], tc.status, tc.code, r.raw)
			continue
		}
		if details, _ := r.body["details"].(map[string]any); tc.field != "" && details[tc.field] == nil {
			t.Errorf("%s: the error does not name %s: %s", tc.name, tc.field, r.raw)
		}
	}
	classes, _, err := e.store.PageMusicClasses(ctx, e.a.account.ID, switchboard.Page{Limit: 10})
	must(t, err)
	after, err := e.store.GetMusicClassAudio(ctx, e.a.account.ID, "jazz")
	must(t, err)
	if len(classes) != 1 || !bytes.Equal(before, after) || classes[0].Format != "wav" {
		t.Fatalf("bad uploads changed the classes: %d classes, jazz %s changed %v", len(classes), classes[0].Format, !bytes.Equal(before, after))
	}
}
