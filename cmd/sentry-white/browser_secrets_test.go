package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sentry-white/sentry-white/internal/original/originaltest"
)

const (
	orgPassword     = "s3cret-pass-word"
	orgClientSecret = "c1c2c3c4c5c6c7c8c9d0d1d2d3d4d5d6"
	ossKeySecret    = "aK3yS3cretValue0123456789"
	relayAdminKey   = "admin-key-0123456789abcdef"
	dangerRed       = "rgb(180, 35, 24)" // --danger in app.css
)

// TestBrowserSecretsCannotBeGarbled: every secret input of every form
// opens empty (empty keeps the saved secret; its mask is the placeholder),
// 显示 fetches the real value, typing gives exactly what was typed, a
// mask pasted in is refused next to the field, 清除 clears, and no mask
// ever reaches the document or the settings file.
func TestBrowserSecretsCannotBeGarbled(t *testing.T) {
	cfgDir := t.TempDir()
	in := start(t, nil, map[string]string{"SENTRY_WHITE_CONFIG_DIR": cfgDir})
	in.api(t, "POST", "/api/v1/robots", map[string]any{"name": "研发告警群", "access_token": robotToken, "secret": robotSecret})
	in.api(t, "POST", "/api/v1/organizations", map[string]any{"name": "acme", "slug": "acme", "sentry_url": "https://sentry.io",
		"account": "viewer@acme.com", "password": orgPassword, "client_secret": orgClientSecret})
	in.api(t, "PUT", "/api/v1/settings", map[string]any{"store_kind": "folder", "folder": in.dir,
		"oss_access_key_secret": ossKeySecret, "relay_admin_key": relayAdminKey})

	tb := newTab(t, in)
	tb.open()
	inputs := []struct {
		page, open, input, show, real string
	}{
		{"robots", "robot-edit-1", "robot-access_token", "", robotToken},
		{"robots", "robot-edit-1", "robot-secret", "", robotSecret},
		{"organizations", "organization-edit-1", "organization-password", "", orgPassword},
		{"organizations", "organization-edit-1", "organization-client_secret", "", orgClientSecret},
		{"settings", "", "settings-oss_access_key_secret", "settings-store_kind-oss", ossKeySecret},
		{"settings", "", "settings-relay_admin_key", "settings-store_kind-relay", relayAdminKey},
	}
	for _, f := range inputs {
		tb.page(f.page)
		if f.open != "" {
			tb.do(chromedp.Click(chromedp.ID(f.open)))
		}
		if f.show != "" {
			tb.do(chromedp.Click(chromedp.ID(f.show)))
		}
		tb.do(chromedp.WaitVisible(chromedp.ID(f.input)))
		get := fmt.Sprintf(`document.getElementById(%q)`, f.input)
		if v := eval[string](tb, get+`.value`); v != "" {
			t.Errorf("%s opens holding %q, want it empty (empty keeps the saved secret)", f.input, v)
		}
		if p := eval[string](tb, get+`.placeholder`); !strings.Contains(p, "已保存") || strings.Contains(p, f.real) {
			t.Errorf("%s's placeholder reads %q, want the saved value's mask", f.input, p)
		}
		tb.do(chromedp.Click(chromedp.ID(f.input + "-show")))
		tb.waitFor(get + `.value === ` + fmt.Sprintf("%q", f.real))
		if ty := eval[string](tb, get+`.type`); ty != "text" {
			t.Errorf("%s shown is a %s input", f.input, ty)
		}
		if f.open != "" {
			tb.do(chromedp.Click(chromedp.ID(strings.Split(f.input, "-")[0] + "-cancel")))
		}
	}
	tb.do(chromedp.Click(chromedp.ID("settings-store_kind-folder")))

	// The case: typing into the secret field of the edit form.
	const typed = "SECfff0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab"
	tb.page("robots")
	tb.do(chromedp.Click(chromedp.ID("robot-edit-1")), chromedp.WaitVisible(chromedp.ID("robot-secret")))
	tb.do(chromedp.SendKeys(chromedp.ID("robot-secret"), typed))
	tb.save("robot")
	if r := in.stored(t).Robots[0]; r.Secret.Reveal() != typed || r.AccessToken.Reveal() != robotToken {
		t.Errorf("after typing a new secret the robot holds secret %q, token %q", r.Secret.Reveal(), r.AccessToken.Reveal())
	}

	// A mask pasted in is refused next to its field; nothing changes.
	pasted := []struct{ page, open, input, value string }{
		{"robots", "robot-edit-1", "robot-secret", "SECff…9abSECfff"},
		{"robots", "robot-edit-1", "robot-access_token", robotToken[:4] + "…" + robotToken[len(robotToken)-3:] + "x"},
		{"organizations", "organization-edit-1", "organization-password", "******1"},
		{"organizations", "organization-edit-1", "organization-client_secret", "c1c2…5d6"},
		{"settings", "", "settings-relay_admin_key", "admi…def"},
	}
	for _, p := range pasted {
		tb.page(p.page)
		kind := strings.Split(p.input, "-")[0]
		if p.open != "" {
			tb.do(chromedp.Click(chromedp.ID(p.open)), chromedp.WaitVisible(chromedp.ID(p.input)))
		}
		tb.fill(p.input, p.value)
		tb.do(chromedp.Click(chromedp.ID(kind + "-save")))
		tb.waitFor(fmt.Sprintf(`document.getElementById(%q).textContent !== ""`, p.input+"-error"))
		if e := tb.text(p.input + "-error"); !strings.Contains(e, "掩码") {
			t.Errorf("a mask in %s reads %q", p.input, e)
		}
		if p.open != "" {
			tb.do(chromedp.Click(chromedp.ID(kind + "-cancel")))
		} else {
			eval[bool](tb, fmt.Sprintf(`(document.getElementById(%q).value = "") === ""`, p.input))
		}
	}

	// The Sentry token of an organization (kept in the settings file) too.
	tb.page("organizations")
	tb.do(chromedp.Click(chromedp.ID("organization-sentry-1")))
	tb.waitFor(`!document.getElementById("sentryp-token").disabled && document.getElementById("sentryp-token-status").textContent !== ""`)
	tb.do(chromedp.SetValue(chromedp.ID("sentryp-token"), "sntr…abc"), chromedp.Click(chromedp.ID("sentryp-token-save")))
	tb.waitFor(`document.getElementById("sentryp-token-error").textContent !== ""`)
	if e := tb.text("sentryp-token-error"); !strings.Contains(e, "掩码") {
		t.Errorf("a mask as the Sentry token reads %q", e)
	}

	// Saving untouched forms keeps every secret; 清除 clears one.
	tb.page("organizations")
	tb.do(chromedp.Click(chromedp.ID("organization-edit-1")), chromedp.WaitVisible(chromedp.ID("organization-account")))
	tb.fill("organization-account", "ops@acme.com")
	tb.save("organization")
	tb.page("settings")
	tb.do(chromedp.Click(chromedp.ID("settings-save")))
	tb.waitFor(`document.querySelector("#settings-result .msg.ok") !== null`)
	tb.page("robots")
	tb.do(chromedp.Click(chromedp.ID("robot-edit-1")), chromedp.WaitVisible(chromedp.ID("robot-secret")))
	tb.do(chromedp.Click(chromedp.ID("robot-secret-clear")))
	if !eval[bool](tb, `document.getElementById("robot-secret").disabled`) {
		t.Error("清除 leaves the secret input editable")
	}
	tb.save("robot")

	d := in.stored(t)
	if o := d.Organizations[0]; o.Account != "ops@acme.com" || o.Password.Reveal() != orgPassword || o.ClientSecret.Reveal() != orgClientSecret {
		t.Errorf("the organization after its edit: %q %q %q", o.Account, o.Password.Reveal(), o.ClientSecret.Reveal())
	}
	if r := d.Robots[0]; r.Secret != "" || r.AccessToken.Reveal() != robotToken {
		t.Errorf("after 清除 the robot holds secret %q, token %q", r.Secret.Reveal(), r.AccessToken.Reveal())
	}
	for _, f := range []string{filepath.Join(in.dir, "api", "v1", "config.json"), filepath.Join(cfgDir, "settings.json")} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "…") || strings.Contains(string(b), "******") {
			t.Errorf("%s holds a mask: %s", filepath.Base(f), b)
		}
		for _, s := range []string{ossKeySecret, relayAdminKey} {
			if filepath.Base(f) == "settings.json" && !strings.Contains(string(b), s) {
				t.Errorf("the settings file lost a secret: %s", b)
			}
		}
	}
}

