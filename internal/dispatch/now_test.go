package dispatch

import (
	"context"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/robottest"
)

// TestSendNowSharesTheBudget: timed messages sent with SendNow count in
// the budget a robot's alerts share: after 19 alerts one notice goes, the
// next must wait for the window, and an alert then queues; a rate-limit
// answer blocks the robot as for an alert.
func TestSendNowSharesTheBudget(t *testing.T) {
	e := newEnv(t, "", false)
	notice := &notify.Message{Title: "详情 | 本周值班：张三", Heading: "本周值班：张三", Keyword: "详情"}
	for i := range 19 {
		if s := e.d.Submit(context.Background(), []*Job{job(i)}, time.Now().Add(5*time.Second))[0].Status; s != Delivered {
			t.Fatalf("alert %d: %s", i, s)
		}
	}
	if res, ok := e.d.SendNow(context.Background(), &robot, notice); !ok || res.Err != nil {
		t.Fatalf("the 20th message: ok %v, %v", ok, res.Err)
	}
	if _, ok := e.d.SendNow(context.Background(), &robot, notice); ok {
		t.Fatal("a 21st message within the minute was sent")
	}
	if s := e.d.Submit(context.Background(), []*Job{job(20)}, time.Now().Add(5*time.Second))[0].Status; s != Queued {
		t.Fatalf("an alert over the budget: %s, want queued", s)
	}
	e.clock.Advance(61 * time.Second)
	e.robot.FailNext(robottest.FaultNoCode) // DingTalk's rate-limit answer
	if res, ok := e.d.SendNow(context.Background(), &robot, notice); !ok || res.Err == nil || !res.Err.RateLimited {
		t.Fatalf("a refused notice: ok %v, %+v", ok, res.Err)
	}
	e.clock.Advance(5 * time.Minute)
	if _, ok := e.d.SendNow(context.Background(), &robot, notice); ok {
		t.Error("sent while the robot is blocked")
	}
	if n := len(e.robot.Messages()); n != 20 {
		t.Errorf("the robot took %d messages, want 20", n)
	}
}
