package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/robottest"
)

// crashDoc has two keyword robots, each with its project.
const crashDoc = `{"schema": 1, "webhook_token": "crash-token",
 "owners": [{"id": 1, "name": "张三", "mobile": "13800138000"}],
 "robots": [{"id": 1, "name": "A群", "kind": "dingtalk", "access_token": "token-a", "keyword": "详情"},
            {"id": 2, "name": "B群", "kind": "dingtalk", "access_token": "token-b", "keyword": "详情"}],
 "projects": [{"id": 1, "name": "A项目", "slug": "p-a", "owner_ids": [1], "robot_ids": [1]},
              {"id": 2, "name": "B项目", "slug": "p-b", "owner_ids": [1], "robot_ids": [2]}]}`

// crashAlert is a distinct legacy webhook for project slug, titled by n.
func crashAlert(slug string, n int) []byte {
	issue := 9000 + n
	return fmt.Appendf(nil, `{"id": "%d", "project": %q, "project_slug": %q, "level": "error", "message": "Crash alert %03d",
 "url": "https://acme.sentry.io/issues/%d/?referrer=webhooks_plugin", "triggering_rules": ["r"],
 "event": {"event_id": "%032x", "title": "Crash alert %03d"}}`, issue, slug, slug, n, issue, issue, n)
}

// startBinary starts the built relay and returns its address.
func startBinary(t *testing.T, bin string, env []string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(stdout)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		var line map[string]any
		if err := dec.Decode(&line); err != nil {
			_ = cmd.Wait()
			t.Fatalf("reading the relay's log: %v\n%s", err, stderr.String())
		}
		if line["msg"] == "relay listening" {
			go io.Copy(io.Discard, stdout)
			addr, _ := line["addr"].(string)
			return cmd, addr
		}
	}
	t.Fatal("the relay did not start")
	return nil, ""
}

// TestCrashAndRestartDeliversExactlyOnce kills the relay (SIGKILL) with
// alerts queued behind a robot's rate limit, sends to a slow robot still
// under way, and alerts refused while its spool could not be written; then
// starts it again on the same spool. Every alert answered 200 or 202 is
// delivered exactly once, every refused one (503) never, and the robots'
// rate limits hold across the restart. It takes about a minute: the
// queued alerts wait for the robot's budget, as DingTalk's would.
func TestCrashAndRestartDeliversExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("waits a minute for a robot's budget")
	}
	bin := filepath.Join(t.TempDir(), "sentry-white-fc")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dt := robottest.NewDingTalk(robottest.DingTalkRobot{Token: "token-a", Keywords: []string{"详情"}},
		robottest.DingTalkRobot{Token: "token-b", Keywords: []string{"详情"}})
	defer dt.Close()
	dir, spool := t.TempDir(), filepath.Join(t.TempDir(), "spool")
	if err := os.MkdirAll(filepath.Join(dir, "api", "v1"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "api", "v1", "config.json"), []byte(crashDoc), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"SENTRY_WHITE_DINGTALK_API=" + dt.URL(), "SENTRY_WHITE_HISTORY=off"}
	args := []string{"-store", "file:" + dir, "-addr", "127.0.0.1:0", "-spool", spool}
	cmd, addr := startBinary(t, bin, env, args...)
	defer func() { _ = cmd.Process.Kill() }()
	url := "http://" + addr + "/?token=crash-token"

	accepted, refused := map[int]bool{}, map[int]bool{}
	send := func(slug string, n int) int {
		code, body := post(t, url, crashAlert(slug, n))
		switch code {
		case 200, 202:
			accepted[n] = true
		case 503:
			refused[n] = true
		default:
			t.Fatalf("alert %d: %d %s", n, code, body)
		}
		return code
	}
	// Robot A: 20 go out, 5 wait for its budget (202).
	for n := 1; n <= 25; n++ {
		send("p-a", n)
	}
	// Robot B is slow: its sends are still under way at the answer (202).
	dt.SetLatency(4 * time.Second)
	for n := 101; n <= 103; n++ {
		if code := send("p-b", n); code != 202 {
			t.Fatalf("a slow robot's alert answered %d, want 202", code)
		}
	}
	// The spool cannot be written: alerts that must wait are refused.
	if err := os.Rename(spool, spool+".away"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(spool, []byte("not a folder"), 0o600); err != nil {
		t.Fatal(err)
	}
	for n := 26; n <= 27; n++ {
		if code := send("p-a", n); code != 503 {
			t.Errorf("alert %d with the spool unwritable answered %d, want 503", n, code)
		}
	}
	// Crash, with robot B's sends in the air.
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	_ = os.Remove(spool)
	if err := os.Rename(spool+".away", spool); err != nil {
		t.Fatal(err)
	}
	dt.SetLatency(0)
	cmd2, _ := startBinary(t, bin, env, args...)
	defer func() { _ = cmd2.Process.Kill() }()

	count := func() map[int]int {
		seen := map[int]int{}
		for _, m := range dt.Messages() {
			for n := 1; n <= 200; n++ {
				if strings.Contains(m.Text, fmt.Sprintf("Crash alert %03d", n)) {
					seen[n]++
				}
			}
		}
		return seen
	}
	deadline := time.Now().Add(150 * time.Second)
	for {
		seen := count()
		done := true
		for n := range accepted {
			done = done && seen[n] > 0
		}
		if done || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond) // polling the stand-in, bounded by the deadline
	}
	seen := count()
	for n := range accepted {
		if seen[n] != 1 {
			t.Errorf("accepted alert %d delivered %d times, want exactly once", n, seen[n])
		}
	}
	for n := range refused {
		if seen[n] != 0 {
			t.Errorf("refused alert %d delivered %d times, want none (Sentry was told 503)", n, seen[n])
		}
	}
	if rej := dt.Rejected(); len(rej) != 0 {
		t.Errorf("the robot refused messages (rate limit across the restart?): %v", rej)
	}
	if len(accepted) != 28 || len(refused) != 2 {
		t.Errorf("%d accepted, %d refused; want 28 and 2", len(accepted), len(refused))
	}
}
