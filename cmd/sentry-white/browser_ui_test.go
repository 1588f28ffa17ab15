package main

// Browser tests of issue #16: no wrong turns for a first-time user, and
// every webhook visible.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/deliveries"
	"github.com/sentry-white/sentry-white/internal/dispatch"
	"github.com/sentry-white/sentry-white/internal/docstore"
	"github.com/sentry-white/sentry-white/internal/relay"
	"github.com/sentry-white/sentry-white/internal/robottest"
	"github.com/sentry-white/sentry-white/internal/store"
)

// writeFile writes a file for an upload and returns its path.
func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// uploadDoc picks d, as a file, on the import page: the page checks it
// and lists what importing it would change.
func (tb *tab) uploadDoc(d *config.Document) {
	tb.t.Helper()
	b, err := config.Marshal(d)
	if err != nil {
		tb.t.Fatal(err)
	}
	tb.do(chromedp.SetUploadFiles(chromedp.ID("import-file"), []string{writeFile(tb.t, "config.json", b)}))
}

// seed fills the configuration through the API: two owners, a robot, a
// project.
func seed(t *testing.T, in *instance) {
	t.Helper()
	in.api(t, "POST", "/api/v1/owners", map[string]any{"name": "张三", "mobile": ownerMobile})
	in.api(t, "POST", "/api/v1/owners", map[string]any{"name": "李四", "mobile": "13900139000"})
	in.api(t, "POST", "/api/v1/robots", map[string]any{"name": "研发告警群", "access_token": robotToken, "secret": robotSecret, "keyword": "详情"})
	in.api(t, "POST", "/api/v1/projects", map[string]any{"name": "商城后台", "slug": "mall-api", "owner_ids": []int{1, 2}, "robot_ids": []int{1}})
}

// TestBrowserImportRefusesNonDocument (#16.1): a Sentry payload picked on
// 导入 / 导出 is refused and changes nothing; an upload that changes the
// webhook token or removes most entities is shown in red and needs the
// box ticked and a second confirmation; an upload without a token keeps
// the token Sentry has.
func TestBrowserImportRefusesNonDocument(t *testing.T) {
	in := start(t, nil, nil)
	seed(t, in)
	before := in.stored(t)
	tb := newTab(t, in)
	tb.open()
	tb.page("import")

	payload := writeFile(t, "sentry-event.json", []byte(`{"id":"4242","project":"mall-api","level":"error","culprit":"app","url":"https://sentry.io/organizations/acme/issues/4242/","event":{"title":"TypeError"}}`))
	tb.do(chromedp.SetUploadFiles(chromedp.ID("import-file"), []string{payload}))
	tb.waitFor(`document.querySelector("#import-result .msg.fail") !== null`)
	if r := tb.text("import-result"); !strings.Contains(r, "不是哨兵小白的配置文件") || !strings.Contains(r, "organizations") {
		t.Errorf("a Sentry payload reads %q", r)
	}
	if !eval[bool](tb, `document.getElementById("import-actions").hidden`) {
		t.Error("a Sentry payload can be imported")
	}
	if d := in.stored(t); d.WebhookToken != before.WebhookToken || len(d.Owners) != 2 || len(d.Projects) != 1 {
		t.Errorf("the refused file changed the configuration: %+v", d)
	}

	// Removing 3 of 4 entries, with another token: red, and two
	// confirmations.
	doc := *before
	doc.Owners = doc.Owners[:1]
	doc.Robots, doc.Projects = []config.Robot{}, []config.Project{}
	doc.WebhookToken = "another-token-0123456789"
	tb.uploadDoc(&doc)
	tb.waitFor(`!document.getElementById("import-danger").hidden`)
	if d := tb.text("import-danger-list"); !strings.Contains(d, "Webhook 令牌会改变") || !strings.Contains(d, "会删除当前 4 项中的 3 项") {
		t.Errorf("the dangers read %q", d)
	}
	if !eval[bool](tb, `document.getElementById("import-confirm").disabled && document.getElementById("import-confirm").classList.contains("btn-danger")`) {
		t.Error("a risky import can be confirmed without ticking the box, or is not shown in red")
	}
	if c := eval[string](tb, `getComputedStyle(document.getElementById("import-danger")).backgroundColor`); c != "rgb(253, 236, 234)" {
		t.Errorf("the dangers are not on red: %s", c)
	}
	tb.do(chromedp.Click(chromedp.ID("import-danger-ack")), chromedp.Click(chromedp.ID("import-confirm")))
	tb.waitFor(`document.getElementById("confirm-dialog").open`)
	if q := tb.text("confirm-text"); !strings.Contains(q, "再确认一次") {
		t.Errorf("the second confirmation reads %q", q)
	}
	tb.do(chromedp.Click(chromedp.ID("confirm-cancel")))
	tb.waitFor(`!document.getElementById("confirm-dialog").open`)
	if d := in.stored(t); len(d.Owners) != 2 || d.WebhookToken != before.WebhookToken {
		t.Fatal("cancelling the second confirmation imported")
	}
	tb.do(chromedp.Click(chromedp.ID("import-confirm")))
	tb.waitFor(`document.getElementById("confirm-dialog").open`)
	tb.do(chromedp.Click(chromedp.ID("confirm-ok")))
	tb.waitFor(`document.querySelector("#import-result .msg.ok") !== null`)
	if d := in.stored(t); len(d.Owners) != 1 || d.WebhookToken != "another-token-0123456789" {
		t.Errorf("after confirming twice: %d owners, token %q", len(d.Owners), d.WebhookToken)
	}

	// A file without a token keeps the one Sentry has.
	doc.WebhookToken = ""
	doc.Owners[0].Name = "张三丰"
	tb.uploadDoc(&doc)
	tb.waitFor(`document.getElementById("import-diff-title") !== null`)
	if r := tb.text("import-result"); !strings.Contains(r, "保留当前的令牌") {
		t.Errorf("an upload without a token reads %q", r)
	}
	if !eval[bool](tb, `document.getElementById("import-danger").hidden && !document.getElementById("import-confirm").disabled`) {
		t.Error("an upload that only renames an owner is shown as risky")
	}
	tb.do(chromedp.Click(chromedp.ID("import-confirm")))
	tb.waitFor(`document.querySelector("#import-result .msg.ok") !== null`)
	if d := in.stored(t); d.WebhookToken != "another-token-0123456789" || d.Owners[0].Name != "张三丰" {
		t.Errorf("after importing a file without a token: token %q, owner %q", d.WebhookToken, d.Owners[0].Name)
	}
}

// clear empties an input, as a person would (the page hears it).
func (tb *tab) clear(id string) {
	tb.t.Helper()
	eval[bool](tb, fmt.Sprintf(`(() => { const n = document.getElementById(%q); n.value = ""; n.dispatchEvent(new Event("input", { bubbles: true })); return true })()`, id))
}

