package autoscalers_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hsds-autoscaler/hsds-autoscaler/api/v1alpha1"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
	"github.com/hsds-autoscaler/hsds-autoscaler/internal/testwait"
	"github.com/hsds-autoscaler/hsds-autoscaler/scaler"
	"github.com/hsds-autoscaler/hsds-autoscaler/scaler/autoscalers"
)

// object is an HSDSAutoscaler with the CRD's defaults, a fast tick and no settling.
func object(ns, name string, gen int64, minR, maxR int32) *v1alpha1.HSDSAutoscaler {
	g := guardsFrom(scaler.DefaultGuards())
	g.Tick, g.Settle = v1alpha1.Pos(10*time.Millisecond), v1alpha1.NonNeg(0)
	return &v1alpha1.HSDSAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: gen},
		Spec: v1alpha1.HSDSAutoscalerSpec{
			ScaleTarget: v1alpha1.ScaleTarget{Kind: "Deployment", Name: "hsds"}, MinReplicas: minR, MaxReplicas: maxR,
			Policy: v1alpha1.PolicyFrom(heuristics.DefaultPolicy()), Guards: g,
		},
	}
}

type rig struct {
	scales *fakeScales
	status *fakeStatus
	h      autoscalers.Handler
	m      *autoscalers.Manager
}

func newRig(t *testing.T, specs map[string]int32) *rig {
	t.Helper()
	return newRigWith(t, specs, autoscalers.Options{})
}

