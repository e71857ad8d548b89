package prompt

import (
	"bytes"
	"context"
	"log/slog"

	"switchboard"
)

// GenerateSystem speaks every system prompt of the catalog in every one of Languages into
// the blob store, skipping those already there: it runs at every start, and only the
// first (or the first after espeak-ng is installed) does any work. Without espeak-ng it
// logs once and returns nil: the prompts play their tones until it is installed.
func GenerateSystem(ctx context.Context, blobs switchboard.BlobStore, speaker *Speaker, logger *slog.Logger) (generated int, err error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	for _, lang := range Languages {
		for _, p := range Catalog() {
			key := SystemKey(lang, p.Name)
			_, err := blobs.Stat(ctx, key)
			if err == nil {
				continue
			}
			if switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
				return generated, err
			}
			if !speaker.Available() {
				logger.Warn("espeak-ng not found: system prompts play tones until it is installed (then restart)", "espeak", speakerPath(speaker))
				return generated, nil
			}
			pcm, err := speaker.Speak(ctx, p.Texts[lang], lang)
			if err != nil {
				return generated, err
			}
			if _, err := blobs.Put(ctx, key, bytes.NewReader(EncodeWAV(pcm))); err != nil {
				return generated, err
			}
			generated++
		}
	}
	if generated > 0 {
		logger.Info("system prompts generated", "count", generated)
	}
	return generated, nil
}

func speakerPath(s *Speaker) string {
	if s == nil {
		return ""
	}
	return s.Path
}
