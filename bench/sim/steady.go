package sim

import (
	"errors"
	"fmt"
	"math"
)

// Steady is what a steady Poisson load did to a fixed set of serving pods (RunSteady).
type Steady struct {
	Attempts, Overload int64
	// MeanInFlight is the mean SN task count per serving pod.
	MeanInFlight float64
	// Seconds is the measured span (after the warm-up).
	Seconds float64
	// Polls counts the agents' polls of their SNs after the warm-up (AgentInfo), one per serving
	// pod and poll. Readings, when SteadyRun.KeepReadings, holds the in-flight figure (tasks) each
	// of those polls left the agent exporting, in poll order, pods interleaved; a poll that left it
	// absent (no gated request within agent.DefaultInFlightMaxAge) adds none. They are the figures
	// the policy's scrapes read: a scrape returns the last poll's.
	Polls    int64
	Readings []float64
}

// OverloadFraction is overload 503s per attempt.
func (s Steady) OverloadFraction() float64 { return ratio(s.Overload, s.Attempts) }

// SteadyRun describes one RunSteady.
type SteadyRun struct {
	// Pods serve from t = 0 (READY, no rescale during the run).
	Pods int
	// DNCount, when > 0, is the DN count requests fan out over whatever Pods is (one simulated
	// pod then stands for one pod of a DNCount-pod cluster: kube-proxy splits a Poisson load
	// into independent Poisson loads); 0 means Pods.
	DNCount int
	// Rate is the cluster-wide offered load (requests/s); WarmupSeconds are simulated and not
	// measured, then Seconds are.
	Rate, WarmupSeconds, Seconds float64
	Seed                         uint64
	// KeepReadings keeps every in-flight reading the agents export after the warm-up
	// (Steady.Readings; AgentInfo only).
	KeepReadings bool
}

// RunSteady simulates r on sc's SN model (gate, fan-out, service times, client retries) and
// measures overload 503s per attempt and mean in-flight per pod after the warm-up.
func RunSteady(sc Scenario, r SteadyRun) (Steady, error) {
	if r.Pods < 1 || r.DNCount < 0 || !(r.Rate >= 0) || !(r.WarmupSeconds >= 0) || !(r.Seconds > 0) {
		return Steady{}, fmt.Errorf("steady run %+v: want pods >= 1, dn count >= 0, rate >= 0, warm-up >= 0, seconds > 0", r)
	}
	sc.MinReplicas, sc.MaxReplicas = 1, max(sc.MaxReplicas, int32(r.Pods))
	s, err := New(sc, func(float64) float64 { return r.Rate }, int32(r.Pods), r.Seed)
	if err != nil {
		return Steady{}, fmt.Errorf("steady run: %w", err)
	}
	s.dnOverride = r.DNCount
	ticks := func(sec float64) int { return int(math.Round(sec / sc.TickSeconds)) }
	for range ticks(r.WarmupSeconds) {
		s.Tick()
	}
	before := s.stats
	var out Steady
	for range ticks(r.Seconds) {
		polled := s.polls() // Tick polls then
		s.Tick()
		if polled {
			out.Polls += int64(len(s.endpoints))
			if r.KeepReadings {
				out.Readings = s.appendReadings(out.Readings)
			}
		}
	}
	after := s.stats
	span := after.Duration - before.Duration
	out.Attempts = after.Attempts - before.Attempts
	out.Overload = after.Rejected.Overload - before.Rejected.Overload
	out.MeanInFlight = (after.TaskSeconds - before.TaskSeconds) / span / float64(r.Pods)
	out.Seconds = span
	return out, nil
}

// appendReadings appends the in-flight figure every serving pod's agent exports now, skipping the
// absent ones.
func (s *Sim) appendReadings(dst []float64) []float64 {
	for _, p := range s.endpoints {
		if g := p.agent.inFlight; g.Valid {
			dst = append(dst, g.Value)
		}
	}
	return dst
}

// Capacity measurement defaults (docs/bench.md, "Oracle").
const (
	// CapacityRejectFraction is the overload 503 share a pod may show at its measured capacity:
	// "no 503" up to the resolution of the measurement.
	CapacityRejectFraction = 0.001
	// CapacityRunSeconds is the simulated span of one probe (after a 60 s warm-up).
	CapacityRunSeconds = 3600
)

