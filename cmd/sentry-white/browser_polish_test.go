package main

// Browser tests of issue #28, items 3 to 8: status that belongs to its row,
// a wrong token that blocks, one language, any window width, long lists,
// and the smaller things.

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sentry-white/sentry-white/internal/deliveries"
	"github.com/sentry-white/sentry-white/internal/robottest"
	"github.com/sentry-white/sentry-white/internal/sentryapi/sentrytest"
)

var clock = regexp.MustCompile(`\d{1,2}:\d{2}`)

// settingsLanguage waits until the settings file's language is want (the
// page saves it after switching) and fails the test if it never is.
func (in *instance) settingsLanguage(t *testing.T, want, after string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		l := in.api(t, "GET", "/api/v1/settings", nil)["language"]
		if l == want {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("after %s the settings file says %v, want %s", after, l, want)
			return
		}
		time.Sleep(20 * time.Millisecond) // polling the file, not waiting a guessed time
	}
}

// editRow changes one field of an entry through its form (its row's
// 编辑), saves, and waits until the row shows the new value.
func (tb *tab) editRow(kind string, id int, field, value string) {
	tb.t.Helper()
	tb.do(act(fmt.Sprintf("%s-edit-%d", kind, id)), chromedp.WaitVisible(chromedp.ID(kind+"-"+field)))
	tb.fill(kind+"-"+field, value)
	tb.save(kind)
	tb.waitFor(fmt.Sprintf(`document.getElementById("%s-row-%d").textContent.includes(%q)`, kind, id, value))
}

// TestBrowserRowStatus (#28.3): a test alert's result is its row's (✓/✗,
// the time, the words), cleared when the row is edited or the store
// changes; nothing page-wide stays behind.
func TestBrowserRowStatus(t *testing.T) {
	ding := robottest.NewDingTalk(robottest.DingTalkRobot{Token: robotToken, Secret: robotSecret, Keywords: []string{"紧急"}})
	t.Cleanup(ding.Close)
	in := start(t, nil, map[string]string{"SENTRY_WHITE_DINGTALK_API": ding.URL()})
	seed(t, in) // the robot's keyword is 详情: refused

	tb := newTab(t, in)
	tb.open()
	tb.page("robots")
	tb.do(chromedp.Click(chromedp.ID("robot-test-1")))
	tb.waitFor(`document.querySelector("#page-robots .msg.fail") !== null`)
	// The robot is fixed: its keyword is 紧急 now.
	tb.editRow("robot", 1, "keyword", "紧急")
	if eval[bool](tb, `document.querySelector("#page-robots .msg.fail") !== null`) {
		t.Errorf("after the robot was fixed the page still says it failed: %q", tb.text("page-robots"))
	}

	// Its own status: ✓, the time, the words.
	tb.do(chromedp.Click(chromedp.ID("robot-test-1")))
	tb.waitFor(`document.querySelector("#robot-status-1 .msg.ok") !== null`)
	if s := tb.text("robot-status-1"); !strings.Contains(s, "✓") || !clock.MatchString(s) || !strings.Contains(s, "已发送到") {
		t.Errorf("the robot's status reads %q", s)
	}
	if r := tb.text("robots-result"); r != "" {
		t.Errorf("a page-wide result: %q", r)
	}
	tb.page("projects")
	tb.do(chromedp.Click(chromedp.ID("project-test-1")))
	tb.waitFor(`document.querySelector("#project-status-1 .msg.ok") !== null`)
	if s := tb.text("project-status-1"); !strings.Contains(s, "✓") || !clock.MatchString(s) || !strings.Contains(s, ownerMobile) {
		t.Errorf("the project's status reads %q", s)
	}
	// Worded again in English.
	tb.do(chromedp.Click(chromedp.ID("lang-toggle")))
	tb.waitFor(`document.getElementById("project-status-1").textContent.includes("Delivered to")`)
	tb.do(chromedp.Click(chromedp.ID("lang-toggle")))
	tb.waitFor(`document.documentElement.lang === "zh-CN"`)

	// Editing the project clears its status.
	tb.editRow("project", 1, "name", "商城后台（改）")
	if eval[bool](tb, `document.getElementById("project-status-1") !== null`) {
		t.Errorf("the status stays after the project was edited: %q", tb.text("project-status-1"))
	}
	tb.do(chromedp.Click(chromedp.ID("project-test-1")))
	tb.waitFor(`document.querySelector("#project-status-1 .msg.ok") !== null`)

	// Another store: no status, nothing page-wide about the robot.
	other := t.TempDir()
	tb.page("settings")
	tb.waitFor(`document.getElementById("settings-active").textContent !== ""`)
	tb.do(chromedp.Click(chromedp.ID("settings-store_kind-folder")))
	tb.fill("settings-folder", other)
	tb.do(chromedp.Click(chromedp.ID("settings-save")))
	tb.waitFor(fmt.Sprintf(`document.getElementById("store-loc").textContent.includes(%q)`, other))
	for _, p := range []string{"projects", "robots"} {
		tb.page(p)
		if s := tb.text("page-" + p); strings.Contains(s, "研发告警群") || strings.Contains(s, "已发送") {
			t.Errorf("on another store the %s page reads %q", p, s)
		}
	}
}

