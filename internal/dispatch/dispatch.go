// Package dispatch delivers rendered alerts to robots without losing any:
// it keeps each robot under its rate limit, merges what exceeds the budget
// into digests sent when the budget allows, backs off while a robot is
// blocked, retries transient failures, and spools accepted alerts to disk
// so that a restart loses nothing.
//
// A Job is a plain record (job.go); while the dispatcher holds one, its
// live side is a task (task.go). Jobs come in, whoever built them (the
// relay for a webhook, a hand-off, timed work), through Submit, which
// answers within a deadline, or Enqueue, which queues them (submit.go). A
// send addresses its jobs from the current configuration, posts them and
// applies the robot's answer (send.go). Each robot id has a rate budget
// (budget.go) and a queue that merges repeats of an issue and folds what
// exceeds its bound (queue.go), sent as digests (digest.go) by a
// background worker or by Drain as the budget allows (worker.go). The
// spool keeps the store's waiting jobs and budgets on disk (spool.go), and
// a start takes them up again (restart.go). Time comes from a Clock
// (clock.go).
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

	"github.com/sentry-white/sentry-white/internal/notify"
)

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
		if err := d.restore(); err != nil {
			return nil, err
		}
	}
	return d, nil
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
