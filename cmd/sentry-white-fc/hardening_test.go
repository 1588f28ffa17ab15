package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/adminapi"
	"github.com/sentry-white/sentry-white/internal/robottest"
	"github.com/sentry-white/sentry-white/internal/store"
)

// startRelay runs the relay on the example folder store with env added.
func startRelay(t *testing.T, env map[string]string) (addr string, dt *robottest.DingTalk) {
	t.Helper()
	dt = robottest.NewDingTalk(robottest.DingTalkRobot{Token: "example-access-token", Secret: exampleSecret, Keywords: []string{"详情"}})
	t.Cleanup(dt.Close)
	all := map[string]string{"SENTRY_WHITE_DINGTALK_API": dt.URL()}
	for k, v := range env {
		all[k] = v
	}
	dir, spool := exampleStore(t), t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() {
		done <- run(ctx, testKinds, []string{"-store", "file:" + dir, "-addr", "127.0.0.1:0", "-spool", spool},
			func(k string) string { return all[k] }, io.Discard, ready)
	}()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	return addr, dt
}

// TestOversizeBodyGets413: a client that sends a 10 MB body whole before
// reading the answer gets 413, not a connection reset.
func TestOversizeBodyGets413(t *testing.T) {
	addr, _ := startRelay(t, nil)
	for _, chunked := range []bool{false, true} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		body := strings.Repeat("x", 10<<20)
		head := fmt.Sprintf("POST /?token=example-token-change-me HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n", addr)
		if chunked {
			_, err = io.WriteString(c, head+"Transfer-Encoding: chunked\r\n\r\n"+fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(body), body))
		} else {
			_, err = io.WriteString(c, head+fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body))
		}
		if err != nil {
			t.Fatalf("chunked=%v: sending the body: %v", chunked, err)
		}
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("chunked=%v: reading the answer: %v", chunked, err)
		}
		raw, _ := io.ReadAll(resp.Body)
		c.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(raw), "4 MiB") {
			t.Errorf("chunked=%v: %d %s, want 413 naming the limit", chunked, resp.StatusCode, raw)
		}
	}
}

// TestHeldConnectionsAreCut: a body that never arrives and an idle
// keep-alive connection are closed by the server (read and idle
// timeouts), and a hundred such connections do not keep a webhook out.
func TestHeldConnectionsAreCut(t *testing.T) {
	addr, dt := startRelay(t, map[string]string{"SENTRY_WHITE_READ_TIMEOUT": "300ms", "SENTRY_WHITE_IDLE_TIMEOUT": "300ms"})
	var held []net.Conn
	for i := 0; i < 100; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
		fmt.Fprintf(c, "POST /?token=example-token-change-me HTTP/1.1\r\nHost: %s\r\nContent-Length: 1000\r\n\r\n{", addr)
	}
	if code, body := post(t, "http://"+addr+"/?token=example-token-change-me", payload(t, "legacy_minimal.json")); code != 200 {
		t.Fatalf("a webhook beside 100 held connections: %d %s", code, body)
	}
	if len(dt.Messages()) != 1 {
		t.Errorf("%d messages, want 1", len(dt.Messages()))
	}
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(idle, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
	br := bufio.NewReader(idle)
	if resp, err := http.ReadResponse(br, nil); err != nil {
		t.Fatal(err)
	} else {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	for name, c := range map[string]net.Conn{"a body that never arrives": held[0], "an idle keep-alive connection": idle} {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(c)
		if c == idle {
			r = br
		}
		for {
			if _, err := r.ReadByte(); err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					t.Errorf("%s: the server kept the connection for 10 s", name)
				}
				break
			}
		}
		c.Close()
	}
	for _, c := range held[1:] {
		c.Close()
	}
}

// TestAdminBodyNotReadBeforeSignature: the admin API decides on the
// signature, the time, the nonce and the Content-Length before it reads a
// byte of body. Each request here announces a large body, sends little or
// none of it and closes its side: an answer about the signature (401) or
// the size (413), rather than a failed body read (400), shows the body was
// never needed, so a stranger's huge bodies are never held in memory. The
// same holds in FC mode.
func TestAdminBodyNotReadBeforeSignature(t *testing.T) {
	for _, mode := range []string{"server", "fc"} {
		addr, _ := startRelay(t, map[string]string{"SENTRY_WHITE_ADMIN_KEY": adminKey, "SENTRY_WHITE_MODE": mode})
		uri := "/admin/v1/object?key=v1%2Fconfig.json"
		head := func(sig string, size int64, nonce string, chunked bool) string {
			d := strconv.FormatInt(time.Now().Unix(), 10)
			sum := strings.Repeat("0", 64)
			if sig == "" {
				u, _ := url.Parse(uri)
				sig = store.AdminSign(adminKey, store.AdminStringToSign(http.MethodPut, store.AdminCanonicalURI(u), d, nonce, sum, "", ""))
			}
			h := fmt.Sprintf("PUT %s HTTP/1.1\r\nHost: %s\r\n%s: %s\r\n%s: %s\r\n%s: %s\r\n%s: %s\r\n", uri, addr,
				store.AdminHeaderDate, d, store.AdminHeaderNonce, nonce, store.AdminHeaderContentSHA256, sum, store.AdminHeaderSignature, sig)
			if chunked {
				return h + "Transfer-Encoding: chunked\r\n\r\n" + fmt.Sprintf("%x\r\n", size) + strings.Repeat("x", 1024)
			}
			return h + fmt.Sprintf("Content-Length: %d\r\n\r\n", size) + strings.Repeat("x", 1024)
		}
		for _, c := range []struct {
			name, req string
			status    int
			words     string
		}{
			{"forged, 32 MiB announced", head(strings.Repeat("ab", 32), 32<<20, "forgedlength000000001", false), 401, "signature does not match"},
			{"forged, a 32 MiB chunk", head(strings.Repeat("ab", 32), 32<<20, "forgedchunked00000001", true), 401, "signature does not match"},
			{"signed, over the limit", head("", adminapi.MaxBody+1, "signedoversize0000001", false), 413, "over 32 MiB"},
		} {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.WriteString(conn, c.req); err != nil {
				t.Fatalf("%s %s: %v", mode, c.name, err)
			}
			_ = conn.(*net.TCPConn).CloseWrite()
			_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("%s %s: reading the answer: %v", mode, c.name, err)
			}
			raw, _ := io.ReadAll(resp.Body)
			conn.Close()
			if resp.StatusCode != c.status || !strings.Contains(string(raw), c.words) {
				t.Errorf("%s %s: %d %s, want %d saying %q (before reading the body)", mode, c.name, resp.StatusCode, raw, c.status, c.words)
			}
		}
	}
}
