package api_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"switchboard"
	"switchboard/api"
	"switchboard/blob"
	"switchboard/internal/tstest"
	"switchboard/media"
	"switchboard/prompt"
	"switchboard/provision"
)

// promptEnv is the API with prompts stored under a temporary directory and espeak-ng at
// espeak (a path that does not exist means "not installed").
type promptEnv struct {
	*env
	blobs *blob.Dir
	svc   *provision.Service
	lib   *prompt.Library
}

func newPromptEnv(t *testing.T, espeak string) *promptEnv {
	t.Helper()
	blobs, err := blob.NewDir(filepath.Join(t.TempDir(), "blobs"))
	must(t, err)
	pe := &promptEnv{blobs: blobs}
	pe.env = newSQLiteEnv(t, func(c *api.Config) {
		pe.svc = provision.New(provision.Config{Store: c.Store, Blobs: blobs, Speaker: &prompt.Speaker{Path: espeak}})
		c.Provision = pe.svc
	})
	pe.lib = prompt.NewLibrary(pe.store, blobs, 0, nil)
	return pe
}

// espeakOrSkip returns espeak-ng's path; without it the test is skipped, except in CI,
// where it must be installed.
func espeakOrSkip(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("espeak-ng")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("espeak-ng is not installed, and CI must run this test: apt-get install espeak-ng")
		}
		t.Skip("espeak-ng is not installed")
	}
	return path
}

// parseStoredWAV checks the header of a stored prompt (8 kHz, mono, 16-bit PCM) and
// returns its samples.
func parseStoredWAV(t *testing.T, b []byte) []int16 {
	t.Helper()
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		t.Fatalf("not a WAV: %q", b[:min(len(b), 16)])
	}
	le := binary.LittleEndian
	if f, ch, rate, bits := le.Uint16(b[20:]), le.Uint16(b[22:]), le.Uint32(b[24:]), le.Uint16(b[34:]); f != 1 || ch != 1 || rate != 8000 || bits != 16 {
		t.Fatalf("format %d, %d channels, %d Hz, %d bits; want PCM mono 8000 Hz 16 bits", f, ch, rate, bits)
	}
	pcm := make([]int16, (len(b)-44)/2)
	for i := range pcm {
		pcm[i] = int16(le.Uint16(b[44+2*i:]))
	}
	return pcm
}

// dominant reports whether freq is well above other in the samples.
func dominant(pcm []int16, freq, other float64) bool {
	return media.Goertzel(pcm, freq) > 1e5 && media.Goertzel(pcm, freq) > 100*media.Goertzel(pcm, other)
}

