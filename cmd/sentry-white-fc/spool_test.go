package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/robottest"
)

// builtBinary is a program built once per test run.
type builtBinary struct {
	once sync.Once
	dir  string
	bin  string
	err  error
	out  []byte
}

// The built relay, once per test run: the crash and spool tests exec it as
// the acceptance checks and FC do; and the Sentry stand-in
// (tools/sentry-standin), as a person runs it.
var built, builtStandinBin builtBinary

func TestMain(m *testing.M) {
	code := m.Run()
	for _, b := range []*builtBinary{&built, &builtStandinBin} {
		if b.dir != "" {
			_ = os.RemoveAll(b.dir)
		}
	}
	os.Exit(code)
}

// builtRelay builds the relay (once) and returns the binary's path.
func builtRelay(t *testing.T) string { return buildOnce(t, &built, ".", "sentry-white-fc") }

// buildOnce builds package pkg into b's folder as name, once for the
// package's tests, and returns the binary's path.
func buildOnce(t *testing.T, b *builtBinary, pkg, name string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", name+"-test-"); b.err != nil {
			return
		}
		b.bin = filepath.Join(b.dir, name)
		build := exec.Command("go", "build", "-o", b.bin, pkg)
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		b.out, b.err = build.CombinedOutput()
	})
	if b.err != nil {
		t.Fatalf("build: %v\n%s", b.err, b.out)
	}
	return b.bin
}

// proc is a running relay binary and what it logged.
type proc struct {
	cmd  *exec.Cmd
	addr string
	mu   sync.Mutex
	logs []map[string]any
	done chan struct{} // closed once its output ends
}

// startProc starts the built relay and waits until it listens (or exits:
// then addr is "" and the logs say why).
func startProc(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(builtRelay(t), args...), done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	stdout, _ := p.cmd.StdoutPipe()
	p.cmd.Stderr = p.cmd.Stdout
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.cmd.Process.Kill(); <-p.done; _ = p.cmd.Wait() })
	listening := make(chan string, 1)
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) != nil {
				line = map[string]any{"msg": sc.Text()}
			}
			p.mu.Lock()
			p.logs = append(p.logs, line)
			p.mu.Unlock()
			if line["msg"] == "relay listening" {
				addr, _ := line["addr"].(string)
				listening <- addr
			}
		}
	}()
	select {
	case p.addr = <-listening:
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatal("the relay did not start")
	}
	return p
}

// logged returns the log lines whose message contains msg.
func (p *proc) logged(msg string) []map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []map[string]any
	for _, l := range p.logs {
		if s, _ := l["msg"].(string); strings.Contains(s, msg) {
			out = append(out, l)
		}
	}
	return out
}

// kill ends the relay with SIGKILL, as a crash would.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	_ = p.cmd.Wait()
}

