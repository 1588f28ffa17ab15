package timed

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sentry-white/sentry-white/internal/actlink"
	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/deliveries"
	"github.com/sentry-white/sentry-white/internal/dispatch"
	"github.com/sentry-white/sentry-white/internal/escalate"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/plan"
	"github.com/sentry-white/sentry-white/internal/quiet"
	"github.com/sentry-white/sentry-white/internal/render"
	"github.com/sentry-white/sentry-white/internal/route"
	"github.com/sentry-white/sentry-white/internal/sentry"
	"github.com/sentry-white/sentry-white/internal/store"
)

// Escalations (contract §7 projects[].escalation): an alert of a project
// that escalates, at or above its min_level, that nobody takes within
// after_minutes is posted again, marked as an escalation, ringing the
// first step (the person on duty, the owners, or everyone in the group);
// after another after_minutes the next step; until the steps end. Taken
// means Sentry reported the issue assigned, resolved or ignored (its issue
// webhooks), or an action link was used (escalate.Ack).
//
// The webhook path starts the chain (Runner.Observe: one create-if-absent
// write for the first alert of an issue, none for the next ones in the
// same process, none for a project without escalation) and records
// acknowledgements; the ticks send the steps. Step k of a chain is due
// after_minutes after step k−1 (the first after the alert reached the
// group); a step due in the project's quiet hours (either mode) waits for
// their end, unless the alert bypasses them. Each step is claimed per
// robot, so two ticks never send it twice; a tick after downtime sends only
// the latest step due (the ones before are skipped, logged). Before a step
// is sent, the issue's acknowledgements are read: one made after the chain
// started ends it. A chain whose steps are done, or that was acknowledged,
// is marked ended in the store, and ticks leave it alone.

// escalationLease is how long sending a step to one robot may take.
const escalationLease = 5 * time.Minute

// EscalationCatchUp is how late a step may still be sent: a relay that was
// down longer skips it (logged), and a chain whose last step is that late
// ends without it.
const EscalationCatchUp = time.Hour

// escalationRelook is how often a runner lists the chains when none it
// knows of is due: another process (an FC instance) may have started one.
const escalationRelook = 5 * time.Minute

// seenEvery is how often a process records that an organization sent an
// issue webhook.
const seenEvery = time.Hour

// startedTTL is how long a process remembers that an issue's chain
// exists, and writes nothing for its next alerts.
const startedTTL = time.Hour

// Escalations sends the steps of escalations.
type Escalations struct{}

func (*Escalations) Name() string { return "escalation" }

// escLook is what a runner knows of the chains in the store, so that a
// tick lists them only when one may be due: after this process started
// one (or started: a previous run may have left some), when the earliest
// step it knows falls due, and every escalationRelook.
type escLook struct {
	mu     sync.Mutex
	stale  bool
	next   time.Time
	looked time.Time
	chains map[string]*chainState // by chain key
	// started remembers, by project and issue, that a chain exists, and
	// since when (webhook path).
	started map[string]time.Time
	// seen is when this process last recorded an organization's issue
	// webhook.
	seen map[int64]time.Time
	// pruned is when this process last removed old chains.
	pruned time.Time
	// hooks are the organizations known to send issue webhooks.
	hooks map[int64]bool
}

// chainState is a chain this process read, and how far it knows it went.
type chainState struct {
	ref  escalate.Ref
	c    *escalate.Chain
	done int // steps known done here (sent, or found done)
}

func (l *escLook) touch() {
	l.mu.Lock()
	l.stale = true
	l.mu.Unlock()
}

func (l *escLook) due(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stale || !l.next.IsZero() && !now.Before(l.next) || now.Sub(l.looked) >= escalationRelook
}

func (l *escLook) saw(now, next time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stale, l.next, l.looked = false, next, now
}

// Wanted: a project escalates, or this process knows of chains that run.
func (*Escalations) Wanted(t *Tick) bool {
	t.r.esc.mu.Lock()
	known := len(t.r.esc.chains) > 0
	t.r.esc.mu.Unlock()
	return known || escalates(t.Doc)
}