// TestBrowserRiskyImportAndRestore: an import that clears a robot's
// signing secret and takes a robot off a project shows both in red, each
// with its value before → after (masked), and needs the box ticked and a
// second confirmation; restoring a version that does the same asks twice,
// the second time with the changes in red.
func TestBrowserRiskyImportAndRestore(t *testing.T) {
	in := start(t, nil, nil)
	in.api(t, "POST", "/api/v1/robots", map[string]any{"name": "研发告警群", "access_token": robotToken, "secret": robotSecret})
	in.api(t, "POST", "/api/v1/robots", map[string]any{"name": "运维群", "access_token": "0a1b2c3d4e5f67890a1b2c3d4e5f6789"})
	in.api(t, "POST", "/api/v1/projects", map[string]any{"name": "商城后台", "slug": "mall-api", "robot_ids": []int{1, 2}})
	in.api(t, "POST", "/api/v1/projects", map[string]any{"name": "CRM", "slug": "crm", "robot_ids": []int{1}})

	d := in.stored(t)
	d.Robots[0].Secret = ""
	d.Projects[0].RobotIDs = []int64{2}
	d.Projects = d.Projects[:1]

	tb := newTab(t, in)
	tb.open()
	tb.page("import")
	tb.uploadDoc(d)
	tb.waitFor(`document.getElementById("import-diff-title") !== null`)
	if eval[bool](tb, `document.getElementById("import-danger").hidden`) {
		t.Fatalf("clearing a secret and taking a robot off a project is not flagged: %s", tb.text("import-result"))
	}
	list := tb.text("import-danger-list")
	mask := robotSecret[:5] + "…" + robotSecret[len(robotSecret)-3:]
	for _, want := range []string{"机器人 #1 研发告警群", "加签", mask + " → （空）", "项目 #1 商城后台", "研发告警群, 运维群 → 运维群"} {
		if !strings.Contains(list, want) {
			t.Errorf("the risky changes lack %q: %s", want, list)
		}
	}
	if c := eval[string](tb, `getComputedStyle(document.querySelector("#import-danger-list li")).color`); c != dangerRed {
		t.Errorf("the risky changes are shown in %s, want red (%s)", c, dangerRed)
	}
	if strings.Contains(tb.text("page-import"), robotSecret) {
		t.Error("the import page shows the secret")
	}
	if n := eval[int](tb, `document.querySelectorAll("#import-result ul.diff li.danger").length`); n != 2 {
		t.Errorf("%d changes of the diff are marked risky, want 2 (the robot, the project)", n)
	}
	if !eval[bool](tb, `document.getElementById("import-confirm").disabled`) {
		t.Error("a risky import can be confirmed without ticking the box")
	}
	tb.do(chromedp.Click(chromedp.ID("import-danger-ack")))
	tb.ask("import-confirm")
	if n := eval[int](tb, `document.querySelectorAll("#confirm-dangers li").length`); n != 2 {
		t.Errorf("the second confirmation lists %d risky changes, want 2: %s", n, tb.text("confirm-dialog"))
	}
	tb.cancel()
	if in.stored(t).Robots[0].Secret.Reveal() != robotSecret {
		t.Fatal("cancelling the second confirmation imported")
	}
	tb.ask("import-confirm")
	tb.do(chromedp.Click(chromedp.ID("confirm-ok")))
	tb.waitFor(`document.querySelector("#import-result .msg.ok") !== null`)
	if d := in.stored(t); d.Robots[0].Secret != "" || len(d.Projects) != 1 {
		t.Fatalf("after the import: secret %q, %d projects", d.Robots[0].Secret.Reveal(), len(d.Projects))
	}

	// Restoring the version before the import gives the secret back: one
	// confirmation.
	tb.page("history")
	tb.do(chromedp.WaitVisible(chromedp.ID("history-row-0")), chromedp.Click(chromedp.ID("history-diff-0")))
	tb.ask("history-restore-0")
	tb.do(chromedp.Click(chromedp.ID("confirm-ok")))
	tb.waitFor(`document.querySelector("#history-result .msg.ok") !== null`)
	if in.stored(t).Robots[0].Secret.Reveal() != robotSecret {
		t.Fatal("the restore did not give the secret back")
	}
	// Restoring the import again clears it: a second confirmation, in red.
	tb.waitFor(`(document.getElementById("history-save-0") || {textContent: ""}).textContent.includes("恢复历史版本")`)
	tb.do(chromedp.Click(chromedp.ID("history-diff-0")))
	tb.ask("history-restore-0")
	tb.do(chromedp.Click(chromedp.ID("confirm-ok")))
	tb.waitFor(`document.getElementById("confirm-dialog").open && document.querySelectorAll("#confirm-dangers li").length > 0`)
	if txt := tb.text("confirm-dangers"); !strings.Contains(txt, mask+" → （空）") {
		t.Errorf("the second confirmation of the restore reads %q", txt)
	}
	if c := eval[string](tb, `getComputedStyle(document.querySelector("#confirm-dangers li")).color`); c != dangerRed {
		t.Errorf("the risky changes of the restore are shown in %s, want red (%s)", c, dangerRed)
	}
	tb.cancel()
	if in.stored(t).Robots[0].Secret.Reveal() != robotSecret {
		t.Fatal("cancelling the second confirmation restored")
	}
}

