package heuristics

import (
	"fmt"
	"math"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics/window"
)

// HSDS is the "hsds" policy: a saturation rule on overload 503s sized from the offered load, a
// proportional rule on utilization inside a hysteresis band, slow and rate-limited scale-down,
// dwell times and a panic mode (docs/policy.md). All history lives in the value; it is driven by
// one caller in time order and is not safe for concurrent use.
//
// Replica changes: the caller reports each change it applies with Applied. A change of
// Snapshot.SpecReplicas that was not reported (someone else scaled, or the caller restarted) is
// taken as a change at the snapshot's time, so dwell and settling hold either way.
type HSDS struct {
	p Policy

	started      time.Time // first snapshot with data
	lastChange   time.Time
	lastSpec     int32
	specSeen     bool
	lastOverload time.Time

	overload    *window.Series   // 1 overloaded, 0 not, -1 settling (excluded)
	offeredPeak *window.Extremum // max of offered load over ShortWindow
	offered     *window.Series   // offered load over ShortWindow, for the trend
	demand      *window.EWMA     // "stable" offered load for the panic rule
	capacity    *window.EWMA     // learned one-pod capacity c1
	utilization *window.EWMA     // smoothed utilization, the divisor of capacity samples
	downRecs    *window.Extremum // max recommendation over StabilizationWindow
}

var _ Recommender = (*HSDS)(nil)

// NewHSDS validates p and returns the policy with empty history.
func NewHSDS(p Policy) (*HSDS, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("hsds policy: %w", err)
	}
	return &HSDS{
		p:           p,
		overload:    window.NewSeries(p.ShortWindow.Duration),
		offeredPeak: window.NewMax(p.ShortWindow.Duration),
		offered:     window.NewSeries(p.ShortWindow.Duration),
		demand:      window.NewEWMA(p.DemandHalfLife.Duration),
		capacity:    window.NewEWMA(p.CapacityHalfLife.Duration),
		utilization: window.NewEWMA(p.ShortWindow.Duration / 2),
		downRecs:    window.NewMax(p.StabilizationWindow.Duration),
	}, nil
}

// Name implements Recommender.
func (h *HSDS) Name() string { return "hsds" }

// Applied records that the target was set to replicas at the given time (the scaler calls it
// after a successful PATCH, with its clock's time).
func (h *HSDS) Applied(replicas int32, at time.Time) {
	if at.After(h.lastChange) {
		h.lastChange = at
	}
	h.lastSpec, h.specSeen = replicas, true
}

// LastChange is when the last replica change was applied or observed (zero if none yet).
func (h *HSDS) LastChange() time.Time { return h.lastChange }

func (h *HSDS) noteSpec(snap Snapshot, now time.Time) {
	if h.specSeen && snap.SpecReplicas != h.lastSpec {
		at := snap.Time
		if at.IsZero() {
			at = now
		}
		if at.After(h.lastChange) {
			h.lastChange = at
		}
	}
	h.lastSpec, h.specSeen = snap.SpecReplicas, true
}

func (h *HSDS) settling(now time.Time) bool {
	return !h.lastChange.IsZero() && now.Sub(h.lastChange) < h.p.SettleTime.Duration
}

// Recommend implements Recommender.
func (h *HSDS) Recommend(snap Snapshot, now time.Time) Decision {
	h.noteSpec(snap, now)
	settling := h.settling(now)
	sig := Measure(snap, now, h.p, settling)
	if sig.Known == 0 {
		return Decision{Current: sig.Current, Replicas: sig.Current, Reason: CodeNoData,
			Message: fmt.Sprintf("no pod with figures younger than %s (%d pods)", h.p.MaxSampleAge.Duration, sig.Pods)}
	}
	stable, hadStable := h.demand.Value()
	h.observe(sig, now, settling)
	e := h.evaluate(sig, now, stable, hadStable, settling)
	d := h.decide(e, now)
	h.downRecs.Record(now, float64(e.rec))
	return d
}

func (h *HSDS) observe(sig Signals, now time.Time, settling bool) {
	if h.started.IsZero() {
		h.started = now
	}
	flag := 0.0
	switch {
	case settling:
		flag = -1
	case sig.Overloaded:
		flag = 1
		h.lastOverload = now
	}
	h.overload.Record(now, flag)
	h.offeredPeak.Record(now, sig.Offered)
	h.offered.Record(now, sig.Offered)
	h.demand.Update(now, sig.Offered)
	if sig.UtilizationOK {
		h.utilization.Update(now, sig.Utilization)
	}
	if c1, ok := h.capacitySampleAt(sig, now, settling); ok {
		h.capacity.Update(now, c1)
	}
}

