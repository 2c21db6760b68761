package scaler

import (
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

// Guards configures the controller's guards and loop (policy file spec.guards).
type Guards struct {
	// Tick is the loop period.
	Tick heuristics.Duration `json:"tick"`
	// Settle is how long decisions are held after a replica change (ours or anyone's) or a pod
	// deletion: pod start-up (~30 s) + 2 x HSDS's 10 s health-check interval. It is the one settle
	// time: the policy gets it as Snapshot.Settling (503s then are the rescale's, never overload).
	Settle heuristics.Duration `json:"settle"`
	// PendingTimeout is how long unscheduled Pending pods block further scale-ups (the time the
	// cluster autoscaler gets to add a node).
	PendingTimeout heuristics.Duration `json:"pendingTimeout"`
	// StuckNotReady is how long a Running pod whose node has not been READY yet may stay so
	// before it is reported stuck (a new pod's HSDS start-up: 2-30 s).
	StuckNotReady heuristics.Duration `json:"stuckNotReady"`
	// StuckAfterReady is the same for a pod whose node was READY before: on HSDS 0.9.4 in
	// Kubernetes mode old nodes never leave READY on a rescale (real-hsds/k8s.md), so one that
	// does and stays so is HSDS issue 423; on 1.0.1 a rescale's roster convergence takes ~10 s.
	StuckAfterReady heuristics.Duration `json:"stuckAfterReady"`
	// ReleaseStuck is the remedy that needs no permission beyond the scale subresource: when a
	// pod is stuck and the policy wants no change, change the pod set by one pod (any change of
	// the pod set releases a node stuck WAITING on HSDS 0.9.4, ../shared/real-hsds/k8s.md): one
	// pod fewer when above minReplicas and no figures are stale (the ReplicaSet removes a pod
	// that is not Ready first: the stuck one, when the readiness probe follows the node state),
	// else one more. It waits for the settle time and for pods on their way (Pending within
	// PendingTimeout, or Running and not yet READY nor stuck): the ReplicaSet would remove such a
	// pod first, not the stuck one, and its joining the roster releases the stuck nodes anyway.
	// It stays within the bounds, and repeats for the same stuck pods only after
	// StuckRemedyInterval (a pod that a change does not release is not HSDS issue 423).
	ReleaseStuck bool `json:"releaseStuck"`
	// DeleteStuckPods enables the opt-in remedy: delete a stuck pod (one at a time; needs pods
	// delete). When on, it replaces ReleaseStuck.
	DeleteStuckPods bool `json:"deleteStuckPods"`
	// StuckRemedyInterval is the least time between two remedies (deletions, or releases for the
	// same stuck pods).
	StuckRemedyInterval heuristics.Duration `json:"stuckRemedyInterval"`
	// MaxSampleAge is the one sample-age limit: a pod whose figures are older is not Fresh (its
	// figures count for nothing in the policy), and a Running one that is not Fresh holds every
	// scale-down (stale-data guard).
	MaxSampleAge heuristics.Duration `json:"maxSampleAge"`
	// HPACheckInterval is how often the controller re-lists HPAs for a conflict (0: every tick).
	HPACheckInterval heuristics.Duration `json:"hpaCheckInterval"`
}

// DefaultGuards returns the documented defaults (docs/operations.md).
func DefaultGuards() Guards {
	return Guards{
		Tick:                heuristics.D(time.Second),
		Settle:              heuristics.D(50 * time.Second),
		PendingTimeout:      heuristics.D(5 * time.Minute),
		StuckNotReady:       heuristics.D(60 * time.Second),
		StuckAfterReady:     heuristics.D(20 * time.Second),
		ReleaseStuck:        true,
		DeleteStuckPods:     false,
		StuckRemedyInterval: heuristics.D(5 * time.Minute),
		MaxSampleAge:        heuristics.D(60 * time.Second),
		HPACheckInterval:    heuristics.D(15 * time.Second),
	}
}

// validate returns every problem, each prefixed with path (e.g. "spec.guards").
func (g Guards) validate(path string) []error {
	var errs []error
	positive := []struct {
		name string
		d    heuristics.Duration
	}{{"tick", g.Tick}, {"stuckNotReady", g.StuckNotReady}, {"stuckAfterReady", g.StuckAfterReady}, {"stuckRemedyInterval", g.StuckRemedyInterval}, {"maxSampleAge", g.MaxSampleAge}}
	for _, f := range positive {
		if f.d.Duration <= 0 {
			errs = append(errs, fmt.Errorf("%s.%s: must be > 0, got %s", path, f.name, f.d.Duration))
		}
	}
	nonNegative := []struct {
		name string
		d    heuristics.Duration
	}{{"settle", g.Settle}, {"pendingTimeout", g.PendingTimeout}, {"hpaCheckInterval", g.HPACheckInterval}}
	for _, f := range nonNegative {
		if f.d.Duration < 0 {
			errs = append(errs, fmt.Errorf("%s.%s: must be >= 0, got %s", path, f.name, f.d.Duration))
		}
	}
	return errs
}

// ControllerConfig is one target's loop configuration.
type ControllerConfig struct {
	Target Target
	// Selector, when not empty, overrides the scale subresource's status.selector.
	Selector                 string
	MinReplicas, MaxReplicas int32
	Guards                   Guards
	// DryRun logs and counts what the controller would write, and writes nothing (no scale
	// write, no pod deletion, no Event).
	DryRun bool
	// SettledAtStart: when false (the default, right for serve), the first Guards.Settle after
	// the controller starts counts as settling, because a replica that just took over the lease
	// cannot know when the last rescale happened. bench and a one-shot live dry-run set it.
	SettledAtStart bool
}

// Validate returns every problem of the configuration in one error.
func (c ControllerConfig) Validate() error {
	var errs []error
	errs = append(errs, c.Target.validate("target")...)
	if c.Selector != "" {
		if _, err := labels.Parse(c.Selector); err != nil {
			errs = append(errs, fmt.Errorf("selector: %w", err))
		}
	}
	if c.MinReplicas < 1 {
		errs = append(errs, fmt.Errorf("minReplicas: must be >= 1, got %d", c.MinReplicas))
	}
	if c.MaxReplicas < c.MinReplicas {
		errs = append(errs, fmt.Errorf("maxReplicas: must be >= minReplicas (%d), got %d", c.MinReplicas, c.MaxReplicas))
	}
	errs = append(errs, c.Guards.validate("guards")...)
	return errors.Join(errs...)
}

func (t Target) validate(path string) []error {
	var errs []error
	for _, f := range []struct{ name, v string }{
		{"apiVersion", t.APIVersion}, {"kind", t.Kind}, {"namespace", t.Namespace}, {"name", t.Name},
	} {
		if f.v == "" {
			errs = append(errs, fmt.Errorf("%s.%s: required", path, f.name))
		}
	}
	return errs
}
