// Package dispatch delivers rendered alerts to robots without losing any:
// it keeps each robot under its rate limit, merges what exceeds the budget
// into digests sent when the budget allows, backs off while a robot is
// blocked, retries transient failures, and spools accepted alerts to disk
// so that a restart loses nothing.
package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notifiers"
	"github.com/sentry-white/sentry-white/internal/notify"
)

// Clock is the time source; tests use a fake one.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f once d has passed, unless stop is called first;
	// stop reports whether it prevented the call.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}

// after returns a channel that receives once d has passed. wake runs first,
// in the clock's goroutine, so whoever waits on the channel is counted busy
// again before it can be seen idle.
func (d *Dispatcher) after(wait time.Duration, wake func()) (<-chan struct{}, func() bool) {
	ch := make(chan struct{}, 1)
	stop := d.clock.AfterFunc(wait, func() {
		if wake != nil {
			wake()
		}
		ch <- struct{}{}
	})
	return ch, stop
}

// Options configure a Dispatcher.
type Options struct {
	// Senders post to robots, by kind.
	Senders map[string]notify.Sender
	// Kind returns a robot kind's description (budget); nil means the
	// registry's (notifiers.Lookup). A job of an unknown kind fails.
	Kind func(name string) *notify.Kind
	// Resolve addresses jobs when they are sent (required).
	Resolve Resolver
	Clock   Clock // nil means the real clock
	Policy  notify.Policy
	Logger  *slog.Logger
	// Spool is a directory for jobs accepted but not yet delivered; "" keeps
	// them in memory only.
	Spool string
	// Store names the configuration store (document) the jobs are made for,
	// e.g. file:/srv/sentry-white-data or oss://bucket/api/. With it, the
	// store's jobs and budgets are kept in a folder of their own in Spool,
	// locked while the dispatcher runs; what other stores left there is
	// never sent, counted or deleted, only reported (Foreign).
	Store string
	// Background runs a worker per robot that sends queued jobs when the
	// budget allows (a plain server). Without it, queued jobs wait for
	// Drain (Function Compute, where nothing may run after the answer).
	Background bool
	// OnFinal is called once per job with its final outcome (delivered or
	// failed), e.g. to record it.
	OnFinal func(Outcome)
	// RequeueInFlight cancels sends still under way at Submit's deadline
	// and queues their jobs (Function Compute: the instance may be frozen
	// or destroyed once the answer is sent, so they are handed on).
	RequeueInFlight bool
	// MaxTries bounds background retry rounds of a transiently failing job
	// (default 6, backing off from 30 s to 10 min).
	MaxTries int
	// SendTimeout bounds one delivery with its retries (default 30 s).
	SendTimeout time.Duration
	// MaxQueue bounds the alerts waiting for one robot (default 500): past
	// it, a new alert is folded into the robot's digest as a count.
	MaxQueue int
}

// Dispatcher delivers jobs; it is safe for concurrent use.
type Dispatcher struct {
	o      Options
	clock  Clock
	log    *slog.Logger
	spool  *spool
	mu     sync.Mutex
	robots map[int64]*robotState
	stop   chan struct{}
	wg     sync.WaitGroup // workers and detached sends
	closed bool
	// busy counts goroutines that may still change the queues or the
	// robot's answers: sends under way and workers not blocked on the
	// clock. With a fake clock, busy == 0 means nothing moves until the
	// clock does (tests wait for it instead of sleeping).
	busy atomic.Int64
	// saveMu orders budget saves: a later snapshot is never overwritten
	// by an earlier one.
	saveMu sync.Mutex
	// saveFailing is set while the budgets cannot be saved (reported, and
	// retried by saveRetry).
	saveFailing bool
	saveErr     error
	saveRetry   func() bool
	// spentAt is the start after a crash: for one window from then, every
	// robot is taken to have spent its budget (zero otherwise).
	spentAt time.Time
	// foldedAt is when a full queue last folded an alert (GET / says
	// degraded for a while after).
	foldedAt time.Time
	// started is set by Start (or the first Submit): background workers
	// run only from then, so none calls the Resolver or OnFinal before the
	// program has finished wiring them.
	started bool
	// startedOnce is started, read without d.mu by Submit.
	startedOnce atomic.Bool
}