// startRelay runs the relay on loopback over the configurator's folder
// store, with its delivery history there too; it reads the store on every
// request.
func startRelay(t *testing.T, dir string, env map[string]string) (*httptest.Server, *deliveries.Log) {
	t.Helper()
	b := store.NewFile(dir)
	hist := deliveries.New(b, store.DefaultPrefix, nil)
	h, err := relay.New(relay.Options{
		Kinds:    testKinds,
		Docs:     docstore.NewCache(b, store.ConfigKey(store.DefaultPrefix), -1, testKinds.Document()),
		Dispatch: dispatch.Options{Senders: testKinds.Senders(func(k string) string { return env[k] }, nil)},
		History:  hist,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		_ = h.Wait(context.Background())
	})
	return srv, hist
}

// postWebhook sends a Sentry webhook body to the relay.
func postWebhook(t *testing.T, url string, body []byte) int {
	t.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// sentryTestdata holds Sentry's webhook bodies (found before a test
// changes its folder).
var sentryTestdata, _ = filepath.Abs(filepath.Join("..", "..", "testdata", "sentry"))

// legacyBody is the legacy WebHooks plugin's body for project slug.
func legacyBody(t *testing.T, slug string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sentryTestdata, "legacy_saas.json"))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.ReplaceAll(b, []byte(`"mall-api"`), []byte(`"`+slug+`"`))
}

// TestBrowserRefusedWebhooks (#16.2): webhooks the relay refuses (an old
// token, a project that is not configured) appear on 投递记录 with what
// Sentry sent and the fix; an unknown slug has a one-click "add this
// project" that opens the project form filled in.
func TestBrowserRefusedWebhooks(t *testing.T) {
	// The default store in an empty folder, as in the other screenshots.
	t.Chdir(t.TempDir())
	in := start(t, []string{"-no-browser", "-addr", "127.0.0.1:0"}, nil)
	in.dir = store.DefaultDir
	in.api(t, "POST", "/api/v1/organizations", map[string]any{"name": "公司主账号", "sentry_url": "https://sentry.io", "slug": "acme"})
	seed(t, in)
	tok := in.stored(t).WebhookToken.Reveal()
	srv, hist := startRelay(t, in.dir, nil)
	if code := postWebhook(t, srv.URL+"/?token=an-old-token-0123", legacyBody(t, "mall-api")); code != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d", code)
	}
	if code := postWebhook(t, srv.URL+"/?token="+tok, legacyBody(t, "pay-service")); code != http.StatusNotFound {
		t.Fatalf("unknown project: %d", code)
	}
	if err := hist.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}

	tb := newTab(t, in)
	tb.open()
	tb.page("deliveries")
	tb.waitFor(`document.querySelectorAll("#deliveries-rows tr.refused").length === 2`)
	rows := tb.text("deliveries-rows")
	for _, want := range []string{"已拒绝", "Webhook 地址里的令牌不对", "没有配置这个项目（pay-service）", "HTTP 401", "HTTP 404",
		"组织 acme", "来自 acme.sentry.io", "类型 legacy", "从“Webhook 接入”页重新复制", "添加一个使用这个 Sentry slug 的项目"} {
		if !strings.Contains(rows, want) {
			t.Errorf("the refused rows lack %q: %s", want, rows)
		}
	}
	if strings.Contains(rows, "an-old-token-0123") || strings.Contains(rows, tok) {
		t.Error("a refused row shows a token")
	}
	// (#30.8) Whoever sent a refused webhook chose its link: it is shown
	// as text, never as a link to open.
	if n := eval[int](tb, `document.querySelectorAll("#deliveries-rows tr.refused a").length`); n != 0 {
		t.Errorf("refused rows hold %d links; a stranger's link must be text", n)
	}
	if !strings.Contains(rows, "acme.sentry.io/issues/") {
		t.Errorf("the refused rows do not show the link sent as text: %s", rows)
	}
	tb.screenshot(shotsDir(t), "deliveries-refused", "zh", 1280)
	tb.do(chromedp.Click(chromedp.ID("lang-toggle")))
	tb.waitFor(`document.getElementById("deliveries-rows").textContent.includes("The token in the webhook URL is wrong")`)
	tb.screenshot(shotsDir(t), "deliveries-refused", "en", 1280)
	tb.do(chromedp.Click(chromedp.ID("lang-toggle")))
	tb.waitFor(`document.getElementById("deliveries-rows").textContent.includes("Webhook 地址里的令牌不对")`)
	// The filter shows refusals alone.
	tb.choose("deliveries-filter-result", "refused")
	// (The unfiltered rows were two refusals too: wait for the filtered
	// answer, or the click below hits a row it is replacing.)
	tb.waitFor(`document.getElementById("deliveries-rows").dataset.query === "result=refused"`)
	tb.waitFor(`document.querySelectorAll("#deliveries-rows tr").length === 2`)

	// Add the unknown project in one click.
	id := eval[string](tb, `document.querySelector("[id^=delivery-add-]").id`)
	if n := eval[int](tb, `document.querySelectorAll("[id^=delivery-add-]").length`); n != 1 {
		t.Errorf("%d add buttons, want one (for the unknown slug only)", n)
	}
	tb.do(chromedp.Click(chromedp.ID(id)))
	tb.waitFor(`document.getElementById("project-dialog").open`)
	if slug := eval[string](tb, `document.getElementById("project-slug").value`); slug != "pay-service" {
		t.Errorf("the project form has slug %q", slug)
	}
	if org := eval[string](tb, `document.getElementById("project-organization_id").value`); org != "1" {
		t.Errorf("the project form has organization %q, want the one with slug acme", org)
	}
	tb.fill("project-name", "支付服务")
	if !eval[bool](tb, `document.getElementById("project-robot-1").checked`) {
		tb.do(chromedp.Click(chromedp.ID("project-robot-1")))
	}
	tb.do(chromedp.Click(chromedp.ID("project-owner-1")))
	tb.save("project")
	if d := in.stored(t); len(d.Projects) != 2 || d.Projects[1].Slug != "pay-service" || d.Projects[1].OrganizationID != 1 {
		t.Errorf("after adding: %+v", d.Projects)
	}
	// The refusal stays in the history, without the button.
	tb.page("deliveries")
	tb.waitFor(`document.querySelectorAll("#deliveries-rows tr.refused").length === 2 && document.querySelector("[id^=delivery-add-]") === null`)
}

