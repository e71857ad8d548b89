package switchboard

import (
	"context"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// BlobStore keeps binary objects (prompt audio, voicemail messages …) under string keys.
// blob.Dir implements it on a local directory; an S3-compatible store can implement it
// later without its users changing. Keys are slash-separated paths of safe segments (see
// ValidBlobKey); an account's objects live under AccountBlobKey's prefix, so deleting or
// listing an account's data is one prefix.
//
// Errors are *Error: ENOTFOUND for a key with no object, EBADREQUEST for an invalid key,
// EINTERNAL for a storage failure.
type BlobStore interface {
	// Put stores everything r gives under key, replacing any object there. The object
	// appears whole or not at all: a reader never sees part of it, and a failed Put
	// leaves the key as it was. It returns the object's size in bytes.
	Put(ctx context.Context, key string, r io.Reader) (size int64, err error)
	// Open returns the object for reading (and seeking: http.ServeContent serves ranges
	// from it) with its size and time. The caller closes it.
	Open(ctx context.Context, key string) (io.ReadSeekCloser, BlobInfo, error)
	// Stat returns the object's size and time without opening it.
	Stat(ctx context.Context, key string) (BlobInfo, error)
	// Delete removes the object; deleting a key with no object is not an error.
	Delete(ctx context.Context, key string) error
}

// BlobInfo describes a stored object.
type BlobInfo struct {
	Key     string
	Size    int64
	ModTime time.Time
}

// MaxBlobKeyLength bounds a key (S3 allows 1024 bytes; a path on disk is shorter).
const MaxBlobKeyLength = 400

// blobSegment is one path segment of a key: no "." or ".." (those are refused apart), no
// slash, no NUL, nothing a shell or a file system could read otherwise.
var blobSegment = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)

// ValidBlobKey reports whether key can name an object: 1 to MaxBlobKeyLength bytes of
// slash-separated segments, each letters, digits, '.', '-' or '_', starting with a letter,
// digit or '_'. So no absolute path, no empty segment, no "." or "..": a key can never
// leave the store's root.
func ValidBlobKey(key string) bool {
	if key == "" || len(key) > MaxBlobKeyLength {
		return false
	}
	for _, seg := range strings.Split(key, "/") {
		if !blobSegment.MatchString(seg) {
			return false
		}
	}
	return true
}

// AccountBlobKey is the key of an account's object: "accounts/<id>/" followed by the
// parts joined by slashes, e.g. AccountBlobKey(7, "voicemail", "12", "34.wav") =
// "accounts/7/voicemail/12/34.wav". Every object of an account lives under
// AccountBlobPrefix(id).
func AccountBlobKey(accountID int64, parts ...string) string {
	return AccountBlobPrefix(accountID) + strings.Join(parts, "/")
}

// AccountBlobPrefix is the prefix of every key of the account's objects.
func AccountBlobPrefix(accountID int64) string {
	return "accounts/" + strconv.FormatInt(accountID, 10) + "/"
}
