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

// Plan holds the timings the oracle respects. Durations are in seconds.
type Plan struct {
	// Step is the control step; Duration the span to schedule.
	Step, Duration float64
	// Lead is how long before a need a pod must be ordered when it fits on the VMs at hand
	// (pod start-up + one control step); NodeLead when it needs a new VM (+ the VM delay).
	Lead, NodeLead float64
	// Hold keeps a level this long before scaling down (every change costs HSDS a cluster-wide
	// not-ready window, and flapping reshuffles placement).
	Hold float64
	// PodsPerNode, MinNodes and NodeRemove model the VMs: a VM holds PodsPerNode pods; the
	// cluster autoscaler keeps at least MinNodes and removes a VM after NodeRemove seconds with
	// no pod for it. InitialNodes are ready at t = 0. PodsPerNode 0 means pods always fit.
	PodsPerNode, MinNodes, InitialNodes int
	NodeRemove                          float64
}

// Validate returns every problem with p.
func (p Plan) Validate() error {
	var errs []error
	if !(p.Step > 0) || !(p.Duration > 0) {
		errs = append(errs, fmt.Errorf("step %g, duration %g: must be > 0", p.Step, p.Duration))
	}
	if !(p.Lead >= 0) || !(p.NodeLead >= p.Lead) || !(p.Hold >= 0) || !(p.NodeRemove >= 0) {
		errs = append(errs, fmt.Errorf("lead %g, node lead %g, hold %g, node remove %g: want 0 <= lead <= node lead, hold and node remove >= 0",
			p.Lead, p.NodeLead, p.Hold, p.NodeRemove))
	}
	if p.PodsPerNode < 0 || p.MinNodes < 0 || p.InitialNodes < 0 {
		errs = append(errs, fmt.Errorf("pods per node %d, min nodes %d, initial nodes %d: must be >= 0", p.PodsPerNode, p.MinNodes, p.InitialNodes))
	}
	return errors.Join(errs...)
}

// Schedule returns the oracle's replica count for every control step of plan.Step seconds over
// plan.Duration seconds of the (already scaled) series s. The need of a step is
// m.ReplicasFor(the highest rate of the series within it): the simulator offers each bin's rate
// as a Poisson load, and the SN gate has no memory longer than a request, so a busy bin inside a
// quiet step would be shed. Step i holds the largest need over the next plan.Lead seconds, and
// over the next plan.NodeLead seconds for needs that do not fit on the VMs the cluster keeps at
// step i; and keeps any level plan.Hold seconds before scaling down.
func Schedule(s trace.Series, m Model, plan Plan) ([]int32, error) {
	if err := plan.Validate(); err != nil {
		return nil, fmt.Errorf("oracle schedule: %w", err)
	}
	if len(s.Rates) == 0 || !(s.Step > 0) {
		return nil, fmt.Errorf("oracle schedule: empty series (step %g, %d bins)", s.Step, len(s.Rates))
	}
	n := int(math.Ceil(plan.Duration / plan.Step))
	need := make([]int32, n)
	for i := range need {
		need[i] = m.ReplicasFor(peak(s, float64(i)*plan.Step, float64(i+1)*plan.Step))
	}
	lead, nodeLead := steps(plan.Lead, plan.Step), steps(plan.NodeLead, plan.Step)
	hold, remove := steps(plan.Hold, plan.Step), steps(plan.NodeRemove, plan.Step)
	raw, out := make([]int32, n), make([]int32, n)
	ordered := make([]int32, n) // needs ordered ahead of Lead because they needed a VM
	vms := newVMs(plan, remove)
	for i := range out {
		room := vms.room(i)
		for j := i; j < n && j <= i+nodeLead; j++ {
			if j <= i+lead {
				raw[i] = max(raw[i], need[j])
			} else if plan.PodsPerNode > 0 && int(need[j]) > room {
				ordered[j] = max(ordered[j], need[j])
			}
			raw[i] = max(raw[i], ordered[j]) // keep what was ordered for j until j comes
		}
		out[i] = raw[i]
		for k := max(i-hold, 0); k < i; k++ {
			out[i] = max(out[i], raw[k]) // hold: no scale-down before plan.Hold has passed
		}
		vms.record(i, out[i])
	}
	return out, nil
}

func steps(seconds, step float64) int { return int(math.Ceil(seconds/step - 1e-9)) }

// vms tracks the VMs the cluster autoscaler keeps along the schedule: enough for the most pods
// of the last NodeRemove seconds (a VM goes once it has had no pod that long), at least MinNodes,
// and the initial ones until then.
type vms struct {
	plan   Plan
	remove int
	pods   []int32
}

func newVMs(plan Plan, remove int) *vms { return &vms{plan: plan, remove: remove} }

func (v *vms) record(i int, pods int32) { v.pods = append(v.pods[:i], pods) }

// room is how many pods the VMs kept at step i hold (0 when PodsPerNode is 0: unused).
func (v *vms) room(i int) int {
	k := v.plan.PodsPerNode
	if k == 0 {
		return 0
	}
	nodes := v.plan.MinNodes
	if i <= v.remove {
		nodes = max(nodes, v.plan.InitialNodes)
	}
	for j := max(i-v.remove, 0); j < i; j++ {
		nodes = max(nodes, (int(v.pods[j])+k-1)/k)
	}
	return nodes * k
}

// peak is the highest rate of s over [from, to) (0 beyond its end).
func peak(s trace.Series, from, to float64) float64 {
	v := 0.0
	for i := max(int(math.Floor(from/s.Step)), 0); i < len(s.Rates) && float64(i)*s.Step < to; i++ {
		v = math.Max(v, s.Rates[i])
	}
	return v
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
