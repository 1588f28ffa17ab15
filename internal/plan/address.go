package plan

import (
	"context"
	"fmt"
	"strconv"

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
func Resolver(docs Docs) dispatch.Resolver {
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
		return Address(x, jobs)
	}
}

// Address returns the robot jobs go to in x, and their message: the job's
// own, or a digest of several, carrying the robot's keyword and the
// mentions of their projects' owners. A robot deleted from x is an error.
func Address(x *config.Index, jobs []*dispatch.Job) (*config.Robot, *notify.Message, error) {
	j := jobs[0]
	r := x.Robot(j.RobotID)
	if r == nil {
		return nil, nil, fmt.Errorf("robot %d was deleted from the configuration after the alert was accepted", j.RobotID)
	}
	lists := make([][]notify.Mention, 0, len(jobs))
	for _, j := range jobs {
		lists = append(lists, mentions(x, j))
	}
	msg := &j.Message
	if len(jobs) > 1 || j.Repeats > 0 || j.Folded > 0 {
		items, alerts, more := dispatch.DigestItems(jobs)
		msg = render.Digest(items, alerts, more, j.Message.Lang)
	}
	return r, render.Address(msg, r, render.MergeMentions(lists...)), nil
}

// AddressTarget returns j's message as it goes to its planned target t:
// the robot's keyword and t's owners @-mentioned (the configurator's test
// alert and preview, which plan for one project as it stands in the form).
func AddressTarget(t route.Target, j *dispatch.Job) *notify.Message {
	return render.Address(&j.Message, t.Robot, render.Mentions(t.Owners))
}

// mentions returns whom j's alert @-mentions now: its project's owners,
// unless the alert is below the project's mention level.
func mentions(x *config.Index, j *dispatch.Job) []notify.Mention {
	p := x.Project(j.ProjectID)
	if p == nil || !route.MentionsAt(p, j.Message.Level) {
		return nil
	}
	owners := make([]*config.Owner, 0, len(p.OwnerIDs))
	for _, id := range p.OwnerIDs {
		if o := x.Owner(id); o != nil {
			owners = append(owners, o)
		}
	}
	return render.Mentions(owners)
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
