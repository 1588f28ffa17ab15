package dispatch

import (
	"context"
	"fmt"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
)

// SendNow sends msg, addressed already, to robot r at once when r's rate
// budget allows it now, and counts it in the budget the robot's alerts
// share (a rate-limit answer blocks the robot as for an alert). ok is false
// when the budget does not allow it now: nothing was sent and nothing is
// queued; the caller tries again later. Timed work (handoff notices, the
// digests of held alerts) sends this way, so it never pushes a robot over
// its limit while alerts flow. Nothing is recorded: the caller knows what
// the message stood for.
func (d *Dispatcher) SendNow(ctx context.Context, r *config.Robot, msg *notify.Message) (res notify.Result, ok bool) {
	k := d.o.Kind(r.Kind)
	s := d.o.Senders[r.Kind]
	if k == nil || s == nil {
		return notify.Result{Err: &notify.Error{Robot: r.Name, Kind: r.Kind,
			Msg: fmt.Sprintf("robot kind %q is not supported by this relay", r.Kind)}}, true
	}
	n := k.Messages(msg)
	d.mu.Lock()
	st := d.robot(r.ID, r.Kind)
	now := d.clock.Now()
	if !st.budget.take(now, d.limits(st.kind).Limits, n) {
		d.mu.Unlock()
		return notify.Result{}, false
	}
	d.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, d.o.SendTimeout)
	defer cancel()
	res = notify.Deliver(ctx, s, r, msg, d.o.Policy)
	d.mu.Lock()
	end := d.clock.Now()
	st.budget.answeredAt(now, end, n)
	blocked := res.Err != nil && res.Err.RateLimited
	if blocked {
		st.budget.blockedUntil = end.Add(k.Budget.Block)
	}
	d.mu.Unlock()
	if blocked {
		d.saveBudgets(false) // a restart must not send to a blocked robot
	}
	return res, true
}
