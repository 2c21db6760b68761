package autoscalers

import (
	"errors"
	"fmt"

	"github.com/hsds-autoscaler/hsds-autoscaler/api/v1alpha1"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
	"github.com/hsds-autoscaler/hsds-autoscaler/scaler"
)

// Options apply to every object's controller, as serve's flags do to the policy file's.
type Options struct {
	// DryRun: decide and report, write no scale (serve --dry-run); the status is still written.
	DryRun bool
	// DeleteStuckPods turns the stuck-pod remedy on whatever the objects say (--delete-stuck-pods).
	DeleteStuckPods bool
	// Exclude is the "namespace/name" of the target serve's policy file scales (--policy): an
	// object naming it is refused, so that two loops never fight over one target.
	Exclude string
}

// ControllerConfig is the loop configuration an object describes: its target in its own
// namespace, its bounds and guards, with the options applied.
func ControllerConfig(obj *v1alpha1.HSDSAutoscaler, o Options) scaler.ControllerConfig {
	s := obj.Spec
	kind := s.ScaleTarget.Kind
	if kind == "" {
		kind = "Deployment"
	}
	g := s.Guards
	return scaler.ControllerConfig{
		Target:      scaler.Target{APIVersion: "apps/v1", Kind: kind, Namespace: obj.Namespace, Name: s.ScaleTarget.Name},
		Selector:    s.Selector,
		MinReplicas: s.MinReplicas,
		MaxReplicas: s.MaxReplicas,
		Guards: scaler.Guards{
			Tick:                heuristics.D(g.Tick.Duration.Duration),
			Settle:              heuristics.D(g.Settle.Duration.Duration),
			PendingTimeout:      heuristics.D(g.PendingTimeout.Duration.Duration),
			StuckNotReady:       heuristics.D(g.StuckNotReady.Duration.Duration),
			StuckAfterReady:     heuristics.D(g.StuckAfterReady.Duration.Duration),
			ReleaseStuck:        g.ReleaseStuck,
			DeleteStuckPods:     g.DeleteStuckPods || o.DeleteStuckPods,
			StuckRemedyInterval: heuristics.D(g.StuckRemedyInterval.Duration.Duration),
			MaxSampleAge:        heuristics.D(g.MaxSampleAge.Duration.Duration),
			HPACheckInterval:    heuristics.D(g.HPACheckInterval.Duration.Duration),
		},
		DryRun: o.DryRun,
	}
}

// build checks an object (the same checks as the policy file's, in case the apiserver's schema
// was bypassed or is older) and returns its configuration and a fresh policy.
func build(obj *v1alpha1.HSDSAutoscaler, o Options) (scaler.ControllerConfig, *heuristics.HSDS, error) {
	cfg := ControllerConfig(obj, o)
	rec, policyErr := heuristics.NewHSDS(obj.Spec.Policy.Heuristics())
	var excluded error
	if o.Exclude != "" && cfg.Target.Key() == o.Exclude {
		excluded = fmt.Errorf("scaleTarget: %s is scaled by serve's policy file (--policy); remove one of the two", cfg.Target)
	}
	if err := errors.Join(cfg.Validate(), policyErr, excluded); err != nil {
		return cfg, nil, fmt.Errorf("invalid spec: %w", err)
	}
	return cfg, rec, nil
}
