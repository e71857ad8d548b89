package prompt

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"switchboard"
	"switchboard/blob"
	"switchboard/media"
)

type rows map[int64]*switchboard.Prompt

func (r rows) GetPrompt(_ context.Context, accountID, id int64) (*switchboard.Prompt, error) {
	if p, ok := r[id]; ok && p.AccountID == accountID {
		return p, nil
	}
	return nil, switchboard.Errorf(switchboard.ENOTFOUND, "no prompt")
}

func put(t *testing.T, d *blob.Dir, key string, pcm []int16) {
	t.Helper()
	if _, err := d.Put(context.Background(), key, bytes.NewReader(EncodeWAV(pcm))); err != nil {
		t.Fatal(err)
	}
}

func tone(n int, v int16) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// The cache holds at most its bound of samples, dropping the least recently played, and
// an object replaced under its key is read again, not served stale.
func TestLibraryCacheIsBoundedAndFollowsReplacement(t *testing.T) {
	ctx := context.Background()
	d, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := rows{}
	for id := int64(1); id <= 3; id++ {
		key := switchboard.AccountBlobKey(7, "prompts", string(rune('a'+id))+".wav")
		put(t, d, key, tone(1000, int16(id)))
		r[id] = &switchboard.Prompt{ID: id, AccountID: 7, BlobKey: key}
	}
	lib := NewLibrary(r, d, 2500, nil)
	for id := int64(1); id <= 3; id++ {
		pcm, err := lib.Prompt(ctx, 7, id)
		if err != nil || len(pcm) != 1000 || pcm[0] != int16(id) {
			t.Fatalf("prompt %d: %d samples, %v", id, len(pcm), err)
		}
	}
	if n, samples := lib.cached(); n != 2 || samples != 2000 {
		t.Fatalf("cache holds %d entries, %d samples; want 2, 2000", n, samples)
	}
	if _, err := lib.Prompt(ctx, 8, 1); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Fatalf("another account's prompt: %v", err)
	}
	// Replace an account system prompt: the next play hears the new audio.
	key := AccountSystemKey(7, "en", switchboard.SysPromptGoodbye)
	put(t, d, key, tone(800, 5))
	pcm, err := lib.System(ctx, 7, switchboard.SysPromptGoodbye, "en")
	if err != nil || len(pcm) != 800 || pcm[0] != 5 {
		t.Fatalf("goodbye: %d samples %v", len(pcm), err)
	}
	put(t, d, key, tone(600, 6))
	pcm, err = lib.System(ctx, 7, switchboard.SysPromptGoodbye, "en")
	if err != nil || len(pcm) != 600 || pcm[0] != 6 {
		t.Fatalf("goodbye after replacing: %d samples %v", len(pcm), err)
	}
}

// System tries the account's upload in the language, the generated one in the language,
// the generated English one, then tones; an unreadable object falls to tones too.
func TestSystemFallbackOrder(t *testing.T) {
	ctx := context.Background()
	d, _ := blob.NewDir(t.TempDir())
	lib := NewLibrary(rows{}, d, 0, nil)
	name := switchboard.SysPromptInvalidOption
	check := func(lang string, want int16) {
		t.Helper()
		pcm, err := lib.System(ctx, 7, name, lang)
		if err != nil {
			t.Fatal(err)
		}
		if want == 0 {
			if media.Goertzel(pcm, 620) < 1e5 {
				t.Fatalf("%s: not the error tones", lang)
			}
			return
		}
		if pcm[0] != want {
			t.Fatalf("%s: plays %d, want %d", lang, pcm[0], want)
		}
	}
	check("de", 0)
	put(t, d, SystemKey("en", name), tone(100, 1))
	check("de", 1)
	check("", 1)
	put(t, d, SystemKey("de", name), tone(100, 2))
	check("de", 2)
	put(t, d, AccountSystemKey(7, "de", name), tone(100, 3))
	check("de", 3)
	check("en", 1)
	if _, err := d.Put(ctx, AccountSystemKey(7, "en", name), bytes.NewReader([]byte("garbage"))); err != nil {
		t.Fatal(err)
	}
	check("en", 0)
}

// espeak-ng reads the text from stdin: text that looks like options is spoken, not obeyed,
// and nothing is written where "-w" would point.
func TestSpeakerTakesTextOnStdin(t *testing.T) {
	path, err := exec.LookPath("espeak-ng")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("espeak-ng is not installed, and CI must run this test")
		}
		t.Skip("espeak-ng is not installed")
	}
	out := filepath.Join(t.TempDir(), "x.wav")
	pcm, err := (&Speaker{Path: path}).Speak(context.Background(), "-w "+out+" --help", "en")
	if err != nil || len(pcm) < 4000 {
		t.Fatalf("spoke %d samples: %v", len(pcm), err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("the text was taken as options")
	}
	if _, err := (&Speaker{Path: filepath.Join(t.TempDir(), "none")}).Speak(context.Background(), "hi", "en"); switchboard.ErrorCode(err) != switchboard.EUNAVAILABLE {
		t.Fatalf("missing espeak-ng: %v", err)
	}
}
