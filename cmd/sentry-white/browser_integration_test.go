package main

// Issues #22 and #23 in the browser: the Webhook page and the guide lead
// with Sentry's internal integration (every value with a copy button), the
// legacy plugin below for projects that already have it; the
// organization's Sentry token with 检查令牌; an owner's Sentry user picked
// from the organization's members; acting from the chat (relay_url, the
// link key rotated) and the preview's action links; and the guide followed
// to an alert delivered through the integration path — each at 1280 and
// 390 px, where no page scrolls sideways.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sentry-white/sentry-white/internal/robottest"
	"github.com/sentry-white/sentry-white/internal/sentryapi/sentrytest"
	"github.com/sentry-white/sentry-white/internal/store"
)

// catchCopies keeps what the page puts on the clipboard in window.copied,
// in order (headless Chromium has no clipboard a test can read).
func (tb *tab) catchCopies() {
	tb.t.Helper()
	eval[bool](tb, `(() => {
		window.copied = [];
		Object.defineProperty(navigator, "clipboard", { configurable: true, value: { writeText: (s) => { window.copied.push(s); return Promise.resolve(); } } });
		return true;
	})()`)
}

// copyOf clicks the copy button of the integration's value id and answers
// what it copied.
func (tb *tab) copyOf(id string) string {
	tb.t.Helper()
	n := eval[int](tb, `window.copied.length`)
	tb.do(chromedp.Click(chromedp.ID("integ-copy-" + id)))
	tb.waitFor(fmt.Sprintf(`window.copied.length > %d`, n))
	return eval[string](tb, `window.copied[window.copied.length - 1]`)
}

// before reports whether the element with id a comes before the one with
// id b in the page.
func (tb *tab) before(a, b string) bool {
	tb.t.Helper()
	return eval[bool](tb, fmt.Sprintf(`!!(document.getElementById(%q).compareDocumentPosition(document.getElementById(%q)) & Node.DOCUMENT_POSITION_FOLLOWING)`, a, b))
}

// atEachWidth runs test at each of widths, in a subtest of its own.
func atEachWidth(t *testing.T, test func(t *testing.T, width int)) {
	for _, w := range widths {
		t.Run(fmt.Sprint(w), func(t *testing.T) { test(t, w) })
	}
}

// editFirst opens page in a tab at width with the edit form of its entry
// 1 (of kind).
func editFirst(t *testing.T, in *instance, width int, page, kind string) *tab {
	t.Helper()
	tb := newTab(t, in)
	tb.atWidth(width)
	tb.open()
	tb.page(page)
	tb.do(act(kind + "-edit-1"))
	tb.waitFor(fmt.Sprintf(`document.getElementById(%q).open`, kind+"-dialog"))
	return tb
}

// integrationRows are the values of Sentry's form the page offers to copy.
var integrationRows = []string{"name", "webhook_url", "alert_rule_action", "schema", "perm-project", "perm-issue_event",
	"perm-member", "perm-organization", "perm-other", "webhooks"}

func TestBrowserIntegrationForm(t *testing.T) {
	atEachWidth(t, testIntegrationForm)
}

