package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// File is a Backend on a local folder: key "api/v1/config.json" is the file
// DIR/api/v1/config.json. Writes go to a temporary file that is renamed over
// the target, so a reader sees the old or the new document, never half.
type File struct {
	dir string
	mu  sync.Mutex // serialises conditional writes inside this process

	// seen remembers, per file, the ETag of the content last read and the
	// file's identity then, so a conditional read of an unchanged file is
	// one stat, not a read and a hash.
	seenMu sync.Mutex
	seen   map[string]fileStamp
}

type fileStamp struct {
	etag  string
	size  int64
	mtime time.Time
	info  os.FileInfo
}

// NewFile returns a folder backend rooted at dir (created on first write).
func NewFile(dir string) *File { return &File{dir: filepath.Clean(dir)} }

func (f *File) String() string { return "file:" + f.dir }

// Secure makes the folder under prefix private to this user — 0700 for
// folders, 0600 for files — as a store written by an older version (0755,
// 0644) was not: it holds every token, secret and password. The root
// folder itself is left alone (it may be any folder of the user's).
func (f *File) Secure(prefix string) error {
	top := filepath.Join(f.dir, filepath.FromSlash(strings.Trim(prefix, "/")))
	var first error
	err := filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		mode := fs.FileMode(0o600)
		if d.IsDir() {
			mode = 0o700
		} else if !d.Type().IsRegular() {
			return nil
		}
		if info, err := d.Info(); err == nil && info.Mode().Perm() != mode {
			if err := os.Chmod(p, mode); err != nil && first == nil {
				first = err
			}
		}
		return nil
	})
	if err != nil && first == nil {
		first = err
	}
	return first
}

// Dir is the root folder.
func (f *File) Dir() string { return f.dir }

func (f *File) path(key string) (string, error) {
	if key == "" || strings.Contains(key, "\\") || strings.HasPrefix(key, "/") {
		return "", fmt.Errorf("invalid key %q", key)
	}
	for _, part := range strings.Split(key, "/") {
		if part == ".." || part == "." {
			return "", fmt.Errorf("invalid key %q", key)
		}
	}
	return filepath.Join(f.dir, filepath.FromSlash(key)), nil
}

func etagOf(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

func (f *File) Get(ctx context.Context, key, ifNoneMatch string) (Object, error) {
	p, err := f.path(key)
	if err != nil {
		return Object{}, err
	}
	if ifNoneMatch != "" {
		f.seenMu.Lock()
		st, ok := f.seen[p]
		f.seenMu.Unlock()
		if ok && st.etag == ifNoneMatch {
			if info, err := os.Stat(p); err == nil && info.Size() == st.size &&
				info.ModTime().Equal(st.mtime) && os.SameFile(info, st.info) {
				return Object{ETag: st.etag}, ErrNotModified
			}
		}
	}
	fh, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return Object{}, fmt.Errorf("read %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return Object{}, fmt.Errorf("read %s: %w", key, err)
	}
	defer fh.Close()
	info, err := fh.Stat()
	if err != nil {
		return Object{}, fmt.Errorf("read %s: %w", key, err)
	}
	b, err := io.ReadAll(fh)
	if err != nil {
		return Object{}, fmt.Errorf("read %s: %w", key, err)
	}
	tag := etagOf(b)
	if int64(len(b)) == info.Size() {
		f.seenMu.Lock()
		if f.seen == nil {
			f.seen = map[string]fileStamp{}
		}
		if len(f.seen) > 64 {
			clear(f.seen)
		}
		f.seen[p] = fileStamp{etag: tag, size: info.Size(), mtime: info.ModTime(), info: info}
		f.seenMu.Unlock()
	}
	if ifNoneMatch != "" && ifNoneMatch == tag {
		return Object{ETag: tag}, ErrNotModified
	}
	return Object{Data: b, ETag: tag}, nil
}

func (f *File) Put(ctx context.Context, key string, data []byte, ifMatch *string) (string, error) {
	p, err := f.path(key)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return "", fmt.Errorf("write %s: %w", key, err)
	}
	if ifMatch != nil {
		f.mu.Lock()
		defer f.mu.Unlock()
		unlock, err := lockFile(ctx, p+".lock")
		if err != nil {
			return "", fmt.Errorf("write %s: %w", key, err)
		}
		defer unlock()
		cur, err := os.ReadFile(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if *ifMatch != "" {
				return "", fmt.Errorf("write %s: %w (it was deleted)", key, ErrConflict)
			}
		case err != nil:
			return "", fmt.Errorf("write %s: %w", key, err)
		case *ifMatch == "" || etagOf(cur) != *ifMatch:
			return "", fmt.Errorf("write %s: %w", key, ErrConflict)
		}
	}
	if err := WriteFileAtomic(p, data, 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", key, err)
	}
	return etagOf(data), nil
}

// WriteFileAtomic writes data to a temporary file in the same folder, syncs
// it and renames it over p, so a reader sees the old or the new content.
func WriteFileAtomic(p string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), perm); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), p)
}

// lockFile takes a lock shared with other processes through an exclusive
// create; a lock older than 30 s is taken to be left by a crashed writer.
func lockFile(ctx context.Context, p string) (func(), error) {
	for {
		fh, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			fh.Close()
			return func() { os.Remove(p) }, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		if st, err := os.Stat(p); err == nil && time.Since(st.ModTime()) > 30*time.Second {
			os.Remove(p)
			continue
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for lock: %w", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (f *File) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	root := f.dir
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".") || strings.HasSuffix(d.Name(), ".lock") {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if strings.HasPrefix(key, prefix) {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	sort.Strings(keys)
	return keys, nil
}

func (f *File) Delete(ctx context.Context, key string) error {
	p, err := f.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}
