package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/robottest"
)

// The relay as built, on call and in quiet hours (contract §7).

var shanghai = func() *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return l
}()

// writeDoc replaces the document of the folder store dir.
func writeDoc(t *testing.T, dir, doc string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "api", "v1"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "api", "v1", "config.json"), []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
}

// alert is a distinct legacy webhook for project slug at level, titled
// title.
func alert(slug, level, title string, n int) []byte {
	return fmt.Appendf(nil, `{"id": "%d", "project": %q, "project_slug": %q, "level": %q, "message": %q,
 "url": "https://acme.sentry.io/issues/%d/", "triggering_rules": ["r"], "event": {"event_id": "%032x", "title": %q}}`,
		7000+n, slug, slug, level, title, 7000+n, 7000+n, title)
}

func mustPost(t *testing.T, url string, body []byte, want int) map[string]any {
	t.Helper()
	code, raw := post(t, url, body)
	if code != want {
		t.Fatalf("POST %s = %d %s, want %d", url, code, raw, want)
	}
	var m map[string]any
	_ = json.Unmarshal([]byte(raw), &m)
	return m
}

// isAtAll reads at.isAtAll from a DingTalk request body.
func isAtAll(raw []byte) bool {
	var b struct {
		At struct {
			IsAtAll bool `json:"isAtAll"`
		} `json:"at"`
	}
	_ = json.Unmarshal(raw, &b)
	return b.At.IsAtAll
}

// TestOnCallRingsThePersonOnDuty: a project that rings the person on duty
// @-mentions only them, and names them; an override takes over for its
// range; a project that rings both adds the person on duty to its owners.
func TestOnCallRingsThePersonOnDuty(t *testing.T) {
	dt := robottest.NewDingTalk(robottest.DingTalkRobot{Token: "tok-a", Keywords: []string{"详情"}},
		robottest.DingTalkRobot{Token: "tok-notices", Keywords: []string{"详情"}})
	defer dt.Close()
	start := time.Now().In(shanghai).AddDate(0, 0, -30).Format("2006-01-02")
	doc := fmt.Sprintf(`{"schema": 1, "webhook_token": "oncall-token",
 "owners": [{"id": 1, "name": "张三", "mobile": "13800138001"}, {"id": 2, "name": "李四", "mobile": "13800138002"},
            {"id": 3, "name": "王五", "mobile": "13800138003"}],
 "robots": [{"id": 1, "name": "研发群", "kind": "dingtalk", "access_token": "tok-a", "keyword": "详情"},
            {"id": 2, "name": "值班通知", "kind": "dingtalk", "access_token": "tok-notices", "keyword": "详情"}],
 "schedules": [{"id": 1, "name": "后端值班", "owner_ids": [1], "period": "week", "handoff": "09:00",
                "timezone": "Asia/Shanghai", "start": %q, "robot_ids": [2]%%s}],
 "projects": [{"id": 1, "name": "商城", "slug": "mall", "owner_ids": [3], "robot_ids": [1], "mention": "oncall", "schedule_id": 1},
              {"id": 2, "name": "支付", "slug": "pay", "owner_ids": [3], "robot_ids": [1], "mention": "both", "schedule_id": 1}]}`, start)
	dir := storeFolder(t, fmt.Sprintf(doc, ""))
	p := startProc(t, []string{"SENTRY_WHITE_DINGTALK_API=" + dt.URL(), "SENTRY_WHITE_HISTORY=off"},
		"-store", "file:"+dir, "-addr", "127.0.0.1:0", "-spool", t.TempDir())
	addr := p.addr
	url := "http://" + addr + "/?token=oncall-token"
	toA := func() []robottest.DingTalkMessage {
		var out []robottest.DingTalkMessage
		for _, m := range dt.Messages() {
			if m.Token == "tok-a" {
				out = append(out, m)
			}
		}
		return out
	}

	mustPost(t, url, alert("mall", "error", "Checkout failed", 1), 200)
	msgs := toA()
	if len(msgs) != 1 || strings.Join(msgs[0].AtMobiles, ",") != "13800138001" || !msgs[0].Mentioned ||
		strings.Contains(msgs[0].Text, "13800138003") || !strings.Contains(msgs[0].Text, "**值班**: 张三") {
		t.Fatalf("oncall project: want only 张三 (on duty) @-mentioned and named:\n%+v", msgs)
	}
	mustPost(t, url, alert("pay", "error", "Refund failed", 2), 200)
	if msgs = toA(); len(msgs) != 2 || strings.Join(msgs[1].AtMobiles, ",") != "13800138001,13800138003" {
		t.Fatalf("both: want 张三 and 王五: %v", msgs[1].AtMobiles)
	}

	// 李四 covers from an hour ago to an hour from now: the override takes
	// over for its range (the folder store is read again at each webhook).
	now := time.Now().In(shanghai)
	writeDoc(t, dir, fmt.Sprintf(doc, fmt.Sprintf(`, "overrides": [{"owner_id": 2, "from": %q, "to": %q}]`,
		now.Add(-time.Hour).Format("2006-01-02T15:04"), now.Add(time.Hour).Format("2006-01-02T15:04"))))
	mustPost(t, url, alert("mall", "error", "Checkout failed again", 3), 200)
	if msgs = toA(); len(msgs) != 3 || strings.Join(msgs[2].AtMobiles, ",") != "13800138002" || !strings.Contains(msgs[2].Text, "**值班**: 李四") {
		t.Fatalf("override: want only 李四 @-mentioned: %+v", msgs[2])
	}
	// An override that ended gives the duty back to the rotation.
	writeDoc(t, dir, fmt.Sprintf(doc, fmt.Sprintf(`, "overrides": [{"owner_id": 2, "from": %q, "to": %q}]`,
		now.Add(-2*time.Hour).Format("2006-01-02T15:04"), now.Add(-time.Hour).Format("2006-01-02T15:04"))))
	mustPost(t, url, alert("mall", "error", "Checkout failed once more", 4), 200)
	if msgs = toA(); len(msgs) != 4 || strings.Join(msgs[3].AtMobiles, ",") != "13800138001" {
		t.Fatalf("after the override: want 张三 again: %v", msgs[3].AtMobiles)
	}
	// POST /invoke is Function Compute's; a server answers 404.
	if code, _ := post(t, "http://"+addr+"/invoke", []byte(`{}`)); code != http.StatusNotFound {
		t.Errorf("POST /invoke on a server = %d, want 404", code)
	}
}

