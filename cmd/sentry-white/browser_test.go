package main

// End-to-end tests of the page in a real headless Chromium: one browser for
// the test binary, a tab per test. They fail on any JavaScript exception or
// console error, and capture every page (written to docs/screenshots/ with
// -update, as make screenshots does).
// Without Chromium they skip, except when CI is set.

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/docstore"
	"github.com/sentry-white/sentry-white/internal/robottest"
	"github.com/sentry-white/sentry-white/internal/store"
)

var (
	browserOnce sync.Once
	browserCtx  context.Context
	browserErr  error
	browserStop = func() {}
)

func TestMain(m *testing.M) {
	code := m.Run()
	browserStop()
	os.Exit(code)
}

// chromiumPath finds the browser: CHROMIUM_PATH, else the usual names.
func chromiumPath() (string, error) {
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		return p, nil
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no Chromium found (install the Debian package chromium, or set CHROMIUM_PATH)")
}

func startBrowser() {
	path, err := chromiumPath()
	if err != nil {
		browserErr = err
		return
	}
	dir, err := os.MkdirTemp("", "sentry-white-chromium-")
	if err != nil {
		browserErr = err
		return
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-features", "Translate"),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(1280, 800),
	)
	ctx, cancel := chromedp.NewContext(alloc)
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		cancel()
		cancelAlloc()
		os.RemoveAll(dir)
		browserErr = fmt.Errorf("start %s: %w", path, err)
		return
	}
	browserCtx = ctx
	browserStop = func() {
		cancel()
		cancelAlloc()
		os.RemoveAll(dir)
	}
}

// tab is one browser tab of a test, recording JavaScript problems.
type tab struct {
	t   *testing.T
	ctx context.Context
	in  *instance

	w, h int64 // the viewport the test runs at

	mu       sync.Mutex
	problems []string
	allowed  []string // network errors a test expects (allow)
}

// viewport sets the window's size the test runs at.
func (tb *tab) viewport(w, h int64) {
	tb.t.Helper()
	tb.w, tb.h = w, h
	tb.do(chromedp.EmulateViewport(w, h))
}

// allow lets network errors whose text holds one of the strings pass
// (a test that opens the page with a wrong token expects its 401).
func (tb *tab) allow(texts ...string) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.allowed = append(tb.allowed, texts...)
}

// newTab opens a tab on the configurator in; it skips the test without
// Chromium (and fails it under CI).
func newTab(t *testing.T, in *instance) *tab {
	t.Helper()
	browserOnce.Do(startBrowser)
	if browserErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("browser tests need Chromium under CI: %v", browserErr)
		}
		t.Skipf("skipping the browser test: %v", browserErr)
	}
	tb := &tab{t: t, in: in}
	// Each tab in a browser context of its own: the page keeps its
	// language and guide in localStorage per origin, and a later test's
	// configurator may get an earlier one's port. The whole test has four
	// minutes (each wait has its own 20 s), for -race on loaded machines.
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext(), chromedp.WithListener(tb.listen))
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	tb.ctx = ctx
	t.Cleanup(func() {
		// A round trip: every event before it has reached listen.
		_, _ = chromedp.Run(ctx, chromedp.Evaluate[int]("1"))
		tb.mu.Lock()
		for _, p := range tb.problems {
			t.Errorf("JavaScript: %s", p)
		}
		tb.mu.Unlock()
		cancelTimeout()
		cancel()
	})
	tb.viewport(1024, 768) // the smallest laptop width the page is made for
	return tb
}

// listen records exceptions and console errors. Network errors are allowed
// only for the answers the page expects (409 stale or referenced, 422
// validation).
func (tb *tab) listen(ev any) {
	var problem string
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		problem = fmt.Sprintf("uncaught %s at %s:%d", d.Text, d.URL, d.LineNumber+1)
		if d.Exception != nil {
			problem += ": " + d.Exception.Description
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range ev.Args {
				parts = append(parts, string(a.Value)+a.Description)
			}
			problem = "console." + string(ev.Type) + ": " + strings.Join(parts, " ")
		}
	case *log.EventEntryAdded:
		e := ev.Entry
		if e.Level == log.EntryLevelError {
			expected := e.Source == log.EntrySourceNetwork && (strings.Contains(e.Text, "status of 409") || strings.Contains(e.Text, "status of 422"))
			tb.mu.Lock()
			for _, a := range tb.allowed {
				expected = expected || e.Source == log.EntrySourceNetwork && strings.Contains(e.Text, a)
			}
			tb.mu.Unlock()
			if !expected {
				problem = fmt.Sprintf("%s error: %s (%s)", e.Source, e.Text, e.URL)
			}
		}
	}
	if problem != "" {
		tb.mu.Lock()
		tb.problems = append(tb.problems, problem)
		tb.mu.Unlock()
	}
}

