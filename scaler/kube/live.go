package kube

import (
	"fmt"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
	"github.com/hsds-autoscaler/hsds-autoscaler/scaler"
)

// Live holds the Kubernetes-backed collaborators of a controller, built from one rest.Config.
type Live struct {
	Client  kubernetes.Interface
	Scales  *ScaleClient
	HPAs    *HPALister
	Events  *EventSink
	Deleter *PodDeleter
	stop    func()
}

// NewLive builds the clients; Events carry source component (e.g. "hsds-autoscaler"). Call
// Close at shutdown to flush and stop the event broadcaster.
func NewLive(cfg *rest.Config, component string) (*Live, error) {
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	scales, err := NewScaleClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	rec, stop := NewEventRecorder(client, component)
	return &Live{
		Client:  client,
		Scales:  scales,
		HPAs:    NewHPALister(client),
		Events:  NewEventSink(rec),
		Deleter: NewPodDeleter(client),
		stop:    stop,
	}, nil
}

// Deps returns controller dependencies on these clients plus the given pod source, recommender
// and metrics (nil metrics: none).
func (l *Live) Deps(pods scaler.PodSource, rec heuristics.Recommender, m *scaler.Metrics) scaler.Deps {
	return scaler.Deps{Scales: l.Scales, Pods: pods, HPAs: l.HPAs, Events: l.Events, Deleter: l.Deleter, Recommender: rec, Metrics: m}
}

// Close stops the event broadcaster.
func (l *Live) Close() {
	if l.stop != nil {
		l.stop()
	}
}