// TestBrowserWebhookPageAndRelayCheck (#16.3): the token and the path show
// before any relay URL is set; a loopback relay URL is accepted with a
// warning that Sentry cannot reach it; 检测中继 says the relay is deployed,
// which version it serves and whether it is the one just saved.
func TestBrowserWebhookPageAndRelayCheck(t *testing.T) {
	t.Chdir(t.TempDir())
	in := start(t, []string{"-no-browser", "-addr", "127.0.0.1:0"}, nil)
	in.dir = store.DefaultDir
	seed(t, in)
	tok := in.stored(t).WebhookToken.Reveal()
	tb := newTab(t, in)
	tb.open()
	tb.page("webhook")
	tb.waitFor(`document.getElementById("webhook-token").value !== ""`)
	if v := eval[string](tb, `document.getElementById("webhook-token").value`); v != tok {
		t.Errorf("the token field reads %q, want %q", v, tok)
	}
	if v := eval[string](tb, `document.getElementById("webhook-path").value`); v != "/?token="+tok {
		t.Errorf("the path reads %q", v)
	}
	if n := tb.text("webhook-notes"); !strings.Contains(n, "还没有中继地址") {
		t.Errorf("without a relay URL the notes read %q", n)
	}

	srv, _ := startRelay(t, in.dir, nil)
	tb.fill("webhook-relay_url", srv.URL)
	tb.do(chromedp.Click(chromedp.ID("webhook-relay-save")))
	tb.waitFor(`document.getElementById("webhook-url").value.startsWith("http://127.0.0.1:")`)
	if u := eval[string](tb, `document.getElementById("webhook-url").value`); u != srv.URL+"/?token="+tok {
		t.Errorf("the webhook URL reads %q", u)
	}
	if n := tb.text("webhook-notes"); !strings.Contains(n, "Sentry 访问不到它") {
		t.Errorf("a loopback relay URL is not warned about: %q", n)
	}

	tb.do(chromedp.Click(chromedp.ID("webhook-check")))
	tb.waitFor(`document.querySelector("#webhook-check-result .msg.ok, #webhook-check-result .msg.warn, #webhook-check-result .msg.fail") !== null`)
	r := tb.text("webhook-check-result")
	etag, _ := in.api(t, "GET", "/api/v1/snapshot", nil)["etag"].(string)
	if !strings.Contains(r, "中继已部署") || !strings.Contains(r, "一致") || !strings.Contains(r, strings.Trim(etag, `"`)) {
		t.Errorf("the relay check reads %q (version %s)", r, etag)
	}
	eval[bool](tb, `(() => {
		const toast = document.getElementById("toast");
		toast.style.transition = "none";
		toast.classList.remove("show");
		document.getElementById("webhook-check-result").scrollIntoView({ block: "center" });
		return true;
	})()`)
	tb.screenshot(shotsDir(t), "relay-check", "zh", 1280)
	eval[bool](tb, `window.scrollTo(0, 0), true`)

	// A relay that serves another store does not know this token.
	other := t.TempDir()
	d := in.stored(t)
	d.WebhookToken = "someone-elses-token-0123"
	if _, err := docstore.NewDocs(store.NewFile(other), store.DefaultPrefix, testKinds.Document()).Save(context.Background(), d, ""); err != nil {
		t.Fatal(err)
	}
	srv2, _ := startRelay(t, other, nil)
	tb.fill("webhook-relay_url", srv2.URL)
	tb.do(chromedp.Click(chromedp.ID("webhook-relay-save")))
	tb.waitFor(fmt.Sprintf(`document.getElementById("webhook-url").value.startsWith(%q)`, srv2.URL))
	tb.do(chromedp.Click(chromedp.ID("webhook-check")))
	tb.waitFor(`document.getElementById("webhook-check-result").textContent.includes("不认识这里的 Webhook 令牌")`)

	// No relay at all.
	srv2.Close()
	tb.do(chromedp.Click(chromedp.ID("webhook-check")))
	tb.waitFor(`document.getElementById("webhook-check-result").textContent.includes("连不上中继")`)
	if r := tb.text("webhook-check-result"); strings.Contains(r, tok) {
		t.Error("the relay check shows the token")
	}
}

// TestBrowserSignedRobotWithoutSecret (#16.4): a robot whose vendor signs
// (加签) but whose secret was cleared here is refused for the signing
// time; the page says it needs its SEC… secret, worded from the server's
// code, in either language.
func TestBrowserSignedRobotWithoutSecret(t *testing.T) {
	ding := robottest.NewDingTalk(robottest.DingTalkRobot{Token: robotToken, Secret: robotSecret, Keywords: []string{"详情"}})
	t.Cleanup(ding.Close)
	in := start(t, nil, map[string]string{"SENTRY_WHITE_DINGTALK_API": ding.URL()})
	in.api(t, "POST", "/api/v1/robots", map[string]any{"name": "研发告警群", "access_token": robotToken, "keyword": "详情"})
	tb := newTab(t, in)
	tb.open()
	tb.page("robots")
	tb.do(chromedp.Click(chromedp.ID("robot-test-1")))
	tb.waitFor(`document.querySelector("#robot-status-1 .msg.fail") !== null`)
	r := tb.text("robot-status-1")
	if !strings.Contains(r, "开启了加签") || !strings.Contains(r, "SEC 开头的密钥") || strings.Contains(r, "时钟") {
		t.Errorf("a signed robot without its secret reads %q", r)
	}
	tb.do(chromedp.Click(chromedp.ID("lang-toggle")))
	tb.waitFor(`document.getElementById("robot-status-1").textContent.includes("What to do")`)
	if r := tb.text("robot-status-1"); !strings.Contains(r, "needs its SEC… secret") || strings.Contains(r, "clock") || strings.Contains(r, "开启了加签") {
		t.Errorf("in English it reads %q", r)
	}
	if n := len(ding.Messages()); n != 0 {
		t.Errorf("the stand-in accepted %d unsigned messages", n)
	}
}

// TestBrowserWordsFromCodes (#16.5): the server's answers are worded from
// their codes in the page's language, and a language switch words again
// what is already on the page: field errors, test alert results, the
// history; English counts take plurals.
func TestBrowserWordsFromCodes(t *testing.T) {
	ding := robottest.NewDingTalk(robottest.DingTalkRobot{Token: robotToken, Keywords: []string{"紧急"}})
	t.Cleanup(ding.Close)
	in := start(t, nil, map[string]string{"SENTRY_WHITE_DINGTALK_API": ding.URL()})
	in.api(t, "POST", "/api/v1/owners", map[string]any{"name": "张三", "mobile": ownerMobile})
	in.api(t, "POST", "/api/v1/robots", map[string]any{"name": "研发告警群", "access_token": robotToken, "keyword": "详情"})
	in.api(t, "POST", "/api/v1/projects", map[string]any{"name": "商城后台", "slug": "mall-api", "owner_ids": []int{1}, "robot_ids": []int{1}})
	tb := newTab(t, in)
	tb.open()
	if eval[bool](tb, `"I18N_MESSAGES" in window`) {
		t.Error("the page still carries patterns translating the server's English")
	}

	// A test alert refused for the keyword.
	tb.do(chromedp.Click(chromedp.ID("project-test-1")))
	tb.waitFor(`document.querySelector("#project-status-1 .msg.fail") !== null`)
	if r := tb.text("project-status-1"); !strings.Contains(r, "关键词必须出现在每条消息里") || strings.Contains(r, "keyword must appear") {
		t.Errorf("the refusal reads %q", r)
	}
	// Settings errors, next to their fields.
	tb.page("settings")
	tb.waitFor(`document.getElementById("settings-active").textContent !== ""`)
	tb.do(chromedp.Click(chromedp.ID("settings-store_kind-oss")), chromedp.Click(chromedp.ID("settings-save")))
	tb.waitFor(`document.getElementById("settings-oss_bucket-error").textContent !== ""`)
	if e := tb.text("settings-oss_bucket-error"); e != "必填" {
		t.Errorf("the bucket error reads %q", e)
	}
	if e := tb.text("settings-oss_endpoint-error"); !strings.Contains(e, "必填：绑定到 Bucket 的自定义域名") {
		t.Errorf("the endpoint error reads %q", e)
	}

	// Switch: everything on the page is worded again.
	tb.do(chromedp.Click(chromedp.ID("lang-toggle")))
	tb.waitFor(`document.getElementById("settings-oss_bucket-error").textContent === "is required"`)
	if e := tb.text("settings-oss_endpoint-error"); !strings.Contains(e, "is required: a custom domain bound to the bucket") {
		t.Errorf("after the switch the endpoint error reads %q", e)
	}
	tb.do(chromedp.Click(chromedp.ID("settings-store_kind-folder")))
	tb.page("projects")
	// (The robot's own answer, which may be Chinese, is shown as it is.)
	if r := tb.text("project-status-1"); !strings.Contains(r, "keyword must appear in every message") || strings.Contains(r, "关键词必须") || strings.Contains(r, "怎么办") {
		t.Errorf("after the switch the refusal reads %q", r)
	}

	// Plurals: one owner, one robot, one project.
	in.api(t, "PATCH", "/api/v1/owners/1", map[string]any{"name": "张三丰"})
	tb.page("history")
	tb.waitFor(`document.getElementById("history-row-0") !== null`)
	if r := tb.text("history-row-0"); !strings.Contains(r, "0 organizations · 1 owner · 1 robot · 1 project") {
		t.Errorf("the history row reads %q", r)
	}
	tb.do(chromedp.Click(chromedp.ID("lang-toggle")))
	tb.waitFor(`document.getElementById("history-row-0").textContent.includes("1 个负责人")`)
}

