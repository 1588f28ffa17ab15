package render

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/notify/dingtalk"
	"github.com/sentry-white/sentry-white/internal/route"
	"github.com/sentry-white/sentry-white/internal/sentry"
)

func TestLink(t *testing.T) {
	saas := &config.Organization{SentryURL: "https://sentry.io", Slug: "acme"}
	self := &config.Organization{SentryURL: "https://sentry.example.org/", Slug: "acme"}
	for _, tc := range []struct {
		ev   sentry.Event
		org  *config.Organization
		want string
	}{
		{sentry.Event{URL: "https://acme.sentry.io/issues/1/"}, saas, "https://acme.sentry.io/issues/1/"},
		{sentry.Event{IssueID: "42"}, saas, "https://acme.sentry.io/issues/42/"},
		{sentry.Event{IssueID: "42"}, self, "https://sentry.example.org/organizations/acme/issues/42/"},
		{sentry.Event{IssueID: "42"}, nil, ""},
		{sentry.Event{URL: "javascript:alert(1)", IssueID: "7"}, saas, "https://acme.sentry.io/issues/7/"},
		{sentry.Event{}, self, "https://sentry.example.org/organizations/acme/issues/"},
	} {
		if got := Link(&tc.ev, tc.org); got != tc.want {
			t.Errorf("Link(%+v) = %q, want %q", tc.ev, got, tc.want)
		}
	}
}

func TestMessage(t *testing.T) {
	org := &config.Organization{ID: 1, SentryURL: "https://sentry.io", Slug: "acme", Account: "a@b.c", Password: "pw"}
	owners := []*config.Owner{{ID: 1, Name: "张三", Mobile: "13800138000"}}
	tg := route.Target{
		Project: &config.Project{Name: "商城", Slug: "mall-api"}, Org: org,
		Robot: &config.Robot{Name: "r", Kind: "dingtalk", Keyword: "告警"}, Owners: owners, AllOwners: owners,
	}
	ev := &sentry.Event{Title: "Boom\nsecond line", Level: "error", State: sentry.StateRegressed, IssueID: "9",
		Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Count: 3}
	m := Message(tg, ev, Options{})
	if !strings.Contains(m.Title, "告警") || !strings.Contains(m.Title, "回归") || m.Heading != "Boom second line" {
		t.Errorf("title %q heading %q", m.Title, m.Heading)
	}
	fields := map[string]string{}
	for _, f := range m.Fields {
		fields[f.Label] = f.Value
	}
	if fields["时间"] != "2026-01-02 11:04:05" || fields["事件数"] != "3" || fields["负责人"] != "张三" {
		t.Errorf("fields %v", fields)
	}
	if m.Note != "Sentry 共享账号: a@b.c / pw" || len(m.Mentions) != 1 || m.Link != "https://acme.sentry.io/issues/9/" {
		t.Errorf("note %q mentions %v link %q", m.Note, m.Mentions, m.Link)
	}
	en := Message(tg, ev, Options{Lang: "en", Zone: time.UTC})
	if !strings.Contains(en.Title, "regressed") || en.Fields[0].Label != "Project" {
		t.Errorf("english: %q %v", en.Title, en.Fields[0])
	}
	long := &sentry.Event{Title: strings.Repeat("长", 1000)}
	if n := len([]rune(Message(tg, long, Options{}).Heading)); n != maxTitle {
		t.Errorf("heading clipped to %d runes, want %d", n, maxTitle)
	}
}

func TestSafeLink(t *testing.T) {
	long := "https://acme.sentry.io/issues/1/?q=" + strings.Repeat("x", 30000)
	for _, tc := range []struct{ in, want string }{
		{"https://acme.sentry.io/issues/1/?referrer=webhooks_plugin", "https://acme.sentry.io/issues/1/?referrer=webhooks_plugin"},
		{"  HTTP://47.236.137.231:9000/organizations/sentry/issues/18/ ", "HTTP://47.236.137.231:9000/organizations/sentry/issues/18/"},
		{"https://x.example/a b\tc", "https://x.example/a%20b%09c"},
		{"https://x.example/\n\n#### Heading [a](https://evil) @13900000000", "https://x.example/%0A%0A#%23%23%23%20Heading%20%5Ba%5D%28https://evil%29%20@13900000000"},
		{"https://x.example/<b>\"`\\{|}^", "https://x.example/%3Cb%3E%22%60%5C%7B%7C%7D%5E"},
		{"https://x.example/%zz%41", "https://x.example/%25zz%41"},
		{"https://x.example/\x00\x1b\u2028\u202e", "https://x.example/%00%1B%E2%80%A8%E2%80%AE"},
		{"https://x.example/问题", "https://x.example/%E9%97%AE%E9%A2%98"},
		{"javascript:alert(1)", ""},
		{"ftp://x.example/", ""},
		{"data:text/html,x", ""},
		{"//x.example/", ""},
		{"https:///path", ""},
		{"https://ex ample.com/", ""},
		{"https://[x](y)/", ""},
		{"", ""},
		{long, "https://acme.sentry.io/issues/1/"},
		{"https://acme.sentry.io/" + strings.Repeat("p", 30000), ""},
	} {
		if got := SafeLink(tc.in); got != tc.want {
			t.Errorf("SafeLink(%.80q) = %.120q, want %.120q", tc.in, got, tc.want)
		}
	}
}

