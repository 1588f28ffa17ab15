package timed

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/deliveries"
)

// sumDoc: robot 1 wants its summary at 09:30 Shanghai time, robot 2 none.
const sumDoc = `{"schema": 1, "webhook_token": "tok",
 "owners": [{"id": 1, "name": "张三", "mobile": "13800138001"}],
 "robots": [{"id": 1, "name": "研发群", "kind": "dingtalk", "access_token": "t1", "keyword": "详情",
             "daily_digest": {"at": "09:30", "timezone": "Asia/Shanghai"}},
            {"id": 2, "name": "运维群", "kind": "dingtalk", "access_token": "t2"}],
 "projects": [{"id": 1, "name": "商城", "slug": "mall", "owner_ids": [1], "robot_ids": [1, 2]}]}`

// TestMorningSummary: at 09:30 the robot gets one summary of yesterday,
// however many processes tick at once and however often; a relay down at
// 09:30 sends it when it is back the same day; the next day brings the
// next one; a robot without daily_digest gets none.
func TestMorningSummary(t *testing.T) {
	e := newEnv(t, sumDoc, sh("2026-12-15 09:00"))
	for i, title := range []string{"TypeError", "TypeError", "Timeout"} {
		e.hist.Add(deliveries.Record{ID: "r" + title + string(rune('0'+i)), Time: sh("2026-12-14 10:00").Add(time.Duration(i) * time.Hour),
			Project: "mall", ProjectName: "商城", RobotID: 1, Robot: "研发群", Kind: "dingtalk", Result: deliveries.Delivered,
			Title: title, Link: "https://acme.sentry.io/issues/" + title + "/", Level: "error", State: "triggered"})
	}
	if err := e.hist.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	runners := []*Runner{e.runner(), e.runner(), e.runner()}
	atOnce := func() {
		var wg sync.WaitGroup
		for _, r := range runners {
			wg.Go(func() { tick(t, r) })
		}
		wg.Wait()
	}
	e.clock.Set(sh("2026-12-15 09:29"))
	atOnce()
	if n := len(e.send.messages()); n != 0 {
		t.Fatalf("%d messages before 09:30", n)
	}
	e.clock.Set(sh("2026-12-15 09:30"))
	atOnce()
	for range 3 {
		e.clock.Add(time.Hour)
		atOnce()
	}
	tick(t, e.runner())
	msgs := e.send.messages()
	if len(msgs) != 1 {
		t.Fatalf("%d summaries, want 1", len(msgs))
	}
	m := msgs[0].msg
	if msgs[0].robot != 1 || m.Heading != "昨日告警摘要（12-14 周一）" || !strings.Contains(m.Title, "3 条告警（1 个项目）") ||
		m.Fields[0].Value != "3 条告警，2 个问题（新问题 0，回归 0）" || len(m.Mentions) != 0 || m.Keyword != "详情" {
		t.Errorf("summary: %q %q %+v", m.Title, m.Heading, m.Fields)
	}
	// The next day, a relay that was down at 09:30 and back at 15:00.
	e.clock.Set(sh("2026-12-16 15:00"))
	tick(t, e.runner())
	if msgs = e.send.messages(); len(msgs) != 2 || msgs[1].msg.Heading != "昨日告警摘要（12-15 周二）" ||
		msgs[1].msg.Fields[0].Value != "昨日没有告警" {
		t.Errorf("caught up the same day: %+v", msgs[len(msgs)-1].msg)
	}
	// A relay down all day on the 17th says nothing of the 16th on the 18th
	// before 09:30.
	e.clock.Set(sh("2026-12-18 00:10"))
	tick(t, e.runner())
	if n := len(e.send.messages()); n != 2 {
		t.Errorf("a missed day's summary was sent the next day: %d messages", n)
	}
}
