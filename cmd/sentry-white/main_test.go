package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"github.com/sentry-white/sentry-white/internal/notifiers"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is the program's stdout, read while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// testKinds are the robot kinds of the tests, the programs' own.
var testKinds = notifiers.Default()

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// instance is a running configurator.
type instance struct {
	addr  string // 127.0.0.1:PORT
	base  string // http://127.0.0.1:PORT
	token string
	dir   string // its folder store
	out   *syncBuffer
	stop  func() // stops it (also at the end of the test)
}

// start runs the configurator until the test ends. env adds to a fixed
// token and a temporary settings folder.
func start(t *testing.T, args []string, env map[string]string) *instance {
	t.Helper()
	in := &instance{token: "e2e0123456789abcdef0123456789abc", dir: t.TempDir(), out: &syncBuffer{}}
	vars := map[string]string{"SENTRY_WHITE_UI_TOKEN": in.token, "SENTRY_WHITE_CONFIG_DIR": t.TempDir()}
	for k, v := range env {
		vars[k] = v
	}
	if args == nil {
		args = []string{"-no-browser", "-addr", "127.0.0.1:0", "-store", "file:" + in.dir}
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, testKinds, args, func(k string) string { return vars[k] }, in.out, ready) }()
	select {
	case in.addr = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("run: %v\n%s", err, in.out)
	}
	var once sync.Once
	in.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("run returned %v", err)
			}
		})
	}
	t.Cleanup(in.stop)
	in.base = "http://" + in.addr
	return in
}

// api calls the configurator's API with the token.
func (in *instance) api(t *testing.T, method, path string, body any) map[string]any {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, in.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+in.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s = %d: %s", method, path, resp.StatusCode, raw)
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		var list []any
		_ = json.Unmarshal(raw, &list)
		m = map[string]any{"list": list}
	}
	return m
}

func TestRunPrintsURLAndServes(t *testing.T) {
	in := start(t, nil, nil)
	first, _, _ := strings.Cut(in.out.String(), "\n")
	if want := "http://" + in.addr + "/?token=" + in.token; first != want {
		t.Errorf("first line %q, want %q", first, want)
	}
	if !strings.Contains(in.out.String(), "file:"+in.dir) {
		t.Errorf("output does not name the store: %s", in.out)
	}

	resp, err := http.Get(in.base + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), `src="js/main.js"`) {
		t.Fatalf("GET / = %d", resp.StatusCode)
	}
	for _, h := range []string{"Content-Security-Policy", "X-Frame-Options", "Referrer-Policy"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("the page is served without %s", h)
		}
	}
	for _, f := range []string{"/js/main.js", "/app.css", "/i18n/zh.json", "/i18n/en.json", "/favicon.svg"} {
		r, err := http.Get(in.base + f)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d", f, r.StatusCode)
		}
	}

	// The API wants the token; nothing answers another Host.
	r, err := http.Get(in.base + "/api/v1/owners")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusUnauthorized {
		t.Errorf("API without token = %d, want 401", r.StatusCode)
	}
	for _, p := range []string{"/", "/api/v1/owners"} {
		req, _ := http.NewRequest("GET", in.base+p, nil)
		req.Host = "rebound.example:" + strings.Split(in.addr, ":")[1]
		req.Header.Set("Authorization", "Bearer "+in.token)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s with a foreign Host = %d, want 403", p, r.StatusCode)
		}
	}
	m := in.api(t, "POST", "/api/v1/owners", map[string]any{"name": "张三", "mobile": "13800138000"})
	if m["id"] != float64(1) {
		t.Errorf("create = %v", m)
	}
}

func TestRunRefusesOtherAddresses(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:7788", "192.0.2.1:7788", ":7788", "example.com:80", "7788"} {
		err := run(t.Context(), testKinds, []string{"-no-browser", "-addr", addr}, func(string) string { return "" }, io.Discard, nil)
		if err == nil {
			t.Errorf("-addr %s accepted", addr)
		} else if !strings.Contains(err.Error(), "127.0.0.1") {
			t.Errorf("-addr %s: %v does not say what to use", addr, err)
		}
	}
	if err := run(t.Context(), testKinds, []string{"stray"}, func(string) string { return "" }, io.Discard, nil); err == nil {
		t.Error("a stray argument was accepted")
	}
}

func TestRunBusyPort(t *testing.T) {
	// Hold the default port (or find it held already).
	if ln, err := net.Listen("tcp", defaultAddr); err == nil {
		t.Cleanup(func() { ln.Close() })
	}
	in := start(t, []string{"-no-browser"}, map[string]string{"SENTRY_WHITE_STORE": "file:" + t.TempDir()})
	if in.addr == defaultAddr || !strings.HasPrefix(in.addr, "127.0.0.1:") {
		t.Errorf("the default address was busy, yet serving on %s", in.addr)
	}
	// A port asked for explicitly is not replaced.
	err := run(t.Context(), testKinds, []string{"-no-browser", "-addr", defaultAddr}, func(string) string { return "" }, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "listen") {
		t.Errorf("busy explicit port: %v", err)
	}
}

func TestRunTokenAndBrowser(t *testing.T) {
	var opened []string
	openBrowser = func(u string) error { opened = append(opened, u); return nil }
	t.Cleanup(func() {
		openBrowser = func(string) error { return errors.New("no browser in tests") }
	})
	out := &syncBuffer{}
	ctx, cancel := context.WithCancel(t.Context())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	env := map[string]string{"SENTRY_WHITE_CONFIG_DIR": t.TempDir(), "SENTRY_WHITE_STORE": "file:" + t.TempDir()}
	go func() {
		done <- run(ctx, testKinds, []string{"-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, out, ready)
	}()
	<-ready
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(out.String(), "\n")
	if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/\?token=[0-9a-f]{32}$`).MatchString(first) {
		t.Errorf("first line %q, want the URL with a random 32-hex token", first)
	}
	if len(opened) != 1 || opened[0] != first {
		t.Errorf("opened %v, want %s", opened, first)
	}

	// When no browser opens, the URL is still there and the reason is said.
	openBrowser = func(string) error { return errors.New("exec: xdg-open: not found") }
	out = &syncBuffer{}
	ctx, cancel = context.WithCancel(t.Context())
	go func() {
		done <- run(ctx, testKinds, []string{"-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, out, ready)
	}()
	<-ready
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "could not open a browser") || !strings.Contains(out.String(), "/?token=") {
		t.Errorf("output %q", out)
	}
}

func init() {
	// Tests never open a real browser window.
	openBrowser = func(string) error { return errors.New("no browser in tests") }
}