func testIntegrationForm(t *testing.T, width int) {
	in := start(t, nil, nil)
	seed(t, in) // the first save makes the webhook token
	tb := newTab(t, in)
	tb.atWidth(width)
	tb.open()
	tb.page("webhook")
	// Before a relay URL: every value but the webhook URL, which says why.
	tb.waitFor(`document.getElementById("integ-row-schema") !== null`)
	if !eval[bool](tb, `document.getElementById("integ-copy-webhook_url").disabled`) {
		t.Error("the webhook URL can be copied before there is a relay URL")
	}
	if v := tb.text("integ-value-webhook_url"); !strings.Contains(v, "先在上面填写中继地址") {
		t.Errorf("without a relay URL the webhook URL reads %q", v)
	}

	const relayURL = "https://sentry-white-relay.cn-hangzhou.fcapp.run"
	tb.fill("webhook-relay_url", relayURL)
	tb.do(chromedp.Click(chromedp.ID("webhook-relay-save")))
	tb.waitFor(`!document.getElementById("integ-copy-webhook_url").disabled`)
	want := in.api(t, "GET", "/api/v1/sentry-integration", nil)

	// The integration leads; the legacy plugin is below, for projects
	// that have it.
	if !tb.before("integ-card", "legacy-card") || !tb.before("integ-card", "act-card") || !tb.before("act-card", "legacy-card") {
		t.Error("the internal integration does not lead the page, before acting from the chat and the legacy plugin")
	}
	if h := tb.text("legacy-title"); h != "已经装了旧版 WebHooks 插件的项目" {
		t.Errorf("the legacy plugin's title reads %q", h)
	}
	if h := tb.text("integ-title"); !strings.Contains(h, "内部集成") {
		t.Errorf("the integration's title reads %q", h)
	}

	// Every value has its copy button, and copies what Sentry's form takes.
	tb.catchCopies()
	copied := map[string]string{}
	for _, id := range integrationRows {
		copied[id] = tb.copyOf(id)
		if s := tb.text("integ-status"); !strings.HasPrefix(s, "已复制") {
			t.Errorf("after copying %s the status reads %q", id, s)
		}
	}
	if copied["name"] != want["name"] || copied["webhook_url"] != want["webhook_url"] || !strings.HasPrefix(copied["webhook_url"], relayURL+"/?token=") {
		t.Errorf("copied name %q and webhook URL %q; the API says %v and %v", copied["name"], copied["webhook_url"], want["name"], want["webhook_url"])
	}
	var schema, apiSchema any
	if err := json.Unmarshal([]byte(copied["schema"]), &schema); err != nil {
		t.Fatalf("the copied schema is not JSON: %v\n%s", err, copied["schema"])
	}
	_ = json.Unmarshal([]byte(want["schema_text"].(string)), &apiSchema)
	if fmt.Sprint(schema) != fmt.Sprint(apiSchema) || !strings.Contains(copied["schema"], `"name": "robot"`) {
		t.Errorf("the copied schema differs from the API's:\n%s", copied["schema"])
	}
	for id, v := range map[string]string{"alert_rule_action": "on", "perm-project": "Project: Read", "perm-issue_event": "Issue & Event: Read & Write",
		"perm-member": "Member: Read", "perm-organization": "Organization: Read", "perm-other": "No Access", "webhooks": "issue"} {
		if copied[id] != v {
			t.Errorf("copying %s gave %q, want %q", id, copied[id], v)
		}
	}
	// Each permission says why, in words.
	if why := tb.text("integ-row-perm-issue_event"); !strings.Contains(why, "解决、忽略、指派") || !strings.Contains(why, "event:write") {
		t.Errorf("the Issue & Event permission reads %q", why)
	}
	if !strings.Contains(tb.text("integ-row-perm-organization"), "选填") {
		t.Error("the organization permission is not marked optional")
	}
	tb.noSideways("the webhook page")

	// The guide's Sentry step is the integration, and copying the
	// integration's webhook URL does it.
	if g := tb.text("guide-step-webhook"); !strings.Contains(g, "内部集成") {
		t.Errorf("the guide's Sentry step reads %q", g)
	}

	// In English, the same.
	tb.do(chromedp.Click(chromedp.ID("lang-toggle")))
	tb.waitFor(`document.getElementById("legacy-title").textContent === "For projects that already have the legacy WebHooks plugin"`)
	if h := tb.text("integ-title"); h != "Create a Sentry internal integration" {
		t.Errorf("the English title reads %q", h)
	}
	if why := tb.text("integ-row-perm-issue_event"); !strings.Contains(why, "resolving, ignoring and assigning") {
		t.Errorf("the English permission reads %q", why)
	}
	tb.noSideways("the English webhook page")
}

// TestBrowserOrganizationToken: the organization's Sentry token opens
// empty like every secret (empty keeps it, 显示 reveals it, a mask is
// refused); 检查令牌 says what it may do, and each of Sentry's refusals in
// words.
func TestBrowserOrganizationToken(t *testing.T) {
	atEachWidth(t, testOrganizationToken)
}

