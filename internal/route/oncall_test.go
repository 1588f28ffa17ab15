package route

import (
	"strings"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
)

// oncallIndex has a weekly rotation 张三 → 李四 (Mondays 09:00 Shanghai
// from 2026-12-07) with 王五 covering Christmas, and projects ringing in
// each mode.
func oncallIndex(t *testing.T) *config.Index {
	t.Helper()
	d, err := config.Parse([]byte(`{"schema": 1,
 "owners": [{"id": 1, "name": "张三", "mobile": "13800138001"}, {"id": 2, "name": "李四", "mobile": "13800138002"},
            {"id": 3, "name": "王五", "mobile": "13800138003"}, {"id": 4, "name": "赵六", "mobile": "13800138004"}],
 "robots": [{"id": 1, "name": "r", "kind": "dingtalk", "access_token": "t"}],
 "schedules": [{"id": 1, "name": "后端值班", "owner_ids": [1, 2], "period": "week", "handoff": "09:00", "handoff_weekday": 1,
                "start": "2026-12-07", "overrides": [{"owner_id": 3, "from": "2026-12-24T18:00", "to": "2026-12-26T09:00"}]}],
 "projects": [
   {"id": 1, "name": "owners", "slug": "a", "owner_ids": [4], "robot_ids": [1], "schedule_id": 1},
   {"id": 2, "name": "oncall", "slug": "b", "owner_ids": [4, 1], "robot_ids": [1], "mention": "oncall", "schedule_id": 1},
   {"id": 3, "name": "both", "slug": "c", "owner_ids": [4, 2], "robot_ids": [1], "mention": "both", "schedule_id": 1,
    "mention_level": "error"},
   {"id": 4, "name": "none", "slug": "d", "owner_ids": [4], "robot_ids": [1]}]}`), kinds)
	if err != nil {
		t.Fatal(err)
	}
	return config.NewIndex(d)
}

func shanghai(t *testing.T, s string) time.Time {
	t.Helper()
	l, _ := time.LoadLocation("Asia/Shanghai")
	v, err := time.ParseInLocation("2006-01-02 15:04", s, l)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func names(os []*config.Owner) string {
	var n []string
	for _, o := range os {
		n = append(n, o.Name)
	}
	return strings.Join(n, ",")
}

func TestRings(t *testing.T) {
	x := oncallIndex(t)
	for _, tc := range []struct {
		project  int64
		level    string
		when     string
		rung     string
		onDuty   string
		fallback bool
	}{
		{1, "error", "2026-12-08 10:00", "赵六", "张三", false},       // owners: the default; the message still names who is on duty
		{2, "error", "2026-12-08 10:00", "张三", "张三", false},       // oncall: only the person on duty
		{2, "error", "2026-12-14 09:00", "李四", "李四", false},       // the next shift, from its handoff
		{2, "error", "2026-12-25 03:00", "王五", "王五", false},       // an override takes over for its range
		{2, "error", "2026-12-26 09:00", "张三", "张三", false},       // and ends: the rotation again
		{2, "error", "2026-12-07 08:59", "赵六,张三", "", true},       // before the first shift: the owners, said so
		{3, "error", "2026-12-08 10:00", "张三,赵六,李四", "张三", false}, // both: the person on duty first
		{3, "error", "2026-12-15 10:00", "赵六,李四", "李四", false},    // the person on duty is an owner: once
		{3, "warning", "2026-12-08 10:00", "", "张三", false},       // below the mention level: nobody rung, still named
		{4, "error", "2026-12-08 10:00", "赵六", "", false},         // no schedule
	} {
		r := Rings(x, x.Project(tc.project), tc.level, shanghai(t, tc.when))
		on := ""
		if r.OnDuty != nil {
			on = r.OnDuty.Name
		}
		if got := names(r.Owners); got != tc.rung || on != tc.onDuty || r.Fallback != tc.fallback {
			t.Errorf("project %d %s at %s: rings %q, on duty %q, fallback %v; want %q, %q, %v",
				tc.project, tc.level, tc.when, got, on, r.Fallback, tc.rung, tc.onDuty, tc.fallback)
		}
	}
	if o, ok := OnDuty(x, x.Project(2), shanghai(t, "2026-12-24 19:00")); !ok || o.Name != "王五" {
		t.Errorf("OnDuty at Christmas = %v %v, want 王五", o, ok)
	}
	if _, ok := OnDuty(x, x.Project(4), shanghai(t, "2026-12-24 19:00")); ok {
		t.Error("OnDuty of a project without a schedule")
	}
}
