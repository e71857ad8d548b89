package recording

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"switchboard"
)

// RecordingWriter takes a recording's WAV bytes as the call runs: the header (placeholder
// sizes) first, then 16-bit LE stereo frames. The bytes go to a local file at once (through
// a small buffer, so a call's memory stays bounded however long it lasts): for the data
// directory store that file IS the stored object, written in place; for another store
// (S3) it is a spool file uploaded at Commit. Commit writes the header's sizes and makes
// the object whole; Abort throws it away. After either, Write fails.
type RecordingWriter interface {
	Write(p []byte) (int, error)
	// Commit flushes, writes the WAV sizes from the file's length, stores the object (the
	// upload, for S3) and returns its size. The recording row stays "recording" until
	// Service.Finish (or Fail, when Commit failed).
	Commit() (size int64, err error)
	// Abort removes what was written. The row stays until Fail.
	Abort()
}

// writeBuffer bounds a call's memory: the audio is on disk past this.
const writeBuffer = 32 << 10

type fileWriter struct {
	svc  *Service
	rec  *switchboard.Recording
	path string
	f    *os.File
	bw   *bufio.Writer

	mu   sync.Mutex
	done bool
	err  error
}

var errClosed = errors.New("recording: writer already committed or aborted")

func (w *fileWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return 0, errClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.bw.Write(p)
	if err != nil {
		w.err = fmt.Errorf("recording: writing %s: %w", w.rec.ID, err)
		return n, w.err
	}
	return n, nil
}

func (w *fileWriter) Commit() (int64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return 0, errClosed
	}
	w.done = true
	if w.err != nil {
		w.f.Close()
		return 0, w.err
	}
	if err := w.bw.Flush(); err != nil {
		w.f.Close()
		return 0, fmt.Errorf("recording: writing %s: %w", w.rec.ID, err)
	}
	size, _, err := fixWAV(w.f)
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("recording: completing %s: %w", w.rec.ID, err)
	}
	if err := w.svc.upload(context.Background(), w.rec, w.path); err != nil {
		return 0, err
	}
	w.svc.committed(w.rec.ID, size)
	return size, nil
}

func (w *fileWriter) Abort() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return
	}
	w.done = true
	w.f.Close()
	os.Remove(w.path)
}

// createFile opens a new file for writing at path, making its directory.
func createFile(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
}

func newBuffered(f *os.File) *bufio.Writer { return bufio.NewWriterSize(f, writeBuffer) }