func escalates(x *config.Index) bool {
	for i := range x.Doc.Projects {
		if e := x.Doc.Projects[i].Escalation; e != nil && len(e.Steps) > 0 {
			return true
		}
	}
	return false
}

func (r *Runner) escStore() escalate.Store { return escalate.Store{B: r.o.Store, Prefix: r.o.Prefix} }

func (w *Escalations) Run(ctx context.Context, t *Tick) (int, error) {
	l := &t.r.esc
	if !l.due(t.Now) {
		return 0, nil
	}
	refs, err := t.r.escStore().List(ctx)
	if err != nil {
		return 0, err
	}
	running := map[string]bool{}
	var next time.Time
	sent := 0
	var errs []error
	for _, ref := range refs {
		if !ref.EndedAt.IsZero() {
			continue
		}
		running[ref.Key] = true
		n, due, err := w.chain(ctx, t, ref)
		sent += n
		if err != nil {
			errs = append(errs, err)
		}
		if !due.IsZero() && (next.IsZero() || due.Before(next)) {
			next = due
		}
	}
	l.mu.Lock()
	for k := range l.chains {
		if !running[k] {
			delete(l.chains, k) // ended, or removed
		}
	}
	l.mu.Unlock()
	l.saw(t.Now, next)
	return sent, errors.Join(errs...)
}

// stepTimes returns when each step of c is due under escalation e of
// project p: after_minutes after the one before (the first after the
// alert reached the group), moved to the end of the project's quiet hours
// when it falls in them.
func stepTimes(p *config.Project, e *config.Escalation, c *escalate.Chain) []time.Time {
	after := time.Duration(max(e.AfterMinutes, 1)) * time.Minute
	out := make([]time.Time, len(e.Steps))
	due := c.Started
	for i := range out {
		due = due.Add(after)
		if d, until := plan.Quiet(p, c.Level, due); d != quiet.Deliver && until.After(due) {
			due = until
		}
		out[i] = due
	}
	return out
}

// chain does what is due of one running chain, and returns when its next
// step is due (zero: nothing more).
func (w *Escalations) chain(ctx context.Context, t *Tick, ref escalate.Ref) (int, time.Time, error) {
	l := &t.r.esc
	l.mu.Lock()
	st := l.chains[ref.Key]
	l.mu.Unlock()
	es := t.r.escStore()
	if st == nil {
		c, err := es.Read(ctx, ref)
		if errors.Is(err, store.ErrNotFound) {
			return 0, time.Time{}, nil // removed meanwhile
		}
		if err != nil {
			return 0, time.Time{}, err
		}
		st = &chainState{ref: ref, c: c}
		l.mu.Lock()
		if l.chains == nil {
			l.chains = map[string]*chainState{}
		}
		l.chains[ref.Key] = st
		l.mu.Unlock()
	}
	c := st.c
	p := t.Doc.Project(c.Project)
	if p == nil || p.Escalation == nil || len(p.Escalation.Steps) == 0 {
		return 0, time.Time{}, w.end(ctx, t, st, "the project no longer escalates")
	}
	times := stepTimes(p, p.Escalation, c)
	k := 0
	for k < len(times) && !t.Now.Before(times[k]) {
		k++
	}
	switch {
	case k == 0:
		return 0, times[0], nil
	case k <= st.done && k == len(times):
		return 0, time.Time{}, w.end(ctx, t, st, "its steps are done")
	case k <= st.done:
		return 0, times[k], nil
	case t.Now.Sub(times[k-1]) > EscalationCatchUp:
		t.Log().Warn("escalation step skipped: the relay was not running when it fell due", "project", p.Slug,
			"issue", c.Issue, "step", k, "due", times[k-1].UTC().Format(time.RFC3339))
		st.done = k
		if k == len(times) {
			return 0, time.Time{}, w.end(ctx, t, st, "its last step fell due while the relay was down")
		}
		return 0, times[k], nil
	}
	switch known, err := w.canKnow(ctx, t, p, c); {
	case err != nil:
		return 0, t.Now.Add(30 * time.Second), err
	case !known:
		t.Log().Warn("escalation not sent: the relay could not know whether someone took the alert (its organization never sent "+
			"an issue webhook, and its alerts carry no action links)", "project", p.Slug, "issue", c.Issue, "organization_id", p.OrganizationID)
		return 0, time.Time{}, w.end(ctx, t, st, "no way to know it was taken: no issue webhooks, no action links")
	}
	n, err := w.step(ctx, t, st, p, k, times[k-1])
	switch {
	case st.done >= len(times):
		return n, time.Time{}, err
	case st.done >= k:
		return n, times[k], err
	}
	return n, t.Now.Add(30 * time.Second), err // not all robots had it: try again
}

