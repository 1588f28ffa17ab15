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

	"github.com/sentry-white/sentry-white/internal/config"
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

func doc(name string) *config.Document {
	d := config.Empty()
	d.Owners = []config.Owner{{ID: 1, Name: name, Mobile: "13800138000"}}
	return d
}

func TestDocsHistoryAndRestore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := NewDocs(NewFile(dir), "api/")
	clock := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { clock = clock.Add(time.Second); return clock }
	if d, tag, err := s.LoadOrEmpty(ctx); err != nil || tag != "" || len(d.Projects) != 0 {
		t.Fatalf("LoadOrEmpty = %v %q %v", d, tag, err)
	}
	tag := ""
	for i := 0; i < 25; i++ {
		var err error
		if tag, err = s.Save(ctx, doc(fmt.Sprintf("v%02d", i)), tag); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Save(ctx, doc("stale"), ""); !errors.Is(err, ErrConflict) {
		t.Errorf("stale save: %v", err)
	}
	bad := doc("x")
	bad.Owners[0].Mobile = "123"
	if _, err := s.Save(ctx, bad, tag); err == nil || !strings.Contains(err.Error(), "owners[0].mobile") {
		t.Errorf("invalid save: %v", err)
	}
	vs, err := s.History(ctx)
	if err != nil || len(vs) != HistoryKeep {
		t.Fatalf("history = %d %v, want %d", len(vs), err, HistoryKeep)
	}
	old, _ := s.ReadVersion(ctx, vs[len(vs)-1].ID)
	if !strings.Contains(string(old), "v04") {
		t.Errorf("oldest kept = %s, want v04", old)
	}
	if _, err := s.Restore(ctx, vs[0].ID, tag); err != nil {
		t.Fatal(err)
	}
	d, _, _ := s.Load(ctx)
	if d.Owners[0].Name != "v23" {
		t.Errorf("restored %s, want v23", d.Owners[0].Name)
	}
	if _, err := s.ReadVersion(ctx, "../config"); err == nil {
		t.Error("a version id outside the history was read")
	}
	// A broken document on disk is reported naming the field.
	os.WriteFile(filepath.Join(dir, "api", "v1", "config.json"), []byte(`{"owners":[{"id":1}]}`), 0o644)
	if _, _, err := s.Load(ctx); err == nil || !strings.Contains(err.Error(), "owners[0].mobile") {
		t.Errorf("Load of an invalid document: %v", err)
	}
}

// slow is a backend whose reads hang until released.
type slow struct {
	Backend
	hang chan struct{}
	n    int
	mu   sync.Mutex
}

func (s *slow) Get(ctx context.Context, key, inm string) (Object, error) {
	s.mu.Lock()
	s.n++
	s.mu.Unlock()
	select {
	case <-s.hang:
	case <-ctx.Done():
		return Object{}, ctx.Err()
	}
	return s.Backend.Get(ctx, key, inm)
}

func TestCacheWindowAndFaults(t *testing.T) {
	ctx := context.Background()
	f := NewFile(t.TempDir())
	docs := NewDocs(f, "api/")
	tag, _ := docs.Save(ctx, doc("first"), "")
	sl := &slow{Backend: f, hang: make(chan struct{})}
	close(sl.hang) // not hanging yet
	now := time.Now()
	c := NewCache(sl, ConfigKey("api/"), 10*time.Second)
	c.Now = func() time.Time { return now }
	c.StaleReadTimeout = 50 * time.Millisecond
	for i := 0; i < 100; i++ {
		if x, err := c.Get(ctx); err != nil || x.Doc.Owners[0].Name != "first" {
			t.Fatal(x, err)
		}
	}
	if sl.n != 1 {
		t.Fatalf("%d reads inside the window, want 1 (the cold start)", sl.n)
	}
	docs.Save(ctx, doc("second"), tag)
	now = now.Add(11 * time.Second)
	if x, _ := c.Get(ctx); x.Doc.Owners[0].Name != "second" || sl.n != 2 {
		t.Fatalf("after the window: %s, %d reads", x.Doc.Owners[0].Name, sl.n)
	}
	// The store hangs: the webhook still gets the cached document quickly,
	// and the fault is reported.
	sl.hang = make(chan struct{})
	now = now.Add(11 * time.Second)
	x, err := c.Get(ctx)
	if err != nil || x.Doc.Owners[0].Name != "second" {
		t.Fatalf("hung store: %v %v", x, err)
	}
	if st := c.Status(); st.Err == nil || !st.Loaded || st.Projects != 0 {
		t.Errorf("status = %+v, want a fault with the document still loaded", st)
	}
	close(sl.hang)
	// An invalid document: the last good one stays, the fault is named.
	os.WriteFile(filepath.Join(f.Dir(), "api", "v1", "config.json"), []byte(`{"schema":9}`), 0o644)
	now = now.Add(11 * time.Second)
	if x, _ := c.Get(ctx); x.Doc.Owners[0].Name != "second" {
		t.Fatal("lost the last good document")
	}
	if err := c.Refresh(ctx); err == nil || !strings.Contains(err.Error(), "schema") {
		t.Errorf("Refresh = %v, want the schema fault (also when unchanged)", err)
	}
	// Cold start without a document.
	empty := NewCache(NewFile(t.TempDir()), ConfigKey("api/"), 0)
	if _, err := empty.Get(ctx); !errors.Is(err, ErrNotFound) {
		t.Errorf("cold start without a document: %v", err)
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
