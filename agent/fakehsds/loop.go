package fakehsds

import (
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// eventLoop models the SN's single asyncio event loop (docs/hsds.md, measured: "Gate 503s are not
// fast: they queue in the SN's single event loop like everything else (p50 ~70 ms at 60
// concurrent)"). Each pass of a request through the loop takes cost of loop time; the loop runs
// one pass at a time, in the order the passes arrive. A pass reserves the next free slot of loop
// time and sleeps until its slot ends, so a request's latency is its queueing behind the passes
// before it, which is what makes a gate 503 as slow as a served request under load: the delay is
// not a constant, it grows with the queue. No goroutine: the loop is a reservation clock.
type eventLoop struct {
	clock clock.WithDelayedExecution
	cost  time.Duration

	mu        sync.Mutex
	busyUntil time.Time // end of the last reserved slot
}

// pass waits for one slot of loop time. With cost 0 the loop is not modelled and pass returns at
// once. The slot is kept even if the client goes away: the real loop runs the task anyway.
func (l *eventLoop) pass() {
	if l.cost <= 0 {
		return
	}
	l.mu.Lock()
	now := l.clock.Now()
	start := now
	if l.busyUntil.After(now) {
		start = l.busyUntil
	}
	end := start.Add(l.cost)
	l.busyUntil = end
	l.mu.Unlock()
	<-l.clock.After(end.Sub(now))
}