// startWorker reports whether st needs a background worker now, and
// counts it. Call with d.mu held.
func (d *Dispatcher) startWorker(st *robotState) bool {
	if !d.o.Background || !d.started || st.queue.working || d.closed || len(st.queue.pending) == 0 {
		return false
	}
	st.queue.working = true
	d.wg.Add(1)
	d.busy.Add(1) // until the worker blocks on the clock or returns
	return true
}

// Start lets background workers run: the alerts a previous run left in
// the spool start going out. Submit calls it too.
func (d *Dispatcher) Start() {
	d.mu.Lock()
	d.started = true
	d.startedOnce.Store(true)
	var sts []*robotState
	for _, st := range d.robots {
		if d.startWorker(st) {
			sts = append(sts, st)
		}
	}
	d.mu.Unlock()
	for _, st := range sts {
		go d.work(st)
	}
}

// robotState is what the dispatcher keeps per robot id: its rate budget
// and its queue.
type robotState struct {
	id     int64
	kind   string // the robot's kind when it was first seen
	budget budget
	queue  queue
}

// New returns a dispatcher and requeues what its spool holds.
func New(o Options) (*Dispatcher, error) {
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Policy.Attempts == 0 {
		o.Policy = notify.DefaultPolicy
	}
	if o.MaxTries == 0 {
		o.MaxTries = 6
	}
	if o.SendTimeout == 0 {
		o.SendTimeout = 30 * time.Second
	}
	if o.Kind == nil {
		o.Kind = notifiers.Lookup
	}
	if o.Resolve == nil {
		return nil, errors.New("dispatch: no Resolver")
	}
	if o.MaxQueue <= 0 {
		o.MaxQueue = defaultMaxQueue
	}
	d := &Dispatcher{o: o, clock: o.Clock, log: o.Logger, robots: map[int64]*robotState{}, stop: make(chan struct{})}
	if o.Spool != "" {
		sp, jobs, budgets, crashed, err := openSpool(o.Spool, o.Store)
		if err != nil {
			return nil, err
		}
		d.spool = sp
		for _, f := range sp.foreign {
			store := f.Store
			if store == "" {
				store = "not named (spooled by an older version)"
			}
			d.log.Warn("the spool folder holds alerts of another store; this relay leaves them alone (a relay on that store sends them)",
				"folder", f.Folder, "store", store, "alerts", f.Alerts)
		}
		if err := sp.Err(); err != nil {
			d.log.Error("spool unusable: alerts that must wait for a robot cannot be saved and are refused (503) until it is fixed",
				"spool", o.Spool, "error", err.Error())
		}
		d.restoreBudgets(budgets, jobs, crashed)
		// Saved at once, unmarked as complete: should this run crash, the
		// next start knows it, whatever was sent or spooled meanwhile.
		d.saveBudgets(false)
		for _, j := range jobs {
			if j.Sending {
				// Under way when the last run stopped: the robot may have
				// it. Sent again (at least once), saying so.
				j.Sending, j.PossibleRepeat = false, true
			}
			_ = d.enqueue(&task{job: j, spooled: true}, false)
		}
		if len(jobs) > 0 {
			d.log.Info("requeued spooled alerts", "count", len(jobs))
		}
	}
	return d, nil
}

// restoreBudgets takes the robots' sends and blocks from before a restart.
// A robot with spooled alerts but no saved sends (a crash before they
// were saved) is taken to have spent its budget: its alerts wait one
// window rather than risk the vendor's block (DingTalk: 10 minutes).
// After a crash (budgets saved, but not at a Close) the last sends may be
// missing from what was saved: every robot is taken to have spent its
// budget at the start, for one window.
func (d *Dispatcher) restoreBudgets(saved map[int64]savedBudget, jobs []*Job, crashed bool) {
	now := d.clock.Now()
	for id, b := range saved {
		st := &robotState{id: id, kind: b.Kind, budget: budget{sent: b.Sent, blockedUntil: b.BlockedUntil}}
		d.robots[id] = st
	}
	if crashed {
		d.spentAt = now
		for _, st := range d.robots {
			d.spend(st, now)
		}
		d.log.Warn("the last run did not stop cleanly: robots send again once a rate window has passed")
	}
	for _, j := range jobs {
		if _, ok := d.robots[j.RobotID]; !ok {
			st := &robotState{id: j.RobotID, kind: j.Kind}
			d.robots[j.RobotID] = st
			d.spend(st, now)
		}
	}
}