// TestBrowserFirstRunFollowingThePage (#16.6 and "done when"): from an
// empty store to a delivered test alert and a copied webhook URL, using
// only what the page offers: the guide's buttons, each of which works; the
// guide stays until the test alert arrived and the URL was copied; saving
// a project without owners warns first.
func TestBrowserFirstRunFollowingThePage(t *testing.T) {
	ding := robottest.NewDingTalk(robottest.DingTalkRobot{Token: robotToken, Secret: robotSecret, Keywords: []string{"详情"}})
	t.Cleanup(ding.Close)
	in := start(t, nil, map[string]string{"SENTRY_WHITE_DINGTALK_API": ding.URL()})
	tb := newTab(t, in)
	tb.open()
	tb.waitFor(`!document.getElementById("guide").hidden`)
	if eval[bool](tb, `document.getElementById("guide-go-test").disabled !== true`) {
		t.Error("the test step can be pressed before there is a project")
	}

	// 1. Owner, from the guide.
	tb.do(chromedp.Click(chromedp.ID("guide-go-owner")))
	tb.waitFor(`document.getElementById("owner-dialog").open && !document.getElementById("page-owners").hidden`)
	tb.fill("owner-name", "张三")
	tb.do(chromedp.SendKeys(chromedp.ID("owner-mobile"), "138 0013 8000"))
	tb.save("owner")
	tb.waitFor(`document.getElementById("owner-row-1") !== null && document.querySelector("#page-owners #guide") !== null`)
	if !eval[bool](tb, `document.getElementById("guide-step-owner").classList.contains("done")`) {
		t.Error("the owner step is not done")
	}

	// 2. Robot: paste the webhook URL; the kind follows it.
	tb.do(chromedp.Click(chromedp.ID("guide-go-robot")))
	tb.waitFor(`document.getElementById("robot-dialog").open && !document.getElementById("page-robots").hidden`)
	tb.fill("robot-name", "研发告警群")
	tb.do(chromedp.SendKeys(chromedp.ID("robot-access_token"), "https://oapi.dingtalk.com/robot/send?access_token="+robotToken),
		chromedp.SendKeys(chromedp.ID("robot-secret"), robotSecret))
	tb.save("robot")
	tb.waitFor(`document.getElementById("robot-row-1") !== null`)

	// 3. Project: without an owner it asks first.
	tb.do(chromedp.Click(chromedp.ID("guide-go-project")))
	tb.waitFor(`document.getElementById("project-dialog").open && !document.getElementById("page-projects").hidden`)
	tb.fill("project-name", "商城后台")
	tb.do(chromedp.SendKeys(chromedp.ID("project-slug"), "mall-api"), chromedp.Click(chromedp.ID("project-save")))
	tb.waitFor(`document.getElementById("confirm-dialog").open`)
	if q := tb.text("confirm-text"); !strings.Contains(q, "没有负责人") {
		t.Errorf("saving without owners asks %q", q)
	}
	tb.do(chromedp.Click(chromedp.ID("confirm-cancel")))
	tb.waitFor(`!document.getElementById("confirm-dialog").open && document.getElementById("project-dialog").open`)
	if n := len(in.stored(t).Projects); n != 0 {
		t.Fatal("cancelling the warning saved the project")
	}
	tb.do(chromedp.Click(chromedp.ID("project-owner-1")))
	tb.save("project")
	tb.waitFor(`document.getElementById("project-row-1") !== null`)
	if eval[bool](tb, `document.getElementById("guide").hidden`) {
		t.Fatal("the guide went away before the test alert")
	}

	// 4. The test alert, from the guide.
	tb.do(chromedp.Click(chromedp.ID("guide-go-test")))
	tb.waitFor(`document.querySelector("#project-status-1 .msg.ok, #project-status-1 .msg.fail") !== null`)
	if r := tb.text("project-status-1"); !strings.Contains(r, "已发送到") {
		t.Fatalf("the test alert reads %q", r)
	}
	if msgs := ding.Messages(); len(msgs) != 1 || !msgs[0].Mentioned {
		t.Fatalf("the robot got %+v", msgs)
	}
	tb.waitFor(`document.getElementById("guide-step-test").classList.contains("done")`)
	if eval[bool](tb, `document.getElementById("guide").hidden`) {
		t.Fatal("the guide went away before the webhook URL was copied")
	}

	// 5. The webhook URL, from the guide.
	tb.do(chromedp.Click(chromedp.ID("guide-go-webhook")))
	tb.waitFor(`!document.getElementById("page-webhook").hidden && document.getElementById("webhook-token").value !== ""`)
	tb.fill("webhook-relay_url", "https://sentry-white-relay.cn-hangzhou.fcapp.run")
	tb.do(chromedp.Click(chromedp.ID("webhook-relay-save")))
	tb.waitFor(`!document.getElementById("webhook-copy").disabled`)
	tb.do(chromedp.Click(chromedp.ID("webhook-copy")))
	tb.waitFor(`document.getElementById("guide").hidden`)
	if s := tb.text("webhook-status"); s != "已复制" {
		t.Errorf("after copying the status reads %q", s)
	}
	d := in.stored(t)
	if len(d.Owners) != 1 || d.Owners[0].Mobile != ownerMobile || len(d.Robots) != 1 || d.Robots[0].Secret.Reveal() != robotSecret || len(d.Projects) != 1 {
		t.Errorf("the configuration after the first run: %+v", d)
	}
	// It stays done.
	tb.do(chromedp.Navigate(in.base+"/"), chromedp.WaitVisible(chromedp.ID("projects-title")))
	tb.waitFor(`document.getElementById("project-row-1") !== null`)
	if !eval[bool](tb, `document.getElementById("guide").hidden`) {
		t.Error("after a reload the guide is back")
	}
}

