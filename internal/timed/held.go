package timed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/deliveries"
	"github.com/sentry-white/sentry-white/internal/dispatch"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/plan"
	"github.com/sentry-white/sentry-white/internal/store"
)

// Alerts held through quiet hours (a project's quiet_hours with mode
// hold). The relay keeps each in the store before it answers Sentry, one
// object per alert and robot:
//
//	<prefix>v1/held/<robot id>/<unix time the quiet ends>-<job id>.json
//
// so nothing held is lost to a crash or a frozen FC instance, and a tick
// sees from the keys alone what is due. When the quiet ends, the robot's
// held alerts go out as one message (one alert as it was, several as a
// digest), ringing whom their projects ring then; the objects are removed
// only after the robot took it.

// heldLease is how long a tick may take to send a robot's held alerts.
const heldLease = 10 * time.Minute

// maxHeldPerTick bounds the held alerts one tick sends to one robot.
const maxHeldPerTick = 1000

// heldObject is what the store keeps of a held alert.
type heldObject struct {
	Job   *dispatch.Job `json:"job"`
	Until time.Time     `json:"until"`
}

func (r *Runner) heldDir() string { return r.o.Prefix + "v1/held/" }

func (r *Runner) heldKey(j *dispatch.Job, until time.Time) string {
	return fmt.Sprintf("%s%d/%d-%s.json", r.heldDir(), j.RobotID, until.Unix(), j.ID)
}

// Hold keeps h's alert in the store until its quiet ends, and records it
// in the delivery history as held. An error means it is not kept: the
// caller must deliver it another way.
func (r *Runner) Hold(ctx context.Context, h plan.Hold) error {
	data, err := json.Marshal(heldObject{Job: h.Job, Until: h.Until.UTC()})
	if err != nil {
		return err
	}
	r.held.touch()
	if _, err := r.o.Store.Put(ctx, r.heldKey(h.Job, h.Until), data, nil); err != nil {
		return fmt.Errorf("hold the alert: %w", err)
	}
	if r.o.History != nil {
		j := h.Job
		r.o.History.Add(deliveries.Record{ID: j.ID, Time: r.o.Now(), RequestID: j.RequestID, Project: j.Project,
			ProjectName: j.ProjectName, PayloadOrganization: j.PayloadOrg, RobotID: j.RobotID, Robot: h.Target.Robot.Name,
			Kind: h.Target.Robot.Kind, Result: deliveries.Held, Title: j.Message.Heading, Link: j.Message.Link,
			Level: j.Message.Level, HeldUntil: h.Until.UTC()})
	}
	return nil
}

// piece is a held alert a tick claimed.
type piece struct {
	ref   heldRef
	claim *Claim
	job   *dispatch.Job
}

// heldRef is a held alert as its key names it.
type heldRef struct {
	key   string
	robot int64
	until time.Time
	job   string
}

func (r *Runner) parseHeld(key string) (heldRef, bool) {
	rest := strings.TrimPrefix(key, r.heldDir())
	robot, file, ok := strings.Cut(rest, "/")
	file, isJSON := strings.CutSuffix(file, ".json")
	unix, job, ok2 := strings.Cut(file, "-")
	id, err1 := strconv.ParseInt(robot, 10, 64)
	sec, err2 := strconv.ParseInt(unix, 10, 64)
	if !ok || !isJSON || !ok2 || err1 != nil || err2 != nil || job == "" {
		return heldRef{}, false
	}
	return heldRef{key: key, robot: id, until: time.Unix(sec, 0), job: job}, true
}

// HeldDigests sends the alerts held through quiet hours when the quiet
// ends: one message per robot.
type HeldDigests struct{}

func (*HeldDigests) Name() string { return "held" }

// heldLook is what a runner knows of the held alerts in the store, so
// that a tick lists them only when one may be due: after this process
// held one (or started: a previous run may have left some), when the
// earliest quiet end seen has come, after a tick that found some due, and
// at least hourly (another process may have held some).
type heldLook struct {
	mu     sync.Mutex
	stale  bool      // held alerts may have come since the last look
	next   time.Time // when the earliest held alert seen falls due; zero: none seen
	looked time.Time
}