func testOrganizationToken(t *testing.T, width int) {
	const full = "sntrys_full_0123456789abcdef0123456789abcdef"
	const narrow = "sntrys_narrow_0123456789abcdef0123456789abcd"
	sn := sentrytest.New()
	t.Cleanup(sn.Close)
	sn.AddOrg("acme", sentrytest.Projects(3)...)
	sn.AddToken(full, sentrytest.Token{Orgs: []string{"acme"}, Scopes: []string{"project:read", "event:read", "event:write", "member:read", "org:read"}})
	sn.AddToken(narrow, sentrytest.Token{Orgs: []string{"acme"}, Scopes: []string{"project:read"}})

	in := start(t, nil, nil)
	in.api(t, "POST", "/api/v1/organizations", map[string]any{"name": "公司", "sentry_url": sn.URL, "slug": "acme"})
	tb := editFirst(t, in, width, "organizations", "organization")
	check := func(want string) string {
		t.Helper()
		tb.do(chromedp.Click(chromedp.ID("organization-api_token-check")))
		tb.waitFor(fmt.Sprintf(`document.getElementById("organization-api_token-result").textContent.includes(%q) || document.getElementById("organization-api_token-error").textContent !== ""`, want))
		return tb.visibleText("organization-api_token-result") + tb.text("organization-api_token-error")
	}

	// A token typed but not saved: checked as typed.
	tb.fill("organization-api_token", narrow)
	got := check("它能做的事")
	for _, w := range []string{"刚输入的令牌（还没保存）", "✓ 列出组织的项目", "✗ 不能在告警里加上 Sentry 的数据", "event:read", "✗ 不能在群里处理告警", "event:write", "project:read"} {
		if !strings.Contains(got, w) {
			t.Errorf("the narrow token's check lacks %q: %s", w, got)
		}
	}
	tb.noSideways("the token check")
	// The full one, saved.
	tb.fill("organization-api_token", full)
	tb.save("organization")
	if tok := in.stored(t).Organizations[0].APIToken.Reveal(); tok != full {
		t.Fatalf("the stored token is %q", tok)
	}
	if row := tb.text("organization-row-1"); strings.Contains(row, full) || !strings.Contains(row, "令牌") {
		t.Errorf("the row shows %q", row)
	}
	// Adding projects from Sentry uses it when no token is kept here.
	tb.waitFor(`document.getElementById("sentryp-token-status").textContent.includes("组织的 Sentry 令牌")`)
	tb.do(act("organization-edit-1"))
	tb.waitFor(`document.getElementById("organization-dialog").open`)
	if v := eval[string](tb, `document.getElementById("organization-api_token").value`); v != "" {
		t.Errorf("the token input opens holding %q", v)
	}
	if p := eval[string](tb, `document.getElementById("organization-api_token").placeholder`); !strings.Contains(p, "…") {
		t.Errorf("the token input's placeholder %q is not the saved token's mask", p)
	}
	got = check("已保存的令牌")
	for _, w := range []string{"✓ 在告警里加上 Sentry 的数据", "✓ 列出组织的项目", "✓ 在群里处理告警", "event:write"} {
		if !strings.Contains(got, w) {
			t.Errorf("the saved token's check lacks %q: %s", w, got)
		}
	}
	// 显示 reveals it.
	tb.do(chromedp.Click(chromedp.ID("organization-api_token-show")))
	tb.waitFor(fmt.Sprintf(`document.getElementById("organization-api_token").value === %q`, full))
	// A mask is refused, by the check and by the save.
	tb.fill("organization-api_token", "sntr…cdef")
	if got := check("掩码"); !strings.Contains(got, "掩码") {
		t.Errorf("a mask checked reads %q", got)
	}
	tb.do(chromedp.Click(chromedp.ID("organization-save")))
	tb.waitFor(`document.getElementById("organization-api_token-error").textContent !== ""`)
	if tok := in.stored(t).Organizations[0].APIToken.Reveal(); tok != full {
		t.Fatalf("a mask reached the store: %q", tok)
	}

	// Sentry's refusals, worded.
	tb.fill("organization-api_token", "sntrys_wrong_0123456789abcdef0123456789abc")
	if got := check("401"); !strings.Contains(got, "不接受这个令牌（401）") || !strings.Contains(got, "复制 Token 重新粘贴") {
		t.Errorf("a wrong token reads %q", got)
	}
	tb.clear("organization-api_token")
	for _, c := range []struct {
		status int
		want   string
	}{{http.StatusForbidden, "不允许这个令牌访问组织 acme（403）"}, {http.StatusNotFound, "找不到这个令牌能看到的组织 acme"}, {http.StatusTooManyRequests, "限制了这个令牌的请求频率（429）"}} {
		sn.FailPath("/api/0/", sentrytest.Fault{Status: c.status})
		if got := check(fmt.Sprint(c.status)); !strings.Contains(got, c.want) {
			t.Errorf("Sentry answering %d reads %q", c.status, got)
		}
	}
	sn.Close()
	if got := check("连不上"); !strings.Contains(got, "连不上 Sentry") {
		t.Errorf("Sentry unreachable reads %q", got)
	}
	if strings.Contains(tb.visibleText("organization-api_token-result"), full) {
		t.Error("the check shows the token")
	}
	tb.noSideways("the organization form")
}

