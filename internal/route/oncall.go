package route

import (
	"slices"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/oncall"
)

// OnDuty returns the owner on duty at t in project p's schedule (contract
// §7 schedule_id). ok is false when p has no schedule, when nobody is on
// duty (before the rotation's first shift) and when the owner on duty is no
// longer in the document. Whoever rings the person on duty — a project's
// mention, an alert rule's mention "oncall", an escalation step — asks
// here, at the time the message is sent.
func OnDuty(x *config.Index, p *config.Project, t time.Time) (owner *config.Owner, ok bool) {
	if p == nil || p.ScheduleID == 0 {
		return nil, false
	}
	return OnDutyIn(x, x.Schedule(p.ScheduleID), t)
}

// OnDutyIn returns the owner on duty at t in schedule s (nil: none).
func OnDutyIn(x *config.Index, s *config.Schedule, t time.Time) (owner *config.Owner, ok bool) {
	if s == nil {
		return nil, false
	}
	r, err := oncall.New(s)
	if err != nil {
		return nil, false // not a valid schedule: the document layer refuses those
	}
	o := x.Owner(r.At(t))
	return o, o != nil
}

// Ringing is whom an alert of a project @-mentions at a moment, and why.
type Ringing struct {
	// Owners are the people to @-mention; empty below the project's
	// mention_level.
	Owners []*config.Owner
	// Schedule is the project's schedule, nil when it has none; OnDuty the
	// person on duty in it, nil when nobody is.
	Schedule *config.Schedule
	OnDuty   *config.Owner
	// Fallback is set when the project rings the person on duty
	// (mention oncall) but nobody is on duty: its owners are rung instead,
	// and the message says so.
	Fallback bool
}

// Rings returns whom an alert of project p at level rings at t: by the
// project's mention (contract §7) — its owners (the default), the person
// on duty in its schedule (oncall; its owners when nobody is on duty), or
// both — and nobody below its mention_level. The person on duty is named
// whatever the mention.
func Rings(x *config.Index, p *config.Project, level string, t time.Time) Ringing {
	var r Ringing
	if p.ScheduleID != 0 {
		r.Schedule = x.Schedule(p.ScheduleID)
		r.OnDuty, _ = OnDutyIn(x, r.Schedule, t)
	}
	if !MentionsAt(p, level) {
		return r
	}
	owners := make([]*config.Owner, 0, len(p.OwnerIDs)+1)
	for _, id := range p.OwnerIDs {
		if o := x.Owner(id); o != nil {
			owners = append(owners, o)
		}
	}
	switch p.MentionMode() {
	case config.MentionOnCall:
		if r.OnDuty != nil {
			r.Owners = []*config.Owner{r.OnDuty}
			return r
		}
		r.Fallback = r.Schedule != nil
		r.Owners = owners
	case config.MentionBoth:
		if r.OnDuty != nil && !slices.Contains(owners, r.OnDuty) {
			owners = append([]*config.Owner{r.OnDuty}, owners...)
		}
		r.Owners = owners
	default:
		r.Owners = owners
	}
	return r
}
