package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
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

// TestCrashAndRestartDeliversAtLeastOnce kills the relay (SIGKILL) with
// alerts queued behind a robot's rate limit, alerts refused while its spool
// could not be written, and thirty alerts to a slow robot — one that takes
// each message at once and answers 4 s later, so twenty sends are in the
// air; then starts it again on the same spool. Every alert answered 200 or
// 202 is delivered at least once, every refused one (503) never; a second
// copy comes only of a send that was in flight at the crash (the robot may
// have taken it: nobody can know), at most one per such send, and it says
// 可能重复; the robots' rate limits hold across the restart. It takes
// about a minute: after a crash the robots wait one window, as DingTalk's
// would.
func TestCrashAndRestartDeliversAtLeastOnce(t *testing.T) {
	t.Parallel() // a minute and more of waiting, beside the other long tests
	dt := robottest.NewDingTalk(robottest.DingTalkRobot{Token: "token-a", Keywords: []string{"详情"}},
		robottest.DingTalkRobot{Token: "token-b", Keywords: []string{"详情"}})
	defer dt.Close()
	dir, spool := storeFolder(t, crashDoc), filepath.Join(t.TempDir(), "spool")
	env := []string{"SENTRY_WHITE_DINGTALK_API=" + dt.URL(), "SENTRY_WHITE_HISTORY=off"}
	args := []string{"-store", "file:" + dir, "-addr", "127.0.0.1:0", "-spool", spool}
	p := startProc(t, env, args...)
	url := "http://" + p.addr + "/?token=crash-token"

	var mu sync.Mutex
	accepted, refused := map[int]bool{}, map[int]bool{}
	send := func(slug string, n int) int {
		code, body := post(t, url, crashAlert(slug, n))
		mu.Lock()
		defer mu.Unlock()
		switch code {
		case 200, 202:
			accepted[n] = true
		case 503:
			refused[n] = true
		default:
			t.Errorf("alert %d: %d %s", n, code, body)
		}
		return code
	}
	// Robot A: 20 go out, 5 wait for its budget (202).
	for n := 1; n <= 25; n++ {
		send("p-a", n)
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
	_ = os.Remove(spool)
	if err := os.Rename(spool+".away", spool); err != nil {
		t.Fatal(err)
	}
	// Robot B takes each message at once and answers 4 s later: 20 sends
	// are in the air at the answers (202), 10 wait for its budget (202).
	dt.SetAnswerLatency(4 * time.Second)
	var wg sync.WaitGroup
	for n := 101; n <= 130; n++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code := send("p-b", n); code != 202 {
				t.Errorf("a slow robot's alert %d answered %d, want 202", n, code)
			}
		}()
	}
	wg.Wait()
	// Crash, with robot B's sends in the air.
	p.kill(t)
	before := dt.Messages()
	inFlight := 0
	for _, m := range before {
		if m.Token == "token-b" {
			inFlight++
		}
	}
	if inFlight != 20 {
		t.Logf("%d of robot B's sends had reached it at the crash", inFlight)
	}
	dt.SetAnswerLatency(0)
	startProc(t, env, args...)

	// alerts lists, per alert, the digest or message lines naming it.
	alerts := func(msgs []robottest.DingTalkMessage) map[int][]string {
		seen := map[int][]string{}
		for _, m := range msgs {
			for _, line := range strings.Split(m.Text, "\n") {
				for n := 1; n <= 200; n++ {
					if strings.Contains(line, fmt.Sprintf("Crash alert %03d", n)) {
						seen[n] = append(seen[n], line)
					}
				}
			}
		}
		return seen
	}
	deadline := time.Now().Add(150 * time.Second)
	for {
		seen := alerts(dt.Messages())
		done := true
		for n := range accepted {
			done = done && len(seen[n]) > 0
		}
		if done || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond) // polling the stand-in, bounded by the deadline
	}
	first, after := alerts(before), alerts(dt.Messages()[len(before):])
	copies := 0
	for n := range accepted {
		switch total := len(first[n]) + len(after[n]); {
		case total == 0:
			t.Errorf("accepted alert %d was never delivered", n)
		case total > 2 || len(first[n]) > 1 || len(after[n]) > 1:
			t.Errorf("accepted alert %d delivered %d times: %q %q", n, total, first[n], after[n])
		case total == 2:
			copies++
			if n < 101 {
				t.Errorf("alert %d, not in flight at the crash, delivered twice", n)
			}
			if !strings.Contains(after[n][0], "可能重复") {
				t.Errorf("the second copy of alert %d does not say it may be a repeat: %s", n, after[n][0])
			}
		case len(first[n]) == 0 && strings.Contains(after[n][0], "可能重复"):
			t.Errorf("alert %d, which had not reached the robot, is marked as a possible repeat: %s", n, after[n][0])
		}
	}
	if copies > inFlight {
		t.Errorf("%d alerts arrived twice, but only %d sends were in flight at the crash", copies, inFlight)
	}
	t.Logf("%d sends in flight at the crash, %d arrived twice (marked 可能重复)", inFlight, copies)
	for n := range refused {
		if len(first[n])+len(after[n]) != 0 {
			t.Errorf("refused alert %d delivered, want never (Sentry was told 503)", n)
		}
	}
	if rej := dt.Rejected(); len(rej) != 0 {
		t.Errorf("the robot refused messages (rate limit across the restart?): %v", rej)
	}
	if len(accepted) != 55 || len(refused) != 2 {
		t.Errorf("%d accepted, %d refused; want 55 and 2", len(accepted), len(refused))
	}
}
