package recording

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"switchboard"
	"switchboard/blob"
	"switchboard/media"
	"switchboard/store"
	"switchboard/store/storetest"
)

// testWAVHeader is the recorder's header: 8 kHz 16-bit stereo, placeholder sizes.
func testWAVHeader() []byte {
	h := make([]byte, media.WAVHeaderSize)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], 0xFFFFFFFF)
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1)
	binary.LittleEndian.PutUint16(h[22:], 2)
	binary.LittleEndian.PutUint32(h[24:], 8000)
	binary.LittleEndian.PutUint32(h[28:], 32000)
	binary.LittleEndian.PutUint16(h[32:], 4)
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], 0xFFFFFFFF)
	return h
}

// stereo is n frames: left the value l, right r.
func stereo(n int, l, r int16) []byte {
	b := make([]byte, 4*n)
	for i := 0; i < n; i++ {
		binary.LittleEndian.PutUint16(b[4*i:], uint16(l))
		binary.LittleEndian.PutUint16(b[4*i+2:], uint16(r))
	}
	return b
}

type env struct {
	db   *store.DB
	svc  *Service
	acct *switchboard.Account
	ctx  context.Context
}

func newEnv(t *testing.T, blobs switchboard.BlobStore) *env {
	t.Helper()
	db := storetest.NewSQLite(t)
	ctx := context.Background()
	a := &switchboard.Account{Name: "A"}
	if err := db.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	svc := &Service{Store: db, Blobs: blobs, SpoolDir: filepath.Join(t.TempDir(), "spool"),
		Links: &Links{Key: []byte("k"), BaseURL: "https://pbx.example"}}
	return &env{db: db, svc: svc, acct: a, ctx: ctx}
}

func dirStore(t *testing.T) *blob.Dir {
	d, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func s3Store(t *testing.T) *blob.S3 {
	backend := s3mem.New()
	if err := backend.CreateBucket("recs"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	s, err := blob.NewS3(blob.S3Config{URL: srv.URL + "/recs", AccessKey: "a", SecretKey: "b", Transport: srv.Client().Transport})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (e *env) events(t *testing.T, name string) []*switchboard.Event {
	t.Helper()
	evs, err := e.db.ListEvents(e.ctx, e.acct.ID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []*switchboard.Event
	for _, ev := range evs {
		if ev.Name == name {
			out = append(out, ev)
		}
	}
	return out
}

func readBlob(t *testing.T, bs switchboard.BlobStore, key string) []byte {
	t.Helper()
	f, _, err := bs.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	return b
}

// A recording written frame by frame is stored whole with a correct WAV header, on the
// data directory (in place) and on S3 (spooled, uploaded at Commit, spool emptied); Finish
// marks it available and stores recording.available with a signed url in the same
// transaction as the row.
func TestRecordingWrittenAndFinished(t *testing.T) {
	for name, bs := range map[string]switchboard.BlobStore{"dir": dirStore(t), "s3": s3Store(t)} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, bs)
			var hooked *switchboard.Recording
			e.svc.OnAvailable = func(ctx context.Context, tx switchboard.StoreTx, r *switchboard.Recording) error {
				hooked = r
				return nil
			}
			rec := &switchboard.Recording{AccountID: e.acct.ID, CallID: "1700000000.1", UserID: 0, Direction: "inbound"}
			w, err := e.svc.Begin(e.ctx, rec)
			if err != nil {
				t.Fatal(err)
			}
			if !switchboard.ValidRecordingID(rec.ID) || rec.Status != switchboard.RecordingActive {
				t.Fatalf("begun: %+v", rec)
			}
			if _, err := w.Write(testWAVHeader()); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 100; i++ { // 2 s in 20 ms frames, left 1000, right -1000
				if _, err := w.Write(stereo(160, 1000, -1000)); err != nil {
					t.Fatal(err)
				}
			}
			size, err := w.Commit()
			if err != nil {
				t.Fatal(err)
			}
			if want := int64(media.WAVHeaderSize + 16000*4); size != want {
				t.Fatalf("size %d, want %d", size, want)
			}
			if _, err := w.Write([]byte{1}); err == nil {
				t.Fatal("write after commit accepted")
			}
			if err := e.svc.Finish(e.ctx, rec.ID, 2000, 0); err != nil {
				t.Fatal(err)
			}
			got, err := e.db.GetRecording(e.ctx, e.acct.ID, rec.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != switchboard.RecordingAvailable || got.Size != size || got.DurationMs != 2000 || got.EndedAt.IsZero() {
				t.Fatalf("row: %+v", got)
			}
			if hooked == nil || hooked.ID != rec.ID {
				t.Fatalf("OnAvailable not run with the recording: %+v", hooked)
			}
			wav := readBlob(t, bs, got.BlobKey)
			if int64(len(wav)) != size || binary.LittleEndian.Uint32(wav[40:]) != 64000 ||
				binary.LittleEndian.Uint32(wav[4:]) != 64000+36 {
				t.Fatalf("stored WAV: %d bytes, data size %d", len(wav), binary.LittleEndian.Uint32(wav[40:]))
			}
			if l, r := int16(binary.LittleEndian.Uint16(wav[44:])), int16(binary.LittleEndian.Uint16(wav[46:])); l != 1000 || r != -1000 {
				t.Fatalf("first frame %d/%d, want 1000/-1000 (left caller, right other party)", l, r)
			}
			evs := e.events(t, switchboard.EventRecordingAvailable)
			if len(evs) != 1 {
				t.Fatalf("%d recording.available", len(evs))
			}
			d := evs[0].Data
			url, _ := d["recording_url"].(string)
			if d["recording_id"] != rec.ID || evs[0].CallID != rec.CallID || d["duration"] != float64(2) ||
				!strings.HasPrefix(url, "https://pbx.example/v3/voice/") {
				t.Fatalf("event data %v", d)
			}
			if name == "s3" {
				if left, _ := os.ReadDir(e.svc.SpoolDir); len(left) != 0 {
					t.Fatalf("spool keeps %d files after upload", len(left))
				}
			}
			if err := e.svc.Finish(e.ctx, rec.ID, 1, 0); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
				t.Fatalf("second Finish: %v", err)
			}
		})
	}
}

