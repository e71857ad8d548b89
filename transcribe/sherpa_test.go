//go:build sherpa

package transcribe

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"switchboard/media"
)

// TestSherpaTranscribesSpeech runs the in-process engine on espeak-ng speech at 8 kHz with
// the model directory SWITCHBOARD_TEST_SHERPA_MODEL names (skipped without one: no
// registry here ships English weights).
func TestSherpaTranscribesSpeech(t *testing.T) {
	dir := os.Getenv("SWITCHBOARD_TEST_SHERPA_MODEL")
	if dir == "" {
		t.Skip("set SWITCHBOARD_TEST_SHERPA_MODEL to a sherpa-onnx model directory")
	}
	eng, err := NewSherpa(SherpaConfig{ModelDir: dir, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	wav := filepath.Join(t.TempDir(), "s.wav")
	if out, err := exec.Command("espeak-ng", "-w", wav, "please send me the invoice for my account").CombinedOutput(); err != nil {
		t.Skipf("espeak-ng: %v %s", err, out)
	}
	f, err := os.Open(wav)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	samples, err := media.ReadWAV(f, 0)
	if err != nil {
		t.Fatal(err)
	}
	res, err := eng.Transcribe(context.Background(), Audio{Samples: samples, Rate: 8000, WAV: MonoWAV(samples, 8000)})
	if err != nil {
		t.Fatal(err)
	}
	var text string
	for _, s := range res.Segments {
		text += " " + s.Text
	}
	if !strings.Contains(strings.ToLower(text), "invoice") {
		t.Errorf("heard %q", text)
	}
}
