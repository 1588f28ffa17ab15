package dispatch

import (
	"testing"
	"time"
)

// The queue is a plain value too: these tests fill and take from it with
// no clock, spool or goroutine.

// add puts j in q as enqueue does: merged when it can be, else pushed.
func add(q *queue, j *Job, max int) (into *task, folded bool) {
	t := &task{job: j}
	if into, folded = q.merge(t, max); into == nil {
		q.push(t)
	}
	return into, folded
}

func TestQueueMergesRepeatsOfAnIssue(t *testing.T) {
	var q queue
	add(&q, job(1), 10)
	add(&q, job(2), 10)
	again := job(1)
	again.PossibleRepeat = true
	if into, folded := add(&q, again, 10); into == nil || into.job.Message.Heading != "Error #001" || folded {
		t.Fatalf("a repeat of a waiting issue: into %v, folded %v", into, folded)
	}
	first := q.pending[0].job
	if len(q.pending) != 2 || first.Repeats != 1 || !first.PossibleRepeat {
		t.Errorf("%d waiting, the issue's job %+v: want 2 waiting, one repeat, marked", len(q.pending), first)
	}
	// A job held for a retry round keeps its own place.
	held := job(1)
	held.NotBefore = t0
	if into, _ := add(&q, held, 10); into != nil || len(q.pending) != 3 {
		t.Errorf("a held job was merged (%d waiting)", len(q.pending))
	}
	// A job the queue holds already is not added twice.
	q.push(&task{job: first})
	if len(q.pending) != 3 {
		t.Errorf("%d waiting after pushing a job held already", len(q.pending))
	}
}

func TestQueueFoldsPastItsBound(t *testing.T) {
	var q queue
	add(&q, job(1), 2)
	add(&q, job(2), 2)
	j := job(3)
	j.Repeats, j.Folded = 2, 1
	if into, folded := add(&q, j, 2); !folded || into != q.pending[1] {
		t.Fatalf("a third issue in a queue of two: into %v, folded %v", into, folded)
	}
	if len(q.pending) != 2 || q.pending[1].job.Folded != 4 {
		t.Errorf("%d waiting, last folded %d: want 2 and 4 (the alert, its 2 repeats, its 1 fold)",
			len(q.pending), q.pending[1].job.Folded)
	}
}

func TestQueueTakesADigest(t *testing.T) {
	var q queue
	for i := range 5 {
		add(&q, job(i), 10)
	}
	retry := job(9)
	retry.NotBefore = t0.Add(time.Minute)
	add(&q, retry, 10)
	q.pending[0].job.Cost = 2
	if n := q.cost(); n != 2 {
		t.Errorf("cost %d, want the dearest job's 2", n)
	}
	taken, _ := q.take(t0, 3)
	if len(taken) != 3 || taken[0].job.Message.Heading != "Error #000" || taken[2].job.Message.Heading != "Error #002" {
		t.Fatalf("took %d, want the three oldest issues", len(taken))
	}
	taken, _ = q.take(t0, 3)
	if len(taken) != 2 || len(q.pending) != 1 {
		t.Fatalf("then took %d with %d left, want 2 and the held job", len(taken), len(q.pending))
	}
	if taken, wait := q.take(t0, 3); taken != nil || wait != time.Minute {
		t.Errorf("only a held job: took %d, wait %v; want none and its minute", len(taken), wait)
	}
	if taken, _ := q.take(t0.Add(time.Minute), 3); len(taken) != 1 || len(q.pending) != 0 {
		t.Errorf("at its time the held job was not taken")
	}
}
