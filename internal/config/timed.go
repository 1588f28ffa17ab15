package config

import (
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"
)

// The members of contract §7: acting from the chat, on call, quiet hours,
// escalation and the morning summary. All are optional; a document without
// them behaves as before.

// DefaultTimezone is the time zone of a schedule, quiet hours or summary
// that names none.
const DefaultTimezone = "Asia/Shanghai"

// Mention modes of a project: who is rung.
const (
	MentionOwners = "owners" // every owner of the project (the default)
	MentionOnCall = "oncall" // only the person on duty of the project's schedule
	MentionBoth   = "both"   // the person on duty and every owner
)

// Rotation periods of a schedule.
const (
	PeriodDay  = "day"
	PeriodWeek = "week"
)

// Quiet-hours modes.
const (
	QuietHold   = "hold"   // alerts are kept and sent as one digest when the window ends
	QuietSilent = "silent" // alerts are sent at once, without any @
)

// Escalation steps.
const (
	StepOnCall = "oncall"
	StepOwners = "owners"
	StepAll    = "all"
)

// Schedule is an on-call rotation. Shift k (from 0) starts at the first
// handoff on or after Start and goes to OwnerIDs[k mod n]; an override puts
// its owner on duty for its range.
type Schedule struct {
	ID       int64   `json:"id"`
	Name     string  `json:"name"`
	OwnerIDs []int64 `json:"owner_ids"`
	Period   string  `json:"period"`  // PeriodDay or PeriodWeek
	Handoff  string  `json:"handoff"` // "HH:MM", local
	// HandoffWeekday is the ISO weekday (1 = Monday … 7 = Sunday) of a
	// weekly handoff; 0 means the weekday of Start.
	HandoffWeekday int        `json:"handoff_weekday,omitempty"`
	Timezone       string     `json:"timezone,omitempty"`
	Start          string     `json:"start"` // "YYYY-MM-DD"
	Overrides      []Override `json:"overrides,omitempty"`
	// RobotIDs are the robots that get the handoff notice; absent means the
	// robots of the projects that use the schedule.
	RobotIDs []int64 `json:"robot_ids,omitempty"`
	Extra    Extra   `json:"-"`
}

// Override puts OwnerID on duty from From to To (local times
// "YYYY-MM-DDTHH:MM" in the schedule's time zone; To exclusive).
type Override struct {
	OwnerID int64  `json:"owner_id"`
	From    string `json:"from"`
	To      string `json:"to"`
	Extra   Extra  `json:"-"`
}

// QuietHours are a project's windows without ringing.
type QuietHours struct {
	Timezone    string        `json:"timezone,omitempty"`
	Mode        string        `json:"mode,omitempty"` // QuietHold (default) or QuietSilent
	BypassLevel string        `json:"bypass_level,omitempty"`
	Windows     []QuietWindow `json:"windows"`
	Extra       Extra         `json:"-"`
}

// QuietWindow is one window: on each of Days (ISO weekdays) from From to To
// local time. A window whose To is not after its From crosses midnight and
// belongs to the day it starts; From equal to To is the whole day.
type QuietWindow struct {
	Days  []int  `json:"days"`
	From  string `json:"from"`
	To    string `json:"to"`
	Extra Extra  `json:"-"`
}

// Escalation re-posts an unacknowledged alert to each step in turn.
type Escalation struct {
	AfterMinutes int      `json:"after_minutes"`
	Steps        []string `json:"steps"`
	MinLevel     string   `json:"min_level,omitempty"`
	Extra        Extra    `json:"-"`
}

// DailyDigest is the time of a robot's morning summary of yesterday.
type DailyDigest struct {
	At       string `json:"at"` // "HH:MM"
	Timezone string `json:"timezone,omitempty"`
	Extra    Extra  `json:"-"`
}

// MentionMode is the project's mention, with the default filled in.
func (p *Project) MentionMode() string {
	if p.Mention == "" {
		return MentionOwners
	}
	return p.Mention
}

// Location loads a time zone name, "" meaning DefaultTimezone. Zones
// loaded are kept: the relay asks for a project's or a schedule's zone with
// every alert, and time.LoadLocation reads the zone database each time.
func Location(name string) (*time.Location, error) {
	if strings.TrimSpace(name) == "" {
		name = DefaultTimezone
	}
	if loc, ok := locations.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	locations.Store(name, loc) // bounded by the zone database: only zones that load are kept
	return loc, nil
}