// spend takes st's whole budget at at, for each limit whose window has
// not passed since. Call with d.mu held (or before the dispatcher runs).
func (d *Dispatcher) spend(st *robotState, at time.Time) {
	st.budget.spendAll(at, d.clock.Now(), d.limits(st.kind).Limits)
}

// saveBudgets writes the robots' budgets to the spool; clean marks them
// complete (Close). It runs at the start (so that the next start knows
// whether this run crashed), when a robot is blocked, and at Close: after a
// crash every robot is taken to have spent its budget anyway, so a send
// needs no save of its own. A failed save is logged, shown by Health and
// tried again until it succeeds.
func (d *Dispatcher) saveBudgets(clean bool) {
	if d.spool == nil {
		return
	}
	d.saveMu.Lock()
	defer d.saveMu.Unlock()
	d.mu.Lock()
	now := d.clock.Now()
	out := make(map[int64]savedBudget, len(d.robots))
	for id, st := range d.robots {
		if b := &st.budget; len(b.sent) > 0 || b.blockedUntil.After(now) {
			out[id] = savedBudget{Kind: st.kind, Sent: slices.Clone(b.sent), BlockedUntil: b.blockedUntil}
		}
	}
	d.mu.Unlock()
	err := d.spool.saveBudgets(out, clean)
	d.mu.Lock()
	defer d.mu.Unlock()
	if err == nil {
		if d.saveFailing {
			d.log.Info("robot budgets saved to the spool again")
		}
		d.saveFailing, d.saveErr = false, nil
		return
	}
	if !d.saveFailing {
		d.log.Error("robot budgets not saved to the spool; trying again every 5 s", "error", err.Error())
	}
	d.saveFailing, d.saveErr = true, err
	if d.saveRetry == nil && !d.closed {
		d.saveRetry = d.clock.AfterFunc(5*time.Second, func() {
			d.mu.Lock()
			d.saveRetry = nil
			d.mu.Unlock()
			d.saveBudgets(false)
		})
	}
}

// Health says what keeps the dispatcher from its promise, or "" when
// nothing does: a spool that cannot be written, or a robot's queue full
// within the last ten minutes.
func (d *Dispatcher) Health() string {
	if d.spool != nil {
		if err := d.spool.Err(); err != nil {
			return "alerts that must wait cannot be saved: " + err.Error()
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.saveFailing {
		return "the robots' rate budgets cannot be saved (a restart would not know them): " + d.saveErr.Error()
	}
	if !d.foldedAt.IsZero() && d.clock.Now().Sub(d.foldedAt) < 10*time.Minute {
		return fmt.Sprintf("a robot's queue reached %d alerts; further alerts are counted in its next digest", d.o.MaxQueue)
	}
	return ""
}

// limits returns the limits of a robot kind; an unknown kind has none
// (its jobs fail when sent).
func (d *Dispatcher) limits(kind string) notify.Budget {
	if k := d.o.Kind(kind); k != nil {
		return k.Budget
	}
	return notify.Budget{DigestItems: 1}
}

// robot returns the state of a robot, by id: limits follow the robot
// through edits of its name or token; kind is its kind when it is first
// seen. Call with d.mu held.
func (d *Dispatcher) robot(id int64, kind string) *robotState {
	st := d.robots[id]
	if st == nil {
		st = &robotState{id: id, kind: kind}
		d.robots[id] = st
		if !d.spentAt.IsZero() {
			d.spend(st, d.spentAt) // first seen within a window of a crash
		}
	}
	return st
}

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
		Fix: "free disk space or fix the spool folder's permissions (SENTRY_WHITE_SPOOL); Sentry may send it again"}}
}

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
	return sent{robot: r, msg: msg, res: notify.Deliver(ctx, s, r, msg, d.o.Policy)}
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

