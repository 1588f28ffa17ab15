package route

import (
	"strings"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/sentry"
)

// ruleIndex: project web (owners 张三, 李四; robot 1; schedule 1, a weekly
// rotation 李四 → 张三 from Monday 2026-12-07 09:00 Shanghai), project
// bare (owner 张三, robot 1, no schedule), and a second robot.
func ruleIndex(t *testing.T) *config.Index {
	t.Helper()
	d, err := config.Parse([]byte(`{"schema": 1,
 "owners": [{"id": 1, "name": "张三", "mobile": "13800138000"}, {"id": 2, "name": "李四", "mobile": "13900139000"}],
 "robots": [{"id": 1, "name": "r1", "kind": "dingtalk", "access_token": "t1"}, {"id": 2, "name": "r2", "kind": "dingtalk", "access_token": "t2"}],
 "schedules": [{"id": 1, "name": "值班", "owner_ids": [2, 1], "period": "week", "handoff": "09:00", "handoff_weekday": 1,
                "timezone": "Asia/Shanghai", "start": "2026-12-07"}],
 "projects": [
   {"id": 1, "name": "web", "slug": "web", "owner_ids": [1, 2], "robot_ids": [1], "schedule_id": 1, "mention_level": "fatal"},
   {"id": 2, "name": "bare", "slug": "bare", "owner_ids": [1], "robot_ids": [1]}]}`), kinds)
	if err != nil {
		t.Fatal(err)
	}
	return config.NewIndex(d)
}

// TestRuleChoosesRobotAndMentions: an alert rule's settings send the alert
// to the robot they chose instead of the project's, ringing whom they
// say; a robot no longer in the document falls back to the project's
// robots, and an unknown mention to the project's way, each saying why.
func TestRuleChoosesRobotAndMentions(t *testing.T) {
	x := ruleIndex(t)
	web := x.Project(1)
	match := func(ev *sentry.Event) Target {
		t.Helper()
		ev.ProjectSlugs, ev.Level = []string{"web"}, "error"
		p, err := Match(x, ev, []*config.Project{web})
		if err != nil || len(p.Targets) != 1 {
			t.Fatalf("%+v %v", p, err)
		}
		return p.Targets[0]
	}
	names := func(os []*config.Owner) string {
		var n []string
		for _, o := range os {
			n = append(n, o.Name)
		}
		return strings.Join(n, ",")
	}
	// No settings: the project's robot; below its mention_level nobody.
	if tg := match(&sentry.Event{}); tg.Robot.ID != 1 || len(tg.Owners) != 0 || tg.Mention != "" || tg.Rule != "" {
		t.Errorf("no rule: %+v", tg)
	}
	// The rule's robot and its mention, whatever the mention_level.
	tg := match(&sentry.Event{RuleRobot: "2", RuleMention: "owners", RuleNotes: "n"})
	if tg.Robot.ID != 2 || names(tg.Owners) != "张三,李四" || tg.AtAll || tg.Mention != "owners" ||
		tg.Rule != "alert rule: robot 2 (r2), mention owners" {
		t.Errorf("owners: %+v", tg)
	}
	if tg := match(&sentry.Event{RuleRobot: "2", RuleMention: "all"}); !tg.AtAll || len(tg.Owners) != 0 {
		t.Errorf("all: %+v", tg)
	}
	if tg := match(&sentry.Event{RuleRobot: "2", RuleMention: "none"}); tg.AtAll || len(tg.Owners) != 0 {
		t.Errorf("none: %+v", tg)
	}
	// A robot deleted since the rule was saved, or no robot id at all.
	for _, robot := range []string{"9", "abc", "-1"} {
		tg := match(&sentry.Event{RuleRobot: robot, RuleMention: "owners"})
		if tg.Robot.ID != 1 || !strings.Contains(tg.Rule, "not in the configuration: sent to the project's robots") || names(tg.Owners) != "张三,李四" {
			t.Errorf("robot %q: %+v", robot, tg)
		}
	}
	if tg := match(&sentry.Event{RuleMention: "boss"}); tg.Robot.ID != 1 || tg.Mention != "" || !strings.Contains(tg.Rule, `mention "boss"`) {
		t.Errorf("unknown mention: %+v", tg)
	}

	// oncall: the person on duty of the project's schedule at the time.
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 12, 8, 12, 0, 0, 0, shanghai), "李四"},
		{time.Date(2026, 12, 15, 12, 0, 0, 0, shanghai), "张三"},
		{time.Date(2026, 12, 1, 12, 0, 0, 0, shanghai), "张三,李四"}, // before the first shift: the owners
	} {
		if o, all := RuleOwners(x, web, "oncall", tc.at); names(o) != tc.want || all {
			t.Errorf("oncall at %s: %s, want %s", tc.at, names(o), tc.want)
		}
	}
	if o, _ := RuleOwners(x, x.Project(2), "oncall", time.Now()); names(o) != "张三" {
		t.Errorf("oncall without a schedule: %s, want the owners", names(o))
	}
}