// A WAV (44.1 kHz stereo) and an MP3 become prompts stored as 8 kHz mono 16-bit carrying
// the uploaded tone; the download is that WAV, with HTTP ranges; the library plays it.
func TestPromptUploadWAVAndMP3(t *testing.T) {
	e := newPromptEnv(t, "/nonexistent/espeak-ng")
	base, key, ctx := e.a.base(e.srv), e.a.devKey, context.Background()

	wav := tstest.WAV(44100, 2, tstest.Stereo(tstest.Sine(44100, 2*44100, 8000, 1000)))
	r := e.request("POST", base+"/prompts?name=Welcome&language=de", key, string(wav), "Content-Type", "audio/wav")
	expectOK(t, r, http.StatusCreated, "Prompt created")
	welcome := r.result()
	if welcome["name"] != "Welcome" || welcome["source"] != "wav" || welcome["language"] != "de" ||
		welcome["duration_seconds"] != float64(2) || welcome["size"] != float64(44+2*16000) {
		t.Fatalf("created %v", welcome)
	}
	id := int64(welcome["pk"].(float64))
	r = e.request("GET", fmt.Sprintf("%s/prompts/%d/audio", base, id), key, nil)
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "audio/wav" {
		t.Fatalf("download: %d %s", r.status, r.header.Get("Content-Type"))
	}
	pcm := parseStoredWAV(t, []byte(r.raw))
	if len(pcm) != 16000 || !dominant(pcm, 1000, 700) {
		t.Fatalf("stored %d samples; want 16000 of the 1 kHz tone", len(pcm))
	}
	played, err := e.lib.Prompt(ctx, e.a.account.ID, id)
	must(t, err)
	if len(played) != 16000 || !dominant(played, 1000, 700) {
		t.Fatalf("the library plays %d samples", len(played))
	}

	// Ranges: the header alone, and the last 100 bytes.
	r = e.request("GET", fmt.Sprintf("%s/prompts/%d/audio", base, id), key, nil, "Range", "bytes=0-43")
	if r.status != http.StatusPartialContent || len(r.raw) != 44 || !strings.HasPrefix(r.raw, "RIFF") ||
		r.header.Get("Content-Range") != fmt.Sprintf("bytes 0-43/%d", 44+32000) {
		t.Fatalf("range 0-43: %d %q %s", r.status, r.header.Get("Content-Range"), r.raw[:min(len(r.raw), 8)])
	}
	r = e.request("GET", fmt.Sprintf("%s/prompts/%d/audio", base, id), key, nil, "Range", "bytes=-100")
	if r.status != http.StatusPartialContent || len(r.raw) != 100 {
		t.Fatalf("range -100: %d, %d bytes", r.status, len(r.raw))
	}

	mp3, err := os.ReadFile("../media/testdata/tone700.mp3")
	must(t, err)
	body, ct := multipartBody(t, "Closed", "tone700.mp3", mp3)
	r = e.request("POST", base+"/prompts", key, body, "Content-Type", ct)
	expectOK(t, r, http.StatusCreated, "Prompt created")
	closed := r.result()
	if closed["name"] != "Closed" || closed["source"] != "mp3" {
		t.Fatalf("created %v", closed)
	}
	r = e.request("GET", fmt.Sprintf("%s/prompts/%d/audio", base, int64(closed["pk"].(float64))), key, nil)
	if pcm := parseStoredWAV(t, []byte(r.raw)); !dominant(pcm, 700, 1000) {
		t.Fatal("the MP3's 700 Hz tone is not in the stored prompt")
	}

	r = e.request("GET", base+"/prompts?limit=1", key, nil)
	expectOK(t, r, http.StatusOK, "List of prompts")
	if len(r.results()) != 1 || r.header.Get("X-Next-Cursor") != fmt.Sprint(id) {
		t.Fatalf("first page %v, cursor %q", r.results(), r.header.Get("X-Next-Cursor"))
	}
	r = e.request("GET", fmt.Sprintf("%s/prompts/%d", base, id), key, nil)
	expectOK(t, r, http.StatusOK, "Prompt details")
	if r.result()["name"] != "Welcome" {
		t.Fatalf("got %v", r.result())
	}
}

