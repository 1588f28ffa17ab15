package adminapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/store"
)

const testKey = "adminKeyForTests-0123456789abcdef"

// clock is a settable time shared by the server and the client.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// credsBackend records the credentials each call's context carried.
type credsBackend struct {
	store.Backend
	mu   sync.Mutex
	seen []string
}

func (b *credsBackend) Get(ctx context.Context, key, inm string) (store.Object, error) {
	c, _ := store.CredentialsFrom(ctx)
	b.mu.Lock()
	b.seen = append(b.seen, c.AccessKeyID)
	b.mu.Unlock()
	return b.Backend.Get(ctx, key, inm)
}

type env struct {
	t    *testing.T
	dir  string
	srv  *httptest.Server
	h    *Handler
	clk  *clock
	logs *bytes.Buffer
	mu   *sync.Mutex // guards logs
	be   *credsBackend
}

func (e *env) log() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.logs.String()
}

func newEnv(t *testing.T, maxNonces int) *env { return newEnvFC(t, maxNonces, false) }

func newEnvFC(t *testing.T, maxNonces int, fc bool) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), clk: &clock{t: time.Now()}, logs: &bytes.Buffer{}}
	e.be = &credsBackend{Backend: store.NewFile(e.dir)}
	e.mu = &sync.Mutex{}
	log := slog.New(slog.NewTextHandler(lockedWriter{e.mu, e.logs}, nil))
	h, err := New(Options{Backend: e.be, Prefix: "cfg/", Key: testKey, Logger: log, Now: e.clk.now, MaxNonces: maxNonces, FC: fc})
	if err != nil {
		t.Fatal(err)
	}
	e.h = h
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	t.Cleanup(func() {
		if strings.Contains(e.log(), testKey) {
			t.Errorf("the admin key is in the log")
		}
	})
	return e
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (e *env) client(key string) *store.Relay {
	e.t.Helper()
	r, err := store.NewRelay(e.srv.URL, key)
	if err != nil {
		e.t.Fatal(err)
	}
	r.Now = e.clk.now
	return r
}

// signed builds a request signed with key, dated at date, with nonce.
func (e *env) signed(method, uri string, body []byte, key string, date time.Time, nonce string) *http.Request {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+uri, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	d := strconv.FormatInt(date.Unix(), 10)
	sum := store.BodySHA256(body)
	req.Header.Set(store.AdminHeaderDate, d)
	req.Header.Set(store.AdminHeaderNonce, nonce)
	req.Header.Set(store.AdminHeaderContentSHA256, sum)
	req.Header.Set(store.AdminHeaderSignature, store.AdminSign(key, store.AdminStringToSign(method, store.AdminCanonicalURI(req.URL), d, nonce, sum, "", "")))
	return req
}

func (e *env) send(req *http.Request) (int, map[string]any) {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if strings.Contains(string(raw), testKey) {
		e.t.Errorf("an answer echoes the admin key: %s", raw)
	}
	if resp.Header.Get(store.AdminHeaderAPI) == "" {
		e.t.Errorf("%s %s: the answer lacks %s", req.Method, req.URL.Path, store.AdminHeaderAPI)
	}
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m
}

