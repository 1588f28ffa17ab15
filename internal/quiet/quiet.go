// Package quiet answers what a project's quiet hours (contract §7) do to an
// alert at a given moment: deliver it, hold it until the quiet ends, or
// send it without any @. Everything here is a pure function of the
// settings and the time.
//
// A window starts on each of its days at `from` (local time in the quiet
// hours' time zone) and ends at `to` the same day, or the next day when
// `to` is not after `from` (it crosses midnight and belongs to the day it
// starts); `from` equal to `to` is 24 hours. Windows that touch or
// overlap make one quiet stretch.
package quiet

import (
	"fmt"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
)

// Decision is what quiet hours do to an alert.
type Decision int

const (
	Deliver Decision = iota // as usual
	Hold                    // keep it; send it in one digest when the quiet ends
	Silent                  // send it now without any @
)

func (d Decision) String() string {
	switch d {
	case Hold:
		return "held"
	case Silent:
		return "silent"
	}
	return "deliver"
}

// Hours are a project's quiet hours, ready to answer. The zero of *Hours
// (nil) has no quiet hours.
type Hours struct {
	q       *config.QuietHours
	loc     *time.Location
	windows []window
}

type window struct {
	days     [8]bool // ISO weekdays
	from, to int     // minutes after midnight; to may be ≤ from (crosses midnight)
}

// New prepares q, which must be valid; a nil q gives nil (no quiet hours).
func New(q *config.QuietHours) (*Hours, error) {
	if q == nil {
		return nil, nil
	}
	loc, err := config.Location(q.Timezone)
	if err != nil {
		return nil, err
	}
	h := &Hours{q: q, loc: loc}
	for i, w := range q.Windows {
		from, ok1 := config.ParseClock(w.From, false)
		to, ok2 := config.ParseClock(w.To, true)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("quiet hours window %d: %q–%q is not HH:MM–HH:MM", i, w.From, w.To)
		}
		var win window
		for _, d := range w.Days {
			if d >= 1 && d <= 7 {
				win.days[d] = true
			}
		}
		win.from, win.to = from, to
		h.windows = append(h.windows, win)
	}
	return h, nil
}

// Mode is hold or silent.
func (h *Hours) Mode() string {
	if h.q.Mode == "" {
		return config.QuietHold
	}
	return h.q.Mode
}

// Location is the quiet hours' time zone.
func (h *Hours) Location() *time.Location { return h.loc }

// span returns the stretch of window w that starts on the local day of d.
func (w window) span(y int, m time.Month, d int, loc *time.Location) (time.Time, time.Time) {
	start := config.WallClock(y, m, d, w.from, loc)
	end := w.to
	if w.to <= w.from {
		end += 1440
	}
	return start, config.WallClock(y, m, d, end, loc)
}

// containing returns the end of a window that contains t, or the zero
// time.
func (h *Hours) containing(t time.Time) time.Time {
	l := t.In(h.loc)
	var best time.Time
	for back := 0; back <= 1; back++ { // a window that began yesterday may still run
		day := time.Date(l.Year(), l.Month(), l.Day()-back, 12, 0, 0, 0, h.loc)
		wd := int(day.Weekday())
		if wd == 0 {
			wd = 7
		}
		for _, w := range h.windows {
			if !w.days[wd] {
				continue
			}
			start, end := w.span(day.Year(), day.Month(), day.Day(), h.loc)
			if !t.Before(start) && t.Before(end) && end.After(best) {
				best = end
			}
		}
	}
	return best
}

// At reports whether t is inside the quiet hours and, if so, when the
// quiet ends (windows that touch or overlap count as one).
func (h *Hours) At(t time.Time) (quiet bool, until time.Time) {
	if h == nil {
		return false, time.Time{}
	}
	end := h.containing(t)
	if end.IsZero() {
		return false, time.Time{}
	}
	for range 8 { // a week of windows end to end, at most
		next := h.containing(end)
		if next.IsZero() {
			break
		}
		end = next
	}
	return true, end
}

// Decide says what the quiet hours do to an alert of level at t, and when
// a held alert is sent.
func (h *Hours) Decide(t time.Time, level string) (Decision, time.Time) {
	if h == nil {
		return Deliver, time.Time{}
	}
	if b := h.q.BypassLevel; b != "" && config.LevelRank(level) >= config.LevelRank(b) {
		return Deliver, time.Time{}
	}
	quiet, until := h.At(t)
	switch {
	case !quiet:
		return Deliver, time.Time{}
	case h.Mode() == config.QuietSilent:
		return Silent, until
	}
	return Hold, until
}
