package store

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

var _ Appender = (*OSS)(nil)

func TestFileAppend(t *testing.T) {
	dir := t.TempDir()
	f := NewFile(dir)
	ctx := context.Background()
	key := "api/v1/deliveries/2026-11-25.jsonl"
	if err := f.Append(ctx, key, []byte("one\n")); err != nil {
		t.Fatal(err)
	}
	if err := f.Append(ctx, key, []byte("two\n")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "api", "v1", "deliveries", "2026-11-25.jsonl"))
	if err != nil || string(b) != "one\ntwo\n" {
		t.Fatalf("file holds %q, %v; want one\\ntwo\\n", b, err)
	}

	// Concurrent appenders never interleave inside a record.
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				line := fmt.Sprintf("g%d-%02d %s\n", g, i, strings.Repeat("x", 200))
				if err := f.Append(ctx, "api/v1/deliveries/c.jsonl", []byte(line)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b, _ = os.ReadFile(filepath.Join(dir, "api", "v1", "deliveries", "c.jsonl"))
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 200 {
		t.Fatalf("%d lines, want 200", len(lines))
	}
	for _, l := range lines {
		if len(l) != len("g0-00 ")+200 {
			t.Fatalf("a record was torn: %q", l)
		}
	}

	if err := f.Append(ctx, "../escape", []byte("x")); err == nil {
		t.Error("Append accepted a key leaving the folder")
	}
}