// TestBrowserRiskyMoveIn: moving in from the original over a configuration
// whose robot signs clears the secret (the original's robots have none):
// the preview shows it in red, and the import asks a second time.
func TestBrowserRiskyMoveIn(t *testing.T) {
	dir := originaltest.Folder(t)
	in := start(t, []string{"-no-browser", "-addr", "127.0.0.1:0", "-store", "file:" + dir}, nil)
	in.dir = dir
	pre := in.api(t, "GET", "/api/v1/original", nil)
	in.api(t, "POST", "/api/v1/original/import", map[string]any{"digest": pre["digest"]})
	id := in.stored(t).Robots[0].ID
	in.api(t, "PATCH", fmt.Sprintf("/api/v1/robots/%d", id), map[string]any{"secret": robotSecret})

	tb := newTab(t, in)
	tb.open()
	tb.page("import")
	tb.waitFor(`document.getElementById("original-diff-title") !== null`)
	mask := robotSecret[:5] + "…" + robotSecret[len(robotSecret)-3:]
	if txt := tb.text("original-dangers"); !strings.Contains(txt, mask+" → （空）") {
		t.Fatalf("the preview's risky changes read %q", txt)
	}
	tb.ask("original-confirm")
	if txt := tb.text("confirm-dangers"); !strings.Contains(txt, mask+" → （空）") {
		t.Errorf("the second confirmation reads %q", txt)
	}
	tb.cancel()
	if in.stored(t).Robots[0].Secret.Reveal() != robotSecret {
		t.Fatal("cancelling the second confirmation moved in")
	}
	tb.ask("original-confirm")
	tb.do(chromedp.Click(chromedp.ID("confirm-ok")))
	tb.waitFor(`document.querySelector("#original-result .msg.ok") !== null`)
	if s := in.stored(t).Robots[0].Secret; s != "" {
		t.Errorf("after moving in the robot's secret is %q", s.Reveal())
	}
}

// ask clicks a button that asks first, and waits for the question.
func (tb *tab) ask(id string) {
	tb.t.Helper()
	tb.do(chromedp.Click(chromedp.ID(id)))
	tb.waitFor(`document.getElementById("confirm-dialog").open`)
}

// cancel answers the open question with 取消 and waits until it closes.
func (tb *tab) cancel() {
	tb.t.Helper()
	tb.do(chromedp.Click(chromedp.ID("confirm-cancel")))
	tb.waitFor(`!document.getElementById("confirm-dialog").open`)
}
