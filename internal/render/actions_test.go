package render

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/actlink"
	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notifiers"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/notify/dingtalk"
	"github.com/sentry-white/sentry-white/internal/notify/feishu"
	"github.com/sentry-white/sentry-white/internal/notify/wecom"
	"github.com/sentry-white/sentry-white/internal/route"
	"github.com/sentry-white/sentry-white/internal/sentry"
)

var update = flag.Bool("update", false, "rewrite golden files")

// actionsDoc is testdata/config/full.json with action links on: a relay
// URL, the organization's token and an owner's Sentry user.
func actionsDoc(t *testing.T) *config.Document {
	t.Helper()
	b, err := os.ReadFile("../../testdata/config/full.json")
	if err != nil {
		t.Fatal(err)
	}
	d, err := config.Parse(b, notifiers.Default().Document())
	if err != nil {
		t.Fatal(err)
	}
	d.RelayURL = "https://alerts.example.com"
	d.Organizations[0].APIToken = "sntrys_example_token"
	d.ActionKey = "k7Qm2vXw9pLr4tYz8nB3cD6fG1hJ5sA0eU-iO_yT2wE"
	d.Owners[0].SentryUser = "zhangsan@example.com"
	return d
}

func sentryEvent(t *testing.T, file, resource string) *sentry.Event {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../../testdata/sentry", file))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	if resource != "" {
		h.Set("Sentry-Hook-Resource", resource)
	}
	ev, err := sentry.Parse(b, h)
	if err != nil {
		t.Fatal(err)
	}
	ev.OrgSlug = "acme"
	return ev
}

// actionsAt is the time the goldens are rendered at.
var actionsAt = time.Date(2025, 11, 25, 6, 21, 51, 0, time.UTC)

func renderedWithActions(t *testing.T, d *config.Document, file, resource, robotKind string) *notify.Message {
	t.Helper()
	x := config.NewIndex(d)
	ev := sentryEvent(t, file, resource)
	pl, err := route.Match(x, ev, x.ProjectsBySlug("mall-api")[:1])
	if err != nil || len(pl.Targets) == 0 {
		t.Fatalf("route: %v %+v", err, pl)
	}
	tg := pl.Targets[0]
	r := *tg.Robot
	r.Kind = robotKind
	m := Message(tg, ev, Options{})
	Actions(m, d, tg, ev, actionsAt)
	return Address(m, &r, Mentions(tg.Owners))
}

// TestActionLinks: an issue's alert carries resolve, ignore and take links
// that verify with the organization's key, name the project and issue, and
// expire in a week; take only when an owner has a Sentry user; nothing
// without relay_url or api_token, and nothing on follow-ups and metric
// alerts.
func TestActionLinks(t *testing.T) {
	d := actionsDoc(t)
	m := renderedWithActions(t, d, "legacy_saas.json", "", "dingtalk")
	if len(m.Actions) != 3 {
		t.Fatalf("actions %+v", m.Actions)
	}
	key := actlink.Key(d, &d.Organizations[0])
	for i, want := range []string{"解决", "忽略 1 小时", "我来处理"} {
		a := m.Actions[i]
		if a.Label != want || !strings.HasPrefix(a.URL, "https://alerts.example.com/act/") || strings.Contains(a.URL, "sntrys") {
			t.Errorf("action %d = %+v", i, a)
		}
		l, sig, err := actlink.Parse(strings.TrimPrefix(a.URL, "https://alerts.example.com"))
		if err != nil || l.Check(sig, key, actionsAt) != nil || l.Org != 1 || l.Project != 1 || l.Issue != "4567890123" ||
			l.Action != actlink.Actions[i] || !l.Expires.Equal(actionsAt.Add(actlink.Lifetime)) {
			t.Errorf("action %d link %+v: %v", i, l, err)
		}
	}
	en := Message(route.Target{Project: &d.Projects[0], Org: &d.Organizations[0], Robot: &d.Robots[0]}, &sentry.Event{IssueID: "42", Title: "x"}, Options{Lang: "en"})
	Actions(en, d, route.Target{Project: &d.Projects[0], Org: &d.Organizations[0], Robot: &d.Robots[0]}, &sentry.Event{IssueID: "42"}, actionsAt)
	if len(en.Actions) != 2 || en.Actions[0].Label != "Resolve" || en.Actions[1].Label != "Ignore for an hour" {
		t.Errorf("English, no owner with a Sentry user: %+v", en.Actions)
	}

	for name, change := range map[string]func(d *config.Document){
		"no relay_url": func(d *config.Document) { d.RelayURL = "" },
		"no api_token": func(d *config.Document) { d.Organizations[0].APIToken = "" },
	} {
		d := actionsDoc(t)
		change(d)
		if m := renderedWithActions(t, d, "legacy_saas.json", "", "dingtalk"); len(m.Actions) != 0 {
			t.Errorf("%s: actions %+v", name, m.Actions)
		}
	}
	for _, c := range [][2]string{{"issue_resolved.json", "issue"}, {"issue_assigned.json", "issue"}, {"metric_alert_critical.json", "metric_alert"}} {
		if m := renderedWithActions(t, d, c[0], c[1], "dingtalk"); len(m.Actions) != 0 {
			t.Errorf("%s: actions %+v", c[0], m.Actions)
		}
	}
}