func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, actions...); err != nil {
		tb.t.Fatalf("browser: %v", err)
	}
}

// eval returns a JavaScript expression's value.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor waits until a JavaScript expression is true.
func (tb *tab) waitFor(expr string) {
	tb.t.Helper()
	if _, err := chromedp.Run(tb.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		tb.t.Fatalf("waiting for %s: %v", expr, err)
	}
}

// text is the trimmed text of the element with id.
func (tb *tab) text(id string) string {
	tb.t.Helper()
	return strings.TrimSpace(eval[string](tb, fmt.Sprintf(`(document.getElementById(%q) || {}).textContent || ""`, id)))
}

// act clicks a row's action by id: one kept in the row's menu (⋯) is
// clicked after opening the menu, as a user would.
func act(id string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		open := fmt.Sprintf(`(() => {
			const b = document.getElementById(%q);
			const m = b && b.closest("[popover]");
			if (!m || m.matches(":popover-open")) return true;
			const more = document.querySelector('[popovertarget="' + m.id + '"]');
			more.scrollIntoView({ block: "center" });
			more.click();
			return true;
		})()`, id)
		if _, err := chromedp.Evaluate[bool](open)(ctx, t); err != nil {
			return chromedp.Void{}, err
		}
		return chromedp.Click(chromedp.ID(id))(ctx, t)
	}
}

// visibleText is the text of the element with id without what its raw
// answers (原始回答, details.raw) hold.
func (tb *tab) visibleText(id string) string {
	tb.t.Helper()
	return strings.TrimSpace(eval[string](tb, fmt.Sprintf(`(() => {
		const n = document.getElementById(%q);
		if (!n) return "";
		const c = n.cloneNode(true);
		c.querySelectorAll("details.raw").forEach((d) => d.remove());
		return c.textContent;
	})()`, id)))
}

// rawText is what the raw answers (details.raw) in the element with id hold.
func (tb *tab) rawText(id string) string {
	tb.t.Helper()
	return eval[string](tb, fmt.Sprintf(`Array.from(document.querySelectorAll("#%s details.raw")).map((d) => d.textContent).join(" | ")`, id))
}

// open loads the page with the token in its URL.
func (tb *tab) open() {
	tb.t.Helper()
	tb.do(chromedp.Navigate(tb.in.base+"/?token="+tb.in.token), chromedp.WaitVisible(chromedp.ID("projects-title")))
	tb.waitFor(`document.getElementById("store-loc").textContent.startsWith("file:")`)
}

// page switches to a page with the navigation and waits until the page
// has loaded what it reads from the server (its data-loads changed), so
// no answer arriving later rewrites what the test does next.
func (tb *tab) page(name string) {
	tb.t.Helper()
	id := "page-" + name
	shown := eval[bool](tb, fmt.Sprintf(`!document.getElementById(%q).hidden`, id))
	before := eval[string](tb, fmt.Sprintf(`document.getElementById(%q).dataset.loads || ""`, id))
	tb.do(chromedp.Click(chromedp.ID("nav-"+name)), chromedp.WaitVisible(chromedp.ID(id)))
	if !shown {
		tb.waitFor(fmt.Sprintf(`(document.getElementById(%q).dataset.loads || "") !== %q`, id, before))
	}
}

// fill sets the values of inputs by id, in pairs.
func (tb *tab) fill(fields ...string) {
	tb.t.Helper()
	for i := 0; i+1 < len(fields); i += 2 {
		tb.do(chromedp.SetValue(chromedp.ID(fields[i]), fields[i+1]))
	}
}

// save submits a dialog's form and waits until it closes.
func (tb *tab) save(kind string) {
	tb.t.Helper()
	tb.do(chromedp.Click(chromedp.ID(kind + "-save")))
	tb.waitFor(fmt.Sprintf(`!document.getElementById(%q).open`, kind+"-dialog"))
}

