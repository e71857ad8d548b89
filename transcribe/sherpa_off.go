//go:build !sherpa

package transcribe

import "errors"

// SherpaConfig configures the in-process sherpa-onnx engine (see sherpa.go, built with
// -tags sherpa).
type SherpaConfig struct {
	ModelDir string // the operator's model directory (Whisper, Zipformer transducer or Parakeet ONNX)
	Threads  int
}

// SherpaBuilt reports whether this binary has the sherpa engine (-tags sherpa).
const SherpaBuilt = false

// NewSherpa fails in a binary built without -tags sherpa: the engine needs cgo and the
// sherpa-onnx shared libraries, which the default build leaves out.
func NewSherpa(SherpaConfig) (Engine, error) {
	return nil, errors.New("the sherpa engine is not in this binary: build with -tags sherpa (docs/transcription.md)")
}