func TestTextFoldsAndRemovesInvisible(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain title", "plain title"},
		{"  Boom\r\n\tsecond\u2028third\u2029fourth\u0085fifth  ", "Boom second third fourth fifth"},
		{"a\x00b\x1b[31mc\x7fd\u0080e", "ab[31mcde"},
		{"pay\u202eload\u2066x\u2069\u200f\u200e\u061c", "payloadx"},
		{"zero\u200bwidth\u2060join\ufeffbom\u00adsoft\u200cnj", "zerowidthjoinbomsoftnj"},
		{"价格为空 🔥 ✨ Ünïcödé", "价格为空 🔥 ✨ Ünïcödé"},
		{"bad \xff utf8", "bad utf8"},
	} {
		if got := Text(tc.in, 100); got != tc.want {
			t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := Text(strings.Repeat("长", 1000), 10); got != strings.Repeat("长", 9)+"…" {
		t.Errorf("clip: %q", got)
	}
}

var unescapedLink = regexp.MustCompile(`(^|[^\\])\]\(`)

// No Sentry-supplied field can start a heading, a link, an image or an @
// line of the DingTalk markdown the dingtalk package renders.
func TestNoFieldBreaksOutOfItsLine(t *testing.T) {
	evil := "x\n\n#### Heading\r\n[link](https://evil.example)\n![img](https://evil.example/i.png)\n\n@13900000000\u2028# h2\u2029@all\x00\x1b[2J"
	ev := &sentry.Event{
		Resource: sentry.ResourceLegacy, State: sentry.StateTriggered,
		Title: evil, Culprit: evil, Level: evil, Environment: evil, Release: evil, Message: evil + " message",
		User: evil, Request: evil, Assignee: evil, Actor: evil, Resolution: evil, Rules: []string{evil},
		URL:  "https://acme.sentry.io/issues/1/\n\n#### H [x](https://evil.example) @13900000000\n![i](https://evil.example/i.png)",
		Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), ProjectName: evil, IssueID: "1\n#### id",
	}
	owners := []*config.Owner{{ID: 1, Name: "张三", Mobile: "13800138000"}}
	tg := route.Target{
		Project: &config.Project{Name: "商城\n#### p", Slug: "mall-api"}, Org: &config.Organization{SentryURL: "https://sentry.io", Slug: "acme"},
		Robot: &config.Robot{Name: "r", Kind: "dingtalk", Keyword: "详情"}, Owners: owners, AllOwners: owners,
	}
	for _, state := range []string{sentry.StateTriggered, sentry.StateAssigned, sentry.StateError} {
		ev.State = state
		for _, lang := range []string{"zh", "en"} {
			m := Message(tg, ev, Options{Lang: lang})
			head, tail := dingtalk.Text(m, "@13800138000")
			text := head + tail
			if strings.ContainsAny(text+m.Title, "\x00\x1b\u2028\u2029\u202e") {
				t.Errorf("%s/%s: control characters reach the message: %q", state, lang, text)
			}
			if strings.ContainsAny(m.Title, "\r\n") {
				t.Errorf("title spans lines: %q", m.Title)
			}
			lines := strings.Split(text, "\n")
			links := 0
			for i, l := range lines {
				switch {
				case l == "":
				case i == 0 && strings.HasPrefix(l, "#### "):
				case strings.HasPrefix(l, "**"), strings.HasPrefix(l, "> "):
				case strings.HasPrefix(l, "[查看详情](") || strings.HasPrefix(l, "[Open in Sentry (详情)]("):
				case l == "@13800138000":
				default:
					t.Errorf("%s/%s: line %d starts outside a field: %q", state, lang, i, l)
				}
				links += len(unescapedLink.FindAllString(l, -1))
				if strings.Contains(l, "![") {
					t.Errorf("%s/%s: an image: %q", state, lang, l)
				}
				if i > 0 && strings.HasPrefix(l, "#") {
					t.Errorf("%s/%s: a heading: %q", state, lang, l)
				}
			}
			if links != 2 { // the heading's link and 查看详情
				t.Errorf("%s/%s: %d links, want 2:\n%s", state, lang, links, text)
			}
			if !strings.HasPrefix(m.Link, "https://acme.sentry.io/issues/1/%0A%0A#%23%23%23") {
				t.Errorf("link %q", m.Link)
			}
		}
	}
}

