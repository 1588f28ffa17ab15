package plan

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/sentry"
)

// TestDedupe: keys are remembered for the TTL, at most max of them, and
// remove forgets one.
func TestDedupe(t *testing.T) {
	now := time.Unix(1700000000, 0)
	d := newDedupe(time.Minute, 3)
	if !d.add("a", now) || d.add("a", now.Add(59*time.Second)) {
		t.Fatal("a second copy within the TTL must be refused")
	}
	if !d.add("a", now.Add(61*time.Second)) {
		t.Fatal("a copy after the TTL must pass")
	}
	d.remove("a")
	if !d.add("a", now.Add(62*time.Second)) {
		t.Fatal("a removed key must pass")
	}
	d = newDedupe(time.Hour, 3)
	for _, k := range []string{"a", "b", "c", "d"} {
		if !d.add(k, now) {
			t.Fatalf("%s refused", k)
		}
	}
	if !d.add("a", now) {
		t.Error("the oldest key beyond the bound must be forgotten")
	}
	if d.add("d", now) {
		t.Error("a recent key must be remembered")
	}
	if len(d.seen) > 3 {
		t.Errorf("%d keys kept, bound 3", len(d.seen))
	}
}

// TestRepeatsBounded: the repeat window remembers at most maxRepeatStates
// issues, keyed by a fixed-size hash whatever the title's size, and
// states whose window passed go first.
func TestRepeatsBounded(t *testing.T) {
	r := newRepeats()
	p := &config.Project{ID: 1, Slug: "mall-api", RepeatWindowSeconds: 60}
	now := time.Unix(1700000000, 0)
	big := strings.Repeat("x", 1<<20)
	for i := 0; i < maxRepeatStates+500; i++ {
		ev := &sentry.Event{Title: fmt.Sprintf("%d %s", i, big[:64])}
		if collapsed, _, key := r.check(p, ev, now.Add(time.Duration(i)*time.Millisecond)); collapsed || key == "" {
			t.Fatalf("issue %d: collapsed %v, key %q", i, collapsed, key)
		}
	}
	if n := len(r.last); n > maxRepeatStates {
		t.Errorf("%d states kept, bound %d", n, maxRepeatStates)
	}
}

// TestRepeatWindowStartsAtDelivery: while the first alert of an issue is
// being sent its repeats are counted; when it fails, the next one goes
// out carrying the count; once one is delivered, the window holds.
func TestRepeatWindowStartsAtDelivery(t *testing.T) {
	r := newRepeats()
	p := &config.Project{ID: 1, Slug: "mall-api", RepeatWindowSeconds: 600}
	ev := &sentry.Event{IssueID: "42"}
	now := time.Unix(1700000000, 0)
	_, _, key := r.check(p, ev, now)
	if c, _, _ := r.check(p, ev, now.Add(time.Second)); !c {
		t.Fatal("a repeat while the first is being sent must be counted")
	}
	r.done(key, false, now.Add(2*time.Second))
	c, n, key2 := r.check(p, ev, now.Add(3*time.Second))
	if c || n != 1 || key2 == "" {
		t.Fatalf("after a failed first: collapsed %v, count %d; want sent with 1", c, n)
	}
	r.done(key2, true, now.Add(4*time.Second))
	if c, _, _ := r.check(p, ev, now.Add(5*time.Second)); !c {
		t.Fatal("after a delivered message the window must hold")
	}
}
