package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"flag"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"switchboard"
	"switchboard/blob"
	"switchboard/recording"
	"switchboard/store"
)

// recordingFlags configure where recordings are stored and how long their links work
// (docs/recording.md).
type recordingFlags struct {
	s3                blob.S3Config
	linkTTL           time.Duration
	retentionInterval time.Duration
}

func addRecordingFlags(fs *flag.FlagSet, f *recordingFlags) {
	fs.StringVar(&f.s3.URL, "recordings-s3-url", "", "store call recordings in S3-compatible object storage: http(s)://host[:port]/bucket[/prefix]; empty = the data directory (DATA/blobs)")
	fs.StringVar(&f.s3.AccessKey, "recordings-s3-access-key", "", "S3 access key (with --recordings-s3-url)")
	fs.StringVar(&f.s3.SecretKey, "recordings-s3-secret-key", "", "S3 secret key (with --recordings-s3-url)")
	fs.StringVar(&f.s3.Region, "recordings-s3-region", "", "S3 region (with --recordings-s3-url); empty = us-east-1")
	fs.DurationVar(&f.linkTTL, "recording-link-ttl", recording.DefaultLinkTTL, "how long the signed recording link of recording.available works")
	fs.DurationVar(&f.retentionInterval, "recording-retention-interval", recording.DefaultRetentionInterval, "how often recordings past their account's retention are deleted")
}

// wireRecording builds the recording service: audio in the data directory's blob store
// (written in place while the call runs) or S3 (spooled under DATA/recordings-spool and
// uploaded at the end); links signed with a key derived from the server key; the
// recordings' usage on /metrics. Recordings a dead process left half written are repaired
// here, before any call can start one.
func wireRecording(ctx context.Context, f recordingFlags, dataDir string, dirBlobs *blob.Dir, key []byte, db *store.DB,
	registry *prometheus.Registry, logger *slog.Logger) (*recording.Service, switchboard.BlobStore, error) {
	var blobs switchboard.BlobStore = dirBlobs
	if f.s3.URL != "" {
		s3, err := blob.NewS3(f.s3)
		if err != nil {
			return nil, nil, fmt.Errorf("--recordings-s3-url: %w", err)
		}
		if err := s3.Check(ctx); err != nil {
			return nil, nil, fmt.Errorf("--recordings-s3-url: %w", err)
		}
		blobs = s3
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("switchboard recording links"))
	svc := &recording.Service{Store: db, Calls: db, Blobs: blobs, SpoolDir: filepath.Join(dataDir, "recordings-spool"),
		Links: &recording.Links{Key: mac.Sum(nil), TTL: f.linkTTL}, Logger: logger}
	if err := svc.RegisterMetrics(registry); err != nil {
		return nil, nil, err
	}
	if err := svc.Repair(ctx); err != nil {
		logger.Warn("recording repair", "err", err)
	}
	return svc, blobs, nil
}
