package dispatch

import (
	"context"
	"fmt"
	"net/http/httptrace"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
)

// batch is what one send carries: one job (Submit's) or a queue's digest
// of several, all for one robot, and the budget taken for it (taken
// messages at takenAt), moved to the robot's answer when it comes.
type batch struct {
	tasks   []*task
	jobs    []*Job // the tasks' jobs, for the Resolver
	takenAt time.Time
	taken   int
}

// sent is what one send did.
type sent struct {
	robot *config.Robot   // as resolved; nil when it could not be
	msg   *notify.Message // what was sent
	res   notify.Result
}

// send addresses b's jobs (one, or a digest's) from the current
// configuration and posts the message to their robot, with the policy's
// retries.
func (d *Dispatcher) send(ctx context.Context, b batch) sent {
	jobs := b.jobs
	j := jobs[0]
	r, msg, err := d.o.Resolve(ctx, jobs)
	if err != nil {
		e := notify.AsError(err, &config.Robot{ID: j.RobotID, Name: fmt.Sprintf("robot %d", j.RobotID), Kind: j.Kind})
		if _, ok := err.(*notify.Error); !ok {
			e.Retry = false // not a transport failure: the configuration changed
		}
		return sent{res: notify.Result{Err: e}}
	}
	if len(jobs) == 1 && b.tasks[0].possibleRepeat() && len(msg.Digest) == 0 {
		msg = msg.MarkPossibleRepeat() // a digest marks its lines (DigestItems)
	}
	s := d.o.Senders[r.Kind]
	if s == nil || d.o.Kind(r.Kind) == nil {
		return sent{robot: r, msg: msg, res: notify.Result{Err: &notify.Error{Robot: r.Name, Kind: r.Kind,
			Msg: fmt.Sprintf("robot kind %q is not supported by this relay", r.Kind)}}}
	}
	return sent{robot: r, msg: msg, res: notify.Deliver(d.onItsWay(ctx, b), s, r, msg, d.o.Policy)}
}

// onItsWay is ctx with the hook that marks b's jobs as on their way
// (task.began) when the post to the robot takes its connection, just
// before the request is written: a post still waiting for one of the
// robot API's connections has not reached the robot.
func (d *Dispatcher) onItsWay(ctx context.Context, b batch) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) {
		for _, t := range b.tasks {
			if err := t.began(d.spool); err != nil {
				d.log.Error("spool write failed before a send; after a crash the alert would go again unmarked", "job", t.job.ID, "error", err.Error())
			}
		}
	}})
}

// applyResult applies what a send did to its batch: the robot's budget
// counts the send from the answer, and the jobs are delivered or failed
// (endAndReport), or go back to the queue (rate limited, or a transient
// failure with background rounds left).
func (d *Dispatcher) applyResult(b batch, sn sent) Outcome {
	res := sn.res
	now := d.clock.Now()
	first := b.tasks[0].job
	if b.taken > 0 {
		d.mu.Lock()
		d.robot(first.RobotID, first.Kind).budget.answeredAt(b.takenAt, now, b.taken)
		d.mu.Unlock()
	}
	alerts := 0
	for _, t := range b.tasks {
		alerts += 1 + t.job.Repeats
	}
	out := Outcome{Job: first, Robot: sn.robot, Message: sn.msg, Attempts: res.Attempts, Err: res.Err, Digest: alerts, At: now,
		Late: b.tasks[0].answered.Load()}
	switch {
	case res.Err == nil:
		out.Status = Delivered
	case res.Err.RateLimited:
		block := d.limits(first.Kind).Block
		d.mu.Lock()
		st := d.robot(first.RobotID, first.Kind)
		st.budget.blockedUntil = now.Add(block)
		d.mu.Unlock()
		d.saveBudgets(false) // a restart must not send to a blocked robot
		d.log.Warn("robot is rate limited; alerts wait for a digest", "robot", res.Err.Robot, "code", res.Err.Code,
			"until", now.Add(block).UTC().Format(time.RFC3339))
		return d.requeue(b.tasks, out)
	case res.Err.Retry && !res.Err.Timeout && d.o.Background && b.tasks[0].answered.Load() && first.Tries+1 < d.o.MaxTries:
		// (A robot that timed out may have posted the message: no more
		// rounds, so a slow robot does not get copies.)
		for _, t := range b.tasks {
			t.job.Tries++
			t.job.NotBefore = now.Add(retryDelay(t.job.Tries))
		}
		return d.requeue(b.tasks, out)
	default:
		out.Status = Failed
	}
	d.endAndReport(b.tasks, out)
	return out
}

// endAndReport ends tasks for good (end) and reports each job's final
// outcome, out, to OnFinal.
func (d *Dispatcher) endAndReport(tasks []*task, out Outcome) {
	for _, t := range tasks {
		t.end(d.spool)
		if d.o.OnFinal != nil {
			o := out
			o.Job = t.job
			d.o.OnFinal(o)
		}
	}
}

// requeue puts tasks back in their robot's queue after a send that must be
// tried again later. A job that cannot be saved for it is dropped: one
// not yet answered for (inside Submit) is refused (Unsaved); the others
// fail, recorded.
func (d *Dispatcher) requeue(tasks []*task, out Outcome) Outcome {
	out.Status = Queued
	for _, t := range tasks {
		err := d.enqueue(t, true)
		switch {
		case err == nil:
		case len(tasks) == 1 && !t.answered.Load():
			return d.refuseUnsaved(t, err, out.At)
		default:
			o := out
			o.Status, o.Err = Failed, &notify.Error{Robot: fmt.Sprintf("robot %d", t.job.RobotID), Kind: t.job.Kind,
				Msg: "the alert had to wait for the robot and could not be saved for later: " + err.Error()}
			d.endAndReport([]*task{t}, o)
		}
	}
	return out
}

// retryDelay is the wait before background round n: 30 s, 1 min, 2 min, …
// capped at 10 minutes.
func retryDelay(n int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < n && d < 10*time.Minute; i++ {
		d *= 2
	}
	return min(d, 10*time.Minute)
}
