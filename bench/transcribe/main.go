// Command transcribe measures a transcription engine's real-time factor (processing time /
// audio time) and word error rate on the fixed test set in testset/: ten sentences spoken
// by espeak-ng and flite, stored as 8 kHz G.711 µ-law WAV, the audio of a real call
// (sentences.txt holds what was said; gen.sh made the files). The same-run baseline is
// the same sentences at the speech synthesizer's own wideband rate, generated at run time
// when espeak-ng and flite are installed: the ratio shows what the telephone band costs.
//
//	go run ./bench/transcribe -openai-url http://127.0.0.1:8000 -openai-model whisper-1
//	go run -tags sherpa ./bench/transcribe -sherpa-model /opt/models/sherpa-onnx-whisper-tiny.en
//	go run ./bench/transcribe -standin   # checks the harness against a local stand-in that answers the reference
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"switchboard/media"
	"switchboard/transcribe"
)

func main() {
	dir := flag.String("dir", "bench/transcribe", "directory with sentences.txt and testset/")
	openaiURL := flag.String("openai-url", "", "OpenAI-compatible speech-to-text base URL")
	openaiKey := flag.String("openai-key", os.Getenv("OPENAI_API_KEY"), "its API key")
	openaiModel := flag.String("openai-model", "whisper-1", "its model")
	sherpaModel := flag.String("sherpa-model", "", "sherpa-onnx model directory (build with -tags sherpa)")
	standin := flag.Bool("standin", false, "run against a local stand-in answering the reference text (checks the harness: WER 0, RTF = its overhead)")
	flag.Parse()
	if err := run(*dir, *openaiURL, *openaiKey, *openaiModel, *sherpaModel, *standin); err != nil {
		fmt.Fprintln(os.Stderr, "bench/transcribe:", err)
		os.Exit(1)
	}
}

type clip struct {
	ref     string
	samples []int16
	rate    int
}

func run(dir, openaiURL, openaiKey, openaiModel, sherpaModel string, standin bool) error {
	refs, err := readLines(filepath.Join(dir, "sentences.txt"))
	if err != nil {
		return err
	}
	var narrow, wide []clip
	for i, ref := range refs {
		f, err := os.Open(filepath.Join(dir, "testset", fmt.Sprintf("%02d.wav", i)))
		if err != nil {
			return err
		}
		s, err := media.ReadWAV(f, time.Minute)
		f.Close()
		if err != nil {
			return err
		}
		narrow = append(narrow, clip{ref, s, 8000})
		if w, rate, err := synthesize(i, ref); err == nil {
			wide = append(wide, clip{ref, w, rate})
		}
	}
	var eng transcribe.Engine
	switch {
	case standin:
		srv := standIn(append(append([]clip{}, narrow...), wide...))
		defer srv.Close()
		eng = &transcribe.OpenAI{BaseURL: srv.URL, ModelName: "stand-in"}
	case openaiURL != "":
		eng = &transcribe.OpenAI{BaseURL: openaiURL, APIKey: openaiKey, ModelName: openaiModel}
	case sherpaModel != "":
		if eng, err = transcribe.NewSherpa(transcribe.SherpaConfig{ModelDir: sherpaModel, Threads: 1}); err != nil {
			return err
		}
	default:
		return errors.New("no engine: give -openai-url, -sherpa-model (with -tags sherpa) or -standin")
	}
	fmt.Printf("engine %s, model %s, %d sentences\n", eng.Name(), eng.Model(), len(narrow))
	n8 := measure(eng, narrow)
	fmt.Printf("8 kHz G.711 (the test set):  audio %.1f s, processing %.2f s, RTF %.3f, WER %.1f %%\n", n8.audio, n8.wall, n8.wall/n8.audio, 100*n8.wer())
	if len(wide) == len(narrow) {
		w := measure(eng, wide)
		fmt.Printf("wideband baseline (synthesizer rate): audio %.1f s, processing %.2f s, RTF %.3f, WER %.1f %%\n", w.audio, w.wall, w.wall/w.audio, 100*w.wer())
		if w.wer() > 0 {
			fmt.Printf("ratio 8 kHz / wideband: RTF %.2f, WER %.2f\n", (n8.wall/n8.audio)/(w.wall/w.audio), n8.wer()/w.wer())
		} else {
			fmt.Printf("ratio 8 kHz / wideband: RTF %.2f, WER %.1f %% vs 0 %%\n", (n8.wall/n8.audio)/(w.wall/w.audio), 100*n8.wer())
		}
	} else {
		fmt.Println("wideband baseline skipped: espeak-ng and flite are needed to synthesize it")
	}
	return nil
}

