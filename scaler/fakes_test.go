package scaler

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

// fakeScales is an in-memory scale subresource.
type fakeScales struct {
	mu     sync.Mutex
	scale  Scale
	writes []write
	getErr error
	setErr error
}

type write struct{ From, To int32 }

func (f *fakeScales) GetScale(_ context.Context, _ Target) (Scale, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.scale, f.getErr
}

func (f *fakeScales) SetReplicas(_ context.Context, _ Target, from, to int32) (Scale, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.setErr != nil {
		return Scale{}, f.setErr
	}
	if f.scale.SpecReplicas != from {
		return Scale{}, fmt.Errorf("fake: %w", ErrScaleChanged)
	}
	f.writes = append(f.writes, write{from, to})
	f.scale.SpecReplicas = to
	return f.scale, nil
}

// fakePods returns a settable pod list and records the selector it was asked for.
// With fresh set, every Known pod's SampleTime is now (a live scrape).
type fakePods struct {
	pods     []heuristics.PodSample
	fresh    bool
	selector string
}

func (f *fakePods) PodSamples(_ string, sel labels.Selector, now time.Time) []heuristics.PodSample {
	f.selector = sel.String()
	out := append([]heuristics.PodSample(nil), f.pods...)
	for i := range out {
		if f.fresh && out[i].Known {
			out[i].SampleTime = now
		}
	}
	return out
}

type fakeHPAs struct {
	names []string
	calls int
}

func (f *fakeHPAs) HPAsTargeting(context.Context, Target) ([]string, error) {
	f.calls++
	return f.names, nil
}

type event struct{ Object, Type, Reason, Message string }

type fakeEvents struct{ events []event }

func (f *fakeEvents) Event(obj ObjectRef, eventType, reason, message string) {
	f.events = append(f.events, event{obj.Kind + "/" + obj.Name, eventType, reason, message})
}

func (f *fakeEvents) reasons() []string {
	var out []string
	for _, e := range f.events {
		out = append(out, e.Object+":"+e.Reason)
	}
	return out
}

type fakeDeleter struct{ deleted []string }

func (f *fakeDeleter) DeletePod(_ context.Context, ns, name string) error {
	f.deleted = append(f.deleted, ns+"/"+name)
	return nil
}

// fakeRecommender answers with a function of the snapshot and records what it saw.
type fakeRecommender struct {
	mu   sync.Mutex
	fn   func(heuristics.Snapshot) heuristics.Decision
	seen []heuristics.Snapshot
}

func (f *fakeRecommender) Name() string { return "fake" }

func (f *fakeRecommender) Recommend(s heuristics.Snapshot) heuristics.Decision {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen = append(f.seen, s)
	d := f.fn(s)
	d.Current = s.SpecReplicas
	return d
}

// want returns a recommender that always wants n replicas.
func want(n int32) *fakeRecommender {
	return &fakeRecommender{fn: func(heuristics.Snapshot) heuristics.Decision {
		return heuristics.Decision{Valid: true, Replicas: n, Reason: "fake", Message: fmt.Sprintf("wants %d", n)}
	}}
}

// hold returns a recommender that always wants the current count (a policy with nothing to do).
func hold() *fakeRecommender {
	return &fakeRecommender{fn: func(s heuristics.Snapshot) heuristics.Decision {
		return heuristics.Decision{Valid: true, Replicas: s.SpecReplicas, Reason: "fake", Message: "holds"}
	}}
}

func (f *fakeRecommender) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.seen)
}

func (f *fakeEvents) messages() []string {
	var out []string
	for _, e := range f.events {
		out = append(out, e.Message)
	}
	return out
}
