// Package oncall answers who is on duty in an on-call rotation (contract
// §7 schedules) and when the duty changes hands. Everything here is a pure
// function of the schedule and the time: no clock, no store.
//
// Shift k (k = 0, 1, …) starts at the handoff time on the k-th handoff day
// in the schedule's time zone and goes to owner_ids[k mod n]. Handoff days
// are one period apart on the calendar, so a shift that spans a daylight
// saving change is an hour longer or shorter and the handoff stays at the
// same wall-clock time. An override puts its owner on duty for its range
// (local times, end exclusive) and wins over the rotation; a later-listed
// override wins over an earlier one.
package oncall

import (
	"fmt"
	"slices"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
)

// Rotation is a schedule ready to answer questions. Build it with New.
type Rotation struct {
	s         *config.Schedule
	loc       *time.Location
	days      int       // calendar days per shift
	mins      int       // the handoff, minutes after midnight
	first     civilDate // the day of shift 0
	overrides []span
}

type span struct {
	owner    int64
	from, to time.Time
}

type civilDate struct {
	y int
	m time.Month
	d int
}

func (c civilDate) add(days int) civilDate {
	t := time.Date(c.y, c.m, c.d+days, 12, 0, 0, 0, time.UTC)
	return civilDate{t.Year(), t.Month(), t.Day()}
}

// New prepares s, which must be valid (config.Validate).
func New(s *config.Schedule) (*Rotation, error) {
	loc, err := config.Location(s.Timezone)
	if err != nil {
		return nil, fmt.Errorf("schedule %d: %w", s.ID, err)
	}
	mins, ok := config.ParseClock(s.Handoff, false)
	if !ok {
		return nil, fmt.Errorf("schedule %d: handoff %q is not HH:MM", s.ID, s.Handoff)
	}
	start, err := time.Parse(config.LocalDateLayout, s.Start)
	if err != nil {
		return nil, fmt.Errorf("schedule %d: start %q is not a date", s.ID, s.Start)
	}
	r := &Rotation{s: s, loc: loc, days: 1, mins: mins,
		first: civilDate{start.Year(), start.Month(), start.Day()}}
	if s.Period == config.PeriodWeek {
		r.days = 7
		if wd := s.HandoffWeekday; wd != 0 {
			ahead := (wd - isoWeekday(start) + 7) % 7
			r.first = r.first.add(ahead)
		}
	}
	for _, o := range s.Overrides {
		from, err1 := time.ParseInLocation(config.LocalTimeLayout, o.From, loc)
		to, err2 := time.ParseInLocation(config.LocalTimeLayout, o.To, loc)
		if err1 != nil || err2 != nil || !to.After(from) {
			return nil, fmt.Errorf("schedule %d: override %s–%s is not a range", s.ID, o.From, o.To)
		}
		r.overrides = append(r.overrides, span{o.OwnerID, from, to})
	}
	return r, nil
}

// Schedule is the schedule r answers for.
func (r *Rotation) Schedule() *config.Schedule { return r.s }

// Location is the schedule's time zone.
func (r *Rotation) Location() *time.Location { return r.loc }

func isoWeekday(t time.Time) int {
	if wd := int(t.Weekday()); wd != 0 {
		return wd
	}
	return 7
}

// shiftStart is when shift k starts.
func (r *Rotation) shiftStart(k int) time.Time {
	c := r.first.add(k * r.days)
	return config.WallClock(c.y, c.m, c.d, r.mins, r.loc)
}

// shiftAt returns the index of the rotation shift running at t, or -1
// before the first shift.
func (r *Rotation) shiftAt(t time.Time) int {
	if t.Before(r.shiftStart(0)) {
		return -1
	}
	// An estimate from elapsed time, corrected by at most a step or two
	// (daylight saving moves a shift's length by an hour or so).
	k := int(t.Sub(r.shiftStart(0)) / (time.Duration(r.days) * 24 * time.Hour))
	for k > 0 && t.Before(r.shiftStart(k)) {
		k--
	}
	for !t.Before(r.shiftStart(k + 1)) {
		k++
	}
	return k
}

func (r *Rotation) owner(k int) int64 {
	n := len(r.s.OwnerIDs)
	if k < 0 || n == 0 {
		return 0
	}
	return r.s.OwnerIDs[k%n]
}

// override returns the override in force at t (the last listed), if any.
func (r *Rotation) override(t time.Time) (span, bool) {
	for i := len(r.overrides) - 1; i >= 0; i-- {
		o := r.overrides[i]
		if !t.Before(o.from) && t.Before(o.to) {
			return o, true
		}
	}
	return span{}, false
}

// At returns the owner on duty at t, or 0 when nobody is (before the first
// shift, outside any override).
func (r *Rotation) At(t time.Time) int64 {
	if o, ok := r.override(t); ok {
		return o.owner
	}
	return r.owner(r.shiftAt(t))
}

// Shift is a stretch of time with one person on duty.
type Shift struct {
	Owner    int64 // 0: nobody
	Start    time.Time
	End      time.Time
	Override bool // an override, not the rotation
}

// Handoff is a change of the rotation: shift Index starts at At.
type Handoff struct {
	At    time.Time
	Index int
	Owner int64 // on duty from At
	Next  int64 // on duty from the following handoff
}

// Handoffs returns the rotation's handoffs in (after, until], in order.
// Overrides do not move handoffs: the notice names the rotation.
func (r *Rotation) Handoffs(after, until time.Time) []Handoff {
	var out []Handoff
	k := r.shiftAt(after) + 1
	for ; ; k++ {
		at := r.shiftStart(k)
		if at.After(until) {
			return out
		}
		if at.After(after) {
			out = append(out, Handoff{At: at, Index: k, Owner: r.owner(k), Next: r.owner(k + 1)})
		}
	}
}

// Timeline returns who is on duty from from to to, as consecutive shifts
// (overrides cut into the rotation), for a calendar view.
func (r *Rotation) Timeline(from, to time.Time) []Shift {
	// Every moment the answer may change: rotation handoffs and the ends
	// of overrides.
	cuts := []time.Time{from}
	for _, h := range r.Handoffs(from, to) {
		cuts = append(cuts, h.At)
	}
	if first := r.shiftStart(0); first.After(from) && first.Before(to) {
		cuts = append(cuts, first)
	}
	for _, o := range r.overrides {
		for _, c := range []time.Time{o.from, o.to} {
			if c.After(from) && c.Before(to) {
				cuts = append(cuts, c)
			}
		}
	}
	slices.SortFunc(cuts, time.Time.Compare)
	var out []Shift
	for i, c := range cuts {
		end := to
		if i+1 < len(cuts) {
			end = cuts[i+1]
		}
		if !end.After(c) {
			continue
		}
		_, over := r.override(c)
		s := Shift{Owner: r.At(c), Start: c, End: end, Override: over}
		if n := len(out); n > 0 && out[n-1].Owner == s.Owner && out[n-1].Override == s.Override {
			out[n-1].End = end
			continue
		}
		out = append(out, s)
	}
	return out
}