// Each resource and action has its own status line, in both languages;
// error.created never says new issue.
func TestStatusWords(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tg := route.Target{Project: &config.Project{Name: "商城", Slug: "mall-api"}, Robot: &config.Robot{Name: "r", Kind: "dingtalk"}}
	for _, tc := range []struct {
		ev       sentry.Event
		zh, en   string
		zhTitle  string
		notTitle string
	}{
		{sentry.Event{Resource: sentry.ResourceError, State: sentry.StateError, Time: t0}, "错误事件", "error event", "[错误事件]", "新问题"},
		{sentry.Event{Resource: sentry.ResourceError, State: sentry.StateError, Time: t0, FirstSeen: t0.Add(-time.Hour), LastSeen: t0},
			"错误事件（已知问题）", "error event (known issue)", "[错误事件]", "新问题"},
		{sentry.Event{Resource: sentry.ResourceError, State: sentry.StateError, Time: t0, FirstSeen: t0},
			"错误事件（该问题的首个事件）", "error event (first event of its issue)", "[错误事件]", "新问题"},
		{sentry.Event{Resource: sentry.ResourceIssue, State: sentry.StateNew}, "新问题", "new issue", "[新问题]", ""},
		{sentry.Event{Resource: sentry.ResourceIssue, State: sentry.StateResolved, Actor: "李四"}, "已解决 (李四)", "resolved (李四)", "[已解决]", ""},
		{sentry.Event{Resource: sentry.ResourceIssue, State: sentry.StateAssigned, Assignee: "王五"}, "已指派 → 王五", "assigned → 王五", "[已指派]", ""},
		{sentry.Event{Resource: sentry.ResourceIssue, State: sentry.StateIgnored}, "已忽略", "ignored", "[已忽略]", ""},
		{sentry.Event{Resource: sentry.ResourceIssue, State: sentry.StateArchived}, "已归档", "archived", "[已归档]", ""},
		{sentry.Event{Resource: sentry.ResourceIssue, State: sentry.StateUnresolved}, "重新打开", "unresolved", "[重新打开]", ""},
		{sentry.Event{Resource: sentry.ResourceIssue, State: sentry.StateRegressed}, "回归", "regressed", "[回归]", ""},
		{sentry.Event{Resource: sentry.ResourceMetricAlert, State: sentry.StateCritical}, "指标告警：严重", "metric alert: critical", "[严重]", ""},
		{sentry.Event{Resource: sentry.ResourceMetricAlert, State: sentry.StateWarning}, "指标告警：警告", "metric alert: warning", "[警告]", ""},
		{sentry.Event{Resource: sentry.ResourceMetricAlert, State: sentry.StateResolved}, "指标告警：已恢复", "metric alert: resolved", "[已恢复]", ""},
		{sentry.Event{Resource: sentry.ResourceEventAlert, State: sentry.StateTriggered, Rules: []string{"生产错误"}},
			"告警触发：生产错误", "alert triggered: 生产错误", "", "["},
		{sentry.Event{Resource: sentry.ResourceLegacy, State: sentry.StateTriggered}, "告警触发", "alert triggered", "", "["},
	} {
		ev := tc.ev
		ev.Title = "T"
		zhm, enm := Message(tg, &ev, Options{}), Message(tg, &ev, Options{Lang: "en"})
		if got := field(zhm, "状态"); got != tc.zh {
			t.Errorf("%s/%s zh: %q, want %q", ev.Resource, ev.State, got, tc.zh)
		}
		if got := field(enm, "State"); got != tc.en {
			t.Errorf("%s/%s en: %q, want %q", ev.Resource, ev.State, got, tc.en)
		}
		if !strings.Contains(zhm.Title, tc.zhTitle) || tc.notTitle != "" && strings.Contains(zhm.Title, tc.notTitle) {
			t.Errorf("%s/%s title %q", ev.Resource, ev.State, zhm.Title)
		}
		if len(ev.Rules) > 0 && field(zhm, "告警规则") != "" {
			t.Errorf("the rule is named twice")
		}
	}
}

func field(m *notify.Message, label string) string {
	for _, f := range m.Fields {
		if f.Label == label {
			return f.Value
		}
	}
	return ""
}