// enqueue adds t to its robot's queue (and, with persist, the spool) and,
// in background mode, makes sure a worker serves the robot. A repeat of an
// issue already waiting only raises that job's count; past MaxQueue, an
// alert of another issue is folded into the queue's last job as a count.
// In server mode a job that cannot be saved is not queued: the error says
// why (on Function Compute the hand-off, not the spool, keeps it).
func (d *Dispatcher) enqueue(t *task, persist bool) error {
	j := t.job
	d.mu.Lock()
	st := d.robot(j.RobotID, j.Kind)
	into, folded := st.queue.merge(t, d.o.MaxQueue)
	if folded {
		if now := d.clock.Now(); now.Sub(d.foldedAt) > time.Minute {
			d.log.Warn("a robot's queue is full: further alerts are counted in its next digest",
				"robot_id", j.RobotID, "queued", len(st.queue.pending))
		}
		d.foldedAt = d.clock.Now()
	}
	if into != nil {
		d.mu.Unlock()
		// The waiting job carries the issue. A repeat's count lives in
		// memory only (a crash loses the count, not the alert); a fold
		// is saved with it, since those are other alerts.
		t.end(d.spool)
		if folded && into.spooled {
			if err := into.save(d.spool, false); err != nil {
				d.log.Error("spool write failed for a folded count", "job", into.job.ID, "error", err.Error())
			}
		}
		return nil
	}
	d.mu.Unlock()
	if persist {
		if err := t.save(d.spool, false); err != nil {
			if !d.o.RequeueInFlight {
				return err
			}
			d.log.Error("spool write failed; the alert waits in memory for its hand-off", "job", j.ID, "error", err.Error())
		}
	}
	t.answered.Store(true) // from here the queue delivers it
	d.mu.Lock()
	st.queue.push(t)
	start := d.startWorker(st)
	d.mu.Unlock()
	if start {
		go d.work(st)
	}
	return nil
}

// next takes the batch st's robot may send now, or returns how long to
// wait for one. Call with d.mu held.
func (d *Dispatcher) next(st *robotState, now time.Time) (batch, time.Duration) {
	if len(st.queue.pending) == 0 {
		return batch{}, 0
	}
	lim := d.limits(st.kind)
	n := st.queue.cost()
	if w := st.budget.wait(now, lim.Limits, n); w > 0 {
		return batch{}, w
	}
	tasks, soonest := st.queue.take(now, lim.DigestItems)
	if tasks == nil {
		return batch{}, soonest
	}
	st.budget.count(now, n)
	jobs := make([]*Job, len(tasks))
	for i, t := range tasks {
		jobs[i] = t.job
	}
	return batch{tasks: tasks, jobs: jobs, takenAt: now, taken: n}, 0
}

// work sends st's queue as the budget allows until it is empty.
func (d *Dispatcher) work(st *robotState) {
	defer d.wg.Done()
	defer d.busy.Add(-1)
	for {
		d.mu.Lock()
		now := d.clock.Now()
		b, wait := d.next(st, now)
		if b.tasks == nil && wait == 0 || d.closed {
			st.queue.working = false
			d.mu.Unlock()
			return
		}
		d.mu.Unlock()
		if b.tasks == nil {
			d.busy.Add(-1) // blocked on the clock from here; the wake counts it again
			ch, stop := d.after(wait, func() { d.busy.Add(1) })
			select {
			case <-ch:
			case <-d.stop:
				if stop() {
					d.busy.Add(1)
				} else {
					<-ch
				}
				d.mu.Lock()
				st.queue.working = false
				d.mu.Unlock()
				return
			}
			continue
		}
		d.sendBatch(b)
	}
}