// TestBrowserOwnerSentryUser: an owner's Sentry user is picked from the
// organization's members as Sentry lists them, or typed; an invitation not
// accepted cannot be picked; Sentry's refusal is worded.
func TestBrowserOwnerSentryUser(t *testing.T) {
	atEachWidth(t, testOwnerSentryUser)
}

func testOwnerSentryUser(t *testing.T, width int) {
	const token = "sntrys_members_0123456789abcdef0123456789ab"
	sn := sentrytest.New()
	t.Cleanup(sn.Close)
	sn.AddExample("acme", token, "TypeError")
	sn.AddMember("acme", sentrytest.Member{Email: "wangwu@example.com", Name: "王五", Pending: true})
	in := start(t, nil, nil)
	in.api(t, "POST", "/api/v1/organizations", map[string]any{"name": "公司", "sentry_url": sn.URL, "slug": "acme", "api_token": token})
	in.api(t, "POST", "/api/v1/owners", map[string]any{"name": "张三", "mobile": ownerMobile})
	tb := editFirst(t, in, width, "owners", "owner")
	tb.do(chromedp.Click(chromedp.ID("owner-sentry-pick")))
	tb.waitFor(`!document.getElementById("owner-sentry-members").hidden || document.querySelector("#owner-sentry-status .msg.fail") !== null`)
	if s := tb.text("owner-sentry-status"); !strings.Contains(s, "位成员") {
		t.Fatalf("reading the members says %q", s)
	}
	options := eval[[]string](tb, `Array.from(document.querySelectorAll("#owner-sentry-member option")).map((o) => (o.disabled ? "!" : "") + o.value + "=" + o.textContent)`)
	var pick string
	for _, o := range options {
		if strings.HasPrefix(o, "zhangsan@") {
			pick, _, _ = strings.Cut(o, "=")
		}
	}
	if pick == "" {
		t.Fatalf("张三 is not among the members: %q", options)
	}
	if !strings.Contains(strings.Join(options, " "), "!=王五 <wangwu@example.com>（还没接受邀请，不能指派）") {
		t.Errorf("an invitation not accepted is not shown as one that cannot be picked: %q", options)
	}
	tb.noSideways("the owner form with the members")
	tb.choose("owner-sentry-member", pick)
	if v := eval[string](tb, `document.getElementById("owner-sentry_user").value`); v != pick {
		t.Errorf("picking a member fills in %q, want %q", v, pick)
	}
	tb.save("owner")
	if u := in.stored(t).Owners[0].SentryUser; u != pick {
		t.Errorf("the stored Sentry user is %q", u)
	}
	tb.waitFor(fmt.Sprintf(`document.getElementById("owner-row-1").textContent.includes(%q)`, "Sentry "+pick))

	// Typed, and Sentry refusing to list.
	tb.do(act("owner-edit-1"))
	tb.waitFor(`document.getElementById("owner-dialog").open`)
	tb.fill("owner-sentry_user", "lisi")
	sn.FailPath("/members/", sentrytest.Fault{Status: http.StatusForbidden})
	tb.do(chromedp.Click(chromedp.ID("owner-sentry-pick")))
	tb.waitFor(`document.querySelector("#owner-sentry-status .msg.fail") !== null`)
	if s := tb.visibleText("owner-sentry-status"); !strings.Contains(s, "不允许这个令牌列出组织 acme 的成员（403）") || !strings.Contains(s, "member:read") {
		t.Errorf("Sentry refusing the members reads %q", s)
	}
	tb.save("owner")
	if u := in.stored(t).Owners[0].SentryUser; u != "lisi" {
		t.Errorf("the typed Sentry user is stored as %q", u)
	}
}