// TestFactsRenderAsTheEvent: an alert rendered from Facts(ev) is the one
// rendered from ev, for every Sentry body in testdata and for an event
// whose every value is huge; the huge one's facts are small.
func TestFactsRenderAsTheEvent(t *testing.T) {
	owners := []*config.Owner{{ID: 1, Name: "张三", Mobile: "13800138000"}}
	tg := route.Target{
		Project: &config.Project{Name: "商城", Slug: "mall-api"}, Org: &config.Organization{SentryURL: "https://sentry.io", Slug: "acme", Account: "a@b.c"},
		Robot: &config.Robot{Name: "r", Kind: "dingtalk", Keyword: "详情"}, Owners: owners, AllOwners: owners,
	}
	var events []*sentry.Event
	for _, dir := range []string{"../../testdata/sentry", "../../testdata/sentry/real"} {
		names, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, name := range names {
			b, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range []string{"", "issue", "event_alert", "metric_alert", "error", "activity_alert"} {
				hdr := http.Header{}
				if r != "" {
					hdr.Set("Sentry-Hook-Resource", r)
				}
				if ev, err := sentry.Parse(b, hdr); err == nil && ev.Ignored == "" {
					events = append(events, ev)
				}
			}
		}
	}
	if len(events) < 20 {
		t.Fatalf("only %d events parsed from testdata", len(events))
	}
	huge := strings.Repeat("长 \u200b", 100000)
	big := &sentry.Event{Resource: sentry.ResourceIssue, State: sentry.StateTriggered, Title: huge, Culprit: huge, Level: huge,
		Environment: huge, Release: huge, Message: huge, User: huge, Request: huge, Assignee: huge, Actor: huge, Resolution: huge,
		ProjectName: huge, OrgSlug: huge, IssueID: huge, URL: "https://acme.sentry.io/issues/1/?q=" + huge,
		Rules: []string{huge, huge}, Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		RuleNotes: huge, IssueState: huge, Activity: huge, ShortID: huge, RuleRobot: huge, RuleMention: huge}
	events = append(events, big)
	for i, ev := range events {
		for _, lang := range []string{"zh", "en"} {
			want, got := Message(tg, ev, Options{Lang: lang}), Message(tg, Facts(ev), Options{Lang: lang})
			if !reflect.DeepEqual(want, got) {
				t.Errorf("event %d (%s %s), %s: rendered from its facts\n%+v\nwant\n%+v", i, ev.Resource, ev.State, lang, got, want)
			}
		}
	}
	if b, _ := json.Marshal(Facts(big)); len(b) > 32<<10 {
		t.Errorf("the facts of a huge event take %d bytes", len(b))
	}
}

// TestSentryFactsAsSlackShowsThem: once Sentry's state of the issue is
// known (its facts read from Sentry, or an activity alert's issue), the
// message shows it, the assignee and short id, and the counts the way
// Sentry's own Slack alert does — not for a new issue nor its first
// event; an alert rule's notes follow the status line.
func TestSentryFactsAsSlackShowsThem(t *testing.T) {
	tg := route.Target{Project: &config.Project{Name: "商城", Slug: "mall-api"}, Robot: &config.Robot{Name: "r", Kind: "dingtalk"}}
	lines := func(m *notify.Message) map[string]string {
		out := map[string]string{}
		for _, f := range m.Fields {
			out[f.Label] = f.Value
		}
		return out
	}
	for _, tc := range []struct {
		state             string
		count             int64
		events, wantState string
	}{
		{"new", 7, "", "New"}, {"ongoing", 1, "", "Ongoing"}, {"escalating", 120, "120", "Escalating"}, {"regressed", 2, "2", "Regressed"},
		{"", 1, "1", ""}, // facts of an issue webhook, state unknown: as before
	} {
		ev := &sentry.Event{Resource: sentry.ResourceEventAlert, State: sentry.StateTriggered, Title: "t", Level: "error",
			IssueState: tc.state, Count: tc.count, UserCount: 3, Assignee: "Jane", ShortID: "MALL-API-3K", RuleNotes: "看这里"}
		f := lines(Message(tg, ev, Options{Lang: "en"}))
		if f["Events"] != tc.events || (f["Users"] != "") != (tc.events != "") || f["Issue state"] != tc.wantState ||
			f["Assigned to"] != "Jane" || f["Issue"] != "MALL-API-3K" || f["Notes"] != "看这里" {
			t.Errorf("state %q count %d: %v", tc.state, tc.count, f)
		}
	}
	ev := &sentry.Event{Resource: sentry.ResourceActivityAlert, State: sentry.StateTriggered, Title: "t", Rules: []string{"Seer watch"},
		Activity: "seer_pr_created", IssueState: "escalating"}
	if f := lines(Message(tg, ev, Options{})); f["状态"] != "活动告警：Seer watch（Seer 已创建 PR）" || f["问题状态"] != "升级中" {
		t.Errorf("activity alert: %v", f)
	}
	ev.Resource, ev.Activity = "issue_activity_2027", ""
	if f := lines(Message(tg, ev, Options{Lang: "en"})); f["State"] != "alert triggered (issue_activity_2027): Seer watch" {
		t.Errorf("other alert: %v", f)
	}
}