// TestOSSAppendFallback: gofakes3, like S3, has no AppendObject; the
// backend notices once and appends by read-modify-write under
// compare-and-swap.
func TestOSSAppendFallback(t *testing.T) {
	o, srv := newOSSPair(t)
	ctx := context.Background()
	key := "api/v1/deliveries/2026-11-25.jsonl"
	for _, line := range []string{"one\n", "two\n", "three\n"} {
		if err := o.Append(ctx, key, []byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := srv.Object(testBucket, key); string(got) != "one\ntwo\nthree\n" {
		t.Errorf("object holds %q", got)
	}
	posts := 0
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPost {
			posts++
			if r.Status != http.StatusBadRequest {
				t.Errorf("AppendObject answered %d, the test expects gofakes3's 400 MethodNotAllowed", r.Status)
			}
		}
	}
	if posts != 1 {
		t.Errorf("%d AppendObject requests, want 1 (then the backend stops asking)", posts)
	}
}

// appendServer implements OSS's documented AppendObject protocol (POST
// ?append&position=N; 409 PositionNotEqualToLength with
// x-oss-next-append-position; 409 ObjectNotAppendable for an object written
// by PutObject) plus HEAD, GET and PUT, which gofakes3 cannot show.
type appendServer struct {
	mu      sync.Mutex
	objects map[string]*appendObj
	log     []string // "METHOD position" per request
}

type appendObj struct {
	data       []byte
	appendable bool
}

func (s *appendServer) etag(b []byte) string {
	sum := md5.Sum(b)
	return `"` + strings.ToUpper(hex.EncodeToString(sum[:])) + `"`
}

func (s *appendServer) fail(w http.ResponseWriter, r *http.Request, status int, code string) {
	xml := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message><RequestId>1</RequestId></Error>`, code, code)
	if r.Method == http.MethodHead {
		w.Header().Set("x-oss-err", base64.StdEncoding.EncodeToString([]byte(xml)))
		w.WriteHeader(status)
		return
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, xml)
}

func (s *appendServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.TrimPrefix(r.URL.Path, "/"+testBucket+"/")
	obj := s.objects[key]
	s.log = append(s.log, strings.TrimSpace(r.Method+" "+r.URL.Query().Get("position")))
	switch r.Method {
	case http.MethodHead, http.MethodGet:
		if obj == nil {
			s.fail(w, r, 404, "NoSuchKey")
			return
		}
		w.Header().Set("ETag", s.etag(obj.data))
		w.Header().Set("Content-Length", strconv.Itoa(len(obj.data)))
		if obj.appendable {
			w.Header().Set("x-oss-object-type", "Appendable")
			w.Header().Set("x-oss-next-append-position", strconv.Itoa(len(obj.data)))
		}
		w.WriteHeader(200)
		if r.Method == http.MethodGet {
			_, _ = w.Write(obj.data)
		}
	case http.MethodPut:
		b, _ := io.ReadAll(r.Body)
		s.objects[key] = &appendObj{data: b}
		w.Header().Set("ETag", s.etag(b))
		w.WriteHeader(200)
	case http.MethodPost:
		if _, ok := r.URL.Query()["append"]; !ok {
			s.fail(w, r, 400, "InvalidArgument")
			return
		}
		pos, _ := strconv.Atoi(r.URL.Query().Get("position"))
		if obj != nil && !obj.appendable {
			s.fail(w, r, 409, "ObjectNotAppendable")
			return
		}
		cur := 0
		if obj != nil {
			cur = len(obj.data)
		}
		if pos != cur {
			w.Header().Set("x-oss-next-append-position", strconv.Itoa(cur))
			s.fail(w, r, 409, "PositionNotEqualToLength")
			return
		}
		b, _ := io.ReadAll(r.Body)
		if obj == nil {
			obj = &appendObj{appendable: true}
			s.objects[key] = obj
		}
		obj.data = append(obj.data, b...)
		w.Header().Set("x-oss-next-append-position", strconv.Itoa(len(obj.data)))
		w.WriteHeader(200)
	default:
		s.fail(w, r, 405, "MethodNotAllowed")
	}
}

func (s *appendServer) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.log
	s.log = nil
	return l
}

func TestOSSAppendObject(t *testing.T) {
	as := &appendServer{objects: map[string]*appendObj{}}
	srv := httptest.NewServer(as)
	defer srv.Close()
	o, err := NewOSS(OSSConfig{Endpoint: srv.URL, Region: "cn-hangzhou", Bucket: testBucket, Credentials: envCreds})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	key := "api/v1/deliveries/2026-11-25.jsonl"

	// A new object: HEAD finds nothing, append at 0.
	if err := o.Append(ctx, key, []byte("one\n")); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(as.take(), ","), "HEAD,POST 0"; got != want {
		t.Errorf("first append sent %s, want %s", got, want)
	}
	// The remembered position: one request.
	if err := o.Append(ctx, key, []byte("two\n")); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(as.take(), ","), "POST 4"; got != want {
		t.Errorf("second append sent %s, want %s", got, want)
	}

	// Another instance appended meanwhile: 409 PositionNotEqualToLength,
	// then once more at the position OSS returned.
	as.mu.Lock()
	as.objects[key].data = append(as.objects[key].data, "other\n"...)
	as.mu.Unlock()
	if err := o.Append(ctx, key, []byte("three\n")); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(as.take(), ","), "POST 8,POST 14"; got != want {
		t.Errorf("append after another writer sent %s, want %s", got, want)
	}
	if got := string(as.objects[key].data); got != "one\ntwo\nother\nthree\n" {
		t.Errorf("object holds %q", got)
	}

	// An object PutObject wrote is not appendable: read-modify-write.
	if _, err := o.Put(ctx, "api/v1/deliveries/put.jsonl", []byte("a\n"), nil); err != nil {
		t.Fatal(err)
	}
	as.take()
	if err := o.Append(ctx, "api/v1/deliveries/put.jsonl", []byte("b\n")); err != nil {
		t.Fatal(err)
	}
	if got := string(as.objects["api/v1/deliveries/put.jsonl"].data); got != "a\nb\n" {
		t.Errorf("not-appendable object holds %q", got)
	}
	if got, want := strings.Join(as.take(), ","), "HEAD,POST 2,GET,HEAD,PUT"; got != want {
		t.Errorf("append to a PutObject object sent %s, want %s", got, want)
	}
	// ...which does not turn AppendObject off for other objects.
	if err := o.Append(ctx, "api/v1/deliveries/next.jsonl", []byte("c\n")); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(as.take(), ","), "HEAD,POST 0"; got != want {
		t.Errorf("append to a new object sent %s, want %s", got, want)
	}

	keys := make([]string, 0, len(as.objects))
	for k := range as.objects {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) != 3 {
		t.Errorf("objects %v", keys)
	}
}