// TestBrowserResendAlreadyDelivered (#16.7): 重新发送 on a failure that a
// re-send already delivered asks first (another send @-mentions everyone
// again); cancelling sends nothing.
func TestBrowserResendAlreadyDelivered(t *testing.T) {
	ding := robottest.NewDingTalk(robottest.DingTalkRobot{Token: robotToken, Secret: robotSecret, Keywords: []string{"详情"}})
	t.Cleanup(ding.Close)
	in := start(t, nil, map[string]string{"SENTRY_WHITE_DINGTALK_API": ding.URL()})
	seed(t, in)
	now := time.Now().Truncate(time.Second)
	const link = "https://sentry.io/organizations/acme/issues/4242/"
	h := in.history()
	h.Add(deliveries.Record{ID: "d-fail", Time: now.Add(-time.Hour), Project: "mall-api", ProjectName: "商城后台", RobotID: 1, Robot: "研发告警群",
		Kind: "dingtalk", Result: deliveries.Failed, Code: 310000, Error: `robot "研发告警群" answered errcode 310000: keywords not in content`,
		Attempts: 1, Title: "TypeError", Link: link, Level: "error", Message: alertMessage("TypeError", link, "商城后台", "mall-api")})
	h.Add(deliveries.Record{ID: "d-re", Time: now.Add(-30 * time.Minute), Project: "mall-api", ProjectName: "商城后台", RobotID: 1, Robot: "研发告警群",
		Kind: "dingtalk", Result: deliveries.Delivered, Attempts: 1, Title: "TypeError", Link: link, Level: "error", ResendOf: "d-fail"})
	if err := h.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	tb := newTab(t, in)
	tb.open()
	tb.page("deliveries")
	tb.waitFor(`document.getElementById("delivery-resend-d-fail") !== null`)
	if b := tb.text("delivery-resend-d-fail"); b != "再次发送…" {
		t.Errorf("the button on a failure already re-sent reads %q", b)
	}
	tb.do(chromedp.Click(chromedp.ID("delivery-resend-d-fail")))
	tb.waitFor(`document.getElementById("confirm-dialog").open`)
	if q := tb.text("confirm-text"); !strings.Contains(q, "已经重新发送成功") || !strings.Contains(q, "@") {
		t.Errorf("the question reads %q", q)
	}
	tb.do(chromedp.Click(chromedp.ID("confirm-cancel")))
	tb.waitFor(`!document.getElementById("confirm-dialog").open`)
	if n := len(ding.Messages()); n != 0 {
		t.Fatalf("cancelling sent %d messages", n)
	}
	tb.do(chromedp.Click(chromedp.ID("delivery-resend-d-fail")))
	tb.waitFor(`document.getElementById("confirm-dialog").open`)
	tb.do(chromedp.Click(chromedp.ID("confirm-ok")))
	tb.waitFor(`document.querySelector("#deliveries-result .msg.ok") !== null`)
	if n := len(ding.Messages()); n != 1 {
		t.Errorf("sending again delivered %d messages, want 1", n)
	}
}

// TestBrowserStaleReloadKeepsInput (#16.8): when a save is refused because
// someone else changed the configuration, reloading from the open dialog
// keeps it open with the user's changes and takes the other changes; the
// next save keeps both.
func TestBrowserStaleReloadKeepsInput(t *testing.T) {
	in := start(t, nil, nil)
	seed(t, in)
	tb := newTab(t, in)
	tb.open()
	tb.do(chromedp.Click(chromedp.ID("project-edit-1")), chromedp.WaitVisible(chromedp.ID("project-name")))
	// Someone else adds an environment filter and removes an owner.
	in.api(t, "PATCH", "/api/v1/projects/1", map[string]any{"environments": []string{"production"}, "owner_ids": []int{1}})
	tb.fill("project-name", "商城后台（我改的）")
	tb.do(chromedp.Click(chromedp.ID("project-save")))
	tb.waitFor(`document.getElementById("project-reload") !== null`)
	if !eval[bool](tb, `document.getElementById("project-dialog").open`) {
		t.Fatal("the refused save closed the dialog")
	}
	tb.do(chromedp.Click(chromedp.ID("project-reload")))
	tb.waitFor(`document.getElementById("project-form-error").textContent.includes("已载入最新的配置")`)
	if !eval[bool](tb, `document.getElementById("project-dialog").open`) {
		t.Fatal("the reload closed the dialog")
	}
	if v := eval[string](tb, `document.getElementById("project-name").value`); v != "商城后台（我改的）" {
		t.Errorf("the reload lost the typed name: %q", v)
	}
	if v := eval[string](tb, `document.getElementById("project-environments").value`); v != "production" {
		t.Errorf("the reload did not take the other change: environments %q", v)
	}
	if eval[bool](tb, `document.getElementById("project-owner-2").checked`) {
		t.Error("the reload kept an owner someone else removed")
	}
	tb.save("project")
	p := in.stored(t).Projects[0]
	if p.Name != "商城后台（我改的）" || len(p.Environments) != 1 || len(p.OwnerIDs) != 1 {
		t.Errorf("after saving: %+v", p)
	}
	if !eval[bool](tb, `document.getElementById("banner").hidden`) {
		t.Error("the stale banner stays after the reload")
	}
}

// clippedActions lists what does not fit on the page shown: tables wider
// than their frame, action buttons outside it, a page wider than the
// window.
const clippedActions = `(() => {
	const bad = [];
	document.querySelectorAll(".page:not([hidden]) .table-wrap").forEach((w) => {
		if (w.offsetParent === null) return;
		if (w.scrollWidth > w.clientWidth + 1) bad.push("table " + w.querySelector("table").id + " " + w.scrollWidth + ">" + w.clientWidth);
		const wr = w.getBoundingClientRect();
		w.querySelectorAll("td.actions button").forEach((b) => {
			if (!b.getClientRects().length) return; // in a closed menu
			const r = b.getBoundingClientRect();
			if (r.right > wr.right + 1 || r.left < wr.left - 1 || r.right > window.innerWidth) bad.push(b.id);
		});
	});
	if (document.documentElement.scrollWidth > window.innerWidth) bad.push("page " + document.documentElement.scrollWidth + ">" + window.innerWidth);
	return bad.join(" ");
})()`

