package plan

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/dispatch"
	"github.com/sentry-white/sentry-white/internal/notifiers"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/sentry"
)

// registry is the robot kinds of the tests, the programs' own.
var registry = notifiers.Default()

// kinds is the registry as the document layer takes it.
var kinds = registry.Document()

// quietDoc: a weekly rotation 张三 → 李四 (Mondays 09:00 Shanghai from
// 2026-12-07); project "hold" rings the person on duty and holds alerts
// from 22:00 to 08:00 except fatal ones; project "silent" rings its
// owners and sends silently from 22:00 to 08:00.
const quietDoc = `{"schema": 1,
 "owners": [{"id": 1, "name": "张三", "mobile": "13800138001"}, {"id": 2, "name": "李四", "mobile": "13800138002"},
            {"id": 3, "name": "王五", "mobile": "13800138003"}],
 "robots": [{"id": 1, "name": "r", "kind": "dingtalk", "access_token": "t"}],
 "schedules": [{"id": 1, "name": "后端值班", "owner_ids": [1, 2], "period": "week", "handoff": "09:00", "handoff_weekday": 1,
                "start": "2026-12-07"}],
 "projects": [
   {"id": 1, "name": "hold", "slug": "hold", "owner_ids": [3], "robot_ids": [1], "mention": "oncall", "schedule_id": 1,
    "quiet_hours": {"mode": "hold", "bypass_level": "fatal", "windows": [{"days": [1,2,3,4,5,6,7], "from": "22:00", "to": "08:00"}]}},
   {"id": 2, "name": "silent", "slug": "silent", "owner_ids": [3], "robot_ids": [1],
    "quiet_hours": {"mode": "silent", "windows": [{"days": [1,2,3,4,5,6,7], "from": "22:00", "to": "08:00"}]}}]}`

func quietIndex(t *testing.T) *config.Index {
	t.Helper()
	d, err := config.Parse([]byte(quietDoc), kinds)
	if err != nil {
		t.Fatal(err)
	}
	return config.NewIndex(d)
}

func at(t *testing.T, s string) time.Time {
	t.Helper()
	l, _ := time.LoadLocation("Asia/Shanghai")
	v, err := time.ParseInLocation("2006-01-02 15:04", s, l)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

var evN int

func event(slug, level string) *sentry.Event {
	evN++
	return &sentry.Event{Resource: sentry.ResourceLegacy, ProjectSlugs: []string{slug}, Level: level, Title: "Boom",
		EventID: fmt.Sprintf("%032x", evN), IssueID: "1", State: sentry.StateTriggered}
}

// TestQuietHoursPlan: in its quiet hours a hold project's alert is held
// until they end, a fatal one bypasses them, a silent project's alert goes
// at once without @ and says so; outside them everything goes as usual.
func TestQuietHoursPlan(t *testing.T) {
	x := quietIndex(t)
	now := at(t, "2026-12-08 23:30")
	p := New(Options{Kind: registry.Lookup, Now: func() time.Time { return now }})
	plan := func(slug, level string) *Plan {
		t.Helper()
		pl, err := p.Plan(x, Request{Event: event(slug, level), Received: now})
		if err != nil {
			t.Fatal(err)
		}
		return pl
	}
	pl := plan("hold", "error")
	if pl.Outcome != Held || len(pl.Jobs) != 0 || len(pl.Held) != 1 || !pl.Held[0].Until.Equal(at(t, "2026-12-09 08:00")) {
		t.Fatalf("hold project at 23:30: %+v", pl)
	}
	if pl = plan("hold", "fatal"); pl.Outcome != Send || len(pl.Jobs) != 1 || len(pl.Held) != 0 || pl.Jobs[0].Silent {
		t.Fatalf("a fatal alert must bypass: %+v", pl)
	}
	// Rung now: the person on duty, 张三.
	if o := pl.Targets[0].Owners; len(o) != 1 || o[0].Name != "张三" {
		t.Errorf("fatal alert rings %v, want 张三", o)
	}
	pl = plan("silent", "error")
	if pl.Outcome != Send || len(pl.Jobs) != 1 || !pl.Jobs[0].Silent {
		t.Fatalf("silent project: %+v", pl)
	}
	_, msg, err := AddressAt(x, pl.Jobs, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(msg.Mentions) != 0 || !field(msg, "免打扰", "不提醒任何人（免打扰至 12-09 08:00）") {
		t.Errorf("silent message: mentions %v, fields %+v", msg.Mentions, msg.Fields)
	}
	now = at(t, "2026-12-09 08:00")
	if pl = plan("hold", "error"); pl.Outcome != Send || len(pl.Held) != 0 {
		t.Errorf("at 08:00 the quiet has ended: %+v", pl)
	}
	if pl = plan("silent", "warning"); pl.Jobs[0].Silent {
		t.Error("at 08:00 the silent window has ended")
	}
}

func field(m *notify.Message, label, part string) bool {
	for _, f := range m.Fields {
		if f.Label == label && strings.Contains(f.Value, part) {
			return true
		}
	}
	return false
}

// TestAddressRingsAtSendTime: a job is addressed with whom its project
// rings when it is sent — the person on duty then — and names them; a
// digest of several projects' alerts rings each project's people once.
func TestAddressRingsAtSendTime(t *testing.T) {
	x := quietIndex(t)
	job := func(p int64, heading string) *dispatch.Job {
		return &dispatch.Job{ID: dispatch.NewID(), RobotID: 1, Kind: "dingtalk", ProjectID: p, Project: x.Project(p).Slug,
			Message: notify.Message{Title: heading, Heading: heading, Level: "error", Lang: "zh"}}
	}
	j := job(1, "Boom")
	for _, tc := range []struct{ when, want string }{
		{"2026-12-07 08:00", "13800138003"}, // before the first shift: the owners
		{"2026-12-08 10:00", "13800138001"}, // 张三's week
		{"2026-12-14 10:00", "13800138002"}, // 李四's
	} {
		_, msg, err := AddressAt(x, []*dispatch.Job{j}, at(t, tc.when))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(msg.Mobiles(), ","); got != tc.want {
			t.Errorf("at %s: mentions %s, want %s", tc.when, got, tc.want)
		}
	}
	_, msg, _ := AddressAt(x, []*dispatch.Job{j}, at(t, "2026-12-07 08:00"))
	if !field(msg, "值班", "无人值班（排班尚未开始），已提醒全部负责人") {
		t.Errorf("fallback not said: %+v", msg.Fields)
	}
	_, msg, _ = AddressAt(x, []*dispatch.Job{j, job(2, "Other"), job(1, "Third")}, at(t, "2026-12-08 10:00"))
	if got := strings.Join(msg.Mobiles(), ","); got != "13800138001,13800138003" || !field(msg, "值班", "张三") || len(msg.Digest) != 3 {
		t.Errorf("digest: mentions %s, fields %+v", got, msg.Fields)
	}
	if j.Message.Fields != nil {
		t.Errorf("addressing changed the job's message: %+v", j.Message.Fields)
	}
}