// What is not audio, too long, too large or badly named is refused with a clear 4xx, and
// nothing is stored.
func TestPromptRefusals(t *testing.T) {
	e := newPromptEnv(t, "/nonexistent/espeak-ng")
	base, key := e.a.base(e.srv), e.a.devKey

	r := e.request("POST", base+"/prompts?name=x", key, "this is not audio at all", "Content-Type", "audio/wav")
	expectError(t, r, http.StatusBadRequest, switchboard.EBADREQUEST)
	if !strings.Contains(detail(r, "audio"), "not a WAV") {
		t.Fatalf("not audio: %s", r.raw)
	}
	r = e.request("POST", base+"/prompts?name=x", key, "%PDF-1.4", "Content-Type", "application/pdf")
	expectError(t, r, http.StatusBadRequest, switchboard.EBADREQUEST)

	// 11 minutes of 8 kHz audio: 10.5 MB, under the size limit, over the length limit.
	long := tstest.WAV(8000, 1, make([]int16, 11*60*8000))
	r = e.request("POST", base+"/prompts?name=x", key, string(long), "Content-Type", "audio/wav")
	expectError(t, r, http.StatusBadRequest, switchboard.EBADREQUEST)
	if !strings.Contains(detail(r, "audio"), "longer than 10m") {
		t.Fatalf("too long: %s", r.raw)
	}
	huge := tstest.WAV(48000, 2, make([]int16, 48000*2*110)) // 21 MB
	r = e.request("POST", base+"/prompts?name=x", key, string(huge), "Content-Type", "audio/wav")
	expectError(t, r, http.StatusRequestEntityTooLarge, switchboard.ETOOLARGE)

	wav := string(tstest.WAV(8000, 1, tstest.Sine(8000, 800, 8000, 440)))
	r = e.request("POST", base+"/prompts", key, wav, "Content-Type", "audio/wav")
	expectError(t, r, http.StatusBadRequest, switchboard.EBADREQUEST)
	if detail(r, "name") == "" {
		t.Fatalf("no name: %s", r.raw)
	}
	r = e.request("POST", base+"/prompts?name=x&language=English", key, wav, "Content-Type", "audio/wav")
	expectError(t, r, http.StatusBadRequest, switchboard.EBADREQUEST)
	if detail(r, "language") == "" {
		t.Fatalf("bad language: %s", r.raw)
	}

	// 100 KB of text: refused before espeak-ng is even looked for.
	r = e.request("POST", base+"/prompts", key, map[string]string{"name": "book", "text": strings.Repeat("All work and no play. ", 5000)})
	expectError(t, r, http.StatusBadRequest, switchboard.EBADREQUEST)
	if !strings.Contains(detail(r, "text"), "at most 4000 bytes") {
		t.Fatalf("100 KB text: %s", r.raw)
	}
	r = e.request("POST", base+"/prompts", key, map[string]string{"name": "v", "text": "hello", "voice": "-w /tmp/x"})
	expectError(t, r, http.StatusBadRequest, switchboard.EBADREQUEST)

	// Without espeak-ng a text prompt is 503, saying what to install.
	r = e.request("POST", base+"/prompts", key, map[string]string{"name": "hello", "text": "Hello"})
	expectError(t, r, http.StatusServiceUnavailable, switchboard.EUNAVAILABLE)
	if msg := r.body["message"].(string); !strings.Contains(msg, "install it (apt-get install espeak-ng)") {
		t.Fatalf("503 message: %s", msg)
	}

	r = e.request("GET", base+"/prompts", key, nil)
	if len(r.results()) != 0 {
		t.Fatalf("refused uploads stored %v", r.results())
	}
	entries, _ := os.ReadDir(e.promptDir())
	if len(entries) != 0 {
		t.Fatalf("refused uploads left %d objects", len(entries))
	}
}

// promptDir is where account A's prompts are stored (it may not exist).
func (e *promptEnv) promptDir() string {
	return filepath.Join(e.blobs.Root(), filepath.FromSlash(switchboard.AccountBlobKey(e.a.account.ID, "prompts")))
}

// espeak-ng speaks a text prompt at creation: it is stored as 8 kHz speech of a plausible
// length, its text and voice kept.
func TestPromptFromText(t *testing.T) {
	e := newPromptEnv(t, espeakOrSkip(t))
	base, key := e.a.base(e.srv), e.a.devKey
	r := e.request("POST", base+"/prompts", key, map[string]string{"name": "Welcome", "text": "Welcome to Acme. Please hold.", "language": "en"})
	expectOK(t, r, http.StatusCreated, "Prompt created")
	p := r.result()
	secs := p["duration_seconds"].(float64)
	if p["source"] != "tts" || p["voice"] != "en" || p["text"] != "Welcome to Acme. Please hold." || secs < 1 || secs > 6 {
		t.Fatalf("created %v", p)
	}
	r = e.request("GET", fmt.Sprintf("%s/prompts/%d/audio", base, int64(p["pk"].(float64))), key, nil)
	pcm := parseStoredWAV(t, []byte(r.raw))
	var energy float64
	for _, s := range pcm {
		energy += float64(s) * float64(s)
	}
	if energy/float64(len(pcm)) < 1e5 {
		t.Fatalf("the spoken prompt is nearly silent (mean power %.0f)", energy/float64(len(pcm)))
	}
	r = e.request("POST", base+"/prompts", key, map[string]string{"name": "x", "text": "hallo", "voice": "zz-nope"})
	expectError(t, r, http.StatusBadRequest, switchboard.EBADREQUEST)
	if detail(r, "voice") == "" {
		t.Fatalf("unknown voice: %s", r.raw)
	}
}