// TestActionLinksGolden: what each kind sends for an alert with its links
// (testdata/actions_<kind>.golden, go test -update): docs/message.md shows
// them. The mentions stay: DingTalk's @mobile with atMobiles, WeCom's
// <@userid>, Feishu's <at id>.
func TestActionLinksGolden(t *testing.T) {
	d := actionsDoc(t)
	for _, kind := range []string{"dingtalk", "wecom", "feishu"} {
		m := renderedWithActions(t, d, "legacy_saas.json", "", kind)
		var got string
		switch kind {
		case "dingtalk":
			body, err := dingtalk.Body(m)
			if err != nil {
				t.Fatal(err)
			}
			var b struct {
				Markdown struct{ Title, Text string }
				At       struct {
					AtMobiles []string `json:"atMobiles"`
				}
			}
			if err := json.Unmarshal(body, &b); err != nil {
				t.Fatal(err)
			}
			got = "title: " + b.Markdown.Title + "\n\n" + b.Markdown.Text + "\n\natMobiles: " + strings.Join(b.At.AtMobiles, ",") + "\n"
			if !strings.Contains(b.Markdown.Text, "@13800138000") || !strings.Contains(b.Markdown.Text, "[解决](https://alerts.example.com/act/") {
				t.Errorf("DingTalk text:\n%s", b.Markdown.Text)
			}
		case "wecom":
			body, err := wecom.MarkdownBody(m)
			if err != nil {
				t.Fatal(err)
			}
			var b struct{ Markdown struct{ Content string } }
			if err := json.Unmarshal(body, &b); err != nil {
				t.Fatal(err)
			}
			got = b.Markdown.Content + "\n"
			if len(body) > wecom.MaxMarkdown+64 || !strings.Contains(got, "<@lisi>") || !strings.Contains(got, "[我来处理](https://alerts.example.com/act/") {
				t.Errorf("WeCom markdown:\n%s", got)
			}
		case "feishu":
			body, err := feishu.Body(m, "", 0)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := json.Indent(&out, body, "", "  "); err != nil {
				t.Fatal(err)
			}
			got = out.String() + "\n"
			if !strings.Contains(got, "<at id=ou_7d8a6e6df7621556ce0d21922b676706ccs></at>") || !strings.Contains(got, `"layout": "trisection"`) {
				t.Errorf("Feishu card:\n%s", got)
			}
		}
		golden := filepath.Join("testdata", "actions_"+kind+".golden")
		if *update {
			if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -update)", err)
		}
		if got != string(want) {
			t.Errorf("%s message differs from %s:\n%s", kind, golden, got)
		}
	}
}