// capacitySampleAt is capacitySample with the policy's history: the smoothed utilization counts
// only once it spans ShortWindow (before that one in-flight reading would decide c1; overload
// samples need no utilization), and nothing is learned while settling or while the rates hold
// not-ready 503s: the served rate of such a window is the rescale's (retries deferred by the
// not-ready burst, then served in a catch-up burst), not the pods' capacity.
func (h *HSDS) capacitySampleAt(sig Signals, now time.Time, settling bool) (float64, bool) {
	if settling || sig.NotReady503 > 0 {
		return 0, false
	}
	u := 0.0
	if now.Sub(h.started) >= h.p.ShortWindow.Duration {
		u, _ = h.utilization.Value()
	}
	return capacitySample(sig, u, h.p)
}

// evaluation is everything the rules need, computed once per call.
type evaluation struct {
	sig               Signals
	settling          bool
	stable            float64 // offered-load EWMA before this snapshot
	hadStable         bool
	peak, forecast    float64 // offered load: short-window peak, and peak + trend over start-up
	c1                float64 // one-pod capacity (policy or learned), 0 if unknown
	need              int32   // replicas the forecast needs at target utilization
	needOK            bool
	prop              int32 // proportional rule's replicas
	propOK            bool
	overloadedFor     time.Duration
	rec               int32 // this call's recommendation, fed to the scale-down window
	upLimit, downStep int32
}

func (h *HSDS) evaluate(sig Signals, now time.Time, stable float64, hadStable, settling bool) evaluation {
	p := h.p
	e := evaluation{sig: sig, settling: settling, stable: stable, hadStable: hadStable}
	e.peak, _ = h.offeredPeak.Value(now)
	e.forecast = e.peak
	if slope, ok := h.offered.Slope(now); ok && slope > 0 {
		e.forecast += slope * p.PodStartupTime.Seconds()
	}
	e.c1 = p.PodCapacity
	if e.c1 == 0 {
		e.c1, _ = h.capacity.Value()
	}
	if e.c1 > 0 {
		e.need, e.needOK = ReplicasForDemand(e.forecast, e.c1, p.FanoutShare, p.TargetUtilization)
		if !e.needOK {
			e.need, e.needOK = p.MaxReplicas, true // demand beyond any cluster size: as many as allowed
		}
	}
	if sig.UtilizationOK {
		e.prop, e.propOK = ReplicasForUtilization(sig.Utilization, sig.Capacity, p.FanoutShare, p.TargetUtilization)
		if !e.propOK {
			e.prop, e.propOK = p.MaxReplicas, true
		}
	}
	e.overloadedFor = h.overload.DurationAtLeast(now, 1)
	cur := sig.Current
	e.upLimit = maxI32(satAdd(cur, p.MaxStepUpPods), ceilReplicas(float64(cur)*p.MaxStepUpFactor))
	e.downStep = maxI32(p.MaxStepDownPods, int32(math.Floor(float64(cur)*p.MaxStepDownPercent/100)))
	e.rec = h.recommendation(e)
	return e
}

// recommendation is what this snapshot alone asks for; the scale-down rule takes the highest over
// the stabilization window.
func (h *HSDS) recommendation(e evaluation) int32 {
	cur := e.sig.Current
	rec := cur
	if e.propOK && (e.sig.Utilization > h.p.ScaleUpUtilization || e.sig.Utilization < h.p.ScaleDownUtilization) {
		rec = e.prop
	}
	if e.sig.Overloaded {
		rec = maxI32(rec, cur)
		if e.needOK {
			rec = maxI32(rec, e.need)
		}
	}
	if e.needOK && rec < e.need {
		rec = e.need // never below what the offered load needs
	}
	return clampI32(rec, h.p.MinReplicas, h.p.MaxReplicas)
}

func maxI32(a, b int32) int32 {
	if a > b {
		return a
	}
	return b
}

func clampI32(v, lo, hi int32) int32 {
	return min(max(v, lo), hi)
}

func satAdd(a, b int32) int32 {
	s := int64(a) + int64(b)
	if s > math.MaxInt32 {
		return math.MaxInt32
	}
	return int32(s)
}
