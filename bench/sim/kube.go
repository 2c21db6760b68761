package sim

import (
	"context"
	"fmt"

	"github.com/hsds-autoscaler/hsds-autoscaler/scaler"
)

// Target is the simulated HSDS Deployment.
func Target() scaler.Target {
	return scaler.Target{APIVersion: "apps/v1", Kind: "Deployment", Namespace: Namespace, Name: Deployment}
}

// Selector is the simulated Deployment's status.selector.
const Selector = "app=hsds"

// Spec is spec.replicas.
func (s *Sim) Spec() int32 { return s.spec }

// SetSpec writes spec.replicas (what the Deployment controller then does: see setReplicas).
func (s *Sim) SetSpec(to int32) { s.setReplicas(to) }

// GetScale implements scaler.ScaleClient.
func (s *Sim) GetScale(_ context.Context, t scaler.Target) (scaler.Scale, error) {
	if t != Target() {
		return scaler.Scale{}, fmt.Errorf("get scale of %s: no such target in the simulator", t)
	}
	return scaler.Scale{SpecReplicas: s.spec, StatusReplicas: int32(len(s.pods)), Selector: Selector}, nil
}

// SetReplicas implements scaler.ScaleClient (compare-and-set on spec.replicas).
func (s *Sim) SetReplicas(ctx context.Context, t scaler.Target, from, to int32) (scaler.Scale, error) {
	if _, err := s.GetScale(ctx, t); err != nil {
		return scaler.Scale{}, err
	}
	if s.spec != from {
		return scaler.Scale{}, fmt.Errorf("set replicas of %s from %d: spec is %d: %w", t, from, s.spec, scaler.ErrScaleChanged)
	}
	s.setReplicas(to)
	return s.GetScale(ctx, t)
}

// HPAsTargeting implements scaler.HPALister: no HPA targets the simulated Deployment.
func (s *Sim) HPAsTargeting(context.Context, scaler.Target) ([]string, error) { return nil, nil }

// Event implements scaler.EventSink: it counts Events by reason.
func (s *Sim) Event(_ scaler.ObjectRef, _, reason, _ string) {
	if s.stats.Events == nil {
		s.stats.Events = map[string]int{}
	}
	s.stats.Events[reason]++
}

// DeletePod implements scaler.PodDeleter: the pod goes and the Deployment creates a new one.
func (s *Sim) DeletePod(_ context.Context, namespace, name string) error {
	for i, p := range s.pods {
		if namespace == Namespace && p.name == name {
			s.removePod(i)
			s.pods = append(s.pods, s.newPod(s.Seconds()))
			return nil
		}
	}
	return fmt.Errorf("delete pod %s/%s: not found", namespace, name)
}
