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
// The safety envelope is not its business: the snapshot brings the bounds, the last replica
// change, whether the target is settling and which pods' figures are fresh, all decided by the
// scaler; the policy filters signals and sizes with them, and the scaler's guards enforce them.
type HSDS struct {
	p Policy

	started      time.Time // first snapshot with data
	lastOverload time.Time
	// upSince starts the current run of snapshots whose utilization is above ScaleUpUtilization
	// (zero: not above now), for UtilizationSustain.
	upSince time.Time
	// lastRescale is the last snapshot whose rates were a rescale's (settling, not_ready 503s, a
	// scraped pod not READY): the clients it turned away retry for CatchUpHorizon after it.
	lastRescale time.Time

	overload    *window.Series   // 1 overloaded, 0 not, -1 settling (excluded)
	offeredPeak *window.Extremum // max of offered load over ShortWindow
	offered     *window.Series   // offered load over ShortWindow, for the trend
	demand      *window.EWMA     // "stable" offered load for the panic rule
	capacity    *window.EWMA     // learned one-pod capacity c1
	utilization *window.EWMA     // smoothed utilization, the divisor of capacity samples
	utilWin     *window.Series   // utilization over UtilizationWindow, read by the band rules
	downRecs    *window.Extremum // max recommendation over StabilizationWindow
	fanout      *throughputBySize
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
		utilWin:     window.NewSeries(p.UtilizationWindow.Duration),
		downRecs:    window.NewMax(p.StabilizationWindow.Duration),
		fanout:      newThroughputBySize(p.CapacityHalfLife.Duration, p.FanoutMemory.Duration),
	}, nil
}

// Name implements Recommender.
func (h *HSDS) Name() string { return "hsds" }

// Recommend implements Recommender.
func (h *HSDS) Recommend(snap Snapshot) Decision {
	if err := snap.Validate(); err != nil {
		return Decision{Current: snap.SpecReplicas, Replicas: snap.SpecReplicas, Reason: CodeInvalid, Message: err.Error()}
	}
	now := snap.Time
	sig := Measure(snap, h.p)
	if sig.Known == 0 {
		return Decision{Current: sig.Current, Replicas: sig.Current, Reason: CodeNoData,
			Message: fmt.Sprintf("no pod with fresh figures (%d pods)", sig.Pods)}
	}
	stable, hadStable := h.demand.Value()
	settling := snap.Settling
	h.observe(sig, now, settling)
	e := h.evaluate(sig, snap, stable, hadStable)
	h.trackUp(e, now, settling)
	d := h.decide(e, now)
	if e.recOK {
		h.downRecs.Record(now, float64(e.rec))
	}
	return d
}

func (h *HSDS) observe(sig Signals, now time.Time, settling bool) {
	if h.started.IsZero() {
		h.started = now
	}
	if settling || rescaleSign(sig) != "" {
		h.lastRescale = now
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
		if !settling && h.p.UtilizationWindow.Duration > 0 {
			h.utilWin.Record(now, sig.Utilization)
		}
	}
	if c1, ok := h.capacitySampleAt(sig, now, settling); ok {
		h.capacity.Update(now, c1)
	}
	if h.throughputSample(sig, settling) {
		h.fanout.record(now, sig.Capacity, sig.Served)
	}
}

// rescaleSign names what in sig shows a rescale under way (not_ready 503s in the rates, a
// scraped pod not READY), "" when nothing does: its attempts may be the catch-up retries of the
// clients a rescale turned away.
func rescaleSign(sig Signals) string {
	switch {
	case sig.NotReady503 > 0:
		return fmt.Sprintf("the rates hold %.1f not_ready 503s/s", sig.NotReady503)
	case sig.Capacity < sig.Known:
		return fmt.Sprintf("%d of %d scraped pods not READY", sig.Known-sig.Capacity, sig.Known)
	}
	return ""
}

// trackUp follows the run of snapshots above ScaleUpUtilization: a snapshot not above it, one
// without a utilization figure, or a settling one (a rescale's jam fills the gates) ends it.
func (h *HSDS) trackUp(e evaluation, now time.Time, settling bool) {
	if settling || !e.sig.UtilizationOK || !e.propOK || e.utilUp <= h.p.ScaleUpUtilization {
		h.upSince = time.Time{}
		return
	}
	if h.upSince.IsZero() {
		h.upSince = now
	}
}

// throughputSample reports whether this snapshot's served rate is the cluster's throughput at its
// size: the ceiling is on (fanoutMemory > 0), the SNs' own gates shed, every pod asked for runs,
// serves and was scraped, and the rates are not a rescale's.
func (h *HSDS) throughputSample(sig Signals, settling bool) bool {
	return h.p.FanoutMemory.Duration > 0 && !settling && gateShedding(sig, h.p) && sig.NotReady503 == 0 && sig.Stale == 0 && sig.Pending == 0 &&
		sig.Capacity == sig.Known && int32(sig.Capacity) == sig.Current
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
	sig        Signals
	min, max   int32 // the snapshot's bounds, for sizing (max lowered to a fan-out ceiling)
	ceiling    fanoutCeiling
	ceilingOK  bool
	measuring  bool      // shedding at a size not yet measured, with a smaller one measured: no step up yet
	lastChange time.Time // the snapshot's last replica change, for the dwell times
	stable     float64   // offered-load EWMA before this snapshot
	util       float64   // utilization the band rules read: the window's mean (or this snapshot's)
	// utilUp is util scaled by the share of the capacity pods' room that has an in-flight figure
	// (Signals.UtilizationFloor): what the scale-up rules read, so that one pod's burst reading
	// among pods without a figure is not taken for the cluster's. propUp is its proportional size.
	utilUp float64
	propUp int32
	// rescaleRates: a scraped pod is not READY or the rates hold not_ready 503s, or the last such
	// snapshot (or a settling one) is less than CatchUpHorizon ago, so the attempts may hold a
	// rescale's catch-up retries, no new demand: neither panic nor saturation sizes from need.
	rescaleRates      bool
	rescaleWhy        string // what made rescaleRates true: rescaleSign, or the horizon
	hadStable         bool
	peak, forecast    float64 // offered load: short-window peak, and peak + trend over start-up
	c1                float64 // one-pod capacity (policy or learned), 0 if unknown
	need              int32   // replicas the forecast needs at target utilization
	needOK            bool
	prop              int32 // proportional rule's replicas
	propOK            bool
	overloadedFor     time.Duration
	rec               int32 // this call's recommendation, fed to the scale-down window when recOK
	recOK             bool
	upLimit, downStep int32
}

