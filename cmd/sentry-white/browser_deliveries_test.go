package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sentry-white/sentry-white/internal/deliveries"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/robottest"
	"github.com/sentry-white/sentry-white/internal/store"
)

// choose picks an option of a select by value, as a user would (the page
// hears the change).
func (tb *tab) choose(id, value string) {
	tb.t.Helper()
	ok := eval[bool](tb, fmt.Sprintf(`(() => {
		const s = document.getElementById(%q);
		s.value = %q;
		if (s.value !== %q) return false;
		s.dispatchEvent(new Event("change", { bubbles: true }));
		return true;
	})()`, id, value, value))
	if !ok {
		tb.t.Fatalf("select %s has no option %q", id, value)
	}
}

// rowIDs lists the ids of the delivery rows shown, top to bottom.
func (tb *tab) rowIDs() []string {
	tb.t.Helper()
	s := eval[string](tb, `Array.from(document.querySelectorAll("#deliveries-rows tr")).map((r) => r.id.replace("delivery-row-", "")).join(" ")`)
	return strings.Fields(s)
}

// history is the delivery history in the configurator's folder store.
func (in *instance) history() *deliveries.Log {
	return deliveries.New(store.NewFile(in.dir), store.DefaultPrefix, nil)
}

// alertMessage is a rendered alert as the relay keeps it for a failure.
func alertMessage(heading, link, project, slug string) *notify.Message {
	return &notify.Message{
		Title: "[error] " + project + ": " + heading, Heading: heading, Link: link, Level: "error", State: "new",
		Fields:   []notify.Field{{Label: "项目", Value: project + " (" + slug + ")"}, {Label: "环境", Value: "production"}},
		Keyword:  "告警", // the keyword the robot had then; it is 详情 now
		Mentions: []notify.Mention{{Name: "张三", Mobile: ownerMobile}},
		Lang:     "zh",
	}
}

