package dispatch

import (
	"context"
	"sync"
	"sync/atomic"
)

// task is a job while this dispatcher holds it: the live side its record
// (Job) does not carry. A task is made when a job comes in (Submit,
// Enqueue, the spool at New) and dropped when the job ends or leaves the
// dispatcher (TakeQueued).
type task struct {
	job *Job

	// mu orders writing the job's spool file and ending the task: a task
	// ended is never written again, so no file outlives a delivered alert
	// to be sent again at a restart. It also guards the job's
	// PossibleRepeat, set at Submit's deadline while the send may read it.
	mu sync.Mutex
	// spooled is set once the job may have a spool file: a job delivered
	// within its request never had one, and removing it anyway cost a
	// syscall per webhook.
	spooled bool
	// ended is set once the job reached its end (end).
	ended bool
	// onItsWay is set once the job's message took a connection to the
	// robot (began): from then on its spool file says Sending.
	onItsWay bool

	// answered is set once Sentry was told the job continues (202): from
	// then on a transient failure is retried in the background instead of
	// being reported, and the job's final outcome is Late.
	answered atomic.Bool

	// state is where Submit's send of the job is: sendRunning, then
	// sendReturned, or sendRequeued when the deadline gave the job to the
	// queue.
	state atomic.Int32
	// cancel stops Submit's send (RequeueInFlight, at the deadline).
	cancel context.CancelFunc
	// one holds the job as a batch of one for the Resolver (alone).
	one [1]*Job
}

// Where Submit's send of a task is (task.state).
const (
	sendRunning int32 = iota
	sendReturned
	sendRequeued
)

// save writes the job to the spool, waiting (not being sent) when
// sending is false, else marked as being sent once its message is on its
// way (began). It does nothing without a spool, or once the task ended: a
// file written then would be sent again at a restart.
func (t *task) save(sp *spool, sending bool) error {
	if sp == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return nil
	}
	if !sending {
		t.onItsWay = false // back in a queue: its next send marks it again
	}
	t.job.Sending = t.onItsWay
	err := sp.put(t.job)
	if err == nil {
		t.spooled = true
	}
	return err
}

// resave writes the job's spool file again if it has one (its counts
// changed): a job that was never saved stays so.
func (t *task) resave(sp *spool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if sp == nil || t.ended || !t.spooled {
		return nil
	}
	return sp.put(t.job)
}

// began marks the job's message as on its way to the robot: its send took
// a connection and writes the request next. A job in the spool is marked
// there first, so that after a crash the next start knows the robot may
// have it; a job still waiting for a connection (a burst takes turns on
// notify.MaxRobotConns) is not, as it has not reached the robot.
func (t *task) began(sp *spool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.onItsWay {
		return nil
	}
	t.onItsWay = true
	if sp == nil || !t.spooled || t.ended {
		return nil
	}
	t.job.Sending = true
	return sp.put(t.job)
}

// unspool removes the job's spool file: the job lives on elsewhere (a
// hand-off), and may be saved again if it comes back.
func (t *task) unspool(sp *spool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if sp != nil && t.spooled {
		sp.remove(t.job.ID)
		t.spooled = false
	}
}

// end ends the task for good, reporting nothing: its spool file goes and
// none is written after. It is the whole end of a job merged into another
// or refused (Unsaved); endAndReport ends the jobs that have an outcome.
func (t *task) end(sp *spool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ended = true
	if sp != nil && t.spooled {
		sp.remove(t.job.ID)
		t.spooled = false
	}
}

// alone returns the job as a batch of one for Submit's send, without
// allocating a slice for it.
func (t *task) alone() []*Job {
	t.one[0] = t.job
	return t.one[:]
}

// markPossibleRepeat says the robot may have the job already.
func (t *task) markPossibleRepeat() {
	t.mu.Lock()
	t.job.PossibleRepeat = true
	t.mu.Unlock()
}

// possibleRepeat reports whether the robot may have the job already.
func (t *task) possibleRepeat() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.job.PossibleRepeat
}
