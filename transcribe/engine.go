package transcribe

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Audio is one channel of a recording, as the engines take it: a mono 16-bit PCM WAV at
// 8 kHz (the telephone band the call was carried in; engines resample as they need).
type Audio struct {
	WAV      []byte
	Samples  []int16 // the same audio, decoded (in-process engines use it)
	Rate     int
	Language string // BCP 47 ("en-US"); engines take the primary subtag as a hint
	Channel  string // "left" (the caller) or "right" (the other party), for logs
}

// Segment is a stretch of speech the engine recognised, with times in seconds from the
// start of the audio. Confidence is 0..1 (1 when the engine gives none).
type Segment struct {
	Start, End float64
	Text       string
	Confidence float64
	Words      []Word
}

// Word is one recognised word with its times, when the engine gives word timestamps.
type Word struct {
	Start, End float64
	Word       string
}

// Result is an engine's answer for one channel.
type Result struct {
	Segments    []Segment
	TotalTokens int // tokens the service billed, when it says so
}

// Engine turns one channel's audio into timed text. Implementations: OpenAI (any
// OpenAI-compatible /v1/audio/transcriptions server) and Sherpa (in process, build tag
// sherpa). An error that retrying cannot cure is an *EngineError with Permanent set.
type Engine interface {
	Name() string     // "openai", "sherpa"
	Provider() string // the event's provider field ("openai", "together_ai", "sherpa-onnx")
	Model() string
	Transcribe(ctx context.Context, a Audio) (*Result, error)
}

// EngineError is an engine's failure: Permanent when retrying cannot help (bad key, audio
// refused), otherwise worth a retry, after RetryAfter when the service said how long.
type EngineError struct {
	Engine     string
	Permanent  bool
	RetryAfter time.Duration
	Msg        string
	Err        error
}

func (e *EngineError) Error() string {
	s := e.Engine + ": " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *EngineError) Unwrap() error { return e.Err }

// permanent reports whether err cannot be cured by trying again.
func permanent(err error) bool {
	var e *EngineError
	return errors.As(err, &e) && e.Permanent
}

// retryAfter is how long the service asked us to wait, 0 when it did not.
func retryAfter(err error) time.Duration {
	var e *EngineError
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

func engineErr(engine string, perm bool, err error, format string, args ...any) *EngineError {
	return &EngineError{Engine: engine, Permanent: perm, Msg: fmt.Sprintf(format, args...), Err: err}
}