// TestRoundTrip: the relay backend reads, writes (conditionally), lists,
// appends and deletes in the relay's store, under its prefix only.
func TestRoundTrip(t *testing.T) {
	e := newEnv(t, 0)
	c := e.client(testKey)
	ctx := context.Background()
	if err := os.MkdirAll(filepath.Join(e.dir, "outside"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.dir, "outside", "secret.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}

	if _, err := c.Get(ctx, "api/v1/config.json", ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get of a missing key: %v, want ErrNotFound", err)
	}
	empty := ""
	tag, err := c.Put(ctx, "api/v1/config.json", []byte(`{"schema":1}`), &empty)
	if err != nil || tag == "" {
		t.Fatalf("create: %q %v", tag, err)
	}
	if b, _ := os.ReadFile(filepath.Join(e.dir, "cfg", "v1", "config.json")); string(b) != `{"schema":1}` {
		t.Fatalf("the relay's store holds %q under its prefix", b)
	}
	if _, err := c.Put(ctx, "api/v1/config.json", []byte(`{}`), &empty); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a second create: %v, want ErrConflict (409)", err)
	}
	stale := `"stale"`
	if _, err := c.Put(ctx, "api/v1/config.json", []byte(`{}`), &stale); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a stale write: %v, want ErrConflict (409)", err)
	}
	obj, err := c.Get(ctx, "api/v1/config.json", "")
	if err != nil || string(obj.Data) != `{"schema":1}` || obj.ETag != tag {
		t.Fatalf("get = %q %q %v", obj.Data, obj.ETag, err)
	}
	if _, err := c.Get(ctx, "api/v1/config.json", tag); !errors.Is(err, store.ErrNotModified) {
		t.Errorf("conditional get: %v, want ErrNotModified", err)
	}
	tag2, err := c.Put(ctx, "api/v1/config.json", []byte(`{"schema":1,"owners":[]}`), &tag)
	if err != nil || tag2 == tag {
		t.Fatalf("write with the current ETag: %q %v", tag2, err)
	}
	if _, err := c.Put(ctx, "api/v1/history/a.json", []byte(`{}`), nil); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := c.Append(ctx, "api/v1/deliveries/d.jsonl", []byte(strconv.Itoa(i)+"\n")); err != nil {
			t.Fatal(err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(e.dir, "cfg", "v1", "deliveries", "d.jsonl")); string(b) != "0\n1\n" {
		t.Errorf("appended %q", b)
	}
	keys, err := c.List(ctx, "api/v1/")
	if want := "api/v1/config.json api/v1/deliveries/d.jsonl api/v1/history/a.json"; err != nil || strings.Join(keys, " ") != want {
		t.Errorf("list = %v %v, want %s", keys, err, want)
	}
	if keys, _ := c.List(ctx, "api/v1/history/"); len(keys) != 1 {
		t.Errorf("list of the history = %v", keys)
	}
	if err := c.Delete(ctx, "api/v1/history/a.json"); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, "api/v1/history/a.json"); err != nil {
		t.Errorf("delete of a missing key: %v", err)
	}
	if s, err := c.Info(ctx); err != nil || !strings.Contains(s, "file:") {
		t.Errorf("info = %q %v", s, err)
	}

	// Nothing outside the prefix is reachable, whatever the key.
	for _, k := range []string{"../outside/secret.json", "/etc/passwd", "v1/../../outside/secret.json", "a//b", "a\\b", ""} {
		req := e.signed(http.MethodGet, "/admin/v1/object?key="+urlQuery(k), nil, testKey, e.clk.now(), "nonce"+strconv.Itoa(len(k))+"abcdefghijklmnop")
		if code, m := e.send(req); code != http.StatusBadRequest || m["code"] != "bad_key" {
			t.Errorf("key %q: %d %v, want 400 bad_key", k, code, m)
		}
	}
	if _, err := c.Get(ctx, "other/x.json", ""); err == nil {
		t.Error("a key outside api/ was read")
	}
}

func urlQuery(s string) string {
	r := strings.NewReplacer("%", "%25", "&", "%26", "+", "%2B", " ", "%20", "#", "%23", "?", "%3F")
	return r.Replace(s)
}

