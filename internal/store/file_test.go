package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseLocation(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"", "file:./sentry-white-data", ""},
		{"file:/tmp/x", "file:/tmp/x", ""},
		{"/tmp/x", "file:/tmp/x", ""},
		{"file:///tmp/x", "file:/tmp/x", ""},
		{"oss://my-bucket", "oss://my-bucket/api/", ""},
		{"oss://my-bucket/team/a", "oss://my-bucket/team/a/", ""},
		{"oss://", "", "bucket name is missing"},
		{"oss://My_Bucket/api/", "", "lower-case"},
		{"s3://b/api/", "", "unknown scheme"},
		{"file:", "", "folder is missing"},
	} {
		loc, err := ParseLocation(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseLocation(%q) err = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || loc.String() != tc.want {
			t.Errorf("ParseLocation(%q) = %s, %v; want %s", tc.in, loc, err, tc.want)
		}
	}
}

func TestFileBackend(t *testing.T) {
	ctx := context.Background()
	f := NewFile(t.TempDir())
	if _, err := f.Get(ctx, "api/v1/config.json", ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	none := ""
	tag, err := f.Put(ctx, "api/v1/config.json", []byte("one"), &none)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Put(ctx, "api/v1/config.json", []byte("x"), &none); !errors.Is(err, ErrConflict) {
		t.Errorf("create over an existing object: %v", err)
	}
	obj, err := f.Get(ctx, "api/v1/config.json", "")
	if err != nil || string(obj.Data) != "one" || obj.ETag != tag {
		t.Fatalf("Get = %q %s %v", obj.Data, obj.ETag, err)
	}
	if _, err := f.Get(ctx, "api/v1/config.json", tag); !errors.Is(err, ErrNotModified) {
		t.Errorf("If-None-Match: %v", err)
	}
	stale := tag
	if _, err := f.Put(ctx, "api/v1/config.json", []byte("two"), &tag); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Put(ctx, "api/v1/config.json", []byte("three"), &stale); !errors.Is(err, ErrConflict) {
		t.Errorf("stale write: %v", err)
	}
	for _, bad := range []string{"../etc/passwd", "/abs", "a/../../b", `a\b`, ""} {
		if _, err := f.Get(ctx, bad, ""); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("key %q: %v", bad, err)
		}
	}
	keys, _ := f.List(ctx, "api/")
	if len(keys) != 1 || keys[0] != "api/v1/config.json" {
		t.Errorf("List = %v (temporary and lock files must not show)", keys)
	}
	if err := f.Delete(ctx, "api/v1/config.json"); err != nil {
		t.Fatal(err)
	}
	if err := f.Delete(ctx, "api/v1/config.json"); err != nil {
		t.Errorf("delete of a missing key: %v", err)
	}
}

// TestFileConcurrentWriters: of many writers that read the same version,
// exactly one wins and the others get ErrConflict; no write is torn.
func TestFileConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	f := NewFile(t.TempDir())
	tag, _ := f.Put(ctx, "k", []byte("base"), nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			read := tag
			_, err := f.Put(ctx, "k", []byte(fmt.Sprintf("writer %02d", i)), &read)
			if err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if !errors.Is(err, ErrConflict) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	obj, _ := f.Get(ctx, "k", "")
	if wins != 1 || !strings.HasPrefix(string(obj.Data), "writer ") || len(obj.Data) != len("writer 00") {
		t.Fatalf("wins = %d, data %q", wins, obj.Data)
	}
}

// TestFileConditionalReadSeesEdits: an unchanged file answers a conditional
// read from a stat; any edit, even of the same size, is read again.
func TestFileConditionalReadSeesEdits(t *testing.T) {
	ctx := context.Background()
	f := NewFile(t.TempDir())
	tag, _ := f.Put(ctx, "k", []byte("aaaa"), nil)
	if _, err := f.Get(ctx, "k", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Get(ctx, "k", tag); !errors.Is(err, ErrNotModified) {
		t.Fatalf("unchanged: %v", err)
	}
	p := filepath.Join(f.Dir(), "k")
	time.Sleep(5 * time.Millisecond) // let the clock move past the last write
	if err := os.WriteFile(p, []byte("bbbb"), 0o644); err != nil {
		t.Fatal(err)
	}
	obj, err := f.Get(ctx, "k", tag)
	if err != nil || string(obj.Data) != "bbbb" {
		t.Fatalf("after an in-place edit of the same size: %q %v", obj.Data, err)
	}
}

// TestFileStoreIsPrivate: the folder store holds every secret, so what it
// writes is 0600 in 0700 folders, and opening it fixes an older store's
// 0644 files and 0755 folders.
func TestFileStoreIsPrivate(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	f := NewFile(dir)
	if _, err := f.Put(ctx, "api/v1/config.json", []byte("{}"), nil); err != nil {
		t.Fatal(err)
	}
	if err := f.Append(ctx, "api/v1/deliveries/2026-12-01.jsonl", []byte("{}\n")); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		for _, p := range []string{"api", "api/v1", "api/v1/config.json", "api/v1/deliveries", "api/v1/deliveries/2026-12-01.jsonl"} {
			info, err := os.Stat(filepath.Join(dir, p))
			if err != nil {
				t.Fatal(err)
			}
			want := os.FileMode(0o600)
			if info.IsDir() {
				want = 0o700
			}
			if info.Mode().Perm() != want {
				t.Errorf("%s: %s is %v, want %v", when, p, info.Mode().Perm(), want)
			}
		}
	}
	check("written")
	for _, p := range []string{"api", "api/v1", "api/v1/deliveries"} {
		_ = os.Chmod(filepath.Join(dir, p), 0o755)
	}
	for _, p := range []string{"api/v1/config.json", "api/v1/deliveries/2026-12-01.jsonl"} {
		_ = os.Chmod(filepath.Join(dir, p), 0o644)
	}
	if _, err := Open(Location{Scheme: "file", Dir: dir, Prefix: "api/"}, nil); err != nil {
		t.Fatal(err)
	}
	check("opened")
}
