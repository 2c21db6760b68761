package bench

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/bench/frontier"
	"github.com/hsds-autoscaler/hsds-autoscaler/bench/report"
	"github.com/hsds-autoscaler/hsds-autoscaler/bench/sim"
	"github.com/hsds-autoscaler/hsds-autoscaler/bench/trace"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
	"github.com/hsds-autoscaler/hsds-autoscaler/scaler"
)

// The bench in one pass (Run): traces -> replay plans -> jobs -> report.

// replayTrace is one trace after the replay rule: the offered load from t = 0, and how it was
// obtained. It is the same for every seed.
type replayTrace struct {
	series trace.Series
	info   report.TraceInfo
}

// loadTraces reads cfg's trace files and generates its shapes, each through the replay rule.
func loadTraces(cfg Config) ([]replayTrace, error) {
	var out []replayTrace
	for _, path := range cfg.Traces {
		s, err := trace.ReadFile(path, trace.DefaultParseOptions())
		if err != nil {
			return nil, err
		}
		r, err := prepare(s, cfg.Scenario)
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
		r, err := prepare(s, cfg.Scenario)
		if err != nil {
			return nil, fmt.Errorf("generated %s: %w", g.Shape, err)
		}
		r.info.Generated = string(g.Shape)
		out = append(out, r)
	}
	return out, nil
}

// prepare applies the documented replay rule (docs/bench.md, "Scale and compression"):
//  1. compress time by Scenario.TimeCompression (1: real time);
//  2. keep the busiest window of at most Scenario.MaxDurationSeconds (most requests);
//  3. scale rates so the window's peak 1-minute mean (PeakWindow) is PeakFactor x the rated
//     capacity of MinReplicas pods.
func prepare(raw trace.Series, sc sim.Scenario) (replayTrace, error) {
	slice := trace.Busiest(trace.Compress(raw, sc.TimeCompression), sc.MaxDurationSeconds)
	peak := slice.PeakMean(PeakWindowSeconds)
	if !(peak > 0) {
		return replayTrace{}, fmt.Errorf("no load in the replayed window (peak %g)", peak)
	}
	k := sc.PeakFactor * sc.ClusterCapacity(int(sc.MinReplicas)) / peak
	scaled := trace.Scale(slice, k)
	scaled.Start = 0
	return replayTrace{series: scaled, info: report.TraceInfo{
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
	}}, nil
}

// PeakWindowSeconds is the span the replay's peak is averaged over before scaling, so that a
// per-second trace's one-second spikes do not set its scale.
const PeakWindowSeconds = 60

// replayPlan is one trace replayed with one seed: where every policy starts, and the frontier's
// schedules.
type replayPlan struct {
	trace *replayTrace
	seed  uint64
	// initial replicas, serving at t = 0 for every policy and schedule: the fewest whose
	// measured no-503 capacity covers the first bin.
	initial  int32
	frontier []frontier.Schedule
}

// planReplays measures, for each seed, the simulator's no-503 capacity (initial replicas) and
// the frontier's costs, then plans every trace with it.
func planReplays(cfg Config, traces []replayTrace) ([]replayPlan, []report.Measured, error) {
	var plans []replayPlan
	var measured []report.Measured
	sc := cfg.Scenario
	for _, seed := range cfg.Seeds {
		capacity, err := sim.MeasureCapacities(sc, seed)
		if err != nil {
			return nil, nil, fmt.Errorf("bench: %w", err)
		}
		costs, err := frontier.MeasureCosts(sc, seed)
		if err != nil {
			return nil, nil, fmt.Errorf("bench: %w", err)
		}
		measured = append(measured, report.Measured{Seed: seed, Capacity: capacity, Costs: costs})
		for i := range traces {
			t := &traces[i]
			p := replayPlan{trace: t, seed: seed, initial: capacity.ReplicasFor(t.series.Rates[0])}
			prob, err := frontier.NewProblem(t.series, costs, sc.MinReplicas, sc.MaxReplicas, p.initial)
			if err != nil {
				return nil, nil, fmt.Errorf("trace %s: %w", t.info.Trace, err)
			}
			if cfg.SkipFrontier {
				plans = append(plans, p)
				continue
			}
			if p.frontier, err = frontier.Schedules(prob, timing(sc, p.initial), cfg.Lambdas); err != nil {
				return nil, nil, fmt.Errorf("trace %s: %w", t.info.Trace, err)
			}
			plans = append(plans, p)
		}
	}
	return plans, measured, nil
}

