package kube

import (
	"context"
	"testing"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
	"github.com/hsds-autoscaler/hsds-autoscaler/scaler"
)

// TestControllerWithHSDSPolicy runs the real hsds policy (example defaults) in the loop on the
// fake cluster: sustained overload 503s at full task-gate utilization make it scale up once, and
// no further change comes inside the settle time.
func TestControllerWithHSDSPolicy(t *testing.T) {
	pf, err := scaler.LoadPolicyFile("../../deploy/policy/hsds-policy.yaml", scaler.TargetRequired)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := heuristics.NewHSDS(pf.Spec.Policy.Policy)
	if err != nil {
		t.Fatal(err)
	}
	r := newKubeRig(t, false)
	r.cfg = pf.ControllerConfig(false)
	r.cfg.Target.Namespace = "default" // the rig's fake cluster holds default/hsds
	r.deps.Recommender = rec
	c := r.controller(t)
	var first scaler.Outcome
	var writes int
	for i := range 180 {
		o, err := c.Step(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if o.Acted {
			writes++
			if first.Time.IsZero() {
				first = o
			} else if o.Time.Sub(first.Time) < pf.Spec.Guards.Settle.Duration {
				t.Fatalf("second change %s after the first", o.Time.Sub(first.Time))
			}
		}
		if i == 179 {
			t.Logf("last outcome: %+v", o)
		}
		r.clock.Step(time.Second)
	}
	if first.Time.IsZero() {
		t.Fatal("the hsds policy never scaled up under sustained overload")
	}
	if first.Desired <= 3 || first.Time.Sub(t0) < pf.Spec.Guards.Settle.Duration {
		t.Errorf("first change: %+v (want an increase, not before the start-up settle of %s)", first, pf.Spec.Guards.Settle.Duration)
	}
	t.Logf("first change after %s: 3 -> %d (%s: %s); %d writes in 180 s", first.Time.Sub(t0), first.Desired, first.Reason, first.Decision.Message, writes)
}