// A prompt a call flow plays cannot be deleted (the flow service's hook says so); once no
// flow plays it, deleting removes the row and the audio.
func TestPromptDeleteInUse(t *testing.T) {
	e := newPromptEnv(t, "/nonexistent/espeak-ng")
	base, key := e.a.base(e.srv), e.a.devKey
	var asked [2]int64
	inUse := []string{"Main menu"}
	e.svc.SetPromptInUse(func(ctx context.Context, accountID, promptID int64) ([]string, error) {
		asked = [2]int64{accountID, promptID}
		return inUse, nil
	})
	wav := string(tstest.WAV(8000, 1, tstest.Sine(8000, 800, 8000, 440)))
	r := e.request("POST", base+"/prompts?name=menu", key, wav, "Content-Type", "audio/wav")
	expectOK(t, r, http.StatusCreated, "Prompt created")
	id := int64(r.result()["pk"].(float64))
	p, err := e.store.GetPrompt(context.Background(), e.a.account.ID, id)
	must(t, err)

	r = e.request("DELETE", fmt.Sprintf("%s/prompts/%d", base, id), key, nil)
	expectError(t, r, http.StatusConflict, switchboard.ECONFLICT)
	if !strings.Contains(r.raw, "Main menu") || asked != [2]int64{e.a.account.ID, id} {
		t.Fatalf("in use: %s (asked %v)", r.raw, asked)
	}
	if _, err := e.blobs.Stat(context.Background(), p.BlobKey); err != nil {
		t.Fatalf("a refused delete removed the audio: %v", err)
	}
	inUse = nil
	r = e.request("DELETE", fmt.Sprintf("%s/prompts/%d", base, id), key, nil)
	expectOK(t, r, http.StatusOK, "Prompt deleted")
	if _, err := e.blobs.Stat(context.Background(), p.BlobKey); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Fatalf("the audio outlived its prompt: %v", err)
	}
	expectError(t, e.request("GET", fmt.Sprintf("%s/prompts/%d", base, id), key, nil), http.StatusNotFound, switchboard.ENOTFOUND)
}

// One account never lists, reads, downloads, plays or deletes another's prompts, nor
// changes its system prompts.
func TestPromptIsolation(t *testing.T) {
	e := newPromptEnv(t, "/nonexistent/espeak-ng")
	ctx := context.Background()
	wav := string(tstest.WAV(8000, 1, tstest.Sine(8000, 800, 8000, 440)))
	r := e.request("POST", e.a.base(e.srv)+"/prompts?name=secret", e.a.devKey, wav, "Content-Type", "audio/wav")
	expectOK(t, r, http.StatusCreated, "Prompt created")
	id := int64(r.result()["pk"].(float64))

	bBase, bKey := e.b.base(e.srv), e.b.devKey
	if r := e.request("GET", bBase+"/prompts", bKey, nil); len(r.results()) != 0 {
		t.Fatalf("B lists %v", r.results())
	}
	for _, m := range []string{"GET", "DELETE"} {
		expectError(t, e.request(m, fmt.Sprintf("%s/prompts/%d", bBase, id), bKey, nil), http.StatusNotFound, switchboard.ENOTFOUND)
	}
	expectError(t, e.request("GET", fmt.Sprintf("%s/prompts/%d/audio", bBase, id), bKey, nil), http.StatusNotFound, switchboard.ENOTFOUND)
	// B's key on A's URL is refused too.
	r = e.request("GET", fmt.Sprintf("%s/prompts/%d/audio", e.a.base(e.srv), id), bKey, nil)
	if r.status != http.StatusForbidden && r.status != http.StatusNotFound {
		t.Fatalf("B's key on A's prompt: %d", r.status)
	}
	if _, err := e.lib.Prompt(ctx, e.b.account.ID, id); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Fatalf("B's calls play A's prompt: %v", err)
	}
	if _, err := e.lib.Prompt(ctx, e.a.account.ID, id); err != nil {
		t.Fatalf("A's prompt after B's attempts: %v", err)
	}

	// A's own goodbye is A's only.
	up := string(tstest.WAV(8000, 1, tstest.Sine(8000, 8000, 8000, 1000)))
	r = e.request("PUT", e.a.base(e.srv)+"/prompts/system/goodbye?language=en", e.a.devKey, up, "Content-Type", "audio/wav")
	expectOK(t, r, http.StatusOK, "System prompt replaced")
	pcm, err := e.lib.System(ctx, e.b.account.ID, "goodbye", "en")
	must(t, err)
	if dominant(pcm, 1000, 523) {
		t.Fatal("B's calls play A's goodbye")
	}
	expectError(t, e.request("DELETE", bBase+"/prompts/system/goodbye?language=en", bKey, nil), http.StatusNotFound, switchboard.ENOTFOUND)
}

