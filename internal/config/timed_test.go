package config

import (
	"strings"
	"testing"
	"time"
)

// TestTimedMembers reads the contract §7 example: every member is typed,
// unknown members inside the new objects are kept, and a rewrite is stable.
func TestTimedMembers(t *testing.T) {
	d, err := Parse(read(t, "timed.json"), testKinds)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.RelayURL, "https://alerts.example.com"; got != want {
		t.Errorf("relay_url = %q, want %q", got, want)
	}
	if d.Organizations[0].APIToken.Reveal() == "" || d.Owners[0].SentryUser != "zhangsan@example.com" {
		t.Errorf("api_token or sentry_user not read: %+v %+v", d.Organizations[0], d.Owners[0])
	}
	s := d.Schedules[0]
	if s.Period != PeriodWeek || s.Handoff != "09:00" || s.HandoffWeekday != 1 || s.Start != "2026-12-07" || len(s.Overrides) != 1 {
		t.Errorf("schedule = %+v", s)
	}
	p := d.Projects[0]
	if p.MentionMode() != MentionOnCall || p.ScheduleID != 1 || p.QuietHours == nil || p.QuietHours.Windows[0].From != "22:00" ||
		p.Escalation == nil || p.Escalation.AfterMinutes != 15 || len(p.Escalation.Steps) != 3 {
		t.Errorf("project = %+v", p)
	}
	if dd := d.Robots[0].DailyDigest; dd == nil || dd.At != "09:30" {
		t.Errorf("daily_digest = %+v", dd)
	}
	x := NewIndex(d)
	if x.Schedule(1) == nil || x.Schedule(2) != nil {
		t.Error("Index.Schedule")
	}
	found := false
	for _, v := range d.Secrets() {
		found = found || strings.HasPrefix(v, "sntrys_")
	}
	if !found {
		t.Error("Secrets() misses the api_token")
	}
	out, err := Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"x-team": "kept"`, `"note": "kept"`, `"bypass_level": "fatal"`, `"handoff_weekday": 1`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("rewrite lost %s:\n%s", want, out)
		}
	}
	d2, err := Parse(out, testKinds)
	if err != nil {
		t.Fatal(err)
	}
	if out2, _ := Marshal(d2); string(out2) != string(out) {
		t.Errorf("round trip not stable:\n%s\n---\n%s", out, out2)
	}
	// A document without the members writes none of them.
	plain, _ := Parse(read(t, "full.json"), testKinds)
	out3, _ := Marshal(plain)
	for _, absent := range []string{"relay_url", "schedules", "api_token", "sentry_user", "mention\"", "quiet_hours", "escalation", "daily_digest"} {
		if strings.Contains(string(out3), absent) {
			t.Errorf("full.json rewritten with %s", absent)
		}
	}
}

func TestValidateTimed(t *testing.T) {
	base := func() *Document {
		d, err := Parse(read(t, "timed.json"), testKinds)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		name   string
		change func(d *Document)
		field  string
	}{
		{"relay url with token", func(d *Document) { d.RelayURL = "https://a.example.com/?token=x" }, "relay_url"},
		{"relay url not http", func(d *Document) { d.RelayURL = "alerts.example.com" }, "relay_url"},
		{"api token spaces", func(d *Document) { d.Organizations[0].APIToken = "a b" }, "organizations[0].api_token"},
		{"sentry user", func(d *Document) { d.Owners[0].SentryUser = "a b" }, "owners[0].sentry_user"},
		{"schedule dup id", func(d *Document) { d.Schedules = append(d.Schedules, d.Schedules[0]) }, "schedules[1].id"},
		{"schedule no owners", func(d *Document) { d.Schedules[0].OwnerIDs = nil }, "schedules[0].owner_ids"},
		{"schedule missing owner", func(d *Document) { d.Schedules[0].OwnerIDs = []int64{1, 9} }, "schedules[0].owner_ids"},
		{"schedule period", func(d *Document) { d.Schedules[0].Period = "month" }, "schedules[0].period"},
		{"schedule handoff", func(d *Document) { d.Schedules[0].Handoff = "9:00" }, "schedules[0].handoff"},
		{"schedule handoff 24", func(d *Document) { d.Schedules[0].Handoff = "24:00" }, "schedules[0].handoff"},
		{"schedule weekday", func(d *Document) { d.Schedules[0].HandoffWeekday = 8 }, "schedules[0].handoff_weekday"},
		{"schedule timezone", func(d *Document) { d.Schedules[0].Timezone = "Mars/Olympus" }, "schedules[0].timezone"},
		{"schedule start", func(d *Document) { d.Schedules[0].Start = "2026-13-01" }, "schedules[0].start"},
		{"override owner", func(d *Document) { d.Schedules[0].Overrides[0].OwnerID = 9 }, "schedules[0].overrides[0].owner_id"},
		{"override from", func(d *Document) { d.Schedules[0].Overrides[0].From = "2026-12-24 18:00" }, "schedules[0].overrides[0].from"},
		{"override order", func(d *Document) { d.Schedules[0].Overrides[0].To = "2026-12-24T18:00" }, "schedules[0].overrides[0].to"},
		{"schedule robot", func(d *Document) { d.Schedules[0].RobotIDs = []int64{4} }, "schedules[0].robot_ids"},
		{"mention", func(d *Document) { d.Projects[0].Mention = "everyone" }, "projects[0].mention"},
		{"oncall without schedule", func(d *Document) { d.Projects[0].ScheduleID = 0 }, "projects[0].schedule_id"},
		{"missing schedule", func(d *Document) { d.Projects[0].ScheduleID = 7 }, "projects[0].schedule_id"},
		{"escalation oncall without schedule", func(d *Document) { d.Projects[0].Mention = ""; d.Projects[0].ScheduleID = 0 }, "projects[0].schedule_id"},
		{"escalation minutes", func(d *Document) { d.Projects[0].Escalation.AfterMinutes = 0 }, "projects[0].escalation.after_minutes"},
		{"escalation step", func(d *Document) { d.Projects[0].Escalation.Steps = []string{"boss"} }, "projects[0].escalation.steps[0]"},
		{"escalation no steps", func(d *Document) { d.Projects[0].Escalation.Steps = nil }, "projects[0].escalation.steps"},
		{"escalation level", func(d *Document) { d.Projects[0].Escalation.MinLevel = "bad" }, "projects[0].escalation.min_level"},
		{"quiet mode", func(d *Document) { d.Projects[0].QuietHours.Mode = "mute" }, "projects[0].quiet_hours.mode"},
		{"quiet bypass", func(d *Document) { d.Projects[0].QuietHours.BypassLevel = "loud" }, "projects[0].quiet_hours.bypass_level"},
		{"quiet timezone", func(d *Document) { d.Projects[0].QuietHours.Timezone = "Nowhere" }, "projects[0].quiet_hours.timezone"},
		{"quiet no windows", func(d *Document) { d.Projects[0].QuietHours.Windows = nil }, "projects[0].quiet_hours.windows"},
		{"quiet day", func(d *Document) { d.Projects[0].QuietHours.Windows[0].Days = []int{0} }, "projects[0].quiet_hours.windows[0].days"},
		{"quiet no days", func(d *Document) { d.Projects[0].QuietHours.Windows[0].Days = nil }, "projects[0].quiet_hours.windows[0].days"},
		{"quiet from", func(d *Document) { d.Projects[0].QuietHours.Windows[0].From = "25:00" }, "projects[0].quiet_hours.windows[0].from"},
		{"quiet to", func(d *Document) { d.Projects[0].QuietHours.Windows[0].To = "8" }, "projects[0].quiet_hours.windows[0].to"},
		{"digest at", func(d *Document) { d.Robots[0].DailyDigest.At = "9.30" }, "robots[0].daily_digest.at"},
		{"digest timezone", func(d *Document) { d.Robots[0].DailyDigest.Timezone = "x" }, "robots[0].daily_digest.timezone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := base()
			tt.change(d)
			err := d.Validate(testKinds)
			if err == nil {
				t.Fatal("accepted")
			}
			codesDeclared(t, err)
			found := false
			for _, fe := range Fields(err) {
				found = found || fe.Field == tt.field
			}
			if !found {
				t.Errorf("error %q does not name %s", err, tt.field)
			}
		})
	}
	if err := base().Validate(testKinds); err != nil {
		t.Errorf("timed.json: %v", err)
	}
	// What the contract allows: a window ending at 24:00, a whole-day
	// window, a daily schedule without a weekday or a time zone.
	d := base()
	d.Projects[0].QuietHours.Windows = append(d.Projects[0].QuietHours.Windows,
		QuietWindow{Days: []int{6, 7}, From: "00:00", To: "24:00"}, QuietWindow{Days: []int{7}, From: "12:00", To: "12:00"})
	d.Schedules[0].Period, d.Schedules[0].HandoffWeekday, d.Schedules[0].Timezone = PeriodDay, 0, ""
	if err := d.Validate(testKinds); err != nil {
		t.Errorf("valid variants refused: %v", err)
	}
}

func TestParseClock(t *testing.T) {
	for _, tt := range []struct {
		in      string
		allow24 bool
		want    int
		ok      bool
	}{
		{"00:00", false, 0, true}, {"09:30", false, 570, true}, {"23:59", false, 1439, true},
		{"24:00", true, 1440, true}, {"24:00", false, 0, false}, {"24:01", true, 0, false},
		{"9:30", false, 0, false}, {"09:60", false, 0, false}, {"0930", false, 0, false}, {"", false, 0, false},
	} {
		got, ok := ParseClock(tt.in, tt.allow24)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseClock(%q, %v) = %d, %v; want %d, %v", tt.in, tt.allow24, got, ok, tt.want, tt.ok)
		}
	}
}

func TestWallClockInGaps(t *testing.T) {
	for _, tt := range []struct {
		zone    string
		y       int
		m       time.Month
		d, mins int
		want    string // RFC 3339
	}{
		{"Asia/Shanghai", 2026, 12, 7, 9 * 60, "2026-12-07T09:00:00+08:00"},
		{"Asia/Shanghai", 2026, 12, 31, 1440, "2027-01-01T00:00:00+08:00"},
		// Clocks jump 02:00 → 03:00: a time in the gap is reached at 03:00.
		{"America/New_York", 2026, 3, 8, 150, "2026-03-08T03:00:00-04:00"},
		{"Europe/Berlin", 2026, 3, 29, 150, "2026-03-29T03:00:00+02:00"},
		// Clocks fall back 03:00 → 02:00: the first 02:30.
		{"Europe/Berlin", 2026, 10, 25, 150, "2026-10-25T02:30:00+02:00"},
	} {
		loc, _ := time.LoadLocation(tt.zone)
		if got := WallClock(tt.y, tt.m, tt.d, tt.mins, loc).Format(time.RFC3339); got != tt.want {
			t.Errorf("WallClock(%s %d-%d-%d %d) = %s, want %s", tt.zone, tt.y, tt.m, tt.d, tt.mins, got, tt.want)
		}
	}
}
