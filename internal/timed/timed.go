// Package timed runs the relay's timed work: what must happen at a time
// rather than when a webhook arrives — the notice of an on-call handoff
// (handoff.go) and the digest of the alerts held through quiet hours
// (held.go); escalations and the morning summary are the next.
//
// A Runner ticks: every 30 s or so in server mode (Run), and at each call
// of Function Compute's timer trigger (the relay's POST /invoke). Each tick
// reads the (cached) document and asks each Work whether it is wanted; a
// wanted Work finds what is due from the document and the store, claims
// each piece with a create-if-absent write of a claim object keyed by the
// piece's identity (Tick.Claim), and does only the pieces it claimed. Two
// ticks at once, in one process or in two, never do a piece twice; a tick
// after downtime does what fell due meanwhile. When no work is wanted, a
// tick writes nothing and reads nothing but the cached document.
//
// Adding a kind of timed work: a type with the three methods of Work —
// Name (its claims' folder), Wanted (does the document ask for it?), Run
// (find what is due, Claim each piece, do the pieces claimed, mark them
// Done or Release them) — and a line in Default. docs/architecture.md says
// more.
package timed

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/deliveries"
	"github.com/sentry-white/sentry-white/internal/dispatch"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/render"
	"github.com/sentry-white/sentry-white/internal/store"
	"github.com/sentry-white/sentry-white/internal/summary"
)

// Docs supplies the current configuration document.
type Docs interface {
	Get(ctx context.Context) (*config.Index, error)
}

// Sender sends an addressed message to a robot at once when its rate
// budget allows (dispatch.Dispatcher.SendNow); ok false: not now.
type Sender interface {
	SendNow(ctx context.Context, r *config.Robot, m *notify.Message) (res notify.Result, ok bool)
}

// Work is one kind of timed work.
type Work interface {
	// Name names the work in claim keys and logs: lower case, no slash.
	Name() string
	// Wanted reports whether the tick's document (or what the runner
	// knows of the store) calls for the work; a tick runs only the work
	// wanted.
	Wanted(t *Tick) bool
	// Run finds what is due at t.Now, claims each piece (t.Claim) and does
	// the pieces it claimed. It returns how many it did.
	Run(ctx context.Context, t *Tick) (int, error)
}

// Default is the timed work the relay does, in order.
func Default() []Work { return []Work{&Handoffs{}, &HeldDigests{}, &Escalations{}, &Summaries{}} }

// Options configure a Runner.
type Options struct {
	Docs Docs
	// Store and Prefix are where timed work keeps its state: claims
	// (<prefix>v1/claims/) and held alerts (<prefix>v1/held/).
	Store  store.Backend
	Prefix string
	Send   Sender
	// Kind looks a robot kind up by name (the program's registry).
	Kind func(name string) *notify.Kind
	// History records held alerts and their delivery; nil keeps none.
	History *deliveries.Log
	// Render gives the language and time zone of messages.
	Render render.Options
	// Sentry reads issues, for the morning summary's "still open" of an
	// organization with an api_token; nil asks Sentry nothing.
	Sentry summary.IssueReader
	Now    func() time.Time
	Logger *slog.Logger
	// Works is the timed work done; nil means Default().
	Works []Work
}

// Runner does timed work; it is safe for concurrent use.
type Runner struct {
	o        Options
	log      *slog.Logger
	instance string // names this process in its claims

	mu sync.Mutex // one tick at a time in a process: claims order the others
	cl claims
	// held is what the runner knows of the held alerts in the store.
	held heldLook
	// esc is what it knows of escalations.
	esc escLook
	// backoff holds keys (robots, pieces) that failed, and until when they
	// wait.
	backoff map[string]backoff
}

// New returns a runner.
func New(o Options) *Runner {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Works == nil {
		o.Works = Default()
	}
	r := &Runner{o: o, log: o.Logger, instance: dispatch.NewID()[:12], backoff: map[string]backoff{}}
	r.cl.r = r
	r.held.stale = true // a previous run may have left some
	r.esc.stale = true
	return r
}

// Tick is one pass of the runner: the time, the document, and what work
// uses to claim, send and record.
type Tick struct {
	Now time.Time
	Doc *config.Index
	r   *Runner
}

// Tick does the timed work due now and reports what it did, by work name.
func (r *Runner) Tick(ctx context.Context) (map[string]int, error) {
	x, err := r.o.Docs.Get(ctx)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	t := &Tick{Now: r.o.Now(), Doc: x, r: r}
	done := map[string]int{}
	for _, w := range r.o.Works {
		if !w.Wanted(t) {
			continue
		}
		n, err := w.Run(ctx, t)
		if n > 0 {
			done[w.Name()] = n
		}
		if err != nil {
			r.log.Warn("timed work failed; it is tried again at the next tick", "work", w.Name(), "error", notify.Redact(err.Error()))
		}
	}
	if r.cl.wrote {
		r.cl.prune(ctx, t.Now) // whoever claims clears the old claims (of any process)
		r.pruneEscalations(ctx, t.Now)
	}
	return done, nil
}

// Run ticks every period until ctx ends (server mode). The first tick
// comes a period after the start, and catches up on what fell due while
// the relay was down.
func (r *Runner) Run(ctx context.Context, every time.Duration) {
	tick := func() {
		tctx, cancel := context.WithTimeout(ctx, max(every, 5*time.Minute))
		defer cancel()
		done, err := r.Tick(tctx)
		switch {
		case err != nil:
			r.log.Warn("timed work: the configuration cannot be read; trying again at the next tick", "error", notify.Redact(err.Error()))
		case len(done) > 0:
			r.log.Info("timed work done", "done", done)
		}
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			tick()
		}
	}
}

// Send sends an addressed message to a robot now, within its rate budget;
// ok false: the budget does not allow it now (try at a later tick).
func (t *Tick) Send(ctx context.Context, rb *config.Robot, m *notify.Message) (notify.Result, bool) {
	return t.r.o.Send.SendNow(ctx, rb, m)
}

// Record adds a record to the delivery history, if one is kept.
func (t *Tick) Record(rec deliveries.Record) {
	if t.r.o.History != nil {
		t.r.o.History.Add(rec)
	}
}

// Kind returns the robot kind named name, or nil.
func (t *Tick) Kind(name string) *notify.Kind {
	if t.r.o.Kind == nil {
		return nil
	}
	return t.r.o.Kind(name)
}

// Log is the runner's logger.
func (t *Tick) Log() *slog.Logger { return t.r.log }

// Render is the language and time zone of messages.
func (t *Tick) Render() render.Options { return t.r.o.Render }

// Waiting reports whether key (a robot, a piece) is still waiting after a
// failure.
func (t *Tick) Waiting(key string) bool { return t.Now.Before(t.r.backoff[key].until) }

// Failed makes key wait before it is tried again: 30 s after its first
// failure, doubling to 10 minutes. Succeeded forgets it.
func (t *Tick) Failed(key string) {
	b := t.r.backoff[key]
	b.wait = min(max(2*b.wait, 30*time.Second), 10*time.Minute)
	b.until = t.Now.Add(b.wait)
	t.r.backoff[key] = b
}

// Succeeded forgets key's failures.
func (t *Tick) Succeeded(key string) { delete(t.r.backoff, key) }

// backoff is how long a failed key waits, and until when.
type backoff struct {
	until time.Time
	wait  time.Duration
}
