package transcribe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// OpenAI is the engine for any OpenAI-compatible speech-to-text server (OpenAI, Groq,
// Together, a self-hosted whisper.cpp, faster-whisper or vLLM server): one multipart POST
// of a channel's WAV to {BaseURL}/v1/audio/transcriptions asking for verbose_json with
// segment and word timestamps. Servers that ignore the granularities still give segments.
//
// Errors: 401/403 and the other 4xx but 408 and 429 are permanent (a key or request the
// server refuses will be refused again); 429 is retried after its Retry-After; 408, 5xx,
// timeouts and answers that are not the documented JSON are retried.
//
// The base URL is the operator's configuration, not a tenant's input, so it may name a
// server on the local network (the usual self-hosted setup); no SSRF policy applies.
type OpenAI struct {
	BaseURL      string // e.g. https://api.openai.com (without /v1)
	APIKey       string // sent as a bearer token when set
	ModelName    string // e.g. whisper-1, openai/whisper-large-v3
	ProviderName string // the event's provider field; "openai" when empty
	// Timeout bounds one request (upload, recognition, answer); 2 minutes when zero.
	Timeout time.Duration
	Client  *http.Client
}

// Name implements Engine.
func (o *OpenAI) Name() string { return "openai" }

// Provider implements Engine.
func (o *OpenAI) Provider() string {
	if o.ProviderName != "" {
		return o.ProviderName
	}
	return "openai"
}

// Model implements Engine.
func (o *OpenAI) Model() string { return o.ModelName }

func (o *OpenAI) client() *http.Client {
	if o.Client != nil {
		return o.Client
	}
	return http.DefaultClient
}

func (o *OpenAI) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return 2 * time.Minute
}

// maxAnswer bounds the JSON read from a server; a transcript of the longest call is far less.
const maxAnswer = 16 << 20

// openAIVerbose is the verbose_json answer (the fields we read).
type openAIVerbose struct {
	Text     *string `json:"text"`
	Duration float64 `json:"duration"`
	Segments []struct {
		Start      float64  `json:"start"`
		End        float64  `json:"end"`
		Text       string   `json:"text"`
		AvgLogprob *float64 `json:"avg_logprob"`
	} `json:"segments"`
	Words []struct {
		Word  string  `json:"word"`
		Start float64 `json:"start"`
		End   float64 `json:"end"`
	} `json:"words"`
	Usage *struct {
		TotalTokens int `json:"total_tokens"`
	} `json:"usage"`
}

// Transcribe implements Engine.
func (o *OpenAI) Transcribe(ctx context.Context, a Audio) (*Result, error) {
	body, contentType, err := o.request(a)
	if err != nil {
		return nil, engineErr(o.Name(), true, err, "building the request")
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(o.BaseURL, "/")+"/v1/audio/transcriptions", body)
	if err != nil {
		return nil, engineErr(o.Name(), true, err, "bad base URL %q", o.BaseURL)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	if o.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+o.APIKey)
	}
	resp, err := o.client().Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, engineErr(o.Name(), false, nil, "no answer within %s", o.timeout())
		}
		return nil, engineErr(o.Name(), false, err, "request failed")
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, engineErr(o.Name(), false, err, "reading the answer (HTTP %d)", resp.StatusCode)
	}
	if err := statusError(o.Name(), resp, raw); err != nil {
		return nil, err
	}
	return parseVerbose(o.Name(), raw)
}

// request builds the multipart body: model, file (the channel's WAV), response_format,
// timestamp_granularities[] (segment and word) and language.
func (o *OpenAI) request(a Audio) (io.Reader, string, error) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	fields := [][2]string{{"model", o.ModelName}, {"response_format", "verbose_json"},
		{"timestamp_granularities[]", "segment"}, {"timestamp_granularities[]", "word"}}
	if lang, _, _ := strings.Cut(a.Language, "-"); lang != "" {
		fields = append(fields, [2]string{"language", strings.ToLower(lang)})
	}
	for _, f := range fields {
		if err := w.WriteField(f[0], f[1]); err != nil {
			return nil, "", err
		}
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="`+a.Channel+`.wav"`)
	h.Set("Content-Type", "audio/wav")
	part, err := w.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	if _, err := part.Write(a.WAV); err != nil {
		return nil, "", err
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return &b, w.FormDataContentType(), nil
}

// statusError maps a non-2xx answer to an EngineError (nil for 2xx).
func statusError(engine string, resp *http.Response, raw []byte) error {
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return nil
	}
	msg := fmt.Sprintf("HTTP %d: %s", code, errorMessage(raw))
	switch {
	case code == http.StatusTooManyRequests:
		e := engineErr(engine, false, nil, "%s", msg)
		e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		return e
	case code == http.StatusRequestTimeout || code >= 500:
		return engineErr(engine, false, nil, "%s", msg)
	default: // 401, 403, 400, 404, 413, 415…: asking again gets the same answer
		return engineErr(engine, true, nil, "%s", msg)
	}
}

// errorMessage is the server's {"error":{"message":…}} or the start of its body.
func errorMessage(raw []byte) string {
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &e) == nil && e.Error.Message != "" {
		return e.Error.Message
	}
	s := strings.TrimSpace(string(raw))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// parseRetryAfter reads delay-seconds or an HTTP date; 0 when absent or unreadable. It is
// capped at an hour: a server asking for more is treated as asking for an hour.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 {
		d = time.Duration(n * float64(time.Second))
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), time.Hour)
}

// parseVerbose reads a verbose_json answer. Something that is not that JSON is an answer
// worth retrying (a proxy's error page, a truncated body), not a transcript of silence.
func parseVerbose(engine string, raw []byte) (*Result, error) {
	var v openAIVerbose
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, engineErr(engine, false, nil, "the answer is not JSON: %s", errorMessage(raw))
	}
	if v.Text == nil && v.Segments == nil {
		return nil, engineErr(engine, false, nil, "the answer has neither text nor segments: %s", errorMessage(raw))
	}
	res := &Result{}
	if v.Usage != nil {
		res.TotalTokens = v.Usage.TotalTokens
	}
	for _, s := range v.Segments {
		text := strings.TrimSpace(s.Text)
		if text == "" || s.End < s.Start || math.IsNaN(s.Start) {
			continue
		}
		conf := 1.0
		if s.AvgLogprob != nil {
			conf = math.Round(math.Exp(min(*s.AvgLogprob, 0))*100) / 100
		}
		res.Segments = append(res.Segments, Segment{Start: s.Start, End: s.End, Text: text, Confidence: conf})
	}
	if len(res.Segments) == 0 && v.Text != nil && strings.TrimSpace(*v.Text) != "" {
		// A server that gives only text: one segment over the whole audio.
		end := v.Duration
		if n := len(v.Words); n > 0 {
			end = max(end, v.Words[n-1].End)
		}
		res.Segments = []Segment{{Start: 0, End: end, Text: strings.TrimSpace(*v.Text), Confidence: 1}}
	}
	// Words go to the segment their middle falls in.
	for _, w := range v.Words {
		mid := (w.Start + w.End) / 2
		for i := range res.Segments {
			s := &res.Segments[i]
			if mid >= s.Start && (mid <= s.End || i == len(res.Segments)-1) {
				s.Words = append(s.Words, Word{Start: w.Start, End: w.End, Word: strings.TrimSpace(w.Word)})
				break
			}
		}
	}
	return res, nil
}
