package dispatch

import (
	"context"
	"time"
)

// startWorker reports whether st needs a background worker now, and
// counts it. Call with d.mu held.
func (d *Dispatcher) startWorker(st *robotState) bool {
	if !d.o.Background || !d.started || st.queue.working || d.closed || len(st.queue.pending) == 0 {
		return false
	}
	st.queue.working = true
	d.wg.Add(1)
	d.busy.Add(1) // until the worker blocks on the clock or returns
	return true
}

// work sends st's queue as the budget allows until it is empty.
func (d *Dispatcher) work(st *robotState) {
	defer d.wg.Done()
	defer d.busy.Add(-1)
	for {
		d.mu.Lock()
		now := d.clock.Now()
		b, wait := d.next(st, now)
		if b.tasks == nil && wait == 0 || d.closed {
			st.queue.working = false
			d.mu.Unlock()
			return
		}
		d.mu.Unlock()
		if b.tasks == nil {
			d.busy.Add(-1) // blocked on the clock from here; the wake counts it again
			ch, stop := d.after(wait, func() { d.busy.Add(1) })
			select {
			case <-ch:
			case <-d.stop:
				if stop() {
					d.busy.Add(1)
				} else {
					<-ch
				}
				d.mu.Lock()
				st.queue.working = false
				d.mu.Unlock()
				return
			}
			continue
		}
		d.sendBatch(b)
	}
}

// sendBatch sends a batch taken from a queue and applies the result.
func (d *Dispatcher) sendBatch(b batch) Outcome {
	ctx, cancel := context.WithTimeout(context.Background(), d.o.SendTimeout)
	defer cancel()
	// Marked in the spool before the post (d.send, once the post has its
	// connection): should the relay stop before the answer, the next
	// start knows the robot may have the message.
	out := d.applyResult(b, d.send(ctx, b))
	d.log.Info("queued alerts sent", "robot_id", b.tasks[0].job.RobotID, "alerts", len(b.tasks), "result", out.Status)
	return out
}

// Drain sends every queued job the budgets allow, waiting for budget, until
// the queues are empty or ctx ends. Function Compute's asynchronous
// invocation and shutdown use it.
func (d *Dispatcher) Drain(ctx context.Context) error { return d.drain(ctx, true) }

// DrainReady sends the queued jobs whose robots have budget now and returns
// without waiting for the others.
func (d *Dispatcher) DrainReady(ctx context.Context) error { return d.drain(ctx, false) }

func (d *Dispatcher) drain(ctx context.Context, block bool) error {
	for {
		d.mu.Lock()
		now := d.clock.Now()
		var ready batch
		var wait time.Duration = -1
		for _, st := range d.robots {
			if st.queue.working {
				continue // a background worker serves it
			}
			b, w := d.next(st, now)
			if b.tasks != nil {
				ready = b
				break
			}
			if len(st.queue.pending) > 0 && (wait < 0 || w < wait) {
				wait = w
			}
		}
		d.mu.Unlock()
		switch {
		case ready.tasks != nil:
			d.sendBatch(ready)
		case wait < 0 || !block:
			return nil
		default:
			ch, stop := d.after(wait, nil)
			select {
			case <-ch:
			case <-ctx.Done():
				stop()
				return ctx.Err()
			}
		}
	}
}
