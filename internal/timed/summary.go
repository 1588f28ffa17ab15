package timed

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/summary"
)

// Morning summaries (contract §7 robots[].daily_digest): at its time, in
// its time zone, each robot that asks gets one message telling what
// yesterday brought it (package summary reads the delivery history). Each
// robot's summary of a day is claimed, so it goes once however many ticks
// run; a relay that was down at that time sends it when it comes back the
// same day, and not after.

// summaryLease is how long making and sending one summary may take.
const summaryLease = 5 * time.Minute

// Summaries sends the morning summaries.
type Summaries struct{}

func (*Summaries) Name() string { return "summary" }

// Wanted: a robot asks for a summary, and the relay keeps the delivery
// history it is made from.
func (*Summaries) Wanted(t *Tick) bool {
	if t.r.o.History == nil {
		return false
	}
	for i := range t.Doc.Doc.Robots {
		if t.Doc.Doc.Robots[i].DailyDigest != nil {
			return true
		}
	}
	return false
}

func (w *Summaries) Run(ctx context.Context, t *Tick) (int, error) {
	sent := 0
	var errs []error
	for i := range t.Doc.Doc.Robots {
		rb := &t.Doc.Doc.Robots[i]
		if rb.DailyDigest == nil {
			continue
		}
		n, err := w.robot(ctx, t, rb)
		sent += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	return sent, errors.Join(errs...)
}

// robot sends rb's summary of yesterday once it is due today.
func (w *Summaries) robot(ctx context.Context, t *Tick, rb *config.Robot) (int, error) {
	from, to, due, err := summary.Window(rb.DailyDigest, t.Now)
	if err != nil || t.Now.Before(due) {
		return 0, nil // not valid (the document layer refuses it), or not yet
	}
	id := fmt.Sprintf("%d/%s", rb.ID, to.Format("2006-01-02"))
	key := w.Name() + "/" + id
	if t.Waiting(key) {
		return 0, nil
	}
	c, _, err := t.Claim(ctx, w.Name(), id, due, summaryLease)
	if c == nil || err != nil {
		return 0, err
	}
	lang := t.Render().Lang
	d, err := summary.Build(ctx, summary.Sources{History: t.r.o.History, Acks: t.r.escStore(), Sentry: t.r.o.Sentry}, t.Doc, rb, from, to, t.Now, lang)
	if err != nil {
		t.Failed(key)
		_ = c.Release(ctx, 0)
		return 0, fmt.Errorf("the summary for robot %q: %w", rb.Name, err)
	}
	msg := summary.Message(d, rb, t.Kind(rb.Kind), lang)
	if c.TakenOver {
		msg = msg.MarkPossibleRepeat()
	}
	res, ok := t.Send(ctx, rb, msg)
	switch {
	case !ok:
		return 0, c.Release(ctx, 0) // the robot's budget is spent: the next tick
	case res.Err != nil:
		t.Failed(key)
		t.Log().Warn("morning summary not delivered; it is tried again", "robot", rb.Name, "kind", rb.Kind,
			"code", res.Err.Code, "error", notify.Redact(res.Err.Error()))
		return 0, c.Release(ctx, 0)
	}
	t.Succeeded(key)
	t.Log().Info("morning summary sent", "robot", rb.Name, "kind", rb.Kind, "day", from.Format("2006-01-02"),
		"projects", len(d.Projects), "lines", len(msg.Fields))
	return 1, c.Done(ctx)
}