// TestBrowserActFromTheChat: on the Webhook page, 在群里处理 takes the
// relay URL (prefilled from the page's), says which organizations'
// messages carry links, and rotating the key asks first, saying every
// link sent stops working; the preview shows the message's links, or why
// there are none.
func TestBrowserActFromTheChat(t *testing.T) {
	atEachWidth(t, testActFromTheChat)
}

func testActFromTheChat(t *testing.T, width int) {
	in := start(t, nil, nil)
	in.api(t, "POST", "/api/v1/organizations", map[string]any{"name": "公司", "sentry_url": "https://sentry.io", "slug": "acme"})
	seed(t, in)
	in.api(t, "PUT", "/api/v1/owners/1", map[string]any{"name": "张三", "mobile": ownerMobile, "sentry_user": "zhangsan@example.com"})
	in.api(t, "PUT", "/api/v1/projects/1", map[string]any{"name": "商城后台", "slug": "mall-api", "organization_id": 1, "owner_ids": []int{1, 2}, "robot_ids": []int{1}})
	const relayURL = "https://sentry-white-relay.cn-hangzhou.fcapp.run"
	in.api(t, "PUT", "/api/v1/settings", map[string]any{"relay_url": relayURL})
	tb := newTab(t, in)
	tb.atWidth(width)
	tb.open()

	// The preview before: no links, and why.
	preview := func() string {
		t.Helper()
		tb.page("projects")
		tb.do(act("project-preview-1"))
		tb.waitFor(`document.getElementById("preview-dialog").open`)
		tb.do(chromedp.Click(chromedp.ID("preview-run")))
		tb.waitFor(`document.getElementById("preview-robot-0") !== null`)
		out := tb.text("preview-body")
		tb.noSideways("the preview")
		tb.do(chromedp.Click(chromedp.ID("preview-close")))
		tb.waitFor(`!document.getElementById("preview-dialog").open`)
		return out
	}
	if p := preview(); !strings.Contains(p, "操作链接 · 消息里没有操作链接：配置里没有中继地址") {
		t.Errorf("without a relay_url the preview reads %q", p)
	}

	tb.page("webhook")
	tb.waitFor(fmt.Sprintf(`document.getElementById("act-relay_url").value === %q`, relayURL))
	if h := tb.text("act-relay_url-hint"); !strings.Contains(h, "还没保存") {
		t.Errorf("the prefilled relay URL says %q", h)
	}
	tb.do(chromedp.Click(chromedp.ID("act-save")))
	tb.waitFor(`document.getElementById("act-state").textContent.includes("公司")`)
	if d := in.stored(t); d.RelayURL != relayURL {
		t.Fatalf("the document's relay_url is %q", d.RelayURL)
	}
	if s := tb.text("act-state"); !strings.Contains(s, "没有 Sentry 令牌") {
		t.Errorf("an organization without a token reads %q", s)
	}
	if p := preview(); !strings.Contains(p, "没有 Sentry 令牌（api_token）") {
		t.Errorf("without an api_token the preview reads %q", p)
	}
	in.api(t, "PUT", "/api/v1/organizations/1", map[string]any{"name": "公司", "sentry_url": "https://sentry.io", "slug": "acme", "api_token": "sntrys_act_0123456789abcdef0123456789abcdef"})
	tb.page("webhook")
	tb.waitFor(`document.getElementById("act-state").textContent.includes("消息带操作链接")`)

	// The preview shows the links the message carries.
	tb.page("projects")
	p := preview()
	for _, w := range []string{"操作链接", "解决", "忽略 1 小时", "我来处理"} {
		if !strings.Contains(p, w) {
			t.Errorf("the preview with links lacks %q: %s", w, p)
		}
	}
	hrefs := eval[[]string](tb, `Array.from(document.querySelectorAll("#preview-links-0 a")).map((a) => a.href)`)
	if len(hrefs) != 3 || !strings.HasPrefix(hrefs[0], relayURL+"/act/") {
		t.Errorf("the preview's links %q", hrefs)
	}

	// Rotating the key asks first, saying every link sent stops working.
	tb.page("webhook")
	before := in.stored(t).ActionKey.Reveal()
	tb.ask("act-rotate")
	if q := tb.text("confirm-text"); !strings.Contains(q, "发出的每一条操作链接都会失效") {
		t.Errorf("rotating asks %q", q)
	}
	tb.noSideways("the rotate question")
	tb.cancel()
	if k := in.stored(t).ActionKey.Reveal(); k != before {
		t.Fatal("cancelling rotated the key")
	}
	tb.ask("act-rotate")
	tb.do(chromedp.Click(chromedp.ID("confirm-ok")))
	tb.waitFor(`document.getElementById("act-result").textContent.includes("已更换链接密钥")`)
	if k := in.stored(t).ActionKey.Reveal(); k == before || k == "" {
		t.Errorf("the key after rotating: %q (before %q)", k, before)
	}
	if strings.Contains(eval[string](tb, `document.body.textContent`), in.stored(t).ActionKey.Reveal()) {
		t.Error("the page shows the link key")
	}
	tb.noSideways("the webhook page")
}

