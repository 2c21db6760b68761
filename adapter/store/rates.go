package store

import (
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/agentmetrics"
)

// point is one accepted scrape of a pod's agent: its time and cumulative counters.
type point struct {
	t         time.Time
	responses float64
	rejected  [agentmetrics.NumCauses]float64
}

// Rates are per-second increases over Span, ending at the newest point.
type Rates struct {
	Requests float64
	Rejected [agentmetrics.NumCauses]float64
	// Span is the real time between the first and last point the rates were computed over.
	Span time.Duration
}

// increase is what a counter gained between two scrapes. A counter that went down was reset
// (the agent or HSDS restarted and counts again from zero), so all of its current value is new:
// the increase is never negative.
func increase(prev, cur float64) float64 {
	if cur < prev {
		return cur
	}
	return cur - prev
}

// firstIndex returns the index of the oldest point to compute rates from, for window ending at
// the newest point: the oldest point no older than window; if only the newest point is that
// recent (a scrape was missed), the one before it, as long as it is no older than maxSpan. ok is
// false when there is no such pair.
func firstIndex(pts []point, window, maxSpan time.Duration) (int, bool) {
	n := len(pts)
	if n < 2 {
		return 0, false
	}
	last := pts[n-1].t
	i := n - 1
	for i > 0 && last.Sub(pts[i-1].t) <= window {
		i--
	}
	if i == n-1 {
		i = n - 2
		if last.Sub(pts[i].t) > maxSpan {
			return 0, false
		}
	}
	return i, true
}

// windowRates computes rates over the points within window of the newest one (see firstIndex),
// summing per-interval increases so that a reset inside the window loses nothing but the counts
// made between the last scrape before the reset and the reset itself.
func windowRates(pts []point, window, maxSpan time.Duration) (Rates, bool) {
	first, ok := firstIndex(pts, window, maxSpan)
	if !ok {
		return Rates{}, false
	}
	span := pts[len(pts)-1].t.Sub(pts[first].t)
	if span <= 0 {
		return Rates{}, false
	}
	var r Rates
	for i := first + 1; i < len(pts); i++ {
		prev, cur := &pts[i-1], &pts[i]
		r.Requests += increase(prev.responses, cur.responses)
		for c := range cur.rejected {
			r.Rejected[c] += increase(prev.rejected[c], cur.rejected[c])
		}
	}
	secs := span.Seconds()
	r.Requests /= secs
	for c := range r.Rejected {
		r.Rejected[c] /= secs
	}
	r.Span = span
	return r, true
}

// prune drops points that no window can use any more: everything older than keep before the
// newest point, except the newest of those (a missed scrape may still stretch back to it).
func prune(pts []point, keep time.Duration) []point {
	n := len(pts)
	if n == 0 {
		return pts
	}
	last := pts[n-1].t
	i := 0
	for i < n-1 && last.Sub(pts[i+1].t) > keep {
		i++
	}
	if i == 0 {
		return pts
	}
	return append(pts[:0], pts[i:]...)
}