// heldRelook is how often held alerts are listed when none is known.
const heldRelook = time.Hour

func (h *heldLook) touch() {
	h.mu.Lock()
	h.stale = true
	h.mu.Unlock()
}

// due reports whether a tick at now should list the held alerts.
func (h *heldLook) due(now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stale || !h.next.IsZero() && !now.Before(h.next) || now.Sub(h.looked) >= heldRelook
}

// saw notes a look at now that found the earliest of the held alerts
// not yet due falling due at next (zero: none), and whether some were due.
func (h *heldLook) saw(now, next time.Time, someDue bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stale, h.next, h.looked = false, next, now
	if someDue {
		h.next = now // look again next tick: what was due may not all be sent
	}
}

// Wanted: a project holds alerts in quiet hours, or held alerts may be in
// the store (a project's quiet hours were changed while some were held).
func (*HeldDigests) Wanted(t *Tick) bool {
	t.r.held.mu.Lock()
	known := t.r.held.stale || !t.r.held.next.IsZero()
	t.r.held.mu.Unlock()
	if known {
		return true
	}
	for i := range t.Doc.Doc.Projects {
		if q := t.Doc.Doc.Projects[i].QuietHours; q != nil && (q.Mode == "" || q.Mode == config.QuietHold) {
			return true
		}
	}
	return false
}