// TestRefusals: unsigned, forged, tampered, replayed and expired requests
// and a wrong key get 401 with the reason, never the key; the store is
// not touched.
func TestRefusals(t *testing.T) {
	e := newEnv(t, 0)
	now := e.clk.now()
	body := []byte(`{"schema":1}`)
	uri := "/admin/v1/object?key=v1%2Fconfig.json"
	refused := func(name string, req *http.Request, words string) {
		t.Helper()
		code, m := e.send(req)
		msg, _ := m["error"].(string)
		if code != http.StatusUnauthorized || m["code"] != "unauthorized" || !strings.Contains(msg, words) {
			t.Errorf("%s: %d %v, want 401 saying %q", name, code, m, words)
		}
	}

	unsigned, _ := http.NewRequest(http.MethodPut, e.srv.URL+uri, bytes.NewReader(body))
	refused("unsigned", unsigned, "not signed")

	forged := e.signed(http.MethodPut, uri, body, testKey, now, "forged0000000000000001")
	forged.Header.Set(store.AdminHeaderSignature, strings.Repeat("ab", 32))
	refused("forged signature", forged, "signature does not match")

	wrong := e.signed(http.MethodPut, uri, body, "anotherKeyOfSixteenPlus", now, "wrongkey00000000000001")
	refused("wrong key", wrong, "admin key differs")

	// The signature covers the path: the same signature for another key
	// is refused.
	moved := e.signed(http.MethodPut, uri, body, testKey, now, "moved0000000000000001")
	moved.URL.RawQuery = "key=v1%2Fother.json"
	refused("changed path", moved, "signature does not match")

	tampered := e.signed(http.MethodPut, uri, body, testKey, now, "tampered00000000000001")
	tampered.Body = io.NopCloser(bytes.NewReader([]byte(`{"schema":2}`)))
	tampered.ContentLength = int64(len(`{"schema":2}`))
	refused("tampered body", tampered, "body does not match")

	refused("expired", e.signed(http.MethodPut, uri, body, testKey, now.Add(-6*time.Minute), "expired000000000000001"), "away from the relay")
	refused("from the future", e.signed(http.MethodPut, uri, body, testKey, now.Add(6*time.Minute), "future0000000000000001"), "away from the relay")
	bad := e.signed(http.MethodPut, uri, body, testKey, now, "short")
	refused("short nonce", bad, "nonce")

	if _, err := os.Stat(filepath.Join(e.dir, "cfg", "v1", "config.json")); !os.IsNotExist(err) {
		t.Fatalf("a refused request wrote the store: %v", err)
	}

	// A good request goes through once; the same request again is a replay.
	good := func() *http.Request {
		return e.signed(http.MethodPut, uri, body, testKey, now, "replayed00000000000001")
	}
	if code, m := e.send(good()); code != http.StatusOK {
		t.Fatalf("a good request: %d %v", code, m)
	}
	refused("replayed", good(), "already received")
	e.clk.add(4 * time.Minute)
	refused("replayed later in the window", good(), "already received")
	e.clk.add(2 * time.Minute)
	refused("replayed after the window", good(), "away from the relay")

	// The client says what to fix.
	_, err := e.client("anotherKeyOfSixteenPlus").Get(context.Background(), "api/v1/config.json", "")
	if !errors.Is(err, store.ErrAdminKey) || !strings.Contains(err.Error(), "SENTRY_WHITE_ADMIN_KEY") || strings.Contains(err.Error(), "anotherKeyOfSixteenPlus") {
		t.Errorf("a client with a wrong key: %v", err)
	}
	if !strings.Contains(e.log(), "admin request refused") {
		t.Error("refusals are not logged")
	}
}

