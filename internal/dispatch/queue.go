package dispatch

import (
	"slices"
	"time"
)

// defaultMaxQueue bounds a robot's queue: 500 alerts are 25 minutes of a
// DingTalk robot's budget, and at most a few MB of memory and spool.
const defaultMaxQueue = 500

// maxDigestJobs bounds the alerts one digest message accounts for, however
// few issues they are.
const maxDigestJobs = 5000

// queue is what waits for one robot, oldest first. Alerts of an issue
// already waiting only raise that job's count, and alerts past the queue's
// bound are folded into its last job as a count, so neither a storm of one
// error nor a storm of many grows it without bound; what it sends at once
// is one digest. It has no clock and starts nothing, like budget: the
// dispatcher keeps one per robot id, under d.mu.
type queue struct {
	pending []*task
	working bool // a background worker serves it
}

// issue is what makes two alerts the same issue: one line of a digest.
type issue struct{ heading, link string }

func issueOf(j *Job) issue { return issue{j.Message.Heading, j.Message.Link} }

// holds reports whether q holds j.
func (q *queue) holds(j *Job) bool {
	return slices.ContainsFunc(q.pending, func(t *task) bool { return t.job == j })
}

// merge finds the waiting job t's job joins instead of a place of its own
// and adds it to that job's counts: a job of the same issue (neither held
// for a retry round) takes it as repeats; a queue of max jobs or more
// takes it into its last job, folded in as a count. It returns nil when t
// needs a place of its own (push).
func (q *queue) merge(t *task, max int) (into *task, folded bool) {
	j := t.job
	if j.NotBefore.IsZero() {
		for _, p := range q.pending {
			if pj := p.job; pj != j && pj.NotBefore.IsZero() && issueOf(pj) == issueOf(j) {
				pj.Repeats += 1 + j.Repeats
				pj.Folded += j.Folded
				// The robot may have one of them: the line says so.
				pj.PossibleRepeat = pj.PossibleRepeat || j.PossibleRepeat
				return p, false
			}
		}
	}
	if len(q.pending) >= max && !q.holds(j) {
		into = q.pending[len(q.pending)-1]
		into.job.Folded += 1 + j.Repeats + j.Folded
		return into, true
	}
	return nil, false
}

// push adds t at the end of q, unless q holds its job already.
func (q *queue) push(t *task) {
	if !q.holds(t.job) {
		q.pending = append(q.pending, t)
	}
}

// cost is the most messages one waiting job takes: what the robot's budget
// must allow before q sends.
func (q *queue) cost() int {
	n := 1
	for _, t := range q.pending {
		n = max(n, cost(t.job))
	}
	return n
}

// take removes from q the jobs that go out now as one message: up to
// digestItems issues (the repeats of an issue in it only raise its count,
// so a storm of one error fits one message) and maxDigestJobs jobs, oldest
// first. Jobs held for a retry round stay until their time: with none
// ready, take returns nil and how long until the soonest.
func (q *queue) take(now time.Time, digestItems int) ([]*task, time.Duration) {
	var ready, later []*task
	var soonest time.Duration = -1
	for _, t := range q.pending {
		if nb := t.job.NotBefore; now.Before(nb) {
			later = append(later, t)
			if w := nb.Sub(now); soonest < 0 || w < soonest {
				soonest = w
			}
			continue
		}
		ready = append(ready, t)
	}
	if len(ready) == 0 {
		return nil, soonest
	}
	limit := max(digestItems, 1)
	seen := map[issue]bool{}
	var taken, rest []*task
	for _, t := range ready {
		k := issueOf(t.job)
		if !seen[k] && len(seen) == limit || len(taken) >= maxDigestJobs {
			rest = append(rest, t)
			continue
		}
		seen[k] = true
		taken = append(taken, t)
	}
	q.pending = append(rest, later...)
	return taken, 0
}
