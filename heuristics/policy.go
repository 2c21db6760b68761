package heuristics

import (
	"errors"
	"fmt"
	"time"
)

// Policy holds every tunable of the "hsds" policy. The JSON names (camelCase) are the keys of the
// policy YAML file, which the scaler decodes strictly. docs/policy.md lists every field with its
// default, unit and meaning; DefaultPolicy is the single source of those defaults.
type Policy struct {
	// The safety envelope is not here: bounds, the settle time and the sample-age limit are the
	// scaler's (policy file spec.policy.minReplicas/maxReplicas, spec.guards.settle and
	// spec.guards.maxSampleAge), passed in through the Snapshot.

	// UpstreamWeight: how much an "upstream" 503 (DN 503 or SN->DN timeout passed through)
	// counts as overload. "not_ready" 503s never count.
	UpstreamWeight float64 `json:"upstreamWeight"`

	// ShortWindow is the window of the saturation rule, the offered-load peak and the trend; the
	// utilization that capacity samples divide by is an EWMA with half-life ShortWindow/2, used
	// once the policy has ShortWindow of history.
	ShortWindow Duration `json:"shortWindow"`
	// OverloadRatio: the cluster is overloaded at an instant when overload 503s exceed this share
	// of request attempts and OverloadMinRate.
	OverloadRatio float64 `json:"overloadRatio"`
	// OverloadMinRate (503/s, cluster-wide) keeps a handful of 503s at low traffic from counting.
	OverloadMinRate float64 `json:"overloadMinRate"`
	// OverloadSustain: the saturation rule fires when overloaded snapshots cover at least this
	// much of ShortWindow.
	OverloadSustain Duration `json:"overloadSustain"`

	// BackgroundTasks is how many tasks an SN holds with no request at all (HSDS 0.9.4: 2, its own
	// asyncio tasks, measured; docs/hsds.md). They are taken off each pod's in-flight figure and its
	// limit before utilization is computed: they are no load, and with a small max_task_count they
	// would hold utilization above scaleDownUtilization for good.
	BackgroundTasks float64 `json:"backgroundTasks"`

	// TargetUtilization is the in-flight / limit figure the proportional rule sizes for;
	// it acts only above ScaleUpUtilization or below ScaleDownUtilization (the hysteresis band).
	TargetUtilization    float64 `json:"targetUtilization"`
	ScaleUpUtilization   float64 `json:"scaleUpUtilization"`
	ScaleDownUtilization float64 `json:"scaleDownUtilization"`
	// UtilizationWindow: the band and the proportional rule read the mean utilization of the
	// snapshots of this window (settling ones excluded), not one reading: the in-flight gauge is
	// an instant's count that jumps by a whole request's tasks (up to 16 x DNs), so on a few pods
	// one reading crosses the band by chance. 0 (the default) reads the snapshot alone: in the
	// bench 30 s made fewer changes and fewer pods but more failures (docs/policy.md).
	UtilizationWindow Duration `json:"utilizationWindow"`
	// UtilizationSustain: the utilization rule scales up only once utilization has stayed above
	// ScaleUpUtilization in every snapshot (settling ones break the run) for this long. An agent's
	// in-flight figure is one scrape's instant, and on a few pods one scrape of a burst reads
	// above the band while the mean stays far below it (docs/policy.md). 0 acts on one reading.
	UtilizationSustain Duration `json:"utilizationSustain"`

	// RetriableShare is the share of requests clients retry on 503 (h5pyd retries GET/PUT/DELETE,
	// never POST); ClientRetries the retries per request (h5pyd default 10).
	RetriableShare float64 `json:"retriableShare"`
	ClientRetries  int     `json:"clientRetries"`

	// PodCapacity is the request rate (req/s) one pod sustains in a one-DN cluster. 0 means learn
	// it from the served rate at high utilization.
	PodCapacity float64 `json:"podCapacity"`
	// FanoutShare models the shrinking per-pod capacity: capacity(n) = PodCapacity /
	// (1 - FanoutShare + FanoutShare*n) for n DNs. 0 (the default) means capacity does not depend
	// on n: HSDS fans a request out to min(chunks, 16*n) workers, which stops growing with n once
	// a request's chunks are spread over all DNs (docs/policy.md).
	FanoutShare float64 `json:"fanoutShare"`
	// FanoutMemory is how long the fan-out ceiling remembers a size's throughput under shedding
	// (docs/policy.md, "Fan-out ceiling"): a size not seen shedding for this long is measured
	// again. 0 turns the ceiling off.
	FanoutMemory Duration `json:"fanoutMemory"`
	// CapacityLearnUtilization: the served rate is read as a capacity figure only at or above
	// this smoothed utilization (or under overload).
	CapacityLearnUtilization float64 `json:"capacityLearnUtilization"`
	// MaxRequestTaskTime is the most gate task-time (task-seconds) one request holds on average:
	// by Little's law in-flight = served rate x task-time per request, so a capacity sample, which
	// is the pod's (net) limit / that task-time, implies one. A sample implying more is discarded,
	// not clamped: the gate is held by tasks that are no request's (HSDS counts every idle
	// keep-alive connection as a task; a 0.9.x task figure frozen high; requests hung on a departed
	// DN), so it says nothing about capacity. Hence a learned c1 is never below (limit -
	// BackgroundTasks) / MaxRequestTaskTime per pod from such load. Default 30 s, HSDS's `timeout`
	// (admin/config/config.yml): ~100x the 0.05-0.4 task-seconds measured on real pods
	// (docs/hsds.md), 2-6x the bench's 5-13. Task-seconds are not wall-clock time (a request with
	// 34 workers for 1 s holds 34): raise it for workloads whose requests hold the gate longer.
	MaxRequestTaskTime Duration `json:"maxRequestTaskTime"`
	// CapacityHalfLife is the half-life of the learned capacity's EWMA.
	CapacityHalfLife Duration `json:"capacityHalfLife"`
	// DemandHalfLife is the half-life of the "stable" offered-load EWMA the panic rule compares with.
	DemandHalfLife Duration `json:"demandHalfLife"`
	// PodStartupTime is how long a new pod takes to serve (start + roster convergence); the
	// offered-load trend is extrapolated this far ahead when sizing a scale-up.
	PodStartupTime Duration `json:"podStartupTime"`

	// StabilizationWindow: scale down only after this long without overload; the down target is
	// the highest recommendation over the window.
	StabilizationWindow Duration `json:"stabilizationWindow"`
	// DwellUp and DwellDown are the minimum times since the last change before the next scale up
	// or scale down.
	DwellUp   Duration `json:"dwellUp"`
	DwellDown Duration `json:"dwellDown"`
	// One scale-up adds at most max(MaxStepUpPods, current*(MaxStepUpFactor-1)) pods.
	MaxStepUpPods   int32   `json:"maxStepUpPods"`
	MaxStepUpFactor float64 `json:"maxStepUpFactor"`
	// One scale-down removes at most max(MaxStepDownPods, floor(current*MaxStepDownPercent/100)).
	MaxStepDownPods    int32   `json:"maxStepDownPods"`
	MaxStepDownPercent float64 `json:"maxStepDownPercent"`
	// CatchUpHorizon: for this long after the last snapshot whose rates were a rescale's
	// (settling, not_ready 503s, a scraped pod not READY) the attempts are not read as new demand:
	// neither the panic rule nor the saturation rule sizes from the offered load's need (the
	// saturation rule still adds a pod per DwellUp). The clients a rescale turned away retry on
	// their back-off schedule (h5pyd: urllib3 backoff_factor 1, waits 2, 4, ... 64 s, capped at
	// 120 s), so their catch-up outlasts the rate window. 0: only while the rates hold it.
	CatchUpHorizon Duration `json:"catchUpHorizon"`
	// PanicFactor: when the offered load exceeds this multiple of its stable figure under
	// pressure, scale straight to the estimated need, ignoring DwellUp and the step limit.
	PanicFactor float64 `json:"panicFactor"`
}

