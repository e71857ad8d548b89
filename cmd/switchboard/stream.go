package main

import (
	"flag"
	"log/slog"
	"time"

	"switchboard/store"
	"switchboard/stream"
)

type streamFlags struct {
	poll   time.Duration
	buffer int
}

func addStreamFlags(fs *flag.FlagSet, f *streamFlags) {
	fs.DurationVar(&f.poll, "stream-poll", 500*time.Millisecond, "how often the live event stream reads the event table for events stored by other nodes (this node's wake it at once)")
	fs.IntVar(&f.buffer, "stream-buffer", 1024, "events a live-stream consumer may fall behind before it is disconnected with an overflow notice (it resumes with Last-Event-ID)")
}

// newStreamHub builds the live event stream over the store's event table, woken by the
// store's event bus after each commit.
func newStreamHub(c *serveConfig, db *store.DB, logger *slog.Logger) *stream.Hub {
	return stream.New(stream.Config{Store: db, Bus: db.EventBus(), Poll: c.stream.poll, Buffer: c.stream.buffer,
		Logger: logger.With("component", "stream")})
}
