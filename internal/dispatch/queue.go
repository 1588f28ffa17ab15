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

// enqueue adds t to its robot's queue (and, with persist, the spool) and,
// in background mode, makes sure a worker serves the robot. A repeat of an
// issue already waiting only raises that job's count; past MaxQueue, an
// alert of another issue is folded into the queue's last job as a count.
// In server mode a job that cannot be saved is not queued: the error says
// why (on Function Compute the hand-off, not the spool, keeps it).
func (d *Dispatcher) enqueue(t *task, persist bool) error {
	j := t.job
	d.mu.Lock()
	st := d.robot(j.RobotID, j.Kind)
	into, folded := st.queue.merge(t, d.o.MaxQueue)
	if folded {
		if now := d.clock.Now(); now.Sub(d.foldedAt) > time.Minute {
			d.log.Warn("a robot's queue is full: further alerts are counted in its next digest",
				"robot_id", j.RobotID, "queued", len(st.queue.pending))
		}
		d.foldedAt = d.clock.Now()
	}
	if into != nil {
		d.mu.Unlock()
		// The waiting job carries the issue. A repeat's count lives in
		// memory only (a crash loses the count, not the alert); a fold
		// is saved with it, since those are other alerts.
		t.end(d.spool)
		if folded && into.spooled {
			if err := into.save(d.spool, false); err != nil {
				d.log.Error("spool write failed for a folded count", "job", into.job.ID, "error", err.Error())
			}
		}
		return nil
	}
	d.mu.Unlock()
	if persist {
		if err := t.save(d.spool, false); err != nil {
			if !d.o.RequeueInFlight {
				return err
			}
			d.log.Error("spool write failed; the alert waits in memory for its hand-off", "job", j.ID, "error", err.Error())
		}
	}
	t.answered.Store(true) // from here the queue delivers it
	d.mu.Lock()
	st.queue.push(t)
	start := d.startWorker(st)
	d.mu.Unlock()
	if start {
		go d.work(st)
	}
	return nil
}

// next takes the batch st's robot may send now, or returns how long to
// wait for one. Call with d.mu held.
func (d *Dispatcher) next(st *robotState, now time.Time) (batch, time.Duration) {
	if len(st.queue.pending) == 0 {
		return batch{}, 0
	}
	lim := d.limits(st.kind)
	n := st.queue.cost()
	if w := st.budget.wait(now, lim.Limits, n); w > 0 {
		return batch{}, w
	}
	tasks, soonest := st.queue.take(now, lim.DigestItems)
	if tasks == nil {
		return batch{}, soonest
	}
	st.budget.count(now, n)
	jobs := make([]*Job, len(tasks))
	for i, t := range tasks {
		jobs[i] = t.job
	}
	return batch{tasks: tasks, jobs: jobs, takenAt: now, taken: n}, 0
}

// TakeQueued removes every queued job no background worker is serving,
// their spool files too, and returns them, e.g. to hand them to another
// invocation; Enqueue takes back those that stay.
func (d *Dispatcher) TakeQueued() []*Job {
	d.mu.Lock()
	defer d.mu.Unlock()
	var taken []*task
	for _, st := range d.robots {
		if st.queue.working {
			continue
		}
		taken = append(taken, st.queue.pending...)
		st.queue.pending = nil
	}
	var out []*Job
	for _, t := range taken {
		t.unspool(d.spool)
		out = append(out, t.job)
	}
	return out
}
