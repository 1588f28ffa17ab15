package main

// Browser tests of moving in: importing the original sentry-white's data
// from the store the configurator opens, and adding projects from a Sentry
// organization (a Sentry API stand-in on loopback).

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sentry-white/sentry-white/internal/original/originaltest"
	"github.com/sentry-white/sentry-white/internal/robottest"
	"github.com/sentry-white/sentry-white/internal/sentryapi/sentrytest"
)

// screenshotsDir is docs/screenshots, found when the tests start: a test
// that changes its folder (t.Chdir) still writes there.
var screenshotsDir, screenshotsErr = filepath.Abs(filepath.Join("..", "..", "docs", "screenshots"))

func shotsDir(t *testing.T) string {
	t.Helper()
	if screenshotsErr != nil {
		t.Fatal(screenshotsErr)
	}
	return screenshotsDir
}

func TestBrowserImportFromTheOriginal(t *testing.T) {
	shots := shotsDir(t) // before the Chdir below
	ding := robottest.NewDingTalk(
		robottest.DingTalkRobot{Token: originaltest.TokenDev, Keywords: []string{"详情"}},
		robottest.DingTalkRobot{Token: originaltest.TokenCRM, Keywords: []string{"详情"}})
	t.Cleanup(ding.Close)
	// The default folder store of an empty folder, as a user would run it,
	// so the screenshots show ./sentry-white-data.
	t.Chdir(t.TempDir())
	dir := originaltest.FolderAt(t, "sentry-white-data")
	in := start(t, []string{"-no-browser", "-addr", "127.0.0.1:0"}, map[string]string{"SENTRY_WHITE_DINGTALK_API": ding.URL()})
	in.dir = dir
	in.api(t, "PUT", "/api/v1/settings", map[string]any{"relay_url": "https://sentry-white-relay.cn-hangzhou.fcapp.run"})
	// A document without entries, as the page writes when the webhook token
	// is set first: the import keeps its token (Sentry may have it already).
	const token = "3f9c0a7e5b1d4c2a8e6f0b9d7c5a3e1f"
	in.api(t, "PUT", "/api/v1/document", map[string]any{"schema": 1, "webhook_token": token, "organizations": []any{}, "owners": []any{}, "robots": []any{}, "projects": []any{}})

	tb := newTab(t, in)
	tb.open()
	// The projects page says what the store holds and offers the import.
	tb.waitFor(`!document.getElementById("movein-notice").hidden`)
	if txt := tb.text("movein-notice"); !strings.Contains(txt, "旧版哨兵小白") || !strings.Contains(txt, dir) {
		t.Errorf("the notice reads %q", txt)
	}
	tb.do(chromedp.Click(chromedp.ID("movein-notice-go")), chromedp.WaitVisible(chromedp.ID("page-import")))
	tb.waitFor(`document.getElementById("original-diff-title") !== null`)
	preview := tb.text("original-preview")
	for _, want := range []string{"新增", "组织 #1 公司主账号", "商城后台", "支付服务", "CRM 前台", "api/v1/robots"} {
		if !strings.Contains(preview, want) {
			t.Errorf("the preview lacks %q: %s", want, preview)
		}
	}
	skipped := tb.text("original-skipped")
	for _, want := range []string{"项目 5 “旧后台” 已删除", "负责人 5 “钱七”：phone “12345” 不是手机号，跳过"} {
		if !strings.Contains(skipped, want) {
			t.Errorf("the skipped list lacks %q: %s", want, skipped)
		}
	}
	problems := tb.text("original-problems")
	for _, want := range []string{"robot 指向的 机器人 9 不存在", "没有机器人", "从 3 个单条记录对象"} {
		if !strings.Contains(problems, want) {
			t.Errorf("the problems lack %q: %s", want, problems)
		}
	}
	if strings.Contains(preview, originaltest.TokenDev) || strings.Contains(preview, "readonly-2022") {
		t.Error("the preview shows a secret")
	}
	if st := tb.text("original-status"); !strings.Contains(st, "1 个组织、3 个负责人、2 个机器人、3 个项目") {
		t.Errorf("the status reads %q", st)
	}
	tb.screenshot(shots, "import-original", "zh", 1280)

	tb.do(chromedp.Click(chromedp.ID("original-confirm")))
	tb.waitFor(`document.querySelector("#original-result .msg.ok") !== null`)
	if res := tb.text("original-result"); !strings.Contains(res, "已导入：1 个组织、3 个负责人、2 个机器人、3 个项目") || !strings.Contains(res, "Sentry 只需改一处") {
		t.Errorf("the result reads %q", res)
	}
	d := in.stored(t)
	if len(d.Projects) != 3 || len(d.Owners) != 3 || len(d.Robots) != 2 || d.WebhookToken.Reveal() != token {
		t.Fatalf("stored %+v", d)
	}

	// The webhook page explains the one change Sentry needs.
	tb.do(chromedp.Click(chromedp.ID("original-go-webhook")), chromedp.WaitVisible(chromedp.ID("page-webhook")))
	tb.waitFor(`!document.getElementById("movein-webhook").hidden && document.getElementById("movein-webhook-url").textContent.includes("token=")`)
	card := tb.text("movein-webhook")
	if !strings.Contains(card, "Callback URLs") || !strings.Contains(card, "?token=") ||
		!strings.Contains(card, "https://sentry-white-relay.cn-hangzhou.fcapp.run/?token="+d.WebhookToken.Reveal()) {
		t.Errorf("the webhook card reads %q", card)
	}
	tb.screenshot(shots, "webhook-after-import", "zh", 1280)

	// The imported project sends a test alert to its imported robot, with
	// its imported owners' @.
	tb.page("projects")
	tb.waitFor(`document.getElementById("project-row-3") !== null && document.getElementById("movein-notice").hidden`)
	tb.do(chromedp.Click(chromedp.ID("project-test-3")))
	tb.waitFor(`document.querySelector("#project-status-3 .msg.ok, #project-status-3 .msg.fail") !== null`)
	msgs := ding.Messages()
	if len(msgs) != 1 || msgs[0].Token != originaltest.TokenDev || !slices.Equal(msgs[0].AtMobiles, []string{"13800138000", "13900139000"}) || !msgs[0].Mentioned {
		t.Errorf("the test alert: %+v (rejected %v)", msgs, ding.Rejected())
	}

	// In English, a second look finds nothing more to import.
	tb.do(chromedp.Click(chromedp.ID("lang-toggle")))
	tb.page("import")
	tb.waitFor(`document.querySelector("#original-status .msg.ok") !== null`)
	if st := tb.text("original-status"); !strings.Contains(st, "Already imported") {
		t.Errorf("the second look reads %q", st)
	}
	if !eval[bool](tb, `document.getElementById("original-confirm").hidden`) {
		t.Error("the import is offered again")
	}
	if n := len(in.stored(t).Projects); n != 3 {
		t.Errorf("%d projects", n)
	}
}