func TestBrowserDeliveries(t *testing.T) {
	shots, err := filepath.Abs(filepath.Join("..", "..", "docs", "screenshots"))
	if err != nil {
		t.Fatal(err)
	}
	ding := robottest.NewDingTalk(robottest.DingTalkRobot{Token: robotToken, Secret: robotSecret, Keywords: []string{"详情"}})
	t.Cleanup(ding.Close)
	// The default store in an empty folder, as in the other screenshots.
	t.Chdir(t.TempDir())
	in := start(t, []string{"-no-browser", "-addr", "127.0.0.1:0"}, map[string]string{"SENTRY_WHITE_DINGTALK_API": ding.URL()})
	in.dir = store.DefaultDir
	in.api(t, "POST", "/api/v1/owners", map[string]any{"name": "张三", "mobile": ownerMobile})
	in.api(t, "POST", "/api/v1/robots", map[string]any{"name": "研发告警群", "access_token": robotToken, "secret": robotSecret, "keyword": "详情"})
	in.api(t, "POST", "/api/v1/projects", map[string]any{"name": "商城后台", "slug": "mall-api", "owner_ids": []int{1}, "robot_ids": []int{1}})
	in.api(t, "POST", "/api/v1/projects", map[string]any{"name": "支付服务", "slug": "pay-service", "owner_ids": []int{1}, "robot_ids": []int{1}})

	// The relay's history: deliveries, failures with their messages, and a
	// failure to a robot deleted since.
	now := time.Now().Truncate(time.Second)
	const (
		mallLink = "https://sentry.io/organizations/acme/issues/4242/"
		payLink  = "https://sentry.io/organizations/acme/issues/5150/"
		mallErr  = "TypeError: Cannot read properties of undefined (reading 'price')"
		payErr   = "TimeoutError: upstream bank gateway did not answer in 30s"
	)
	h := in.history()
	for _, r := range []deliveries.Record{
		{ID: "d-ok", Time: now.Add(-3 * time.Hour), Project: "mall-api", ProjectName: "商城后台", RobotID: 1, Robot: "研发告警群", Kind: "dingtalk",
			Result: deliveries.Delivered, Attempts: 1, LatencyMS: 318.4, Title: "商城后台：3 条告警合并为一条", Link: mallLink, Level: "error", Digest: 3},
		{ID: "d-fail-1", Time: now.Add(-2 * time.Hour), RequestID: "req-1", Project: "mall-api", ProjectName: "商城后台", RobotID: 1, Robot: "研发告警群",
			Kind: "dingtalk", Result: deliveries.Failed, Code: 310000, Error: `robot "研发告警群" answered errcode 310000: keywords not in content`,
			Fix: "the robot's keyword must appear in every message; set it to 详情 or change the robot", Attempts: 1, LatencyMS: 142,
			Title: mallErr, Link: mallLink, Level: "error", Message: alertMessage(mallErr, mallLink, "商城后台", "mall-api")},
		{ID: "d-fail-2", Time: now.Add(-time.Hour), RequestID: "req-2", Project: "pay-service", ProjectName: "支付服务", RobotID: 1, Robot: "研发告警群",
			Kind: "dingtalk", Result: deliveries.Failed, Error: `robot "研发告警群" answered HTTP 502: bad gateway`, Attempts: 4, LatencyMS: 6120,
			Title: payErr, Link: payLink, Level: "fatal", Message: alertMessage(payErr, payLink, "支付服务", "pay-service")},
		{ID: "d-gone", Time: now.Add(-30 * time.Minute), Project: "mall-api", ProjectName: "商城后台", RobotID: 9, Robot: "旧告警群", Kind: "dingtalk",
			Result: deliveries.Failed, Code: 300001, Error: `robot "旧告警群" answered errcode 300001: token is not exist`, Attempts: 1, LatencyMS: 88,
			Title: mallErr, Link: mallLink, Level: "error", Message: alertMessage(mallErr, mallLink, "商城后台", "mall-api")},
		{ID: "d-wecom", Time: now.Add(-10 * time.Minute), Project: "pay-service", ProjectName: "支付服务", RobotID: 2, Robot: "运维群", Kind: "wecom",
			Result: deliveries.Delivered, Attempts: 1, LatencyMS: 95, Title: payErr, Link: payLink, Level: "fatal"},
	} {
		h.Add(r)
	}
	if err := h.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}

	tb := newTab(t, in)
	tb.open()
	tb.page("deliveries")
	tb.waitFor(`document.getElementById("delivery-row-d-wecom") !== null`)
	if got := tb.rowIDs(); !slices.Equal(got, []string{"d-wecom", "d-gone", "d-fail-2", "d-fail-1", "d-ok"}) {
		t.Errorf("rows %v, want newest first", got)
	}
	// Times are shown in local time, not as stored.
	if local := eval[bool](tb, `(() => {
		const n = document.querySelector("#delivery-row-d-ok time");
		return n.textContent === new Date(n.getAttribute("datetime")).toLocaleString("zh-CN") && !n.textContent.includes("T");
	})()`); !local {
		t.Errorf("the time reads %q", tb.text("delivery-row-d-ok"))
	}
	ok := tb.text("delivery-row-d-ok")
	for _, want := range []string{"商城后台", "mall-api", "研发告警群", "已送达", "318 ms", "3 条告警", "在 Sentry 中查看"} {
		if !strings.Contains(ok, want) {
			t.Errorf("the delivered row lacks %q: %s", want, ok)
		}
	}
	if href := eval[string](tb, `document.querySelector("#delivery-row-d-ok a").href`); href != mallLink {
		t.Errorf("the Sentry link is %q", href)
	}
	fail := tb.text("delivery-row-d-fail-1")
	for _, want := range []string{"失败", "310000", "怎么办", "关键词必须出现在每条消息里"} {
		if !strings.Contains(fail, want) {
			t.Errorf("the failed row lacks %q: %s", want, fail)
		}
	}
	if s := tb.text("delivery-row-d-fail-2"); !strings.Contains(s, "6.1 s") || !strings.Contains(s, "尝试 4 次") {
		t.Errorf("the 502 row reads %s", s)
	}
	// The robot of d-gone was deleted: no button, and the reason.
	if eval[bool](tb, `document.getElementById("delivery-resend-d-gone") !== null`) || !strings.Contains(tb.text("delivery-row-d-gone"), "机器人已删除") {
		t.Errorf("the row of a deleted robot reads %s", tb.text("delivery-row-d-gone"))
	}
	if eval[bool](tb, `document.getElementById("delivery-resend-d-ok") !== null`) {
		t.Error("a delivered row offers a re-send")
	}
	if label := eval[string](tb, `document.getElementById("delivery-resend-d-fail-1").getAttribute("aria-label")`); !strings.Contains(label, mallErr) {
		t.Errorf("the re-send button is labelled %q", label)
	}

	// Filters.
	tb.choose("deliveries-filter-result", "failed")
	tb.waitFor(`document.getElementById("delivery-row-d-ok") === null && document.getElementById("delivery-row-d-fail-1") !== null`)
	if got := tb.rowIDs(); !slices.Equal(got, []string{"d-gone", "d-fail-2", "d-fail-1"}) {
		t.Errorf("failed rows %v", got)
	}
	tb.choose("deliveries-filter-project", "pay-service")
	tb.waitFor(`document.getElementById("delivery-row-d-fail-1") === null`)
	if got := tb.rowIDs(); !slices.Equal(got, []string{"d-fail-2"}) {
		t.Errorf("failed rows of pay-service %v", got)
	}
	tb.choose("deliveries-filter-robot", "运维群") // seen only in the history
	tb.waitFor(`!document.getElementById("deliveries-empty").hidden`)
	if e := tb.text("deliveries-empty"); !strings.Contains(e, "没有符合筛选条件") {
		t.Errorf("the empty state reads %q", e)
	}
	tb.choose("deliveries-filter-robot", "")
	tb.choose("deliveries-filter-project", "")
	tb.waitFor(`document.getElementById("delivery-row-d-fail-1") !== null`)

	// Re-send the keyword failure: the robot's keyword is right now.
	tb.do(chromedp.Click(chromedp.ID("delivery-resend-d-fail-1")))
	tb.waitFor(`document.querySelector("#deliveries-result .msg.ok, #deliveries-result .msg.fail") !== null`)
	if res := tb.text("deliveries-result"); !strings.Contains(res, "已重新发送到“研发告警群”") || !strings.Contains(res, ownerMobile) {
		t.Errorf("the answer reads %q", res)
	}
	msgs := ding.Messages()
	if len(msgs) != 1 {
		t.Fatalf("the DingTalk stand-in got %d messages, want 1 (rejected %v)", len(msgs), ding.Rejected())
	}
	if m := msgs[0]; m.Token != robotToken || !strings.Contains(m.Text, "reading 'price'") || !strings.Contains(m.Text, "详情") ||
		!strings.Contains(m.Text, "issues/4242") || !slices.Contains(m.AtMobiles, ownerMobile) || !m.Mentioned {
		t.Errorf("received %+v", m)
	}
	// The new delivered row shows, though the filter asked for failures.
	tb.waitFor(`document.querySelector('#deliveries-rows tr[data-resend-of="d-fail-1"][data-result="delivered"]') !== null`)
	if v := eval[string](tb, `document.getElementById("deliveries-filter-result").value`); v != "" {
		t.Errorf("the result filter is %q after the re-send", v)
	}
	rows := tb.rowIDs()
	if len(rows) != 6 || rows[0] == "d-wecom" {
		t.Errorf("rows after the re-send %v, want the re-send on top", rows)
	}
	if s := tb.text("delivery-row-" + rows[0]); !strings.Contains(s, "已送达") || !strings.Contains(s, "重新发送") || !strings.Contains(s, "商城后台") {
		t.Errorf("the re-send row reads %s", s)
	}
	if s := tb.text("delivery-row-d-fail-1"); !strings.Contains(s, "已重新发送（已送达") {
		t.Errorf("the failed row does not say it was re-sent: %s", s)
	}
	recs, err := in.history().List(context.Background(), deliveries.Filter{Limit: 1})
	if err != nil || len(recs) != 1 || recs[0].ResendOf != "d-fail-1" || recs[0].Result != deliveries.Delivered || recs[0].ID != rows[0] {
		t.Errorf("stored re-send %+v, %v", recs, err)
	}
	eval[bool](tb, "window.scrollTo(0, 0), true")
	tb.screenshot(shots, "deliveries", "zh", 1280, 390)

	// In English: re-send the 502 failure.
	tb.do(chromedp.Click(chromedp.ID("lang-toggle")))
	tb.waitFor(`document.getElementById("deliveries-title").textContent === "Deliveries" && document.getElementById("delivery-row-d-fail-2") !== null`)
	tb.choose("deliveries-filter-result", "failed")
	tb.waitFor(`document.getElementById("delivery-row-d-ok") === null && document.getElementById("delivery-resend-d-fail-2") !== null`)
	tb.do(chromedp.Click(chromedp.ID("delivery-resend-d-fail-2")))
	tb.waitFor(`document.querySelector("#deliveries-result .msg.ok, #deliveries-result .msg.fail") !== null`)
	if res := tb.text("deliveries-result"); !strings.Contains(res, "Re-sent to “研发告警群”") {
		t.Errorf("the English answer reads %q", res)
	}
	tb.waitFor(`document.querySelector('#deliveries-rows tr[data-resend-of="d-fail-2"][data-result="delivered"]') !== null`)
	if n := len(ding.Messages()); n != 2 {
		t.Errorf("the stand-in got %d messages, want 2", n)
	}
	if s := tb.text("delivery-row-d-fail-1"); !strings.Contains(s, "What to do") || !strings.Contains(s, "re-sent (Delivered") {
		t.Errorf("the English failed row reads %s", s)
	}
	eval[bool](tb, "window.scrollTo(0, 0), true")
	tb.screenshot(shots, "deliveries", "en", 1280, 390)
	tb.do(chromedp.Click(chromedp.ID("lang-toggle")))
}
