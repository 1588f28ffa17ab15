package main

// Issue #25 (and #23's history) in the browser: escalation in the project
// form with its plan in plain words and the warning when the relay cannot
// know that an alert was taken; a robot's morning summary — its time in the
// robot form, the preview of yesterday's and "send now" to a DingTalk
// stand-in; and the deliveries page's actions from the chat, escalation
// steps and alerts taken, with their filters — at 1280 and 390 px, where
// none of these pages scrolls sideways.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sentry-white/sentry-white/internal/deliveries"
	"github.com/sentry-white/sentry-white/internal/robottest"
)

func TestBrowserEscalation(t *testing.T) {
	for _, w := range widths {
		t.Run(fmt.Sprint(w), func(t *testing.T) { testEscalation(t, w) })
	}
}

func testEscalation(t *testing.T, width int) {
	in := start(t, nil, nil)
	in.api(t, "POST", "/api/v1/organizations", map[string]any{"name": "acme", "sentry_url": "https://acme.sentry.io", "slug": "acme"})
	in.api(t, "POST", "/api/v1/owners", map[string]any{"name": "张三", "mobile": ownerMobile})
	in.api(t, "POST", "/api/v1/owners", map[string]any{"name": "王五", "mobile": "13900139000"})
	in.api(t, "POST", "/api/v1/robots", map[string]any{"name": "研发告警群", "access_token": robotToken, "secret": robotSecret})
	loc := shanghai(t)
	// 张三 is on duty all this week.
	in.api(t, "POST", "/api/v1/schedules", map[string]any{"name": "后端值班", "owner_ids": []int{1}, "period": "week", "handoff": "00:00",
		"handoff_weekday": 1, "start": thisMonday(loc).AddDate(0, 0, -7).Format("2006-01-02")})
	in.api(t, "POST", "/api/v1/projects", map[string]any{"name": "商城后台", "slug": "mall-api", "organization_id": 1,
		"owner_ids": []int{1, 2}, "robot_ids": []int{1}, "schedule_id": 1})

	tb := newTab(t, in)
	tb.atWidth(width)
	tb.open()
	tb.waitFor(`document.getElementById("project-row-1") !== null`)
	tb.do(chromedp.Click(chromedp.ID("project-edit-1")), chromedp.WaitVisible(chromedp.ID("project-name")))
	if eval[bool](tb, `document.getElementById("project-escalation-section").open`) {
		t.Error("the escalation section is open for a project without escalation")
	}
	tb.do(chromedp.Click(chromedp.CSS("#project-escalation-section summary")), chromedp.WaitVisible(chromedp.ID("project-escalation-on")))
	tb.do(chromedp.Click(chromedp.ID("project-escalation-on")))
	tb.waitFor(`!document.getElementById("project-escalation-body").hidden`)

	// The usual chain for a project with a schedule, in plain words with
	// whom each step rings now.
	if got := eval[string](tb, `Array.from(document.querySelectorAll("#project-escalation-steps li")).map((n) => n.dataset.step).join(",")`); got != "oncall,owners,all" {
		t.Errorf("a new escalation's steps: %q", got)
	}
	tb.waitFor(`document.getElementById("project-escalation-plan-sentence").textContent.includes("张三")`)
	if s := tb.text("project-escalation-plan-sentence"); s != "如果 15 分钟内没人处理，提醒值班的人（张三）；再过 15 分钟仍没人处理，提醒负责人（张三、王五）；再过 15 分钟仍没人处理，提醒群内所有人（@所有人）。" {
		t.Errorf("the plan reads %q", s)
	}
	if s := tb.text("project-escalation-plan-timeline"); !strings.Contains(s, "45 分钟后：群内所有人") {
		t.Errorf("the timeline reads %q", s)
	}
	// The organization never sent an issue webhook and its alerts carry no
	// action links: escalation would send nothing, and the form says what
	// to do.
	tb.waitFor(`document.getElementById("project-escalation-warning") !== null`)
	if w := tb.text("project-escalation-warning"); !strings.Contains(w, "不会发出任何升级") || !strings.Contains(w, "勾选 Webhooks 下的 issue") {
		t.Errorf("the warning reads %q", w)
	}
	if c := eval[string](tb, `document.getElementById("project-escalation-warning").dataset.code`); c != "no_issue_webhooks" {
		t.Errorf("warning code %q", c)
	}

	// The plan follows the form: the owners step taken out, 10 minutes.
	tb.do(chromedp.Click(chromedp.ID("project-escalation-step-1-remove")))
	tb.set("project-escalation.after_minutes", "10")
	tb.waitFor(`document.getElementById("project-escalation-plan-sentence").textContent.includes("10 分钟")`)
	if s := tb.text("project-escalation-plan-sentence"); s != "如果 10 分钟内没人处理，提醒值班的人（张三）；再过 10 分钟仍没人处理，提醒群内所有人（@所有人）。" {
		t.Errorf("the edited plan reads %q", s)
	}
	tb.noSideways("the project form")

	// A wrong number is refused next to its field.
	tb.set("project-escalation.after_minutes", "0")
	tb.do(chromedp.Click(chromedp.ID("project-save")))
	tb.waitFor(`document.getElementById("project-escalation.after_minutes-error").textContent !== ""`)
	if e := tb.text("project-escalation.after_minutes-error"); !strings.Contains(e, "1") || !strings.Contains(e, "1440") {
		t.Errorf("after_minutes 0: %q", e)
	}
	tb.set("project-escalation.after_minutes", "10")
	tb.save("project")
	e := in.stored(t).Projects[0].Escalation
	if e == nil || e.AfterMinutes != 10 || strings.Join(e.Steps, ",") != "oncall,all" || e.MinLevel != "error" {
		t.Fatalf("stored escalation %+v", e)
	}
	if row := tb.text("project-row-1"); !strings.Contains(row, "升级 10 分钟：值班 → 所有人") {
		t.Errorf("the row reads %q", row)
	}

	// The preview says what would happen to its alert.
	tb.do(act("project-preview-1"))
	tb.waitFor(`document.getElementById("preview-escalation") !== null`)
	if s := tb.text("preview-escalation-sentence"); !strings.Contains(s, "如果 10 分钟内没人处理，提醒值班的人（张三）") {
		t.Errorf("the preview's escalation reads %q", s)
	}
	if c := eval[string](tb, `(document.querySelector("#preview-escalation-ack") || {dataset: {}}).dataset.code || ""`); c != "no_issue_webhooks" {
		t.Errorf("the preview's warning %q", c)
	}
	tb.noSideways("the preview")
	tb.do(chromedp.Click(chromedp.ID("preview-close")))
	// In English (the header's button is out of reach while a dialog is open).
	tb.do(chromedp.Click(chromedp.ID("lang-toggle")))
	tb.waitFor(`document.getElementById("projects-title").textContent === "Projects"`)
	tb.do(act("project-preview-1"))
	tb.waitFor(`document.getElementById("preview-escalation-sentence") !== null && document.getElementById("preview-escalation-sentence").textContent.startsWith("If nobody")`)
	if s := tb.text("preview-escalation-sentence"); s != "If nobody takes it within 10 min, ring the person on duty (张三); if still nobody 10 min later, ring everyone in the group (@all)." {
		t.Errorf("the English preview reads %q", s)
	}
	tb.do(chromedp.Click(chromedp.ID("preview-close")))
	tb.do(chromedp.Click(chromedp.ID("lang-toggle")))
	tb.waitFor(`document.getElementById("projects-title").textContent === "项目"`)

	// The person on duty needs a schedule: said in the plan at once, and by
	// the server next to the schedule when saved without one.
	tb.do(chromedp.Click(chromedp.ID("project-edit-1")), chromedp.WaitVisible(chromedp.ID("project-name")))
	if !eval[bool](tb, `document.getElementById("project-escalation-section").open && document.getElementById("project-escalation-on").checked`) {
		t.Error("the form does not show the saved escalation")
	}
	tb.choose("project-schedule_id", "0")
	tb.waitFor(`document.getElementById("project-escalation-plan-sentence").textContent.includes("还没选值班表")`)
	tb.do(chromedp.Click(chromedp.ID("project-save")))
	tb.waitFor(`document.getElementById("project-schedule_id-error").textContent !== ""`)
	// Turned off, it is removed.
	tb.choose("project-schedule_id", "1")
	tb.do(chromedp.Click(chromedp.ID("project-escalation-on")))
	tb.save("project")
	if p := in.stored(t).Projects[0]; p.Escalation != nil || p.ScheduleID != 1 {
		t.Errorf("after turning escalation off: %+v", p)
	}
	tb.noSideways("the projects page")
}

