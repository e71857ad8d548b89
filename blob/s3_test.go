package blob

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/minio/minio-go/v7"

	"switchboard"
)

// fakeS3 runs an S3 server (gofakes3) in process over real HTTPS on loopback, with the
// bucket made, and returns a store on it under the prefix. HTTPS, as in production: over
// plain http minio-go signs uploads with aws-chunked streaming, which gofakes3 does not
// decode (real S3 and MinIO do).
func fakeS3(t *testing.T, bucket, prefix string) *S3 {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	u := srv.URL + "/" + bucket
	if prefix != "" {
		u += "/" + prefix
	}
	s, err := NewS3(S3Config{URL: u, AccessKey: "test", SecretKey: "test-secret", Region: "us-east-1",
		Transport: srv.Client().Transport})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// The S3 store keeps what Put gave, serves ranges through Seek (what http.ServeContent
// does), reports missing keys as NOT_FOUND, refuses keys that could escape, and deletes.
func TestS3RoundTripRangeAndDelete(t *testing.T) {
	ctx := context.Background()
	s := fakeS3(t, "pbx", "switchboard")
	key := switchboard.AccountBlobKey(7, "recordings", "2026-03-02", "rec_1.wav")
	body := bytes.Repeat([]byte("0123456789"), 100000) // 1 MB: several reads
	n, err := s.Put(ctx, key, bytes.NewReader(body))
	if err != nil || n != int64(len(body)) {
		t.Fatalf("Put: %d %v", n, err)
	}
	info, err := s.Stat(ctx, key)
	if err != nil || info.Size != int64(len(body)) || info.ModTime.IsZero() {
		t.Fatalf("Stat: %+v %v", info, err)
	}
	f, info, err := s.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	// A Range request served from the object.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/x", nil)
	req.Header.Set("Range", "bytes=500000-500009")
	http.ServeContent(rec, req, "x.wav", info.ModTime, f)
	f.Close()
	if rec.Code != http.StatusPartialContent || rec.Body.String() != "0123456789" {
		t.Fatalf("range: %d %q", rec.Code, rec.Body.String())
	}
	f, _, err = s.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	all, _ := io.ReadAll(f)
	f.Close()
	if !bytes.Equal(all, body) {
		t.Fatalf("read back %d bytes, differ", len(all))
	}
	// The object is under the prefix in the bucket.
	if _, err := s.client.StatObject(ctx, "pbx", "switchboard/"+key, minioStatOpts()); err != nil {
		t.Fatalf("object not under the prefix: %v", err)
	}

	_, err = s.Stat(ctx, "accounts/7/none.wav")
	if switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Fatalf("missing Stat: %v", err)
	}
	if _, _, err := s.Open(ctx, "accounts/7/none.wav"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Fatalf("missing Open: %v", err)
	}
	for _, bad := range []string{"../x", "/abs", "a//b", ""} {
		if _, err := s.Put(ctx, bad, strings.NewReader("x")); switchboard.ErrorCode(err) != switchboard.EBADREQUEST {
			t.Errorf("Put(%q): %v, want BAD_REQUEST", bad, err)
		}
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(ctx, key); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Fatalf("after Delete: %v", err)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
}

func TestS3ConfigErrors(t *testing.T) {
	for _, u := range []string{"ftp://h/b", "http://h", "http://h/", "http://user:pw@h/b", "http://h/b/../x"} {
		if _, err := NewS3(S3Config{URL: u}); err == nil {
			t.Errorf("NewS3(%q) accepted", u)
		}
	}
	// A bucket that does not exist is found at Check.
	s := fakeS3(t, "pbx", "")
	other, err := NewS3(S3Config{URL: s.client.EndpointURL().String() + "/missing", AccessKey: "a", SecretKey: "b",
		Transport: s.transport})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("Check of a missing bucket: %v", err)
	}
}

func minioStatOpts() minio.StatObjectOptions { return minio.StatObjectOptions{} }
