// Package dispatch delivers rendered alerts to robots without losing any:
// it keeps each robot under its rate limit, merges what exceeds the budget
// into digests sent when the budget allows, backs off while a robot is
// blocked, retries transient failures, and spools accepted alerts to disk
// so that a restart loses nothing.
package dispatch

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
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

// maxDigestJobs bounds the alerts one digest message accounts for, however
// few issues they are.
const maxDigestJobs = 5000

// Job is one rendered alert for one robot. It names the robot and the
// project by id and holds no credential: the robot, its keyword and the
// owners to @-mention are looked up in the current configuration when the
// job is sent (Resolver), so an edit reaches queued alerts, and spool files
// and hand-offs carry no secret.
type Job struct {
	ID        string `json:"id"`
	RequestID string `json:"request_id,omitempty"`
	RobotID   int64  `json:"robot_id"`
	// Kind is the robot's kind when the job was made, for its budget until
	// the robot is looked up again.
	Kind      string `json:"kind"`
	ProjectID int64  `json:"project_id,omitempty"`
	Project   string `json:"project"` // slug
	// ProjectName is the project's display name.
	ProjectName string `json:"project_name,omitempty"`
	// PayloadOrg is the organization the webhook named when it is not the
	// project's (the project was found by its slug alone).
	PayloadOrg string `json:"payload_org,omitempty"`
	// Message is the alert as rendered, without the robot's addressing
	// (keyword, mentions), which the Resolver adds.
	Message notify.Message `json:"message"`
	// Cost is how many of the robot's messages the job takes (a kind's
	// mentions by mobile need a second message).
	Cost    int       `json:"cost,omitempty"`
	Created time.Time `json:"created"`
	// Tries counts background delivery rounds that failed transiently.
	Tries     int       `json:"tries,omitempty"`
	NotBefore time.Time `json:"not_before,omitempty"`
	// Repeats counts later alerts of the same issue merged into this queued
	// job, so a storm of one error holds one job, not thousands.
	Repeats int `json:"repeats,omitempty"`
	// Folded counts alerts of other issues folded into this job because
	// its robot's queue was full: the digest reports them as a number.
	Folded int `json:"folded,omitempty"`
	// RepeatKey identifies the issue for the relay's repeat window (a
	// hash, opaque here), so the window starts only once it is delivered.
	RepeatKey string `json:"repeat_key,omitempty"`
	// Silent is set on an alert that came in its project's quiet hours
	// (mode silent): it is sent without any @.
	Silent bool `json:"silent,omitempty"`
	// Source is what the message was rendered from, kept by the relay so
	// another invocation can render it again from the document it reads
	// (a hand-off); opaque here, and not spooled.
	Source any `json:"-"`
	// Sending is set in the job's spool file before its message is posted,
	// and cleared when it goes back to the queue: a job found so at a start
	// was under way when the relay stopped, and the robot may have it.
	Sending bool `json:"sending,omitempty"`
	// PossibleRepeat marks a job the robot may already have (a send under
	// way when the relay stopped, or stopped at the answer on Function
	// Compute): it is sent again, saying 可能重复 / possible repeat.
	PossibleRepeat bool `json:"possible_repeat,omitempty"`

	// answered is set once Sentry was told the job continues (202): from
	// then on a transient failure is retried in the background instead of
	// being reported.
	answered atomic.Bool
	// state is jobRunning while Submit's send is under way, then
	// jobFinished, or jobRequeued when the deadline handed it to the queue.
	state atomic.Int32

	// spoolMu orders writing the job's spool file and settling it: a job
	// settled (delivered, failed or merged) is never written again, so no
	// file outlives a delivered alert to be sent again at a restart.
	spoolMu sync.Mutex
	// spooled is set once the job may have a spool file: a job delivered
	// within its request never had one, and removing it anyway cost a
	// syscall per webhook.
	spooled bool
	// settled is set once the job reached its end.
	settled bool
	// takenAt is when the budget was taken for the job's send, and taken
	// how many messages it took (0 once the send's answer moved them).
	takenAt time.Time
	taken   int
}

// Job states while Submit sends it.
const (
	jobRunning int32 = iota
	jobFinished
	jobRequeued
)

// NewID returns a random job id: 24 hex digits (96 bits) from the
// runtime's ChaCha8 generator, seeded from the system's entropy. Ids name
// spool files and history records; they need to be unique, not secret, so
// no system call per id.
func NewID() string {
	var b [12]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint32(b[8:], rand.Uint32())
	return hex.EncodeToString(b[:])
}