// canKnow reports whether the relay can learn that project p's alert of
// chain c was taken: its organization has sent an issue webhook (Sentry
// tells of assignments, resolutions, ignores), or its alerts carry action
// links. Without either, escalating would ring everyone for every alert:
// the chain ends instead, and the configurator says why.
func (w *Escalations) canKnow(ctx context.Context, t *Tick, p *config.Project, c *escalate.Chain) (bool, error) {
	if org := t.Doc.Organization(p.OrganizationID); actlink.Enabled(t.Doc.Doc, org) && actlink.ValidIssue(c.Issue) {
		return true, nil
	}
	l := &t.r.esc
	l.mu.Lock()
	known := l.hooks[p.OrganizationID]
	l.mu.Unlock()
	if known {
		return true, nil
	}
	last, err := t.r.escStore().LastIssueWebhook(ctx, p.OrganizationID)
	if err != nil || last.IsZero() {
		return false, err
	}
	l.mu.Lock()
	if l.hooks == nil {
		l.hooks = map[int64]bool{}
	}
	l.hooks[p.OrganizationID] = true
	l.mu.Unlock()
	return true, nil
}

// step sends step k of a chain to each of its robots that still exists,
// each robot's send claimed once; st.done becomes k when every robot has
// it.
func (w *Escalations) step(ctx context.Context, t *Tick, st *chainState, p *config.Project, k int, due time.Time) (int, error) {
	c := st.c
	var robots []*config.Robot
	for _, id := range c.Robots {
		if rb := t.Doc.Robot(id); rb != nil && !slices.Contains(robots, rb) {
			robots = append(robots, rb)
		}
	}
	if len(robots) == 0 {
		return 0, w.end(ctx, t, st, "its robots were deleted")
	}
	target, why := escalationTarget(t.Doc, p, c.Event)
	sent, allDone, acked := 0, true, false
	var errs []error
	for _, rb := range robots {
		id := fmt.Sprintf("%s/%d/%d", st.ref.ID(), k, rb.ID)
		key := "escalation/" + id
		if t.Waiting(key) {
			allDone = false
			continue
		}
		cl, state, err := t.Claim(ctx, w.Name(), id, due, escalationLease)
		if err != nil {
			errs = append(errs, err)
			allDone = false
			continue
		}
		if cl == nil {
			allDone = allDone && state == Done
			continue
		}
		if !acked {
			// Read once a step: was the issue taken since the chain began?
			a, err := t.r.escStore().Acked(ctx, c.Org, c.Issue, c.Created)
			if err != nil {
				_ = cl.Release(ctx, 0)
				return sent, errors.Join(append(errs, err)...)
			}
			if a != nil {
				_ = cl.Done(ctx)
				t.Log().Info("escalation stopped: the issue was taken", "project", p.Slug, "issue", c.Issue, "chain", c.Gen,
					"how", a.Kind, "by", a.By, "at", a.At.UTC().Format(time.RFC3339))
				return sent, w.end(ctx, t, st, "acknowledged: "+a.Kind)
			}
			acked = true
		}
		if target == nil {
			_ = cl.Done(ctx)
			t.Log().Info("escalation stopped: the project's filters no longer send the alert", "project", p.Slug, "issue", c.Issue, "why", why)
			return sent, w.end(ctx, t, st, "filtered: "+why)
		}
		msg := escalationMessage(t, p, target, rb, c, k)
		if cl.TakenOver {
			msg = msg.MarkPossibleRepeat()
		}
		res, ok := t.Send(ctx, rb, msg)
		switch {
		case !ok:
			_ = cl.Release(ctx, 0) // the robot's budget is spent: the next tick
			allDone = false
			continue
		case res.Err != nil:
			t.Failed(key)
			t.Log().Warn("escalation not delivered; it is tried again", "project", p.Slug, "issue", c.Issue, "step", k,
				"robot", rb.Name, "kind", rb.Kind, "code", res.Err.Code, "error", res.Err.Error())
			_ = cl.Release(ctx, 0)
			allDone = false
			continue
		}
		t.Succeeded(key)
		t.Record(deliveries.Record{ID: dispatch.NewID(), Time: t.Now, Project: p.Slug, ProjectName: p.Name, RobotID: rb.ID,
			Robot: rb.Name, Kind: rb.Kind, Result: deliveries.Delivered, Attempts: res.Attempts, Title: c.Event.Title,
			Link: msg.Link, Level: msg.Level, State: msg.State, Escalation: k})
		t.Log().Info("escalation sent", "project", p.Slug, "issue", c.Issue, "chain", c.Gen, "step", k,
			"rings", p.Escalation.Steps[k-1], "robot", rb.Name, "mentions", len(msg.Mentions), "at_all", msg.AtAll)
		if err := cl.Done(ctx); err != nil {
			errs = append(errs, err)
		}
		sent++
	}
	if allDone {
		st.done = k
		if k == len(p.Escalation.Steps) {
			errs = append(errs, w.end(ctx, t, st, "its steps are done"))
		}
	}
	return sent, errors.Join(errs...)
}