// stored reads the document from the configurator's folder store.
func (in *instance) stored(t *testing.T) *config.Document {
	t.Helper()
	d, _, err := docstore.NewDocs(store.NewFile(in.dir), "", testKinds.Document()).Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

const (
	robotToken  = "9c5a7e0f3b2d4c6a8e1f0b3d5c7a9e2f4b6d8c0a1e3f5b7d9c2a4e6f8b0d1c3e"
	robotSecret = "SEC5e8b7d2c4a6f9e1b3d5c7a9e0f2b4d6c8a1e3f5b7d9c0a2e4f6b8d1c3e5a7f9"
	ownerMobile = "13800138000"
)

func TestBrowserSetUpAndSendTestAlert(t *testing.T) {
	ding := robottest.NewDingTalk(robottest.DingTalkRobot{Token: robotToken, Secret: robotSecret, Keywords: []string{"详情"}})
	t.Cleanup(ding.Close)
	in := start(t, nil, map[string]string{"SENTRY_WHITE_DINGTALK_API": ding.URL()})
	tb := newTab(t, in)
	tb.open()
	if href := eval[string](tb, "location.href"); strings.Contains(href, "token") {
		t.Errorf("the token stays in the address bar: %s", href)
	}
	if tb.text("guide") == "" {
		t.Error("a new setup shows no getting-started guide")
	}

	// An owner, with a wrong mobile number first.
	tb.page("owners")
	tb.do(chromedp.Click(chromedp.ID("owners-new")), chromedp.WaitVisible(chromedp.ID("owner-name")))
	tb.fill("owner-name", "张三")
	tb.do(chromedp.SendKeys(chromedp.ID("owner-mobile"), "12345"), chromedp.Click(chromedp.ID("owner-save")))
	tb.waitFor(`document.getElementById("owner-mobile-error").textContent !== ""`)
	if msg := tb.text("owner-mobile-error"); !strings.Contains(msg, "手机号") {
		t.Errorf("the mobile error reads %q", msg)
	}
	if eval[string](tb, `document.getElementById("owner-mobile").getAttribute("aria-invalid")`) != "true" {
		t.Error("the wrong field is not marked invalid")
	}
	tb.fill("owner-mobile", ownerMobile)
	tb.save("owner")
	tb.do(chromedp.WaitVisible(chromedp.ID("owner-row-1")))

	// A robot, pasting the whole webhook URL; the keyword defaults to 详情.
	tb.page("robots")
	tb.do(chromedp.Click(chromedp.ID("robots-new")), chromedp.WaitVisible(chromedp.ID("robot-name")))
	if kw := eval[string](tb, `document.getElementById("robot-keyword").value`); kw != "详情" {
		t.Errorf("keyword default %q, want 详情", kw)
	}
	tb.fill("robot-name", "研发告警群", "robot-access_token", "https://oapi.dingtalk.com/robot/send?access_token="+robotToken)
	tb.do(chromedp.SendKeys(chromedp.ID("robot-secret"), robotSecret))
	tb.save("robot")
	tb.do(chromedp.WaitVisible(chromedp.ID("robot-row-1")))
	if row := tb.text("robot-row-1"); strings.Contains(row, robotToken) || strings.Contains(row, robotSecret) {
		t.Errorf("the robot list shows a secret: %s", row)
	}

	// A project picking them.
	tb.page("projects")
	tb.do(chromedp.Click(chromedp.ID("projects-new")), chromedp.WaitVisible(chromedp.ID("project-name")))
	tb.fill("project-name", "商城后台")
	tb.do(chromedp.SendKeys(chromedp.ID("project-slug"), "mall-api"), chromedp.Click(chromedp.ID("project-owner-1")))
	if !eval[bool](tb, `document.getElementById("project-robot-1").checked`) {
		tb.do(chromedp.Click(chromedp.ID("project-robot-1")))
	}
	tb.save("project")
	tb.do(chromedp.WaitVisible(chromedp.ID("project-row-1")))
	// The guide stays until a test alert arrived and the webhook URL was
	// copied; the first three steps are done.
	if eval[bool](tb, `document.getElementById("guide").hidden`) ||
		eval[int](tb, `document.querySelectorAll("#guide-steps li.done").length`) != 3 {
		t.Errorf("after the setup the guide reads %q", tb.text("guide"))
	}

	// The test alert.
	tb.do(chromedp.Click(chromedp.ID("project-test-1")))
	tb.waitFor(`document.querySelector("#project-status-1 .msg.ok, #project-status-1 .msg.fail") !== null`)
	if res := tb.text("project-status-1"); !strings.Contains(res, "已发送到") || !strings.Contains(res, ownerMobile) {
		t.Errorf("result reads %q", res)
	}
	msgs := ding.Messages()
	if len(msgs) != 1 {
		t.Fatalf("the DingTalk stand-in got %d messages, want 1 (rejected %v)", len(msgs), ding.Rejected())
	}
	m := msgs[0]
	if m.Token != robotToken || !strings.Contains(m.Text, "详情") || !strings.Contains(m.Text, "@"+ownerMobile) ||
		!slices.Contains(m.AtMobiles, ownerMobile) || !m.Mentioned {
		t.Errorf("received %+v", m)
	}
	d := in.stored(t)
	if d.Robots[0].Secret.Reveal() != robotSecret || d.Projects[0].Slug != "mall-api" || !slices.Equal(d.Projects[0].OwnerIDs, []int64{1}) {
		t.Errorf("stored %+v", d)
	}

	// Routing filters: only production and staging alert, and owners are
	// @-mentioned from fatal only.
	tb.do(chromedp.Click(chromedp.ID("project-edit-1")), chromedp.WaitVisible(chromedp.ID("project-name")))
	if eval[bool](tb, `document.getElementById("project-filters").open`) {
		t.Error("the filters are open for a project without filters")
	}
	tb.do(chromedp.Click(chromedp.CSS("#project-filters summary")), chromedp.WaitVisible(chromedp.ID("project-environments")))
	tb.fill("project-environments", "production, staging", "project-mention_level", "fatal")
	tb.save("project")
	tb.waitFor(`document.getElementById("project-row-1").textContent.includes("fatal")`)
	if row := tb.text("project-row-1"); !strings.Contains(row, "环境：production, staging") || !strings.Contains(row, "@ ≥ fatal") {
		t.Errorf("the project row shows the filters as %q", row)
	}
	if p := in.stored(t).Projects[0]; !slices.Equal(p.Environments, []string{"production", "staging"}) || p.MentionLevel != "fatal" || p.MinLevel != "" {
		t.Errorf("stored filters: environments %q, mention level %q, min level %q", p.Environments, p.MentionLevel, p.MinLevel)
	}
	tb.do(chromedp.Click(chromedp.ID("project-edit-1")), chromedp.WaitVisible(chromedp.ID("project-environments")))
	if !eval[bool](tb, `document.getElementById("project-filters").open`) ||
		eval[string](tb, `document.getElementById("project-environments").value`) != "production, staging" ||
		eval[string](tb, `document.getElementById("project-mention_level").value`) != "fatal" {
		t.Error("the form does not show the saved filters")
	}
	tb.do(chromedp.Click(chromedp.ID("project-cancel")))
	tb.waitFor(`!document.getElementById("project-dialog").open`)
	// The preview says the (error-level) sample goes out without @, and
	// the test alert does.
	tb.do(act("project-preview-1"))
	tb.waitFor(`document.getElementById("preview-robot-0") !== null`)
	if p := tb.text("preview-body"); !strings.Contains(p, "不会 @ 人") || !strings.Contains(p, "不 @ 任何人") || !strings.Contains(p, "production") {
		t.Errorf("the preview reads %q", p)
	}
	tb.do(chromedp.Click(chromedp.ID("preview-close")))
	tb.waitFor(`!document.getElementById("preview-dialog").open`)
	// (The edit cleared the first answer.)
	tb.do(chromedp.Click(chromedp.ID("project-test-1")))
	tb.waitFor(`document.querySelector("#project-status-1 .msg.ok, #project-status-1 .msg.fail") !== null`)
	msgs = ding.Messages()
	if len(msgs) != 2 {
		t.Fatalf("the DingTalk stand-in got %d messages, want 2 (rejected %v)", len(msgs), ding.Rejected())
	}
	if m := msgs[1]; len(m.AtMobiles) != 0 || strings.Contains(m.Text, "@"+ownerMobile) || !strings.Contains(m.Text, "production") {
		t.Errorf("below the mention level the test alert still mentions: %+v", m)
	}
}

func TestBrowserExplainEditDeleteAndStale(t *testing.T) {
	// The robot's keyword in DingTalk is 紧急, not 详情.
	ding := robottest.NewDingTalk(robottest.DingTalkRobot{Token: robotToken, Secret: robotSecret, Keywords: []string{"紧急"}})
	t.Cleanup(ding.Close)
	in := start(t, nil, map[string]string{"SENTRY_WHITE_DINGTALK_API": ding.URL()})
	in.api(t, "POST", "/api/v1/owners", map[string]any{"name": "张三", "mobile": ownerMobile})
	in.api(t, "POST", "/api/v1/robots", map[string]any{"name": "研发告警群", "access_token": robotToken, "secret": robotSecret, "keyword": "详情"})
	in.api(t, "POST", "/api/v1/projects", map[string]any{"name": "商城后台", "slug": "mall-api", "owner_ids": []int{1}, "robot_ids": []int{1}})

	tb := newTab(t, in)
	tb.open()
	tb.page("robots")
	tb.do(chromedp.Click(chromedp.ID("robot-test-1")))
	tb.waitFor(`document.querySelector("#robot-status-1 .msg.fail, #robot-status-1 .msg.ok") !== null`)
	res := tb.text("robot-status-1")
	if !strings.Contains(res, "310000") || !strings.Contains(res, "怎么办") || !strings.Contains(res, "关键词必须出现在每条消息里") {
		t.Errorf("the refusal reads %q", res)
	}

	// Edit: the secrets open empty (their masks as placeholders) and stay;
	// the keyword changes.
	tb.do(chromedp.Click(chromedp.ID("robot-edit-1")), chromedp.WaitVisible(chromedp.ID("robot-keyword")))
	if v, p := eval[string](tb, `document.getElementById("robot-access_token").value`), eval[string](tb, `document.getElementById("robot-access_token").placeholder`); v != "" || !strings.Contains(p, "…") || strings.Contains(p, robotToken) {
		t.Errorf("the edit form shows the token as %q, placeholder %q", v, p)
	}
	tb.fill("robot-keyword", "紧急")
	tb.save("robot")
	tb.do(chromedp.Click(chromedp.ID("robot-test-1")))
	tb.waitFor(`document.querySelector("#robot-status-1 .msg.ok") !== null`)
	if n := len(ding.Messages()); n != 1 {
		t.Errorf("the stand-in accepted %d messages after the keyword fix, want 1", n)
	}
	if r := in.stored(t).Robots[0]; r.AccessToken.Reveal() != robotToken || r.Secret.Reveal() != robotSecret || r.Keyword != "紧急" {
		t.Errorf("robot after the edit: %q %q %q", r.AccessToken.Reveal(), r.Secret.Reveal(), r.Keyword)
	}

	// Delete an owner a project uses: the page says who and asks.
	tb.page("owners")
	tb.do(chromedp.Click(chromedp.ID("owner-delete-1")))
	tb.waitFor(`document.getElementById("confirm-dialog").open`)
	if q := tb.text("confirm-text"); !strings.Contains(q, "商城后台") {
		t.Errorf("the confirmation reads %q", q)
	}
	tb.do(chromedp.Click(chromedp.ID("confirm-cancel")))
	tb.waitFor(`!document.getElementById("confirm-dialog").open`)
	if len(in.stored(t).Owners) != 1 {
		t.Fatal("cancel deleted the owner")
	}
	tb.do(chromedp.Click(chromedp.ID("owner-delete-1")))
	tb.waitFor(`document.getElementById("confirm-dialog").open`)
	tb.do(chromedp.Click(chromedp.ID("confirm-ok")))
	tb.waitFor(`document.getElementById("owner-row-1") === null`)
	if d := in.stored(t); len(d.Owners) != 0 || len(d.Projects[0].OwnerIDs) != 0 {
		t.Errorf("after the delete: %+v", d)
	}

	// A stale write: someone else changes the project while it is open.
	tb.page("projects")
	tb.do(chromedp.Click(chromedp.ID("project-edit-1")), chromedp.WaitVisible(chromedp.ID("project-name")))
	in.api(t, "PATCH", "/api/v1/projects/1", map[string]any{"name": "商城后台（别人改的）"})
	tb.fill("project-name", "商城后台（我改的）")
	tb.do(chromedp.Click(chromedp.ID("project-save")))
	// The project lost its only owner: saving it asks first.
	tb.waitFor(`document.getElementById("confirm-dialog").open`)
	if q := tb.text("confirm-text"); !strings.Contains(q, "没有负责人") {
		t.Errorf("saving a project without owners asks %q", q)
	}
	tb.do(chromedp.Click(chromedp.ID("confirm-ok")))
	tb.waitFor(`!document.getElementById("banner").hidden`)
	if b := tb.text("banner-text"); !strings.Contains(b, "重新加载") {
		t.Errorf("the banner reads %q", b)
	}
	if e := tb.text("project-form-error"); e == "" {
		t.Error("the form does not say why it was not saved")
	}
	if got := in.stored(t).Projects[0].Name; got != "商城后台（别人改的）" {
		t.Errorf("the stale write overwrote the other edit: %q", got)
	}
	tb.do(chromedp.Click(chromedp.ID("project-cancel")), chromedp.Click(chromedp.ID("banner-reload")))
	tb.waitFor(`document.getElementById("banner").hidden && document.getElementById("project-row-1").textContent.includes("别人改的")`)

	// Delete a project.
	tb.do(act("project-delete-1"))
	tb.waitFor(`document.getElementById("confirm-dialog").open`)
	tb.do(chromedp.Click(chromedp.ID("confirm-ok")))
	tb.waitFor(`document.getElementById("project-row-1") === null`)
	if n := len(in.stored(t).Projects); n != 0 {
		t.Errorf("%d projects left", n)
	}
}

func TestBrowserImportAndHistory(t *testing.T) {
	in := start(t, nil, nil)
	in.api(t, "POST", "/api/v1/owners", map[string]any{"name": "张三", "mobile": ownerMobile})
	in.api(t, "PATCH", "/api/v1/owners/1", map[string]any{"name": "张三丰"})

	d := in.stored(t)
	d.Owners = append(d.Owners, config.Owner{ID: 2, Name: "李四", Mobile: "13900139000"})

	tb := newTab(t, in)
	tb.open()
	tb.page("import")
	tb.uploadDoc(d)
	tb.waitFor(`document.getElementById("import-diff-title") !== null`)
	if diff := tb.text("import-result"); !strings.Contains(diff, "李四") || !strings.Contains(diff, "新增") {
		t.Errorf("the diff reads %q", diff)
	}
	tb.do(chromedp.Click(chromedp.ID("import-confirm")))
	tb.waitFor(`document.querySelector("#import-result .msg.ok") !== null`)
	if n := len(in.stored(t).Owners); n != 2 {
		t.Errorf("%d owners after the import, want 2", n)
	}

	// An invalid file is refused with the field named.
	bad := writeFile(t, "bad.json", []byte(`{"schema":1,"organizations":[],"robots":[],"projects":[],"owners":[{"id":1,"name":"x","mobile":"123"}]}`))
	tb.do(chromedp.SetUploadFiles(chromedp.ID("import-file"), []string{bad}))
	tb.waitFor(`document.getElementById("import-errors") !== null`)
	if e := tb.text("import-errors"); !strings.Contains(e, "owners[0].mobile") {
		t.Errorf("the import errors read %q", e)
	}

	// History: restore the version before the import.
	tb.page("history")
	tb.do(chromedp.WaitVisible(chromedp.ID("history-row-0")), chromedp.Click(chromedp.ID("history-diff-0")))
	tb.waitFor(`document.getElementById("history-detail-0") !== null`)
	tb.do(chromedp.Click(chromedp.ID("history-restore-0")))
	tb.waitFor(`document.getElementById("confirm-dialog").open`)
	tb.do(chromedp.Click(chromedp.ID("confirm-ok")))
	tb.waitFor(`document.querySelector("#history-result .msg.ok") !== null`)
	if o := in.stored(t).Owners; len(o) != 1 || o[0].Name != "张三丰" {
		t.Errorf("after the restore: %+v", o)
	}
}

// updateShots rewrites docs/screenshots (make screenshots); a plain test
// run captures every page but changes no tracked file.
var updateShots = flag.Bool("update", false, "rewrite docs/screenshots/*.png")

// shotHeights are the windows the screenshots are taken in, by width: a
// laptop, and a phone (390 px).
var shotHeights = map[int64]int64{1280: 800, 390: 844}

// screenshot captures the window at each width given (then the test's own
// size again), or as it is when none is, after checking that nothing
// overflows and no action is clipped, and with -update saves it to
// dir/<name>-<lang>.png (1280 px, or the window as it is) or
// dir/<name>-<lang>-<width>.png.
func (tb *tab) screenshot(dir, name, lang string, widths ...int64) {
	tb.t.Helper()
	if len(widths) == 0 {
		widths = []int64{0}
	} else {
		defer tb.do(chromedp.EmulateViewport(tb.w, tb.h))
	}
	for _, w := range widths {
		file := name + "-" + lang
		if w != 1280 && w != 0 {
			file += fmt.Sprintf("-%d", w)
		}
		if w != 0 {
			tb.do(chromedp.EmulateViewport(w, shotHeights[w]))
		}
		if bad := eval[string](tb, clippedActions); bad != "" {
			tb.t.Errorf("screenshot %s: actions do not fit: %s", file, bad)
		}
		if bad := eval[string](tb, overflow); bad != "" {
			tb.t.Errorf("screenshot %s: %s", file, bad)
		}
		buf, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			tb.t.Fatalf("screenshot %s: %v", file, err)
		}
		if len(buf) == 0 {
			tb.t.Fatalf("screenshot %s: empty image", file)
		}
		if !*updateShots {
			continue
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			tb.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, file+".png"), buf, 0o644); err != nil {
			tb.t.Fatal(err)
		}
	}
}

