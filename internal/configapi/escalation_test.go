package configapi

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/deliveries"
	"github.com/sentry-white/sentry-white/internal/escalate"
	"github.com/sentry-white/sentry-white/internal/robottest"
	"github.com/sentry-white/sentry-white/internal/store"
)

// setupEscalation stores two owners, a schedule with 张三 on duty since a
// week ago, a robot with a morning summary, and a project that escalates
// to the person on duty, then its owner 王五, then everyone.
func setupEscalation(t *testing.T, e *testEnv) {
	t.Helper()
	e.must(http.StatusCreated, "POST", "/api/v1/organizations", map[string]any{"name": "acme", "sentry_url": "https://acme.sentry.io", "slug": "acme"})
	e.must(http.StatusCreated, "POST", "/api/v1/owners", map[string]any{"name": "张三", "mobile": "13800138001"})
	e.must(http.StatusCreated, "POST", "/api/v1/owners", map[string]any{"name": "王五", "mobile": "13800138003"})
	e.must(http.StatusCreated, "POST", "/api/v1/schedules", map[string]any{"name": "后端值班", "owner_ids": []int{1}, "period": "week",
		"handoff": "09:00", "timezone": "Asia/Shanghai", "start": time.Now().AddDate(0, 0, -8).Format("2006-01-02")})
	e.must(http.StatusCreated, "POST", "/api/v1/robots", map[string]any{"name": "研发群",
		"access_token": "https://oapi.dingtalk.com/robot/send?access_token=tok-sum", "keyword": "详情",
		"daily_digest": map[string]any{"at": "09:30", "timezone": "Asia/Shanghai"}})
	e.must(http.StatusCreated, "POST", "/api/v1/projects", map[string]any{"name": "商城", "slug": "mall", "organization_id": 1,
		"owner_ids": []int{2}, "robot_ids": []int{1}, "schedule_id": 1,
		"escalation": map[string]any{"after_minutes": 15, "steps": []string{"oncall", "owners", "all"}, "min_level": "error"}})
}

// TestEscalationInPlainWords: the project's escalation in words, step by
// step with whom each rings now, in the project's own endpoint and the
// preview; while the organization never sent an issue webhook, a warning
// says escalation cannot know about acknowledgements, and it goes once
// the relay recorded one.
func TestEscalationInPlainWords(t *testing.T) {
	e := newEnv(t)
	setupEscalation(t, e)
	m := e.must(http.StatusOK, "GET", "/api/v1/projects/1/escalation", nil)
	v, _ := m["escalation"].(map[string]any)
	if m["escalates"] != true || v == nil {
		t.Fatalf("escalation = %v", m)
	}
	if w := v["words"]; w != "如果 15 分钟无人处理，提醒值班（张三），然后提醒负责人（王五），然后提醒群内所有人（error 及以上的告警）；每一步间隔 15 分钟" {
		t.Errorf("words = %q", w)
	}
	steps := asList(v["steps"])
	if len(steps) != 3 || steps[0].(map[string]any)["after_minutes"] != 15.0 || steps[2].(map[string]any)["rings_all"] != true ||
		asList(steps[1].(map[string]any)["rings"])[0].(map[string]any)["name"] != "王五" {
		t.Errorf("steps = %v", steps)
	}
	if v["warning_code"] != "no_issue_webhooks" || !strings.Contains(v["warning"].(string), "never received an issue webhook") || v["active"] != false {
		t.Errorf("without issue webhooks or action links escalation is off, and says so: %v", v)
	}
	en := e.must(http.StatusOK, "GET", "/api/v1/projects/1/escalation?lang=en", nil)["escalation"].(map[string]any)
	if w := en["words"]; w != "if nobody takes it in 15 minutes, ring the person on duty (张三), then the owners (王五), then everyone in the group (alerts at error or above); each next step 15 minutes later" {
		t.Errorf("English words = %q", w)
	}
	// With action links (relay_url and the organization's api_token) it
	// escalates, knowing only of the links used.
	e.must(http.StatusOK, "PATCH", "/api/v1/organizations/1", map[string]any{"api_token": "sntrys_escalation_test"})
	e.must(http.StatusOK, "PUT", "/api/v1/action-links", map[string]any{"relay_url": "https://alerts.example.com"})
	v = e.must(http.StatusOK, "GET", "/api/v1/projects/1/escalation", nil)["escalation"].(map[string]any)
	if v["warning_code"] != "no_issue_webhooks_links" || v["active"] != true {
		t.Errorf("with action links: %v", v)
	}
	// The relay records an issue webhook of organization 1.
	at := time.Date(2026, 12, 15, 2, 0, 0, 0, time.UTC)
	if err := (escalate.Store{B: store.NewFile(e.dir), Prefix: "api/"}).SawIssueWebhook(t.Context(), 1, at); err != nil {
		t.Fatal(err)
	}
	p := e.must(http.StatusOK, "POST", "/api/v1/projects/1/preview", map[string]any{})
	v, _ = p["escalation"].(map[string]any)
	if v == nil || v["warning"] != nil || v["issue_webhooks"].(map[string]any)["last"] != "2026-12-15T02:00:00Z" || v["applies"] != true ||
		v["active"] != true {
		t.Errorf("preview's escalation after an issue webhook: %v", v)
	}
	// A project without escalation says so.
	e.must(http.StatusCreated, "POST", "/api/v1/projects", map[string]any{"name": "官网", "slug": "site", "robot_ids": []int{1}})
	if m := e.must(http.StatusOK, "GET", "/api/v1/projects/2/escalation", nil); m["escalates"] != false || m["escalation"] != nil {
		t.Errorf("no escalation: %v", m)
	}
	if p := e.must(http.StatusOK, "POST", "/api/v1/projects/2/preview", map[string]any{}); p["escalation"] != nil {
		t.Errorf("preview of a project without escalation: %v", p["escalation"])
	}
	e.must(http.StatusNotFound, "GET", "/api/v1/projects/9/escalation", nil)
}