// DefaultPolicy returns the documented defaults (docs/policy.md).
func DefaultPolicy() Policy {
	return Policy{
		UpstreamWeight:           1,
		ShortWindow:              D(60 * time.Second),
		OverloadRatio:            0.01,
		OverloadMinRate:          0.5,
		OverloadSustain:          D(15 * time.Second),
		BackgroundTasks:          2,
		TargetUtilization:        0.7,
		ScaleUpUtilization:       0.8,
		ScaleDownUtilization:     0.4,
		UtilizationWindow:        D(0),
		UtilizationSustain:       D(0),
		RetriableShare:           0.8,
		ClientRetries:            10,
		PodCapacity:              0,
		FanoutShare:              0,
		FanoutMemory:             D(time.Hour),
		CapacityLearnUtilization: 0.5,
		MaxRequestTaskTime:       D(30 * time.Second),
		CapacityHalfLife:         D(10 * time.Minute),
		DemandHalfLife:           D(2 * time.Minute),
		PodStartupTime:           D(60 * time.Second),
		StabilizationWindow:      D(10 * time.Minute),
		DwellUp:                  D(45 * time.Second),
		DwellDown:                D(5 * time.Minute),
		MaxStepUpPods:            4,
		MaxStepUpFactor:          2,
		MaxStepDownPods:          1,
		MaxStepDownPercent:       10,
		PanicFactor:              2,
		CatchUpHorizon:           D(2 * time.Minute),
	}
}