// TestQuietHours drives the built relay (server mode, its real ticker
// every second) through a quiet window that ends within a minute: alerts
// of a hold project are answered "held", kept across a kill -9 and a
// restart, and arrive once, as one digest, after the window ends; a fatal
// one bypasses; a silent project's alert goes at once without any @. It
// takes about a minute: the window's end, and the robot's rate window
// after the crash.
func TestQuietHours(t *testing.T) {
	t.Parallel() // a minute of waiting, beside the other long tests
	dt := robottest.NewDingTalk(robottest.DingTalkRobot{Token: "tok-hold", Keywords: []string{"详情"}},
		robottest.DingTalkRobot{Token: "tok-silent", Keywords: []string{"详情"}})
	defer dt.Close()
	// The window runs from this minute to the next; alerts must come
	// inside it, so not in its last seconds.
	if s := time.Now().Second(); s >= 50 {
		time.Sleep(time.Duration(61-s) * time.Second)
	}
	now := time.Now().In(shanghai)
	end := now.Truncate(time.Minute).Add(time.Minute)
	doc := fmt.Sprintf(`{"schema": 1, "webhook_token": "quiet-token",
 "owners": [{"id": 1, "name": "张三", "mobile": "13800138001"}],
 "robots": [{"id": 1, "name": "研发群", "kind": "dingtalk", "access_token": "tok-hold", "keyword": "详情"},
            {"id": 2, "name": "运维群", "kind": "dingtalk", "access_token": "tok-silent", "keyword": "详情"}],
 "projects": [
   {"id": 1, "name": "商城", "slug": "mall", "owner_ids": [1], "robot_ids": [1],
    "quiet_hours": {"timezone": "Asia/Shanghai", "mode": "hold", "bypass_level": "fatal",
                    "windows": [{"days": [1,2,3,4,5,6,7], "from": %q, "to": %q}]}},
   {"id": 2, "name": "官网", "slug": "site", "owner_ids": [1], "robot_ids": [2],
    "quiet_hours": {"mode": "silent", "windows": [{"days": [1,2,3,4,5,6,7], "from": "00:00", "to": "00:00"}]}}]}`,
		now.Format("15:04"), end.Format("15:04"))
	dir, spool := storeFolder(t, doc), t.TempDir()
	env := []string{"SENTRY_WHITE_DINGTALK_API=" + dt.URL(), "SENTRY_WHITE_TICK=1s"}
	args := []string{"-store", "file:" + dir, "-addr", "127.0.0.1:0", "-spool", spool}
	p := startProc(t, env, args...)
	url := "http://" + p.addr + "/?token=quiet-token"
	to := func(token string) []robottest.DingTalkMessage {
		var out []robottest.DingTalkMessage
		for _, m := range dt.Messages() {
			if m.Token == token {
				out = append(out, m)
			}
		}
		return out
	}

	for n, title := range []string{"Held one", "Held two", "Held three"} {
		ans := mustPost(t, url, alert("mall", "error", title, 10+n), 200)
		d, _ := ans["delivered"].([]any)
		if ans["status"] != "held" || len(d) != 1 || d[0].(map[string]any)["held_until"] != end.UTC().Format(time.RFC3339) {
			t.Fatalf("a held alert's answer: %v", ans)
		}
	}
	mustPost(t, url, alert("mall", "fatal", "Fatal bypass", 20), 200)
	mustPost(t, url, alert("site", "error", "Silent one", 21), 200)
	if msgs := to("tok-hold"); len(msgs) != 1 || !strings.Contains(msgs[0].Text, "Fatal bypass") || !msgs[0].Mentioned ||
		strings.Join(msgs[0].AtMobiles, ",") != "13800138001" {
		t.Fatalf("in the window, robot 1 must get only the fatal alert, @-mentioning: %+v", msgs)
	}
	silent := to("tok-silent")
	if len(silent) != 1 || len(silent[0].AtMobiles) != 0 || isAtAll(silent[0].Raw) || strings.Contains(silent[0].Text, "@") ||
		!strings.Contains(silent[0].Text, "不提醒任何人") {
		t.Fatalf("a silent alert must go at once without any @: %+v", silent)
	}
	held := filepath.Join(dir, "api", "v1", "held", "1")
	if files, _ := os.ReadDir(held); len(files) != 3 {
		t.Fatalf("%d held alerts in the store, want 3", len(files))
	}

	// Crash while they are held, and start again. After a crash the relay
	// takes every robot to have spent its budget for one window (DingTalk:
	// a minute): the digest goes after the window ends and that minute.
	p.kill(t)
	startProc(t, env, args...)
	restarted := time.Now()

	deadline := end.Add(30 * time.Second)
	if d := restarted.Add(90 * time.Second); d.After(deadline) {
		deadline = d
	}
	for len(to("tok-hold")) < 2 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond) // polling the stand-in, bounded by the deadline
	}
	for time.Now().Before(deadline) {
		if files, _ := os.ReadDir(held); len(files) == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	msgs := to("tok-hold")
	if len(msgs) != 2 {
		t.Fatalf("%d messages to robot 1, want the fatal alert and one digest", len(msgs))
	}
	d := msgs[1]
	if d.At.Before(end) {
		t.Errorf("the digest came at %v, before the window ended at %v", d.At, end)
	}
	for _, want := range []string{"免打扰期间暂存的 3 条告警", "Held one", "Held two", "Held three", "详情"} {
		if !strings.Contains(d.Text, want) {
			t.Errorf("the digest lacks %q:\n%s", want, d.Text)
		}
	}
	if !d.Mentioned || strings.Join(d.AtMobiles, ",") != "13800138001" {
		t.Errorf("the digest must @-mention the owner: %v", d.AtMobiles)
	}
	if files, _ := os.ReadDir(held); len(files) != 0 {
		t.Errorf("%d held alerts left in the store after the digest", len(files))
	}
}