func (h *HSDS) evaluate(sig Signals, snap Snapshot, stable float64, hadStable bool) evaluation {
	p, now := h.p, snap.Time
	e := evaluation{sig: sig, min: snap.MinReplicas, max: snap.MaxReplicas, lastChange: snap.LastChange,
		stable: stable, hadStable: hadStable}
	e.peak, _ = h.offeredPeak.Value(now)
	e.forecast = e.peak
	if slope, ok := h.offered.Slope(now); ok && slope > 0 {
		e.forecast += slope * p.PodStartupTime.Seconds()
	}
	if c, ok := h.fanout.ceiling(now); ok && int32(c.Size) < e.max {
		e.ceiling, e.ceilingOK = c, true
		e.max = max(int32(c.Size), e.min)
	}
	// A size reached under shedding is measured before the next step up, when there is a smaller
	// one to compare it with: otherwise dwellUp passes before the first figure and a fan-out
	// bound cluster climbs on.
	e.measuring = h.throughputSample(sig, snap.Settling) && !h.fanout.measured(now, int(sig.Current)) &&
		h.fanout.measuredBelow(now, int(sig.Current))
	e.c1 = p.PodCapacity
	if e.c1 == 0 {
		e.c1, _ = h.capacity.Value()
	}
	if e.c1 > 0 {
		e.need, e.needOK = ReplicasForDemand(e.forecast, e.c1, p.FanoutShare, p.TargetUtilization)
		if !e.needOK {
			e.need, e.needOK = e.max, true // demand beyond any cluster size: as many as allowed
		}
	}
	e.rescaleWhy = rescaleSign(sig)
	if e.rescaleWhy == "" && !h.lastRescale.IsZero() && snap.Time.Sub(h.lastRescale) < p.CatchUpHorizon.Duration {
		e.rescaleWhy = fmt.Sprintf("the last sign of a rescale was %s ago < catchUpHorizon %s",
			snap.Time.Sub(h.lastRescale), p.CatchUpHorizon.Duration)
	}
	e.rescaleRates = e.rescaleWhy != ""
	e.util = sig.Utilization
	if m, ok := h.utilWin.Mean(now); ok && sig.UtilizationOK {
		e.util = m
	}
	e.utilUp = e.util
	if sig.Utilization > 0 {
		e.utilUp = e.util * sig.UtilizationFloor / sig.Utilization
	}
	if sig.UtilizationOK {
		e.prop, e.propOK = ReplicasForUtilization(e.util, sig.Capacity, p.FanoutShare, p.TargetUtilization)
		if !e.propOK {
			e.prop, e.propOK = e.max, true
		}
		var ok bool
		if e.propUp, ok = ReplicasForUtilization(e.utilUp, sig.Capacity, p.FanoutShare, p.TargetUtilization); !ok {
			e.propUp = e.max
		}
	}
	e.overloadedFor = h.overload.DurationAtLeast(now, 1)
	cur := sig.Current
	e.upLimit = maxI32(satAdd(cur, p.MaxStepUpPods), ceilReplicas(float64(cur)*p.MaxStepUpFactor))
	e.downStep = maxI32(p.MaxStepDownPods, int32(math.Floor(float64(cur)*p.MaxStepDownPercent/100)))
	e.rec, e.recOK = h.recommendation(e)
	return e
}

// recommendation is what this snapshot alone asks for; the scale-down rule takes the highest over
// the stabilization window.
//
// A snapshot whose capacity pods all lack an in-flight figure (0.9.x pods serving a few requests
// each, none gated within the agent's --in-flight-max-age) has no utilization to size from: when
// its rates are not a rescale's and nothing sheds, it recommends what the offered load needs, and
// nothing when that is unknown too (ok false: it does not enter the window). Recommending the
// current size there held every drain of a quiet 0.9.x cluster: one such snapshot per
// stabilization window kept a flash crowd's 5 pods for 36 minutes at utilization 0.04
// (docs/policy.md, "Changes").
func (h *HSDS) recommendation(e evaluation) (int32, bool) {
	cur := e.sig.Current
	if !e.propOK && !e.sig.Overloaded && e.sig.Capacity > 0 && !e.rescaleRates {
		return clampI32(e.need, e.min, e.max), e.needOK
	}
	rec := cur
	switch {
	case e.propOK && e.utilUp > h.p.ScaleUpUtilization:
		rec = e.propUp
	case e.propOK && e.util < h.p.ScaleDownUtilization:
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
	return clampI32(rec, e.min, e.max), true // sizing within what is allowed; the scaler enforces the bounds
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