// seed writes delivery records into the configurator's folder store, as
// the relay would have.
func (in *instance) seed(t *testing.T, recs ...deliveries.Record) {
	t.Helper()
	h := in.history()
	for _, r := range recs {
		h.Add(r)
	}
	if err := h.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// yesterdayNoon is noon yesterday in Shanghai, inside the summary's day.
func yesterdayNoon(t *testing.T) time.Time {
	now := time.Now().In(shanghai(t))
	return time.Date(now.Year(), now.Month(), now.Day()-1, 12, 0, 0, 0, now.Location())
}

func TestBrowserMorningSummary(t *testing.T) {
	ding := robottest.NewDingTalk(robottest.DingTalkRobot{Token: robotToken, Secret: robotSecret, Keywords: []string{"详情"}})
	t.Cleanup(ding.Close)
	in := start(t, nil, map[string]string{"SENTRY_WHITE_DINGTALK_API": ding.URL()})
	in.api(t, "POST", "/api/v1/robots", map[string]any{"name": "研发告警群", "access_token": robotToken, "secret": robotSecret})
	in.api(t, "POST", "/api/v1/projects", map[string]any{"name": "商城后台", "slug": "mall-api", "robot_ids": []int{1}})
	noon := yesterdayNoon(t)
	var day []deliveries.Record
	for i, title := range []string{"TypeError: 购物车为空", "TypeError: 购物车为空", "TimeoutError: 支付超时"} {
		day = append(day, deliveries.Record{ID: fmt.Sprint("y", i), Time: noon.Add(time.Duration(i) * time.Minute), Project: "mall-api", ProjectName: "商城后台",
			RobotID: 1, Robot: "研发告警群", Kind: "dingtalk", Result: deliveries.Delivered, Attempts: 1, Title: title, Level: "error",
			State: "new", Link: fmt.Sprintf("https://acme.sentry.io/issues/%d/", 100+len(title))})
	}
	in.seed(t, day...)
	sent := 0
	for _, w := range widths {
		tb := newTab(t, in)
		tb.atWidth(w)
		tb.open()
		tb.page("robots")
		tb.waitFor(`document.getElementById("robot-row-1") !== null`)
		if w == widths[0] {
			// The time of the summary in the robot form; a wrong zone is
			// said next to it.
			tb.do(chromedp.Click(chromedp.ID("robot-edit-1")), chromedp.WaitVisible(chromedp.ID("robot-name")))
			if eval[bool](tb, `document.getElementById("robot-digest-on").checked`) {
				t.Error("a robot without a summary opens with it on")
			}
			tb.do(chromedp.Click(chromedp.ID("robot-digest-on")))
			tb.set("robot-daily_digest.at", "08:45")
			tb.set("robot-daily_digest.timezone", "Mars/Olympus")
			tb.do(chromedp.Click(chromedp.ID("robot-save")))
			tb.waitFor(`document.getElementById("robot-daily_digest.timezone-error").textContent !== ""`)
			if e := tb.text("robot-daily_digest.timezone-error"); !strings.Contains(e, "Mars/Olympus") {
				t.Errorf("a wrong time zone: %q", e)
			}
			tb.set("robot-daily_digest.timezone", "Asia/Shanghai")
			tb.save("robot")
			rb := in.stored(t).Robots[0]
			if rb.DailyDigest == nil || rb.DailyDigest.At != "08:45" || rb.DailyDigest.Timezone != "" || rb.Secret != robotSecret || rb.AccessToken != robotToken {
				t.Fatalf("stored robot %+v, summary %+v", rb, rb.DailyDigest)
			}
		}
		tb.waitFor(`document.getElementById("robot-digest-1").textContent.includes("08:45")`)
		if s := tb.text("robot-digest-1"); s != "早间摘要：每天 08:45（Asia/Shanghai）" {
			t.Errorf("the robot's row says %q", s)
		}

		// 预览: yesterday's summary as the group would see it; nothing sent.
		tb.do(act("robot-summary-preview-1"))
		tb.waitFor(`document.getElementById("summary-bubble-0") !== null`)
		if s := tb.text("summary-bubble-0"); !strings.Contains(s, "商城后台") || !strings.Contains(s, "购物车为空") {
			t.Errorf("the summary preview reads %q", s)
		}
		if s := tb.text("summary-when"); !strings.Contains(s, noon.Format("2006-01-02")) || !strings.Contains(s, "08:45") {
			t.Errorf("the summary's day reads %q", s)
		}
		if n := len(ding.Messages()); n != sent {
			t.Errorf("the preview sent %d messages", n-sent)
		}
		tb.noSideways("the summary preview")

		// 立即发送 from the preview: the result under the robot's row, as a
		// test alert's.
		tb.do(chromedp.Click(chromedp.ID("summary-send")))
		tb.waitFor(`document.getElementById("robot-status-1") !== null && document.getElementById("robot-status-1").textContent.includes("早间摘要：")`)
		tb.waitFor(`!document.getElementById("robot-status-1").textContent.includes("发送中")`)
		if s := tb.text("robot-status-1"); !strings.Contains(s, "✓") || !strings.Contains(s, "已发送到“研发告警群”") {
			t.Errorf("the row's status reads %q", s)
		}
		sent++
		msgs := ding.Messages()
		if len(msgs) != sent || !strings.Contains(msgs[sent-1].Text, "购物车为空") {
			t.Fatalf("the stand-in got %d messages (%v), want %d with the summary", len(msgs), ding.Rejected(), sent)
		}
		if w < 600 {
			tb.noSideways("the robots page")
		}
	}
	// 立即发送 straight from the row's menu, in English.
	tb := newTab(t, in)
	tb.open()
	tb.page("robots")
	tb.do(chromedp.Click(chromedp.ID("lang-toggle")))
	tb.waitFor(`document.getElementById("robot-digest-1").textContent.startsWith("Morning summary")`)
	tb.do(act("robot-summary-send-1"))
	tb.waitFor(`document.getElementById("robot-status-1") !== null && document.getElementById("robot-status-1").textContent.includes("Morning summary: ")`)
	tb.waitFor(`document.getElementById("robot-status-1").textContent.includes("✓")`)
	if len(ding.Messages()) != sent+1 {
		t.Errorf("send now from the menu: %d messages, want %d", len(ding.Messages()), sent+1)
	}
}

// TestBrowserActionsAndEscalations: the deliveries page words actions
// taken from the chat (done, refused by Sentry), escalation steps (to whom,
// after how long) and follow-ups saying the issue was taken, and filters
// each.
func TestBrowserActionsAndEscalations(t *testing.T) {
	in := start(t, nil, nil)
	in.api(t, "POST", "/api/v1/owners", map[string]any{"name": "张三", "mobile": ownerMobile})
	in.api(t, "POST", "/api/v1/robots", map[string]any{"name": "研发告警群", "access_token": robotToken, "secret": robotSecret})
	in.api(t, "POST", "/api/v1/projects", map[string]any{"name": "商城后台", "slug": "mall-api", "owner_ids": []int{1}, "robot_ids": []int{1},
		"escalation": map[string]any{"after_minutes": 15, "steps": []string{"owners", "all"}}})
	now := time.Now().Truncate(time.Second)
	link := "https://acme.sentry.io/issues/4242/"
	base := deliveries.Record{Project: "mall-api", ProjectName: "商城后台", RobotID: 1, Robot: "研发告警群", Kind: "dingtalk",
		Result: deliveries.Delivered, Attempts: 1, Title: "TypeError: 购物车为空", Level: "error", Link: link}
	rec := func(id string, ago time.Duration, edit func(r *deliveries.Record)) deliveries.Record {
		r := base
		r.ID, r.Time = id, now.Add(-ago)
		edit(&r)
		return r
	}
	in.seed(t,
		rec("alert", 40*time.Minute, func(r *deliveries.Record) { r.State = "new" }),
		rec("esc1", 25*time.Minute, func(r *deliveries.Record) { r.State, r.Escalation = "new", 1 }),
		rec("esc2", 10*time.Minute, func(r *deliveries.Record) { r.State, r.Escalation = "new", 2 }),
		rec("refused", 8*time.Minute, func(r *deliveries.Record) {
			r.Result, r.RobotID, r.Robot, r.Kind = deliveries.Acted, 0, "", ""
			r.Action = &deliveries.Action{Action: "resolve", OrganizationID: 1, Organization: "acme", Issue: "4242", OwnerID: 1, Who: "张三",
				Outcome: deliveries.ActionRefused, SentryStatus: 403, Answer: "You do not have permission to perform this action."}
			r.Error, r.Fix = r.Action.Answer, "give the integration Issue & Event: Read & Write"
		}),
		rec("took", 5*time.Minute, func(r *deliveries.Record) {
			r.Result, r.RobotID, r.Robot, r.Kind = deliveries.Acted, 0, "", ""
			r.Action = &deliveries.Action{Action: "take", OrganizationID: 1, Organization: "acme", Issue: "4242", ShortID: "MALL-1A", OwnerID: 1,
				Who: "张三", SentryUser: "zhangsan@example.com", Outcome: deliveries.ActionDone, SentryStatus: 200,
				Answer: "the issue is now unresolved", State: "unresolved", FollowUp: "posted"}
		}),
		rec("follow", 4*time.Minute, func(r *deliveries.Record) { r.State = "assigned" }),
	)
	for _, w := range widths {
		tb := newTab(t, in)
		tb.atWidth(w)
		tb.open()
		tb.page("deliveries")
		tb.waitFor(`document.getElementById("delivery-action-took") !== null`)
		if s := tb.visibleText("delivery-action-took"); !strings.Contains(s, "张三 在群里点了“我来处理”") || !strings.Contains(s, "分配给 zhangsan@example.com") ||
			!strings.Contains(s, "群里已收到跟进消息") || !strings.Contains(s, "MALL-1A") {
			t.Errorf("the action row reads %q", s)
		}
		if s := tb.visibleText("delivery-action-refused"); !strings.Contains(s, "张三 在群里点了“解决”") || !strings.Contains(s, "403") || !strings.Contains(s, "Read & Write") ||
			strings.Contains(s, "You do not have permission") {
			t.Errorf("the refused action reads %q", s)
		}
		// Sentry's own words only behind 原始回答.
		if raw := tb.rawText("delivery-action-refused"); !strings.Contains(raw, "You do not have permission") {
			t.Errorf("the refused action's raw answer %q", raw)
		}
		if s := tb.text("delivery-row-esc2"); !strings.Contains(s, "升级 · 第 2 步") || !strings.Contains(s, "30 分钟没人处理，第 2 步提醒群内所有人") {
			t.Errorf("the escalation row reads %q", s)
		}
		if s := tb.text("delivery-row-esc1"); !strings.Contains(s, "15 分钟没人处理，第 1 步提醒全部负责人") {
			t.Errorf("the first step reads %q", s)
		}
		if s := tb.text("delivery-row-follow"); !strings.Contains(s, "已有人处理：在 Sentry 里分配了") {
			t.Errorf("the follow-up reads %q", s)
		}
		// The alert itself says it was taken after, by the first that took it.
		if s := tb.text("delivery-row-alert"); !strings.Contains(s, "之后有人处理了") || !strings.Contains(s, "张三 在群里点了“我来处理”") {
			t.Errorf("the alert's row reads %q", s)
		}
		for _, f := range []struct {
			result string
			rows   []string
		}{
			{"action", []string{"delivery-action-took", "delivery-action-refused"}},
			{"escalation", []string{"delivery-row-esc2", "delivery-row-esc1"}},
			{"taken", []string{"delivery-row-follow", "delivery-action-took", "delivery-action-refused"}},
		} {
			tb.choose("deliveries-filter-result", f.result)
			tb.waitFor(fmt.Sprintf(`document.getElementById("deliveries-rows").dataset.query === "result=%s"`, f.result))
			got := eval[string](tb, `Array.from(document.querySelectorAll("#deliveries-rows > tr:not(.sub)")).map((r) => r.id).join(",")`)
			if got != strings.Join(f.rows, ",") {
				t.Errorf("filter %s shows %q, want %q", f.result, got, strings.Join(f.rows, ","))
			}
		}
		if w < 600 {
			tb.noSideways("the deliveries page")
		}
		tb.choose("deliveries-filter-result", "")
		tb.waitFor(`document.getElementById("deliveries-rows").dataset.query === ""`)
		tb.do(chromedp.Click(chromedp.ID("lang-toggle")))
		tb.waitFor(`document.getElementById("delivery-action-took").textContent.includes("tapped")`)
		if s := tb.visibleText("delivery-action-took"); !strings.Contains(s, "张三 tapped “I'll take it” in the chat") || !strings.Contains(s, "Sentry assigned the issue to zhangsan@example.com") {
			t.Errorf("the English action row reads %q", s)
		}
		if s := tb.text("delivery-row-esc2"); !strings.Contains(s, "Nobody took it in 30 min: step 2 rang everyone in the group") {
			t.Errorf("the English escalation row reads %q", s)
		}
		// The language is the configurator's setting: back to Chinese for
		// the next width.
		tb.do(chromedp.Click(chromedp.ID("lang-toggle")))
		tb.waitFor(`document.getElementById("delivery-action-took").textContent.includes("在群里点了")`)
	}
}