// TestTimerCallsAtOnce: Function Compute's timer calls POST /invoke; two
// instances called twice each at once, just after a handoff, send its
// notice once. A call through the HTTP trigger is refused.
func TestTimerCallsAtOnce(t *testing.T) {
	dt := robottest.NewDingTalk(robottest.DingTalkRobot{Token: "tok-notices", Keywords: []string{"值班"}})
	defer dt.Close()
	h := time.Now().In(shanghai).Add(-2 * time.Minute)
	dir := storeFolder(t, fmt.Sprintf(`{"schema": 1, "webhook_token": "timer-token",
 "owners": [{"id": 1, "name": "张三", "mobile": "13800138001"}, {"id": 2, "name": "李四", "mobile": "13800138002"}],
 "robots": [{"id": 1, "name": "值班群", "kind": "dingtalk", "access_token": "tok-notices", "keyword": "值班"}],
 "schedules": [{"id": 1, "name": "后端值班", "owner_ids": [1, 2], "period": "day", "handoff": %q,
                "timezone": "Asia/Shanghai", "start": %q, "robot_ids": [1]}],
 "projects": []}`, h.Format("15:04"), h.Format("2006-01-02")))
	env := []string{"SENTRY_WHITE_DINGTALK_API=" + dt.URL(), "SENTRY_WHITE_HISTORY=off"}
	var addrs []string
	for range 2 {
		addrs = append(addrs, startProc(t, env, "-store", "file:"+dir, "-addr", "127.0.0.1:0", "-spool", t.TempDir(), "-mode", "fc").addr)
	}
	var wg sync.WaitGroup
	codes := make(chan int, 4)
	for _, addr := range append(addrs, addrs...) {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/invoke",
				strings.NewReader(`{"triggerTime":"2026-12-14T01:00:00Z","triggerName":"timer","payload":""}`))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		})
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Errorf("POST /invoke = %d, want 200", c)
		}
	}
	msgs := dt.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d notices, want 1: %+v", len(msgs), msgs)
	}
	if !strings.Contains(msgs[0].Text, "今日值班：张三（下一位：李四）") || strings.Join(msgs[0].AtMobiles, ",") != "13800138001" {
		t.Errorf("the notice: %s %v", msgs[0].Text, msgs[0].AtMobiles)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+addrs[0]+"/invoke", nil)
	req.Header.Set("X-Fc-Control-Path", "/http-invoke")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("/invoke through the HTTP trigger = %d, want 403", resp.StatusCode)
	}
}

