// Package recording stores call recordings: the rows (store), the audio (a BlobStore: the
// data directory, written in place while the call runs, or S3 through a local spool), the
// recording.available / recording.failed events, the repair of recordings a dead process
// left half written, signed download links and the retention worker. Whether a call is
// recorded is decided by the call engine (pbx), not here.
package recording

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"switchboard"
	"switchboard/media"
)

// Service is the recordings' service layer. Set the fields before use; Store and Blobs
// are required, SpoolDir when Blobs is not a local directory.
type Service struct {
	Store switchboard.RecordingStore
	// Calls, when set, fills the call's parties (from, to, number, extension) into
	// recording.available.
	Calls interface {
		GetCallRecord(ctx context.Context, accountID int64, uniqueID string) (*switchboard.CallRecord, error)
	}
	Blobs switchboard.BlobStore
	// SpoolDir holds recordings being written when Blobs is not a local directory (S3):
	// they are uploaded at Commit (or by Repair after a crash).
	SpoolDir string
	// Links signs the recording_url of the events; nil = no url.
	Links *Links
	// OnAvailable, if set, runs inside Finish's transaction (the transcription job).
	OnAvailable func(ctx context.Context, tx switchboard.StoreTx, r *switchboard.Recording) error
	Logger      *slog.Logger
	Now         func() time.Time

	mu     sync.Mutex
	active map[string]*switchboard.Recording // Begin'd in this process, not yet ended
}

// localRoot is implemented by blob.Dir: its objects are files under Root.
type localRoot interface{ Root() string }

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// inPlace reports whether the recordings are written straight into the blob store's files.
func (s *Service) inPlace() (string, bool) {
	if d, ok := s.Blobs.(localRoot); ok {
		return d.Root(), true
	}
	return "", false
}

// localPath is the file a recording is written into while the call runs.
func (s *Service) localPath(r *switchboard.Recording) (string, error) {
	if root, ok := s.inPlace(); ok {
		if !switchboard.ValidBlobKey(r.BlobKey) {
			return "", fmt.Errorf("recording: invalid blob key %q", r.BlobKey)
		}
		return filepath.Join(root, filepath.FromSlash(r.BlobKey)), nil
	}
	if s.SpoolDir == "" {
		return "", errors.New("recording: no spool directory for a remote recording store")
	}
	return filepath.Join(s.SpoolDir, r.ID+".wav"), nil
}

// Begin creates the recording's row (status recording) and returns the writer of its WAV.
// The caller sets AccountID, CallID, UserID, QueueID, Direction (and StartedAt, else now);
// Begin sets ID, Status and BlobKey.
func (s *Service) Begin(ctx context.Context, r *switchboard.Recording) (RecordingWriter, error) {
	if r.AccountID <= 0 || r.CallID == "" {
		return nil, switchboard.Errorf(switchboard.EBADREQUEST, "A recording needs an account and a call")
	}
	if r.StartedAt.IsZero() {
		r.StartedAt = s.now()
	}
	r.StartedAt = r.StartedAt.UTC().Truncate(time.Millisecond)
	r.ID = switchboard.NewRecordingID()
	r.Status = switchboard.RecordingActive
	r.BlobKey = switchboard.RecordingBlobKey(r.AccountID, r.StartedAt, r.ID)
	path, err := s.localPath(r)
	if err != nil {
		return nil, err
	}
	f, err := createFile(path)
	if err != nil {
		return nil, switchboard.Errorf(switchboard.EINTERNAL, "recording: cannot create %s: %v", r.ID, err)
	}
	if err := s.Store.CreateRecording(ctx, r); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	cp := *r
	s.mu.Lock()
	if s.active == nil {
		s.active = map[string]*switchboard.Recording{}
	}
	s.active[r.ID] = &cp
	s.mu.Unlock()
	return &fileWriter{svc: s, rec: &cp, path: path, f: f, bw: newBuffered(f)}, nil
}

// committed remembers the size Commit stored, for Finish.
func (s *Service) committed(id string, size int64) {
	s.mu.Lock()
	if r := s.active[id]; r != nil {
		r.Size = size
	}
	s.mu.Unlock()
}

