package render

import (
	"strings"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
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
