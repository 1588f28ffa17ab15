package main

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/sentry-white/sentry-white/internal/notifiers"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/robottest"
)

const exampleSecret = "SECa7f09b5ea245debd13fb7fe1993897008f6b44ddf80310d14f3de4d3f407221d"

// exampleStore copies the example folder store that ships in the repo.

// testKinds are the robot kinds of the tests, the programs' own.
var testKinds = notifiers.Default()

func exampleStore(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile("../../testdata/example-store/api/v1/config.json")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "api", "v1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "api", "v1", "config.json"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func payload(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../../testdata/sentry", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func post(t *testing.T, url string, body []byte, hdr ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// TestRunOnFolderStore drives run() as main does: the example folder store,
// a DingTalk stand-in, a legacy and an event_alert payload.
func TestRunOnFolderStore(t *testing.T) {
	dt := robottest.NewDingTalk(robottest.DingTalkRobot{Token: "example-access-token", Secret: exampleSecret, Keywords: []string{"详情"}})
	defer dt.Close()
	dir := exampleStore(t)
	env := map[string]string{"SENTRY_WHITE_DINGTALK_API": dt.URL(), "FC_CUSTOM_LISTEN_PORT": "1"}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	var logs bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, testKinds, []string{"-store", "file:" + dir, "-addr", "127.0.0.1:0", "-spool", t.TempDir()}, func(k string) string { return env[k] }, &logs, ready)
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	base := "http://" + addr

	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(raw), "部署成功") {
		t.Fatalf("GET / = %d %s", resp.StatusCode, raw)
	}

	if code, body := post(t, base+"/?token=wrong", payload(t, "legacy_saas.json")); code != 401 {
		t.Fatalf("wrong token: %d %s", code, body)
	}
	if len(dt.Messages()) != 0 {
		t.Fatal("a message was sent for a wrong token")
	}
	if code, body := post(t, base+"/?token=example-token-change-me", payload(t, "legacy_saas.json")); code != 200 {
		t.Fatalf("legacy: %d %s", code, body)
	}
	if code, body := post(t, base+"/webhook?token=example-token-change-me", payload(t, "event_alert.json"),
		"Sentry-Hook-Resource", "event_alert"); code != 200 {
		t.Fatalf("event_alert: %d %s", code, body)
	}
	msgs := dt.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want one per payload", len(msgs))
	}
	for _, m := range msgs {
		if !m.Mentioned || len(m.AtMobiles) != 2 || !strings.Contains(m.Text, "详情") {
			t.Errorf("message %q: want both owners @-mentioned and the keyword", m.Text)
		}
	}
	// A folder store is checked on every webhook: an edit applies at once.
	cfg := filepath.Join(dir, "api", "v1", "config.json")
	b, _ := os.ReadFile(cfg)
	if err := os.WriteFile(cfg, bytes.Replace(b, []byte("example-token-change-me"), []byte("rotated-token"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _ := post(t, base+"/?token=example-token-change-me", payload(t, "legacy_minimal.json")); code != 401 {
		t.Errorf("old token after the edit: %d, want 401", code)
	}
	if code, body := post(t, base+"/?token=rotated-token", payload(t, "legacy_minimal.json")); code != 200 {
		t.Errorf("new token after the edit: %d %s", code, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if err := json.Unmarshal([]byte(l), &line); err != nil {
			t.Fatalf("log line is not JSON: %s", l)
		}
	}
	for _, s := range []string{"example-access-token", exampleSecret, "example-token-change-me"} {
		if strings.Contains(logs.String(), s) {
			t.Errorf("logs contain a secret %q", s)
		}
	}
}

func TestDefaultAddr(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, "0.0.0.0:9000"},
		{map[string]string{"FC_SERVER_PORT": "8000"}, "0.0.0.0:8000"},
		{map[string]string{"FC_SERVER_PORT": "8000", "FC_CUSTOM_LISTEN_PORT": "7000"}, "0.0.0.0:7000"},
	} {
		if got := defaultAddr(func(k string) string { return tc.env[k] }); got != tc.want {
			t.Errorf("defaultAddr(%v) = %s, want %s", tc.env, got, tc.want)
		}
	}
}

// TestBinary builds and execs the real program, as the acceptance checks
// and FC do, and stops it with SIGTERM.
func TestBinary(t *testing.T) {
	bin := builtRelay(t)
	dt := robottest.NewDingTalk(robottest.DingTalkRobot{Token: "example-access-token", Secret: exampleSecret, Keywords: []string{"详情"}})
	defer dt.Close()
	dir := exampleStore(t)
	cmd := exec.Command(bin, "-store", "file:"+dir, "-addr", "127.0.0.1:0", "-spool", t.TempDir())
	cmd.Env = append(os.Environ(), "SENTRY_WHITE_DINGTALK_API="+dt.URL())
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	addr := ""
	dec := json.NewDecoder(stdout)
	deadline := time.Now().Add(20 * time.Second)
	for addr == "" && time.Now().Before(deadline) {
		var line map[string]any
		if err := dec.Decode(&line); err != nil {
			t.Fatalf("reading the relay's log: %v", err)
		}
		if line["msg"] == "relay listening" {
			addr, _ = line["addr"].(string)
		}
	}
	go io.Copy(io.Discard, stdout)
	if code, body := post(t, "http://"+addr+"/?token=example-token-change-me", payload(t, "legacy_minimal.json")); code != 200 {
		t.Fatalf("webhook: %d %s", code, body)
	}
	if len(dt.Messages()) != 1 {
		t.Fatalf("%d messages", len(dt.Messages()))
	}
	_ = cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Errorf("relay exit: %v", err)
	}
}

// TestUnwritableSpool: a spool folder that cannot be created does not stop
// the relay.
func TestUnwritableSpool(t *testing.T) {
	dt := robottest.NewDingTalk(robottest.DingTalkRobot{Token: "example-access-token", Secret: exampleSecret, Keywords: []string{"详情"}})
	defer dt.Close()
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SENTRY_WHITE_DINGTALK_API": dt.URL()}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	var logs bytes.Buffer
	dir := exampleStore(t)
	go func() {
		done <- run(ctx, testKinds, []string{"-store", "file:" + dir, "-addr", "127.0.0.1:0", "-spool", filepath.Join(blocker, "spool")},
			func(k string) string { return env[k] }, &logs, ready)
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	if code, body := post(t, "http://"+addr+"/?token=example-token-change-me", payload(t, "legacy_minimal.json")); code != 200 {
		t.Errorf("webhook: %d %s", code, body)
	}
	cancel()
	<-done
	if !strings.Contains(logs.String(), "spool unusable") {
		t.Error("the spool fault is not logged")
	}
}
