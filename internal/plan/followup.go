package plan

import (
	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/dispatch"
	"github.com/sentry-white/sentry-white/internal/quiet"
	"github.com/sentry-white/sentry-white/internal/render"
	"github.com/sentry-white/sentry-white/internal/route"
	"github.com/sentry-white/sentry-white/internal/sentry"
)

// FollowUp plans the follow-up the relay posts itself for a change it made
// from the chat: ev is the issue event Sentry's webhook of that change
// would bring (resolved, ignored or assigned, its actor saying who acted
// from the chat), and it goes to project prj's robots as that webhook's
// follow-up would — the project's follow_ups setting and filters apply —
// without the duplicate check or the repeat window. In the project's quiet
// hours (hold or silent) it goes at once without any @: someone just acted,
// and nobody needs to be woken for it. No job means the project sends no
// follow-up.
func (p *Planner) FollowUp(x *config.Index, ev *sentry.Event, prj *config.Project, rid string) []*dispatch.Job {
	rp, err := route.Match(x, ev, []*config.Project{prj})
	if err != nil {
		return nil
	}
	now := p.o.Now()
	jobs := make([]*dispatch.Job, 0, len(rp.Targets))
	for _, t := range rp.Targets {
		j := p.job(x, t, ev, 0, rid, now)
		if p.o.KeepSource {
			j.Source = &Source{Event: render.Facts(ev)}
		}
		if d, until := Quiet(t.Project, ev.Level, now); d != quiet.Deliver {
			Silence(j, until, now, p.o.Render.Zone)
		}
		jobs = append(jobs, j)
	}
	return jobs
}

// Drop removes from pl the jobs whose target drop reports, and tells
// whether any is left.
func (pl *Plan) Drop(drop func(t route.Target) bool) bool {
	jobs, targets := pl.Jobs[:0], pl.Targets[:0]
	for i, t := range pl.Targets {
		if !drop(t) {
			jobs, targets = append(jobs, pl.Jobs[i]), append(targets, t)
		}
	}
	pl.Jobs, pl.Targets = jobs, targets
	return len(pl.Jobs) > 0
}