// Status of a job in an Outcome.
const (
	Delivered = "delivered" // the robot accepted it
	Failed    = "failed"    // final failure: recorded, not retried
	Queued    = "queued"    // over the robot's budget: it goes out in a digest
	Pending   = "pending"   // still being delivered after the answer
	// Unsaved: the job had to outlive the request and could not be saved
	// (the spool cannot be written); it is dropped, and the caller must say
	// so rather than claim the alert was accepted.
	Unsaved = "unsaved"
)

// Outcome is what happened to a job.
type Outcome struct {
	Job *Job
	// Robot is the robot as the job was sent to it, and Message what was
	// sent (a digest for several jobs); nil when the job was not sent.
	Robot    *config.Robot
	Message  *notify.Message
	Status   string
	Attempts int
	Err      *notify.Error
	// Digest is how many jobs went out in the same message (1 for a plain
	// message).
	Digest int
	At     time.Time
	// Late is set on a final outcome that came after Submit answered for
	// the job (it was queued, retried or still under way at the deadline):
	// the outcomes Submit returned did not report it.
	Late bool
}

// Resolver addresses jobs from the current configuration: it returns the
// robot they go to (by the jobs' RobotID) and the message to send — the
// job's own, or a digest of several, with the robot's keyword and the
// owners to @-mention now. An error (the robot was deleted) fails the jobs.
type Resolver func(ctx context.Context, jobs []*Job) (*config.Robot, *notify.Message, error)

