package window

import (
	"time"

	"gonum.org/v1/gonum/stat"
)

// Series keeps the timestamped samples of the last window (plus one anchor sample just before
// it, so the first span in the window is known) for statistics that need every point: the
// least-squares slope and the time covered by samples at or above a threshold.
type Series struct {
	window time.Duration
	ts     []time.Time
	vs     []float64
	xs, ys []float64 // scratch for Slope
}

// NewSeries returns an empty series over window.
func NewSeries(window time.Duration) *Series { return &Series{window: window} }

// Record appends v at t. A sample older than the latest is dropped (series stay time-ordered).
func (s *Series) Record(t time.Time, v float64) {
	if n := len(s.ts); n > 0 && t.Before(s.ts[n-1]) {
		return
	}
	s.ts = append(s.ts, t)
	s.vs = append(s.vs, v)
	cutoff := t.Add(-s.window)
	drop := 0
	for drop+1 < len(s.ts) && !s.ts[drop+1].After(cutoff) {
		drop++
	}
	if drop > 0 {
		s.ts = append(s.ts[:0], s.ts[drop:]...)
		s.vs = append(s.vs[:0], s.vs[drop:]...)
	}
}

// Slope is the least-squares slope (units per second) of the samples in (now-window, now],
// fitted with gonum's stat.LinearRegression; ok is false with fewer than two distinct times.
func (s *Series) Slope(now time.Time) (perSecond float64, ok bool) {
	cutoff := now.Add(-s.window)
	s.xs, s.ys = s.xs[:0], s.ys[:0]
	for i, t := range s.ts {
		if t.After(cutoff) && !t.After(now) {
			s.xs = append(s.xs, t.Sub(now).Seconds())
			s.ys = append(s.ys, s.vs[i])
		}
	}
	if len(s.xs) < 2 || s.xs[0] == s.xs[len(s.xs)-1] {
		return 0, false
	}
	_, beta := stat.LinearRegression(s.xs, s.ys, nil, false)
	return beta, true
}

// DurationAtLeast is how much of (now-window, now] is covered by samples whose value is >= min.
// Sample i stands for the span since the previous sample (clipped to the window start); the
// first sample ever recorded stands for no time.
func (s *Series) DurationAtLeast(now time.Time, min float64) time.Duration {
	start := now.Add(-s.window)
	var d time.Duration
	for i := 1; i < len(s.ts); i++ {
		if s.vs[i] < min || s.ts[i].After(now) {
			continue
		}
		from := s.ts[i-1]
		if from.Before(start) {
			from = start
		}
		if s.ts[i].After(from) {
			d += s.ts[i].Sub(from)
		}
	}
	return d
}

// Mean is the mean of the samples in (now-window, now]; ok is false when there is none.
func (s *Series) Mean(now time.Time) (mean float64, ok bool) {
	cutoff := now.Add(-s.window)
	sum, n := 0.0, 0
	for i, t := range s.ts {
		if t.After(cutoff) && !t.After(now) {
			sum += s.vs[i]
			n++
		}
	}
	if n == 0 {
		return 0, false
	}
	return sum / float64(n), true
}

// Len is the number of samples held, anchor included.
func (s *Series) Len() int { return len(s.ts) }
