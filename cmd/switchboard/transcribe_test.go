package main

import (
	"log/slog"
	"strings"
	"testing"

	"switchboard/store/storetest"
)

func TestTranscriberFromFlags(t *testing.T) {
	db := storetest.NewSQLite(t)
	logger := slog.New(slog.DiscardHandler)
	// No engine: built, runs nothing, and says what to set.
	svc, err := newTranscriber(transcribeFlags{openaiModel: "whisper-1"}, db, nil, logger)
	if err != nil || len(svc.Engines) != 0 || !strings.Contains(svc.Missing(), "--transcribe-openai-url") {
		t.Fatalf("no engine: %v %v %q", svc, err, svc.Missing())
	}
	svc, err = newTranscriber(transcribeFlags{openaiURL: "http://127.0.0.1:8001", openaiModel: "base.en", openaiProvider: "whisper.cpp"}, db, nil, logger)
	if err != nil || len(svc.Engines) != 1 || svc.Engines[0].Provider() != "whisper.cpp" || svc.Missing() != "" || !svc.SingleNode {
		t.Fatalf("openai: %+v %v", svc, err)
	}
	// An engine named but not configured, and sherpa in a binary built without it, are refused at start.
	if _, err := newTranscriber(transcribeFlags{engines: "sherpa,openai", openaiURL: "http://x", openaiModel: "m"}, db, nil, logger); err == nil ||
		!strings.Contains(err.Error(), "--transcribe-sherpa-model") {
		t.Errorf("unconfigured engine named: %v", err)
	}
	if _, err := newTranscriber(transcribeFlags{sherpaModel: t.TempDir()}, db, nil, logger); err == nil {
		t.Errorf("sherpa without its build tag or a model was accepted")
	}
}