// pruneEscalations removes, once a day, the chains that ended and the
// acknowledgements made more than escalate.Retention ago.
func (r *Runner) pruneEscalations(ctx context.Context, now time.Time) {
	l := &r.esc
	l.mu.Lock()
	due := l.pruned.IsZero() || now.Sub(l.pruned) >= 24*time.Hour
	if due {
		l.pruned = now
	}
	l.mu.Unlock()
	if !due {
		return
	}
	n, err := r.escStore().Prune(ctx, now)
	if err != nil {
		r.log.Warn("timed work: old escalations not all removed", "error", notify.Redact(err.Error()))
	}
	if n > 0 {
		r.log.Info("timed work: old escalations removed", "objects", n)
	}
}

// end marks a chain ended in the store and forgets it.
func (w *Escalations) end(ctx context.Context, t *Tick, st *chainState, why string) error {
	l := &t.r.esc
	l.mu.Lock()
	delete(l.chains, st.ref.Key)
	l.mu.Unlock()
	ctx, cancel := settling(ctx)
	defer cancel()
	return t.r.escStore().End(ctx, st.ref, t.Now, why)
}

// escalationTarget is how the project's alert ev is rendered now (its
// organization, owners, filters); nil with the reason when the project's
// filters drop it now.
func escalationTarget(x *config.Index, p *config.Project, ev *sentry.Event) (*route.Target, string) {
	rp, err := route.Match(x, ev, []*config.Project{p})
	switch {
	case err != nil:
		return nil, err.Error()
	case len(rp.Targets) > 0:
		t := rp.Targets[0]
		return &t, ""
	case len(rp.Skipped) > 0:
		return nil, rp.Skipped[0].Reason
	}
	// The project has no robot now: the chain's robots still get it.
	org := x.Organization(p.OrganizationID)
	return &route.Target{Project: p, Org: org}, ""
}