func TestBrowserNoOriginalData(t *testing.T) {
	in := start(t, nil, nil)
	tb := newTab(t, in)
	tb.open()
	tb.page("import")
	tb.waitFor(`document.querySelector("#original-status .msg.info") !== null && !document.getElementById("original-status").textContent.includes("…")`)
	if st := tb.text("original-status"); !strings.Contains(st, "没有旧版哨兵小白的数据") || !strings.Contains(st, "设置") {
		t.Errorf("an empty store: %q", st)
	}
	if !eval[bool](tb, `document.getElementById("movein-notice").hidden && document.getElementById("original-confirm").hidden`) {
		t.Error("an import is offered without data")
	}
}

func TestBrowserAddProjectsFromSentry(t *testing.T) {
	const sentryToken = "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"
	shots := shotsDir(t) // before the Chdir below
	sn := sentrytest.New()
	t.Cleanup(sn.Close)
	sn.PerPage = 2
	sn.AddOrg("acme", sentrytest.Projects(5)...)
	sn.AddToken(sentryToken, sentrytest.Token{Scopes: []string{"project:read"}})

	t.Chdir(t.TempDir())
	in := start(t, []string{"-no-browser", "-addr", "127.0.0.1:0"}, nil)
	in.dir = "sentry-white-data"
	in.api(t, "POST", "/api/v1/organizations", map[string]any{"name": "公司", "sentry_url": sn.URL, "slug": "acme"})
	in.api(t, "POST", "/api/v1/organizations", map[string]any{"name": "旧账号", "sentry_url": "https://sentry.io"})
	in.api(t, "POST", "/api/v1/owners", map[string]any{"name": "张三", "mobile": ownerMobile})
	in.api(t, "POST", "/api/v1/owners", map[string]any{"name": "李四", "mobile": "13900139000"})
	in.api(t, "POST", "/api/v1/robots", map[string]any{"name": "研发告警群", "access_token": robotToken})
	in.api(t, "POST", "/api/v1/projects", map[string]any{"name": "一号", "slug": "app-001", "organization_id": 1, "owner_ids": []int{1}, "robot_ids": []int{1}})
	in.api(t, "POST", "/api/v1/projects", map[string]any{"name": "打错的", "slug": "app-0002", "organization_id": 1, "owner_ids": []int{1}, "robot_ids": []int{1}})

	tb := newTab(t, in)
	tb.open()
	tb.page("organizations")
	tb.waitFor(`document.getElementById("organization-sentry-1") !== null`)
	tb.do(chromedp.Click(chromedp.ID("organization-sentry-1")))
	tb.waitFor(`document.getElementById("sentryp-token-status").textContent !== ""`)
	if st := tb.text("sentryp-token-status"); !strings.Contains(st, "还没有") {
		t.Errorf("the token status reads %q", st)
	}

	// A wrong token: Sentry's 401 explained with the fix.
	tb.waitFor(`!document.getElementById("sentryp-token").disabled && !document.getElementById("sentryp-token-save").disabled`)
	// The value is set, not typed: the row button's handler moves the focus
	// to the list button when the token status arrives, which can take keys
	// typed meanwhile.
	tb.do(chromedp.SetValue(chromedp.ID("sentryp-token"), "sntryu_wrong"))
	tb.do(chromedp.Click(chromedp.ID("sentryp-token-save")))
	tb.waitFor(`document.getElementById("sentryp-token-status").textContent.includes("已保存") || document.getElementById("sentryp-token-error").textContent !== ""`)
	if e := tb.text("sentryp-token-error"); e != "" {
		t.Fatalf("saving the token failed: %s", e)
	}
	tb.do(chromedp.Click(chromedp.ID("sentryp-list")))
	tb.waitFor(`document.querySelector("#sentryp-result .msg.fail") !== null`)
	if res := tb.text("sentryp-result"); !strings.Contains(res, "不接受这个令牌（401）") || !strings.Contains(res, "project:read") || !strings.Contains(res, "Invalid token") {
		t.Errorf("a wrong token reads %q", res)
	}

	// The right token: five projects over three pages; app-001 configured,
	// the configured app-0002 flagged.
	tb.do(chromedp.SetValue(chromedp.ID("sentryp-token"), sentryToken), chromedp.Click(chromedp.ID("sentryp-token-save")))
	tb.waitFor(`document.getElementById("sentryp-token-status").textContent.includes("…` + sentryToken[len(sentryToken)-3:] + `")`)
	tb.do(chromedp.Click(chromedp.ID("sentryp-list")))
	tb.waitFor(`document.querySelectorAll("#sentryp-rows tr").length === 5`)
	if res := tb.text("sentryp-result"); !strings.Contains(res, "Sentry 里有 5 个项目，其中 1 个已经配置") {
		t.Errorf("the count reads %q", res)
	}
	if u := tb.text("sentryp-unknown"); !strings.Contains(u, "app-0002") || !strings.Contains(u, "拼错") || strings.Contains(u, "app-001 ") {
		t.Errorf("the unknown slugs read %q", u)
	}
	if !eval[bool](tb, `document.getElementById("sentryp-pick-0").disabled`) {
		t.Error("app-001 is configured but can be chosen")
	}
	if eval[string](tb, `document.getElementById("sentryp-name-2").value`) != "App 003" {
		t.Error("the Sentry name is not filled in")
	}
	if strings.Contains(eval[string](tb, `document.body.innerHTML`), sentryToken) {
		t.Error("the page shows the Sentry token")
	}
	tb.do(chromedp.Click(chromedp.ID("sentryp-pick-2")), chromedp.Click(chromedp.ID("sentryp-pick-3")))
	tb.fill("sentryp-name-2", "三号应用")
	tb.do(chromedp.Click(chromedp.ID("sentryp-owner-1")), chromedp.Click(chromedp.ID("sentryp-owner-2")))
	if !eval[bool](tb, `document.getElementById("sentryp-robot-1").checked`) {
		tb.do(chromedp.Click(chromedp.ID("sentryp-robot-1")))
	}
	if b := tb.text("sentryp-add"); !strings.Contains(b, "2") {
		t.Errorf("the add button reads %q", b)
	}
	tb.screenshot(shots, "sentry-projects", "zh", 1280)
	tb.do(chromedp.Click(chromedp.ID("sentryp-add")))
	tb.waitFor(`document.getElementById("sentryp-result").textContent.includes("已添加 2 个项目")`)
	d := in.stored(t)
	if len(d.Projects) != 4 {
		t.Fatalf("projects %+v", d.Projects)
	}
	for i, want := range []struct{ name, slug string }{{"三号应用", "app-003"}, {"App 004", "app-004"}} {
		p := d.Projects[2+i]
		if p.Name != want.name || p.Slug != want.slug || p.OrganizationID != 1 || !slices.Equal(p.OwnerIDs, []int64{1, 2}) || !slices.Equal(p.RobotIDs, []int64{1}) {
			t.Errorf("added project %d: %+v", i, p)
		}
	}
	tb.waitFor(`document.getElementById("sentryp-row-app-003").classList.contains("configured") && document.getElementById("sentryp-pick-2").disabled`)

	// An organization without a slug cannot be asked.
	eval[bool](tb, `(() => { const s = document.getElementById("sentryp-org"); s.value = "2"; s.dispatchEvent(new Event("change")); return true })()`)
	tb.waitFor(`document.getElementById("sentryp-list").disabled`)
	if h := tb.text("sentryp-org-hint"); !strings.Contains(h, "没有 slug") {
		t.Errorf("no slug: %q", h)
	}

	// In English.
	tb.do(chromedp.Click(chromedp.ID("lang-toggle")))
	eval[bool](tb, `(() => { const s = document.getElementById("sentryp-org"); s.value = "1"; s.dispatchEvent(new Event("change")); return true })()`)
	// The token's status is written when its answer comes; click once the
	// card stands still.
	tb.waitFor(`document.getElementById("sentryp-token-status").textContent.includes("saved")`)
	tb.do(chromedp.Click(chromedp.ID("sentryp-list")))
	tb.waitFor(`document.getElementById("sentryp-result").textContent.includes("Sentry has 5 projects")`)
	if title := tb.text("sentryp-title"); title != "Add projects from Sentry" {
		t.Errorf("the English title reads %q", title)
	}
	if res := tb.text("sentryp-result"); !strings.Contains(res, "3 of them are configured") {
		t.Errorf("English count %q", res)
	}
	tb.screenshot(shots, "sentry-projects", "en", 1280)
	if reqs := sn.Requests(); len(reqs) < 7 {
		t.Errorf("%d requests to Sentry, want the three pages twice and the refused one", len(reqs))
	} else {
		for _, r := range reqs {
			if r.Path != "/api/0/organizations/acme/projects/" {
				t.Errorf("request to %s", r.Path)
			}
		}
	}
}
