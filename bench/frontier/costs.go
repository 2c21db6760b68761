package frontier

import (
	"errors"
	"fmt"
	"math"

	"github.com/hsds-autoscaler/hsds-autoscaler/bench/sim"
)

// Costs are what the DP plans with, in the simulator's own terms.
type Costs struct {
	// StepSeconds is the control interval the schedule holds one level for.
	StepSeconds float64 `json:"step_seconds"`
	// StartupSeconds is what a new pod costs before it serves (pod-seconds per added pod).
	StartupSeconds float64 `json:"startup_seconds"`
	// Curve is the failed fraction of finished requests (after retries) at a steady per-pod load:
	// PerPodRPS ascending, FailedFraction at each; linear between points, flat beyond the last.
	PerPodRPS      []float64 `json:"per_pod_rps"`
	FailedFraction []float64 `json:"failed_fraction"`
	// UpFailures and DownFailures are the extra failed requests one replica change causes, per
	// request/s of offered load at the change (the not-ready window and the retries after it).
	UpFailures   float64 `json:"up_failures_per_rps"`
	DownFailures float64 `json:"down_failures_per_rps"`
}

// Validate returns every problem with c.
func (c Costs) Validate() error {
	var errs []error
	if !(c.StepSeconds > 0) || !(c.StartupSeconds >= 0) {
		errs = append(errs, fmt.Errorf("step %g, start-up %g: want step > 0, start-up >= 0", c.StepSeconds, c.StartupSeconds))
	}
	if len(c.PerPodRPS) == 0 || len(c.PerPodRPS) != len(c.FailedFraction) {
		errs = append(errs, fmt.Errorf("failure curve: %d loads, %d fractions: want as many, at least one", len(c.PerPodRPS), len(c.FailedFraction)))
	}
	for i := 1; i < len(c.PerPodRPS); i++ {
		if !(c.PerPodRPS[i] > c.PerPodRPS[i-1]) {
			errs = append(errs, fmt.Errorf("failure curve: loads not ascending at %d", i))
			break
		}
	}
	if !(c.UpFailures >= 0) || !(c.DownFailures >= 0) {
		errs = append(errs, fmt.Errorf("change costs %g, %g: must be >= 0", c.UpFailures, c.DownFailures))
	}
	return errors.Join(errs...)
}

// Failed is the curve's failed fraction at a per-pod load.
func (c Costs) Failed(perPod float64) float64 {
	x, y := c.PerPodRPS, c.FailedFraction
	if perPod <= x[0] {
		return y[0]
	}
	for i := 1; i < len(x); i++ {
		if perPod <= x[i] {
			return y[i-1] + (y[i]-y[i-1])*(perPod-x[i-1])/(x[i]-x[i-1])
		}
	}
	return y[len(y)-1]
}

// Measurement sizes (docs/bench.md, "Frontier").
const (
	// curvePoints loads from 0 to curveTop x the rated capacity of one pod.
	curvePoints = 25
	curveTop    = 6.0
	// probeSeconds are measured after probeWarmup of every steady probe.
	probeSeconds = 1200
	probeWarmup  = 60
	// changeAt is when a change probe changes the replica count; changeSpan is measured after it.
	changeAt   = 300
	changeSpan = 600
	changePods = 4
)

// MeasureCosts measures c in the simulator of sc with seed: the failure curve on steady Poisson
// loads offered to a cluster of max(minReplicas, 2) pods (made non-decreasing: a dip is noise) (kube-proxy splits a Poisson load into
// independent per-pod loads; chunk requests fan out alike from 2 pods up), and the change costs as
// the extra failures of a run that changes changePods pods by one at changeAt over the same run
// without the change (same seed, same arrivals), averaged over per-pod loads of 0.3 and 0.6 x
// rated capacity.
func MeasureCosts(sc sim.Scenario, seed uint64) (Costs, error) {
	if err := sc.Validate(); err != nil {
		return Costs{}, fmt.Errorf("measure frontier costs: %w", err)
	}
	c := Costs{StepSeconds: sc.ControlIntervalSeconds, StartupSeconds: sc.StartupSeconds}
	pods := max(int(sc.MinReplicas), 2)
	rated := sc.PodCapacity(pods)
	for i := range curvePoints {
		perPod := curveTop * rated * float64(i) / float64(curvePoints-1)
		f, err := steadyFailed(sc, pods, perPod, seed)
		if err != nil {
			return Costs{}, err
		}
		if i > 0 { // more load per pod never fails less: what is left is probe noise
			f = math.Max(f, c.FailedFraction[i-1])
		}
		c.PerPodRPS = append(c.PerPodRPS, perPod)
		c.FailedFraction = append(c.FailedFraction, f)
	}
	var up, down float64
	loads := []float64{0.3, 0.6}
	for _, u := range loads {
		rate := u * rated * changePods
		u, err := changeFailures(sc, rate, changePods+1, seed)
		if err != nil {
			return Costs{}, err
		}
		d, err := changeFailures(sc, rate, changePods-1, seed)
		if err != nil {
			return Costs{}, err
		}
		up, down = up+u/rate, down+d/rate
	}
	c.UpFailures, c.DownFailures = up/float64(len(loads)), down/float64(len(loads))
	return c, c.Validate()
}

// steadyFailed is the failed fraction of requests finished in probeSeconds after probeWarmup,
// with pods serving pods x perPod requests/s.
func steadyFailed(sc sim.Scenario, pods int, perPod float64, seed uint64) (float64, error) {
	if perPod == 0 {
		return 0, nil
	}
	s, err := newSteady(sc, pods, float64(pods)*perPod, seed)
	if err != nil {
		return 0, err
	}
	run(s, probeWarmup)
	before := s.Stats()
	run(s, probeSeconds)
	after := s.Stats()
	done := (after.Succeeded + after.Failed) - (before.Succeeded + before.Failed)
	if done == 0 {
		return 0, nil
	}
	return float64(after.Failed-before.Failed) / float64(done), nil
}

// changeFailures is how many more requests fail when changePods pods serving rate go to `to` at
// changeAt than when they stay (failures counted until changeAt + changeSpan).
func changeFailures(sc sim.Scenario, rate float64, to int32, seed uint64) (float64, error) {
	failed := [2]int64{}
	for i, change := range []bool{false, true} {
		s, err := newSteady(sc, changePods, rate, seed)
		if err != nil {
			return 0, err
		}
		run(s, changeAt)
		if change {
			s.SetSpec(to)
		}
		run(s, changeSpan)
		failed[i] = s.Stats().Failed
	}
	return math.Max(0, float64(failed[1]-failed[0])), nil
}

func newSteady(sc sim.Scenario, pods int, rate float64, seed uint64) (*sim.Sim, error) {
	sc.MinReplicas, sc.MaxReplicas = 1, max(sc.MaxReplicas, int32(pods)+1)
	s, err := sim.New(sc, func(float64) float64 { return rate }, int32(pods), seed)
	if err != nil {
		return nil, fmt.Errorf("measure frontier costs: %w", err)
	}
	return s, nil
}

func run(s *sim.Sim, seconds float64) {
	for range int(math.Round(seconds / s.Scenario().TickSeconds)) {
		s.Tick()
	}
}