// escalationMessage is step k of chain c to robot rb: the alert rendered
// again (with its action links, as an alert), marked, ringing the step's
// people (or everyone).
func escalationMessage(t *Tick, p *config.Project, target *route.Target, rb *config.Robot, c *escalate.Chain, k int) *notify.Message {
	tg := *target
	tg.Robot = rb
	m := render.Message(tg, c.Event, t.Render())
	render.Actions(m, t.Doc.Doc, tg, c.Event, t.Now) // the links to take it, where the document serves them
	step := p.Escalation.Steps[k-1]
	s := render.EscalationStep{Step: step, N: k, Of: len(p.Escalation.Steps)}
	var ring []*config.Owner
	owners := func() []*config.Owner {
		var out []*config.Owner
		for _, id := range p.OwnerIDs {
			if o := t.Doc.Owner(id); o != nil {
				out = append(out, o)
			}
		}
		return out
	}
	switch step {
	case config.StepOnCall:
		if on, ok := route.OnDuty(t.Doc, p, t.Now); ok {
			ring = []*config.Owner{on}
		} else {
			ring, s.Fallback = owners(), true
		}
	case config.StepOwners:
		ring = owners()
	}
	for _, o := range ring {
		s.Names = append(s.Names, o.Name)
	}
	m = render.Escalated(m, t.Now.Sub(c.Started), s)
	m = render.Address(m, rb, render.Mentions(ring))
	m.AtAll = step == config.StepAll
	return m
}

// Observe is the webhook path's part of escalations, for a webhook the
// relay planned (pl) against the document x: it records that the
// organizations sent an issue webhook (at most hourly per process); for a
// project that escalates, it records an acknowledgement (an issue
// assigned, resolved or ignored), starts the issue's next chain on a
// regression (an issue unresolved), and starts its chain with the first
// alert delivered or held (one create-if-absent write; an issue whose
// chain this process knows of writes nothing). Faults are logged: the
// alert is answered all the same.
func (r *Runner) Observe(ctx context.Context, x *config.Index, ev *sentry.Event, pl *plan.Plan) {
	if pl == nil || len(pl.Projects) == 0 {
		return
	}
	es := r.escStore()
	now := r.o.Now()
	if ev.Resource == sentry.ResourceIssue {
		for _, org := range orgsOf(pl.Projects, nil) {
			r.esc.mu.Lock()
			if r.esc.hooks == nil {
				r.esc.hooks = map[int64]bool{}
			}
			r.esc.hooks[org] = true
			r.esc.mu.Unlock()
			if r.sawIssueWebhook(org, now) {
				if err := es.SawIssueWebhook(ctx, org, now); err != nil {
					r.log.Warn("the issue webhook could not be recorded", "organization_id", org, "error", notify.Redact(err.Error()))
				}
			}
		}
	}
	if ev.IssueID == "" || ev.Resource == sentry.ResourceMetricAlert || pl.Outcome == plan.Duplicate {
		return
	}
	escalating := func(p *config.Project) bool {
		e := p.Escalation
		return e != nil && len(e.Steps) > 0 && (e.MinLevel == "" || config.LevelRank(ev.Level) >= config.LevelRank(e.MinLevel))
	}
	switch {
	case ev.Resource == sentry.ResourceIssue && ackKind(ev.State) != "":
		a := escalate.Acknowledgement{At: now, Kind: ackKind(ev.State), By: ev.Actor}
		if a.By == "" && ev.State == sentry.StateAssigned {
			a.By = ev.Assignee
		}
		for _, org := range orgsOf(pl.Projects, func(p *config.Project) bool { return p.Escalation != nil }) {
			if err := es.Acknowledge(ctx, org, ev.IssueID, a); err != nil {
				r.log.Warn("an acknowledgement could not be recorded; the issue may still escalate", "organization_id", org,
					"issue", ev.IssueID, "error", notify.Redact(err.Error()))
			}
		}
	case ev.Resource == sentry.ResourceIssue && (ev.State == sentry.StateUnresolved || ev.State == sentry.StateRegressed):
		for _, p := range pl.Projects {
			if !escalating(p) {
				continue
			}
			c := r.newChain(p, ev, p.RobotIDs, now, now)
			created, err := es.Restart(ctx, c)
			r.started(ctx, p, ev, created, err)
		}
	case !ev.FollowUp() && (pl.Outcome == plan.Send || pl.Outcome == plan.Held):
		for _, p := range pl.Projects {
			if !escalating(p) || r.knowsChain(p, ev, now) {
				continue
			}
			robots, start := alertOf(pl, p, now)
			if len(robots) == 0 {
				continue
			}
			c := r.newChain(p, ev, robots, now, start)
			created, err := es.Start(ctx, c)
			r.started(ctx, p, ev, created, err)
		}
	}
}