// TestBrowserWrongTokenBlocks (#28.4): a link whose token is not this
// configurator's shows a screen that says so and how to get the right
// link, instead of an empty store and a guide offering to add things.
func TestBrowserWrongTokenBlocks(t *testing.T) {
	in := start(t, nil, nil)
	seed(t, in)
	tb := newTab(t, in)
	tb.allow("status of 401")
	tb.do(chromedp.Navigate(in.base + "/?token=0000aaaa1111bbbb2222cccc3333dddd"))
	tb.waitFor(`document.getElementById("nav-projects") !== null && (!document.getElementById("banner").hidden ||
		(document.getElementById("token-screen") !== null && !document.getElementById("token-screen").hidden))`)
	visible := func(id string) bool {
		return eval[bool](tb, fmt.Sprintf(`(() => { const n = document.getElementById(%q); return !!n && n.getClientRects().length > 0 })()`, id))
	}
	if visible("guide") || visible("projects-new") || visible("main") {
		t.Errorf("with a wrong token the page offers to add things: %q", tb.text("main"))
	}
	if !visible("token-screen") {
		t.Fatalf("no screen says the token is wrong; the page reads %q", eval[string](tb, `document.body.innerText`))
	}
	if s := tb.text("token-screen"); !strings.Contains(s, "不是这个配置程序的") || !strings.Contains(s, "终端") || !strings.Contains(s, "?token=") {
		t.Errorf("the screen reads %q", s)
	}
	tb.do(chromedp.Click(chromedp.ID("lang-toggle")))
	tb.waitFor(`document.getElementById("token-screen").textContent.includes("not this configurator")`)
	tb.do(chromedp.Click(chromedp.ID("lang-toggle")))

	// No token at all.
	tb2 := newTab(t, in)
	tb2.do(chromedp.Navigate(in.base + "/"))
	tb2.waitFor(`document.getElementById("token-screen") !== null && !document.getElementById("token-screen").hidden`)
	if s := tb2.text("token-screen"); !strings.Contains(s, "没有访问令牌") {
		t.Errorf("without a token the screen reads %q", s)
	}
	// The right link works.
	tb2.open()
	tb2.waitFor(`document.getElementById("project-row-1") !== null`)
	if visible := eval[bool](tb2, `document.getElementById("token-screen").hidden`); !visible {
		t.Error("the screen stays with the right token")
	}
}