// take removes a recording Begin'd here from the active ones.
func (s *Service) take(id string) (*switchboard.Recording, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.active[id]
	if r == nil {
		return nil, switchboard.Errorf(switchboard.ENOTFOUND, "No recording %s is being written", id)
	}
	delete(s.active, id)
	return r, nil
}

// upload stores a spooled recording in a remote blob store and removes the spool file;
// for the local directory the file is already the object.
func (s *Service) upload(ctx context.Context, r *switchboard.Recording, path string) error {
	if _, ok := s.inPlace(); ok {
		return nil
	}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var f *os.File
		if f, err = os.Open(path); err != nil {
			break
		}
		_, err = s.Blobs.Put(ctx, r.BlobKey, f)
		f.Close()
		if err == nil {
			os.Remove(path)
			return nil
		}
	}
	return fmt.Errorf("recording: storing %s: %w", r.ID, err)
}

// Finish marks the recording available with its duration and paused time (the size is
// what Commit stored) and stores recording.available — and whatever OnAvailable writes —
// in the same transaction.
func (s *Service) Finish(ctx context.Context, id string, durationMs, pausedMs int64) error {
	r, err := s.take(id)
	if err != nil {
		return err
	}
	if r.Size == 0 {
		info, err := s.Blobs.Stat(ctx, r.BlobKey)
		if err != nil {
			return s.fail(ctx, r, "the recording's audio was not stored: "+err.Error())
		}
		r.Size = info.Size
	}
	if durationMs <= 0 {
		durationMs = (r.Size - media.WAVHeaderSize) * 1000 / (8000 * 4)
	}
	return s.finish(ctx, r, r.Size, durationMs, pausedMs)
}

func (s *Service) finish(ctx context.Context, r *switchboard.Recording, size, durationMs, pausedMs int64) error {
	ended := s.now().Truncate(time.Millisecond)
	var call *switchboard.CallRecord
	if s.Calls != nil {
		call, _ = s.Calls.GetCallRecord(ctx, r.AccountID, r.CallID)
	}
	_, err := s.Store.EndRecording(ctx, r.AccountID, r.ID, func(row *switchboard.Recording) error {
		row.Status = switchboard.RecordingAvailable
		row.Size, row.DurationMs, row.PausedMs, row.EndedAt, row.Error = size, durationMs, pausedMs, ended, ""
		return nil
	}, func(ctx context.Context, tx switchboard.StoreTx, row *switchboard.Recording) ([]*switchboard.Event, error) {
		if s.OnAvailable != nil {
			if err := s.OnAvailable(ctx, tx, row); err != nil {
				return nil, err
			}
		}
		return []*switchboard.Event{s.AvailableEvent(row, call)}, nil
	})
	return err
}

// AvailableEvent builds recording.available for a stored recording (call, when known,
// gives the parties).
func (s *Service) AvailableEvent(r *switchboard.Recording, call *switchboard.CallRecord) *switchboard.Event {
	data := map[string]any{
		"recording_id": r.ID, "call_id": r.CallID, "direction": r.Direction,
		"duration": int((r.DurationMs + 500) / 1000), "size": r.Size,
		"started_at": r.StartedAt, "ended_at": r.EndedAt,
	}
	if r.UserID != 0 {
		data["user_id"] = r.UserID
	}
	if r.QueueID != 0 {
		data["queue_id"] = r.QueueID
	}
	if s.Links != nil {
		data["recording_url"] = s.Links.URL(r.AccountID, r.ID, s.now())
	}
	ev := switchboard.NewEvent(r.AccountID, switchboard.EventRecordingAvailable, data)
	ev.CallID = r.CallID
	if call != nil {
		ev.CRMID = call.CRMID
		data["from"], data["to"] = call.From, call.To
		if call.CallerName != "" {
			data["caller_name"] = call.CallerName
		}
		if call.Extension != "" {
			data["extension"] = call.Extension
		}
		if call.Direction == switchboard.CallInbound {
			data["number"] = call.To
		} else {
			data["number"] = call.From
		}
		if r.Direction == "" {
			data["direction"] = call.Direction
		}
	}
	return ev
}

