// Package blob stores binary objects (prompt audio, voicemail messages) for
// switchboard.BlobStore. Dir keeps them as files under a local directory; an S3-compatible
// store can be added beside it.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"switchboard"
)

// Dir is a BlobStore on a local directory: the object with key "a/b/c.wav" is the file
// root/a/b/c.wav. Writes go to a temporary file in the same directory, synced, then renamed
// over the key's file: readers see the old object or the new, never part of one, and a
// crash leaves at worst a temporary file (named ".tmp-*", which no key can name).
type Dir struct {
	root string
}

var _ switchboard.BlobStore = (*Dir)(nil)

// NewDir returns the store rooted at dir, creating the directory (0700) if needed.
func NewDir(dir string) (*Dir, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("blob: cannot create %s: %w", dir, err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	return &Dir{root: abs}, nil
}

// path is the file of key; keys that are not valid are refused here, so no method can
// reach outside the root (ValidBlobKey allows no "..", no absolute path, no empty segment).
func (d *Dir) path(key string) (string, error) {
	if !switchboard.ValidBlobKey(key) {
		return "", switchboard.Errorf(switchboard.EBADREQUEST, "Invalid storage key %q", key)
	}
	return filepath.Join(d.root, filepath.FromSlash(key)), nil
}

// Put writes r to a temporary file beside the key's, then renames it into place.
func (d *Dir) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	p, err := d.path(key)
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return 0, internal("Put", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return 0, internal("Put", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	n, err := io.Copy(tmp, ctxReader{ctx, r})
	if err != nil {
		var known *switchboard.Error
		if errors.As(err, &known) {
			return 0, err
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, internal("Put", err)
	}
	if err := tmp.Sync(); err != nil {
		return 0, internal("Put", err)
	}
	if err := tmp.Close(); err != nil {
		return 0, internal("Put", err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		os.Remove(tmp.Name())
		return 0, internal("Put", err)
	}
	done = true
	return n, nil
}

// Open opens the key's file.
func (d *Dir) Open(ctx context.Context, key string) (io.ReadSeekCloser, switchboard.BlobInfo, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, switchboard.BlobInfo{}, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, switchboard.BlobInfo{}, notFoundOr(key, "Open", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, switchboard.BlobInfo{}, internal("Open", err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, switchboard.BlobInfo{}, notFound(key)
	}
	return f, switchboard.BlobInfo{Key: key, Size: st.Size(), ModTime: st.ModTime()}, nil
}

// Stat returns the key's file's size and modification time.
func (d *Dir) Stat(ctx context.Context, key string) (switchboard.BlobInfo, error) {
	p, err := d.path(key)
	if err != nil {
		return switchboard.BlobInfo{}, err
	}
	st, err := os.Stat(p)
	if err != nil {
		return switchboard.BlobInfo{}, notFoundOr(key, "Stat", err)
	}
	if !st.Mode().IsRegular() {
		return switchboard.BlobInfo{}, notFound(key)
	}
	return switchboard.BlobInfo{Key: key, Size: st.Size(), ModTime: st.ModTime()}, nil
}

// Delete removes the key's file; a missing one is not an error.
func (d *Dir) Delete(ctx context.Context, key string) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return internal("Delete", err)
	}
	return nil
}

func notFound(key string) error {
	return switchboard.Errorf(switchboard.ENOTFOUND, "No stored object %q", key)
}

func notFoundOr(key, op string, err error) error {
	// ENOTDIR: a segment of the key is a file (the key "a/b" when "a" is an object).
	if errors.Is(err, fs.ErrNotExist) || strings.Contains(err.Error(), "not a directory") {
		return notFound(key)
	}
	return internal(op, err)
}

func internal(op string, err error) error {
	return switchboard.Errorf(switchboard.EINTERNAL, "blob %s: %v", op, err)
}

// ctxReader stops a long copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