// A failed recording stores recording.failed with the reason, keeps no audio, and is not
// available.
func TestRecordingFailed(t *testing.T) {
	bs := dirStore(t)
	e := newEnv(t, bs)
	rec := &switchboard.Recording{AccountID: e.acct.ID, CallID: "1700000000.2", Direction: "outbound"}
	w, err := e.svc.Begin(e.ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(testWAVHeader())
	w.Write(stereo(80, 1, 1))
	w.Abort()
	if err := e.svc.Fail(e.ctx, rec.ID, "disk full"); err != nil {
		t.Fatal(err)
	}
	got, _ := e.db.GetRecording(e.ctx, e.acct.ID, rec.ID)
	if got.Status != switchboard.RecordingFailed || got.Error != "disk full" {
		t.Fatalf("row %+v", got)
	}
	evs := e.events(t, switchboard.EventRecordingFailed)
	if len(evs) != 1 || evs[0].Data["reason"] != "disk full" || evs[0].Data["recording_id"] != rec.ID || evs[0].Data["call_id"] != rec.CallID {
		t.Fatalf("recording.failed: %v", evs)
	}
	if _, err := bs.Stat(e.ctx, rec.BlobKey); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Fatalf("audio of a failed recording kept: %v", err)
	}
	if len(e.events(t, switchboard.EventRecordingAvailable)) != 0 {
		t.Fatal("recording.available for a failed recording")
	}
}

// A recording the process was writing when it died — header with placeholder sizes, a last
// frame cut in half — is repaired at the next start: sizes written from the file, the half
// frame dropped, the recording available (uploaded, for S3) with its duration. One with no
// audio at all is failed with a reason.
func TestRepairAfterCrash(t *testing.T) {
	for name, bs := range map[string]switchboard.BlobStore{"dir": dirStore(t), "s3": s3Store(t)} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, bs)
			rec := &switchboard.Recording{AccountID: e.acct.ID, CallID: "1700000000.3", Direction: "inbound"}
			w, err := e.svc.Begin(e.ctx, rec)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(testWAVHeader())
			w.Write(stereo(8000, 500, -500)) // 1 s
			w.Write([]byte{1, 2})            // half a frame: the write the crash cut
			// The process dies: the buffer is flushed by the OS at best, never committed.
			fw := w.(*fileWriter)
			fw.bw.Flush()
			fw.f.Close()
			empty := &switchboard.Recording{AccountID: e.acct.ID, CallID: "1700000000.4", Direction: "inbound"}
			w2, err := e.svc.Begin(e.ctx, empty)
			if err != nil {
				t.Fatal(err)
			}
			w2.(*fileWriter).f.Close() // died before the header was flushed

			// The next start: a new service on the same store and storage.
			next := &Service{Store: e.db, Blobs: bs, SpoolDir: e.svc.SpoolDir}
			if err := next.Repair(e.ctx); err != nil {
				t.Fatal(err)
			}
			got, _ := e.db.GetRecording(e.ctx, e.acct.ID, rec.ID)
			if got.Status != switchboard.RecordingAvailable || got.Size != media.WAVHeaderSize+32000 || got.DurationMs != 1000 {
				t.Fatalf("repaired row %+v", got)
			}
			wav := readBlob(t, bs, got.BlobKey)
			if len(wav) != media.WAVHeaderSize+32000 || binary.LittleEndian.Uint32(wav[40:]) != 32000 || binary.LittleEndian.Uint32(wav[4:]) != 32036 {
				t.Fatalf("repaired WAV %d bytes, data size %d", len(wav), binary.LittleEndian.Uint32(wav[40:]))
			}
			if !bytes.Equal(wav[44:48], stereo(1, 500, -500)) {
				t.Fatalf("audio changed: % x", wav[44:48])
			}
			bad, _ := e.db.GetRecording(e.ctx, e.acct.ID, empty.ID)
			if bad.Status != switchboard.RecordingFailed || !strings.Contains(bad.Error, "no audio") {
				t.Fatalf("empty recording after repair: %+v", bad)
			}
			if n := len(e.events(t, switchboard.EventRecordingAvailable)); n != 1 {
				t.Fatalf("%d recording.available after repair", n)
			}
			if n := len(e.events(t, switchboard.EventRecordingFailed)); n != 1 {
				t.Fatalf("%d recording.failed after repair", n)
			}
			// Repair again finds nothing to do.
			if err := next.Repair(e.ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// The retention worker deletes the rows and audio of recordings older than the account's
// retention, and only those.
func TestRetentionExpires(t *testing.T) {
	bs := dirStore(t)
	e := newEnv(t, bs)
	clock := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	e.svc.Now = func() time.Time { return clock }
	make1 := func(callID string) *switchboard.Recording {
		r := &switchboard.Recording{AccountID: e.acct.ID, CallID: callID, Direction: "inbound"}
		w, err := e.svc.Begin(e.ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(testWAVHeader())
		w.Write(stereo(800, 1, 1))
		if _, err := w.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Finish(e.ctx, r.ID, 100, 0); err != nil {
			t.Fatal(err)
		}
		return r
	}
	old := make1("1.1")
	clock = clock.AddDate(0, 0, 20)
	young := make1("1.2")
	clock = clock.AddDate(0, 0, 20) // old ended 40 days ago, young 20

	if n, err := e.svc.Expire(e.ctx); err != nil || n != 0 {
		t.Fatalf("no retention set: expired %d, %v", n, err)
	}
	if _, err := e.db.UpdateAccountFunc(e.ctx, e.acct.ID, func(a *switchboard.Account) error { a.RecordingRetentionDays = 30; return nil }); err != nil {
		t.Fatal(err)
	}
	if n, err := e.svc.Expire(e.ctx); err != nil || n != 1 {
		t.Fatalf("expired %d, %v; want 1", n, err)
	}
	if _, err := e.db.GetRecording(e.ctx, e.acct.ID, old.ID); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Fatalf("old row: %v", err)
	}
	if _, err := bs.Stat(e.ctx, old.BlobKey); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Fatalf("old audio: %v", err)
	}
	if _, err := bs.Stat(e.ctx, young.BlobKey); err != nil {
		t.Fatalf("young audio deleted: %v", err)
	}
}