// TestBrowserOneLanguage (#28.5): the header's button and 设置 are one
// setting, kept in the settings file; what the relay and the robots
// answered is worded in the page's language, their own words behind
// 原始回答 / raw answer.
func TestBrowserOneLanguage(t *testing.T) {
	ding := robottest.NewDingTalk(robottest.DingTalkRobot{Token: robotToken, Secret: robotSecret, Keywords: []string{"详情"}})
	t.Cleanup(ding.Close)
	ding.SetLang("zh")
	in := start(t, nil, map[string]string{"SENTRY_WHITE_DINGTALK_API": ding.URL()})
	seed(t, in)
	in.api(t, "PATCH", "/api/v1/robots/1", map[string]any{"secret": "SEC0000000000000000000000000000000000000000000000000000000000000000"})
	in.api(t, "POST", "/api/v1/organizations", map[string]any{"name": "acme", "sentry_url": "https://sentry.io", "slug": "acme"})
	in.api(t, "PUT", "/api/v1/organizations/1/sentry-token", map[string]any{"token": "sntryu_0c4e8a2f6b1d5f9c3e7a0b4d8f2c6e1a"})
	in.api(t, "PUT", "/api/v1/settings", map[string]any{"language": "zh"})
	now := time.Now().Truncate(time.Second)
	h := in.history()
	h.Add(deliveries.Record{ID: "d-fail", Time: now.Add(-time.Hour), Project: "mall-api", ProjectName: "商城后台", RobotID: 1, Robot: "研发告警群",
		Kind: "dingtalk", Result: deliveries.Failed, Code: 310000, Error: `robot "研发告警群" answered errcode 310000: keywords not in content`,
		Attempts: 1, Title: "TypeError", Level: "error", Message: alertMessage("TypeError", "", "商城后台", "mall-api")})
	h.Add(deliveries.Record{ID: "d-refused", Time: now.Add(-30 * time.Minute), Project: "shop-web", Result: deliveries.Refused, Cause: "unknown_project",
		Status: 404, Error: `no project is configured for slug "shop-web"`})
	if err := h.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}

	tb := newTab(t, in)
	tb.open()
	// The header's button is the setting.
	tb.do(chromedp.Click(chromedp.ID("lang-toggle")))
	tb.waitFor(`document.documentElement.lang === "en"`)
	tb.page("settings")
	if v := eval[string](tb, `document.getElementById("settings-language").value`); v != "en" {
		t.Errorf("the page is in English, and 设置 says %q", v)
	}
	in.settingsLanguage(t, "en", "the header's button")
	// 设置's choice switches the page at once.
	tb.choose("settings-language", "zh")
	tb.waitFor(`document.documentElement.lang === "zh-CN"`)
	in.settingsLanguage(t, "zh", "设置's choice")
	in.api(t, "PUT", "/api/v1/settings", map[string]any{"language": "en"})
	fresh := newTab(t, in)
	fresh.open()
	fresh.waitFor(`document.getElementById("projects-title").textContent === "Projects"`)
	// What the pages drew before the settings were read is in English too.
	fresh.page("import")
	if n := fresh.text("import-file-name"); n != "No file chosen yet" {
		t.Errorf("a page opened in English reads %q", n)
	}

	// The relay's English on the Chinese deliveries page: behind 原始回答.
	tb.page("deliveries")
	tb.waitFor(`document.getElementById("delivery-row-d-refused") !== null`)
	for _, c := range []struct{ row, raw string }{{"delivery-row-d-fail", "keywords not in content"}, {"delivery-row-d-refused", "no project is configured"}} {
		if v := tb.visibleText(c.row); strings.Contains(v, c.raw) {
			t.Errorf("the Chinese row shows the relay's English: %q", v)
		}
		if r := tb.rawText(c.row); !strings.Contains(r, c.raw) || !strings.Contains(r, "原始回答") {
			t.Errorf("the raw answer of %s reads %q", c.row, r)
		}
	}
	if v := tb.visibleText("delivery-row-d-fail"); !strings.Contains(v, "310000") || !strings.Contains(v, "关键词必须出现在每条消息里") {
		t.Errorf("the failed row reads %q", v)
	}

	// DingTalk's Chinese on the English robots page: behind raw answer.
	tb.do(chromedp.Click(chromedp.ID("lang-toggle")))
	tb.waitFor(`document.documentElement.lang === "en"`)
	tb.page("robots")
	tb.do(chromedp.Click(chromedp.ID("robot-test-1")))
	tb.waitFor(`document.querySelector("#page-robots .msg.fail") !== null`)
	box := eval[string](tb, `document.querySelector("#page-robots .msg.fail").closest("[id]").id`)
	if v := tb.visibleText(box); strings.Contains(v, "签名不匹配") || !strings.Contains(v, "What to do") || !strings.Contains(v, "310000") {
		t.Errorf("the English result reads %q", v)
	}
	if r := tb.rawText(box); !strings.Contains(r, "签名不匹配") || !strings.Contains(r, "raw answer") {
		t.Errorf("the raw answer reads %q", r)
	}

	// The Sentry token's status follows the language.
	tb.page("organizations")
	tb.waitFor(`document.getElementById("sentryp-token-status").textContent.includes("saved")`)
	tb.do(chromedp.Click(chromedp.ID("lang-toggle")))
	tb.waitFor(`document.documentElement.lang === "zh-CN"`)
	if s := tb.text("sentryp-token-status"); !strings.Contains(s, "已保存令牌") {
		t.Errorf("the token's status in Chinese reads %q", s)
	}
	tb.do(chromedp.Click(chromedp.ID("lang-toggle")))
	tb.waitFor(`document.documentElement.lang === "en"`)
	if s := tb.text("sentryp-token-status"); strings.Contains(s, "已保存") || !strings.Contains(s, "saved") {
		t.Errorf("the token's status on the English page reads %q", s)
	}
}

