// Package plan turns one Sentry webhook into the deliveries it calls for:
// it checks the signature, routes the event to its projects, applies their
// filters, drops duplicates, collapses repeats and renders one message per
// robot as a dispatch job. The relay's webhook handler, and the
// configurator's test alert, preview and re-send, all plan with it; it also
// addresses jobs when they are sent (Resolver) and records their outcomes
// (Record), so a delivery looks the same whoever made it.
package plan

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/dispatch"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/quiet"
	"github.com/sentry-white/sentry-white/internal/render"
	"github.com/sentry-white/sentry-white/internal/route"
	"github.com/sentry-white/sentry-white/internal/sentry"
)

// Outcome of a plan that sends nothing, or Send.
const (
	Send      = "send"      // Jobs hold the messages
	Ignored   = "ignored"   // the webhook carries no alert (installation, comment, …)
	Filtered  = "filtered"  // the projects' filters drop it
	Duplicate = "duplicate" // a copy of a webhook already planned
	Collapsed = "collapsed" // a repeat inside the project's repeat window
	// Held: every message is held through its project's quiet hours
	// (Plan.Held); nothing is sent now.
	Held = "held"
)

// ErrorKind classifies a webhook the planner refuses; the relay maps each
// to its HTTP status once.
type ErrorKind int

// Kinds of refusal.
const (
	Unauthorized ErrorKind = iota + 1 // signature missing, wrong, stale; signature required
	NotFound                          // no configured project
)

// Error is a webhook refused, with what is wrong in words.
type Error struct {
	Kind    ErrorKind
	Msg     string
	Project string // the slugs the webhook named, for a NotFound
}

func (e *Error) Error() string { return e.Msg }

// Options configure a Planner.
type Options struct {
	// Kind returns a robot kind's description, nil for a kind it does not
	// know (required; the registry's Lookup): what a message costs a robot
	// of the kind.
	Kind   func(name string) *notify.Kind
	Render render.Options
	// MaxHookAge is the tolerance for Sentry-Hook-Timestamp on signed
	// webhooks; 0 means 10 minutes.
	MaxHookAge time.Duration
	// DedupeTTL is how long a planned webhook is remembered to drop a
	// second copy; 0 means one hour.
	DedupeTTL time.Duration
	Now       func() time.Time
	// KeepSource keeps on each job what its message was rendered from
	// (Source), for a hand-off to render it again elsewhere.
	KeepSource bool
	// Facts adds Sentry's facts about the alert's issue before it is
	// rendered (the relay reads them with the organization's token); nil
	// adds none.
	Facts Facts
}

// Facts adds Sentry's facts about an alert's issue (counts, state,
// assignee) to its event, read with organization org's token within the
// answer budget. It returns what became of them for the delivery record
// ("added", or why not), "" when none were asked for.
type Facts interface {
	Add(ctx context.Context, org *config.Organization, ev *sentry.Event) string
}

// Planner plans webhooks; it is safe for concurrent use. It remembers
// what it planned (duplicates, repeat windows) in bounded memory.
type Planner struct {
	o       Options
	seen    *dedupe
	repeats *repeats
}