// Fail marks the recording failed with the reason and stores recording.failed in the same
// transaction; the audio written so far is removed.
func (s *Service) Fail(ctx context.Context, id, reason string) error {
	r, err := s.take(id)
	if err != nil {
		return err
	}
	return s.fail(ctx, r, reason)
}

func (s *Service) fail(ctx context.Context, r *switchboard.Recording, reason string) error {
	if len(reason) > 500 {
		reason = reason[:500]
	}
	ended := s.now().Truncate(time.Millisecond)
	_, err := s.Store.EndRecording(ctx, r.AccountID, r.ID, func(row *switchboard.Recording) error {
		row.Status, row.Error, row.EndedAt, row.Size = switchboard.RecordingFailed, reason, ended, 0
		return nil
	}, func(ctx context.Context, tx switchboard.StoreTx, row *switchboard.Recording) ([]*switchboard.Event, error) {
		ev := switchboard.NewEvent(row.AccountID, switchboard.EventRecordingFailed,
			map[string]any{"recording_id": row.ID, "call_id": row.CallID, "reason": reason})
		ev.CallID = row.CallID
		return []*switchboard.Event{ev}, nil
	})
	if err != nil {
		return err
	}
	s.removeAudio(ctx, r)
	return nil
}

// removeAudio deletes a recording's object and any local file of it.
func (s *Service) removeAudio(ctx context.Context, r *switchboard.Recording) {
	if err := s.Blobs.Delete(ctx, r.BlobKey); err != nil {
		s.logger().Warn("recording: cannot delete audio", "recording", r.ID, "err", err)
	}
	if _, ok := s.inPlace(); !ok && s.SpoolDir != "" {
		os.Remove(filepath.Join(s.SpoolDir, r.ID+".wav"))
	}
}

// Repair finishes the recordings a dead process left "recording": each file's WAV sizes
// are written from its length (a trailing partial frame cut) and the recording is
// finished as available — uploaded first when the store is remote — or failed when it
// holds no audio. Run it at start, before any Begin.
func (s *Service) Repair(ctx context.Context) error {
	rows, err := s.Store.ActiveRecordings(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range rows {
		s.mu.Lock()
		_, mine := s.active[r.ID]
		s.mu.Unlock()
		if mine {
			continue
		}
		if err := s.repair(ctx, r); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *Service) repair(ctx context.Context, r *switchboard.Recording) error {
	path, err := s.localPath(r)
	if err != nil {
		return s.fail(ctx, r, err.Error())
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return s.fail(ctx, r, "the server stopped while recording and no audio was written")
		}
		return s.fail(ctx, r, "the server stopped while recording; the audio cannot be read: "+err.Error())
	}
	size, audio, err := fixWAV(f)
	dur := wavDurationMs(f, audio)
	f.Close()
	if err != nil {
		reason := "the server stopped while recording; the audio cannot be repaired: " + err.Error()
		if errors.Is(err, errNoAudio) {
			reason = "the server stopped while recording and no audio was written"
		}
		return s.fail(ctx, r, reason)
	}
	if err := s.upload(ctx, r, path); err != nil {
		return s.fail(ctx, r, err.Error())
	}
	s.logger().Info("recording: repaired after restart", "recording", r.ID, "size", size)
	// The paused time of a cut recording is not known any more; its silence is in the file.
	return s.finish(ctx, r, size, dur, 0)
}

// Delete removes a recording (not one still being written: CONFLICT) and its audio.
func (s *Service) Delete(ctx context.Context, accountID int64, id string) error {
	r, err := s.Store.DeleteRecording(ctx, accountID, id)
	if err != nil {
		return err
	}
	s.removeAudio(ctx, r)
	return nil
}

// isNotFound reports whether err is the store's NOT_FOUND.
func isNotFound(err error) bool {
	var e *switchboard.Error
	return errors.As(err, &e) && e.Code == switchboard.ENOTFOUND
}