// Validate reports every problem in p, each naming its JSON field, joined with errors.Join.
func (p Policy) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	for _, d := range []struct {
		name string
		v    Duration
	}{
		{"shortWindow", p.ShortWindow},
		{"overloadSustain", p.OverloadSustain}, {"capacityHalfLife", p.CapacityHalfLife},
		{"maxRequestTaskTime", p.MaxRequestTaskTime},
		{"demandHalfLife", p.DemandHalfLife}, {"stabilizationWindow", p.StabilizationWindow},
	} {
		if d.v.Duration <= 0 {
			bad(d.name, "must be > 0, got %s", d.v.Duration)
		}
	}
	for _, d := range []struct {
		name string
		v    Duration
	}{
		{"podStartupTime", p.PodStartupTime}, {"utilizationWindow", p.UtilizationWindow}, {"fanoutMemory", p.FanoutMemory},
		{"utilizationSustain", p.UtilizationSustain},
		{"dwellUp", p.DwellUp}, {"dwellDown", p.DwellDown}, {"catchUpHorizon", p.CatchUpHorizon},
	} {
		if d.v.Duration < 0 {
			bad(d.name, "must be >= 0, got %s", d.v.Duration)
		}
	}
	if p.OverloadSustain.Duration > p.ShortWindow.Duration {
		bad("overloadSustain", "must be <= shortWindow (%s), got %s", p.ShortWindow.Duration, p.OverloadSustain.Duration)
	}
	errs = append(errs, p.validateFractions()...)
	errs = append(errs, p.validateSteps()...)
	return errors.Join(errs...)
}

func (p Policy) validateFractions() []error {
	var errs []error
	in := func(field string, v, lo, hi float64, loOpen bool) {
		if v > hi || v < lo || (loOpen && v == lo) || v != v {
			op := "["
			if loOpen {
				op = "("
			}
			errs = append(errs, fmt.Errorf("%s: must be in %s%g, %g], got %g", field, op, lo, hi, v))
		}
	}
	in("upstreamWeight", p.UpstreamWeight, 0, 1, false)
	in("overloadRatio", p.OverloadRatio, 0, 1, true)
	in("targetUtilization", p.TargetUtilization, 0, 1, true)
	in("scaleUpUtilization", p.ScaleUpUtilization, 0, 1, true)
	in("scaleDownUtilization", p.ScaleDownUtilization, 0, 1, false)
	in("retriableShare", p.RetriableShare, 0, 1, false)
	in("fanoutShare", p.FanoutShare, 0, 1, false)
	in("capacityLearnUtilization", p.CapacityLearnUtilization, 0, 1, true)
	if p.FanoutShare == 1 {
		errs = append(errs, fmt.Errorf("fanoutShare: must be < 1, got 1"))
	}
	if !(p.ScaleDownUtilization < p.TargetUtilization && p.TargetUtilization < p.ScaleUpUtilization) {
		errs = append(errs, fmt.Errorf("targetUtilization: need scaleDownUtilization (%g) < targetUtilization (%g) < scaleUpUtilization (%g)",
			p.ScaleDownUtilization, p.TargetUtilization, p.ScaleUpUtilization))
	}
	if !(p.BackgroundTasks >= 0 && p.BackgroundTasks <= 1000) {
		errs = append(errs, fmt.Errorf("backgroundTasks: must be in [0, 1000], got %g", p.BackgroundTasks))
	}
	if p.OverloadMinRate < 0 || p.OverloadMinRate != p.OverloadMinRate {
		errs = append(errs, fmt.Errorf("overloadMinRate: must be >= 0, got %g", p.OverloadMinRate))
	}
	if p.PodCapacity < 0 || p.PodCapacity != p.PodCapacity {
		errs = append(errs, fmt.Errorf("podCapacity: must be >= 0 (0 = learn), got %g", p.PodCapacity))
	}
	if p.ClientRetries < 0 || p.ClientRetries > 100 {
		errs = append(errs, fmt.Errorf("clientRetries: must be in [0, 100], got %d", p.ClientRetries))
	}
	return errs
}

func (p Policy) validateSteps() []error {
	var errs []error
	if p.MaxStepUpPods < 1 {
		errs = append(errs, fmt.Errorf("maxStepUpPods: must be >= 1, got %d", p.MaxStepUpPods))
	}
	if !(p.MaxStepUpFactor >= 1) {
		errs = append(errs, fmt.Errorf("maxStepUpFactor: must be >= 1, got %g", p.MaxStepUpFactor))
	}
	if p.MaxStepDownPods < 1 {
		errs = append(errs, fmt.Errorf("maxStepDownPods: must be >= 1, got %d", p.MaxStepDownPods))
	}
	if !(p.MaxStepDownPercent >= 0 && p.MaxStepDownPercent <= 100) {
		errs = append(errs, fmt.Errorf("maxStepDownPercent: must be in [0, 100], got %g", p.MaxStepDownPercent))
	}
	if !(p.PanicFactor > 1) {
		errs = append(errs, fmt.Errorf("panicFactor: must be > 1, got %g", p.PanicFactor))
	}
	return errs
}
