package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"switchboard"
)

// S3 is a BlobStore on an S3-compatible object store (AWS S3, MinIO, Ceph, R2, …), through
// minio-go. The object of key k is Prefix+k in Bucket. A PUT is atomic in S3: a reader sees
// the old object or the new, as with Dir.
type S3 struct {
	client *minio.Client
	bucket string
	prefix string
	// transport: S3Config.Transport (kept for tests that open a second store).
	transport http.RoundTripper
}

var _ switchboard.BlobStore = (*S3)(nil)

// S3Config names the store: URL is the endpoint with the bucket as its first path segment
// and an optional key prefix after it, e.g. https://s3.eu-west-1.amazonaws.com/acme-pbx/recordings
// or http://127.0.0.1:9000/pbx (http = no TLS). Path-style addressing is used, which every
// S3-compatible server accepts.
type S3Config struct {
	URL       string
	AccessKey string
	SecretKey string
	Region    string // "" = the server's default (us-east-1)
	// Transport, when set, carries the requests (a private CA's TLS settings); nil = the
	// default transport.
	Transport http.RoundTripper
}

// NewS3 returns the store cfg names. It does not contact the server: CheckS3 does.
func NewS3(cfg S3Config) (*S3, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("blob: S3 URL %q must be http(s)://host[:port]/bucket[/prefix]", cfg.URL)
	}
	if u.User != nil {
		return nil, errors.New("blob: put the S3 keys in their own settings, not in the URL")
	}
	bucket, prefix, _ := strings.Cut(strings.Trim(u.Path, "/"), "/")
	if bucket == "" {
		return nil, fmt.Errorf("blob: S3 URL %q names no bucket", cfg.URL)
	}
	if prefix != "" {
		if !switchboard.ValidBlobKey(prefix) {
			return nil, fmt.Errorf("blob: S3 key prefix %q must be slash-separated safe segments", prefix)
		}
		prefix += "/"
	}
	client, err := minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       u.Scheme == "https",
		Region:       cfg.Region,
		BucketLookup: minio.BucketLookupPath,
		Transport:    cfg.Transport,
	})
	if err != nil {
		return nil, fmt.Errorf("blob: S3 client: %w", err)
	}
	return &S3{client: client, bucket: bucket, prefix: prefix, transport: cfg.Transport}, nil
}

// Check verifies that the bucket exists and the keys reach it.
func (s *S3) Check(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("blob: S3 bucket %s: %w", s.bucket, err)
	}
	if !ok {
		return fmt.Errorf("blob: S3 bucket %s does not exist", s.bucket)
	}
	return nil
}

func (s *S3) object(key string) (string, error) {
	if !switchboard.ValidBlobKey(key) {
		return "", switchboard.Errorf(switchboard.EBADREQUEST, "Invalid storage key %q", key)
	}
	return s.prefix + key, nil
}

// Put uploads r (streamed in parts: the size need not be known).
func (s *S3) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	obj, err := s.object(key)
	if err != nil {
		return 0, err
	}
	info, err := s.client.PutObject(ctx, s.bucket, obj, r, -1, minio.PutObjectOptions{ContentType: contentType(key)})
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, internal("S3 Put", err)
	}
	return info.Size, nil
}

// Open returns the object for reading; its Seek and ReadAt fetch ranges, so
// http.ServeContent serves a Range without downloading the whole object.
func (s *S3) Open(ctx context.Context, key string) (io.ReadSeekCloser, switchboard.BlobInfo, error) {
	info, err := s.Stat(ctx, key)
	if err != nil {
		return nil, switchboard.BlobInfo{}, err
	}
	o, err := s.client.GetObject(ctx, s.bucket, s.prefix+key, minio.GetObjectOptions{})
	if err != nil {
		return nil, switchboard.BlobInfo{}, s3Error(key, "Open", err)
	}
	return o, info, nil
}

// Stat returns the object's size and time.
func (s *S3) Stat(ctx context.Context, key string) (switchboard.BlobInfo, error) {
	obj, err := s.object(key)
	if err != nil {
		return switchboard.BlobInfo{}, err
	}
	st, err := s.client.StatObject(ctx, s.bucket, obj, minio.StatObjectOptions{})
	if err != nil {
		return switchboard.BlobInfo{}, s3Error(key, "Stat", err)
	}
	return switchboard.BlobInfo{Key: key, Size: st.Size, ModTime: st.LastModified}, nil
}

// Delete removes the object; a missing one is not an error (nor in S3).
func (s *S3) Delete(ctx context.Context, key string) error {
	obj, err := s.object(key)
	if err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.bucket, obj, minio.RemoveObjectOptions{}); err != nil {
		if isS3NotFound(err) {
			return nil
		}
		return internal("S3 Delete", err)
	}
	return nil
}

func isS3NotFound(err error) bool {
	code := minio.ToErrorResponse(err).Code
	return code == "NoSuchKey" || code == "NotFound" || minio.ToErrorResponse(err).StatusCode == 404
}

func s3Error(key, op string, err error) error {
	if isS3NotFound(err) {
		return notFound(key)
	}
	return internal("S3 "+op, err)
}

// contentType is the stored Content-Type of an object, by its key's extension.
func contentType(key string) string {
	switch {
	case strings.HasSuffix(key, ".wav"):
		return "audio/wav"
	case strings.HasSuffix(key, ".mp3"):
		return "audio/mpeg"
	}
	return "application/octet-stream"
}
