package dispatch

import (
	"time"
)

// Clock is the time source; tests use a fake one.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f once d has passed, unless stop is called first;
	// stop reports whether it prevented the call.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}

// after returns a channel that receives once d has passed. wake runs first,
// in the clock's goroutine, so whoever waits on the channel is counted busy
// again before it can be seen idle.
func (d *Dispatcher) after(wait time.Duration, wake func()) (<-chan struct{}, func() bool) {
	ch := make(chan struct{}, 1)
	stop := d.clock.AfterFunc(wait, func() {
		if wake != nil {
			wake()
		}
		ch <- struct{}{}
	})
	return ch, stop
}
