package bench

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/bench/oracle"
	"github.com/hsds-autoscaler/hsds-autoscaler/bench/report"
	"github.com/hsds-autoscaler/hsds-autoscaler/bench/sim"
	"github.com/hsds-autoscaler/hsds-autoscaler/bench/trace"
	"github.com/hsds-autoscaler/hsds-autoscaler/scaler"
)

// replay is one trace prepared for the simulator.
type replay struct {
	series  trace.Series // sliced, compressed, scaled: offered requests/s from t = 0
	info    report.TraceInfo
	initial int32
	oracle  []int32
}

// loadReplays reads and prepares every trace of cfg.
func loadReplays(cfg Config, capacity *sim.Capacity) ([]replay, error) {
	var out []replay
	for _, path := range cfg.Traces {
		s, err := trace.ReadFile(path, trace.DefaultParseOptions())
		if err != nil {
			return nil, err
		}
		r, err := prepare(s, cfg.Scenario, capacity)
		if err != nil {
			return nil, fmt.Errorf("trace %s: %w", path, err)
		}
		out = append(out, r)
	}
	for _, g := range cfg.Generated {
		s, err := trace.Generate(g)
		if err != nil {
			return nil, err
		}
		r, err := prepare(s, cfg.Scenario, capacity)
		if err != nil {
			return nil, fmt.Errorf("generated %s: %w", g.Shape, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// prepare applies the documented replay rule (docs/bench.md, "Scale and compression"):
//  1. compress time by Scenario.TimeCompression (1: real time);
//  2. keep the busiest window of at most Scenario.MaxDurationSeconds (most requests);
//  3. scale rates so the window's peak 1-minute mean (PeakWindow) is PeakFactor x the rated
//     capacity of MinReplicas pods.
//
// Every replay starts with the replicas whose capacity covers its first bin, already serving.
// With a measured capacity (nil: none, as in a dry run) the oracle's schedule is computed here
// (oracle.Plan: start-up + one interval ahead, + the VM delay when the pods would not fit) and
// the initial replicas are the measured need; otherwise the rated capacity's.
func prepare(raw trace.Series, sc sim.Scenario, capacity *sim.Capacity) (replay, error) {
	slice := trace.Busiest(trace.Compress(raw, sc.TimeCompression), sc.MaxDurationSeconds)
	peak := slice.PeakMean(PeakWindowSeconds)
	if !(peak > 0) {
		return replay{}, fmt.Errorf("no load in the replayed window (peak %g)", peak)
	}
	k := sc.PeakFactor * sc.ClusterCapacity(int(sc.MinReplicas)) / peak
	scaled := trace.Scale(slice, k)
	scaled.Start = 0
	plan := oraclePlan(sc, scaled.Duration())
	info := report.TraceInfo{
		Trace:             raw.Name,
		SourceSeconds:     raw.Duration(),
		SourceStepSeconds: raw.Step,
		SliceStartSeconds: raw.Start + slice.Start*sc.TimeCompression,
		SimulatedSeconds:  scaled.Duration(),
		TimeCompression:   sc.TimeCompression,
		ScaleFactor:       k,
		PeakRPS:           scaled.PeakMean(PeakWindowSeconds),
		MeanRPS:           scaled.Mean(),
		MinReplicasRPS:    sc.ClusterCapacity(int(sc.MinReplicas)),
		OracleLeadSeconds: plan.Lead,
		OracleNodeLead:    plan.NodeLead,
	}
	r := replay{series: scaled, info: info, initial: sc.ReplicasFor(scaled.Rates[0])}
	if capacity == nil {
		return r, nil
	}
	sched, err := oracle.Schedule(scaled, capacity, plan)
	if err != nil {
		return replay{}, err
	}
	r.oracle, r.initial = sched, capacity.ReplicasFor(scaled.Rates[0])
	return r, nil
}

// oraclePlan is the oracle's timing for a replay of duration seconds: a pod ordered at a control
// step serves StartupSeconds later, seen at the next step (+ NodeAddSeconds when it needs a VM);
// VMs as the simulator's cluster autoscaler keeps them.
func oraclePlan(sc sim.Scenario, duration float64) oracle.Plan {
	k := sc.PodsPerNode
	minNodes := (int(sc.MinReplicas) + k - 1) / k
	return oracle.Plan{
		Step: sc.ControlIntervalSeconds, Duration: duration,
		Lead:     sc.StartupSeconds + sc.ControlIntervalSeconds,
		NodeLead: sc.StartupSeconds + sc.NodeAddSeconds + sc.ControlIntervalSeconds,
		Hold:     sc.OracleHoldSeconds, PodsPerNode: k, MinNodes: minNodes, InitialNodes: minNodes,
		NodeRemove: sc.NodeRemoveSeconds,
	}
}

// PeakWindowSeconds is the span the replay's peak is averaged over before scaling, so that a
// per-second trace's one-second spikes do not set its scale.
const PeakWindowSeconds = 60

// job is one replay of one trace by one policy.
type job struct {
	replay int
	r      *replay
	policy Policy
	ticks  int64
}

func plan(replays []replay, pols []Policy, tick float64) []job {
	var jobs []job
	for i := range replays {
		for _, p := range pols {
			r := &replays[i]
			ticks := int64(math.Ceil(r.series.Duration() / tick))
			jobs = append(jobs, job{replay: i, r: r, policy: p, ticks: ticks})
		}
	}
	return jobs
}

// result is one job's outcome.
type result struct {
	job   job
	stats sim.Stats
}

// runJob simulates one job: the policy steps every control period, the timeline records every
// ControlIntervalSeconds, the simulator ticks in between.
// observe, when not nil, sees the Outcome of every scaler.Controller step (guarded policies).
func runJob(ctx context.Context, j job, cfg Config, prog *progress, observe func(scaler.Outcome)) (result, error) {
	sc := cfg.Scenario
	s, err := sim.New(sc, j.r.series.At, j.r.initial, cfg.Seed)
	if err != nil {
		return result{}, err
	}
	step, period, err := newDriver(s, j, cfg, observe)
	if err != nil {
		return result{}, err
	}
	ticks := j.ticks
	every := max(1, int64(math.Round(period.Seconds()/sc.TickSeconds)))
	record := max(1, int64(math.Round(sc.ControlIntervalSeconds/sc.TickSeconds)))
	const chunk = 2048
	for k := int64(0); k < ticks; k++ {
		if k%every == 0 {
			if err := step(ctx); err != nil {
				return result{}, err
			}
		}
		if k%record == 0 {
			s.Record()
		}
		s.Tick()
		if k%chunk == chunk-1 {
			if err := ctx.Err(); err != nil {
				return result{}, err
			}
			prog.add(chunk)
		}
	}
	prog.add(ticks % chunk)
	return result{job: j, stats: s.Stats()}, nil
}

// newDriver builds the policy's recommender and the step that drives it, with its period.
func newDriver(s *sim.Sim, j job, cfg Config, observe func(scaler.Outcome)) (stepFunc, time.Duration, error) {
	pf, err := loadPolicyFile(cfg.PolicyFile, cfg.Scenario)
	if err != nil {
		return nil, 0, err
	}
	rec, period, err := j.policy.New(Env{Scenario: cfg.Scenario, Policy: pf.Spec.Policy, Oracle: j.r.oracle})
	if err != nil {
		return nil, 0, fmt.Errorf("policy %s: %w", j.policy.Name, err)
	}
	if j.policy.Guarded {
		return controllerDriver(s, rec, pf, observe)
	}
	if period <= 0 {
		return nil, 0, fmt.Errorf("policy %s: control period %v must be > 0", j.policy.Name, period)
	}
	return directDriver(s, rec), period, nil
}
