package main

import (
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"switchboard"
	"switchboard/store"
	"switchboard/transcribe"
)

// transcribeFlags configure the transcription engines, the optional chat model for
// sentiment and summaries, and the queue (docs/transcription.md).
type transcribeFlags struct {
	engines        string
	openaiURL      string
	openaiKey      string
	openaiModel    string
	openaiProvider string
	openaiTimeout  time.Duration
	sherpaModel    string
	sherpaThreads  int
	chatURL        string
	chatKey        string
	chatModel      string
	workers        int
	perAccount     int
	maxAttempts    int
}

func addTranscribeFlags(fs *flag.FlagSet, f *transcribeFlags) {
	fs.StringVar(&f.engines, "transcribe-engines", "", "transcription engines in the order tried, comma-separated (openai, sherpa); empty = every configured one, openai first")
	fs.StringVar(&f.openaiURL, "transcribe-openai-url", "", "base URL of an OpenAI-compatible speech-to-text server (https://api.openai.com, https://api.groq.com/openai, a whisper.cpp server…); empty = no openai engine")
	fs.StringVar(&f.openaiKey, "transcribe-openai-key", "", "API key of the speech-to-text server (sent as a bearer token)")
	fs.StringVar(&f.openaiModel, "transcribe-openai-model", "whisper-1", "speech-to-text model name")
	fs.StringVar(&f.openaiProvider, "transcribe-openai-provider", "openai", "provider name the TRANSCRIPTION_FINISHED event reports (openai, together_ai, groq…)")
	fs.DurationVar(&f.openaiTimeout, "transcribe-openai-timeout", 2*time.Minute, "timeout of one channel's transcription request")
	fs.StringVar(&f.sherpaModel, "transcribe-sherpa-model", "", "sherpa-onnx model directory (binary built with -tags sherpa); empty = no sherpa engine")
	fs.IntVar(&f.sherpaThreads, "transcribe-sherpa-threads", 1, "threads of the sherpa-onnx recognizer")
	fs.StringVar(&f.chatURL, "transcribe-chat-url", "", "base URL of an OpenAI-compatible chat-completions server for sentiment and summaries; empty = computed locally")
	fs.StringVar(&f.chatKey, "transcribe-chat-key", "", "API key of the chat server")
	fs.StringVar(&f.chatModel, "transcribe-chat-model", "gpt-4o-mini", "chat model for sentiment and summaries")
	fs.IntVar(&f.workers, "transcribe-workers", 2, "transcription jobs this process runs at once")
	fs.IntVar(&f.perAccount, "transcribe-per-account", 1, "transcription jobs one account has running at once, across all nodes")
	fs.IntVar(&f.maxAttempts, "transcribe-max-attempts", 5, "attempts before a transcription fails for good (and the event says success: false)")
}

// newTranscriber builds the transcription service from the flags. Without an engine it is
// built all the same: it runs nothing and tells provisioning what is missing, so that
// enabling transcription on an account is refused with that message.
func newTranscriber(f transcribeFlags, db *store.DB, blobs switchboard.BlobStore, logger *slog.Logger) (*transcribe.Service, error) {
	available := map[string]func() (transcribe.Engine, error){}
	if f.openaiURL != "" {
		if f.openaiModel == "" {
			return nil, fmt.Errorf("--transcribe-openai-url needs --transcribe-openai-model")
		}
		available["openai"] = func() (transcribe.Engine, error) {
			return &transcribe.OpenAI{BaseURL: f.openaiURL, APIKey: f.openaiKey, ModelName: f.openaiModel,
				ProviderName: f.openaiProvider, Timeout: f.openaiTimeout}, nil
		}
	}
	if f.sherpaModel != "" {
		available["sherpa"] = func() (transcribe.Engine, error) {
			return transcribe.NewSherpa(transcribe.SherpaConfig{ModelDir: f.sherpaModel, Threads: f.sherpaThreads})
		}
	}
	order := []string{"openai", "sherpa"}
	if f.engines != "" {
		order = strings.Split(f.engines, ",")
	}
	svc := &transcribe.Service{Store: db, Blobs: blobs, Workers: f.workers, PerAccount: f.perAccount,
		MaxAttempts: f.maxAttempts, Logger: logger.With("component", "transcribe"),
		// One SQLite file has one server: a killed run's claims are released at the next start.
		SingleNode: db.Dialect() == store.DialectSQLite}
	for _, name := range order {
		name = strings.TrimSpace(name)
		build, ok := available[name]
		if !ok {
			if f.engines != "" {
				return nil, fmt.Errorf("--transcribe-engines names %q, which is not configured (openai needs --transcribe-openai-url, sherpa --transcribe-sherpa-model)", name)
			}
			continue
		}
		eng, err := build()
		if err != nil {
			return nil, fmt.Errorf("transcription engine %s: %w", name, err)
		}
		svc.Engines = append(svc.Engines, eng)
	}
	if f.chatURL != "" {
		svc.Analyzer = &transcribe.Chat{BaseURL: f.chatURL, APIKey: f.chatKey, ModelName: f.chatModel}
	}
	if len(svc.Engines) > 0 {
		logger.Info("transcription on", "engines", svc.EngineNames())
	}
	return svc, nil
}
