package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sentry-white/sentry-white/internal/actlink"
	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/deliveries"
	"github.com/sentry-white/sentry-white/internal/dispatch"
	"github.com/sentry-white/sentry-white/internal/docstore"
	"github.com/sentry-white/sentry-white/internal/notifiers"
	"github.com/sentry-white/sentry-white/internal/relay"
	"github.com/sentry-white/sentry-white/internal/robottest"
	"github.com/sentry-white/sentry-white/internal/sentryapi"
	"github.com/sentry-white/sentry-white/internal/sentryapi/sentrytest"
	"github.com/sentry-white/sentry-white/internal/store"
)

// TestBrowserActionConfirmPage: the relay's confirm page of an action link,
// on a phone (390×844, touch) and on a desktop (1280×800): the issue, who
// is acting, one large button that fits; pressing it acts through
// Sentry's API, the result says so, and the device remembers who acted.
func TestBrowserActionConfirmPage(t *testing.T) {
	shots, err := filepath.Abs(filepath.Join("..", "..", "docs", "screenshots"))
	if err != nil {
		t.Fatal(err)
	}
	const token = "sntrys_browser_0123456789abcdef0123456789abcdef"
	sn := sentrytest.New()
	t.Cleanup(sn.Close)
	sn.AddExample("acme", token, "TypeError: Cannot read properties of undefined (reading 'price') 价格为空")
	ding := robottest.NewDingTalk(robottest.DingTalkRobot{Token: robotToken, Keywords: []string{"详情"}})
	t.Cleanup(ding.Close)

	dir := t.TempDir()
	backend := store.NewFile(dir)
	kinds := notifiers.Default()
	docs := docstore.NewCache(backend, store.ConfigKey("api/"), -1, kinds.Document())
	getenv := func(k string) string { return map[string]string{"SENTRY_WHITE_DINGTALK_API": ding.URL()}[k] }
	h, err := relay.New(relay.Options{Docs: docs, Kinds: kinds, Dispatch: dispatch.Options{Senders: kinds.Senders(getenv, nil), Spool: t.TempDir()},
		History: deliveries.New(backend, "api/", nil), Store: backend, Prefix: "api/", Sentry: &sentryapi.Client{Timeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	h.Dispatcher().Start()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { _ = h.Dispatcher().Close(context.Background()) })
	doc := &config.Document{Schema: 1, WebhookToken: "tok", RelayURL: srv.URL,
		Organizations: []config.Organization{{ID: 1, Name: "公司", SentryURL: sn.URL, Slug: "acme", APIToken: token}},
		Owners: []config.Owner{{ID: 1, Name: "张三", Mobile: ownerMobile, SentryUser: "zhangsan@example.com"},
			{ID: 2, Name: "李四", Mobile: "13900139000"}},
		Robots:   []config.Robot{{ID: 1, Name: "研发告警群", Kind: "dingtalk", AccessToken: robotToken, Keyword: "详情"}},
		Projects: []config.Project{{ID: 1, Name: "商城后台", Slug: "mall-api", OrganizationID: 1, OwnerIDs: []int64{1, 2}, RobotIDs: []int64{1}}}}
	if _, err := docstore.NewDocs(backend, "api/", kinds.Document()).Save(context.Background(), doc, ""); err != nil {
		t.Fatal(err)
	}
	key := actlink.Key(doc, &doc.Organizations[0])
	link := func(action string) string {
		return srv.URL + actlink.Link{Org: 1, Project: 1, Issue: "4567890123", Action: action,
			Expires: time.Now().Add(actlink.Lifetime).Truncate(time.Second)}.Path(key)
	}

	tb := newTab(t, nil)
	// A phone: 390×844 at 3× with touch, as DingTalk's, WeCom's and Feishu's
	// in-app browsers open it.
	tb.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile))
	tb.do(chromedp.Navigate(link(actlink.Resolve)), chromedp.WaitVisible(chromedp.ID("act")))
	if got := tb.text("issue-title"); !strings.Contains(got, "价格为空") {
		t.Errorf("issue title %q", got)
	}
	if got := tb.text("issue-state"); !strings.Contains(got, "未解决") || !strings.Contains(got, "unresolved") {
		t.Errorf("state %q", got)
	}
	fits := func(what string) {
		t.Helper()
		if w, inner := eval[int](tb, `document.documentElement.scrollWidth`), eval[int](tb, `window.innerWidth`); w > inner {
			t.Errorf("%s: the page is %d px wide in a %d px window", what, w, inner)
		}
	}
	fits("phone")
	if bw := eval[float64](tb, `document.getElementById("act").getBoundingClientRect().width`); bw < 300 {
		t.Errorf("the button is %.0f px wide on a 390 px phone: not large", bw)
	}
	if bh := eval[float64](tb, `document.getElementById("act").getBoundingClientRect().height`); bh < 48 {
		t.Errorf("the button is %.0f px high: too small to tap", bh)
	}
	// Nobody is chosen until someone is: the form says so itself.
	tb.screenshot(shots, "action-confirm-phone", "zh")
	tb.do(chromedp.Click(chromedp.ID("who-1")), chromedp.Click(chromedp.ID("act")))
	afterSubmit(tb, `document.getElementById("heading").textContent.includes("已解决")`)
	fits("phone result")
	tb.screenshot(shots, "action-done-phone", "zh")
	if w := sn.Writes(); len(w) != 1 || w[0].Body["status"] != "resolved" || len(w[0].Body) != 1 {
		t.Fatalf("writes %+v", w)
	}

	// A desktop: the same page, centred, the device remembering 张三.
	tb.do(chromedp.EmulateViewport(1280, 800))
	tb.do(chromedp.Navigate(link(actlink.Take)), chromedp.WaitVisible(chromedp.ID("act")))
	fits("desktop")
	if !eval[bool](tb, `document.getElementById("who-1").checked`) {
		t.Error("the device does not remember who acted")
	}
	if eval[bool](tb, `!document.getElementById("who-2").disabled`) {
		t.Error("李四, without a Sentry user, can be chosen to take the issue")
	}
	if mw := eval[float64](tb, `document.querySelector("main").getBoundingClientRect().width`); mw > 700 {
		t.Errorf("the page is %.0f px wide on a desktop: a line should stay readable", mw)
	}
	tb.screenshot(shots, "action-confirm-desktop", "zh")
	tb.do(chromedp.Click(chromedp.ID("act")))
	afterSubmit(tb, `document.getElementById("heading").textContent.includes("已指派")`)
	if got := tb.text("issue-state"); !strings.Contains(got, "指派给 张三") {
		t.Errorf("state after taking %q", got)
	}
	if w := sn.Writes(); len(w) != 2 || w[1].Body["assignedTo"] != "user:42" {
		t.Fatalf("writes %+v", w)
	}
	// The group learns: two follow-ups, each saying who acted from the chat.
	msgs := ding.Messages()
	if len(msgs) != 2 || !strings.Contains(msgs[0].Text, "张三，在群里操作") || !strings.Contains(msgs[1].Text, "已指派") {
		t.Errorf("follow-ups %+v", msgs)
	}
	if page := eval[string](tb, `document.documentElement.outerHTML`); strings.Contains(page, token) {
		t.Error("the page shows the Sentry token")
	}
	if *updateShots {
		fmt.Fprintln(os.Stderr, "screenshots written to", shots)
	}
}

// afterSubmit waits until expr holds on the page a form's submission
// loads: the page being replaced meanwhile is no failure.
func afterSubmit(tb *tab, expr string) {
	tb.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](`document.readyState === "complete" && !document.getElementById("act-form") && (`+expr+`)`))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			tb.t.Fatalf("waiting for %s: %v", expr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