func TestBrowserLanguagesAndScreenshots(t *testing.T) {
	shots, err := filepath.Abs(filepath.Join("..", "..", "docs", "screenshots"))
	if err != nil {
		t.Fatal(err)
	}
	ding := robottest.NewDingTalk(robottest.DingTalkRobot{Token: robotToken, Secret: robotSecret, Keywords: []string{"详情"}})
	t.Cleanup(ding.Close)
	// Run in an empty folder, as a user would, so the screenshots show the
	// default store ./sentry-white-data.
	t.Chdir(t.TempDir())
	in := start(t, []string{"-no-browser", "-addr", "127.0.0.1:0"},
		map[string]string{"SENTRY_WHITE_DINGTALK_API": ding.URL(), "SENTRY_WHITE_CONFIG_DIR": filepath.Join(".config", "sentry-white")})
	// A fixed webhook token keeps the screenshots the same from run to run.
	in.api(t, "PUT", "/api/v1/document", map[string]any{"schema": 1, "webhook_token": "3f9c0a7e5b1d4c2a8e6f0b9d7c5a3e1f",
		"organizations": []any{}, "owners": []any{}, "robots": []any{}, "projects": []any{}})
	in.api(t, "POST", "/api/v1/organizations", map[string]any{"name": "公司主账号", "sentry_url": "https://sentry.io", "slug": "acme",
		"account": "viewer@acme.com", "password": "readonly-pass", "client_secret": strings.Repeat("6f7e", 16)})
	in.api(t, "POST", "/api/v1/owners", map[string]any{"name": "张三", "mobile": ownerMobile})
	in.api(t, "POST", "/api/v1/owners", map[string]any{"name": "李四", "mobile": "13900139000", "dingtalk_user_id": "lisi01"})
	in.api(t, "POST", "/api/v1/robots", map[string]any{"name": "研发告警群", "access_token": robotToken, "secret": robotSecret, "keyword": "详情"})
	in.api(t, "POST", "/api/v1/robots", map[string]any{"name": "运维群", "access_token": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7b2c-4e1d-9f3a-5c8e2d7b1a4f"})
	in.api(t, "POST", "/api/v1/projects", map[string]any{"name": "商城后台", "slug": "mall-api", "organization_id": 1, "owner_ids": []int{1, 2}, "robot_ids": []int{1}})
	in.api(t, "POST", "/api/v1/projects", map[string]any{"name": "支付服务", "slug": "pay-service", "organization_id": 1, "owner_ids": []int{2},
		"robot_ids": []int{1, 2}, "environments": []string{"production"}, "min_level": "error", "mention_level": "fatal"})
	in.api(t, "PUT", "/api/v1/settings", map[string]any{"relay_url": "https://sentry-white-relay.cn-hangzhou.fcapp.run"})
	// A weekly rotation with a cover next week; 支付服务 rings whoever is
	// on duty and holds what comes at night.
	monday := thisMonday(shanghai(t))
	in.api(t, "POST", "/api/v1/schedules", map[string]any{"name": "后端值班", "owner_ids": []int{1, 2}, "period": "week", "handoff": "09:00",
		"handoff_weekday": 1, "start": monday.AddDate(0, 0, -7).Format("2006-01-02"), "robot_ids": []int{1},
		"overrides": []any{map[string]any{"owner_id": 2, "from": monday.AddDate(0, 0, 10).Format("2006-01-02") + "T09:00", "to": monday.AddDate(0, 0, 12).Format("2006-01-02") + "T09:00"}}})
	in.api(t, "PATCH", "/api/v1/projects/2", map[string]any{"mention": "oncall", "schedule_id": 1,
		"quiet_hours": map[string]any{"bypass_level": "fatal", "windows": []any{map[string]any{"days": []int{1, 2, 3, 4, 5}, "from": "22:00", "to": "08:00"},
			map[string]any{"days": []int{6, 7}, "from": "00:00", "to": "00:00"}}}})

	tb := newTab(t, in)
	tb.open()
	pages := []string{"projects", "owners", "schedules", "robots", "organizations", "webhook", "import", "history", "settings"}
	ready := map[string]string{
		"projects":      `document.getElementById("project-row-2") !== null`,
		"owners":        `document.getElementById("owner-row-2") !== null`,
		"schedules":     `document.getElementById("schedule-cal-1") !== null`,
		"robots":        `document.getElementById("robot-row-2") !== null`,
		"organizations": `document.getElementById("organization-row-1") !== null`,
		"webhook":       `document.getElementById("webhook-url").value.includes("token=")`,
		"import":        `true`,
		"history":       `document.getElementById("history-row-0") !== null`,
		"settings":      `document.getElementById("settings-active").textContent !== ""`,
	}
	// Show more of some pages than they show at first.
	before := map[string][]chromedp.Action[chromedp.Void]{
		"history":  {chromedp.Click(chromedp.ID("history-diff-0")), chromedp.WaitVisible(chromedp.ID("history-detail-0"))},
		"settings": {chromedp.Click(chromedp.ID("settings-store_kind-oss")), chromedp.WaitVisible(chromedp.ID("settings-oss_endpoint"))},
	}
	after := map[string][]chromedp.Action[chromedp.Void]{
		"settings": {chromedp.Click(chromedp.ID("settings-store_kind-folder"))},
	}
	shoot := func(lang string) {
		for _, p := range pages {
			tb.page(p)
			tb.waitFor(ready[p])
			tb.do(before[p]...)
			tb.screenshot(shots, p, lang, 1280, 390)
			tb.do(after[p]...)
		}
		tb.page("projects")
		tb.do(chromedp.Click(chromedp.ID("project-test-1")))
		tb.waitFor(`document.querySelector("#project-status-1 .msg.ok") !== null`)
		tb.screenshot(shots, "test-alert", lang, 1280)
		tb.do(act("project-preview-1"))
		tb.waitFor(`document.getElementById("preview-robot-0") !== null`)
		tb.screenshot(shots, "preview", lang, 1280)
		tb.do(chromedp.Click(chromedp.ID("preview-close")))
		tb.do(chromedp.Click(chromedp.ID("project-edit-2")), chromedp.WaitVisible(chromedp.ID("project-name")))
		tb.screenshot(shots, "project-form", lang, 1280)
		tb.do(chromedp.Click(chromedp.ID("project-cancel")))
		tb.waitFor(`!document.getElementById("project-dialog").open`)
		tb.do(chromedp.Click(chromedp.ID("project-edit-2")), chromedp.WaitVisible(chromedp.ID("project-name")))
		tb.do(chromedp.ScrollIntoView(chromedp.ID("project-oncall")))
		tb.screenshot(shots, "project-oncall", lang)
		tb.do(chromedp.Click(chromedp.ID("project-cancel")))
		tb.waitFor(`!document.getElementById("project-dialog").open`)
		tb.do(chromedp.Click(chromedp.ID("project-preview-2")))
		tb.waitFor(`document.getElementById("preview-now") !== null`)
		tb.screenshot(shots, "preview-now", lang)
		tb.do(chromedp.Click(chromedp.ID("preview-close")))
	}
	if got := tb.text("nav-projects"); !strings.HasSuffix(got, "项目") || eval[string](tb, "document.documentElement.lang") != "zh-CN" {
		t.Errorf("default language: nav %q", got)
	}
	shoot("zh")

	tb.do(chromedp.Click(chromedp.ID("lang-toggle")))
	if got := tb.text("nav-projects"); !strings.HasSuffix(got, "Projects") || eval[string](tb, "document.documentElement.lang") != "en" {
		t.Errorf("after the switch: nav %q", got)
	}
	// The choice is remembered (the token too, for this tab).
	tb.do(chromedp.Navigate(in.base+"/"), chromedp.WaitVisible(chromedp.ID("projects-title")))
	tb.waitFor(`document.getElementById("project-row-2") !== null`)
	if got := tb.text("projects-title"); got != "Projects" {
		t.Errorf("after a reload the title is %q", got)
	}
	shoot("en")
	if n := len(ding.Messages()); n != 2 {
		t.Errorf("%d test alerts arrived, want 2", n)
	}

	// Keyboard: the navigation is reachable with Tab and works with Enter.
	tb.do(chromedp.Focus(chromedp.ID("nav-owners")), chromedp.SendKeys(chromedp.ID("nav-owners"), "\r"))
	tb.do(chromedp.WaitVisible(chromedp.ID("page-owners")))
}