// Without espeak-ng nothing is generated and every system prompt plays its tone pattern;
// an account's upload for a language takes over for that language only, and removing it
// brings the tones back.
func TestSystemPromptsFallBackToTones(t *testing.T) {
	e := newPromptEnv(t, "/nonexistent/espeak-ng")
	ctx := context.Background()
	base, key := e.a.base(e.srv), e.a.devKey
	n, err := prompt.GenerateSystem(ctx, e.blobs, &prompt.Speaker{Path: "/nonexistent/espeak-ng"}, nil)
	if err != nil || n != 0 {
		t.Fatalf("GenerateSystem without espeak-ng: %d %v", n, err)
	}
	r := e.request("GET", base+"/prompts/system", key, nil)
	expectOK(t, r, http.StatusOK, "List of system prompts")
	if len(r.results()) < 30 {
		t.Fatalf("%d system prompts listed", len(r.results()))
	}
	for _, x := range r.results() {
		if p := x.(map[string]any); p["source"] != "tones" || p["language"] != "en" {
			t.Fatalf("without espeak-ng: %v", p)
		}
	}
	// invalid-option: the error pattern (480+620 Hz); digit-5: its DTMF pair.
	pcm, err := e.lib.System(ctx, e.a.account.ID, "invalid-option", "de")
	must(t, err)
	if !dominant(pcm, 620, 1000) || !dominant(pcm, 480, 1000) {
		t.Fatal("invalid-option does not play the error tones")
	}
	pcm, err = e.lib.System(ctx, e.a.account.ID, switchboard.SysPromptDigit(5), "en")
	must(t, err)
	if !dominant(pcm, 770, 697) || !dominant(pcm, 1336, 1209) {
		t.Fatal("digit-5 does not play DTMF 5")
	}
	if _, err := e.lib.System(ctx, e.a.account.ID, "no-such-prompt", "en"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Fatalf("unknown system prompt: %v", err)
	}
	r = e.request("GET", base+"/prompts/system/goodbye/audio", key, nil)
	if pcm := parseStoredWAV(t, []byte(r.raw)); !dominant(pcm, 784, 1000) {
		t.Fatal("the downloaded goodbye is not its tones")
	}

	up := string(tstest.WAV(16000, 1, tstest.Sine(16000, 16000, 8000, 1000)))
	r = e.request("PUT", base+"/prompts/system/goodbye?language=de", key, up, "Content-Type", "audio/wav")
	expectOK(t, r, http.StatusOK, "System prompt replaced")
	if r.result()["source"] != "account" || r.result()["language"] != "de" {
		t.Fatalf("replaced: %v", r.result())
	}
	pcm, err = e.lib.System(ctx, e.a.account.ID, "goodbye", "de")
	must(t, err)
	if len(pcm) != 8000 || !dominant(pcm, 1000, 784) {
		t.Fatalf("German goodbye plays %d samples, not the upload", len(pcm))
	}
	pcm, err = e.lib.System(ctx, e.a.account.ID, "goodbye", "en")
	must(t, err)
	if dominant(pcm, 1000, 784) {
		t.Fatal("the German upload plays in English too")
	}
	expectError(t, e.request("PUT", base+"/prompts/system/nope?language=de", key, up, "Content-Type", "audio/wav"), http.StatusNotFound, switchboard.ENOTFOUND)
	expectError(t, e.request("PUT", base+"/prompts/system/goodbye?language=..", key, up, "Content-Type", "audio/wav"), http.StatusBadRequest, switchboard.EBADREQUEST)
	expectError(t, e.request("PUT", base+"/prompts/system/goodbye?language=de", key, "junk", "Content-Type", "audio/wav"), http.StatusBadRequest, switchboard.EBADREQUEST)

	r = e.request("DELETE", base+"/prompts/system/goodbye?language=de", key, nil)
	expectOK(t, r, http.StatusOK, "System prompt reset")
	pcm, err = e.lib.System(ctx, e.a.account.ID, "goodbye", "de")
	must(t, err)
	if !dominant(pcm, 784, 1000) {
		t.Fatal("after the reset goodbye does not play its tones")
	}
}