// A signed link opens only its own recording, until it expires.
func TestLinks(t *testing.T) {
	l := &Links{Key: []byte("secret"), BaseURL: "https://pbx.example/", TTL: time.Hour}
	now := time.Unix(1700000000, 0)
	u := l.URL(7, "rec_0123456789abcdef0123456789abcdef", now)
	q := u[strings.Index(u, "?")+1:]
	vals := map[string]string{}
	for _, kv := range strings.Split(q, "&") {
		k, v, _ := strings.Cut(kv, "=")
		vals[k] = v
	}
	if !strings.HasPrefix(u, "https://pbx.example/v3/voice/7/recordings/rec_0123456789abcdef0123456789abcdef/audio?") {
		t.Fatalf("url %s", u)
	}
	if !l.Check(7, "rec_0123456789abcdef0123456789abcdef", vals["expires"], vals["sig"], now) {
		t.Fatal("own link refused")
	}
	for name, ok := range map[string]bool{
		"other recording": l.Check(7, "rec_ffffffffffffffffffffffffffffffff", vals["expires"], vals["sig"], now),
		"other account":   l.Check(8, "rec_0123456789abcdef0123456789abcdef", vals["expires"], vals["sig"], now),
		"expired":         l.Check(7, "rec_0123456789abcdef0123456789abcdef", vals["expires"], vals["sig"], now.Add(2*time.Hour)),
		"later expiry":    l.Check(7, "rec_0123456789abcdef0123456789abcdef", "99999999999", vals["sig"], now),
		"other key":       (&Links{Key: []byte("other")}).Check(7, "rec_0123456789abcdef0123456789abcdef", vals["expires"], vals["sig"], now),
	} {
		if ok {
			t.Errorf("%s: accepted", name)
		}
	}
}

// /metrics reports the stored recordings' count and bytes (available ones only).
func TestUsageMetrics(t *testing.T) {
	e := newEnv(t, dirStore(t))
	reg := prometheus.NewRegistry()
	if err := e.svc.RegisterMetrics(reg); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		r := &switchboard.Recording{AccountID: e.acct.ID, CallID: "9.9", Direction: "inbound"}
		w, err := e.svc.Begin(e.ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(testWAVHeader())
		w.Write(stereo(8000, 1, 1))
		if _, err := w.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Finish(e.ctx, r.ID, 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	active := &switchboard.Recording{AccountID: e.acct.ID, CallID: "9.10", Direction: "inbound"}
	w, _ := e.svc.Begin(e.ctx, active)
	defer w.Abort()
	want := `
# HELP switchboard_recordings Number of stored call recordings (all accounts).
# TYPE switchboard_recordings gauge
switchboard_recordings 2
# HELP switchboard_recordings_bytes Bytes of stored call recordings (all accounts).
# TYPE switchboard_recordings_bytes gauge
switchboard_recordings_bytes 64088
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}
