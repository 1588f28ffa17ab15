package plan

import (
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/sentry"
)

// TestFollowUpOfAnAction: the relay's own follow-up of a change made from
// the chat goes to the project's robots, at once, without any @ in its
// quiet hours (held or silent: nobody is woken for it), and not at all
// when the project's follow-ups are off.
func TestFollowUpOfAnAction(t *testing.T) {
	x := quietIndex(t)
	ev := func(slug string) *sentry.Event {
		return &sentry.Event{Resource: sentry.ResourceIssue, Action: "resolved", State: sentry.StateResolved, IssueID: "42",
			ProjectSlugs: []string{slug}, Title: "TypeError", Level: "error", Actor: "张三，在群里操作"}
	}
	for _, c := range []struct {
		now    string
		slug   string
		silent bool
	}{{"2026-12-08 23:00", "hold", true}, {"2026-12-08 23:00", "silent", true}, {"2026-12-08 12:00", "hold", false}} {
		now := at(t, c.now)
		p := New(Options{Kind: registry.Lookup, Now: func() time.Time { return now }})
		jobs := p.FollowUp(x, ev(c.slug), x.ProjectsBySlug(c.slug)[0], "")
		if len(jobs) != 1 || jobs[0].Silent != c.silent || len(jobs[0].Message.Actions) != 0 {
			t.Errorf("%s at %s: %+v", c.slug, c.now, jobs)
		}
	}
	off := false
	x.Project(1).FollowUps = &off
	if jobs := New(Options{Kind: registry.Lookup}).FollowUp(x, ev("hold"), x.Project(1), ""); len(jobs) != 0 {
		t.Errorf("follow-ups off: %+v", jobs)
	}
}
