package main

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sentry-white/sentry-white/internal/adminapi"
	"github.com/sentry-white/sentry-white/internal/store"
)

// TestBrowserSettingsRelay: on the settings page a person chooses "through
// the relay", enters the relay URL and the admin key, tests the connection
// (a wrong key is explained, the right one connects) and saves; the
// configurator then edits the relay's store, and the key shows masked.
func TestBrowserSettingsRelay(t *testing.T) {
	const key = "browserRelayAdminKey-0123456789"
	dir := t.TempDir()
	admin, err := adminapi.New(adminapi.Options{Backend: store.NewFile(dir), Prefix: "api/", Key: key})
	if err != nil {
		t.Fatal(err)
	}
	relay := httptest.NewServer(admin)
	t.Cleanup(relay.Close)

	in := start(t, nil, nil)
	tb := newTab(t, in)
	tb.open()
	tb.page("settings")
	tb.do(chromedp.Click(chromedp.ID("settings-store_kind-relay")), chromedp.WaitVisible(chromedp.ID("settings-relay_admin_key")))
	if eval[bool](tb, `!document.getElementById("settings-oss-fields").hidden || !document.getElementById("settings-folder-fields").hidden`) {
		t.Error("the OSS or folder fields show with the relay chosen")
	}
	if h := tb.text("settings-relay-hint"); !strings.Contains(h, "SENTRY_WHITE_ADMIN_KEY") {
		t.Errorf("the relay hint reads %q", h)
	}
	tb.fill("settings-relay_url", relay.URL, "settings-relay_admin_key", "notTheRelaysKey-0123456789")
	tb.do(chromedp.Click(chromedp.ID("settings-test")))
	tb.waitFor(`document.querySelector("#settings-result .msg.fail") !== null`)
	if r := tb.text("settings-result"); !strings.Contains(r, "中继拒绝了管理密钥") || strings.Contains(r, "notTheRelaysKey") {
		t.Errorf("a wrong key reads %q", r)
	}
	tb.fill("settings-relay_admin_key", key)
	tb.do(chromedp.Click(chromedp.ID("settings-test")))
	tb.waitFor(`document.querySelector("#settings-result .msg.ok") !== null`)
	if r := tb.text("settings-result"); !strings.Contains(r, "已通过中继连接到 file:") || !strings.Contains(r, "还没有配置文件") {
		t.Errorf("the connection test reads %q", r)
	}
	tb.do(chromedp.Click(chromedp.ID("settings-save")))
	tb.waitFor(`document.getElementById("settings-active").textContent.includes("relay+")`)
	if v, p := eval[string](tb, `document.getElementById("settings-relay_admin_key").value`), eval[string](tb, `document.getElementById("settings-relay_admin_key").placeholder`); v != "" || !strings.Contains(p, "******") {
		t.Errorf("after saving the key field holds %q, placeholder %q; want it empty, the saved key masked as its placeholder", v, p)
	}
	in.api(t, "POST", "/api/v1/owners", map[string]any{"name": "张三", "mobile": "13800138000"})
	if b, err := os.ReadFile(filepath.Join(dir, "api", "v1", "config.json")); err != nil || !strings.Contains(string(b), "13800138000") {
		t.Errorf("the relay's store holds %q (%v)", b, err)
	}
}
