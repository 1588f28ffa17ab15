package plan

import (
	"slices"
	"testing"

	"github.com/sentry-white/sentry-white/internal/dispatch"
	"github.com/sentry-white/sentry-white/internal/notify"
)

// TestAlertRuleMentionsWhenSent: a job whose alert rule chose whom to ring
// rings them when it is sent — the person on duty then, everyone, nobody
// — instead of whom its project rings; an alert sent silently in its
// project's quiet hours rings nobody, not even everyone.
func TestAlertRuleMentionsWhenSent(t *testing.T) {
	x := quietIndex(t)
	mobiles := func(m *notify.Message) []string { return m.Mobiles() }
	for _, tc := range []struct {
		project int64
		mention string
		silent  bool
		when    string
		want    []string
		all     bool
	}{
		{2, "", false, "2026-12-08 12:00", []string{"13800138003"}, false},       // the project's owners
		{2, "oncall", false, "2026-12-08 12:00", []string{"13800138003"}, false}, // no schedule: its owners
		{1, "oncall", false, "2026-12-08 12:00", []string{"13800138001"}, false}, // 张三's week
		{1, "oncall", false, "2026-12-15 12:00", []string{"13800138002"}, false}, // 李四's week
		{1, "owners", false, "2026-12-15 12:00", []string{"13800138003"}, false},
		{1, "all", false, "2026-12-15 12:00", nil, true},
		{1, "none", false, "2026-12-15 12:00", nil, false},
		{2, "all", true, "2026-12-15 23:00", nil, false}, // silent in quiet hours
	} {
		j := &dispatch.Job{RobotID: 1, ProjectID: tc.project, Kind: "dingtalk", Mention: tc.mention,
			Message: notify.Message{Title: "t", Heading: "t", Level: "error"}}
		if tc.silent {
			Silence(j, at(t, "2026-12-16 08:00"), at(t, tc.when), nil)
		}
		_, m, err := AddressAt(x, []*dispatch.Job{j}, at(t, tc.when))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(mobiles(m), tc.want) || m.AtAll != tc.all {
			t.Errorf("project %d mention %q at %s: %v all %v, want %v all %v", tc.project, tc.mention, tc.when, mobiles(m), m.AtAll, tc.want, tc.all)
		}
	}
}