var locations sync.Map // zone name → *time.Location

// ParseClock reads a local time of day "HH:MM" as minutes after midnight;
// "24:00" (1440) is accepted where allow24 is set (the end of a window).
func ParseClock(s string, allow24 bool) (int, bool) {
	if len(s) != 5 || s[2] != ':' || !digits(s[:2]) || !digits(s[3:]) {
		return 0, false
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	switch {
	case h == 24 && m == 0 && allow24:
		return 1440, true
	case h > 23 || m > 59:
		return 0, false
	}
	return h*60 + m, true
}

// WallClock is the moment the clocks of loc first show the local time
// minutes (after midnight; 1440 is the next midnight) on the given day. A
// time that does not exist, skipped when daylight saving starts, is
// reached when the clocks jump over it; a time shown twice, when it ends,
// is its first showing.
func WallClock(y int, m time.Month, d, minutes int, loc *time.Location) time.Time {
	h, mm := minutes/60, minutes%60
	t := time.Date(y, m, d, h, mm, 0, 0, loc)
	if t.Hour() != h%24 || t.Minute() != mm {
		// Skipped: time.Date chose an hour before or after the gap; the
		// clocks jumped at the edge of t's zone nearest to it.
		start, end := t.ZoneBounds()
		if d := t.Sub(start); !start.IsZero() && d >= 0 && d < 3*time.Hour {
			return start
		}
		if d := end.Sub(t); !end.IsZero() && d > 0 && d < 3*time.Hour {
			return end
		}
		return t
	}
	// Repeated (the hour after daylight saving ends): the first of the two.
	if start, _ := t.ZoneBounds(); !start.IsZero() && t.Sub(start) < 3*time.Hour {
		_, before := start.Add(-time.Second).Zone()
		_, now := t.Zone()
		if alt := t.Add(time.Duration(now-before) * time.Second); alt.Before(t) && alt.Hour() == h%24 && alt.Minute() == mm {
			return alt
		}
	}
	return t
}

// LocalDateLayout and LocalTimeLayout are the forms of Schedule.Start and
// of an override's range.
const (
	LocalDateLayout = "2006-01-02"
	LocalTimeLayout = "2006-01-02T15:04"
)

// validRelayURL is an http(s) base URL without query or fragment: the
// webhook token never belongs in it.
func validRelayURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
		u.RawQuery == "" && !u.ForceQuery && u.Fragment == "" && u.User == nil
}