// storeFolder writes doc as a folder store's document and returns the
// folder.
func storeFolder(t *testing.T, doc string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "api", "v1"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "api", "v1", "config.json"), []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestCrashKeepsTheRateBudget (#30.3): fifteen alerts delivered at once
// (nothing spooled), kill -9, a restart, fifteen more: DingTalk, which
// blocks a robot for ten minutes after its 21st message in a minute, never
// answers 130101. The restart cannot know what the crash left unsaved, so
// it assumes the worst: the alerts wait one window (202) and go out after.
func TestCrashKeepsTheRateBudget(t *testing.T) {
	dt := robottest.NewDingTalk(robottest.DingTalkRobot{Token: "token-a", Keywords: []string{"详情"}},
		robottest.DingTalkRobot{Token: "token-b", Keywords: []string{"详情"}})
	defer dt.Close()
	dt.LimitCode = 130101
	dir, spool := storeFolder(t, crashDoc), filepath.Join(t.TempDir(), "spool")
	env := []string{"SENTRY_WHITE_DINGTALK_API=" + dt.URL(), "SENTRY_WHITE_HISTORY=off"}
	args := []string{"-store", "file:" + dir, "-addr", "127.0.0.1:0", "-spool", spool}
	p := startProc(t, env, args...)
	for n := 1; n <= 15; n++ {
		if code, body := post(t, "http://"+p.addr+"/?token=crash-token", crashAlert("p-a", n)); code != 200 {
			t.Fatalf("alert %d before the crash: %d %s", n, code, body)
		}
	}
	p.kill(t)
	p = startProc(t, env, args...)
	for n := 16; n <= 30; n++ {
		if code, body := post(t, "http://"+p.addr+"/?token=crash-token", crashAlert("p-a", n)); code != 200 && code != 202 {
			t.Fatalf("alert %d after the crash: %d %s", n, code, body)
		}
	}
	if rej := dt.Rejected(); len(rej) != 0 {
		t.Fatalf("DingTalk refused %v after the restart: the crash forgot the robot's budget (%d messages)", rej, len(dt.Messages()))
	}
	if len(p.logged("did not stop cleanly")) == 0 {
		t.Error("the restart does not say the last run crashed")
	}
}

// teamDoc is a team's document: robot 1 posts to its own DingTalk group
// (token), project slug names its project; hook is its webhook token.
func teamDoc(hook, token, slug string) string {
	return fmt.Sprintf(`{"schema": 1, "webhook_token": %q,
 "owners": [{"id": 1, "name": "张三", "mobile": "13800138000"}],
 "robots": [{"id": 1, "name": "群", "kind": "dingtalk", "access_token": %q, "keyword": "详情"}],
 "projects": [{"id": 1, "name": "项目", "slug": %q, "owner_ids": [1], "robot_ids": [1]}]}`, hook, token, slug)
}

// getJSON fetches url and decodes its JSON answer.
func getJSON(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// TestSpoolKeepsToItsStore (#30.11): team A's relay queues alerts behind
// DingTalk's limit and is killed; team B's relay starts on the same spool
// folder. B neither sends, counts nor deletes A's jobs (its own first alert
// goes out at once), and says in its log and on GET / with its token that
// it found them; A, started again, still has them. A second relay on A's
// store and folder refuses to start instead of sharing the spool.
func TestSpoolKeepsToItsStore(t *testing.T) {
	dt := robottest.NewDingTalk(robottest.DingTalkRobot{Token: "token-a", Keywords: []string{"详情"}},
		robottest.DingTalkRobot{Token: "token-b", Keywords: []string{"详情"}})
	defer dt.Close()
	storeA, storeB := storeFolder(t, teamDoc("hook-a", "token-a", "p-a")), storeFolder(t, teamDoc("hook-b", "token-b", "p-b"))
	spool := filepath.Join(t.TempDir(), "spool")
	env := []string{"SENTRY_WHITE_DINGTALK_API=" + dt.URL(), "SENTRY_WHITE_HISTORY=off"}
	argsA := []string{"-store", "file:" + storeA, "-addr", "127.0.0.1:0", "-spool", spool}
	argsB := []string{"-store", "file:" + storeB, "-addr", "127.0.0.1:0", "-spool", spool}

	a := startProc(t, env, argsA...)
	queued := 0
	for n := 1; n <= 25; n++ {
		code, body := post(t, "http://"+a.addr+"/?token=hook-a", crashAlert("p-a", n))
		switch code {
		case 200:
		case 202:
			queued++
		default:
			t.Fatalf("team A's alert %d: %d %s", n, code, body)
		}
	}
	if queued != 5 {
		t.Fatalf("%d of team A's alerts queued, want 5", queued)
	}
	a.kill(t)

	b := startProc(t, env, argsB...)
	if l := b.logged("relay listening"); len(l) != 1 || l[0]["queued"] != float64(0) {
		t.Errorf("team B's relay took team A's jobs: %v", l)
	}
	if len(b.logged("another store")) == 0 {
		t.Error("team B's relay does not say it found another store's alerts in its spool folder")
	}
	if code, body := post(t, "http://"+b.addr+"/?token=hook-b", crashAlert("p-b", 100)); code != 200 {
		t.Errorf("team B's first alert: %d %s (team A's budget counted against B's robot?)", code, body)
	}
	_, with := getJSON(t, "http://"+b.addr+"/?token=hook-b")
	if s := fmt.Sprint(with["spool"]); !strings.Contains(s, "other_stores") || !strings.Contains(s, "alerts:5") {
		t.Errorf("GET / with the token does not name the other store's alerts: %v", with)
	}
	if _, without := getJSON(t, "http://"+b.addr+"/"); without["spool"] != nil {
		t.Errorf("GET / without the token shows the spool: %v", without)
	}
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-b.done
	_ = b.cmd.Wait()
	for _, m := range dt.Messages() {
		if m.Token == "token-b" && strings.Contains(m.Text, "Crash alert 0") {
			t.Errorf("team A's alert went to team B's group: %s", m.Text)
		}
	}

	a = startProc(t, env, argsA...)
	if l := a.logged("relay listening"); len(l) != 1 || l[0]["queued"] != float64(5) {
		t.Errorf("team A's relay, started again, has %v of its 5 queued alerts", l)
	}
	// The same store and folder twice: the second refuses to share it.
	a2 := startProc(t, env, argsA...)
	if a2.addr != "" {
		t.Fatal("a second relay on the same store started on the same spool folder")
	}
	if len(a2.logged("in use")) == 0 {
		t.Errorf("the second relay does not say why it stopped: %v", a2.logs)
	}
}
