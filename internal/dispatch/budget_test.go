package dispatch

import (
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/notify"
)

// The budget is a plain value: these tests give it times and limits, with
// no clock and no goroutine.

var (
	perMinute = []notify.Limit{{N: 20, Per: time.Minute}}                            // DingTalk, WeCom
	feishu    = []notify.Limit{{N: 5, Per: time.Second}, {N: 100, Per: time.Minute}} // two windows
	t0        = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
)

func TestBudgetWindow(t *testing.T) {
	var b budget
	for i := range 20 {
		if !b.take(t0.Add(time.Duration(i)*time.Second), perMinute, 1) {
			t.Fatalf("message %d did not fit", i+1)
		}
	}
	if b.take(t0.Add(30*time.Second), perMinute, 1) {
		t.Fatal("a 21st message within the minute fit")
	}
	// The first send leaves the window a minute after it.
	if w := b.wait(t0.Add(30*time.Second), perMinute, 1); w != 30*time.Second {
		t.Errorf("wait %v, want 30s", w)
	}
	// Two messages (a WeCom alert with mobile mentions) wait for two sends.
	if w := b.wait(t0.Add(30*time.Second), perMinute, 2); w != 31*time.Second {
		t.Errorf("wait for two %v, want 31s", w)
	}
	if !b.take(t0.Add(time.Minute), perMinute, 1) {
		t.Error("a minute after the first send, one more did not fit")
	}
}

func TestBudgetEveryLimitCounts(t *testing.T) {
	var b budget
	at := t0
	for i := range 100 {
		if w := b.wait(at, feishu, 1); w > 0 {
			at = at.Add(w)
		}
		if !b.take(at, feishu, 1) {
			t.Fatalf("message %d did not fit after its wait", i+1)
		}
	}
	// Five a second: 100 messages take at least 19 s; a hundred a minute:
	// the 101st waits for the first to leave the minute.
	if at.Sub(t0) < 19*time.Second {
		t.Errorf("100 messages in %v: more than five a second", at.Sub(t0))
	}
	if w := b.wait(at, feishu, 1); at.Add(w) != t0.Add(time.Minute) {
		t.Errorf("the 101st may go at %v, want a minute after the first", at.Add(w).Sub(t0))
	}
}

func TestBudgetBlockedAndForgotten(t *testing.T) {
	b := budget{blockedUntil: t0.Add(10 * time.Minute)}
	if w := b.wait(t0, perMinute, 1); w != 10*time.Minute {
		t.Errorf("blocked: wait %v, want 10m", w)
	}
	b.count(t0, 3)
	if b.wait(t0.Add(time.Minute), nil, 1); len(b.sent) != 0 {
		t.Errorf("%d sends kept past the longest window", len(b.sent))
	}
}

// TestBudgetAnsweredAt: a send counts from the robot's answer, so a slow
// send keeps its place in the window longer.
func TestBudgetAnsweredAt(t *testing.T) {
	var b budget
	b.take(t0, perMinute, 2) // a WeCom alert with mobile mentions
	for i := range 18 {
		b.take(t0.Add(time.Duration(10+i)*time.Second), perMinute, 1)
	}
	b.answeredAt(t0, t0.Add(5*time.Second), 2)
	if w := b.wait(t0.Add(time.Minute), perMinute, 1); w != 5*time.Second {
		t.Errorf("wait %v, want 5s: the first two count from their answer", w)
	}
	for i := 1; i < len(b.sent); i++ {
		if b.sent[i].Before(b.sent[i-1]) {
			t.Fatalf("sends out of order: %v", b.sent)
		}
	}
}

// TestBudgetSpendAll: after a crash every limit whose window has not
// passed is spent from the start, the others not.
func TestBudgetSpendAll(t *testing.T) {
	var b budget
	b.spendAll(t0, t0.Add(2*time.Second), feishu)
	if w := b.wait(t0.Add(2*time.Second), feishu, 1); w != 58*time.Second {
		t.Errorf("wait %v, want the rest of the minute (58s)", w)
	}
	if len(b.sent) != 100 {
		t.Errorf("%d sends counted, want the minute's 100 (the second's window has passed)", len(b.sent))
	}
}
