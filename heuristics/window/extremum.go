package window

import "time"

// Extremum is the exact maximum (or minimum) of the values recorded in the last window, by the
// monotonic deque algorithm (also called "ascending minima"): the deque holds, in time order, only
// the values that can still become the extremum, so each value is pushed and popped at most once
// and Record and Value cost amortized O(1). Knative's pkg/autoscaler/aggregation/max/window.go
// does the same over time buckets; here each sample keeps its own timestamp.
type Extremum struct {
	window time.Duration
	max    bool
	ts     []time.Time
	vs     []float64
	head   int
}

// NewMax returns a sliding maximum over window.
func NewMax(window time.Duration) *Extremum { return &Extremum{window: window, max: true} }

// NewMin returns a sliding minimum over window.
func NewMin(window time.Duration) *Extremum { return &Extremum{window: window} }

// dominates reports whether a new value v makes an older value old useless.
func (e *Extremum) dominates(v, old float64) bool {
	if e.max {
		return v >= old
	}
	return v <= old
}

// Record adds v observed at t. Timestamps must not go backwards; an older t is recorded as if
// observed at the latest timestamp so the deque stays ordered.
func (e *Extremum) Record(t time.Time, v float64) {
	if n := len(e.ts); n > e.head && t.Before(e.ts[n-1]) {
		t = e.ts[n-1]
	}
	for len(e.vs) > e.head && e.dominates(v, e.vs[len(e.vs)-1]) {
		e.vs = e.vs[:len(e.vs)-1]
		e.ts = e.ts[:len(e.ts)-1]
	}
	e.ts = append(e.ts, t)
	e.vs = append(e.vs, v)
	e.evict(t)
}

// evict drops samples at or before now - window and compacts the backing arrays when half dead.
func (e *Extremum) evict(now time.Time) {
	cutoff := now.Add(-e.window)
	for e.head < len(e.ts) && !e.ts[e.head].After(cutoff) {
		e.head++
	}
	if e.head > 32 && e.head*2 > len(e.ts) {
		e.ts = append(e.ts[:0], e.ts[e.head:]...)
		e.vs = append(e.vs[:0], e.vs[e.head:]...)
		e.head = 0
	}
}

// Value is the extremum over (now-window, now]; ok is false when the window is empty.
func (e *Extremum) Value(now time.Time) (v float64, ok bool) {
	v, _, ok = e.ValueAt(now)
	return v, ok
}

// ValueAt is Value and when the extremum was last recorded: of equal values the newest is kept,
// so at + window is when the value leaves the window unless it is recorded again.
func (e *Extremum) ValueAt(now time.Time) (v float64, at time.Time, ok bool) {
	cutoff := now.Add(-e.window)
	for i := e.head; i < len(e.ts); i++ {
		if e.ts[i].After(cutoff) && !e.ts[i].After(now) {
			return e.vs[i], e.ts[i], true
		}
	}
	return 0, time.Time{}, false
}

// Len is the number of samples the deque holds (for tests and benchmarks).
func (e *Extremum) Len() int { return len(e.ts) - e.head }
