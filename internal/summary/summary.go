// Package summary makes a robot's morning summary of yesterday (contract §7
// robots[].daily_digest): from the delivery history, the alerts that went
// to the robot per project (how many, the issues with the most, how many
// new and regressed, the escalations), those held through quiet hours, the
// deliveries that failed for good, and the issues still open as far as the
// acknowledgements the relay recorded tell. The relay sends it at the
// robot's time (package timed, summary.go), the configurator on request.
package summary

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/deliveries"
	"github.com/sentry-white/sentry-white/internal/escalate"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/render"
	"github.com/sentry-white/sentry-white/internal/sentry"
	"github.com/sentry-white/sentry-white/internal/sentryapi"
)

// Limits on the lists of a summary (a message cut to fit a robot lists
// fewer).
const (
	TopPerProject = 3
	MaxListed     = 10
)

// Window returns the day a summary at now tells of — yesterday in the
// robot's time zone, from its local midnight to the next — and when
// today's summary is due (the robot's daily_digest.at today).
func Window(dd *config.DailyDigest, now time.Time) (from, to, due time.Time, err error) {
	loc, err := config.Location(dd.Timezone)
	if err != nil {
		return from, to, due, fmt.Errorf("daily_digest.timezone %q: %w", dd.Timezone, err)
	}
	at, ok := config.ParseClock(dd.At, false)
	if !ok {
		return from, to, due, fmt.Errorf("daily_digest.at %q is not a time of day", dd.At)
	}
	l := now.In(loc)
	y, m, d := l.Date()
	to = config.WallClock(y, m, d, 0, loc)
	py, pm, pd := l.AddDate(0, 0, -1).Date()
	from = config.WallClock(py, pm, pd, 0, loc)
	due = config.WallClock(y, m, d, at, loc)
	return from, to, due, nil
}

// Sources are where a summary reads from.
type Sources struct {
	History *deliveries.Log
	// Acks is where the relay records acknowledgements (package
	// escalate); a zero Store reads none.
	Acks escalate.Store
	// Sentry reads an issue's state, for the issues of organizations with
	// an api_token; nil asks Sentry nothing.
	Sentry IssueReader
}

// IssueReader reads an issue from Sentry (sentryapi.Client).
type IssueReader interface {
	Issue(ctx context.Context, sentryURL, org, token, id string) (*sentryapi.Issue, error)
}

// Bounds on asking Sentry: the issues asked about, each read's time, and
// all of them together (a summary never waits long for Sentry: an issue
// not asked, or not answered, is judged by the notifications).
const (
	MaxAsked       = 20
	askTimeout     = 5 * time.Second
	askTotalBudget = 20 * time.Second
)

// issue is one issue's alerts to the robot in the day.
type issue struct {
	key, project       string // the issue (its link, else its title) and project slug
	title, link, level string
	count              int
	last               time.Time // its last alert
}