// TestSendSummaryNow: the robot's morning summary of yesterday, previewed
// and sent now from the configurator: read from the store's delivery
// history, delivered through the relay's sender code to the robot.
func TestSendSummaryNow(t *testing.T) {
	e := newEnv(t, robottest.DingTalkRobot{Token: "tok-sum", Keywords: []string{"详情"}})
	setupEscalation(t, e)
	loc, _ := time.LoadLocation("Asia/Shanghai")
	y := time.Now().In(loc).AddDate(0, 0, -1)
	noon := time.Date(y.Year(), y.Month(), y.Day(), 12, 0, 0, 0, loc)
	hist := deliveries.New(store.NewFile(e.dir), "api/", nil)
	for i, title := range []string{"TypeError", "TypeError", "Timeout"} {
		hist.Add(deliveries.Record{ID: fmt.Sprint("r", i), Time: noon.Add(time.Duration(i) * time.Minute), Project: "mall", ProjectName: "商城",
			RobotID: 1, Robot: "研发群", Kind: "dingtalk", Result: deliveries.Delivered, Title: title,
			Link: fmt.Sprintf("https://acme.sentry.io/issues/%d/", len(title)), Level: "error", State: "new"})
	}
	if err := hist.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	p := e.must(http.StatusOK, "GET", "/api/v1/robots/1/summary", nil)
	if p["day"] != y.Format("2006-01-02") || p["scheduled"] != true || p["at"] != "09:30" {
		t.Errorf("summary preview: %v", p)
	}
	text, _ := p["preview"].(map[string]any)["text"].(string)
	if !strings.Contains(text, "**商城 (mall)**: 3 条告警，2 个问题（新问题 2，回归 0）") || len(e.ding.Messages()) != 0 {
		t.Errorf("the preview's text (and nothing sent):\n%s", text)
	}
	m := e.must(http.StatusOK, "POST", "/api/v1/robots/1/summary", map[string]any{"lang": "en"})
	if m["ok"] != true || asList(m["results"])[0].(map[string]any)["robot"] != "研发群" {
		t.Fatalf("send now: %v", m)
	}
	msgs := e.ding.Messages()
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "Yesterday's alerts") || !strings.Contains(msgs[0].Text, "3 alerts, 2 issues (2 new, 0 regressed)") ||
		!strings.Contains(msgs[0].Text, "详情") || len(msgs[0].AtMobiles) != 0 {
		t.Errorf("the robot got: %+v", msgs)
	}
	e.must(http.StatusNotFound, "POST", "/api/v1/robots/9/summary", map[string]any{})
	e.must(http.StatusBadRequest, "GET", "/api/v1/robots/1/summary?lang=fr", nil)
}
