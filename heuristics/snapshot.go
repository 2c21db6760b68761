package heuristics

import (
	"errors"
	"fmt"
	"time"
)

// Snapshot is everything a policy may look at for one target at one instant. The adapter's store
// builds it from live scrapes; bench builds it from the simulator. Both fill the same fields with
// the same meaning, so the decision code cannot tell them apart.
type Snapshot struct {
	// Time is when the snapshot was taken (the caller's clock, never time.Now() in here).
	Time time.Time
	// SpecReplicas is the replica count the target currently asks for (scale subresource spec).
	SpecReplicas int32
	// StatusReplicas is the replica count the workload controller reports (scale status).
	StatusReplicas int32
	// Pods holds one entry for every pod that matches the target's selector, including Pending
	// ones and ones whose agent could not be scraped.
	Pods []PodSample

	// The fields below are the safety envelope's, filled by its one owner (the scaler's
	// Controller, from its one configuration; bench's direct driver for the baselines). A policy
	// reads them to filter signals and to size; it never enforces them (docs/policy.md, "Who owns
	// what").

	// MinReplicas and MaxReplicas are the target's bounds (policy file spec.policy.minReplicas
	// and maxReplicas). The scaler clamps every write to them (guard "bounds"); a policy may size
	// with them ("demand beyond any cluster size: as many as allowed").
	MinReplicas, MaxReplicas int32
	// LastChange is the last replica change of the target (the scaler's write, anyone else's
	// change of spec.replicas, a stuck-pod deletion; the controller's start unless it is taken as
	// settled); zero when none is known. Dwell times and windows count from it.
	LastChange time.Time
	// Settling is true within the scaler's settle time (guards.settle) of LastChange: the scaler
	// holds every change then, and a policy reads 503s as the rescale's own, never as overload.
	Settling bool
}

// Validate reports why a snapshot cannot be decided on (zero Time, bounds missing or inverted),
// or nil. A policy returns an invalid decision for such a snapshot instead of panicking.
func (s Snapshot) Validate() error {
	switch {
	case s.Time.IsZero():
		return errors.New("snapshot has no time")
	case s.MinReplicas < 1 || s.MaxReplicas < s.MinReplicas:
		return fmt.Errorf("snapshot bounds [%d, %d] invalid (need 1 <= min <= max)", s.MinReplicas, s.MaxReplicas)
	}
	return nil
}

// PodPhase is the Kubernetes phase of a pod, reduced to what the policy needs.
type PodPhase string

// Pod phases.
const (
	PodPending PodPhase = "Pending" // not scheduled yet, or scheduled and starting
	PodRunning PodPhase = "Running"
	PodOther   PodPhase = "Other" // Succeeded, Failed, Unknown, or being deleted
)

// PodSample is one pod's figures. Rates are per second over Window, ending at SampleTime.
type PodSample struct {
	Name string
	// Phase and Ready come from the Kubernetes pod object.
	Phase PodPhase
	Ready bool
	// Scheduled is false while the pod waits for a node (PodScheduled=False, reason
	// Unschedulable): the case where the cluster autoscaler has to add a VM.
	Scheduled bool
	// Created is the pod's creation time; Started the time it became Running (zero if not).
	Created time.Time
	Started time.Time

	// Known is false when there is no usable scrape of this pod's agent yet, or the last one
	// failed or timed out. Then every figure below is meaningless, and the pod must be treated as
	// possibly hot: never as idle.
	Known bool
	// SampleTime is when the figures were scraped; now - SampleTime is their age.
	SampleTime time.Time
	// Fresh is Known with figures no older than the one sample-age limit (guards.maxSampleAge)
	// at Snapshot.Time. The scaler decides it, once, for the guards and the policy alike; a pod
	// that is not Fresh counts for nothing but "possibly hot". False by default: a caller that
	// does not decide freshness gets no decisions from the hsds policy.
	Fresh bool
	// Window is the span the rates are computed over.
	Window time.Duration

	// NodeState is the SN's HSDS state (schema.StateReady, ...), "" when unknown.
	NodeState string
	// NodeCount is the DN count the SN sees.
	NodeCount int
	// InFlight is what the SN task gate counts (tasks or proxied requests); Limit is max_task_count.
	// NoInFlight is true when the agent has no current in-flight figure (HSDS 0.9.x /info: the
	// task sample of the last gated request, absent once it is older than the agent's
	// --in-flight-max-age); then InFlight is 0 and means nothing.
	InFlight   float64
	NoInFlight bool
	Limit      float64

	// RequestRate is client-facing responses per second, every status included.
	RequestRate float64
	// Rejected503 is client-facing 503s per second by cause.
	Rejected503 ByCause
	// Exact503 is false when the 503 split is an upper bound (HSDS 0.9.x /info source).
	Exact503 bool

	// Exposed is what the pod exported at its newest good reading, unprocessed: cumulative
	// counters and the in-flight gauge, for policies that emulate another collector on their own
	// schedule (the baselines: Prometheus scraping every 30 s and computing rate(), Knative's
	// 1 s scrape). It is filled even before the rates above can be computed (Known false), as
	// long as the reading is fresh; Exposed.Time is zero when there is none.
	Exposed Exposition
}

// Exposition is one reading of a pod's exported figures, as a scrape of it returns them.
// Counters are cumulative since the pod's agent (or HSDS) started and restart from 0 with it.
type Exposition struct {
	// Time is when the figures were read (zero: no usable reading; nothing below counts).
	Time time.Time
	// Responses counts client-facing responses, every status (hsds_http_requests_total summed
	// over status; the agent's hsds_agent_responses_total).
	Responses float64
	// Rejected503 counts client-facing 503s by cause; its Total() is
	// hsds_http_requests_total{status="503"}.
	Rejected503 ByCause
	// InFlight is the task gate's count at Time (hsds_tasks_active); HasInFlight is false when
	// there is no current figure (HSDS 0.9.x /info, see PodSample.NoInFlight). Limit is
	// max_task_count (hsds_tasks_max), 0 when unknown.
	InFlight    float64
	HasInFlight bool
	Limit       float64
}

// ByCause holds one figure per 503 cause (see agent/schema: overload, not_ready, upstream).
type ByCause struct {
	Overload float64
	NotReady float64
	Upstream float64
}

// Total is the sum over all causes.
func (c ByCause) Total() float64 { return c.Overload + c.NotReady + c.Upstream }

// Age is how old the pod's figures are at now; a pod that was never scraped is infinitely old.
func (p PodSample) Age(now time.Time) time.Duration {
	if !p.Known || p.SampleTime.IsZero() {
		return time.Duration(1<<63 - 1)
	}
	return now.Sub(p.SampleTime)
}
