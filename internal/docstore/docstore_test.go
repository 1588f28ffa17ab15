package docstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/sentry-white/sentry-white/internal/notifiers"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/store"
	"github.com/sentry-white/sentry-white/internal/store/osstest"
)

const testBucket = "sentry-white-test"

// Keys used by the tests; none may appear in an error.
var envCreds = store.Credentials{AccessKeyID: "LTAI5tEnvKeyId0001", AccessKeySecret: "envSecretValue0001xyz"}

// kinds are the robot kinds of the documents, the programs' own.
var kinds = notifiers.Default().Document()

func newOSSPair(t *testing.T) (*store.OSS, *osstest.Server) {
	t.Helper()
	srv := osstest.New(testBucket)
	t.Cleanup(srv.Close)
	o, err := store.NewOSS(store.OSSConfig{Endpoint: srv.URL, Region: "cn-hangzhou", Bucket: testBucket, Prefix: "api/", Credentials: envCreds})
	if err != nil {
		t.Fatal(err)
	}
	return o, srv
}

func exampleDoc(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../testdata/example-store/api/v1/config.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func seed(t *testing.T, srv *osstest.Server, key string, data []byte) {
	t.Helper()
	if err := srv.Seed(testBucket, key, data); err != nil {
		t.Fatal(err)
	}
}

// noKeys fails when text holds any of the keys.
func noKeys(t *testing.T, text string, cs ...store.Credentials) {
	t.Helper()
	for _, c := range cs {
		for _, k := range []string{c.AccessKeyID, c.AccessKeySecret, c.SecurityToken} {
			if k != "" && strings.Contains(text, k) {
				t.Errorf("error leaks a key: %s", text)
			}
		}
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
	s := NewDocs(store.NewFile(dir), "api/", kinds)
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
	if _, err := s.Save(ctx, doc("stale"), ""); !errors.Is(err, store.ErrConflict) {
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
	store.Backend
	hang chan struct{}
	n    int
	mu   sync.Mutex
}

func (s *slow) Get(ctx context.Context, key, inm string) (store.Object, error) {
	s.mu.Lock()
	s.n++
	s.mu.Unlock()
	select {
	case <-s.hang:
	case <-ctx.Done():
		return store.Object{}, ctx.Err()
	}
	return s.Backend.Get(ctx, key, inm)
}

func TestCacheWindowAndFaults(t *testing.T) {
	ctx := context.Background()
	f := store.NewFile(t.TempDir())
	docs := NewDocs(f, "api/", kinds)
	tag, _ := docs.Save(ctx, doc("first"), "")
	sl := &slow{Backend: f, hang: make(chan struct{})}
	close(sl.hang) // not hanging yet
	now := time.Now()
	c := NewCache(sl, store.ConfigKey("api/"), 10*time.Second, kinds)
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
	empty := NewCache(store.NewFile(t.TempDir()), store.ConfigKey("api/"), 0, kinds)
	if _, err := empty.Get(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("cold start without a document: %v", err)
	}
}

// flaky is a backend whose reads fail while down is set.
type flaky struct {
	store.Backend
	mu    sync.Mutex
	down  bool
	reads int
}

func (f *flaky) Get(ctx context.Context, key, inm string) (store.Object, error) {
	f.mu.Lock()
	f.reads++
	down := f.down
	f.mu.Unlock()
	if down {
		return store.Object{}, fmt.Errorf("%w: refused", store.ErrCredentials)
	}
	return f.Backend.Get(ctx, key, inm)
}

// TestFailedReadIsNotACheck: a read that failed does not count as a fresh
// check: once the store answers again, the next call (after a short
// backoff, not a whole window) sees an edit — a rotated webhook token
// takes effect — and failing calls do not hammer the store.
func TestFailedReadIsNotACheck(t *testing.T) {
	ctx := context.Background()
	f := store.NewFile(t.TempDir())
	docs := NewDocs(f, "api/", kinds)
	tag, _ := docs.Save(ctx, doc("first"), "")
	fl := &flaky{Backend: f}
	now := time.Now()
	c := NewCache(fl, store.ConfigKey("api/"), 10*time.Second, kinds)
	c.Now = func() time.Time { return now }
	if _, err := c.Get(ctx); err != nil {
		t.Fatal(err)
	}
	now = now.Add(11 * time.Second)
	fl.down = true
	if x, err := c.Get(ctx); err != nil || x.Doc.Owners[0].Name != "first" {
		t.Fatalf("store down: %v %v, want the cached document", x, err)
	}
	for i := 0; i < 50; i++ { // inside the backoff: no more reads
		c.Get(ctx)
	}
	if fl.reads != 2 {
		t.Errorf("%d reads while the store was down, want 2 (cold start, one retry)", fl.reads)
	}
	fl.down = false
	docs.Save(ctx, doc("second"), tag)
	now = now.Add(time.Second)
	if x, _ := c.Get(ctx); x.Doc.Owners[0].Name != "second" {
		t.Fatalf("a second after the store came back: %q, want the edit (a failed read is not a check)", x.Doc.Owners[0].Name)
	}
}

func TestOSSDocs(t *testing.T) {
	o, srv := newOSSPair(t)
	ctx := context.Background()
	clock := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	d := NewDocs(o, "api/", kinds)
	d.Now = func() time.Time { clock = clock.Add(time.Second); return clock }

	doc, tag, err := d.LoadOrEmpty(ctx)
	if err != nil || tag != "" || len(doc.Projects) != 0 {
		t.Fatalf("LoadOrEmpty on an empty bucket = %d projects, %q, %v", len(doc.Projects), tag, err)
	}
	v1 := exampleDoc(t)
	v2 := bytes.Replace(v1, []byte("商城后台"), []byte("商城后台 v2"), 1)
	v3 := bytes.Replace(v1, []byte("商城后台"), []byte("商城后台 v3"), 1)

	tag1, err := d.SaveRaw(ctx, v1, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.SaveRaw(ctx, v2, ""); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a second create: got %v, want store.ErrConflict", err)
	}
	tag2, err := d.SaveRaw(ctx, v2, tag1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.SaveRaw(ctx, v3, tag1); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a write based on a stale read: got %v, want store.ErrConflict", err)
	}
	got, gotTag, err := d.Load(ctx)
	if err != nil || got.Projects[0].Name != "商城后台 v2" || gotTag != tag2 {
		t.Fatalf("Load after save = %v, %q, %v", got, gotTag, err)
	}

	hist, err := d.History(ctx)
	if err != nil || len(hist) != 1 {
		t.Fatalf("History = %v, %v; want one version", hist, err)
	}
	old, err := d.ReadVersion(ctx, hist[0].ID)
	if err != nil || !bytes.Equal(old, v1) {
		t.Fatalf("ReadVersion = %q, %v; want the first document", old, err)
	}
	if _, err := d.Restore(ctx, hist[0].ID, tag1); !errors.Is(err, store.ErrConflict) {
		t.Errorf("Restore with a stale ETag: got %v, want store.ErrConflict", err)
	}
	if _, err := d.Restore(ctx, hist[0].ID, tag2); err != nil {
		t.Fatal(err)
	}
	if cur, _ := srv.Object(testBucket, "api/v1/config.json"); !bytes.Equal(cur, v1) {
		t.Errorf("after Restore the document is %q, want the first one", cur)
	}
	if hist, _ := d.History(ctx); len(hist) != 2 {
		t.Errorf("after Restore History has %d versions, want 2", len(hist))
	}

	// The history keeps the last Keep versions.
	d.Keep = 3
	_, tag, err = d.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		next := bytes.Replace(v1, []byte("商城后台"), fmt.Appendf(nil, "商城后台 %d", i), 1)
		if tag, err = d.SaveRaw(ctx, next, tag); err != nil {
			t.Fatal(err)
		}
	}
	if hist, _ := d.History(ctx); len(hist) != 3 {
		t.Errorf("History keeps %d versions, want 3", len(hist))
	}
	if keys, _ := o.List(ctx, "api/v1/history/"); len(keys) != 3 {
		t.Errorf("the bucket holds %d history objects, want 3", len(keys))
	}
}

// TestOSSCache proves the relay's read budget through the real SDK: one
// read at a cold start, none within the window, one conditional read per
// window, and the last good document kept through faults.
func TestOSSCache(t *testing.T) {
	o, srv := newOSSPair(t)
	ctx := context.Background()
	doc := exampleDoc(t)
	seed(t, srv, "api/v1/config.json", doc)

	var mu sync.Mutex
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	c := NewCache(o, store.ConfigKey("api/"), 10*time.Second, kinds)
	c.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }

	x, err := c.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].Method != http.MethodGet || reqs[0].Header.Get("If-None-Match") != "" || reqs[0].Status != http.StatusOK {
		t.Fatalf("cold start sent %+v, want one plain GET", reqs)
	}
	etag := c.etag

	// Inside the window: no request at all, whatever the concurrency.
	n := srv.Count()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if y, err := c.Get(ctx); err != nil || y != x {
					t.Errorf("Get inside the window = %p, %v; want the cached document", y, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	advance(9 * time.Second)
	if _, err := c.Get(ctx); err != nil {
		t.Fatal(err)
	}
	if got := srv.Since(n); len(got) != 0 {
		t.Fatalf("401 Gets inside the window sent %d requests, want 0", len(got))
	}

	// After the window: exactly one conditional GET, answered 304.
	advance(2 * time.Second)
	for range 20 {
		if y, err := c.Get(ctx); err != nil || y != x {
			t.Fatalf("Get after the window = %p, %v; want the same document", y, err)
		}
	}
	reqs = srv.Since(n)
	if len(reqs) != 1 || reqs[0].Header.Get("If-None-Match") != etag || reqs[0].Status != http.StatusNotModified {
		t.Fatalf("after the window sent %+v, want one GET with If-None-Match %s answered 304", reqs, etag)
	}

	// A changed document is picked up at the next window.
	changed := bytes.Replace(doc, []byte("商城后台"), []byte("商城后台（新）"), 1)
	seed(t, srv, "api/v1/config.json", changed)
	advance(11 * time.Second)
	n = srv.Count()
	x2, err := c.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := x2.Doc.Projects[0].Name; got != "商城后台（新）" {
		t.Errorf("after a change the project is %q, want the new name", got)
	}
	if reqs := srv.Since(n); len(reqs) != 1 || reqs[0].Status != http.StatusOK {
		t.Errorf("reading a changed document sent %+v, want one GET answered 200", reqs)
	}

	// Faults keep the last good document and say what failed.
	faults := []struct {
		fault osstest.Fault
		kind  error
		words string
	}{
		{osstest.Fault{Status: 500, Code: "InternalError"}, nil, "HTTP 500 InternalError"},
		{osstest.Fault{Status: 403, Code: "InvalidAccessKeyId"}, store.ErrCredentials, "credentials refused"},
		{osstest.Fault{Status: 403, Code: "AccessDenied"}, store.ErrCredentials, "credentials refused"},
	}
	for _, f := range faults {
		srv.Fail(f.fault)
		advance(11 * time.Second)
		y, err := c.Get(ctx)
		if err != nil || y != x2 {
			t.Fatalf("%s: Get = %p, %v; want the last good document", f.fault.Code, y, err)
		}
		st := c.Status()
		if st.Err == nil || !strings.Contains(st.Err.Error(), f.words) || (f.kind != nil && !errors.Is(st.Err, f.kind)) {
			t.Errorf("%s: Status().Err = %v, want %q", f.fault.Code, st.Err, f.words)
		}
		if !st.Loaded || st.Projects != 1 {
			t.Errorf("%s: Status = %+v, want the last good document loaded", f.fault.Code, st)
		}
		noKeys(t, fmt.Sprint(st.Err), envCreds)
	}

	// Healed: a 304 clears the fault.
	srv.Fail(osstest.Fault{})
	advance(11 * time.Second)
	if _, err := c.Get(ctx); err != nil {
		t.Fatal(err)
	}
	if st := c.Status(); st.Err != nil {
		t.Errorf("after the store healed Status().Err = %v", st.Err)
	}

	// The server is gone: still the last good document.
	srv.Close()
	advance(11 * time.Second)
	if y, err := c.Get(ctx); err != nil || y != x2 {
		t.Fatalf("with the store down Get = %p, %v; want the last good document", y, err)
	}
	if st := c.Status(); !errors.Is(st.Err, store.ErrUnreachable) || !strings.Contains(st.Err.Error(), "endpoint unreachable") {
		t.Errorf("with the store down Status().Err = %v, want endpoint unreachable", st.Err)
	}
}