// overflow lists what does not fit the window on the page shown: a page
// wider than the window, a primary button outside it, a row's actions on
// more than two lines, a table header broken a letter a line.
const overflow = `(() => {
	const bad = [];
	const W = window.innerWidth;
	if (document.documentElement.scrollWidth > W) bad.push("page " + document.documentElement.scrollWidth + ">" + W);
	const page = document.querySelector(".page:not([hidden])");
	if (!page) return bad.join("; ");
	page.querySelectorAll(".btn-primary").forEach((b) => {
		if (!b.getClientRects().length || b.closest("[popover]")) return;
		const r = b.getBoundingClientRect();
		if (r.left < -1 || r.right > W + 1) bad.push("button " + (b.id || b.textContent) + " at " + Math.round(r.left) + "…" + Math.round(r.right));
	});
	page.querySelectorAll("td.actions").forEach((td) => {
		const tops = new Set();
		td.querySelectorAll("button").forEach((b) => {
			if (b.getClientRects().length && !b.closest("[popover]")) tops.add(Math.round(b.getBoundingClientRect().top));
		});
		if (tops.size > 2) bad.push(td.closest("tr").id + ": actions on " + tops.size + " lines");
	});
	page.querySelectorAll("th").forEach((th) => {
		if (th.getClientRects().length && th.getBoundingClientRect().height > 64) bad.push("header " + th.textContent + " " + Math.round(th.getBoundingClientRect().height) + "px high");
	});
	return bad.join("; ");
})()`