func ackKind(state string) string {
	switch state {
	case sentry.StateResolved:
		return escalate.AckResolved
	case sentry.StateAssigned:
		return escalate.AckAssigned
	case sentry.StateIgnored, sentry.StateArchived:
		return escalate.AckIgnored
	}
	return ""
}

// orgsOf lists the organizations of the projects that keep, once each.
func orgsOf(ps []*config.Project, keep func(*config.Project) bool) []int64 {
	var out []int64
	for _, p := range ps {
		if (keep == nil || keep(p)) && !slices.Contains(out, p.OrganizationID) {
			out = append(out, p.OrganizationID)
		}
	}
	return out
}

// alertOf returns the robots project p's alert went to in pl (delivered,
// or held), and when the group got it: now when it was sent, else when
// the quiet hours that hold it end.
func alertOf(pl *plan.Plan, p *config.Project, now time.Time) ([]int64, time.Time) {
	var robots []int64
	var sent bool
	var until time.Time
	for i, j := range pl.Jobs {
		if pl.Targets[i].Project.ID == p.ID {
			robots, sent = append(robots, j.RobotID), true
		}
	}
	for _, h := range pl.Held {
		if h.Target.Project.ID == p.ID {
			robots = append(robots, h.Job.RobotID)
			until = latest(until, h.Until)
		}
	}
	if sent || until.IsZero() {
		return robots, now
	}
	return robots, until
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func (r *Runner) newChain(p *config.Project, ev *sentry.Event, robots []int64, now, start time.Time) *escalate.Chain {
	return &escalate.Chain{Project: p.ID, Org: p.OrganizationID, Issue: ev.IssueID, Created: now.UTC(), Started: start.UTC(),
		Level: ev.Level, Robots: slices.Clone(robots), Event: render.Facts(ev)}
}

func startedKey(p *config.Project, ev *sentry.Event) string {
	return fmt.Sprintf("%d/%s", p.ID, escalate.IssueKey(ev.IssueID))
}

// knowsChain reports whether this process knows, since less than
// startedTTL, that the issue's chain exists.
func (r *Runner) knowsChain(p *config.Project, ev *sentry.Event, now time.Time) bool {
	l := &r.esc
	l.mu.Lock()
	defer l.mu.Unlock()
	at, ok := l.started[startedKey(p, ev)]
	return ok && now.Sub(at) < startedTTL
}

// started notes what starting a chain did.
func (r *Runner) started(ctx context.Context, p *config.Project, ev *sentry.Event, created bool, err error) {
	if err != nil {
		r.log.Warn("the escalation of an alert could not be started; the issue's next alert tries again", "project", p.Slug,
			"issue", ev.IssueID, "error", notify.Redact(err.Error()))
		return
	}
	l := &r.esc
	l.mu.Lock()
	if l.started == nil || len(l.started) > 10000 {
		l.started = map[string]time.Time{}
	}
	l.started[startedKey(p, ev)] = r.o.Now()
	if created {
		l.stale = true
	}
	l.mu.Unlock()
	if created {
		r.log.Info("escalation started", "project", p.Slug, "issue", ev.IssueID, "after_minutes", p.Escalation.AfterMinutes)
	}
}

// sawIssueWebhook reports whether an issue webhook of org at now should be
// recorded (not yet within seenEvery in this process), and notes it.
func (r *Runner) sawIssueWebhook(org int64, now time.Time) bool {
	l := &r.esc
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = map[int64]time.Time{}
	}
	if last, ok := l.seen[org]; ok && now.Sub(last) < seenEvery {
		return false
	}
	l.seen[org] = now
	return true
}