// MeasureCapacity returns the highest steady Poisson load (requests/s) one pod of a dnCount-pod
// cluster serves with overload 503s at most CapacityRejectFraction of attempts, measured in this
// simulator by bisection (to 0.5 %) over probes of CapacityRunSeconds with the same seed.
func MeasureCapacity(sc Scenario, dnCount int, seed uint64) (float64, error) {
	if err := sc.Validate(); err != nil {
		return 0, fmt.Errorf("measure capacity: %w", err)
	}
	sc.Retries = 0 // a retry is load the probe did not offer
	ok := func(rate float64) (bool, error) {
		st, err := RunSteady(sc, SteadyRun{Pods: 1, DNCount: dnCount, Rate: rate, WarmupSeconds: 60, Seconds: CapacityRunSeconds, Seed: seed})
		return st.OverloadFraction() <= CapacityRejectFraction, err
	}
	lo, hi := 0.0, float64(sc.MaxTaskCount)/sc.MeanTaskSeconds(dnCount) // Little's law: the gate full on average
	if good, err := ok(hi); err != nil || good {
		return hi, err
	}
	for hi-lo > 0.005*hi {
		mid := (lo + hi) / 2
		good, err := ok(mid)
		if err != nil {
			return 0, err
		}
		if good {
			lo = mid
		} else {
			hi = mid
		}
	}
	if lo == 0 {
		return 0, errors.New("measure capacity: even the lowest probe was rejected")
	}
	return lo, nil
}

// Capacity is the measured no-503 capacity of the scenario's pods (MeasureCapacities): the
// oracle's capacity model.
type Capacity struct {
	// PerPod[n] is the measured capacity (requests/s) of one pod of an n-pod cluster, n in
	// [1, MaxReplicas] (PerPod[0] unused).
	PerPod         []float64 `json:"per_pod_rps"`
	MinReplicas    int32     `json:"-"`
	MaxReplicas    int32     `json:"-"`
	RejectFraction float64   `json:"max_overload_fraction"` // CapacityRejectFraction
	ProbeSeconds   float64   `json:"probe_seconds"`         // CapacityRunSeconds
	// DistinctMeasured counts the fan-out profiles measured (pods of clusters whose requests
	// fan out alike share one).
	DistinctMeasured int `json:"distinct_measured"`
}

// MeasureCapacities measures MeasureCapacity for every cluster size of sc, once per distinct
// fan-out (chunk requests fan out to min(ChunksPerRequest, TasksPerNodePerRequest x n) tasks,
// so every n beyond ChunksPerRequest / TasksPerNodePerRequest behaves alike).
func MeasureCapacities(sc Scenario, seed uint64) (Capacity, error) {
	c := Capacity{PerPod: make([]float64, sc.MaxReplicas+1), MinReplicas: sc.MinReplicas, MaxReplicas: sc.MaxReplicas,
		RejectFraction: CapacityRejectFraction, ProbeSeconds: CapacityRunSeconds}
	byFanout := map[int]float64{}
	for n := 1; n <= int(sc.MaxReplicas); n++ {
		key := sc.tasks(kindChunkGet, n)
		v, ok := byFanout[key]
		if !ok {
			var err error
			if v, err = MeasureCapacity(sc, n, seed); err != nil {
				return Capacity{}, err
			}
			byFanout[key] = v
			c.DistinctMeasured++
		}
		c.PerPod[n] = v
	}
	return c, nil
}

// ClusterCapacity is n x PerPod[n] (0 outside [1, MaxReplicas]).
func (c Capacity) ClusterCapacity(n int) float64 {
	if n < 1 || n >= len(c.PerPod) {
		return 0
	}
	return float64(n) * c.PerPod[n]
}

// ReplicasFor is the fewest replicas in [MinReplicas, MaxReplicas] whose measured capacity covers
// rate (MaxReplicas when none does).
func (c Capacity) ReplicasFor(rate float64) int32 {
	for n := c.MinReplicas; n < c.MaxReplicas; n++ {
		if c.ClusterCapacity(int(n)) >= rate {
			return n
		}
	}
	return c.MaxReplicas
}