// Build reads what went to robot rb from from to to (and what became of
// it until now) and tells it as render.DaySummary, its notes in lang.
func Build(ctx context.Context, src Sources, x *config.Index, rb *config.Robot, from, to, now time.Time, lang string) (*render.DaySummary, error) {
	if src.History == nil {
		return nil, fmt.Errorf("this relay keeps no delivery history")
	}
	var (
		projects = map[string]*render.ProjectDay{}
		issues   = map[string]*issue{}
		states   = map[string]map[string]bool{} // issue key → states seen
		closed   = map[string]time.Time{}       // issue key → last resolved or ignored follow-up
		taken    = map[string]time.Time{}       // issue key → last assigned follow-up
		first    = map[string]bool{}            // alert ids first seen in the day
		latest   = map[string]deliveries.Record{}
		resent   = map[string]bool{}
		held     = 0
	)
	project := func(r *deliveries.Record) *render.ProjectDay {
		p := projects[r.Project]
		if p == nil {
			name := cmp.Or(r.ProjectName, r.Project)
			for _, q := range x.ProjectsBySlug(r.Project) {
				name = cmp.Or(q.Name, name)
				break
			}
			p = &render.ProjectDay{Name: name, Slug: r.Project}
			projects[r.Project] = p
		}
		return p
	}
	err := src.History.Between(ctx, from, now, func(r *deliveries.Record) {
		if r.RobotID != rb.ID {
			return
		}
		if prev, ok := latest[r.ID]; !ok || !r.Time.Before(prev.Time) {
			latest[r.ID] = *r
		}
		if r.ResendOf != "" {
			if r.Result == deliveries.Delivered {
				resent[r.ResendOf] = true
			}
			return
		}
		key := cmp.Or(r.Link, r.Project+"\x00"+r.Title)
		inDay := r.Time.Before(to)
		switch {
		case r.Escalation > 0:
			if inDay && r.Result == deliveries.Delivered {
				project(r).Escalations++
			}
			return
		case r.State == sentry.StateResolved || r.State == sentry.StateIgnored || r.State == sentry.StateArchived:
			closed[key] = latestOf(closed[key], r.Time)
			return
		case r.State == sentry.StateAssigned:
			taken[key] = latestOf(taken[key], r.Time)
			return
		case !inDay || first[r.ID]:
			return
		}
		first[r.ID] = true
		if r.Result == deliveries.Held {
			held++
		}
		p := project(r)
		p.Alerts++
		is := issues[key]
		if is == nil {
			is = &issue{key: key, project: r.Project, title: r.Title, link: r.Link}
			issues[key] = is
			p.Issues++
		}
		is.count++
		is.last = latestOf(is.last, r.Time)
		if is.level == "" || r.Level != "" && config.LevelRank(r.Level) > config.LevelRank(is.level) {
			is.level = r.Level
		}
		if states[key] == nil {
			states[key] = map[string]bool{}
		}
		if s := r.State; !states[key][s] {
			states[key][s] = true
			switch s {
			case sentry.StateNew:
				p.New++
			case sentry.StateRegressed:
				p.Regressed++
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("read the delivery history: %w", err)
	}
	d := &render.DaySummary{Day: from, Held: held}
	// The failures: alerts of the day whose last word is a failure that no
	// re-send made good.
	for id := range first {
		r := latest[id]
		if r.Result != deliveries.Failed || resent[id] {
			continue
		}
		d.Failed = append(d.Failed, render.SummaryIssue{Project: project(&r).Name, Title: r.Title, Link: r.Link, Level: r.Level,
			Note: render.FailedNote(r.Code, cmp.Or(r.Fix, r.Error))})
	}
	slices.SortFunc(d.Failed, func(a, b render.SummaryIssue) int { return strings.Compare(a.Project+a.Title, b.Project+b.Title) })
	// The issues still open: not resolved or ignored after their last
	// alert, by a follow-up or an acknowledgement.
	acks := ackLookup{src: src.Acks, x: x, byOrg: map[int64]map[string][]escalate.AckRef{}}
	ask := asker{src: src.Sentry, x: x, started: time.Now()}
	asked, told := 0, 0
	var all []*issue
	for _, is := range issues {
		all = append(all, is)
	}
	slices.SortFunc(all, func(a, b *issue) int {
		return cmp.Or(b.count-a.count, strings.Compare(a.project, b.project), strings.Compare(a.key, b.key))
	})
	for _, is := range all {
		p := projects[is.project]
		if len(p.Top) < TopPerProject {
			p.Top = append(p.Top, summaryIssue(is, p.Name, ""))
		}
		note := ""
		if open, assigned, ok := ask.state(ctx, is, &asked); ok {
			told++
			if !open {
				continue
			}
			if assigned {
				note = render.TakenNote(lang)
			}
		} else {
			if closed[is.key].After(is.last) {
				continue
			}
			ackKind, err := acks.after(ctx, is, is.last)
			if err != nil {
				return nil, err
			}
			switch {
			case ackKind == escalate.AckResolved || ackKind == escalate.AckIgnored:
				continue
			case ackKind != "" || taken[is.key].After(is.last):
				note = render.TakenNote(lang)
			}
			d.FromNotices = true
		}
		if len(d.Unresolved) < MaxListed {
			d.Unresolved = append(d.Unresolved, summaryIssue(is, p.Name, note))
		}
	}
	d.FromSentry = told > 0
	d.Failed = d.Failed[:min(len(d.Failed), MaxListed)]
	for _, p := range projects {
		d.Projects = append(d.Projects, *p)
	}
	slices.SortFunc(d.Projects, func(a, b render.ProjectDay) int {
		return cmp.Or(b.Alerts-a.Alerts, strings.Compare(a.Name, b.Name), strings.Compare(a.Slug, b.Slug))
	})
	return d, nil
}

func latestOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func summaryIssue(is *issue, project, note string) render.SummaryIssue {
	return render.SummaryIssue{Project: project, Title: is.title, Link: is.link, Level: is.level, Count: is.count, Note: note}
}

// asker asks Sentry what became of the day's issues: for an organization
// with an api_token, up to MaxAsked issues within askTotalBudget.
type asker struct {
	src     IssueReader
	x       *config.Index
	started time.Time // on the wall clock, for the budget
}

// state reports whether Sentry says is is still open (unresolved), and
// assigned; ok is false when Sentry was not asked or did not answer.
func (a *asker) state(ctx context.Context, is *issue, asked *int) (open, assigned, ok bool) {
	id := sentry.IssueIDFromURL(is.link)
	if a.src == nil || id == "" || *asked >= MaxAsked || time.Since(a.started) > askTotalBudget {
		return false, false, false
	}
	for _, p := range a.x.ProjectsBySlug(is.project) {
		org := a.x.Organization(p.OrganizationID)
		if org == nil || org.APIToken == "" || org.SentryURL == "" || org.Slug == "" {
			continue
		}
		*asked++
		cctx, cancel := context.WithTimeout(ctx, askTimeout)
		got, err := a.src.Issue(cctx, org.SentryURL, org.Slug, org.APIToken.Reveal(), id)
		cancel()
		if err != nil {
			return false, false, false
		}
		return got.Status == "unresolved" || got.Status == "", got.AssignedTo != nil, true
	}
	return false, false, false
}

// ackLookup finds the acknowledgements of issues, listing each
// organization's once.
type ackLookup struct {
	src   escalate.Store
	x     *config.Index
	byOrg map[int64]map[string][]escalate.AckRef
}

// after returns the kind of the last acknowledgement of is made after t,
// or "".
func (a *ackLookup) after(ctx context.Context, is *issue, t time.Time) (string, error) {
	id := sentry.IssueIDFromURL(is.link)
	if a.src.B == nil || id == "" {
		return "", nil
	}
	kind := ""
	var at time.Time
	for _, p := range a.x.ProjectsBySlug(is.project) {
		refs, ok := a.byOrg[p.OrganizationID]
		if !ok {
			list, err := a.src.Acks(ctx, p.OrganizationID, "")
			if err != nil {
				return "", fmt.Errorf("read the acknowledgements: %w", err)
			}
			refs = map[string][]escalate.AckRef{}
			for _, r := range list {
				refs[r.Issue] = append(refs[r.Issue], r)
			}
			a.byOrg[p.OrganizationID] = refs
		}
		for _, r := range refs[escalate.IssueKey(id)] {
			if r.At.After(t) && r.At.After(at) {
				kind, at = r.Kind, r.At
			}
		}
	}
	return kind, nil
}

// Message renders d for robot rb of kind k, in lang: the summary's lines,
// as many as fit the vendor's limit whole, the lines left out counted in
// a last one (render.SummaryMore), addressed to rb (its keyword; nobody
// is @-mentioned).
func Message(d *render.DaySummary, rb *config.Robot, k *notify.Kind, lang string) *notify.Message {
	full := render.Address(render.Summary(d, lang), rb, nil)
	if k == nil || k.Fits(full) {
		return full
	}
	// Drop whole lines from the end until it fits, with the count of what
	// was dropped as the last line.
	lo, hi := 0, len(full.Fields)-1 // the most lines kept that fit (with the "more" line)
	fit := func(n int) *notify.Message {
		c := *full
		c.Fields = append(slices.Clip(full.Fields[:n]), render.SummaryMore(len(full.Fields)-n, lang))
		return &c
	}
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if k.Fits(fit(mid)) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return fit(lo)
}