// TestBrowserLongNamesFit1024 (#16.9): names as long as allowed never push
// the actions off the tables, at 1024 px, in either language; inputs stop
// at the allowed length and count; the owner and robot pickers are
// searchable.
func TestBrowserLongNamesFit1024(t *testing.T) {
	in := start(t, nil, nil)
	long := func(c string, n int) string { return strings.Repeat(c, n) }
	in.api(t, "POST", "/api/v1/organizations", map[string]any{"name": long("组", config.MaxOrganizationName), "sentry_url": "https://sentry.example.com/" + long("p", 150),
		"slug": long("o", 100), "account": long("a", 150) + "@example.com", "password": "pw", "client_secret": long("c", 64)})
	in.api(t, "POST", "/api/v1/owners", map[string]any{"name": long("Owner", config.MaxOwnerName/5), "mobile": ownerMobile})
	in.api(t, "POST", "/api/v1/owners", map[string]any{"name": "李四", "mobile": "13900139000", "dingtalk_user_id": long("u", 128)})
	in.api(t, "POST", "/api/v1/robots", map[string]any{"name": long("R", config.MaxRobotName), "access_token": robotToken, "secret": robotSecret, "keyword": long("关", config.MaxKeyword)})
	in.api(t, "POST", "/api/v1/robots", map[string]any{"name": "运维群", "access_token": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7b2c-4e1d-9f3a-5c8e2d7b1a4f"})
	in.api(t, "POST", "/api/v1/projects", map[string]any{"name": long("P", config.MaxProjectName), "slug": long("s", 100), "organization_id": 1,
		"owner_ids": []int{1, 2}, "robot_ids": []int{1, 2}, "environments": []string{long("e", 64)}, "min_level": "warning", "mention_level": "fatal",
		"follow_ups": false, "repeat_window_seconds": 3600})
	tb := newTab(t, in)
	tb.do(chromedp.EmulateViewport(1024, 768))
	tb.open()
	for _, lang := range []string{"zh", "en"} {
		for _, p := range []string{"projects", "owners", "robots", "organizations"} {
			tb.page(p)
			tb.waitFor(fmt.Sprintf(`document.querySelector("#%s-rows tr") !== null`, p))
			if bad := eval[string](tb, clippedActions); bad != "" {
				t.Errorf("%s, %s at 1024 px: %s", lang, p, bad)
			}
		}
		if lang == "zh" {
			tb.do(chromedp.Click(chromedp.ID("lang-toggle")))
		}
	}

	// Inputs stop at the allowed length and count.
	tb.page("projects")
	tb.do(chromedp.Click(chromedp.ID("projects-new")), chromedp.WaitVisible(chromedp.ID("project-name")))
	if m := eval[string](tb, `document.getElementById("project-name").getAttribute("maxlength")`); m != "100" {
		t.Errorf("the project name's maxlength is %q", m)
	}
	tb.do(chromedp.SendKeys(chromedp.ID("project-name"), long("x", 120)))
	if v := eval[string](tb, `document.getElementById("project-name").value`); len(v) != 100 {
		t.Errorf("the project name took %d characters", len(v))
	}
	if c := tb.text("project-name-counter"); c != "100/100" {
		t.Errorf("the counter reads %q", c)
	}
	for _, id := range []string{"project-slug", "owner-name", "robot-name", "robot-keyword", "organization-name"} {
		if !eval[bool](tb, fmt.Sprintf(`document.getElementById(%q).hasAttribute("maxlength") && document.getElementById(%q) !== null`, id, id+"-counter")) {
			t.Errorf("%s has no maxlength or no counter", id)
		}
	}
	// The pickers are searchable.
	tb.do(chromedp.SendKeys(chromedp.ID("project-owners-search"), "李"))
	if v := eval[string](tb, `Array.from(document.querySelectorAll("#project-owners label")).filter((l) => !l.hidden).map((l) => l.textContent).join("|")`); !strings.HasPrefix(v, "李四") || strings.Contains(v, "|") {
		t.Errorf("searching the owners for 李 shows %q", v)
	}
	tb.do(chromedp.SendKeys(chromedp.ID("project-robots-search"), "运维"))
	if n := eval[int](tb, `Array.from(document.querySelectorAll("#project-robots label")).filter((l) => !l.hidden).length`); n != 1 {
		t.Errorf("searching the robots shows %d", n)
	}
	tb.do(chromedp.Click(chromedp.ID("project-cancel")))
}

// TestMakeRunPassesStoreOnlyWhenSet (#16.10): make run lets the store
// chosen on the settings page win unless STORE is given.
func TestMakeRunPassesStoreOnlyWhenSet(t *testing.T) {
	mk, err := exec.LookPath("make")
	if err != nil {
		t.Skip("make is not installed")
	}
	dry := func(args ...string) string {
		cmd := exec.Command(mk, append([]string{"-n", "-s", "run"}, args...)...)
		cmd.Dir = filepath.Join("..", "..")
		cmd.Env = append(os.Environ(), "STORE=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("make -n run: %v\n%s", err, out)
		}
		return string(out)
	}
	if out := dry(); !strings.Contains(out, "./cmd/sentry-white") || strings.Contains(out, "-store") {
		t.Errorf("make run passes a store of its own:\n%s", out)
	}
	if out := dry("STORE=file:./elsewhere"); !strings.Contains(out, "-store file:./elsewhere") {
		t.Errorf("make run STORE=… does not pass it:\n%s", out)
	}
	// (#28.8) Flags of the program's own.
	if out := dry("ARGS=-no-browser -addr 127.0.0.1:7799"); !strings.Contains(out, "./cmd/sentry-white -no-browser -addr 127.0.0.1:7799") {
		t.Errorf("make run ARGS=… does not pass them:\n%s", out)
	}
}

// TestBrowserStoreChoiceSurvivesRestart (#16.10): a folder chosen on 设置
// is the store after a restart, and the page says which source picked the
// store (the settings, or a -store flag that wins over them).
func TestBrowserStoreChoiceSurvivesRestart(t *testing.T) {
	t.Chdir(t.TempDir())
	cfg := filepath.Join(t.TempDir(), "cfg")
	env := map[string]string{"SENTRY_WHITE_CONFIG_DIR": cfg}
	plain := []string{"-no-browser", "-addr", "127.0.0.1:0"}
	chosen := t.TempDir()

	in := start(t, plain, env)
	tb := newTab(t, in)
	tb.do(chromedp.Navigate(in.base+"/?token="+in.token), chromedp.WaitVisible(chromedp.ID("projects-title")))
	tb.page("settings")
	tb.waitFor(`document.getElementById("settings-active").textContent.includes("默认文件夹")`)
	tb.do(chromedp.Click(chromedp.ID("settings-store_kind-folder")))
	tb.fill("settings-folder", chosen)
	tb.do(chromedp.Click(chromedp.ID("settings-save")))
	tb.waitFor(fmt.Sprintf(`document.getElementById("settings-active").textContent.includes(%q)`, chosen))
	if a := tb.text("settings-active"); !strings.Contains(a, "来自此页设置") {
		t.Errorf("after saving the active store reads %q", a)
	}
	in.api(t, "POST", "/api/v1/owners", map[string]any{"name": "张三", "mobile": ownerMobile})
	tb.do(chromedp.Navigate("about:blank"))
	in.stop()

	// Restart as make run now does: no -store.
	in2 := start(t, plain, env)
	tb2 := newTab(t, in2)
	tb2.do(chromedp.Navigate(in2.base+"/?token="+in2.token), chromedp.WaitVisible(chromedp.ID("projects-title")))
	tb2.page("settings")
	tb2.waitFor(fmt.Sprintf(`document.getElementById("settings-active").textContent.includes(%q)`, chosen))
	if a := tb2.text("settings-active"); !strings.Contains(a, "来自此页设置") {
		t.Errorf("after the restart the active store reads %q", a)
	}
	if !strings.Contains(in2.out.String(), "file:"+chosen+" (chosen on the settings page)") {
		t.Errorf("the start-up line does not name the chosen store:\n%s", in2.out)
	}
	tb2.page("owners")
	tb2.waitFor(`document.getElementById("owner-row-1") !== null`)
	tb2.do(chromedp.Navigate("about:blank"))
	in2.stop()

	// With -store the flag wins, and the page says so.
	flagged := t.TempDir()
	in3 := start(t, []string{"-no-browser", "-addr", "127.0.0.1:0", "-store", "file:" + flagged}, env)
	tb3 := newTab(t, in3)
	tb3.do(chromedp.Navigate(in3.base+"/?token="+in3.token), chromedp.WaitVisible(chromedp.ID("projects-title")))
	tb3.page("settings")
	tb3.waitFor(`document.getElementById("settings-override").textContent !== ""`)
	if a := tb3.text("settings-active"); !strings.Contains(a, "来自 -store 参数") || !strings.Contains(a, flagged) {
		t.Errorf("with -store the active store reads %q", a)
	}
	if o := tb3.text("settings-override"); !strings.Contains(o, "参数 -store") || !strings.Contains(o, "下次启动仍会编辑") {
		t.Errorf("the override note reads %q", o)
	}
}

// TestBrowserRobotAndOwnerInputs (#16.11): mobiles as people type them are
// stored as 11 digits; secrets are password inputs with show and hide; a
// pasted webhook URL switches the robot's kind at once; a secret without
// its kind's prefix and a URL no kind knows are said at once.
func TestBrowserRobotAndOwnerInputs(t *testing.T) {
	in := start(t, nil, nil)
	tb := newTab(t, in)
	tb.open()
	tb.page("owners")
	for i, typed := range []string{"+86 138 0013 8000", "１３９-００１３-９０００"} {
		tb.do(chromedp.Click(chromedp.ID("owners-new")), chromedp.WaitVisible(chromedp.ID("owner-name")))
		tb.fill("owner-name", fmt.Sprintf("负责人%d", i+1))
		tb.do(chromedp.SendKeys(chromedp.ID("owner-mobile"), typed))
		tb.save("owner")
	}
	if d := in.stored(t); len(d.Owners) != 2 || d.Owners[0].Mobile != "13800138000" || d.Owners[1].Mobile != "13900139000" {
		t.Errorf("stored mobiles: %+v", d.Owners)
	}

	tb.page("robots")
	tb.do(chromedp.Click(chromedp.ID("robots-new")), chromedp.WaitVisible(chromedp.ID("robot-name")))
	for _, id := range []string{"robot-access_token", "robot-secret"} {
		if ty := eval[string](tb, fmt.Sprintf(`document.getElementById(%q).type`, id)); ty != "password" {
			t.Errorf("%s is a %s input", id, ty)
		}
	}
	tb.do(chromedp.SendKeys(chromedp.ID("robot-secret"), "abc123"))
	tb.waitFor(`document.getElementById("robot-secret-error").textContent !== ""`)
	if e := tb.text("robot-secret-error"); !strings.Contains(e, "应以 SEC 开头") {
		t.Errorf("a secret without SEC reads %q", e)
	}
	tb.do(chromedp.Click(chromedp.ID("robot-secret-show")))
	if ty := eval[string](tb, `document.getElementById("robot-secret").type`); ty != "text" || tb.text("robot-secret-show") != "隐藏" {
		t.Errorf("after show the secret is a %s input", ty)
	}
	tb.do(chromedp.Click(chromedp.ID("robot-secret-show")))
	if ty := eval[string](tb, `document.getElementById("robot-secret").type`); ty != "password" {
		t.Errorf("after hide the secret is a %s input", ty)
	}
	// The server says it too, from its code.
	tb.fill("robot-name", "研发告警群", "robot-access_token", robotToken)
	tb.do(chromedp.Click(chromedp.ID("robot-save")))
	tb.waitFor(`document.getElementById("robot-secret-error").textContent.includes("钉钉的加签密钥以 SEC 开头")`)

	// A pasted WeCom URL switches the kind before anything is saved.
	tb.clear("robot-secret")
	tb.clear("robot-access_token")
	tb.do(chromedp.SendKeys(chromedp.ID("robot-access_token"), "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7b2c-4e1d-9f3a-5c8e2d7b1a4f"))
	tb.waitFor(`document.getElementById("robot-kind").value === "wecom"`)
	if !eval[bool](tb, `document.getElementById("robot-secret-field").hidden`) {
		t.Error("a WeCom robot shows a signing secret")
	}
	if n := tb.text("robot-access_token-note"); !strings.Contains(n, "企业微信") {
		t.Errorf("the recognition note reads %q", n)
	}
	tb.clear("robot-access_token")
	tb.do(chromedp.SendKeys(chromedp.ID("robot-access_token"), "https://open.feishu.cn/open-apis/bot/v2/hook/5b0a4d3c-1e2f-4a6b-8c9d-0e1f2a3b4c5d"))
	tb.waitFor(`document.getElementById("robot-kind").value === "feishu"`)
	tb.clear("robot-access_token")
	tb.do(chromedp.SendKeys(chromedp.ID("robot-access_token"), "https://example.com/hooks/abc"))
	tb.waitFor(`document.getElementById("robot-access_token-error").textContent.includes("不是已知机器人的 Webhook 地址")`)
	tb.clear("robot-access_token")
	// Typing waits until the page has taken the error back from the cleared
	// input: chromedp reads an input's attributes unlocked while it types
	// (a data race with the page removing aria-invalid).
	tb.waitFor(`!document.getElementById("robot-access_token").hasAttribute("aria-invalid")`)
	tb.do(chromedp.SendKeys(chromedp.ID("robot-access_token"), "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7b2c-4e1d-9f3a-5c8e2d7b1a4f"))
	tb.waitFor(`document.getElementById("robot-kind").value === "wecom" && document.getElementById("robot-access_token-error").textContent === ""`)
	tb.save("robot")
	if d := in.stored(t); len(d.Robots) != 1 || d.Robots[0].Kind != "wecom" || d.Robots[0].AccessToken.Reveal() != "693a91f6-7b2c-4e1d-9f3a-5c8e2d7b1a4f" {
		t.Errorf("stored robot: %+v", d.Robots)
	}
	// The organization's password and client secret hide too.
	tb.page("organizations")
	tb.do(chromedp.Click(chromedp.ID("organizations-new")), chromedp.WaitVisible(chromedp.ID("organization-name")))
	for _, id := range []string{"organization-password", "organization-client_secret"} {
		if ty := eval[string](tb, fmt.Sprintf(`document.getElementById(%q).type`, id)); ty != "password" {
			t.Errorf("%s is a %s input", id, ty)
		}
	}
	tb.do(chromedp.Click(chromedp.ID("organization-cancel")))
}

// TestBrowserPreviewAsTheGroupSees (#16.12): the preview shows each robot's
// message rendered as the group sees it (markdown in a chat bubble, per
// kind), the raw request one click away; Sentry's text stays text.
func TestBrowserPreviewAsTheGroupSees(t *testing.T) {
	in := start(t, nil, nil)
	in.api(t, "POST", "/api/v1/organizations", map[string]any{"name": "公司主账号", "sentry_url": "https://sentry.io", "slug": "acme"})
	in.api(t, "POST", "/api/v1/owners", map[string]any{"name": "张三", "mobile": ownerMobile})
	in.api(t, "POST", "/api/v1/robots", map[string]any{"name": "研发告警群", "access_token": robotToken, "secret": robotSecret})
	in.api(t, "POST", "/api/v1/robots", map[string]any{"name": "运维群", "access_token": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7b2c-4e1d-9f3a-5c8e2d7b1a4f"})
	in.api(t, "POST", "/api/v1/projects", map[string]any{"name": "商城后台", "slug": "mall-api", "organization_id": 1, "owner_ids": []int{1}, "robot_ids": []int{1, 2}})
	tb := newTab(t, in)
	tb.open()
	tb.do(act("project-preview-1"))
	tb.waitFor(`document.getElementById("preview-bubble-1") !== null`)
	for i := 0; i < 2; i++ {
		b := fmt.Sprintf("preview-bubble-%d", i)
		text := tb.text(b)
		if strings.Contains(text, "**") || strings.Contains(text, "](") || strings.Contains(text, "&gt;") {
			t.Errorf("robot %d: the bubble shows markdown as is: %q", i, text)
		}
		if !eval[bool](tb, fmt.Sprintf(`(() => { const a = document.querySelector("#%s a"); return !!a && a.href.startsWith("https://") && a.target === "_blank" })()`, b)) {
			t.Errorf("robot %d: the bubble has no link to Sentry: %q", i, text)
		}
		if !eval[bool](tb, fmt.Sprintf(`document.querySelector("#%s strong, #%s .md-h") !== null`, b, b)) {
			t.Errorf("robot %d: the bubble has nothing bold", i)
		}
		if !strings.Contains(text, "详情") {
			t.Errorf("robot %d: the bubble lacks the keyword: %q", i, text)
		}
		if eval[bool](tb, fmt.Sprintf(`document.getElementById("preview-json-%d").checkVisibility()`, i)) {
			t.Errorf("robot %d: the raw request shows without a click", i)
		}
	}
	if !eval[bool](tb, `document.getElementById("preview-chat-0").className !== document.getElementById("preview-chat-1").className`) {
		t.Error("the two kinds' bubbles look the same")
	}
	if r := tb.text("preview-bubble-0"); !strings.Contains(r, "@"+ownerMobile) {
		t.Errorf("the bubble lacks the @-mention: %q", r)
	}
	tb.do(chromedp.Click(chromedp.CSS("#preview-robot-0 details.preview-raw summary")))
	tb.waitFor(`document.getElementById("preview-json-0").checkVisibility()`)
	if j := tb.text("preview-json-0"); !strings.Contains(j, `"msgtype"`) {
		t.Errorf("the raw request reads %q", j)
	}

	// A payload whose title holds markup: it stays text.
	body := string(legacyBody(t, "mall-api"))
	body = strings.Replace(body, `"title": "TypeError:`, `"title": "<img src=x id=injected onerror=alert(1)> **bold** [x](javascript:alert(1)) TypeError:`, 1)
	tb.fill("preview-payload", body)
	tb.do(chromedp.Click(chromedp.ID("preview-run")))
	tb.waitFor(`document.getElementById("preview-bubble-0") !== null && document.getElementById("preview-body").textContent.includes("img src")`)
	if eval[bool](tb, `document.getElementById("injected") !== null || document.querySelector("#preview-body img") !== null`) {
		t.Error("markup in the payload became an element")
	}
	if eval[bool](tb, `Array.from(document.querySelectorAll("#preview-body a")).some((a) => !a.href.startsWith("http"))`) {
		t.Error("a link that is not http(s) became a link")
	}
	tb.do(chromedp.Click(chromedp.ID("preview-close")))
}

// TestBrowserHistorySaysWhatChanged (#16.13): each history row says what
// its save did (added, edited, imported, restored, which entity) with the
// changes; the diff of a version scrolls into view.
func TestBrowserHistorySaysWhatChanged(t *testing.T) {
	in := start(t, nil, nil)
	in.api(t, "POST", "/api/v1/owners", map[string]any{"name": "张三", "mobile": ownerMobile})
	in.api(t, "POST", "/api/v1/robots", map[string]any{"name": "研发告警群", "access_token": robotToken})
	in.api(t, "PATCH", "/api/v1/robots/1", map[string]any{"keyword": "紧急"})
	d := in.stored(t)
	d.Owners = append(d.Owners, config.Owner{ID: 2, Name: "李四", Mobile: "13900139000"})
	b, _ := config.Marshal(d)
	var doc map[string]any
	_ = json.Unmarshal(b, &doc)
	in.api(t, "PUT", "/api/v1/document", doc)
	hist := in.api(t, "GET", "/api/v1/history", nil)["list"].([]any)
	before := hist[0].(map[string]any)["id"].(string) // the version the import replaced
	in.api(t, "POST", "/api/v1/history/"+before+"/restore", map[string]any{})

	tb := newTab(t, in)
	tb.do(chromedp.EmulateViewport(1024, 420))
	tb.open()
	tb.page("history")
	tb.waitFor(`document.getElementById("history-row-3") !== null`)
	for i, want := range [][]string{
		{"恢复历史版本", "删除", "负责人 #2 李四"},
		{"导入配置文件", "新增", "负责人 #2 李四"},
		{"修改机器人 #1 研发告警群", "keyword"},
		{"新建机器人 #1 研发告警群"},
	} {
		save := tb.text(fmt.Sprintf("history-save-%d", i))
		row := tb.text(fmt.Sprintf("history-row-%d", i))
		if !strings.HasPrefix(save, want[0]) {
			t.Errorf("history row %d says %q, want %q", i, save, want[0])
		}
		for _, w := range want[1:] {
			if !strings.Contains(row, w) {
				t.Errorf("history row %d lacks %q: %s", i, w, row)
			}
		}
	}
	tb.do(chromedp.Click(chromedp.ID("history-diff-3")))
	tb.waitFor(`document.getElementById("history-detail-3") !== null`)
	tb.waitFor(`(() => { const r = document.getElementById("history-detail-3").getBoundingClientRect(); return r.top >= 0 && r.top < window.innerHeight })()`)
	tb.do(chromedp.Click(chromedp.ID("lang-toggle")))
	tb.waitFor(`document.getElementById("history-save-2").textContent.startsWith("Edited robot #1")`)
}
