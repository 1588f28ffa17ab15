package plan

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/deliveries"
	"github.com/sentry-white/sentry-white/internal/dispatch"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/render"
	"github.com/sentry-white/sentry-white/internal/route"
)

// Docs supplies the current configuration document.
type Docs interface {
	Get(ctx context.Context) (*config.Index, error)
}

// indexKey carries, in a send's context, the document its webhook was
// routed with: a send within the request is addressed from it, with no
// second look at the store.
type indexKey struct{}

// WithDocument returns ctx carrying x, the document a webhook was planned
// with, for the Resolver to address its jobs from.
func WithDocument(ctx context.Context, x *config.Index) context.Context {
	return context.WithValue(ctx, indexKey{}, x)
}

// Resolver returns the dispatcher's Resolver over docs: it addresses jobs
// from the current document — their robot by id, the robot's keyword, and
// the owners their projects @-mention now — and merges several jobs into a
// digest.
func Resolver(docs Docs) dispatch.Resolver { return ResolverAt(docs, time.Now) }

// ResolverAt is Resolver with now telling the time a job is sent at (who
// is on duty then).
func ResolverAt(docs Docs, now func() time.Time) dispatch.Resolver {
	return func(ctx context.Context, jobs []*dispatch.Job) (*config.Robot, *notify.Message, error) {
		j := jobs[0]
		x, ok := ctx.Value(indexKey{}).(*config.Index)
		if !ok {
			var err error
			if x, err = docs.Get(ctx); err != nil {
				return nil, nil, &notify.Error{Robot: fmt.Sprintf("robot %d", j.RobotID), Kind: j.Kind, Retry: true,
					Msg: "the configuration cannot be read: " + notify.Redact(err.Error())}
			}
		}
		return AddressAt(x, jobs, now())
	}
}

// Address is AddressAt now.
func Address(x *config.Index, jobs []*dispatch.Job) (*config.Robot, *notify.Message, error) {
	return AddressAt(x, jobs, time.Now())
}

// AddressAt returns the robot jobs go to in x, and their message as sent
// at now: the job's own, or a digest of several, carrying the robot's
// keyword, the mentions their projects ring now (owners, the person on
// duty, or both; nobody for an alert sent silently in quiet hours) and the
// line naming who is on duty. A robot deleted from x is an error.
func AddressAt(x *config.Index, jobs []*dispatch.Job, now time.Time) (*config.Robot, *notify.Message, error) {
	j := jobs[0]
	r := x.Robot(j.RobotID)
	if r == nil {
		return nil, nil, fmt.Errorf("robot %d was deleted from the configuration after the alert was accepted", j.RobotID)
	}
	lists, rings, all := ringing(x, jobs, now)
	msg := &j.Message
	if len(jobs) > 1 || j.Repeats > 0 || j.Folded > 0 {
		items, alerts, more := dispatch.DigestItems(jobs)
		msg = render.Digest(items, alerts, more, j.Message.Lang)
	}
	return r, address(msg, r, lists, rings, all), nil
}

// AddressHeld returns the robot and the message of jobs held for one robot
// through quiet hours (mode hold), sent when the quiet ends at now: one
// alert as it was rendered, marked held; several as one digest. A job the
// robot may already have (PossibleRepeat) says so. They ring
// whom their projects ring now. zone is the time zone of times in
// messages.
func AddressHeld(x *config.Index, jobs []*dispatch.Job, now time.Time, zone *time.Location) (*config.Robot, *notify.Message, error) {
	j := jobs[0]
	r := x.Robot(j.RobotID)
	if r == nil {
		return nil, nil, fmt.Errorf("robot %d was deleted from the configuration while its alerts were held", j.RobotID)
	}
	lists, rings, all := ringing(x, jobs, now)
	var msg *notify.Message
	if len(jobs) == 1 && j.Repeats == 0 {
		c := j.Message
		c.Fields = append(slices.Clip(c.Fields), render.HeldField(j.Created, now, zone, c.Lang))
		msg = &c
		if j.PossibleRepeat {
			msg = msg.MarkPossibleRepeat()
		}
	} else {
		items, alerts, more := dispatch.DigestItems(jobs)
		msg = render.HeldDigest(items, alerts, more, j.Message.Lang)
	}
	return r, address(msg, r, lists, rings, all), nil
}

