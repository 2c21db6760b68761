package frontier

import (
	"fmt"
	"math"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

// Timing is how a serving level becomes spec.replicas: Lead intervals of start-up, NodeLead more
// when the pods need a new VM; VMs hold PodsPerNode pods, MinNodes are always kept, InitialNodes
// are there at t = 0, and an empty VM goes after RemoveAfter intervals (the simulator's cluster
// autoscaler). PodsPerNode 0: pods always fit.
type Timing struct {
	Lead, NodeLead                      int
	PodsPerNode, MinNodes, InitialNodes int
	RemoveAfter                         int
}

// Emit turns serving levels into the spec.replicas to write at the start of each interval: a pod
// is ordered Lead intervals before its level is needed (NodeLead more when the VMs kept then
// have no room for it), and kept through any dip shorter than that (deleting it and ordering it
// again would cost a start-up and two changes). Scale-downs take effect at once.
func Emit(levels []int32, t Timing) []int32 {
	n := len(levels)
	out, ordered := make([]int32, n), make([]int32, n)
	v := vms{t: t}
	for j := range out {
		room := v.room(j)
		for k := j; k < n && k <= j+t.Lead+t.NodeLead; k++ {
			if k <= j+t.Lead {
				out[j] = max(out[j], levels[k])
			} else if t.PodsPerNode > 0 && int(levels[k]) > room {
				ordered[k] = max(ordered[k], levels[k])
			}
			out[j] = max(out[j], ordered[k]) // keep what was ordered early until it is needed
		}
		v.pods = append(v.pods, out[j])
	}
	return out
}

// vms tracks the VMs the cluster autoscaler keeps along an emitted schedule.
type vms struct {
	t    Timing
	pods []int32
}

// room is how many pods the VMs kept at interval j hold.
func (v *vms) room(j int) int {
	k := v.t.PodsPerNode
	if k == 0 {
		return 0
	}
	nodes := v.t.MinNodes
	if j <= v.t.RemoveAfter {
		nodes = max(nodes, v.t.InitialNodes)
	}
	for i := max(j-v.t.RemoveAfter, 0); i < j; i++ {
		nodes = max(nodes, (int(v.pods[i])+k-1)/k)
	}
	return nodes * k
}

// Fixed is the schedule of n replicas for intervals intervals.
func Fixed(n int32, intervals int) []int32 {
	out := make([]int32, intervals)
	for i := range out {
		out[i] = n
	}
	return out
}

// Schedule is one frontier schedule: its label and spec.replicas per interval.
type Schedule struct {
	Label string
	Spec  []int32
	// Lambda is the DP's λ (0 for a fixed count); Model what the DP expected of it.
	Lambda float64
	Model  Plan
}

// DefaultLambdas is the λ sweep (pod-seconds one expected failure is worth): 10 values from 0.1
// to 3162, half a decade apart.
func DefaultLambdas() []float64 {
	var out []float64
	for e := -2; e <= 7; e++ {
		out = append(out, math.Pow(10, float64(e)/2))
	}
	return out
}

// Schedules returns the frontier's schedules for p: one DP schedule per lambda (emitted with t;
// a schedule equal to one already listed is left out) and every fixed count from p.Min to p.Max.
func Schedules(p Problem, t Timing, lambdas []float64) ([]Schedule, error) {
	var out []Schedule
	seen := map[string]bool{}
	for _, l := range lambdas {
		plan, err := Solve(p, l)
		if err != nil {
			return nil, err
		}
		spec := Emit(plan.Levels, t)
		key := fmt.Sprint(spec)
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, Schedule{Label: fmt.Sprintf("dp λ=%.3g", l), Spec: spec, Lambda: l, Model: plan})
	}
	for n := p.Min; n <= p.Max; n++ {
		out = append(out, Schedule{Label: fmt.Sprintf("fixed %d", n), Spec: Fixed(n, len(p.Fail)), Model: p.Evaluate(Fixed(n, len(p.Fail)))})
	}
	return out, nil
}

// Recommender replays a schedule as a heuristics.Recommender: at now it recommends the entry
// of the interval now falls in (the last one past the end).
type Recommender struct {
	name     string
	start    time.Time
	step     time.Duration
	schedule []int32
}

// NewRecommender returns a Recommender named name whose schedule starts at start, one entry per
// step.
func NewRecommender(name string, schedule []int32, start time.Time, step time.Duration) *Recommender {
	return &Recommender{name: name, start: start, step: step, schedule: schedule}
}

// Name implements heuristics.Recommender.
func (r *Recommender) Name() string { return r.name }

// Recommend implements heuristics.Recommender.
func (r *Recommender) Recommend(snap heuristics.Snapshot) heuristics.Decision {
	now := snap.Time
	d := heuristics.Decision{Current: snap.SpecReplicas, Replicas: snap.SpecReplicas, Reason: "no-data"}
	if now.IsZero() {
		d.Reason = heuristics.CodeInvalid
		return d
	}
	if len(r.schedule) == 0 || now.Before(r.start) {
		return d
	}
	i := min(int(now.Sub(r.start)/r.step), len(r.schedule)-1)
	d.Valid, d.Replicas, d.Reason = true, r.schedule[i], "schedule"
	d.Message = fmt.Sprintf("%s step %d: %d replicas", r.name, i, r.schedule[i])
	return d
}