type totals struct {
	audio, wall   float64
	errors, words int
}

func (t totals) wer() float64 { return float64(t.errors) / float64(max(t.words, 1)) }

func measure(eng transcribe.Engine, clips []clip) totals {
	var t totals
	for _, c := range clips {
		wav := transcribe.MonoWAV(c.samples, c.rate)
		start := time.Now()
		res, err := eng.Transcribe(context.Background(), transcribe.Audio{WAV: wav, Samples: c.samples, Rate: c.rate, Language: "en-US", Channel: "test"})
		t.wall += time.Since(start).Seconds()
		t.audio += float64(len(c.samples)) / float64(c.rate)
		hyp := ""
		if err != nil {
			fmt.Fprintf(os.Stderr, "  %q: %v\n", c.ref, err)
		} else {
			for _, s := range res.Segments {
				hyp += " " + s.Text
			}
		}
		ref := words(c.ref)
		t.errors += editDistance(ref, words(hyp))
		t.words += len(ref)
	}
	return t
}

var nonWord = regexp.MustCompile(`[^a-z0-9' ]+`)

func words(s string) []string {
	return strings.Fields(nonWord.ReplaceAllString(strings.ToLower(s), " "))
}

// editDistance is the word-level Levenshtein distance: substitutions, insertions, deletions.
func editDistance(a, b []string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// synthesize speaks the sentence as gen.sh does, at the synthesizer's own rate.
func synthesize(i int, text string) ([]int16, int, error) {
	tmp, err := os.CreateTemp("", "bench-*.wav")
	if err != nil {
		return nil, 0, err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	cmd := exec.Command("espeak-ng", "-s", "160", "-w", tmp.Name(), text)
	if i%2 == 1 {
		cmd = exec.Command("flite", "-t", text, "-o", tmp.Name())
	}
	if err := cmd.Run(); err != nil {
		return nil, 0, err
	}
	data, err := os.ReadFile(tmp.Name())
	if err != nil {
		return nil, 0, err
	}
	return pcm16(data)
}

// pcm16 reads a mono 16-bit PCM WAV.
func pcm16(data []byte) ([]int16, int, error) {
	le := binary.LittleEndian
	if len(data) < 12 || string(data[:4]) != "RIFF" {
		return nil, 0, errors.New("not a WAV")
	}
	rate := 0
	for pos := 12; pos+8 <= len(data); {
		id, size := string(data[pos:pos+4]), int(le.Uint32(data[pos+4:]))
		body := pos + 8
		switch id {
		case "fmt ":
			if le.Uint16(data[body:]) != 1 || le.Uint16(data[body+2:]) != 1 || le.Uint16(data[body+14:]) != 16 {
				return nil, 0, errors.New("not mono 16-bit PCM")
			}
			rate = int(le.Uint32(data[body+4:]))
		case "data":
			end := min(body+size, len(data))
			s := make([]int16, (end-body)/2)
			for i := range s {
				s[i] = int16(le.Uint16(data[body+2*i:]))
			}
			return s, rate, nil
		}
		pos = body + size + size&1
	}
	return nil, 0, errors.New("no data chunk")
}

// standIn answers each clip's audio (known by its length) with the clip's reference text,
// as verbose_json: it exercises the harness and the engine's request and parsing, no ASR.
func standIn(clips []clip) *httptest.Server {
	byLen := map[int]string{}
	for _, c := range clips {
		byLen[len(c.samples)*2] = c.ref
	}
	var mu sync.Mutex
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, _, err := r.FormFile("file")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		data, _ := io.ReadAll(f)
		mu.Lock()
		ref := byLen[len(data)-44]
		mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"text": ref, "segments": []map[string]any{{"start": 0, "end": 1, "text": ref}}})
	}))
}

func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out, sc.Err()
}
