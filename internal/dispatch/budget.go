package dispatch

import (
	"slices"
	"time"

	"github.com/sentry-white/sentry-white/internal/notify"
)

// budget is one robot's rate budget: when it sent its recent messages, and
// until when it is blocked (after a rate-limit answer), counted against
// its kind's limits (notify.Budget). It has no clock and starts nothing:
// each method is given the time and the limits, so it is tested as a
// plain value. The dispatcher keeps one per robot id, under d.mu.
type budget struct {
	sent         []time.Time // oldest first, within the longest window
	blockedUntil time.Time
}

// wait returns how long until n more messages fit (0: now), and forgets
// the sends older than the longest window.
func (b *budget) wait(now time.Time, limits []notify.Limit, n int) time.Duration {
	var w time.Duration
	if now.Before(b.blockedUntil) {
		w = b.blockedUntil.Sub(now)
	}
	longest := time.Duration(0)
	for _, l := range limits {
		longest = max(longest, l.Per)
		// The (N-n+1)-th most recent send within the window must leave it.
		k := 0
		for i := len(b.sent) - 1; i >= 0; i-- {
			if now.Sub(b.sent[i]) < l.Per {
				k++
				if k == l.N-n+1 {
					w = max(w, b.sent[i].Add(l.Per).Sub(now))
					break
				}
			}
		}
	}
	i := 0
	for i < len(b.sent) && now.Sub(b.sent[i]) >= longest {
		i++
	}
	b.sent = b.sent[i:]
	return w
}

// take counts n messages sent now if they fit now, and reports whether
// they did.
func (b *budget) take(now time.Time, limits []notify.Limit, n int) bool {
	if b.wait(now, limits, n) > 0 {
		return false
	}
	b.count(now, n)
	return true
}

// count counts n messages sent at at (the caller checked they fit).
func (b *budget) count(at time.Time, n int) {
	for range n {
		b.sent = append(b.sent, at)
	}
}

// answeredAt moves n sends counted at from to to, when the robot answered.
// The robot counts a message when it receives it, somewhere between the
// two: a window counted from the take let one message too many through
// when an earlier send had been slow (TestBudgetCountsFromTheAnswer).
func (b *budget) answeredAt(from, to time.Time, n int) {
	for i := len(b.sent) - 1; i >= 0 && n > 0; i-- {
		if b.sent[i].Equal(from) {
			b.sent[i] = to
			n--
		}
	}
	slices.SortFunc(b.sent, time.Time.Compare)
}

// spendAll counts the whole budget as spent at at, for each limit whose
// window has not passed by now: after a crash the last sends may be
// missing from what was saved.
func (b *budget) spendAll(at, now time.Time, limits []notify.Limit) {
	for _, l := range limits {
		if now.Sub(at) >= l.Per {
			continue
		}
		b.count(at, l.N)
	}
	slices.SortFunc(b.sent, time.Time.Compare)
}
