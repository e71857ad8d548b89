package transcribe

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"switchboard/internal/transcribetest"
	"switchboard/internal/tstest"
)

func lowTone(seconds float64) []int16 {
	return tstest.Sine(8000, int(seconds*8000), 8000, 440)
}

func TestOpenAISendsTheChannelAsMultipartAndReadsSegmentsAndWords(t *testing.T) {
	fake := transcribetest.NewOpenAI(t, "whisper-1")
	fake.Answers["low"] = transcribetest.Verbose(0.0, 2.5, "Hi, I have a question about my bill.", 3.0, 4.0, "Thanks.")
	eng := &OpenAI{BaseURL: fake.URL(), APIKey: "sk-test", ModelName: "whisper-1"}
	samples := lowTone(4)
	res, err := eng.Transcribe(context.Background(), Audio{WAV: MonoWAV(samples, 8000), Rate: 8000, Language: "en-US", Channel: "left"})
	if err != nil {
		t.Fatal(err)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Auth != "Bearer sk-test" || r.Language != "en" || r.Samples != len(samples) || r.Filename != "left.wav" ||
		!slices.Equal(r.Granularities, []string{"segment", "word"}) {
		t.Errorf("request = %+v", r)
	}
	if len(res.Segments) != 2 || res.Segments[0].Text != "Hi, I have a question about my bill." || res.Segments[1].End != 4 {
		t.Fatalf("segments = %+v", res.Segments)
	}
	if n := len(res.Segments[0].Words); n != 8 {
		t.Errorf("first segment has %d words, want 8", n)
	}
	if c := res.Segments[0].Confidence; c < 0.9 || c > 1 {
		t.Errorf("confidence %v from avg_logprob -0.05", c)
	}
	if res.TotalTokens != 100 {
		t.Errorf("total tokens %d, want 100", res.TotalTokens)
	}
}

func TestOpenAIErrorsAreClassified(t *testing.T) {
	cases := []struct {
		name       string
		resp       transcribetest.Response
		permanent  bool
		retryAfter time.Duration
	}{
		{"401 bad key", transcribetest.Response{Status: 401, Body: `{"error":{"message":"Incorrect API key provided"}}`}, true, 0},
		{"429 with Retry-After", transcribetest.Response{Status: 429, RetryAfter: "7", Body: `{"error":{"message":"Rate limit reached"}}`}, false, 7 * time.Second},
		{"503", transcribetest.Response{Status: 503, Body: "upstream unavailable"}, false, 0},
		{"garbage", transcribetest.Response{Status: 200, Body: "<html>proxy error</html>"}, false, 0},
		{"JSON without a transcript", transcribetest.Response{Status: 200, Body: `{"ok":true}`}, false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fake := transcribetest.NewOpenAI(t, "whisper-1")
			fake.Set(func() { fake.Script = []transcribetest.Response{c.resp} })
			eng := &OpenAI{BaseURL: fake.URL(), ModelName: "whisper-1"}
			_, err := eng.Transcribe(context.Background(), Audio{WAV: MonoWAV(lowTone(1), 8000), Rate: 8000, Channel: "left"})
			var ee *EngineError
			if !errors.As(err, &ee) {
				t.Fatalf("err = %v, want an *EngineError", err)
			}
			if ee.Permanent != c.permanent || ee.RetryAfter != c.retryAfter {
				t.Errorf("err = %v: permanent %v retry after %v, want %v %v", err, ee.Permanent, ee.RetryAfter, c.permanent, c.retryAfter)
			}
		})
	}
}

func TestOpenAITimeoutIsRetryable(t *testing.T) {
	fake := transcribetest.NewOpenAI(t, "whisper-1")
	fake.Set(func() { fake.Hang = make(chan string, 1) })
	eng := &OpenAI{BaseURL: fake.URL(), ModelName: "whisper-1", Timeout: 200 * time.Millisecond}
	_, err := eng.Transcribe(context.Background(), Audio{WAV: MonoWAV(lowTone(1), 8000), Rate: 8000, Channel: "left"})
	var ee *EngineError
	if !errors.As(err, &ee) || ee.Permanent {
		t.Fatalf("err = %v, want a retryable engine error", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{"": 0, "3": 3 * time.Second, "1.5": 1500 * time.Millisecond,
		"Thu, 01 Jan 2026 12:00:30 GMT": 30 * time.Second, "junk": 0, "999999": time.Hour, "-4": 0} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}
