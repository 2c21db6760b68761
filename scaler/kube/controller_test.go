package kube

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	scalefake "k8s.io/client-go/scale/fake"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
	"github.com/hsds-autoscaler/hsds-autoscaler/scaler"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// podSource plays the adapter: fixed pods, scraped "now".
type podSource struct{ pods []heuristics.PodSample }

func (p *podSource) PodSamples(_ string, _ labels.Selector, now time.Time) []heuristics.PodSample {
	out := append([]heuristics.PodSample(nil), p.pods...)
	for i := range out {
		if out[i].Known {
			out[i].SampleTime = now
		}
	}
	return out
}

func readyPod(name string, overload float64) heuristics.PodSample {
	return heuristics.PodSample{Name: name, Phase: heuristics.PodRunning, Ready: true, Scheduled: true, Created: t0.Add(-time.Hour),
		Started: t0.Add(-time.Hour), Known: true, NodeState: "READY", NodeCount: 3, InFlight: 100, Limit: 100,
		RequestRate: 40, Rejected503: heuristics.ByCause{Overload: overload}, Exact503: true}
}

// overloadRecommender wants two more pods while overload 503s exceed 1/s cluster-wide.
type overloadRecommender struct{ calls int }

func (r *overloadRecommender) Name() string { return "test-overload" }

func (r *overloadRecommender) Recommend(s heuristics.Snapshot) heuristics.Decision {
	r.calls++
	var rate float64
	for _, p := range s.Pods {
		rate += p.Rejected503.Overload
	}
	if rate > 1 {
		return heuristics.Decision{Valid: true, Current: s.SpecReplicas, Replicas: s.SpecReplicas + 2, Reason: "overload"}
	}
	return heuristics.Decision{Valid: true, Current: s.SpecReplicas, Replicas: s.SpecReplicas, Reason: "steady"}
}

type kubeRig struct {
	cs     *fake.Clientset
	scales *scalefake.FakeScaleClient
	store  *scaleStore
	events *record.FakeRecorder
	pods   *podSource
	rec    *overloadRecommender
	clock  *clocktesting.FakeClock
	cfg    scaler.ControllerConfig
	deps   scaler.Deps
}

func newKubeRig(t *testing.T, dryRun bool, objs ...runtime.Object) *kubeRig {
	t.Helper()
	cs := fake.NewClientset(objs...)
	fc, st := newFakeScales(3)
	r := &kubeRig{cs: cs, scales: fc, store: st, events: record.NewFakeRecorder(100), rec: &overloadRecommender{},
		pods:  &podSource{pods: []heuristics.PodSample{readyPod("a", 3), readyPod("b", 2), readyPod("c", 4)}},
		clock: clocktesting.NewFakeClock(t0)}
	m, err := scaler.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	r.cfg = scaler.ControllerConfig{Target: deployTarget, MinReplicas: 1, MaxReplicas: 10, Guards: scaler.DefaultGuards(),
		DryRun: dryRun, SettledAtStart: true}
	r.cfg.Guards.DeleteStuckPods = true
	r.deps = scaler.Deps{
		Scales:      NewScaleClient(fc, testrestmapperFor()),
		Pods:        r.pods,
		HPAs:        NewHPALister(cs),
		Events:      NewEventSink(r.events),
		Deleter:     NewPodDeleter(cs),
		Recommender: r.rec,
		Metrics:     m,
		Clock:       r.clock,
	}
	return r
}

func (r *kubeRig) controller(t *testing.T) *scaler.Controller {
	t.Helper()
	c, err := scaler.NewController(r.cfg, r.deps)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// writes lists every action that is not a read, on both fakes.
func (r *kubeRig) writes() []string {
	var out []string
	for _, a := range append(r.cs.Actions(), r.scales.Actions()...) {
		if v := a.GetVerb(); v != "get" && v != "list" && v != "watch" {
			out = append(out, v+" "+a.GetResource().Resource+"/"+a.GetSubresource())
		}
	}
	return out
}

func (r *kubeRig) drainEvents() []string {
	var out []string
	for {
		select {
		case e := <-r.events.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

func TestControllerScalesUpOnOverload(t *testing.T) {
	r := newKubeRig(t, false)
	o, err := r.controller(t).Step(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !o.Acted || o.Desired != 5 || r.store.spec("deployments") != 5 {
		t.Fatalf("want 3 -> 5, got %+v (spec %d)", o, r.store.spec("deployments"))
	}
	if diff := cmp.Diff([]string{"update deployments/scale"}, r.writes()); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}
	ev := r.drainEvents()
	if len(ev) != 1 || !strings.HasPrefix(ev[0], "Normal Rescaled scaled from 3 to 5") {
		t.Errorf("events = %q", ev)
	}
}

func TestControllerWaitsOnPendingPods(t *testing.T) {
	r := newKubeRig(t, false)
	r.pods.pods = append(r.pods.pods,
		heuristics.PodSample{Name: "d", Phase: heuristics.PodPending, Created: t0},
		heuristics.PodSample{Name: "e", Phase: heuristics.PodPending, Created: t0})
	c := r.controller(t)
	for range 10 {
		o, err := c.Step(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if o.Reason != scaler.GuardPendingPods || o.Acted {
			t.Fatalf("want pending hold, got %+v", o)
		}
		r.clock.Step(time.Second)
	}
	if w := r.writes(); len(w) != 0 {
		t.Errorf("wrote while pods were pending: %v", w)
	}
	ev := r.drainEvents()
	if len(ev) != 1 || !strings.HasPrefix(ev[0], "Normal WaitingForCapacity 2 pod(s) waiting to be scheduled") {
		t.Errorf("events = %q", ev)
	}
}

func TestControllerRefusesHPATarget(t *testing.T) {
	r := newKubeRig(t, false, hpa("default", "hsds", "apps/v1", "Deployment", "hsds"))
	o, err := r.controller(t).Step(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if o.Reason != scaler.GuardHPAConflict || o.Acted || r.rec.calls != 0 {
		t.Fatalf("want refusal, got %+v (recommender calls %d)", o, r.rec.calls)
	}
	if w := r.writes(); len(w) != 0 {
		t.Errorf("wrote despite the HPA: %v", w)
	}
	ev := r.drainEvents()
	if len(ev) != 1 || !strings.HasPrefix(ev[0], "Warning HPAConflict HorizontalPodAutoscaler(s) hsds also target") {
		t.Errorf("events = %q", ev)
	}
}

func TestControllerDryRunWritesNothing(t *testing.T) {
	r := newKubeRig(t, true)
	stuck := readyPod("stuck", 0)
	stuck.NodeState = "WAITING"
	r.pods.pods = append(r.pods.pods, stuck)
	c := r.controller(t)
	var would int
	for range 15 * 60 {
		o, err := c.Step(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if o.Acted || !o.DryRun {
			t.Fatalf("dry run acted: %+v", o)
		}
		if o.Desired == 5 {
			would++
		}
		r.clock.Step(time.Second)
	}
	if would == 0 {
		t.Fatal("dry run never wanted 3 -> 5")
	}
	if w := r.writes(); len(w) != 0 {
		t.Errorf("dry run wrote: %v", w)
	}
	if ev := r.drainEvents(); len(ev) != 0 {
		t.Errorf("dry run emitted events: %q", ev)
	}
	if len(r.scales.Actions()) == 0 || len(r.cs.Actions()) == 0 {
		t.Error("dry run did not even read (the assertion above would be vacuous)")
	}
}