// validateTimed checks the §7 members. orgs, owners and robots are the ids
// that exist.
func (v *validator) validateTimed(d *Document, owners, robots map[int64]bool) map[int64]bool {
	if d.RelayURL != "" && !validRelayURL(d.RelayURL) {
		v.add("relay_url", "relay_url", nil, "must be the relay's http(s) base URL without ?token= or #, such as https://alerts.example.com")
	}
	for i, o := range d.Organizations {
		if t := o.APIToken.Reveal(); t != "" && (len(t) > 1024 || strings.ContainsAny(t, " \t\r\n")) {
			v.add(fmt.Sprintf("organizations[%d].api_token", i), "api_token", nil, "must be a Sentry token (no spaces, at most 1024 characters)")
		}
	}
	for i, o := range d.Owners {
		if u := o.SentryUser; u != "" && (len(u) > 200 || strings.ContainsAny(u, " \t\r\n<>\"")) {
			v.add(fmt.Sprintf("owners[%d].sentry_user", i), "sentry_user", nil, "must be a Sentry user: an email, a username or a numeric id")
		}
	}
	schedules := map[int64]bool{}
	for i, s := range d.Schedules {
		f := fmt.Sprintf("schedules[%d]", i)
		v.id(f, s.ID, schedules, "schedule")
		v.text(f, ".name", s.Name, false, MaxScheduleName)
		if len(s.OwnerIDs) == 0 {
			v.add(f+".owner_ids", "required", nil, "is required (the owners in rotation order)")
		}
		v.refs(f, ".owner_ids", s.OwnerIDs, owners, "owner")
		v.refs(f, ".robot_ids", s.RobotIDs, robots, "robot")
		switch s.Period {
		case PeriodDay, PeriodWeek:
		default:
			v.add(f+".period", "period", kv{"value": s.Period}, "%q is not a period; use day or week", s.Period)
		}
		if _, ok := ParseClock(s.Handoff, false); !ok {
			v.add(f+".handoff", "clock", kv{"value": s.Handoff}, "%q is not a time of day (HH:MM, such as 09:00)", s.Handoff)
		}
		if s.HandoffWeekday < 0 || s.HandoffWeekday > 7 {
			v.add(f+".handoff_weekday", "weekday", kv{"value": s.HandoffWeekday}, "must be 1 (Monday) to 7 (Sunday)")
		}
		loc := v.timezone(f+".timezone", s.Timezone)
		if _, err := time.Parse(LocalDateLayout, s.Start); err != nil {
			v.add(f+".start", "date", kv{"value": s.Start}, "%q is not a date (YYYY-MM-DD)", s.Start)
		}
		for j, o := range s.Overrides {
			g := fmt.Sprintf("%s.overrides[%d]", f, j)
			if !owners[o.OwnerID] {
				v.add(g+".owner_id", "ref_missing", kv{"what": "owner", "id": o.OwnerID}, "owner %d does not exist", o.OwnerID)
			}
			from, err1 := time.ParseInLocation(LocalTimeLayout, o.From, loc)
			if err1 != nil {
				v.add(g+".from", "local_time", kv{"value": o.From}, "%q is not a local time (YYYY-MM-DDTHH:MM)", o.From)
			}
			to, err2 := time.ParseInLocation(LocalTimeLayout, o.To, loc)
			if err2 != nil {
				v.add(g+".to", "local_time", kv{"value": o.To}, "%q is not a local time (YYYY-MM-DDTHH:MM)", o.To)
			}
			if err1 == nil && err2 == nil && !to.After(from) {
				v.add(g+".to", "range_order", nil, "must be after from")
			}
		}
	}
	return schedules
}

// validateProjectTimed checks a project's §7 members; f is its path.
func (v *validator) validateProjectTimed(f string, p *Project, schedules map[int64]bool) {
	switch p.Mention {
	case "", MentionOwners, MentionOnCall, MentionBoth:
	default:
		v.add(f+".mention", "mention", kv{"value": p.Mention}, "%q is not a mention; use owners, oncall or both", p.Mention)
	}
	needsSchedule := p.Mention == MentionOnCall || p.Mention == MentionBoth
	if e := p.Escalation; e != nil {
		g := f + ".escalation"
		if e.AfterMinutes < 1 || e.AfterMinutes > 1440 {
			v.add(g+".after_minutes", "range", kv{"min": 1, "max": 1440}, "must be between 1 and 1440")
		}
		if len(e.Steps) == 0 {
			v.add(g+".steps", "required", nil, "is required (oncall, owners or all, in order)")
		}
		for j, s := range e.Steps {
			switch s {
			case StepOwners, StepAll:
			case StepOnCall:
				needsSchedule = true
			default:
				v.add(fmt.Sprintf("%s.steps[%d]", g, j), "step", kv{"value": s}, "%q is not a step; use oncall, owners or all", s)
			}
		}
		v.level(g+".min_level", e.MinLevel)
	}
	switch {
	case p.ScheduleID != 0 && !schedules[p.ScheduleID]:
		v.add(f+".schedule_id", "ref_missing", kv{"what": "schedule", "id": p.ScheduleID}, "schedule %d does not exist", p.ScheduleID)
	case p.ScheduleID == 0 && needsSchedule:
		v.add(f+".schedule_id", "schedule_required", nil, "is required: the project rings the person on duty")
	}
	if q := p.QuietHours; q != nil {
		g := f + ".quiet_hours"
		v.timezone(g+".timezone", q.Timezone)
		switch q.Mode {
		case "", QuietHold, QuietSilent:
		default:
			v.add(g+".mode", "quiet_mode", kv{"value": q.Mode}, "%q is not a mode; use hold or silent", q.Mode)
		}
		v.level(g+".bypass_level", q.BypassLevel)
		if len(q.Windows) == 0 {
			v.add(g+".windows", "required", nil, "is required (at least one window)")
		}
		for j, w := range q.Windows {
			h := fmt.Sprintf("%s.windows[%d]", g, j)
			if len(w.Days) == 0 {
				v.add(h+".days", "required", nil, "is required (ISO weekdays, 1 = Monday … 7 = Sunday)")
			}
			for _, day := range w.Days {
				if day < 1 || day > 7 {
					v.add(h+".days", "weekday", kv{"value": day}, "must be 1 (Monday) to 7 (Sunday)")
					break
				}
			}
			if _, ok := ParseClock(w.From, false); !ok {
				v.add(h+".from", "clock", kv{"value": w.From}, "%q is not a time of day (HH:MM, such as 22:00)", w.From)
			}
			if _, ok := ParseClock(w.To, true); !ok {
				v.add(h+".to", "clock", kv{"value": w.To}, "%q is not a time of day (HH:MM, such as 08:00)", w.To)
			}
		}
	}
}