func newRigWith(t *testing.T, specs map[string]int32, opts autoscalers.Options) *rig {
	t.Helper()
	r := &rig{scales: &fakeScales{specs: specs}, status: &fakeStatus{writes: map[string][]v1alpha1.HSDSAutoscalerStatus{}}}
	r.m = autoscalers.NewManager(scaler.Deps{Scales: r.scales, Pods: onePendingPod{}}, r.status, opts)
	src := fakeSource{h: make(chan autoscalers.Handler, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.m.Run(ctx, src) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	r.h = <-src.h
	return r
}

// waitStatus waits until the last status written for key satisfies cond.
func (r *rig) waitStatus(t *testing.T, key, what string, cond func(v1alpha1.HSDSAutoscalerStatus) bool) v1alpha1.HSDSAutoscalerStatus {
	t.Helper()
	var st v1alpha1.HSDSAutoscalerStatus
	testwait.For(t, key+": "+what, func() bool {
		var ok bool
		st, ok = r.status.last(key)
		return ok && cond(st)
	})
	return st
}

// Two objects in two namespaces: each scales its own target into its bounds and reports it;
// a lowered maxReplicas is enforced by the rebuilt controller; a deleted object is no longer
// written.
func TestManagerTwoTargetsUpdateDelete(t *testing.T) {
	r := newRig(t, map[string]int32{"ns-a/hsds": 2, "ns-b/hsds": 4})
	r.h.Upsert(object("ns-a", "a", 1, 3, 5))
	r.h.Upsert(object("ns-b", "b", 1, 1, 3))
	for key, want := range map[string]int32{"ns-a/a": 3, "ns-b/b": 3} {
		st := r.waitStatus(t, key, "replicas in bounds", func(s v1alpha1.HSDSAutoscalerStatus) bool {
			return s.ObservedReplicas == want && s.DesiredReplicas == want
		})
		if st.ObservedGeneration != 1 || st.LastDecision == nil || st.LastScaleTime == nil {
			t.Errorf("%s: status %+v lacks generation, decision or scale time", key, st)
		}
		for _, c := range []string{v1alpha1.ConditionActive, v1alpha1.ConditionAbleToScale, v1alpha1.ConditionScalingLimited,
			v1alpha1.ConditionWaitingForCapacity, v1alpha1.ConditionConflict} {
			if meta.FindStatusCondition(st.Conditions, c) == nil {
				t.Errorf("%s: no condition %s in %+v", key, c, st.Conditions)
			}
		}
	}
	if got := r.scales.spec("ns-a/hsds"); got != 3 {
		t.Errorf("ns-a/hsds spec = %d, want 3 (minReplicas)", got)
	}

	r.h.Upsert(object("ns-b", "b", 2, 1, 2)) // maxReplicas lowered
	r.waitStatus(t, "ns-b/b", "clamped to the new maxReplicas", func(s v1alpha1.HSDSAutoscalerStatus) bool {
		return s.ObservedGeneration == 2 && s.ObservedReplicas == 2
	})
	if got := r.scales.spec("ns-b/hsds"); got != 2 {
		t.Errorf("ns-b/hsds spec = %d, want 2", got)
	}

	r.h.Delete("ns-a", "a")
	n := r.status.count("ns-a/a")
	before := r.status.count("ns-b/b")
	r.h.Upsert(object("ns-b", "b", 3, 1, 1))
	r.waitStatus(t, "ns-b/b", "generation 3", func(s v1alpha1.HSDSAutoscalerStatus) bool { return s.ObservedReplicas == 1 })
	if r.status.count("ns-b/b") <= before {
		t.Error("ns-b/b: no write after its update")
	}
	if got := r.status.count("ns-a/a"); got != n {
		t.Errorf("ns-a/a: %d status writes after its deletion", got-n)
	}
	if got := r.m.Targets(); !slices.Equal(got, []string{"ns-b/b"}) {
		t.Errorf("Targets() = %v, want [ns-b/b]", got)
	}
}

// An object the apiserver should have refused (min > max) runs no controller and says why.
func TestManagerRefusesInvalidSpec(t *testing.T) {
	r := newRig(t, map[string]int32{"ns/hsds": 4})
	r.h.Upsert(object("ns", "bad", 1, 5, 2))
	st := r.waitStatus(t, "ns/bad", "refused", func(v1alpha1.HSDSAutoscalerStatus) bool { return true })
	c := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionActive)
	if c == nil || c.Status != metav1.ConditionFalse || c.Reason != autoscalers.ReasonInvalidSpec || !strings.Contains(c.Message, "maxReplicas") {
		t.Errorf("Active = %+v, want False/InvalidSpec naming maxReplicas", c)
	}
	time.Sleep(50 * time.Millisecond)
	if got := r.scales.spec("ns/hsds"); got != 4 || len(r.m.Targets()) != 0 {
		t.Errorf("spec = %d, targets %v; want 4 and none", got, r.m.Targets())
	}
	if got := r.status.count("ns/bad"); got != 1 {
		t.Errorf("%d status writes, want 1", got)
	}
}

// A controller built for an object with status.learned starts from it: the capacity it reports
// is the saved one.
func TestManagerRestoresLearned(t *testing.T) {
	r := newRig(t, map[string]int32{"ns/hsds": 3})
	obj := object("ns", "a", 1, 1, 5)
	at := time.Now().Add(-time.Minute).Truncate(time.Second)
	obj.Status.Learned = &v1alpha1.Learned{PodCapacity: 37.25, At: metav1.NewTime(at)}
	r.h.Upsert(obj)
	st := r.waitStatus(t, "ns/a", "a decision", func(s v1alpha1.HSDSAutoscalerStatus) bool { return s.LastDecision != nil })
	if st.Learned == nil || st.Learned.PodCapacity != 37.25 || !st.Learned.At.Time.Equal(at) {
		t.Errorf("learned = %+v, want 37.25 at %s", st.Learned, at)
	}
}

// A spec change rebuilds the controller from what the old one had learned, not from the (here
// empty) status of the changed object.
func TestManagerRebuildCarriesLearned(t *testing.T) {
	r := newRig(t, map[string]int32{"ns/hsds": 3})
	obj := object("ns", "a", 1, 1, 5)
	at := time.Now().Add(-time.Minute).Truncate(time.Second)
	obj.Status.Learned = &v1alpha1.Learned{PodCapacity: 12.5, At: metav1.NewTime(at)}
	r.h.Upsert(obj)
	r.waitStatus(t, "ns/a", "generation 1", func(s v1alpha1.HSDSAutoscalerStatus) bool { return s.LastDecision != nil })
	r.h.Upsert(object("ns", "a", 2, 1, 4))
	st := r.waitStatus(t, "ns/a", "generation 2", func(s v1alpha1.HSDSAutoscalerStatus) bool { return s.ObservedGeneration == 2 })
	if st.Learned == nil || st.Learned.PodCapacity != 12.5 {
		t.Errorf("learned after the rebuild = %+v, want 12.5 carried over", st.Learned)
	}
}
