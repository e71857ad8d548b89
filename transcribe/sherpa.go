//go:build sherpa

package transcribe

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"

	sherpa "github.com/k2-fsa/sherpa-onnx-go-linux"
)

// SherpaConfig configures the in-process sherpa-onnx engine.
type SherpaConfig struct {
	// ModelDir is the operator's model directory: a Whisper export (*encoder*.onnx,
	// *decoder*.onnx, *tokens.txt), a transducer such as Zipformer or Parakeet-TDT
	// (encoder, decoder, joiner, tokens.txt) or a NeMo CTC model such as Parakeet-CTC
	// (model.onnx, tokens.txt). int8 files are preferred when both are there.
	ModelDir string
	Threads  int
}

// SherpaBuilt reports whether this binary has the sherpa engine (-tags sherpa).
const SherpaBuilt = true

// Sherpa transcribes in process with sherpa-onnx: audio never leaves the machine. Each
// channel is cut into speech regions by energy (speechRegions) and every region decoded as
// its own stream, which gives the segments their times; sherpa-onnx resamples the 8 kHz
// audio to the model's 16 kHz.
type Sherpa struct {
	kind, model string
	mu          sync.Mutex // one decode at a time on the shared recognizer
	rec         *sherpa.OfflineRecognizer
}

// NewSherpa loads the model.
func NewSherpa(c SherpaConfig) (Engine, error) {
	cfg := sherpa.OfflineRecognizerConfig{FeatConfig: sherpa.FeatureConfig{SampleRate: 16000, FeatureDim: 80},
		DecodingMethod: "greedy_search"}
	cfg.ModelConfig.NumThreads = max(c.Threads, 1)
	cfg.ModelConfig.Provider = "cpu"
	find := func(patterns ...string) string {
		for _, p := range patterns {
			for _, pref := range []string{"*int8*", "*"} {
				m, _ := filepath.Glob(filepath.Join(c.ModelDir, strings.ReplaceAll(p, "*", pref)))
				if len(m) > 0 {
					return m[0]
				}
			}
		}
		return ""
	}
	if st, err := os.Stat(c.ModelDir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("sherpa model directory %q: not a directory", c.ModelDir)
	}
	cfg.ModelConfig.Tokens = find("*tokens.txt")
	s := &Sherpa{model: filepath.Base(filepath.Clean(c.ModelDir))}
	enc, dec, joiner, single := find("*encoder*.onnx"), find("*decoder*.onnx"), find("*joiner*.onnx"), find("model*.onnx")
	switch {
	case cfg.ModelConfig.Tokens == "":
		return nil, fmt.Errorf("sherpa model directory %q has no tokens.txt", c.ModelDir)
	case enc != "" && dec != "" && joiner != "":
		s.kind = "transducer"
		cfg.ModelConfig.Transducer = sherpa.OfflineTransducerModelConfig{Encoder: enc, Decoder: dec, Joiner: joiner}
	case enc != "" && dec != "":
		s.kind = "whisper"
		cfg.ModelConfig.Whisper = sherpa.OfflineWhisperModelConfig{Encoder: enc, Decoder: dec, Task: "transcribe", TailPaddings: -1}
	case single != "":
		s.kind = "nemo_ctc"
		cfg.ModelConfig.NemoCTC = sherpa.OfflineNemoEncDecCtcModelConfig{Model: single}
	default:
		return nil, fmt.Errorf("sherpa model directory %q holds no Whisper (encoder, decoder), transducer (encoder, decoder, joiner) or CTC (model.onnx) files", c.ModelDir)
	}
	s.rec = sherpa.NewOfflineRecognizer(&cfg)
	if s.rec == nil {
		return nil, errors.New("sherpa-onnx could not load the model in " + c.ModelDir)
	}
	return s, nil
}

// Name implements Engine.
func (s *Sherpa) Name() string { return "sherpa" }

// Provider implements Engine.
func (s *Sherpa) Provider() string { return "sherpa-onnx" }

// Model implements Engine: the model directory's name and its kind.
func (s *Sherpa) Model() string { return s.model + " (" + s.kind + ")" }

// Transcribe implements Engine.
func (s *Sherpa) Transcribe(ctx context.Context, a Audio) (*Result, error) {
	maxLen := a.Rate * 28 // Whisper's window is 30 s
	res := &Result{}
	for _, r := range speechRegions(a.Samples, a.Rate, maxLen) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		f := make([]float32, r.end-r.start)
		for i, v := range a.Samples[r.start:r.end] {
			f[i] = float32(v) / 32768
		}
		s.mu.Lock()
		stream := sherpa.NewOfflineStream(s.rec)
		stream.AcceptWaveform(a.Rate, f)
		s.rec.Decode(stream)
		out := stream.GetResult()
		sherpa.DeleteOfflineStream(stream)
		s.mu.Unlock()
		text := strings.TrimSpace(out.Text)
		if text == "" {
			continue
		}
		conf := 1.0
		if len(out.YsLogProbs) > 0 {
			var sum float64
			for _, lp := range out.YsLogProbs {
				sum += float64(lp)
			}
			conf = math.Round(math.Exp(min(sum/float64(len(out.YsLogProbs)), 0))*100) / 100
		}
		res.Segments = append(res.Segments, Segment{Start: float64(r.start) / float64(a.Rate),
			End: float64(r.end) / float64(a.Rate), Text: text, Confidence: conf})
	}
	return res, nil
}