// ringing returns whom each job's alert @-mentions at now — those its
// alert rule's mention names (all: everyone in the group), else whom its
// project rings —, and who its project has on duty.
func ringing(x *config.Index, jobs []*dispatch.Job, now time.Time) ([][]notify.Mention, []route.Ringing, bool) {
	lists := make([][]notify.Mention, 0, len(jobs))
	var rings []route.Ringing
	all := false
	for _, j := range jobs {
		p := x.Project(j.ProjectID)
		if p == nil {
			continue
		}
		r, a := route.RingsWith(x, p, j.Message.Level, j.Mention, now)
		all = all || a && !j.Silent
		rings = append(rings, r)
		if !j.Silent {
			lists = append(lists, render.Mentions(r.Owners))
		}
	}
	return lists, rings, all
}

// address returns msg as it goes to robot r: its keyword, the mentions
// (everyone in the group when all), and the line naming who is on duty
// when a project has a schedule.
func address(msg *notify.Message, r *config.Robot, lists [][]notify.Mention, rings []route.Ringing, all bool) *notify.Message {
	if f, ok := render.OnDutyField(rings, msg.Lang); ok {
		c := *msg
		c.Fields = append(slices.Clip(c.Fields), f)
		msg = &c
	}
	out := render.Address(msg, r, render.MergeMentions(lists...))
	out.AtAll = all
	return out
}

// AddressTarget returns j's message as it goes to its planned target t:
// the robot's keyword, the owners t rings @-mentioned (by the project's
// mention and schedule, at the time it was planned) and who is on duty
// (the configurator's test alert and preview, which plan for one project
// as it stands in the form).
func AddressTarget(t route.Target, j *dispatch.Job) *notify.Message {
	var rings []route.Ringing
	if t.Ring != nil {
		rings = []route.Ringing{*t.Ring}
	}
	return address(&j.Message, t.Robot, [][]notify.Mention{render.Mentions(t.Owners)}, rings, t.AtAll)
}

// Record is the delivery history's record of a job's final outcome: what,
// where, how it went, and — for a failure — the message as it was sent,
// for a re-send.
func Record(o dispatch.Outcome) deliveries.Record {
	j := o.Job
	var robot, kind string
	if o.Robot != nil {
		robot, kind = o.Robot.Name, o.Robot.Kind
	} else {
		robot, kind = "robot "+strconv.FormatInt(j.RobotID, 10), j.Kind
	}
	msg := &j.Message
	if o.Message != nil && len(o.Message.Digest) == 0 {
		msg = o.Message // as sent, with its mentions
	}
	rec := deliveries.Record{
		ID: j.ID, Time: o.At, RequestID: j.RequestID, Project: j.Project, RobotID: j.RobotID,
		Robot: robot, Kind: kind, Result: deliveries.Delivered, Attempts: o.Attempts,
		LatencyMS: float64(o.At.Sub(j.Created).Microseconds()) / 1000, Title: j.Message.Heading, Link: j.Message.Link,
		Level: j.Message.Level, Digest: o.Digest, ProjectName: j.ProjectName, PayloadOrganization: j.PayloadOrg,
		State: j.Message.State, Rule: j.Rule, Facts: j.Facts,
	}
	if o.Err != nil {
		rec.Result, rec.Code, rec.Error = deliveries.Failed, o.Err.Code, o.Err.Error()
		if f := o.Err.Fix; f != nil {
			rec.Fix, rec.FixCode, rec.FixParams = f.String(), f.Code, f.Params
		}
		m := *msg
		rec.Message = &m
	}
	return rec
}