func (w *HeldDigests) Run(ctx context.Context, t *Tick) (int, error) {
	r := t.r
	if !r.held.due(t.Now) {
		return 0, nil
	}
	keys, err := r.o.Store.List(ctx, r.heldDir())
	if err != nil {
		return 0, fmt.Errorf("list held alerts: %w", err)
	}
	due := map[int64][]heldRef{}
	var next time.Time
	for _, k := range keys {
		h, ok := r.parseHeld(k)
		switch {
		case !ok:
		case !t.Now.Before(h.until):
			due[h.robot] = append(due[h.robot], h)
		case next.IsZero() || h.until.Before(next):
			next = h.until
		}
	}
	r.held.saw(t.Now, next, len(due) > 0)
	sent := 0
	var errs []error
	for _, robot := range sortedKeys(due) {
		n, err := w.robot(ctx, t, robot, due[robot])
		sent += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	return sent, errors.Join(errs...)
}

// robot sends one robot's due held alerts: it claims them in the order of
// their keys and stops at one another tick holds, so two ticks at once
// never split a robot's digest in two; the held objects are removed once
// the robot took the message.
func (w *HeldDigests) robot(ctx context.Context, t *Tick, robot int64, refs []heldRef) (int, error) {
	key := "held/" + strconv.FormatInt(robot, 10)
	if t.Waiting(key) {
		return 0, nil
	}
	slices.SortFunc(refs, func(a, b heldRef) int { return strings.Compare(a.key, b.key) })
	var won []piece
	for _, h := range refs {
		if len(won) == maxHeldPerTick {
			break
		}
		c, st, err := t.Claim(ctx, w.Name(), fmt.Sprintf("%d/%s", robot, h.job), h.until, heldLease)
		if err != nil {
			return 0, w.release(ctx, won, err)
		}
		if st == Done {
			// Sent already; its object outlived the send (a failed
			// delete): remove it now.
			_ = t.r.o.Store.Delete(ctx, h.key)
			continue
		}
		if c == nil {
			break // another tick is sending this robot's alerts
		}
		won = append(won, piece{ref: h, claim: c})
	}
	if len(won) == 0 {
		return 0, nil
	}
	// Read what was claimed; an object gone meanwhile was sent by a tick
	// whose claim this one took over: nothing to send for it.
	var jobs []*dispatch.Job
	var kept []piece
	for i, p := range won {
		obj, err := t.r.o.Store.Get(ctx, p.ref.key, "")
		if errors.Is(err, store.ErrNotFound) {
			_ = p.claim.Done(ctx)
			continue
		}
		if err != nil {
			return 0, w.release(ctx, append(kept, won[i:]...), fmt.Errorf("read held alert %s: %w", p.ref.key, err))
		}
		var ho heldObject
		if err := json.Unmarshal(obj.Data, &ho); err != nil || ho.Job == nil || ho.Job.RobotID != robot {
			// Never dropped: it stays, and the log says where.
			t.Log().Error("a held alert cannot be read; it stays in the store", "key", p.ref.key, "error", errText(err))
			_ = p.claim.Release(ctx, 10*time.Minute)
			continue
		}
		p.job = ho.Job
		ho.Job.PossibleRepeat = ho.Job.PossibleRepeat || p.claim.TakenOver
		jobs = append(jobs, ho.Job)
		kept = append(kept, p)
	}
	if len(jobs) == 0 {
		return 0, nil
	}
	// In the order they came.
	slices.SortStableFunc(kept, func(a, b piece) int { return a.job.Created.Compare(b.job.Created) })
	for i, p := range kept {
		jobs[i] = p.job
	}
	// A robot's digest lists up to its kind's DigestItems issues; the rest
	// go in the next message.
	if k := t.Kind(jobs[0].Kind); k != nil {
		if n := issues(jobs, k.Budget.DigestItems); n < len(jobs) {
			_ = w.release(ctx, kept[n:], nil)
			kept, jobs = kept[:n], jobs[:n]
		}
	}
	rb, msg, err := plan.AddressHeld(t.Doc, jobs, t.Now, t.Render().Zone)
	if err != nil {
		// The robot was deleted while its alerts were held: they cannot
		// go anywhere. Recorded as failed, as for a queued alert.
		for _, p := range kept {
			rec := plan.Record(dispatch.Outcome{Job: p.job, Err: &notify.Error{Robot: fmt.Sprintf("robot %d", robot), Kind: p.job.Kind,
				Msg: err.Error()}, At: t.Now, Digest: len(jobs)})
			t.Record(rec)
			w.finish(ctx, t, p.ref.key, p.claim)
		}
		t.Log().Warn("held alerts dropped: their robot was deleted", "robot_id", robot, "alerts", len(kept))
		return 0, nil
	}
	res, ok := t.Send(ctx, rb, msg)
	switch {
	case !ok:
		return 0, w.release(ctx, kept, nil) // the robot's budget is spent: the next tick
	case res.Err != nil:
		t.Failed(key)
		t.Log().Warn("held alerts not delivered; they stay held and are tried again", "robot", rb.Name, "kind", rb.Kind,
			"alerts", len(jobs), "code", res.Err.Code, "error", res.Err.Error())
		return 0, w.release(ctx, kept, nil)
	}
	t.Succeeded(key)
	for _, p := range kept {
		t.Record(plan.Record(dispatch.Outcome{Job: p.job, Robot: rb, Message: msg, Attempts: res.Attempts,
			Digest: len(jobs), At: t.Now}))
		w.finish(ctx, t, p.ref.key, p.claim)
	}
	t.Log().Info("held alerts delivered", "robot", rb.Name, "kind", rb.Kind, "alerts", len(jobs), "mentions", len(msg.Mentions))
	return 1, nil
}

// finish removes a sent held alert; when the store refuses, its claim is
// marked done instead, so it is not sent again.
func (w *HeldDigests) finish(ctx context.Context, t *Tick, key string, c *Claim) {
	dctx, cancel := settling(ctx)
	defer cancel()
	if err := t.r.o.Store.Delete(dctx, key); err != nil {
		t.Log().Warn("a delivered held alert could not be removed; its claim keeps it from being sent again", "key", key,
			"error", notify.Redact(err.Error()))
		_ = c.Done(ctx)
	}
}

// release gives claimed pieces back and returns err.
func (w *HeldDigests) release(ctx context.Context, ps []piece, err error) error {
	for _, p := range ps {
		_ = p.claim.Release(ctx, 0)
	}
	return err
}

// issues returns how many of jobs (in order) a digest of up to limit
// issues takes.
func issues(jobs []*dispatch.Job, limit int) int {
	limit = max(limit, 1)
	seen := map[[2]string]bool{}
	for i, j := range jobs {
		k := [2]string{j.Message.Heading, j.Message.Link}
		if !seen[k] && len(seen) == limit {
			return i
		}
		seen[k] = true
	}
	return len(jobs)
}

func errText(err error) string {
	if err == nil {
		return "not a held alert"
	}
	return err.Error()
}
