package main

import (
	"context"
	"flag"
	"log/slog"
	"path/filepath"

	"switchboard/blob"
	"switchboard/prompt"
)

// promptFlags configure prompts and their audio storage.
type promptFlags struct {
	espeak string
}

func addPromptFlags(fs *flag.FlagSet, f *promptFlags) {
	fs.StringVar(&f.espeak, "espeak", "espeak-ng", "espeak-ng program (a path, or a name looked up in $PATH) for text prompts and the system prompts generated at first start; when it is missing text prompts answer 503 and system prompts play tones")
}

// newBlobStore is where prompt (and voicemail) audio is kept: DATA/blobs.
func newBlobStore(dataDir string) (*blob.Dir, error) {
	return blob.NewDir(filepath.Join(dataDir, "blobs"))
}

// generateSystemPrompts speaks the system prompts not yet in the blob store (only the
// first start, or the first after espeak-ng is installed, has work). It runs beside the
// server, so a slow first start does not delay serving: until a prompt is generated its
// tones play.
func generateSystemPrompts(ctx context.Context, blobs *blob.Dir, speaker *prompt.Speaker, logger *slog.Logger) {
	if _, err := prompt.GenerateSystem(ctx, blobs, speaker, logger); err != nil && ctx.Err() == nil {
		logger.Error("system prompts could not be generated; they play tones", "err", err)
	}
}
