package timed

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/oncall"
	"github.com/sentry-white/sentry-white/internal/render"
)

// Handoff notices: at each handoff of an on-call rotation (contract §7
// schedules), the schedule's robots get one short message naming who is
// on duty now and who is next, @-mentioning the person on duty. A handoff
// missed while the relay was down is announced when it comes back, up to
// HandoffCatchUp late; an older one is skipped, with a log line.

// HandoffCatchUp is how late a handoff notice may still be sent.
const HandoffCatchUp = 6 * time.Hour

// handoffLookBack is how far back a tick looks for handoffs: those
// between HandoffCatchUp and this are claimed and skipped (logged), so a
// relay down for a day says what it did not announce.
const handoffLookBack = 24 * time.Hour

// handoffLease is how long sending a notice to one robot may take.
const handoffLease = 5 * time.Minute

// Handoffs sends the handoff notices of on-call rotations.
type Handoffs struct{}

func (*Handoffs) Name() string { return "handoff" }

// Wanted: a schedule has robots to tell.
func (*Handoffs) Wanted(t *Tick) bool {
	for i := range t.Doc.Doc.Schedules {
		if len(ScheduleRobots(t.Doc, &t.Doc.Doc.Schedules[i])) > 0 {
			return true
		}
	}
	return false
}

// ScheduleRobots returns the robots a schedule's handoff notices go to:
// its robot_ids, or else the robots of the projects that use it.
func ScheduleRobots(x *config.Index, s *config.Schedule) []*config.Robot {
	ids := s.RobotIDs
	if len(ids) == 0 {
		for i := range x.Doc.Projects {
			if p := &x.Doc.Projects[i]; p.ScheduleID == s.ID {
				ids = append(ids, p.RobotIDs...)
			}
		}
	}
	var out []*config.Robot
	for _, id := range ids {
		if r := x.Robot(id); r != nil && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

func (w *Handoffs) Run(ctx context.Context, t *Tick) (int, error) {
	sent := 0
	var errs []error
	for i := range t.Doc.Doc.Schedules {
		s := &t.Doc.Doc.Schedules[i]
		robots := ScheduleRobots(t.Doc, s)
		if len(robots) == 0 {
			continue
		}
		rot, err := oncall.New(s)
		if err != nil {
			continue // not valid: the document layer refuses those
		}
		for _, h := range rot.Handoffs(t.Now.Add(-handoffLookBack), t.Now) {
			for _, rb := range robots {
				n, err := w.notice(ctx, t, rot, h, rb)
				sent += n
				if err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	return sent, errors.Join(errs...)
}

// notice sends one handoff's notice to one robot, if this tick claims it.
func (w *Handoffs) notice(ctx context.Context, t *Tick, rot *oncall.Rotation, h oncall.Handoff, rb *config.Robot) (int, error) {
	s := rot.Schedule()
	id := fmt.Sprintf("%d/%d-%d/%d", s.ID, h.Index, h.At.Unix(), rb.ID)
	if t.Waiting(w.Name() + "/" + id) {
		return 0, nil
	}
	c, _, err := t.Claim(ctx, w.Name(), id, h.At, handoffLease)
	if c == nil || err != nil {
		return 0, err
	}
	on := t.Doc.Owner(rot.At(h.At))
	switch late := t.Now.Sub(h.At); {
	case late > HandoffCatchUp:
		t.Log().Warn("handoff notice skipped: the relay was not running at the handoff", "schedule", s.Name, "robot", rb.Name,
			"handoff", h.At.UTC().Format(time.RFC3339), "late", late.Round(time.Minute).String())
		return 0, c.Done(ctx)
	case on == nil:
		return 0, c.Done(ctx) // the owner on duty was deleted: nobody to name
	}
	var next *config.Owner
	if after := rot.Handoffs(h.At, h.At.Add(8*24*time.Hour)); len(after) > 0 {
		next = t.Doc.Owner(rot.At(after[0].At))
	}
	msg := render.Address(render.Handoff(s, on, next, t.Render().Lang), rb, render.Mentions([]*config.Owner{on}))
	if c.TakenOver {
		msg = msg.MarkPossibleRepeat()
	}
	res, ok := t.Send(ctx, rb, msg)
	switch {
	case !ok:
		return 0, c.Release(ctx, 0) // the robot's budget is spent: the next tick
	case res.Err != nil:
		t.Failed(w.Name() + "/" + id)
		t.Log().Warn("handoff notice not delivered; it is tried again", "schedule", s.Name, "robot", rb.Name, "kind", rb.Kind,
			"code", res.Err.Code, "error", res.Err.Error())
		return 0, c.Release(ctx, 0)
	}
	t.Succeeded(w.Name() + "/" + id)
	t.Log().Info("handoff notice sent", "schedule", s.Name, "robot", rb.Name, "on_duty", on.Name,
		"handoff", h.At.UTC().Format(time.RFC3339))
	return 1, c.Done(ctx)
}
