package blob

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"switchboard"
)

func TestDirRoundTripRangeAndDelete(t *testing.T) {
	ctx := context.Background()
	d, err := NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	key := switchboard.AccountBlobKey(7, "voicemail", "12", "34.wav")
	if key != "accounts/7/voicemail/12/34.wav" {
		t.Fatalf("key %q", key)
	}
	n, err := d.Put(ctx, key, strings.NewReader("hello world"))
	if err != nil || n != 11 {
		t.Fatalf("Put: %d %v", n, err)
	}
	f, info, err := d.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != 11 || info.Key != key || info.ModTime.IsZero() {
		t.Fatalf("info %+v", info)
	}
	if _, err := f.Seek(6, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(f)
	f.Close()
	if string(rest) != "world" {
		t.Fatalf("after seek: %q", rest)
	}
	// Replacing gives the new object whole.
	if _, err := d.Put(ctx, key, strings.NewReader("bye")); err != nil {
		t.Fatal(err)
	}
	if st, err := d.Stat(ctx, key); err != nil || st.Size != 3 {
		t.Fatalf("Stat %+v %v", st, err)
	}
	if err := d.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Stat(ctx, key); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Fatalf("Stat after delete: %v", err)
	}
	if _, _, err := d.Open(ctx, key); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Fatalf("Open after delete: %v", err)
	}
	if err := d.Delete(ctx, key); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	// A directory is not an object.
	if _, err := d.Stat(ctx, "accounts/7"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Fatalf("Stat of a directory: %v", err)
	}
}

// Keys that could leave the root, or name a temporary file, are refused by every method,
// and nothing is written outside the root.
func TestDirRefusesEscapingKeys(t *testing.T) {
	ctx := context.Background()
	parent := t.TempDir()
	d, err := NewDir(filepath.Join(parent, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"", "../x", "a/../../x", "/etc/passwd", "a//b", "a/./b", ".", "..", "a/.tmp-1",
		"a\\..\\b", "a/b\x00", "accounts/1/ä", strings.Repeat("a/", 300) + "b"} {
		if _, err := d.Put(ctx, key, strings.NewReader("x")); switchboard.ErrorCode(err) != switchboard.EBADREQUEST {
			t.Errorf("Put(%q): %v", key, err)
		}
		if _, _, err := d.Open(ctx, key); switchboard.ErrorCode(err) != switchboard.EBADREQUEST {
			t.Errorf("Open(%q): %v", key, err)
		}
		if _, err := d.Stat(ctx, key); switchboard.ErrorCode(err) != switchboard.EBADREQUEST {
			t.Errorf("Stat(%q): %v", key, err)
		}
		if err := d.Delete(ctx, key); switchboard.ErrorCode(err) != switchboard.EBADREQUEST {
			t.Errorf("Delete(%q): %v", key, err)
		}
	}
	entries, _ := os.ReadDir(parent)
	if len(entries) != 1 {
		t.Fatalf("the parent holds %d entries, want only blobs/", len(entries))
	}
}

type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("disk on fire")
	}
	f.n--
	p[0] = 'x'
	return 1, nil
}

// A Put that fails part way leaves the old object and no temporary file.
func TestDirFailedPutKeepsOldObject(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	d, _ := NewDir(root)
	key := "system/prompts/en/goodbye.wav"
	if _, err := d.Put(ctx, key, strings.NewReader("old")); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Put(ctx, key, &failingReader{n: 5}); err == nil {
		t.Fatal("a failing reader stored something")
	}
	f, _, err := d.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if !bytes.Equal(b, []byte("old")) {
		t.Fatalf("after a failed Put: %q", b)
	}
	entries, _ := os.ReadDir(filepath.Join(root, "system", "prompts", "en"))
	if len(entries) != 1 {
		t.Fatalf("left %d files: %v", len(entries), entries)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := d.Put(cctx, key, strings.NewReader("new")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with an ended context: %v", err)
	}
}
