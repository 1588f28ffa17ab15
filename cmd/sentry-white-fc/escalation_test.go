package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/robottest"
)

// The relay as built, escalating (contract §7 projects[].escalation).

const escSecret = "esc-client-secret"

// signedIssueWebhook is Sentry's issue webhook (testdata's issue.assigned,
// as the internal integration sends it) for issue id of project slug,
// signed with the organization's client secret.
func signedIssueWebhook(t *testing.T, url, slug, id string) {
	t.Helper()
	body := bytes.ReplaceAll(payload(t, "issue_assigned.json"), []byte(`"id":"1170820242"`), fmt.Appendf(nil, `"id":%q`, id))
	body = bytes.ReplaceAll(body, []byte(`"slug":"mall-api"`), fmt.Appendf(nil, `"slug":%q`, slug))
	mac := hmac.New(sha256.New, []byte(escSecret))
	mac.Write(body)
	code, raw := post(t, url, body, "Sentry-Hook-Resource", "issue", "Sentry-Hook-Signature", hex.EncodeToString(mac.Sum(nil)),
		"Sentry-Hook-Timestamp", strconv.FormatInt(time.Now().Unix(), 10))
	if code != http.StatusOK {
		t.Fatalf("issue.assigned: %d %s", code, raw)
	}
}

// TestEscalationThroughTheRelay: on Function Compute (-mode fc, the timer
// calling POST /invoke), alerts of projects that escalate after one
// minute: the unacknowledged one is posted again after a minute ringing
// the person on duty; a project whose first step is everyone rings
// @all (isAtAll); the one Sentry reported assigned is not escalated. The
// instance that took the alerts is killed (kill -9) before the step is due
// and two fresh instances, each called twice at once every second, send
// each step once; another kill and a fresh instance after the step send
// nothing again. About a minute: the step's real minute (the timing of
// every step is the fake clock's, in internal/timed).
func TestEscalationThroughTheRelay(t *testing.T) {
	t.Parallel()
	dt := robottest.NewDingTalk(robottest.DingTalkRobot{Token: "tok-esc", Keywords: []string{"详情"}})
	defer dt.Close()
	start := time.Now().In(shanghai).AddDate(0, 0, -8).Format("2006-01-02")
	dir := storeFolder(t, fmt.Sprintf(`{"schema": 1, "webhook_token": "esc-token",
 "organizations": [{"id": 1, "name": "acme", "slug": "acme", "sentry_url": "https://acme.sentry.io", "client_secret": %q}],
 "owners": [{"id": 1, "name": "张三", "mobile": "13800138001"}, {"id": 2, "name": "王五", "mobile": "13800138003"}],
 "robots": [{"id": 1, "name": "研发群", "kind": "dingtalk", "access_token": "tok-esc", "keyword": "详情"}],
 "schedules": [{"id": 1, "name": "后端值班", "owner_ids": [1], "period": "week", "handoff": "09:00",
                "timezone": "Asia/Shanghai", "start": %q, "robot_ids": [1]}],
 "projects": [{"id": 1, "name": "商城", "slug": "mall", "organization_id": 1, "owner_ids": [2], "robot_ids": [1], "schedule_id": 1,
               "escalation": {"after_minutes": 1, "steps": ["oncall", "owners", "all"]}},
              {"id": 2, "name": "支付", "slug": "pay", "organization_id": 1, "owner_ids": [2], "robot_ids": [1],
               "escalation": {"after_minutes": 1, "steps": ["all"], "min_level": "error"}}]}`, escSecret, start))
	env := []string{"SENTRY_WHITE_DINGTALK_API=" + dt.URL()}
	fc := func() *proc {
		return startProc(t, env, "-store", "file:"+dir, "-addr", "127.0.0.1:0", "-spool", t.TempDir(), "-mode", "fc")
	}
	a := fc()
	url := "http://" + a.addr + "/?token=esc-token"
	mustPost(t, url, alert("mall", "error", "Checkout failed", 1), 200) // issue 7001
	mustPost(t, url, alert("pay", "error", "Refund failed", 2), 200)    // issue 7002
	mustPost(t, url, alert("mall", "error", "Cart lost", 3), 200)       // issue 7003
	mustPost(t, url, alert("mall", "error", "Checkout failed", 1), 200) // 7001 again: still one chain
	sent := time.Now()
	signedIssueWebhook(t, url, "mall", "7003")
	if files, _ := os.ReadDir(filepath.Join(dir, "api", "v1", "escalations", "1")); len(files) != 2 {
		t.Fatalf("%d issues of mall escalating in the store, want 2", len(files))
	}
	a.kill(t) // before the step is due: the chains are in the store

	escalations := func() []robottest.DingTalkMessage {
		var out []robottest.DingTalkMessage
		for _, m := range dt.Messages() {
			if strings.Contains(m.Text, "无人处理") {
				out = append(out, m)
			}
		}
		return out
	}
	// FC's timer, twice at once on each of two fresh instances, every second.
	invoke := func(ps ...*proc) {
		var wg sync.WaitGroup
		for _, p := range append(ps, ps...) {
			wg.Go(func() {
				if code, body := post(t, "http://"+p.addr+"/invoke", []byte(`{"triggerName":"timer"}`)); code != http.StatusOK {
					t.Errorf("POST /invoke = %d %s", code, body)
				}
			})
		}
		wg.Wait()
	}
	b, c := fc(), fc()
	deadline := sent.Add(75 * time.Second)
	for len(escalations()) < 2 && time.Now().Before(deadline) {
		invoke(b, c)
		time.Sleep(time.Second) // FC's timer, faster: a call a second
	}
	for range 3 {
		invoke(b, c)
	}
	got := escalations()
	if len(got) != 2 {
		t.Fatalf("%d escalations, want 2 (7001's step 1 and 7002's): %+v", len(got), got)
	}
	var step1, all robottest.DingTalkMessage
	for _, m := range got {
		if strings.Contains(m.Text, "Checkout failed") {
			step1 = m
		} else {
			all = m
		}
	}
	if !strings.Contains(step1.Text, "【1 分钟无人处理】") || !strings.Contains(step1.Text, "提醒值班：张三（第 1 步，共 3 步）") ||
		strings.Join(step1.AtMobiles, ",") != "13800138001" || !step1.Mentioned || step1.AtAll {
		t.Errorf("mall's step 1 must ring 张三, on duty:\n%s %v", step1.Text, step1.AtMobiles)
	}
	if !strings.Contains(all.Text, "Refund failed") || !all.AtAll || !strings.Contains(all.Text, "提醒群内所有人") || len(all.AtMobiles) != 0 {
		t.Errorf("pay's step rings everyone (isAtAll):\n%s all=%v", all.Text, all.AtAll)
	}
	if first := got[0].At; first.Before(sent.Add(59 * time.Second)) {
		t.Errorf("an escalation came %v after the alerts, before the minute", first.Sub(sent))
	}
	for _, m := range dt.Messages() {
		if strings.Contains(m.Text, "Cart lost") && strings.Contains(m.Text, "无人处理") {
			t.Errorf("the assigned issue escalated:\n%s", m.Text)
		}
	}
	// Another crash after the step, and a fresh instance: nothing again.
	b.kill(t)
	d := fc()
	for range 3 {
		invoke(c, d)
	}
	if n := len(escalations()); n != 2 {
		t.Errorf("%d escalations after the restart, want still 2", n)
	}
}