// TestBrowserNarrowWindows (#28.6): from 1440 down to 390 px nothing
// scrolls sideways, primary buttons stay in the window, tables become
// cards when narrow, and a row's actions never take three lines.
func TestBrowserNarrowWindows(t *testing.T) {
	in := start(t, nil, nil)
	in.api(t, "POST", "/api/v1/organizations", map[string]any{"name": "公司主账号（生产环境）", "sentry_url": "https://sentry.example.com/self-hosted",
		"slug": "acme-production", "account": "viewer-readonly@acme.example.com", "password": "pw", "client_secret": strings.Repeat("6f7e", 16)})
	seed(t, in)
	in.api(t, "POST", "/api/v1/robots", map[string]any{"name": "运维值班群（夜间）", "access_token": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7b2c-4e1d-9f3a-5c8e2d7b1a4f"})
	in.api(t, "POST", "/api/v1/projects", map[string]any{"name": "支付服务（核心交易链路）", "slug": "pay-service-core", "organization_id": 1,
		"owner_ids": []int{1, 2}, "robot_ids": []int{1, 2}, "environments": []string{"production", "staging"}, "min_level": "error", "mention_level": "fatal"})
	in.api(t, "POST", "/api/v1/projects", map[string]any{"name": "无机器人的项目", "slug": "no-robot", "owner_ids": []int{1}})
	h := in.history()
	h.Add(deliveries.Record{ID: "d-fail", Time: time.Now().Add(-time.Hour), Project: "mall-api", ProjectName: "商城后台", RobotID: 1, Robot: "研发告警群",
		Kind: "dingtalk", Result: deliveries.Failed, Code: 310000, Error: `robot "研发告警群" answered errcode 310000: keywords not in content`,
		Attempts: 2, Title: "TypeError: Cannot read properties of undefined (reading 'price')", Level: "error",
		Message: alertMessage("TypeError", "", "商城后台", "mall-api")})
	if err := h.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}

	tb := newTab(t, in)
	tb.open()
	pages := []string{"projects", "owners", "robots", "organizations", "deliveries", "webhook", "import", "history", "settings"}
	check := func(lang string, width int) {
		t.Helper()
		tb.viewport(int64(width), 900)
		for _, p := range pages {
			tb.page(p)
			if bad := eval[string](tb, overflow); bad != "" {
				t.Errorf("%s, %s at %d px: %s", lang, p, width, bad)
			}
			if width <= 700 {
				if d := eval[string](tb, `(() => { const t = document.querySelector(".page:not([hidden]) table.grid"); return t && t.getClientRects().length ? getComputedStyle(t).display : "" })()`); d == "table" {
					t.Errorf("%s, %s at %d px: the table stays a table", lang, p, width)
				}
			}
		}
		// A row's menu opens inside the window.
		tb.page("projects")
		tb.do(act("project-delete-2"))
		tb.waitFor(`document.getElementById("confirm-dialog").open`)
		tb.cancel()
		if bad := eval[string](tb, `(() => {
			const b = document.querySelector("[popovertarget]");
			if (!b) return "no menu";
			b.click();
			const m = document.getElementById(b.getAttribute("popovertarget"));
			const r = m.getBoundingClientRect();
			const out = r.left < 0 || r.right > innerWidth ? "menu at " + Math.round(r.left) + "…" + Math.round(r.right) : "";
			m.hidePopover();
			return out;
		})()`); bad != "" {
			t.Errorf("%s at %d px: %s", lang, width, bad)
		}
	}
	for _, w := range []int{1440, 1024, 700, 390} {
		check("zh", w)
	}
	tb.do(chromedp.Click(chromedp.ID("lang-toggle")))
	for _, w := range []int{700, 390} {
		check("en", w)
	}
}

// TestBrowserLongLists (#28.7): Sentry's 123 projects and the history can
// be searched; the list does not make a page thousands of pixels long;
// a history diff opens beside its row, with its restore button.
func TestBrowserLongLists(t *testing.T) {
	const sentryToken = "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"
	sn := sentrytest.New()
	t.Cleanup(sn.Close)
	sn.AddOrg("acme", sentrytest.Projects(123)...)
	sn.AddToken(sentryToken, sentrytest.Token{Scopes: []string{"project:read"}})
	in := start(t, nil, nil)
	in.api(t, "POST", "/api/v1/organizations", map[string]any{"name": "公司", "sentry_url": sn.URL, "slug": "acme"})
	in.api(t, "PUT", "/api/v1/organizations/1/sentry-token", map[string]any{"token": sentryToken})
	seed(t, in)
	for i := range 24 {
		in.api(t, "POST", "/api/v1/projects", map[string]any{"name": fmt.Sprintf("服务%02d", i), "slug": fmt.Sprintf("svc-%02d", i), "organization_id": 1,
			"owner_ids": []int{1 + i%2}, "robot_ids": []int{1}})
	}
	in.api(t, "PATCH", "/api/v1/owners/2", map[string]any{"name": "李四丰"})

	tb := newTab(t, in)
	tb.open()
	tb.page("organizations")
	tb.waitFor(`document.getElementById("sentryp-token-status").textContent.includes("已保存")`)
	tb.do(chromedp.Click(chromedp.ID("sentryp-list")))
	tb.waitFor(`document.querySelectorAll("#sentryp-rows tr").length === 123`)
	if h := eval[int](tb, `document.documentElement.scrollHeight`); h > 3000 {
		t.Errorf("listing 123 projects makes the page %d px long", h)
	}
	if h := eval[int](tb, `document.querySelector("#sentryp-projects .table-wrap").offsetHeight`); h > 600 {
		t.Errorf("the list of 123 projects is %d px high", h)
	}
	tb.do(chromedp.SendKeys(chromedp.ID("sentryp-search"), "app-12"))
	shown := `Array.from(document.querySelectorAll("#sentryp-rows tr")).filter((r) => r.getClientRects().length).map((r) => r.id.replace("sentryp-row-", "")).join(" ")`
	tb.waitFor(`document.querySelectorAll("#sentryp-rows tr[hidden]").length === 119`)
	if s := eval[string](tb, shown); s != "app-120 app-121 app-122 app-123" {
		t.Errorf("searching app-12 shows %q", s)
	}
	tb.do(chromedp.Click(chromedp.ID("sentryp-all")))
	if b := tb.text("sentryp-add"); !strings.Contains(b, "4") {
		t.Errorf("select all of the found picks %q", b)
	}

	// The projects page: a search.
	tb.page("projects")
	tb.do(chromedp.SendKeys(chromedp.ID("projects-search"), "svc-1"))
	tb.waitFor(`Array.from(document.querySelectorAll("#projects-rows tr.row")).filter((r) => !r.hidden).length === 10`)
	tb.clear("projects-search")
	tb.do(chromedp.SendKeys(chromedp.ID("projects-search"), "李四丰"))
	tb.waitFor(`Array.from(document.querySelectorAll("#projects-rows tr.row")).filter((r) => !r.hidden).length === 13`)

	// The history: a search, and the diff beside its row.
	tb.page("history")
	tb.waitFor(`document.getElementById("history-row-0") !== null`)
	tb.do(chromedp.SendKeys(chromedp.ID("history-search"), "李四"))
	tb.waitFor(`Array.from(document.querySelectorAll("#history-rows tr.row")).filter((r) => !r.hidden).length === 1`)
	tb.clear("history-search")
	tb.waitFor(`Array.from(document.querySelectorAll("#history-rows tr.row")).filter((r) => r.hidden).length === 0`)
	tb.do(chromedp.Click(chromedp.ID("history-diff-2")))
	tb.waitFor(`document.getElementById("history-restore-2") !== null`)
	if next := eval[string](tb, `document.getElementById("history-row-2").nextElementSibling.id`); next != "history-detail-2" {
		t.Errorf("the diff of row 2 opens at %q, not beside its row", next)
	}
	if !eval[bool](tb, `document.getElementById("history-detail-2").contains(document.getElementById("history-restore-2"))`) {
		t.Error("the restore button is not with its diff")
	}
	tb.ask("history-restore-2")
	tb.do(chromedp.Click(chromedp.ID("confirm-ok")))
	tb.waitFor(`document.querySelector("#history-result .msg.ok") !== null`)
	// Row 2 is the save that added svc-22: before it, mall-api and svc-00 … svc-21.
	if n := len(in.stored(t).Projects); n != 23 {
		t.Errorf("after restoring the version before the third save back: %d projects, want 23", n)
	}
}

// TestBrowserSmallThings (#28.8): a file that is not JSON is said in
// words; the file picker is a button; the webhook URL keeps its /; the
// guide's done steps read ✓ and tick in order; the English header names
// the program once; the test alert's title is in one language; a project
// without a robot says it will never alert.
func TestBrowserSmallThings(t *testing.T) {
	ding := robottest.NewDingTalk(robottest.DingTalkRobot{Token: robotToken, Secret: robotSecret, Keywords: []string{"详情"}})
	t.Cleanup(ding.Close)
	in := start(t, nil, map[string]string{"SENTRY_WHITE_DINGTALK_API": ding.URL()})
	in.api(t, "POST", "/api/v1/owners", map[string]any{"name": "张三", "mobile": ownerMobile})
	in.api(t, "POST", "/api/v1/robots", map[string]any{"name": "研发告警群", "access_token": robotToken, "secret": robotSecret, "keyword": "详情"})
	tb := newTab(t, in)
	tb.open()

	// A robot's test alert before any project: the guide's step 4 waits
	// for step 3.
	tb.page("robots")
	tb.do(chromedp.Click(chromedp.ID("robot-test-1")))
	tb.waitFor(`document.querySelector("#page-robots .msg.ok") !== null`)
	if eval[bool](tb, `document.getElementById("guide-step-test").classList.contains("done")`) {
		t.Error("the guide ticks the test alert before there is a project")
	}
	if n := tb.text("guide-step-owner"); strings.Contains(n, "✓.") || !strings.Contains(n, "✓") {
		t.Errorf("a done step reads %q", n)
	}
	if msgs := ding.Messages(); len(msgs) != 1 {
		t.Errorf("%d test alerts arrived, want 1", len(msgs))
	} else if m := msgs[0].Text; !strings.Contains(m, "sentry-white 测试告警") || strings.Contains(m, "test alert") {
		t.Errorf("the test alert mixes languages: %s", m)
	}

	// A project without a robot.
	in.api(t, "POST", "/api/v1/projects", map[string]any{"name": "商城后台", "slug": "mall-api", "owner_ids": []int{1}})
	tb.do(chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("robots-title")))
	tb.page("projects")
	tb.waitFor(`document.getElementById("project-row-1") !== null`)
	if r := tb.text("project-row-1"); !strings.Contains(r, "不会发出告警") {
		t.Errorf("a project without a robot reads %q", r)
	}

	// The webhook URL keeps its / before ?token=.
	in.api(t, "PUT", "/api/v1/settings", map[string]any{"relay_url": "https://relay.example.com"})
	tb.page("webhook")
	tb.waitFor(`document.getElementById("webhook-url").value !== ""`)
	tok := eval[string](tb, `document.getElementById("webhook-token").value`)
	if u := eval[string](tb, `document.getElementById("webhook-url").value`); u != "https://relay.example.com/?token="+tok {
		t.Errorf("the webhook URL reads %q", u)
	}

	// A file that is not JSON, picked with a button.
	tb.page("import")
	if !eval[bool](tb, `(() => {
		const b = document.getElementById("import-file-button");
		const i = document.getElementById("import-file");
		return !!b && b.classList.contains("btn") && b.getClientRects().length > 0 && i.getBoundingClientRect().width <= 1;
	})()`) {
		t.Error("the file picker is the browser's own")
	}
	tb.do(chromedp.SetUploadFiles(chromedp.ID("import-file"), []string{writeFile(t, "notes.txt", []byte("hello, not json"))}))
	tb.waitFor(`document.querySelector("#import-result .msg.fail") !== null`)
	if v := tb.visibleText("import-result"); strings.Contains(v, "Unexpected token") || strings.Contains(v, "is not valid JSON") || !strings.Contains(v, "notes.txt") {
		t.Errorf("a file that is not JSON reads %q", v)
	}
	if n := tb.text("import-file-name"); n != "notes.txt" {
		t.Errorf("the picked file's name reads %q", n)
	}

	// The English header names the program once.
	tb.do(chromedp.Click(chromedp.ID("lang-toggle")))
	tb.waitFor(`document.documentElement.lang === "en"`)
	if b := eval[string](tb, `Array.from(document.querySelectorAll(".brand span")).filter((s) => s.getClientRects().length).map((s) => s.textContent).join(" ")`); b != "sentry-white" {
		t.Errorf("the English header reads %q", b)
	}
	tb.page("projects")
	if r := tb.text("project-row-1"); !strings.Contains(r, "never alert") {
		t.Errorf("in English a project without a robot reads %q", r)
	}
}
