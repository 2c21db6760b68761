package autoscalers_test

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/hsds-autoscaler/hsds-autoscaler/api/v1alpha1"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
	"github.com/hsds-autoscaler/hsds-autoscaler/scaler"
	"github.com/hsds-autoscaler/hsds-autoscaler/scaler/autoscalers"
)

// fakeScales is the scale subresource of several targets, by "namespace/name".
type fakeScales struct {
	mu     sync.Mutex
	specs  map[string]int32
	writes []string
}

func (f *fakeScales) GetScale(_ context.Context, t scaler.Target) (scaler.Scale, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return scaler.Scale{SpecReplicas: f.specs[t.Key()], StatusReplicas: f.specs[t.Key()], Selector: "app=hsds"}, nil
}

func (f *fakeScales) SetReplicas(_ context.Context, t scaler.Target, from, to int32) (scaler.Scale, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.specs[t.Key()] = to
	f.writes = append(f.writes, t.Key())
	return scaler.Scale{SpecReplicas: to}, nil
}

func (f *fakeScales) spec(key string) int32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.specs[key]
}

// onePendingPod: one scheduled Pending pod and so no figures (the policy cannot decide) but no
// stale Running pod either: the bounds guard alone moves the count, both ways.
type onePendingPod struct{}

func (onePendingPod) PodSamples(string, labels.Selector, time.Time) []heuristics.PodSample {
	return []heuristics.PodSample{{Name: "p", Phase: heuristics.PodPending, Scheduled: true}}
}

// fakeStatus records every status write by "namespace/name".
type fakeStatus struct {
	mu     sync.Mutex
	writes map[string][]v1alpha1.HSDSAutoscalerStatus
}

func (f *fakeStatus) WriteStatus(_ context.Context, ns, name string, st v1alpha1.HSDSAutoscalerStatus) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes[ns+"/"+name] = append(f.writes[ns+"/"+name], *st.DeepCopy())
	return nil
}

func (f *fakeStatus) count(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.writes[key])
}

func (f *fakeStatus) last(key string) (v1alpha1.HSDSAutoscalerStatus, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.writes[key]
	if len(w) == 0 {
		return v1alpha1.HSDSAutoscalerStatus{}, false
	}
	return w[len(w)-1], true
}

// fakeSource hands the manager's Handler to the test and blocks until ctx ends.
type fakeSource struct{ h chan autoscalers.Handler }

func (s fakeSource) Watch(ctx context.Context, h autoscalers.Handler) error {
	s.h <- h
	<-ctx.Done()
	return nil
}