// New returns a planner. It panics without Options.Kind.
func New(o Options) *Planner {
	if o.Kind == nil {
		panic("plan: Options.Kind is required")
	}
	if o.MaxHookAge == 0 {
		o.MaxHookAge = 10 * time.Minute
	}
	if o.DedupeTTL == 0 {
		o.DedupeTTL = time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Planner{o: o, seen: newDedupe(o.DedupeTTL, 10000), repeats: newRepeats()}
}

// Request is one webhook to plan.
type Request struct {
	Event *sentry.Event
	// Body is the raw body (signatures are over its bytes) and Header its
	// headers (Sentry-Hook-Signature, Sentry-Hook-Timestamp).
	Body      []byte
	Header    http.Header
	RequestID string
	Received  time.Time
}

// Plan is what a webhook calls for.
type Plan struct {
	Outcome string
	Reason  string // why nothing is sent, for the other outcomes
	// Jobs are the messages to deliver, one per robot; Targets[i] is where
	// Jobs[i] goes.
	Jobs    []*dispatch.Job
	Targets []route.Target
	// Held are the messages held through their project's quiet hours
	// (mode hold): the caller keeps them in the store and they go out in
	// one digest per robot when the quiet ends.
	Held []Hold
	// Projects are the projects the webhook was routed to (its signature
	// and token checked), whatever the outcome after routing: escalations
	// record acknowledgements for them even when follow-ups are filtered.
	Projects []*config.Project
	key      string // the duplicate key, released when delivery fails
}

// Hold is a message held through its project's quiet hours until Until.
type Hold struct {
	Job    *dispatch.Job
	Target route.Target
	Until  time.Time
}

// Plan plans req against the document x. A webhook that cannot be taken
// is an *Error.
func (p *Planner) Plan(x *config.Index, req Request) (*Plan, error) {
	return p.PlanContext(context.Background(), x, req)
}

// PlanContext is Plan; ctx bounds the look-up of Sentry's facts.
func (p *Planner) PlanContext(ctx context.Context, x *config.Index, req Request) (*Plan, error) {
	ev := req.Event
	if ev.Ignored != "" {
		return &Plan{Outcome: Ignored, Reason: ev.Ignored}, nil
	}
	projects, signed, err := p.route(x, req)
	if err != nil {
		return nil, err
	}
	rp, err := route.Match(x, ev, projects)
	if err != nil {
		return nil, &Error{Kind: NotFound, Msg: err.Error(), Project: strings.Join(ev.ProjectSlugs, ",")}
	}
	if len(rp.Targets) == 0 {
		var reasons []string
		for _, s := range rp.Skipped {
			reasons = append(reasons, fmt.Sprintf("%s: %s", s.Project.Slug, s.Reason))
		}
		return &Plan{Outcome: Filtered, Reason: strings.Join(reasons, "; "), Projects: rp.Projects}, nil
	}
	key := dedupeKey(ev, req.Body, rp.Projects, x.Version, signed)
	if key != "" && !p.seen.add(key, p.o.Now()) {
		return &Plan{Outcome: Duplicate, Reason: "this webhook was already delivered", Projects: rp.Projects}, nil
	}
	ev, facts := p.facts(ctx, ev, rp.Targets)
	pl := &Plan{Outcome: Send, key: key, Projects: rp.Projects}
	now := p.o.Now()
	ring(x, rp.Targets, ev.Level, now)
	type repeat struct {
		collapsed bool
		n         int
		key       string
	}
	checked := map[int64]repeat{} // once per project, whatever its robots
	for _, t := range rp.Targets {
		r, ok := checked[t.Project.ID]
		if !ok {
			r.collapsed, r.n, r.key = p.repeats.check(t.Project, ev, p.o.Now())
			checked[t.Project.ID] = r
		}
		if r.collapsed {
			continue
		}
		j := p.job(x, t, ev, r.n, req.RequestID, req.Received)
		j.RepeatKey, j.Facts = r.key, facts
		if p.o.KeepSource {
			j.Source = &Source{Event: render.Facts(ev), Repeated: r.n}
		}
		switch d, until := Quiet(t.Project, ev.Level, now); d {
		case quiet.Hold:
			// Held repeats of the issue are held too, and counted in the
			// digest: no repeat window runs for a message not sent.
			p.repeats.done(r.key, false, now)
			pl.Held = append(pl.Held, Hold{Job: j, Target: t, Until: until})
			continue
		case quiet.Silent:
			Silence(j, until, now, p.o.Render.Zone)
		}
		pl.Jobs = append(pl.Jobs, j)
		pl.Targets = append(pl.Targets, t)
	}
	if len(pl.Jobs) == 0 && len(pl.Held) > 0 {
		pl.Outcome, pl.Reason = Held, "the project's quiet hours hold the alert; it goes out in one digest when they end"
		return pl, nil
	}
	if len(pl.Jobs) == 0 {
		return &Plan{Outcome: Collapsed, key: key, Projects: rp.Projects,
			Reason: "a repeat of an issue already alerted within the project's repeat window; it is counted in the next message"}, nil
	}
	return pl, nil
}

// facts returns ev with Sentry's facts about its issue added, read with
// the token of the first target's organization that has one, and what
// became of them; ev itself when none were asked for.
func (p *Planner) facts(ctx context.Context, ev *sentry.Event, targets []route.Target) (*sentry.Event, string) {
	if p.o.Facts == nil {
		return ev, ""
	}
	for _, t := range targets {
		if t.Org != nil && t.Org.APIToken != "" {
			c := *ev
			return &c, p.o.Facts.Add(ctx, t.Org, &c)
		}
	}
	return ev, ""
}

// Quiet says what project p's quiet hours do at now to an alert of level
// (deliver, hold or silent) and when the quiet ends.
func Quiet(p *config.Project, level string, now time.Time) (quiet.Decision, time.Time) {
	h, err := quiet.New(p.QuietHours)
	if err != nil {
		return quiet.Deliver, time.Time{} // not valid: the document layer refuses it
	}
	return h.Decide(now, level)
}

// ring works out whom each target rings at now (its alert rule's mention,
// else its project's mention and schedule), for the answer and the
// preview; the message itself is
// addressed when it is sent (Address).
func ring(x *config.Index, ts []route.Target, level string, now time.Time) {
	for i := range ts {
		r, all := route.RingsWith(x, ts[i].Project, level, ts[i].Mention, now)
		ts[i].Ring, ts[i].Owners, ts[i].AtAll = &r, r.Owners, all
	}
}

// route finds the projects a webhook goes to (contract §4): every project
// with the slug, narrowed by the signature's organization, then chosen by
// the payload's organization and host only when several share the slug;
// unsigned webhooks reach only organizations that accept them. signed
// reports that a verified signature chose the projects.
func (p *Planner) route(x *config.Index, req Request) (_ []*config.Project, signed bool, _ error) {
	ev := req.Event
	projects := route.BySlug(x, ev)
	if len(projects) == 0 {
		_, err := route.Choose(x, ev, nil)
		return nil, false, &Error{Kind: NotFound, Msg: err.Error(), Project: strings.Join(ev.ProjectSlugs, ",")}
	}
	// The legacy WebHooks plugin never signs its bodies: the client secret
	// is the integration's, so an unsigned legacy body relies on the token
	// — unless its organization requires signatures. A signature that is
	// sent is always checked; one that verifies decides the organization.
	signedReq := ev.Resource != sentry.ResourceLegacy || req.Header.Get("Sentry-Hook-Signature") != ""
	var unsigned []*config.Project
	var sigErr error
	if signedReq {
		var verified []*config.Project
		unsigned, verified, sigErr = p.verify(x, projects, req.Body, req.Header)
		if pe, ok := errors.AsType[*Error](sigErr); ok {
			return nil, false, pe
		}
		if len(verified) > 0 {
			chosen, err := route.Choose(x, ev, verified)
			if err != nil {
				return nil, false, &Error{Kind: NotFound, Msg: err.Error(), Project: strings.Join(ev.ProjectSlugs, ",")}
			}
			return chosen, true, nil
		}
	} else {
		for _, q := range projects {
			if org := x.Organization(q.OrganizationID); org == nil || !org.RequireSignature {
				unsigned = append(unsigned, q)
			} else if sigErr == nil {
				sigErr = fmt.Errorf("organization %q requires signed webhooks (require_signature); this one is unsigned: "+
					"send it through the Sentry internal integration, whose client secret is set on the organization", org.Name)
			}
		}
	}
	chosen, err := route.Choose(x, ev, projects)
	if err != nil {
		return nil, false, &Error{Kind: NotFound, Msg: err.Error(), Project: strings.Join(ev.ProjectSlugs, ",")}
	}
	chosen = slices.DeleteFunc(chosen, func(q *config.Project) bool { return !slices.Contains(unsigned, q) })
	if len(chosen) == 0 {
		if sigErr == nil {
			sigErr = sentry.ErrBadSignature
		}
		return nil, false, &Error{Kind: Unauthorized, Msg: sigErr.Error()}
	}
	return chosen, false, nil
}

// verify checks Sentry-Hook-Signature over the raw body against the
// client_secret of each project's organization, and that the signed
// request carries a fresh Sentry-Hook-Timestamp (the signature does not
// cover it, but a replay of an old body is refused). signed lists the
// projects whose organization's secret verified it; unsigned those of
// organizations without a secret that do not require one; err says why
// the others failed. A signature that verifies decides the organization,
// always: when its timestamp is missing or stale, verify returns no
// projects and an *Error (401) naming the timestamp, so the webhook is
// refused rather than taken for an unsigned one of another organization.
func (p *Planner) verify(x *config.Index, projects []*config.Project, body []byte, hdr http.Header) (unsigned, signed []*config.Project, err error) {
	sig := hdr.Get("Sentry-Hook-Signature")
	for _, q := range projects {
		org := x.Organization(q.OrganizationID)
		if org == nil || org.ClientSecret == "" {
			if org != nil && org.RequireSignature {
				err = cmp.Or(err, fmt.Errorf("organization %q requires signed webhooks but has no client secret: set it in the configurator", org.Name))
				continue
			}
			unsigned = append(unsigned, q)
			continue
		}
		if e := sentry.VerifySignature(body, org.ClientSecret.Reveal(), sig); e != nil {
			err = cmp.Or(err, e)
			continue
		}
		signed = append(signed, q)
	}
	if len(signed) > 0 {
		if e := p.freshHookTime(hdr.Get("Sentry-Hook-Timestamp")); e != nil {
			return nil, nil, &Error{Kind: Unauthorized, Msg: e.Error()}
		}
		return unsigned, signed, nil
	}
	return unsigned, nil, cmp.Or(err, sentry.ErrBadSignature)
}

// freshHookTime checks the Sentry-Hook-Timestamp of a request whose
// signature verified: present, a Unix time, within MaxHookAge of now.
func (p *Planner) freshHookTime(ts string) error {
	if ts == "" {
		return errors.New("the signature is right but the Sentry-Hook-Timestamp header is missing; Sentry sends it with every signed webhook, so this looks like a replay")
	}
	sec, err := strconv.ParseFloat(ts, 64)
	if err != nil || math.IsNaN(sec) || math.IsInf(sec, 0) {
		return fmt.Errorf("the signature is right but the Sentry-Hook-Timestamp %q is not a Unix time", ts)
	}
	if age := p.o.Now().Sub(time.Unix(int64(sec), 0)); age > p.o.MaxHookAge || age < -p.o.MaxHookAge {
		return fmt.Errorf("the signature is right but the Sentry-Hook-Timestamp %q is more than %s from now: refusing a replay (or check the clocks of Sentry and of this relay's host)", ts, p.o.MaxHookAge)
	}
	return nil
}

// Release forgets a planned webhook (its delivery failed or was refused),
// so that Sentry sending it again is not taken for a copy.
func (p *Planner) Release(pl *Plan) {
	if pl.key != "" {
		p.seen.remove(pl.key)
	}
	for _, j := range pl.Jobs {
		p.repeats.done(j.RepeatKey, false, p.o.Now())
	}
}

// Done reports a job's final outcome: a delivered message starts its
// issue's repeat window.
func (p *Planner) Done(j *dispatch.Job, delivered bool, at time.Time) {
	p.repeats.done(j.RepeatKey, delivered, at)
}

// ForProject plans ev for project prj alone, as the relay would deliver
// it to prj's robots — without signatures, duplicates or repeat windows:
// the configurator's test alert and preview.
func (p *Planner) ForProject(x *config.Index, ev *sentry.Event, prj *config.Project, lang string) (*Plan, *route.Plan, error) {
	rp, err := route.Match(x, ev, []*config.Project{prj})
	if err != nil {
		return nil, nil, err
	}
	opt := p.o.Render
	if lang != "" {
		opt.Lang = lang
	}
	pl := &Plan{Outcome: Send}
	ring(x, rp.Targets, ev.Level, p.o.Now())
	for _, t := range rp.Targets {
		msg := render.Message(t, ev, opt)
		render.Actions(msg, x.Doc, t, ev, p.o.Now())
		pl.Jobs = append(pl.Jobs, p.newJob("", t, msg, p.o.Now()))
		pl.Targets = append(pl.Targets, t)
	}
	if len(pl.Jobs) == 0 {
		pl.Outcome = Filtered
	}
	return pl, rp, nil
}

// job renders ev for target t, with the count of repeats collapsed
// before it and the action links x serves, as the dispatch job of one
// webhook.
func (p *Planner) job(x *config.Index, t route.Target, ev *sentry.Event, repeated int, rid string, created time.Time) *dispatch.Job {
	msg := render.Message(t, ev, p.o.Render)
	render.Actions(msg, x.Doc, t, ev, p.o.Now())
	if repeated > 0 {
		msg.Fields = append(msg.Fields, render.RepeatField(repeated, p.o.Render.Lang))
	}
	j := p.newJob(rid, t, msg, created)
	j.PayloadOrg = t.PayloadOrg
	return j
}

// Source is what a job's message was rendered from (dispatch.Job.Source,
// kept with Options.KeepSource): the event's facts (render.Facts) and the
// repeats collapsed before it.
type Source struct {
	Event    *sentry.Event
	Repeated int
	// SilentUntil is set when the alert came in its project's quiet hours
	// (mode silent), which end then: it is sent without any @.
	SilentUntil time.Time
}

// Silence marks j as an alert that came in its project's quiet hours (mode
// silent), which end at until: it goes without any @, and says so.
func Silence(j *dispatch.Job, until, now time.Time, zone *time.Location) {
	j.Silent = true
	j.Message.Fields = append(j.Message.Fields, render.QuietField(until, now, zone, j.Message.Lang))
	if src, ok := j.Source.(*Source); ok && src != nil {
		src.SilentUntil = until
	}
}

// Rerender makes the job for project projectID's alert src to robot
// robotID again, from the document x, as a webhook's would be: the
// project's filters, its owners and organization, the robot only when the
// project routes to it, Message's text and link rules. It fails, naming
// why, when x no longer sends that project's alert to that robot.
func (p *Planner) Rerender(x *config.Index, src *Source, projectID, robotID int64, rid string, created time.Time) (*dispatch.Job, error) {
	prj := x.Project(projectID)
	if prj == nil {
		return nil, fmt.Errorf("project %d is not in the configuration", projectID)
	}
	if src == nil || src.Event == nil {
		return nil, errors.New("the alert's event is missing")
	}
	rp, err := route.Match(x, src.Event, []*config.Project{prj})
	if err != nil {
		return nil, err
	}
	if len(rp.Skipped) > 0 {
		return nil, fmt.Errorf("project %q: %s", prj.Slug, rp.Skipped[0].Reason)
	}
	for _, t := range rp.Targets {
		if t.Robot.ID == robotID {
			j := p.job(x, t, src.Event, max(src.Repeated, 0), rid, created)
			j.Source = src
			if !src.SilentUntil.IsZero() {
				Silence(j, src.SilentUntil, created, p.o.Render.Zone)
			}
			return j, nil
		}
	}
	return nil, fmt.Errorf("project %q does not send to robot %d", prj.Slug, robotID)
}

// newJob makes the dispatch job of one target's message: the robot and
// project by id, the message without its addressing (Resolver adds the
// robot's keyword and the mentions when it is sent).
func (p *Planner) newJob(rid string, t route.Target, msg *notify.Message, created time.Time) *dispatch.Job {
	cost := 1
	if k := p.o.Kind(t.Robot.Kind); k != nil {
		c := *msg
		c.AtAll = t.AtAll // ringing everyone may take a message of its own
		cost = k.Messages(&c)
	}
	m := *msg
	m.Mentions = nil
	return &dispatch.Job{ID: dispatch.NewID(), RequestID: rid, RobotID: t.Robot.ID, Kind: t.Robot.Kind,
		ProjectID: t.Project.ID, Project: t.Project.Slug, ProjectName: t.Project.Name, Message: m, Cost: cost,
		Created: created, Mention: t.Mention, Rule: t.Rule}
}
