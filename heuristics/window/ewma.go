package window

import (
	"math"
	"time"
)

// EWMA is an exponentially weighted moving average with time-based decay: an update after dt
// weighs the new value by alpha = 1 - 2^(-dt/halfLife), so irregular sampling is handled and a
// value halfLife old carries half the weight of a fresh one. The first update sets the value.
type EWMA struct {
	halfLife time.Duration
	value    float64
	last     time.Time
	set      bool
}

// NewEWMA returns an empty EWMA; halfLife must be > 0.
func NewEWMA(halfLife time.Duration) *EWMA { return &EWMA{halfLife: halfLife} }

// Alpha is the weight of a new value after elapsed time dt with the given half-life.
func Alpha(dt, halfLife time.Duration) float64 {
	if dt <= 0 {
		return 0
	}
	if halfLife <= 0 {
		return 1
	}
	return 1 - math.Exp2(-dt.Seconds()/halfLife.Seconds())
}

// Update folds v observed at t into the average. An update at or before the previous one is
// ignored (alpha 0), so replays cannot move it.
func (e *EWMA) Update(t time.Time, v float64) {
	if !e.set {
		e.value, e.last, e.set = v, t, true
		return
	}
	a := Alpha(t.Sub(e.last), e.halfLife)
	if a == 0 {
		return
	}
	e.value += a * (v - e.value)
	e.last = t
}

// Last is the time of the update that last moved the average (zero before the first).
func (e *EWMA) Last() time.Time { return e.last }

// Value is the current average; ok is false before the first update.
func (e *EWMA) Value() (v float64, ok bool) { return e.value, e.set }