// Options configure a Dispatcher.
type Options struct {
	// Senders post to robots, by kind.
	Senders map[string]notify.Sender
	// Kind returns a robot kind's description (budget), nil for a kind
	// it does not know (required; the registry's Lookup). A job of an
	// unknown kind fails.
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

// defaultMaxQueue bounds a robot's queue: 500 alerts are 25 minutes of a
// DingTalk robot's budget, and at most a few MB of memory and spool.
const defaultMaxQueue = 500

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
	// clock does (tests settle on it instead of sleeping).
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
	if !d.o.Background || !d.started || st.working || d.closed || len(st.pending) == 0 {
		return false
	}
	st.working = true
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

type robotState struct {
	id           int64
	kind         string
	sent         []time.Time // send times within the longest window
	blockedUntil time.Time
	pending      []*Job
	working      bool
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
		return nil, errors.New("dispatch: no Kind")
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
			j.spooled = true
			if j.Sending {
				// Under way when the last run stopped: the robot may have
				// it. Sent again (at least once), saying so.
				j.Sending, j.PossibleRepeat = false, true
			}
			_ = d.enqueue(j, false)
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
		st := &robotState{id: id, kind: b.Kind, sent: b.Sent, blockedUntil: b.BlockedUntil}
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
	for _, l := range d.budget(st.kind).Limits {
		if d.clock.Now().Sub(at) >= l.Per {
			continue
		}
		for range l.N {
			st.sent = append(st.sent, at)
		}
	}
	slices.SortFunc(st.sent, time.Time.Compare)
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
		if len(st.sent) > 0 || st.blockedUntil.After(now) {
			out[id] = savedBudget{Kind: st.kind, Sent: slices.Clone(st.sent), BlockedUntil: st.blockedUntil}
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

// budget returns the limits of a robot kind; an unknown kind has none
// (its jobs fail when sent).
func (d *Dispatcher) budget(kind string) notify.Budget {
	if k := d.o.Kind(kind); k != nil {
		return k.Budget
	}
	return notify.Budget{DigestItems: 1}
}

// state returns the budget state of a robot, by id: limits follow the
// robot through edits of its name or token. Call with d.mu held.
func (d *Dispatcher) state(j *Job) *robotState {
	st := d.robots[j.RobotID]
	if st == nil {
		st = &robotState{id: j.RobotID, kind: j.Kind}
		d.robots[j.RobotID] = st
		if !d.spentAt.IsZero() {
			d.spend(st, d.spentAt) // first seen within a window of a crash
		}
	}
	return st
}

// cost is how many of its robot's messages j takes.
func cost(j *Job) int { return max(j.Cost, 1) }

// wait returns how long until st may send n messages (0 means now). Call
// with d.mu held.
func (d *Dispatcher) wait(st *robotState, now time.Time, n int) time.Duration {
	var w time.Duration
	if now.Before(st.blockedUntil) {
		w = st.blockedUntil.Sub(now)
	}
	b := d.budget(st.kind)
	longest := time.Duration(0)
	for _, l := range b.Limits {
		longest = max(longest, l.Per)
		// The (N-n+1)-th most recent send within the window must leave it.
		k := 0
		for i := len(st.sent) - 1; i >= 0; i-- {
			if now.Sub(st.sent[i]) < l.Per {
				k++
				if k == l.N-n+1 {
					w = max(w, st.sent[i].Add(l.Per).Sub(now))
					break
				}
			}
		}
	}
	// Forget sends older than the longest window.
	i := 0
	for i < len(st.sent) && now.Sub(st.sent[i]) >= longest {
		i++
	}
	st.sent = st.sent[i:]
	return w
}

// answered moves n sends taken at from to to, when the robot answered.
// The robot counts a message when it receives it, somewhere between the
// two: a window counted from the take let one message too many through
// when an earlier send had been slow (TestBudgetCountsFromTheAnswer).
// Call with d.mu held.
func (st *robotState) answered(from, to time.Time, n int) {
	for i := len(st.sent) - 1; i >= 0 && n > 0; i-- {
		if st.sent[i].Equal(from) {
			st.sent[i] = to
			n--
		}
	}
	slices.SortFunc(st.sent, time.Time.Compare)
}

// take records a send now if the budget allows it. Call with d.mu held.
func (d *Dispatcher) take(st *robotState, now time.Time, n int) bool {
	if d.wait(st, now, n) > 0 {
		return false
	}
	for range n {
		st.sent = append(st.sent, now)
	}
	return true
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
	cancels := make([]context.CancelFunc, len(jobs))
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
		d.mu.Lock()
		st := d.state(j)
		ok := len(st.pending) == 0 && d.take(st, now, cost(j))
		if ok {
			j.takenAt, j.taken = now, cost(j)
		}
		d.mu.Unlock()
		if !ok {
			if err := d.enqueue(j, true); err != nil {
				outs[i] = d.unsaved(j, err, now)
			} else {
				outs[i] = Outcome{Job: j, Status: Queued, At: now}
			}
			continue
		}
		running++
		d.wg.Add(1)
		d.busy.Add(1)
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.o.SendTimeout)
		cancels[i] = cancel
		go func() {
			defer d.wg.Done()
			defer cancel()
			defer d.busy.Add(-1)
			res := d.send(sctx, []*Job{j})
			if !j.state.CompareAndSwap(jobRunning, jobFinished) {
				done <- i // handed back to the queue at the deadline: the queue settles it
				return
			}
			// Settled under mu: detach either reports this outcome or has
			// marked the job answered for before it is settled (Late).
			mu.Lock()
			outs[i] = d.settle([]*Job{j}, res)
			mu.Unlock()
			done <- i
		}()
	}
	timer := time.NewTimer(max(time.Until(deadline), 0))
	defer timer.Stop()
	finished := make([]bool, len(jobs))
	for running > 0 {
		select {
		case i := <-done:
			finished[i] = true
			running--
		case <-timer.C:
			return d.detach(jobs, outs, &mu, finished, cancels, done, running)
		}
	}
	return outs
}

// detach answers for the jobs still under way at Submit's deadline: on
// Function Compute they are stopped and queued for a hand-off; elsewhere
// they go on after the answer, saved to the spool first. A job that
// cannot be saved is waited for instead.
func (d *Dispatcher) detach(jobs []*Job, outs []Outcome, mu *sync.Mutex, finished []bool,
	cancels []context.CancelFunc, done chan int, running int) []Outcome {
	mu.Lock()
	snapshot := slices.Clone(outs)
	var wait, spool []int
	for i, j := range jobs {
		if snapshot[i].Status != "" || finished[i] {
			continue
		}
		if d.o.RequeueInFlight && j.state.CompareAndSwap(jobRunning, jobRequeued) {
			// Nothing may run after the answer here: stop the send; the
			// job is queued for a hand-off below.
			cancels[i]()
			spool = append(spool, i)
			continue
		}
		if d.spool != nil && d.spool.Err() != nil {
			wait = append(wait, i) // cannot be made durable: finish it now
			continue
		}
		// Answered for as pending: its outcome, when it comes, is Late.
		j.answered.Store(true)
		snapshot[i] = Outcome{Job: j, Status: Pending, At: d.clock.Now()}
		spool = append(spool, i)
	}
	mu.Unlock()
	for _, i := range spool {
		j := jobs[i]
		if snapshot[i].Status == Pending {
			if err := d.spoolJob(j, true); err != nil {
				d.log.Error("spool write failed; the alert is still being sent", "job", j.ID, "error", err.Error())
			}
			continue
		}
		// Requeued on Function Compute: the robot may have taken it
		// already (at least once), so it goes again saying so.
		j.spoolMu.Lock() // its send may still be reading it
		j.PossibleRepeat = true
		j.spoolMu.Unlock()
		if err := d.enqueue(j, true); err != nil {
			snapshot[i] = d.unsaved(j, err, d.clock.Now())
		} else {
			snapshot[i] = Outcome{Job: j, Status: Pending, At: d.clock.Now()}
		}
	}
	for len(wait) > 0 && running > 0 {
		i := <-done
		finished[i] = true
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

// unsaved drops a job that had to wait but could not be saved, and says
// so.
func (d *Dispatcher) unsaved(j *Job, err error, now time.Time) Outcome {
	d.finish(j)
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

// sent is what one send did.
type sent struct {
	robot *config.Robot   // as resolved; nil when it could not be
	msg   *notify.Message // what was sent
	res   notify.Result
}

// send addresses jobs (one, or a digest's) from the current configuration
// and posts the message to their robot, with the policy's retries.
func (d *Dispatcher) send(ctx context.Context, jobs []*Job) sent {
	j := jobs[0]
	r, msg, err := d.o.Resolve(ctx, jobs)
	if err != nil {
		e := notify.AsError(err, &config.Robot{ID: j.RobotID, Name: fmt.Sprintf("robot %d", j.RobotID), Kind: j.Kind})
		if _, ok := err.(*notify.Error); !ok {
			e.Retry = false // not a transport failure: the configuration changed
		}
		return sent{res: notify.Result{Err: e}}
	}
	j.spoolMu.Lock()
	repeat := j.PossibleRepeat
	j.spoolMu.Unlock()
	if len(jobs) == 1 && repeat && len(msg.Digest) == 0 {
		msg = msg.MarkPossibleRepeat() // a digest marks its lines (DigestItems)
	}
	s := d.o.Senders[r.Kind]
	if s == nil || d.o.Kind(r.Kind) == nil {
		return sent{robot: r, msg: msg, res: notify.Result{Err: &notify.Error{Robot: r.Name, Kind: r.Kind,
			Msg: fmt.Sprintf("robot kind %q is not supported by this relay", r.Kind)}}}
	}
	return sent{robot: r, msg: msg, res: notify.Deliver(ctx, s, r, msg, d.o.Policy)}
}

// settle records what a send did to its jobs: delivered, failed, or back
// in the queue.
func (d *Dispatcher) settle(jobs []*Job, sn sent) Outcome {
	res := sn.res
	now := d.clock.Now()
	if j := jobs[0]; j.taken > 0 {
		d.mu.Lock()
		d.state(j).answered(j.takenAt, now, j.taken)
		j.taken = 0
		d.mu.Unlock()
	}
	alerts := 0
	for _, j := range jobs {
		alerts += 1 + j.Repeats
	}
	out := Outcome{Job: jobs[0], Robot: sn.robot, Message: sn.msg, Attempts: res.Attempts, Err: res.Err, Digest: alerts, At: now,
		Late: jobs[0].answered.Load()}
	switch {
	case res.Err == nil:
		out.Status = Delivered
	case res.Err.RateLimited:
		block := d.budget(jobs[0].Kind).Block
		d.mu.Lock()
		st := d.state(jobs[0])
		st.blockedUntil = now.Add(block)
		d.mu.Unlock()
		d.saveBudgets(false) // a restart must not send to a blocked robot
		d.log.Warn("robot is rate limited; alerts wait for a digest", "robot", res.Err.Robot, "code", res.Err.Code,
			"until", now.Add(block).UTC().Format(time.RFC3339))
		return d.requeue(jobs, out)
	case res.Err.Retry && !res.Err.Timeout && d.o.Background && jobs[0].answered.Load() && jobs[0].Tries+1 < d.o.MaxTries:
		// (A robot that timed out may have posted the message: no more
		// rounds, so a slow robot does not get copies.)
		for _, j := range jobs {
			j.Tries++
			j.NotBefore = now.Add(retryDelay(j.Tries))
		}
		return d.requeue(jobs, out)
	default:
		out.Status = Failed
	}
	d.final(jobs, out)
	return out
}

// final settles jobs for good and reports each one's outcome.
func (d *Dispatcher) final(jobs []*Job, out Outcome) {
	for _, j := range jobs {
		d.finish(j)
		if d.o.OnFinal != nil {
			o := out
			o.Job = j
			d.o.OnFinal(o)
		}
	}
}

// requeue puts jobs back in their robot's queue after a send that must be
// tried again later. A job that cannot be saved for it is dropped: one
// not yet answered for (inside Submit) is reported Unsaved; the others
// fail, recorded.
func (d *Dispatcher) requeue(jobs []*Job, out Outcome) Outcome {
	out.Status = Queued
	for _, j := range jobs {
		err := d.enqueue(j, true)
		switch {
		case err == nil:
		case len(jobs) == 1 && !j.answered.Load():
			return d.unsaved(j, err, out.At)
		default:
			o := out
			o.Status, o.Err = Failed, &notify.Error{Robot: fmt.Sprintf("robot %d", j.RobotID), Kind: j.Kind,
				Msg: "the alert had to wait for the robot and could not be saved for later: " + err.Error()}
			d.final([]*Job{j}, o)
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

// enqueue adds j to its robot's queue (and, with persist, the spool) and,
// in background mode, makes sure a worker serves the robot. A repeat of an
// issue already waiting only raises that job's count; past MaxQueue, an
// alert of another issue is folded into the queue's last job as a count.
// In server mode a job that cannot be saved is not queued: the error says
// why (on Function Compute the hand-off, not the spool, keeps it).
func (d *Dispatcher) enqueue(j *Job, persist bool) error {
	d.mu.Lock()
	st := d.state(j)
	var into *Job
	folded := false
	if j.NotBefore.IsZero() {
		for _, p := range st.pending {
			if p != j && p.NotBefore.IsZero() && p.Message.Heading == j.Message.Heading && p.Message.Link == j.Message.Link {
				into = p
				into.Repeats += 1 + j.Repeats
				into.Folded += j.Folded
				// The robot may have one of them: the line says so.
				into.PossibleRepeat = into.PossibleRepeat || j.PossibleRepeat
				break
			}
		}
	}
	if into == nil && len(st.pending) >= d.o.MaxQueue && !slices.Contains(st.pending, j) {
		into = st.pending[len(st.pending)-1]
		into.Folded += 1 + j.Repeats + j.Folded
		folded = true
		if now := d.clock.Now(); now.Sub(d.foldedAt) > time.Minute {
			d.log.Warn("a robot's queue is full: further alerts are counted in its next digest",
				"robot_id", j.RobotID, "queued", len(st.pending))
		}
		d.foldedAt = d.clock.Now()
	}
	if into != nil {
		d.mu.Unlock()
		// The waiting job carries the issue. A repeat's count lives in
		// memory only (a crash loses the count, not the alert); a fold
		// is saved with it, since those are other alerts.
		d.finish(j)
		if folded && into.spooled {
			if err := d.spoolJob(into, false); err != nil {
				d.log.Error("spool write failed for a folded count", "job", into.ID, "error", err.Error())
			}
		}
		return nil
	}
	d.mu.Unlock()
	if persist {
		if err := d.spoolJob(j, false); err != nil {
			if !d.o.RequeueInFlight {
				return err
			}
			d.log.Error("spool write failed; the alert waits in memory for its hand-off", "job", j.ID, "error", err.Error())
		}
	}
	j.answered.Store(true) // from here the queue delivers it
	d.mu.Lock()
	if !slices.Contains(st.pending, j) {
		st.pending = append(st.pending, j)
	}
	start := d.startWorker(st)
	d.mu.Unlock()
	if start {
		go d.work(st)
	}
	return nil
}

// next takes the next batch of st's queue if the robot may send now, or
// returns how long to wait. Call with d.mu held.
func (d *Dispatcher) next(st *robotState, now time.Time) ([]*Job, time.Duration) {
	if len(st.pending) == 0 {
		return nil, 0
	}
	cost := 1
	for _, j := range st.pending {
		cost = max(cost, max(j.Cost, 1))
	}
	if w := d.wait(st, now, cost); w > 0 {
		return nil, w
	}
	// Jobs waiting for a retry round stay back until their time.
	var ready, later []*Job
	var soonest time.Duration = -1
	for _, j := range st.pending {
		if now.Before(j.NotBefore) {
			later = append(later, j)
			if w := j.NotBefore.Sub(now); soonest < 0 || w < soonest {
				soonest = w
			}
			continue
		}
		ready = append(ready, j)
	}
	if len(ready) == 0 {
		return nil, soonest
	}
	// A digest lists up to DigestItems issues; repeats of an issue in it
	// only raise its count, so a storm of one error fits one message.
	type issue struct{ title, link string }
	limit := max(d.budget(st.kind).DigestItems, 1)
	seen := map[issue]bool{}
	var batch, rest []*Job
	for _, j := range ready {
		k := issue{j.Message.Heading, j.Message.Link}
		if !seen[k] && len(seen) == limit || len(batch) >= maxDigestJobs {
			rest = append(rest, j)
			continue
		}
		seen[k] = true
		batch = append(batch, j)
	}
	st.pending = append(rest, later...)
	for range cost {
		st.sent = append(st.sent, now)
	}
	batch[0].takenAt, batch[0].taken = now, cost
	return batch, 0
}

// work sends st's queue as the budget allows until it is empty.
func (d *Dispatcher) work(st *robotState) {
	defer d.wg.Done()
	defer d.busy.Add(-1)
	for {
		d.mu.Lock()
		now := d.clock.Now()
		batch, wait := d.next(st, now)
		if batch == nil && wait == 0 || d.closed {
			st.working = false
			d.mu.Unlock()
			return
		}
		d.mu.Unlock()
		if batch == nil {
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
				st.working = false
				d.mu.Unlock()
				return
			}
			continue
		}
		d.sendBatch(batch)
	}
}

func (d *Dispatcher) sendBatch(batch []*Job) Outcome {
	ctx, cancel := context.WithTimeout(context.Background(), d.o.SendTimeout)
	defer cancel()
	// Marked in the spool before the post: should the relay stop before
	// the answer, the next start knows the robot may have the message.
	for _, j := range batch {
		if j.spooled {
			if err := d.spoolJob(j, true); err != nil {
				d.log.Error("spool write failed before a send; after a crash the alert would go again unmarked", "job", j.ID, "error", err.Error())
			}
		}
	}
	out := d.settle(batch, d.send(ctx, batch))
	d.log.Info("queued alerts sent", "robot_id", batch[0].RobotID, "alerts", len(batch), "result", out.Status)
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
		var batch []*Job
		var wait time.Duration = -1
		for _, st := range d.robots {
			if st.working {
				continue // a background worker serves it
			}
			b, w := d.next(st, now)
			if b != nil {
				batch = b
				break
			}
			if len(st.pending) > 0 && (wait < 0 || w < wait) {
				wait = w
			}
		}
		d.mu.Unlock()
		switch {
		case batch != nil:
			d.sendBatch(batch)
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
		n += len(st.pending)
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

// spoolJob saves j in the spool (a no-op without one, or for a job already
// settled), marked as being sent or not.
func (d *Dispatcher) spoolJob(j *Job, sending bool) error {
	if d.spool == nil {
		return nil
	}
	j.spoolMu.Lock()
	defer j.spoolMu.Unlock()
	if j.settled {
		return nil // delivered meanwhile: a file now would be sent again at a restart
	}
	j.Sending = sending
	err := d.spool.put(j)
	if err == nil {
		j.spooled = true
	}
	return err
}

// unspool removes j's spool file (the job lives on elsewhere: a hand-off).
func (d *Dispatcher) unspool(j *Job) {
	j.spoolMu.Lock()
	defer j.spoolMu.Unlock()
	if d.spool != nil && j.spooled {
		d.spool.remove(j.ID)
		j.spooled = false
	}
}

// finish settles j for good: its spool file goes, and none is written
// after.
func (d *Dispatcher) finish(j *Job) {
	j.spoolMu.Lock()
	defer j.spoolMu.Unlock()
	j.settled = true
	if d.spool != nil && j.spooled {
		d.spool.remove(j.ID)
		j.spooled = false
	}
}

// TakeQueued removes every queued job whose retry time has come and returns
// them, e.g. to hand them to another invocation.
func (d *Dispatcher) TakeQueued() []*Job {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []*Job
	for _, st := range d.robots {
		if st.working {
			continue
		}
		out = append(out, st.pending...)
		st.pending = nil
	}
	for _, j := range out {
		d.unspool(j)
	}
	return out
}

// Enqueue queues jobs for their robots (spooled), as if they had been over
// budget; a worker or Drain sends them. It returns the first failure to
// save one (such a job is not queued, except on Function Compute).
func (d *Dispatcher) Enqueue(jobs []*Job) error {
	var first error
	for _, j := range jobs {
		if j.ID == "" {
			j.ID = NewID()
		}
		if err := d.enqueue(j, true); err != nil && first == nil {
			first = err
		}
	}
	return first
}
