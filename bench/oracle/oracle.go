// Package oracle is the clairvoyant baseline of bench: it knows the whole trace in advance and
// sets, at every control step, the fewest replicas whose capacity covers the load from now until
// a new pod could be serving (lead time). It is a pure function of the trace and a capacity model.
package oracle

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/bench/trace"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

// Name is the oracle's policy name in reports.
const Name = "oracle"

// Model is the capacity model: the fewest replicas that serve rate requests/s.
type Model interface {
	ReplicasFor(rate float64) int32
}

// Schedule returns the oracle's replica count for every control step of `step` seconds over
// `duration` seconds of the (already scaled) series s. The need of a step is
// m.ReplicasFor(the mean rate over it) (a per-minute trace has one rate per step; a per-second
// trace's jitter within a step is averaged, as any pod absorbs it in its queue of retries). Step i holds the largest need over the next `lead`
// seconds (so a pod ordered now serves when the load arrives), and keeps any level for `hold`
// seconds before scaling down (every replica change costs HSDS a cluster-wide not-ready window,
// so a clairvoyant operator does not flap on short dips).
func Schedule(s trace.Series, m Model, step, lead, hold, duration float64) ([]int32, error) {
	if !(step > 0) || !(lead >= 0) || !(hold >= 0) || !(duration > 0) || !(s.Step > 0) {
		return nil, fmt.Errorf("oracle schedule: step %g, lead %g, hold %g, duration %g, series step %g: want positive (lead, hold >= 0)",
			step, lead, hold, duration, s.Step)
	}
	if len(s.Rates) == 0 {
		return nil, errors.New("oracle schedule: empty series")
	}
	n := int(math.Ceil(duration / step))
	need := make([]int32, n)
	for i := range need {
		need[i] = m.ReplicasFor(mean(s, float64(i)*step, float64(i+1)*step))
	}
	ahead := slidingMax(need, 0, int(math.Ceil(lead/step)))
	return slidingMax(ahead, int(math.Ceil(hold/step)), 0), nil
}

// slidingMax returns out[i] = max(v[i-back .. i+fwd]) (clipped to v's bounds).
func slidingMax(v []int32, back, fwd int) []int32 {
	out := make([]int32, len(v))
	for i := range out {
		for j := max(i-back, 0); j <= i+fwd && j < len(v); j++ {
			out[i] = max(out[i], v[j])
		}
	}
	return out
}

// mean is the time-weighted mean rate of s over [from, to) (0 beyond its end).
func mean(s trace.Series, from, to float64) float64 {
	sum := 0.0
	for i := max(int(math.Floor(from/s.Step)), 0); i < len(s.Rates) && float64(i)*s.Step < to; i++ {
		lo, hi := math.Max(from, float64(i)*s.Step), math.Min(to, float64(i+1)*s.Step)
		sum += s.Rates[i] * math.Max(0, hi-lo)
	}
	return sum / (to - from)
}

// Recommender replays a schedule as a heuristics.Recommender: at now it recommends the entry
// of the step now falls in (the last one past the end).
type Recommender struct {
	start    time.Time
	step     time.Duration
	schedule []int32
}

// NewRecommender returns a Recommender whose schedule starts at start, one entry per step.
func NewRecommender(schedule []int32, start time.Time, step time.Duration) *Recommender {
	return &Recommender{start: start, step: step, schedule: schedule}
}

// Name implements heuristics.Recommender.
func (r *Recommender) Name() string { return Name }

// Recommend implements heuristics.Recommender.
func (r *Recommender) Recommend(snap heuristics.Snapshot, now time.Time) heuristics.Decision {
	d := heuristics.Decision{Current: snap.SpecReplicas, Replicas: snap.SpecReplicas, Reason: "no-data"}
	if len(r.schedule) == 0 || now.Before(r.start) {
		return d
	}
	i := min(int(now.Sub(r.start)/r.step), len(r.schedule)-1)
	d.Valid, d.Replicas, d.Reason = true, r.schedule[i], "schedule"
	d.Message = fmt.Sprintf("oracle step %d: %d replicas", i, r.schedule[i])
	return d
}