// TestBrowserGuideToIntegrationAlert: a new user follows the guide to a
// test alert and then to Sentry's internal integration; Sentry (the
// stand-in's sender, with the values the page copied) asks the robot
// select's options, saves a rule's settings and sends an issue alert
// carrying them, and the group gets it with the notes and the @.
func TestBrowserGuideToIntegrationAlert(t *testing.T) {
	atEachWidth(t, testGuideToIntegrationAlert)
}

func testGuideToIntegrationAlert(t *testing.T, width int) {
	ding := robottest.NewDingTalk(robottest.DingTalkRobot{Token: robotToken, Secret: robotSecret, Keywords: []string{"详情"}})
	t.Cleanup(ding.Close)
	env := map[string]string{"SENTRY_WHITE_DINGTALK_API": ding.URL()}
	// The default store in an empty folder, which the relay reads too.
	t.Chdir(t.TempDir())
	in := start(t, []string{"-no-browser", "-addr", "127.0.0.1:0"}, env)
	in.dir = store.DefaultDir
	srv, _ := startRelay(t, in.dir, env)

	tb := newTab(t, in)
	tb.atWidth(width)
	tb.open()
	tb.waitFor(`!document.getElementById("guide").hidden`)
	if g := tb.text("guide-step-webhook"); !strings.Contains(g, "内部集成") {
		t.Errorf("the guide's Sentry step reads %q", g)
	}
	// 1–3: an owner, a robot, a project, each from the guide.
	tb.do(chromedp.Click(chromedp.ID("guide-go-owner")))
	tb.waitFor(`document.getElementById("owner-dialog").open`)
	tb.fill("owner-name", "张三", "owner-mobile", ownerMobile)
	tb.save("owner")
	tb.waitFor(`document.getElementById("guide-step-owner").classList.contains("done")`)
	tb.do(chromedp.Click(chromedp.ID("guide-go-robot")))
	tb.waitFor(`document.getElementById("robot-dialog").open`)
	tb.fill("robot-name", "研发告警群")
	tb.do(chromedp.SendKeys(chromedp.ID("robot-access_token"), "https://oapi.dingtalk.com/robot/send?access_token="+robotToken),
		chromedp.SendKeys(chromedp.ID("robot-secret"), robotSecret))
	tb.save("robot")
	tb.waitFor(`document.getElementById("guide-step-robot").classList.contains("done")`)
	tb.do(chromedp.Click(chromedp.ID("guide-go-project")))
	tb.waitFor(`document.getElementById("project-dialog").open`)
	tb.fill("project-name", "商城后台", "project-slug", "mall-api")
	tb.do(chromedp.Click(chromedp.ID("project-owner-1")))
	tb.save("project")
	// 4: the test alert.
	tb.waitFor(`document.getElementById("guide-step-project").classList.contains("done")`)
	tb.do(chromedp.Click(chromedp.ID("guide-go-test")))
	tb.waitFor(`document.getElementById("guide-step-test").classList.contains("done")`)
	if n := len(ding.Messages()); n != 1 {
		t.Fatalf("after the test alert the group has %d messages", n)
	}
	// 5: the internal integration, from the guide: the relay URL first.
	tb.do(chromedp.Click(chromedp.ID("guide-go-webhook")))
	tb.waitFor(`!document.getElementById("page-webhook").hidden && document.activeElement && document.activeElement.id === "webhook-relay_url"`)
	tb.waitFor(`(document.getElementById("page-webhook").dataset.loads || "") !== ""`) // what the page reads has arrived
	tb.noSideways("the webhook page from the guide")
	tb.fill("webhook-relay_url", srv.URL)
	tb.do(chromedp.Click(chromedp.ID("webhook-relay-save")))
	tb.waitFor(`!document.getElementById("integ-copy-webhook_url").disabled`)
	tb.catchCopies()
	name := tb.copyOf("name")
	webhookURL := tb.copyOf("webhook_url")
	schemaText := tb.copyOf("schema")
	tb.waitFor(`document.getElementById("guide").hidden`)
	if name != "哨兵小白 sentry-white" || !strings.HasPrefix(webhookURL, srv.URL+"/?token=") {
		t.Fatalf("copied name %q, webhook URL %q", name, webhookURL)
	}

	// Sentry, given what was copied.
	var schema struct {
		Elements []struct {
			Settings struct {
				URI            string `json:"uri"`
				RequiredFields []struct {
					Name string `json:"name"`
					URI  string `json:"uri"`
				} `json:"required_fields"`
			} `json:"settings"`
		} `json:"elements"`
	}
	if err := json.Unmarshal([]byte(schemaText), &schema); err != nil || len(schema.Elements) != 1 || len(schema.Elements[0].Settings.RequiredFields) != 1 {
		t.Fatalf("the copied schema %s: %v", schemaText, err)
	}
	settingsURI, robotsURI := schema.Elements[0].Settings.URI, schema.Elements[0].Settings.RequiredFields[0].URI
	sentry := &sentrytest.Sender{WebhookURL: webhookURL}
	ctx := context.Background()
	ans, err := sentry.Options(ctx, robotsURI, "", "mall-api", "")
	if err != nil || ans.Status != http.StatusOK || !strings.Contains(string(ans.Body), "研发告警群") {
		t.Fatalf("the robot select's options: %v %+v %s", err, ans, ans.Body)
	}
	ans, err = sentry.SaveSettings(ctx, settingsURI, "", sentrytest.Settings("7", "owners", ""))
	if err != nil || ans.Status != http.StatusBadRequest {
		t.Errorf("a rule with a robot that does not exist: %v %+v", err, ans)
	}
	const notes = "先看支付回调日志"
	settings := sentrytest.Settings("1", "owners", notes)
	ans, err = sentry.SaveSettings(ctx, settingsURI, "", settings)
	if err != nil || ans.Status != http.StatusOK {
		t.Fatalf("the rule's settings: %v %+v", err, ans)
	}
	ans, err = sentry.Webhook(ctx, "event_alert", sentrytest.EventAlertBody(sentrytest.Alert{Project: "mall-api", Settings: settings}))
	if err != nil || ans.Status != http.StatusOK {
		t.Fatalf("the issue alert: %v %+v", err, ans)
	}
	msgs := ding.Messages()
	if len(msgs) != 2 {
		t.Fatalf("the group has %d messages, want the test alert and the issue alert", len(msgs))
	}
	if m := msgs[1]; !strings.Contains(m.Text, notes) || !m.Mentioned || !strings.Contains(m.Text, "@"+ownerMobile) {
		t.Errorf("the issue alert through the integration: %+v", m)
	}
}
