package render

import (
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/route"
)

func TestOnCallWords(t *testing.T) {
	a := &config.Schedule{ID: 1, Name: "后端值班", Period: config.PeriodWeek}
	b := &config.Schedule{ID: 2, Name: "前端值班", Period: config.PeriodDay}
	zs, ls := &config.Owner{ID: 1, Name: "张三"}, &config.Owner{ID: 2, Name: "李四"}
	for _, tc := range []struct {
		rings []route.Ringing
		lang  string
		want  string
	}{
		{[]route.Ringing{{Schedule: a, OnDuty: zs}}, "zh", "值班: 张三"},
		{[]route.Ringing{{Schedule: a, OnDuty: zs}, {Schedule: a, OnDuty: zs}, {}}, "en", "On duty: 张三"},
		{[]route.Ringing{{Schedule: a, OnDuty: zs}, {Schedule: b, OnDuty: ls}}, "zh", "值班: 张三（后端值班）、李四（前端值班）"},
		{[]route.Ringing{{Schedule: a, OnDuty: zs}, {Schedule: b, OnDuty: ls}}, "en", "On duty: 张三 (后端值班); 李四 (前端值班)"},
		{[]route.Ringing{{Schedule: a, Fallback: true}}, "zh", "值班: 无人值班（排班尚未开始），已提醒全部负责人"},
		{[]route.Ringing{{Schedule: a}}, "en", "On duty: nobody (the rotation has not started)"},
		{[]route.Ringing{{Schedule: a, Fallback: true}}, "en", "On duty: nobody (the rotation has not started); all owners are mentioned"},
		{[]route.Ringing{{}}, "zh", ""},
	} {
		f, ok := OnDutyField(tc.rings, tc.lang)
		got := ""
		if ok {
			got = f.Label + ": " + f.Value
		}
		if got != tc.want {
			t.Errorf("OnDutyField(%+v, %s) = %q, want %q", tc.rings, tc.lang, got, tc.want)
		}
	}
	for _, tc := range []struct {
		s          *config.Schedule
		on, next   *config.Owner
		lang, want string
	}{
		{a, zs, ls, "zh", "本周值班：张三（下一位：李四）"},
		{a, zs, ls, "en", "On duty this week: 张三 (next: 李四)"},
		{b, ls, zs, "zh", "今日值班：李四（下一位：张三）"},
		{b, ls, ls, "en", "On duty today: 李四"},
		{b, ls, nil, "zh", "今日值班：李四"},
	} {
		m := Handoff(tc.s, tc.on, tc.next, tc.lang)
		if m.Heading != tc.want || m.Title != tc.want || len(m.Fields) != 1 || m.Fields[0].Value != tc.s.Name {
			t.Errorf("Handoff = %q %+v, want %q naming %s", m.Heading, m.Fields, tc.want, tc.s.Name)
		}
	}
	now := time.Date(2026, 12, 8, 23, 30, 0, 0, Shanghai)
	if f := QuietField(now.Add(30*time.Minute), now, nil, "en"); f.Value != "sent silently, nobody notified (quiet until 12-09 00:00)" {
		t.Errorf("QuietField = %q", f.Value)
	}
	if f := QuietField(now.Add(20*time.Minute), now, nil, "zh"); f.Value != "静默发送，不提醒任何人（免打扰至 23:50）" {
		t.Errorf("QuietField = %q", f.Value)
	}
	if m := HeldDigest(nil, 3, 0, "en"); m.Heading != "3 alerts held during quiet hours" {
		t.Errorf("HeldDigest heading %q", m.Heading)
	}
}