// With espeak-ng, first start generates every system prompt in English and German, the
// next start nothing; other languages fall back to English; the account's language is
// what the system prompt list uses by default.
func TestSystemPromptsGenerated(t *testing.T) {
	espeak := espeakOrSkip(t)
	e := newPromptEnv(t, espeak)
	ctx := context.Background()
	sp := &prompt.Speaker{Path: espeak}
	n, err := prompt.GenerateSystem(ctx, e.blobs, sp, nil)
	must(t, err)
	if want := len(prompt.Catalog()) * len(prompt.Languages); n != want {
		t.Fatalf("generated %d, want %d", n, want)
	}
	if n, err := prompt.GenerateSystem(ctx, e.blobs, sp, nil); err != nil || n != 0 {
		t.Fatalf("second start generated %d (%v)", n, err)
	}
	en, err := e.lib.System(ctx, e.a.account.ID, "vm-greeting-default", "en")
	must(t, err)
	de, err := e.lib.System(ctx, e.a.account.ID, "vm-greeting-default", "de")
	must(t, err)
	if len(en) < 3*8000 || len(de) < 3*8000 || len(en) == len(de) {
		t.Fatalf("greeting: %d samples in English, %d in German", len(en), len(de))
	}
	fr, err := e.lib.System(ctx, e.a.account.ID, "vm-greeting-default", "fr")
	must(t, err)
	if len(fr) != len(en) {
		t.Fatalf("French (none) plays %d samples, not the English %d", len(fr), len(en))
	}

	r := e.request("PATCH", e.a.base(e.srv)+"/settings", e.a.devKey, map[string]string{"language": "de"})
	expectOK(t, r, http.StatusOK, r.body["message"].(string))
	r = e.request("GET", e.a.base(e.srv)+"/prompts/system", e.a.devKey, nil)
	for _, x := range r.results() {
		if p := x.(map[string]any); p["source"] != "system" || p["language"] != "de" || p["text"] == "" {
			t.Fatalf("generated German: %v", p)
		}
	}
	r = e.request("GET", e.a.base(e.srv)+"/prompts/system?language=fr", e.a.devKey, nil)
	if p := r.results()[0].(map[string]any); p["source"] != "fallback-en" {
		t.Fatalf("French: %v", p)
	}
}

// Accounts and numbers carry a language, set by PATCH and checked.
func TestLanguagesOnAccountsAndNumbers(t *testing.T) {
	e := newPromptEnv(t, "/nonexistent/espeak-ng")
	base, key := e.a.base(e.srv), e.a.devKey
	r := e.request("GET", base+"/settings", key, nil)
	if r.result()["language"] != "en" {
		t.Fatalf("default language: %v", r.result())
	}
	r = e.request("PATCH", base+"/settings", key, map[string]string{"language": "de"})
	if r.status != http.StatusOK || r.result()["language"] != "de" {
		t.Fatalf("PATCH language: %s", r.raw)
	}
	r = e.request("PATCH", base+"/settings", key, map[string]string{"language": "Deutsch"})
	expectError(t, r, http.StatusBadRequest, switchboard.EBADREQUEST)
	if detail(r, "language") == "" {
		t.Fatalf("bad language: %s", r.raw)
	}
	num := fmt.Sprintf("%s/numbers/%d", base, e.a.mainLine.ID)
	r = e.request("PATCH", num, key, map[string]string{"language": "pt-BR"})
	if r.status != http.StatusOK || r.result()["language"] != "pt-BR" {
		t.Fatalf("PATCH number language: %s", r.raw)
	}
	expectError(t, e.request("PATCH", num, key, map[string]string{"language": "../x"}), http.StatusBadRequest, switchboard.EBADREQUEST)
	if r := e.request("GET", num, key, nil); r.result()["language"] != "pt-BR" {
		t.Fatalf("number after a refused PATCH: %v", r.result())
	}
}