// TestNonceMemoryIsBounded: at most MaxNonces nonces are kept; beyond
// that, requests wait (429) until the oldest leave the window.
func TestNonceMemoryIsBounded(t *testing.T) {
	e := newEnv(t, 3)
	c := e.client(testKey)
	ctx := context.Background()
	for i := range 3 {
		if _, err := c.List(ctx, "api/"); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	req := e.signed(http.MethodGet, "/admin/v1/list?prefix=", nil, testKey, e.clk.now(), "overflow00000000000001")
	if code, m := e.send(req); code != http.StatusTooManyRequests {
		t.Errorf("a request beyond the bound: %d %v, want 429", code, m)
	}
	if n := e.h.nonces.Len(); n > 3 {
		t.Errorf("%d nonces kept, want at most 3", n)
	}
	e.clk.add(store.AdminWindow + 2*time.Second)
	if _, err := c.List(ctx, "api/"); err != nil {
		t.Errorf("after the window: %v", err)
	}
}

// TestBodyMemoryIsBounded: request bodies held at once are bounded by
// MaxInFlight: while one signed body fills it, another signed request gets
// 429 without being read; once the first is done its room is free again.
func TestBodyMemoryIsBounded(t *testing.T) {
	e := newEnv(t, 0)
	e.h.inflight.max = 100
	uri := "/admin/v1/object?key=v1%2Fbig.json"
	body := bytes.Repeat([]byte("x"), 100)
	first := e.signed(http.MethodPut, uri, body, testKey, e.clk.now(), "holdsthebudget0000001")
	pr, pw := io.Pipe()
	first.Body, first.ContentLength = pr, int64(len(body))
	done := make(chan int)
	go func() {
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, first)
		done <- w.Code
	}()
	// The handler has read the first byte: its body's room is reserved.
	if _, err := pw.Write(body[:1]); err != nil {
		t.Fatal(err)
	}
	second := e.signed(http.MethodPut, "/admin/v1/object?key=v1%2Fsmall.json", []byte("y"), testKey, e.clk.now(), "beyondthebudget000001")
	if code, m := e.send(second); code != http.StatusTooManyRequests || m["code"] != "busy" {
		t.Errorf("a body beyond the bound: %d %v, want 429 busy", code, m)
	}
	if _, err := pw.Write(body[1:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if code := <-done; code != http.StatusOK {
		t.Fatalf("the first request: %d", code)
	}
	third := e.signed(http.MethodPut, "/admin/v1/object?key=v1%2Fsmall.json", []byte("y"), testKey, e.clk.now(), "afterthebudget0000001")
	if code, m := e.send(third); code != http.StatusOK {
		t.Errorf("after the first body was done: %d %v, want 200", code, m)
	}
	e.h.inflight.mu.Lock()
	defer e.h.inflight.mu.Unlock()
	if e.h.inflight.used != 0 {
		t.Errorf("%d bytes still reserved after every request ended", e.h.inflight.used)
	}
}

// TestFunctionComputeCredentials: on Function Compute the store is called
// with FC's per-request keys of the admin request; elsewhere such headers
// are ignored.
func TestFunctionComputeCredentials(t *testing.T) {
	for _, fc := range []bool{true, false} {
		e := newEnvFC(t, 0, fc)
		req := e.signed(http.MethodGet, "/admin/v1/object?key=v1%2Fconfig.json", nil, testKey, e.clk.now(), "fckeys0000000000000001")
		req.Header.Set("x-fc-access-key-id", "STS.fcKeyForAdmin")
		req.Header.Set("x-fc-access-key-secret", "fcSecretForAdmin")
		req.Header.Set("x-fc-security-token", "fcTokenForAdmin")
		if code, _ := e.send(req); code != http.StatusNotFound {
			t.Errorf("get of a missing key: %d, want 404", code)
		}
		want := map[bool]string{true: "STS.fcKeyForAdmin", false: ""}[fc]
		e.be.mu.Lock()
		if len(e.be.seen) != 1 || e.be.seen[0] != want {
			t.Errorf("FC %v: the store saw keys %v, want %q", fc, e.be.seen, want)
		}
		e.be.mu.Unlock()
	}
}

func TestWeakKeyAndDisabled(t *testing.T) {
	if _, err := New(Options{Backend: store.NewFile(t.TempDir()), Prefix: "api/", Key: "short"}); err == nil || strings.Contains(err.Error(), "short\"") {
		t.Errorf("a short key: %v, want an error that does not show it", err)
	}
	srv := httptest.NewServer(Disabled("SENTRY_WHITE_ADMIN_KEY on the function is too short"))
	defer srv.Close()
	c, err := store.NewRelay(srv.URL, testKey)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Get(context.Background(), "api/v1/config.json", "")
	if !errors.Is(err, store.ErrNoAdminAPI) || !strings.Contains(err.Error(), "too short") {
		t.Errorf("a disabled admin API: %v", err)
	}
}

// TestSignatureSurvivesReencoding: a gateway that re-escapes the query
// (v1%2Fconfig.json → v1/config.json) or reorders it does not break the
// signature, which covers the canonical form; a PUT with an If-None-Match
// other than * is refused rather than taken as unconditional.
func TestSignatureSurvivesReencoding(t *testing.T) {
	e := newEnv(t, 0)
	req := e.signed(http.MethodGet, "/admin/v1/list?prefix=v1%2F", nil, testKey, e.clk.now(), "reencoded000000000001")
	req.URL.RawQuery = "prefix=v1/"
	if code, m := e.send(req); code != http.StatusOK {
		t.Errorf("a re-escaped query: %d %v, want 200", code, m)
	}
	put := e.signed(http.MethodPut, "/admin/v1/object?key=v1%2Fx.json", []byte("{}"), testKey, e.clk.now(), "inmnotstar00000000001")
	put.Header.Set("If-None-Match", `"abc"`)
	d, n, sum := put.Header.Get(store.AdminHeaderDate), put.Header.Get(store.AdminHeaderNonce), put.Header.Get(store.AdminHeaderContentSHA256)
	put.Header.Set(store.AdminHeaderSignature, store.AdminSign(testKey, store.AdminStringToSign(http.MethodPut, store.AdminCanonicalURI(put.URL), d, n, sum, "", `"abc"`)))
	if code, m := e.send(put); code != http.StatusBadRequest || m["code"] != "bad_condition" {
		t.Errorf("PUT with If-None-Match \"abc\": %d %v, want 400 bad_condition", code, m)
	}
}