// TestActionLinkStopsTheEscalation: the relay as built with Sentry's
// stand-in, acting from the chat: of two alerts of a project that
// escalates after a minute, the one someone took with its "我来处理" link
// is not escalated (the action recorded its acknowledgement); the other
// is, and carries the links to take it. It shares its minute with the
// other minute-long tests.
func TestActionLinkStopsTheEscalation(t *testing.T) {
	t.Parallel()
	a := startActingRelay(t)
	a.p.kill(t) // the relay again, ticking every second
	env := []string{"SENTRY_WHITE_DINGTALK_API=" + a.dt.URL(), "SENTRY_WHITE_WECOM_API=" + a.wc.URL(),
		"SENTRY_WHITE_FEISHU_API=" + a.fs.URL(), "SENTRY_WHITE_SENTRY_TIMEOUT=600ms", "SENTRY_WHITE_TICK=1s"}
	a.p = startProc(t, env, "-store", "file:"+a.dir, "-addr", "127.0.0.1:0", "-spool", t.TempDir())
	a.base = "http://" + a.p.addr
	doc := strings.Replace(a.document(a.base), `"robot_ids": [1, 2, 3]}]}`,
		`"robot_ids": [1], "escalation": {"after_minutes": 1, "steps": ["owners"]}}]}`, 1)
	writeDoc(t, a.dir, doc)

	taken := payload(t, "legacy_saas.json")
	other := bytes.ReplaceAll(bytes.ReplaceAll(taken, []byte(actIssue), []byte("4567890124")),
		[]byte("9f2c1b7d3a4e4c8b8e6f1a2b3c4d5e6f"), []byte("0f2c1b7d3a4e4c8b8e6f1a2b3c4d5e60"))
	for _, body := range [][]byte{taken, other} {
		if code, raw := post(t, a.base+"/?token=tok", body); code != http.StatusOK {
			t.Fatalf("webhook: %d %s", code, raw)
		}
	}
	sent := time.Now()
	var take string
	for _, m := range linkRE.FindAllStringSubmatch(a.dt.Messages()[0].Text, -1) {
		if m[1] == "我来处理" {
			take = m[2]
		}
	}
	if code, page := a.act(take, "1"); code != http.StatusOK {
		t.Fatalf("take: %d\n%s", code, page)
	}
	if acks, _ := os.ReadDir(filepath.Join(a.dir, "api", "v1", "acks", "1", actIssue)); len(acks) != 1 ||
		!strings.HasSuffix(acks[0].Name(), "-action.json") {
		t.Fatalf("the action's acknowledgement: %v", acks)
	}
	escalated := func() []robottest.DingTalkMessage {
		var out []robottest.DingTalkMessage
		for _, m := range a.dt.Messages() {
			if strings.Contains(m.Text, "无人处理") {
				out = append(out, m)
			}
		}
		return out
	}
	for len(escalated()) == 0 && time.Since(sent) < 75*time.Second {
		time.Sleep(200 * time.Millisecond) // the relay ticks every second; polling the stand-in
	}
	time.Sleep(3 * time.Second) // three more ticks: the taken one must stay quiet
	got := escalated()
	if len(got) != 1 || !strings.Contains(got[0].Text, "/issues/4567890124/") || strings.Contains(got[0].Text, "/issues/"+actIssue+"/") {
		t.Fatalf("want only the untaken issue escalated: %+v", got)
	}
	if !strings.Contains(got[0].Text, "提醒负责人：张三、王五") || len(linkRE.FindAllString(got[0].Text, -1)) != 3 ||
		strings.Join(got[0].AtMobiles, ",") != "13800138000,13700137000" {
		t.Errorf("the escalation rings the owners and carries the links to take it:\n%s", got[0].Text)
	}
}
