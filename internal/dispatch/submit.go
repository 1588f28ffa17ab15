package dispatch

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sentry-white/sentry-white/internal/notify"
)

// Submit delivers jobs, each on its own goroutine, and waits until they are
// done or the deadline passes. Jobs over their robot's budget are queued
// for a digest; jobs still running at the deadline continue detached from
// ctx's cancellation and are spooled so a restart re-sends them. A job
// that would have to outlive the request but cannot be saved is, when it
// is under way, waited for (delivered within the request after all), and
// otherwise dropped with the status Unsaved: the caller must not claim it
// was accepted.
func (d *Dispatcher) Submit(ctx context.Context, jobs []*Job, deadline time.Time) []Outcome {
	if !d.startedOnce.Load() {
		d.Start()
	}
	outs := make([]Outcome, len(jobs))
	tasks := make([]task, len(jobs))
	done := make(chan int, len(jobs))
	var mu sync.Mutex
	running := 0
	now := d.clock.Now()
	for i, j := range jobs {
		if j.ID == "" {
			j.ID = NewID()
		}
		if j.Created.IsZero() {
			j.Created = now
		}
		t := &tasks[i]
		t.job = j
		d.mu.Lock()
		st := d.robot(j.RobotID, j.Kind)
		ok := len(st.queue.pending) == 0 && st.budget.take(now, d.limits(st.kind).Limits, cost(j))
		d.mu.Unlock()
		if !ok {
			if err := d.enqueue(t, true); err != nil {
				outs[i] = d.refuseUnsaved(t, err, now)
			} else {
				outs[i] = Outcome{Job: j, Status: Queued, At: now}
			}
			continue
		}
		running++
		d.wg.Add(1)
		d.busy.Add(1)
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.o.SendTimeout)
		t.cancel = cancel
		go func() {
			defer d.wg.Done()
			defer cancel()
			defer d.busy.Add(-1)
			b := batch{tasks: []*task{t}, jobs: t.alone(), takenAt: now, taken: cost(j)}
			res := d.send(sctx, b)
			if !t.state.CompareAndSwap(sendRunning, sendReturned) {
				done <- i // handed to the queue at the deadline: the queue applies its result
				return
			}
			// Applied under mu: detach either reports this outcome or has
			// marked the job answered for before it is applied (Late).
			mu.Lock()
			outs[i] = d.applyResult(b, res)
			mu.Unlock()
			done <- i
		}()
	}
	timer := time.NewTimer(max(time.Until(deadline), 0))
	defer timer.Stop()
	returned := make([]bool, len(jobs))
	for running > 0 {
		select {
		case i := <-done:
			returned[i] = true
			running--
		case <-timer.C:
			return d.detach(tasks, outs, &mu, returned, done, running)
		}
	}
	return outs
}

// Enqueue queues jobs for their robots (spooled), as if they had been over
// budget; a worker or Drain sends them as the budgets allow. It returns the
// first failure to save one (such a job is not queued, except on Function
// Compute).
//
// Submit and Enqueue take jobs built anywhere, as plain records: the
// relay's for a webhook, a hand-off's, or timed work's, which decides when
// its jobs are due and hands them in then — Submit when an answer waits on
// their delivery, Enqueue when none does.
func (d *Dispatcher) Enqueue(jobs []*Job) error {
	var first error
	tasks := make([]task, len(jobs))
	for i, j := range jobs {
		if j.ID == "" {
			j.ID = NewID()
		}
		tasks[i].job = j
		if err := d.enqueue(&tasks[i], true); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// detach answers for the jobs still under way at Submit's deadline: on
// Function Compute they are stopped and queued for a hand-off; elsewhere
// they go on after the answer, saved to the spool first. A job that
// cannot be saved is waited for instead.
func (d *Dispatcher) detach(tasks []task, outs []Outcome, mu *sync.Mutex, returned []bool,
	done chan int, running int) []Outcome {
	mu.Lock()
	snapshot := slices.Clone(outs)
	var wait, spool []int
	for i := range tasks {
		t := &tasks[i]
		if snapshot[i].Status != "" || returned[i] {
			continue
		}
		if d.o.RequeueInFlight && t.state.CompareAndSwap(sendRunning, sendRequeued) {
			// Nothing may run after the answer here: stop the send; the
			// job is queued for a hand-off below.
			t.cancel()
			spool = append(spool, i)
			continue
		}
		if d.spool != nil && d.spool.Err() != nil {
			wait = append(wait, i) // cannot be made durable: wait for it now
			continue
		}
		// Answered for as pending: its outcome, when it comes, is Late.
		t.answered.Store(true)
		snapshot[i] = Outcome{Job: t.job, Status: Pending, At: d.clock.Now()}
		spool = append(spool, i)
	}
	mu.Unlock()
	for _, i := range spool {
		t := &tasks[i]
		if snapshot[i].Status == Pending {
			if err := t.save(d.spool, true); err != nil {
				d.log.Error("spool write failed; the alert is still being sent", "job", t.job.ID, "error", err.Error())
			}
			continue
		}
		// Requeued on Function Compute: the robot may have taken it
		// already (at least once), so it goes again saying so.
		t.markPossibleRepeat() // its send may still be reading it
		if err := d.enqueue(t, true); err != nil {
			snapshot[i] = d.refuseUnsaved(t, err, d.clock.Now())
		} else {
			snapshot[i] = Outcome{Job: t.job, Status: Pending, At: d.clock.Now()}
		}
	}
	for len(wait) > 0 && running > 0 {
		i := <-done
		returned[i] = true
		running--
		if k := slices.Index(wait, i); k >= 0 {
			wait = slices.Delete(wait, k, k+1)
			mu.Lock()
			snapshot[i] = outs[i]
			mu.Unlock()
		}
	}
	return snapshot
}

// refuseUnsaved ends a job that had to wait but could not be saved, and
// says so: the caller must not claim it was accepted.
func (d *Dispatcher) refuseUnsaved(t *task, err error, now time.Time) Outcome {
	t.end(d.spool)
	j := t.job
	d.log.Error("an alert that must wait for its robot could not be saved; it is refused", "job", j.ID,
		"robot_id", j.RobotID, "error", err.Error())
	return Outcome{Job: j, Status: Unsaved, At: now, Err: &notify.Error{Robot: fmt.Sprintf("robot %d", j.RobotID), Kind: j.Kind,
		Msg: "the alert must wait for the robot, but it cannot be saved for later: " + err.Error(),
		Fix: spoolFix}}
}

// spoolFix is what to do about an alert the spool could not keep.
var spoolFix = &notify.Fix{Code: "spool", Words: notify.Text{
	Zh: "中继无法暂存这条告警：请腾出磁盘空间或修正暂存目录（SENTRY_WHITE_SPOOL）的权限；Sentry 可能会重发",
	En: "free disk space or fix the spool folder's permissions (SENTRY_WHITE_SPOOL); Sentry may send it again"}}