// sendBatch sends a batch taken from a queue and applies the result.
func (d *Dispatcher) sendBatch(b batch) Outcome {
	ctx, cancel := context.WithTimeout(context.Background(), d.o.SendTimeout)
	defer cancel()
	// Marked in the spool before the post: should the relay stop before
	// the answer, the next start knows the robot may have the message.
	for _, t := range b.tasks {
		if t.spooled {
			if err := t.save(d.spool, true); err != nil {
				d.log.Error("spool write failed before a send; after a crash the alert would go again unmarked", "job", t.job.ID, "error", err.Error())
			}
		}
	}
	out := d.applyResult(b, d.send(ctx, b))
	d.log.Info("queued alerts sent", "robot_id", b.tasks[0].job.RobotID, "alerts", len(b.tasks), "result", out.Status)
	return out
}

// Drain sends every queued job the budgets allow, waiting for budget, until
// the queues are empty or ctx ends. Function Compute's asynchronous
// invocation and shutdown use it.
func (d *Dispatcher) Drain(ctx context.Context) error { return d.drain(ctx, true) }

// DrainReady sends the queued jobs whose robots have budget now and returns
// without waiting for the others.
func (d *Dispatcher) DrainReady(ctx context.Context) error { return d.drain(ctx, false) }

func (d *Dispatcher) drain(ctx context.Context, block bool) error {
	for {
		d.mu.Lock()
		now := d.clock.Now()
		var ready batch
		var wait time.Duration = -1
		for _, st := range d.robots {
			if st.queue.working {
				continue // a background worker serves it
			}
			b, w := d.next(st, now)
			if b.tasks != nil {
				ready = b
				break
			}
			if len(st.queue.pending) > 0 && (wait < 0 || w < wait) {
				wait = w
			}
		}
		d.mu.Unlock()
		switch {
		case ready.tasks != nil:
			d.sendBatch(ready)
		case wait < 0 || !block:
			return nil
		default:
			ch, stop := d.after(wait, nil)
			select {
			case <-ch:
			case <-ctx.Done():
				stop()
				return ctx.Err()
			}
		}
	}
}

// SpoolFolder is the folder this dispatcher keeps its store's jobs and
// budgets in ("" without a spool).
func (d *Dispatcher) SpoolFolder() string {
	if d.spool == nil {
		return ""
	}
	return d.spool.dir
}

// Foreign lists the alerts the spool folder held at the start for other
// stores (or from an older version, store unknown): left alone.
func (d *Dispatcher) Foreign() []ForeignSpool {
	if d.spool == nil {
		return nil
	}
	return slices.Clone(d.spool.foreign)
}

// Queued returns the number of jobs waiting for budget.
func (d *Dispatcher) Queued() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, st := range d.robots {
		n += len(st.queue.pending)
	}
	return n
}

// Close stops the workers after in-flight sends finish; queued jobs stay in
// the spool for the next start.
func (d *Dispatcher) Close(ctx context.Context) error {
	d.mu.Lock()
	if !d.closed {
		d.closed = true
		close(d.stop)
	}
	if d.saveRetry != nil {
		d.saveRetry()
		d.saveRetry = nil
	}
	d.mu.Unlock()
	err := d.Wait(ctx)
	d.saveBudgets(true)
	if d.spool != nil {
		d.spool.release()
	}
	return err
}

// Wait blocks until detached sends and workers are idle or ctx ends.
func (d *Dispatcher) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TakeQueued removes every queued job no background worker is serving,
// their spool files too, and returns them, e.g. to hand them to another
// invocation; Enqueue takes back those that stay.
func (d *Dispatcher) TakeQueued() []*Job {
	d.mu.Lock()
	defer d.mu.Unlock()
	var taken []*task
	for _, st := range d.robots {
		if st.queue.working {
			continue
		}
		taken = append(taken, st.queue.pending...)
		st.queue.pending = nil
	}
	var out []*Job
	for _, t := range taken {
		t.unspool(d.spool)
		out = append(out, t.job)
	}
	return out
}

// Enqueue queues jobs for their robots (spooled), as if they had been over
// budget; a worker or Drain sends them. It returns the first failure to
// save one (such a job is not queued, except on Function Compute).
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