// timing is how the simulator's Kubernetes turns a level into serving pods (frontier.Emit).
func timing(sc sim.Scenario, initial int32) frontier.Timing {
	k := sc.PodsPerNode
	steps := func(s float64) int { return int(math.Ceil(s/sc.ControlIntervalSeconds - 1e-9)) }
	return frontier.Timing{
		Lead: steps(sc.StartupSeconds), NodeLead: steps(sc.NodeAddSeconds), PodsPerNode: k,
		MinNodes: (int(sc.MinReplicas) + k - 1) / k, InitialNodes: (int(initial) + k - 1) / k,
		RemoveAfter: steps(sc.NodeRemoveSeconds),
	}
}

// job is one replay: one policy, or one frontier schedule, on one plan.
type job struct {
	plan   *replayPlan
	policy Policy
	// schedule indexes plan.frontier for a frontier schedule; -1 for a policy.
	schedule int
	ticks    int64
	// keepTimeline: the first seed's policies are plotted over time.
	keepTimeline bool
}

// newJobs lists, plan by plan, every policy, then every frontier schedule.
func newJobs(plans []replayPlan, pols []Policy, sc sim.Scenario) []job {
	var jobs []job
	for i := range plans {
		p := &plans[i]
		ticks := int64(math.Ceil(p.trace.series.Duration() / sc.TickSeconds))
		for _, pol := range pols {
			jobs = append(jobs, job{plan: p, policy: pol, schedule: -1, ticks: ticks, keepTimeline: p.seed == plans[0].seed})
		}
		for k, s := range p.frontier {
			jobs = append(jobs, job{plan: p, policy: schedulePolicy(s, sc), schedule: k, ticks: ticks})
		}
	}
	return jobs
}

// schedulePolicy replays a frontier schedule as a direct policy: its entry for the current
// control interval is written to spec.replicas at the start of each.
func schedulePolicy(s frontier.Schedule, sc sim.Scenario) Policy {
	step := seconds(sc.ControlIntervalSeconds)
	return Policy{Name: s.Label, New: func(Env) (heuristics.Recommender, time.Duration, error) {
		return frontier.NewRecommender(s.Label, s.Spec, sim.Epoch(), step), step, nil
	}}
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
	s, err := sim.New(sc, j.plan.trace.series.At, j.plan.initial, j.plan.seed)
	if err != nil {
		return result{}, err
	}
	step, period, err := newDriver(s, j, cfg, observe)
	if err != nil {
		return result{}, err
	}
	every := sim.PeriodTicks(period.Seconds(), sc.TickSeconds)
	record := sim.PeriodTicks(sc.ControlIntervalSeconds, sc.TickSeconds)
	const chunk = 2048
	for k := int64(0); k < j.ticks; k++ {
		if sim.PeriodStarts(k, every) {
			if err := step(ctx); err != nil {
				return result{}, err
			}
		}
		if sim.PeriodStarts(k, record) {
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
	prog.add(j.ticks % chunk)
	return result{job: j, stats: s.Stats()}, nil
}

// newDriver builds the policy's recommender and the step that drives it, with its period.
func newDriver(s *sim.Sim, j job, cfg Config, observe func(scaler.Outcome)) (stepFunc, time.Duration, error) {
	pf, err := loadPolicyFile(cfg.PolicyFile, cfg.Scenario)
	if err != nil {
		return nil, 0, err
	}
	rec, period, err := j.policy.New(Env{Scenario: cfg.Scenario, Policy: pf.Spec.Policy.Policy, Seed: j.plan.seed})
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
