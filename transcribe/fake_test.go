package transcribe

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

// fakeOpenAI is a local server speaking the OpenAI transcription API. It stands for a
// service that cannot run here: it checks every multipart request it receives (model, file,
// format, granularities, the audio: a mono 8 kHz 16-bit WAV) and answers with canned
// verbose_json chosen by the tone it hears (the tests put a low tone on one channel and a
// high one on the other), or with the scripted failures.
type fakeOpenAI struct {
	t     testing.TB
	model string
	srv   *httptest.Server

	mu       sync.Mutex
	requests []fakeRequest
	// script: one response per request, in order (then 200 with the canned answer).
	script []fakeResponse
	// hang, when set, makes every request wait for the client to give up, and is told of
	// each request that arrived.
	hang chan string
	// answers by tone: "low" (below ~700 Hz) and "high".
	answers map[string]string
}

type fakeRequest struct {
	Model, Format, Tone, Filename, Language string
	Granularities                           []string
	Samples                                 int
	Auth                                    string
}

type fakeResponse struct {
	status     int
	retryAfter string
	body       string
}

func newFakeOpenAI(t testing.TB, model string) *fakeOpenAI {
	f := &fakeOpenAI{t: t, model: model, answers: map[string]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeOpenAI) URL() string { return f.srv.URL }

// set changes the fake's script or answers under its lock (its handler reads them under it).
func (f *fakeOpenAI) set(change func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change()
}

func (f *fakeOpenAI) Requests() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeRequest(nil), f.requests...)
}

func (f *fakeOpenAI) fail(w http.ResponseWriter, format string, args ...any) {
	f.t.Errorf("fake OpenAI: "+format, args...)
	http.Error(w, fmt.Sprintf(format, args...), http.StatusBadRequest)
}

func (f *fakeOpenAI) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/audio/transcriptions" {
		f.fail(w, "unexpected %s %s", r.Method, r.URL.Path)
		return
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		f.fail(w, "content type %q is not multipart/form-data", r.Header.Get("Content-Type"))
		return
	}
	req := fakeRequest{Auth: r.Header.Get("Authorization")}
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
			tone, n, err := monoTone(data)
			if err != nil {
				f.fail(w, "file: %v", err)
				return
			}
			req.Tone, req.Samples = tone, n
		}
	}
	if req.Model != f.model || req.Format != "verbose_json" || req.Tone == "" {
		f.fail(w, "request model %q format %q file tone %q: want model %q, verbose_json and a WAV", req.Model, req.Format, req.Tone, f.model)
		return
	}
	f.mu.Lock()
	f.requests = append(f.requests, req)
	var resp *fakeResponse
	if len(f.script) > 0 {
		resp = &f.script[0]
		f.script = f.script[1:]
	}
	hang := f.hang
	answer := f.answers[req.Tone]
	f.mu.Unlock()
	if hang != nil {
		hang <- req.Filename
		<-r.Context().Done()
		return
	}
	if resp != nil {
		if resp.retryAfter != "" {
			w.Header().Set("Retry-After", resp.retryAfter)
		}
		w.WriteHeader(resp.status)
		io.WriteString(w, resp.body)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, answer)
}

// monoTone checks that data is a mono 8 kHz 16-bit PCM WAV and says whether its tone is low
// or high, by its zero crossings.
func monoTone(data []byte) (string, int, error) {
	if len(data) < 44 || string(data[0:4]) != "RIFF" || string(data[8:16]) != "WAVEfmt " {
		return "", 0, fmt.Errorf("not a WAV")
	}
	le := binary.LittleEndian
	if le.Uint16(data[20:]) != 1 || le.Uint16(data[22:]) != 1 || le.Uint32(data[24:]) != 8000 || le.Uint16(data[34:]) != 16 {
		return "", 0, fmt.Errorf("not mono 8 kHz 16-bit PCM: format %d, %d channels, %d Hz, %d bits",
			le.Uint16(data[20:]), le.Uint16(data[22:]), le.Uint32(data[24:]), le.Uint16(data[34:]))
	}
	pcm := data[44:]
	n := len(pcm) / 2
	crossings := 0
	prev := int16(0)
	for i := 0; i < n; i++ {
		s := int16(le.Uint16(pcm[i*2:]))
		if (s >= 0) != (prev >= 0) {
			crossings++
		}
		prev = s
	}
	if n == 0 {
		return "", 0, fmt.Errorf("no audio")
	}
	perSecond := float64(crossings) * 8000 / float64(n)
	if perSecond < 1400 {
		return "low", n, nil
	}
	return "high", n, nil
}

// verbose is a canned verbose_json answer of segments (start, end, text).
func verbose(segs ...any) string {
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
