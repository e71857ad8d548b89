// Package transcribetest holds what the tests of transcription share: a local server that
// speaks the OpenAI transcription API, and the Voice360 seed's TRANSCRIPTION_FINISHED
// example with a check of a result against its shape.
package transcribetest

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// OpenAI is a local server speaking the OpenAI transcription API. It stands for a service
// that cannot run here: it checks every multipart request it receives (model, file, format,
// granularities, the audio: a mono 8 kHz 16-bit WAV) and answers with canned verbose_json —
// Answer's, else Answers' by the tone it hears (tests put a low tone on one channel and a
// high one on the other) — or with the scripted failures. Change its fields with Set.
type OpenAI struct {
	t     testing.TB
	model string
	srv   *httptest.Server

	mu       sync.Mutex
	requests []Request
	// Script: one response per request, in order (then 200 with the canned answer).
	Script []Response
	// Hang, when set, makes every request wait for the client to give up, and is told of
	// each request that arrived (its file name).
	Hang chan string
	// Answers by tone: "low" (below ~700 Hz) and "high".
	Answers map[string]string
	// Answer, when set, chooses the answer instead of Answers.
	Answer func(Request) string
}

// Request is what one transcription request carried.
type Request struct {
	Model, Format, Tone, Filename, Language string
	Granularities                           []string
	Samples                                 int
	PCM                                     []int16 // the file's audio
	Auth                                    string
}

// Response is a scripted answer.
type Response struct {
	Status     int
	RetryAfter string
	Body       string
}

// NewOpenAI starts the server, expecting requests for model; it stops with the test.
func NewOpenAI(t testing.TB, model string) *OpenAI {
	f := &OpenAI{t: t, model: model, Answers: map[string]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// URL is the server's base URL (without /v1), as --transcribe-openai-url takes it.
func (f *OpenAI) URL() string { return f.srv.URL }

// Set changes the server's script or answers under its lock (its handler reads them under it).
func (f *OpenAI) Set(change func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change()
}

// Requests is the requests received so far.
func (f *OpenAI) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.requests...)
}

func (f *OpenAI) fail(w http.ResponseWriter, format string, args ...any) {
	f.t.Errorf("fake OpenAI: "+format, args...)
	http.Error(w, fmt.Sprintf(format, args...), http.StatusBadRequest)
}

func (f *OpenAI) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/audio/transcriptions" {
		f.fail(w, "unexpected %s %s", r.Method, r.URL.Path)
		return
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		f.fail(w, "content type %q is not multipart/form-data", r.Header.Get("Content-Type"))
		return
	}
	req := Request{Auth: r.Header.Get("Authorization")}
	mr := multipart.NewReader(r.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			f.fail(w, "multipart: %v", err)
			return
		}
		data, _ := io.ReadAll(p)
		switch p.FormName() {
		case "model":
			req.Model = string(data)
		case "response_format":
			req.Format = string(data)
		case "timestamp_granularities[]":
			req.Granularities = append(req.Granularities, string(data))
		case "language":
			req.Language = string(data)
		case "file":
			req.Filename = p.FileName()
			if ct := p.Header.Get("Content-Type"); ct != "audio/wav" {
				f.fail(w, "file content type %q, want audio/wav", ct)
				return
			}
			pcm, err := monoPCM(data)
			if err != nil {
				f.fail(w, "file: %v", err)
				return
			}
			req.PCM, req.Samples, req.Tone = pcm, len(pcm), toneOf(pcm)
		}
	}
	if req.Model != f.model || req.Format != "verbose_json" || req.PCM == nil {
		f.fail(w, "request model %q format %q file of %d samples: want model %q, verbose_json and a WAV", req.Model, req.Format, req.Samples, f.model)
		return
	}
	f.mu.Lock()
	f.requests = append(f.requests, req)
	var resp *Response
	if len(f.Script) > 0 {
		resp = &f.Script[0]
		f.Script = f.Script[1:]
	}
	hang := f.Hang
	answer := f.Answers[req.Tone]
	if f.Answer != nil {
		answer = f.Answer(req)
	}
	f.mu.Unlock()
	if hang != nil {
		hang <- req.Filename
		<-r.Context().Done()
		return
	}
	if resp != nil {
		if resp.RetryAfter != "" {
			w.Header().Set("Retry-After", resp.RetryAfter)
		}
		w.WriteHeader(resp.Status)
		io.WriteString(w, resp.Body)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, answer)
}

// monoPCM checks that data is a mono 8 kHz 16-bit PCM WAV with audio and returns its samples.
func monoPCM(data []byte) ([]int16, error) {
	if len(data) < 44 || string(data[0:4]) != "RIFF" || string(data[8:16]) != "WAVEfmt " {
		return nil, fmt.Errorf("not a WAV")
	}
	le := binary.LittleEndian
	if le.Uint16(data[20:]) != 1 || le.Uint16(data[22:]) != 1 || le.Uint32(data[24:]) != 8000 || le.Uint16(data[34:]) != 16 {
		return nil, fmt.Errorf("not mono 8 kHz 16-bit PCM: format %d, %d channels, %d Hz, %d bits",
			le.Uint16(data[20:]), le.Uint16(data[22:]), le.Uint32(data[24:]), le.Uint16(data[34:]))
	}
	raw := data[44:]
	if len(raw) < 2 {
		return nil, fmt.Errorf("no audio")
	}
	pcm := make([]int16, len(raw)/2)
	for i := range pcm {
		pcm[i] = int16(le.Uint16(raw[2*i:]))
	}
	return pcm, nil
}

// toneOf says whether pcm's tone is low or high, by its zero crossings.
func toneOf(pcm []int16) string {
	crossings := 0
	prev := int16(0)
	for _, s := range pcm {
		if (s >= 0) != (prev >= 0) {
			crossings++
		}
		prev = s
	}
	if float64(crossings)*8000/float64(len(pcm)) < 1400 {
		return "low"
	}
	return "high"
}

// Verbose is a canned verbose_json answer of segments (start, end, text), with word times
// spread evenly over each segment and usage.total_tokens 100.
func Verbose(segs ...any) string {
	type seg struct {
		ID         int     `json:"id"`
		Start      float64 `json:"start"`
		End        float64 `json:"end"`
		Text       string  `json:"text"`
		AvgLogprob float64 `json:"avg_logprob"`
	}
	type word struct {
		Word  string  `json:"word"`
		Start float64 `json:"start"`
		End   float64 `json:"end"`
	}
	var out struct {
		Task     string  `json:"task"`
		Language string  `json:"language"`
		Duration float64 `json:"duration"`
		Text     string  `json:"text"`
		Segments []seg   `json:"segments"`
		Words    []word  `json:"words"`
		Usage    any     `json:"usage"`
	}
	out.Task, out.Language, out.Segments, out.Words = "transcribe", "english", []seg{}, []word{}
	for i := 0; i+2 < len(segs); i += 3 {
		s := seg{ID: i / 3, Start: segs[i].(float64), End: segs[i+1].(float64), Text: " " + segs[i+2].(string), AvgLogprob: -0.05}
		out.Segments = append(out.Segments, s)
		out.Text += s.Text
		ws := strings.Fields(s.Text)
		for k, w := range ws {
			step := (s.End - s.Start) / float64(len(ws))
			out.Words = append(out.Words, word{w, s.Start + float64(k)*step, s.Start + float64(k+1)*step})
		}
		out.Duration = s.End
	}
	out.Usage = map[string]any{"type": "tokens", "total_tokens": 100}
	b, _ := json.Marshal(out)
	return string(b)
}
