package dingtalk

import (
	"strings"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/notify/notifytest"
	"github.com/sentry-white/sentry-white/internal/render"
	"github.com/sentry-white/sentry-white/internal/route"
)

// TestGoldenOnCall renders the messages of on call and quiet hours
// (testdata/*.golden, go test -update): what docs/message.md shows — the
// handoff notice, an alert with its on-duty line sent silently, and the
// digest of held alerts.
func TestGoldenOnCall(t *testing.T) {
	robot := &config.Robot{ID: 1, Name: "研发群", Kind: "dingtalk", Keyword: "详情"}
	sched := &config.Schedule{ID: 1, Name: "后端值班", Period: config.PeriodWeek}
	zs, ls := &config.Owner{ID: 1, Name: "张三", Mobile: "13800138000"}, &config.Owner{ID: 2, Name: "李四", Mobile: "13900139000"}
	at := time.Date(2026, 12, 8, 23, 30, 0, 0, render.Shanghai)

	handoff := render.Address(render.Handoff(sched, zs, ls, "zh"), robot, render.Mentions([]*config.Owner{zs}))
	silent := notifytest.Message(Kind)
	duty, _ := render.OnDutyField([]route.Ringing{{Schedule: sched, OnDuty: zs}}, "zh")
	silent.Fields = append(silent.Fields, render.QuietField(at.Add(8*time.Hour+30*time.Minute), at, nil, "zh"), duty)
	silent.Mentions = nil
	held := render.HeldDigest([]notify.DigestItem{
		{Project: "商城后台", Slug: "mall-api", Title: "TypeError: price is null", Link: "https://acme.sentry.io/issues/42/", Level: "error", Count: 2},
		{Project: "商城后台", Slug: "mall-api", Title: "Timeout after 30s", Link: "https://acme.sentry.io/issues/43/", Level: "warning"},
	}, 3, 0, "zh")
	held.Fields = append(held.Fields, duty)
	held = render.Address(held, robot, render.Mentions([]*config.Owner{zs}))
	for name, m := range map[string]*notify.Message{"handoff": handoff, "silent": silent, "held_digest": held} {
		b := bodyOf(t, m)
		got := b.golden()
		if !strings.Contains(b.Markdown.Text, "详情") || b.At.IsAtAll {
			t.Errorf("%s: no keyword, or @all:\n%s", name, got)
		}
		if name == "silent" && (len(b.At.AtMobiles) != 0 || strings.Contains(b.Markdown.Text, "@")) {
			t.Errorf("the silent message carries an @:\n%s", got)
		}
		checkGolden(t, name, got)
	}
}