// validateRobotTimed checks a robot's §7 members; f is its path.
func (v *validator) validateRobotTimed(f string, r *Robot) {
	if dd := r.DailyDigest; dd != nil {
		if _, ok := ParseClock(dd.At, false); !ok {
			v.add(f+".daily_digest.at", "clock", kv{"value": dd.At}, "%q is not a time of day (HH:MM, such as 09:30)", dd.At)
		}
		v.timezone(f+".daily_digest.timezone", dd.Timezone)
	}
}

func (v *validator) timezone(field, name string) *time.Location {
	loc, err := Location(name)
	if err != nil {
		v.add(field, "timezone", kv{"value": name}, "%q is not a time zone (such as Asia/Shanghai)", name)
		return time.UTC
	}
	return loc
}

func (v *validator) level(field, l string) {
	if l != "" && !validLevel(l) {
		v.add(field, "level", kv{"value": l, "levels": Levels}, "%q is not a level; use one of %s", l, strings.Join(Levels, ", "))
	}
}

// MaxScheduleName is the longest schedule name, in characters.
const MaxScheduleName = 100

// JSON methods keeping unknown members, as for the other entities.

func (s *Schedule) UnmarshalJSON(b []byte) error {
	type plain Schedule
	*s = Schedule{}
	return decodeKeeping(b, (*plain)(s), &s.Extra)
}

func (s Schedule) MarshalJSON() ([]byte, error) {
	type plain Schedule
	return marshalKeeping(plain(s), s.Extra)
}

func (o *Override) UnmarshalJSON(b []byte) error {
	type plain Override
	*o = Override{}
	return decodeKeeping(b, (*plain)(o), &o.Extra)
}

func (o Override) MarshalJSON() ([]byte, error) {
	type plain Override
	return marshalKeeping(plain(o), o.Extra)
}

func (q *QuietHours) UnmarshalJSON(b []byte) error {
	type plain QuietHours
	*q = QuietHours{}
	return decodeKeeping(b, (*plain)(q), &q.Extra)
}

func (q QuietHours) MarshalJSON() ([]byte, error) {
	type plain QuietHours
	return marshalKeeping(plain(q), q.Extra)
}

func (w *QuietWindow) UnmarshalJSON(b []byte) error {
	type plain QuietWindow
	*w = QuietWindow{}
	return decodeKeeping(b, (*plain)(w), &w.Extra)
}

func (w QuietWindow) MarshalJSON() ([]byte, error) {
	type plain QuietWindow
	return marshalKeeping(plain(w), w.Extra)
}

func (e *Escalation) UnmarshalJSON(b []byte) error {
	type plain Escalation
	*e = Escalation{}
	return decodeKeeping(b, (*plain)(e), &e.Extra)
}

func (e Escalation) MarshalJSON() ([]byte, error) {
	type plain Escalation
	return marshalKeeping(plain(e), e.Extra)
}

func (dd *DailyDigest) UnmarshalJSON(b []byte) error {
	type plain DailyDigest
	*dd = DailyDigest{}
	return decodeKeeping(b, (*plain)(dd), &dd.Extra)
}

func (dd DailyDigest) MarshalJSON() ([]byte, error) {
	type plain DailyDigest
	return marshalKeeping(plain(dd), dd.Extra)
}

// decodeKeeping decodes b into v (a pointer to a method-less struct) and
// the members it has no field for into extra.
func decodeKeeping(b []byte, v any, extra *Extra) error {
	x, err := unmarshalKeeping(b, v)
	if err != nil {
		return err
	}
	*extra = x
	return nil
}