// TestOnCallInThreeKinds: the handoff notice, an alert ringing the person
// on duty and a silent alert, to a DingTalk, a WeCom and a Feishu robot:
// each mentions the person on duty the way its tool notifies them, and
// the silent one mentions nobody anywhere.
func TestOnCallInThreeKinds(t *testing.T) {
	const feishuSecret = "5pS0x0dW5wKZ1nqB3ZqJkc"
	dt := robottest.NewDingTalk(robottest.DingTalkRobot{Token: "dt-token", Keywords: []string{"详情"}})
	defer dt.Close()
	wc := robottest.NewWeCom("wc-key")
	defer wc.Close()
	fs := robottest.NewFeishu(robottest.FeishuRobot{Token: "fs-token", Secret: feishuSecret, Keywords: []string{"详情"}})
	defer fs.Close()
	h := time.Now().In(shanghai).Add(-2 * time.Minute)
	dir := storeFolder(t, fmt.Sprintf(`{"schema": 1, "webhook_token": "kinds-token",
 "owners": [{"id": 1, "name": "张三", "mobile": "13800138001", "wecom_user_id": "zhangsan", "feishu_open_id": "ou_zhangsan"},
            {"id": 2, "name": "李四", "mobile": "13800138002", "wecom_user_id": "lisi", "feishu_open_id": "ou_lisi"}],
 "robots": [{"id": 1, "name": "钉钉群", "kind": "dingtalk", "access_token": "dt-token", "keyword": "详情"},
            {"id": 2, "name": "企业微信群", "kind": "wecom", "access_token": "wc-key", "keyword": "详情"},
            {"id": 3, "name": "飞书群", "kind": "feishu", "access_token": "fs-token", "secret": %q, "keyword": "详情"}],
 "schedules": [{"id": 1, "name": "后端值班", "owner_ids": [1, 2], "period": "day", "handoff": %q, "start": %q}],
 "projects": [{"id": 1, "name": "商城", "slug": "mall", "owner_ids": [2], "robot_ids": [1, 2, 3], "mention": "oncall", "schedule_id": 1},
              {"id": 2, "name": "官网", "slug": "site", "owner_ids": [1, 2], "robot_ids": [1, 2, 3],
               "quiet_hours": {"mode": "silent", "windows": [{"days": [1,2,3,4,5,6,7], "from": "00:00", "to": "00:00"}]}}]}`,
		feishuSecret, h.Format("15:04"), h.Format("2006-01-02")))
	env := map[string]string{"SENTRY_WHITE_DINGTALK_API": dt.URL(), "SENTRY_WHITE_WECOM_API": wc.URL(), "SENTRY_WHITE_FEISHU_API": fs.URL(),
		"SENTRY_WHITE_HISTORY": "off"}
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() {
		done <- run(ctx, testKinds, []string{"-store", "file:" + dir, "-addr", "127.0.0.1:0", "-spool", t.TempDir(), "-mode", "fc"},
			func(k string) string { return env[k] }, io.Discard, ready)
	}()
	defer func() { cancel(); <-done }()
	base := "http://" + <-ready

	// The handoff notice, through the timer's call.
	mustPost(t, base+"/invoke", []byte(`{}`), 200)
	d, w, f := dt.Messages(), wc.Messages(), fs.Messages()
	if len(d) != 1 || strings.Join(d[0].AtMobiles, ",") != "13800138001" || !strings.Contains(d[0].Text, "今日值班：张三（下一位：李四）") {
		t.Errorf("DingTalk notice: %+v", d)
	}
	if len(w) != 1 || strings.Join(w[0].MarkdownMentions, ",") != "zhangsan" || !strings.Contains(w[0].Content, "今日值班：张三（下一位：李四）") {
		t.Errorf("WeCom notice: %+v", w)
	}
	if len(f) != 1 || strings.Join(f[0].Mentions, ",") != "ou_zhangsan" || !f[0].Signed {
		t.Errorf("Feishu notice: %+v", f)
	}
	// An alert of the on-call project rings 张三 only, and names him.
	mustPost(t, base+"/?token=kinds-token", alert("mall", "error", "On call", 30), 200)
	d, w, f = dt.Messages(), wc.Messages(), fs.Messages()
	if len(d) != 2 || strings.Join(d[1].AtMobiles, ",") != "13800138001" || !strings.Contains(d[1].Text, "**值班**: 张三") {
		t.Errorf("DingTalk alert: %+v", d[len(d)-1])
	}
	if len(w) != 2 || strings.Join(w[1].MarkdownMentions, ",") != "zhangsan" || !strings.Contains(w[1].Content, "值班") {
		t.Errorf("WeCom alert: %+v", w[len(w)-1])
	}
	if len(f) != 2 || strings.Join(f[1].Mentions, ",") != "ou_zhangsan" {
		t.Errorf("Feishu alert: %+v", f[len(f)-1])
	}
	// A silent alert: no mention in any tool.
	mustPost(t, base+"/?token=kinds-token", alert("site", "error", "Silent", 31), 200)
	d, w, f = dt.Messages(), wc.Messages(), fs.Messages()
	if len(d) != 3 || len(d[2].AtMobiles) != 0 || strings.Contains(d[2].Text, "@") || isAtAll(d[2].Raw) {
		t.Errorf("DingTalk silent: %+v", d[len(d)-1])
	}
	if len(w) != 3 || len(w[2].MarkdownMentions) != 0 || len(w[2].MentionedMobileList) != 0 || strings.Contains(w[2].Content, "<@") {
		t.Errorf("WeCom silent (%d messages): %+v", len(w), w[len(w)-1])
	}
	if len(f) != 3 || len(f[2].Mentions) != 0 {
		t.Errorf("Feishu silent: %+v", f[len(f)-1])
	}
}
