package render

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/route"
	"github.com/sentry-white/sentry-white/internal/sentry"
)

// BenchmarkMessage renders a parsed event for one robot, with two owners
// to mention and the organization's shared login, in both languages.
func BenchmarkMessage(b *testing.B) {
	org := &config.Organization{ID: 1, SentryURL: "https://sentry.io", Slug: "acme", Account: "viewer@acme.com", Password: "pw"}
	owners := []*config.Owner{{ID: 1, Name: "张三", Mobile: "13800138000"}, {ID: 2, Name: "李四", Mobile: "13900139000"}}
	tg := route.Target{
		Project: &config.Project{ID: 1, Name: "商城后台", Slug: "mall-api", OrganizationID: 1}, Org: org,
		Robot: &config.Robot{ID: 1, Name: "研发告警群", Kind: "dingtalk", Keyword: "详情"}, Owners: owners, AllOwners: owners,
	}
	for _, p := range []struct{ name, file, resource string }{
		{"legacy", "legacy_saas.json", ""},
		{"issue_created", "issue_created.json", "issue"},
		{"event_alert", "event_alert.json", "event_alert"},
		{"metric_alert", "metric_alert_critical.json", "metric_alert"},
	} {
		body, err := os.ReadFile(filepath.Join("..", "..", "testdata", "sentry", p.file))
		if err != nil {
			b.Fatal(err)
		}
		h := map[string][]string{}
		if p.resource != "" {
			h["Sentry-Hook-Resource"] = []string{p.resource}
		}
		ev, err := sentry.Parse(body, h)
		if err != nil {
			b.Fatal(err)
		}
		for _, lang := range []string{"zh", "en"} {
			b.Run(p.name+"/"+lang, func(b *testing.B) {
				b.ReportAllocs()
				opt := Options{Lang: lang}
				for b.Loop() {
					if m := Message(tg, ev, opt); m.Title == "" {
						b.Fatal("empty title")
					}
				}
			})
		}
	}
}
