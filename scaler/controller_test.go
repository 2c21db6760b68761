package scaler

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
	"github.com/hsds-autoscaler/hsds-autoscaler/internal/testwait"
)

var testTarget = Target{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "default", Name: "hsds"}

type rig struct {
	clock   *clocktesting.FakeClock
	scales  *fakeScales
	pods    *fakePods
	hpas    *fakeHPAs
	events  *fakeEvents
	deleter *fakeDeleter
	rec     *fakeRecommender
	reg     *prometheus.Registry
	c       *Controller
}

func testConfig() ControllerConfig {
	return ControllerConfig{Target: testTarget, MinReplicas: 1, MaxReplicas: 10, Guards: DefaultGuards()}
}

// newRig builds a controller on fakes: 3 replicas, 3 fresh READY pods, selector app=hsds.
func newRig(t *testing.T, cfg ControllerConfig, rec *fakeRecommender) *rig {
	t.Helper()
	r := &rig{
		clock:   clocktesting.NewFakeClock(t0),
		scales:  &fakeScales{scale: Scale{SpecReplicas: 3, StatusReplicas: 3, Selector: "app=hsds"}},
		pods:    &fakePods{pods: []heuristics.PodSample{pod("a"), pod("b"), pod("c")}, fresh: true},
		hpas:    &fakeHPAs{},
		events:  &fakeEvents{},
		deleter: &fakeDeleter{},
		rec:     rec,
		reg:     prometheus.NewRegistry(),
	}
	m, err := NewMetrics(r.reg)
	if err != nil {
		t.Fatal(err)
	}
	r.c, err = NewController(cfg, Deps{Scales: r.scales, Pods: r.pods, HPAs: r.hpas, Events: r.events,
		Deleter: r.deleter, Recommender: rec, Metrics: m, Clock: r.clock})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rig) step(t *testing.T) Outcome {
	t.Helper()
	o, err := r.c.Step(context.Background())
	if err != nil {
		t.Fatalf("Step: %v", err)
	}
	return o
}

// stepFor steps once per second for d and returns the last outcome.
func (r *rig) stepFor(t *testing.T, d time.Duration) Outcome {
	t.Helper()
	var o Outcome
	for end := r.clock.Now().Add(d); r.clock.Now().Before(end); r.clock.Step(time.Second) {
		o = r.step(t)
	}
	return o
}

func TestStepHoldsAtStartThenScalesUp(t *testing.T) {
	r := newRig(t, testConfig(), want(5))
	o := r.step(t)
	if o.Reason != GuardSettling || o.Acted || len(r.scales.writes) != 0 {
		t.Fatalf("first step: want settling hold, got %+v, writes %v", o, r.scales.writes)
	}
	r.stepFor(t, 51*time.Second)
	if diff := cmp.Diff([]write{{3, 5}}, r.scales.writes); diff != "" {
		t.Fatalf("writes (-want +got):\n%s", diff)
	}
	writeAt := r.clock.Now().Add(-time.Second) // the write was the last step's
	r.step(t)
	if s := r.rec.seen[len(r.rec.seen)-1]; !s.LastChange.Equal(writeAt) || !s.Settling || s.MinReplicas != 1 || s.MaxReplicas != 10 {
		t.Errorf("snapshot after the write: LastChange %v (want %v), Settling %t, bounds [%d, %d]",
			s.LastChange, writeAt, s.Settling, s.MinReplicas, s.MaxReplicas)
	}
	if diff := cmp.Diff([]string{"Deployment/hsds:Rescaled"}, r.events.reasons()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if !strings.Contains(r.events.events[0].Message, "scaled from 3 to 5") {
		t.Errorf("event message lacks numbers: %q", r.events.events[0].Message)
	}
	if r.pods.selector != "app=hsds" {
		t.Errorf("selector = %q, want the scale subresource's", r.pods.selector)
	}
	if got := testutil.ToFloat64(r.c.deps.Metrics.decisions.WithLabelValues("default/hsds", "fake", "up")); got != 1 {
		t.Errorf("decisions_total{reason=fake,direction=up} = %v, want 1", got)
	}
}

func TestStepSettledAtStart(t *testing.T) {
	cfg := testConfig()
	cfg.SettledAtStart = true
	r := newRig(t, cfg, want(5))
	if o := r.step(t); !o.Acted || o.Desired != 5 {
		t.Fatalf("want immediate scale-up, got %+v", o)
	}
	// The next change waits for the settle time.
	r.rec = want(7)
	r.c.deps.Recommender = r.rec
	r.clock.Step(49 * time.Second)
	if o := r.step(t); o.Acted || o.Reason != GuardSettling {
		t.Fatalf("at 49s: want settling, got %+v", o)
	}
	r.clock.Step(time.Second)
	if o := r.step(t); !o.Acted || o.Desired != 7 {
		t.Fatalf("at 50s: want scale to 7, got %+v", o)
	}
}

func TestStepExternalChangeRestartsSettle(t *testing.T) {
	cfg := testConfig()
	cfg.SettledAtStart = true
	r := newRig(t, cfg, want(3))
	r.step(t)
	r.scales.scale.SpecReplicas = 4 // someone ran kubectl scale
	r.clock.Step(time.Second)
	if o := r.step(t); o.Reason != GuardSettling || o.Acted {
		t.Fatalf("after external change: want settling hold, got %+v", o)
	}
}

func TestStepSelectorOverride(t *testing.T) {
	cfg := testConfig()
	cfg.Selector = "app=hsds,tier=data"
	r := newRig(t, cfg, want(3))
	r.step(t)
	if r.pods.selector != "app=hsds,tier=data" {
		t.Errorf("selector = %q", r.pods.selector)
	}
	r2 := newRig(t, testConfig(), want(3))
	r2.scales.scale.Selector = ""
	if _, err := r2.c.Step(context.Background()); err == nil || !strings.Contains(err.Error(), "no status.selector") {
		t.Errorf("want a clear error without a selector, got %v", err)
	}
}

func TestStepRecommenderSeesSanitizedSnapshot(t *testing.T) {
	r := newRig(t, testConfig(), want(3))
	r.pods.pods[1].NodeState = "WAITING"
	r.pods.pods[1].Rejected503 = heuristics.ByCause{Overload: 5, NotReady: 40}
	o := r.step(t)
	got := r.rec.seen[0].Pods[1]
	if got.Rejected503 != (heuristics.ByCause{NotReady: 45}) || got.Ready {
		t.Errorf("recommender saw a not-READY pod's 503s as overload, or as capacity: %+v", got)
	}
	if r.pods.pods[1].Rejected503.Overload != 5 {
		t.Error("sanitizing changed the source's data")
	}
	if o.Ready != 2 {
		t.Errorf("Ready = %d, want 2 (only READY pods are capacity)", o.Ready)
	}
}

func TestStepHPAConflictRefuses(t *testing.T) {
	cfg := testConfig()
	cfg.SettledAtStart = true
	r := newRig(t, cfg, want(8))
	r.hpas.names = []string{"hsds-hpa"}
	var o Outcome
	for range 20 {
		o = r.step(t)
		r.clock.Step(time.Second)
	}
	if o.Reason != GuardHPAConflict || len(r.scales.writes) != 0 || len(r.rec.seen) != 0 {
		t.Fatalf("want refusal with no writes and no recommendation, got %+v writes %v", o, r.scales.writes)
	}
	if diff := cmp.Diff([]string{"Deployment/hsds:HPAConflict"}, r.events.reasons()); diff != "" {
		t.Errorf("events, one per conflict (-want +got):\n%s", diff)
	}
	if r.hpas.calls != 2 {
		t.Errorf("HPA list calls over 20 s = %d, want 2 (every hpaCheckInterval)", r.hpas.calls)
	}
	if got := testutil.ToFloat64(r.c.deps.Metrics.guard.WithLabelValues("default/hsds", GuardHPAConflict)); got != 1 {
		t.Errorf("guard_active{guard=hpa-conflict} = %v, want 1", got)
	}
	r.hpas.names = nil
	r.clock.Step(15 * time.Second)
	if o := r.step(t); !o.Acted {
		t.Errorf("after the HPA is gone: want a write, got %+v", o)
	}
}

func TestStepWaitsForPendingPods(t *testing.T) {
	cfg := testConfig()
	cfg.SettledAtStart = true
	r := newRig(t, cfg, want(6))
	r.scales.scale.SpecReplicas = 5
	r.pods.pods = append(r.pods.pods,
		heuristics.PodSample{Name: "d", Phase: heuristics.PodPending, Created: t0},
		heuristics.PodSample{Name: "e", Phase: heuristics.PodPending, Created: t0})
	var o Outcome
	for range 30 {
		o = r.step(t)
		r.clock.Step(time.Second)
	}
	if o.Reason != GuardPendingPods || len(r.scales.writes) != 0 || o.Unscheduled != 2 {
		t.Fatalf("want pending hold, got %+v writes %v", o, r.scales.writes)
	}
	if diff := cmp.Diff([]string{"Deployment/hsds:WaitingForCapacity"}, r.events.reasons()); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	if msg := r.events.events[0].Message; !strings.Contains(msg, "2 pod(s) waiting") || !strings.Contains(msg, "5 -> 6") {
		t.Errorf("event message lacks the count: %q", msg)
	}
	r.pods.pods[4].Scheduled = true // one pod got a node: count changes, new event
	r.step(t)
	if len(r.events.events) != 2 || !strings.Contains(r.events.events[1].Message, "1 pod(s) waiting") {
		t.Errorf("want a second event with count 1, got %v", r.events.events)
	}
	r.clock.SetTime(t0.Add(5 * time.Minute)) // cluster-autoscaler timeout passed
	if o := r.step(t); !o.Acted || o.Desired != 6 {
		t.Errorf("after pendingTimeout: want scale-up, got %+v", o)
	}
}

func TestStepNeverDownOnStaleData(t *testing.T) {
	cfg := testConfig()
	cfg.SettledAtStart = true
	r := newRig(t, cfg, want(1))
	r.pods.pods[2].Known = false
	if o := r.step(t); o.Acted || o.Reason != GuardStaleData {
		t.Fatalf("want stale-data hold, got %+v", o)
	}
	r.pods.pods[2].Known = true
	r.pods.fresh = false // all samples at t0; now 61 s later, past guards.maxSampleAge (60 s)
	r.clock.Step(61 * time.Second)
	if o := r.step(t); o.Acted || o.Reason != GuardStaleData {
		t.Fatalf("want stale-data hold on old samples, got %+v", o)
	}
	// The recommender saw the same verdict: no pod Fresh.
	for _, p := range r.rec.seen[len(r.rec.seen)-1].Pods {
		if p.Fresh {
			t.Errorf("pod %s Fresh in the snapshot, yet its figures are 61 s old", p.Name)
		}
	}
}

func TestStepDryRunWritesNothing(t *testing.T) {
	cfg := testConfig()
	cfg.DryRun = true
	cfg.Guards.DeleteStuckPods = true
	r := newRig(t, cfg, want(9))
	r.pods.pods[0].NodeState = "WAITING"
	var wouldScale int
	for end := t0.Add(15 * time.Minute); r.clock.Now().Before(end); r.clock.Step(time.Second) {
		o := r.step(t)
		if o.Acted || !o.DryRun {
			t.Fatalf("dry-run outcome acted: %+v", o)
		}
		if o.Desired == 9 {
			wouldScale++
		} else if o.Reason != GuardSettling {
			t.Fatalf("want a would-be change or a settle hold, got %+v", o)
		}
	}
	// After the start-up settle, once per settle time (the spec never changes): at 50 s, 100 s,
	// ... 850 s = 17 times in 15 min.
	if wouldScale != 17 {
		t.Errorf("would-be changes = %d, want 17 (one per settle period)", wouldScale)
	}
	if len(r.scales.writes) != 0 || len(r.deleter.deleted) != 0 || len(r.events.events) != 0 {
		t.Fatalf("dry run wrote: scales %v deletes %v events %v", r.scales.writes, r.deleter.deleted, r.events.events)
	}
	if got := testutil.ToFloat64(r.c.deps.Metrics.dryRun.WithLabelValues("default/hsds", "up")); got != float64(wouldScale) {
		t.Errorf("dry_run_actions_total{direction=up} = %v, want %d", got, wouldScale)
	}
}

func TestStepStuckPods(t *testing.T) {
	cfg := testConfig()
	cfg.Guards.DeleteStuckPods = true
	r := newRig(t, cfg, want(3))
	r.pods.pods[0].NodeState = "WAITING"
	r.pods.pods[1].NodeState = "WAITING"
	o := r.stepFor(t, time.Minute)
	if len(o.Stuck) != 0 {
		t.Fatalf("stuck before the threshold: %v", o.Stuck)
	}
	o = r.step(t)
	if diff := cmp.Diff([]string{"a", "b"}, o.Stuck); diff != "" {
		t.Fatalf("stuck (-want +got):\n%s", diff)
	}
	if o.DeletedPod != "a" || len(r.deleter.deleted) != 1 {
		t.Fatalf("want one deletion of a, got %q %v", o.DeletedPod, r.deleter.deleted)
	}
	wantEvents := []string{"Deployment/hsds:PodStuckNotReady", "Pod/a:PodStuckNotReady", "Deployment/hsds:PodStuckNotReady",
		"Pod/b:PodStuckNotReady", "Deployment/hsds:StuckPodDeleted"}
	if diff := cmp.Diff(wantEvents, r.events.reasons()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if len(r.scales.writes) != 0 {
		t.Fatalf("with deleteStuckPods on, no pod is added: writes %v", r.scales.writes)
	}
	r.clock.Step(time.Second)
	r.stepFor(t, 4*time.Minute) // rate limit: no second deletion yet
	if len(r.deleter.deleted) != 1 {
		t.Fatalf("rate limit broken: %v", r.deleter.deleted)
	}
	r.stepFor(t, time.Minute)
	if diff := cmp.Diff([]string{"default/a", "default/a"}, r.deleter.deleted); diff != "" {
		t.Errorf("deletions (-want +got):\n%s", diff) // the fake pod "a" never recovers
	}
	if got := testutil.ToFloat64(r.c.deps.Metrics.stuck.WithLabelValues("default/hsds")); got != 2 {
		t.Errorf("stuck_pods = %v, want 2", got)
	}
}

// TestStepStuckRelease: the default remedy changes the pod set by one pod after stuckNotReady:
// one fewer above minReplicas (the ReplicaSet removes the not-Ready pod first), one more at it;
// the same stuck pods get another change only after stuckRemedyInterval.
func TestStepStuckRelease(t *testing.T) {
	cfg := testConfig()
	cfg.MinReplicas, cfg.MaxReplicas = 2, 5
	r := newRig(t, cfg, hold())
	r.pods.pods[0].NodeState = "WAITING"
	if o := r.stepFor(t, 59*time.Second); len(o.Stuck) != 0 || len(r.scales.writes) != 0 {
		t.Fatalf("before the threshold: stuck %v, writes %v", o.Stuck, r.scales.writes)
	}
	r.clock.Step(time.Second)
	o := r.step(t)
	if !o.Released || o.Reason != ReasonStuckRelease || o.Desired != 2 {
		t.Fatalf("at 60 s: want one pod fewer (3 -> 2, reason %s), got %+v", ReasonStuckRelease, o)
	}
	if got := testutil.ToFloat64(r.c.deps.Metrics.stuckReleases.WithLabelValues("default/hsds")); got != 1 {
		t.Errorf("stuck_releases_total = %v, want 1", got)
	}
	if !slices.Contains(r.events.reasons(), "Deployment/hsds:"+EventReasonStuckRelease) {
		t.Errorf("no %s event: %v", EventReasonStuckRelease, r.events.reasons())
	}
	// The fake pod "a" is never released: no second change for it within the interval.
	r.clock.Step(time.Second)
	r.stepFor(t, 4*time.Minute)
	if len(r.scales.writes) != 1 {
		t.Fatalf("the same stuck pod got another change within stuckRemedyInterval: writes %v", r.scales.writes)
	}
	// After it, at minReplicas: one pod more.
	r.stepFor(t, time.Minute)
	if diff := cmp.Diff([]write{{3, 2}, {2, 3}}, r.scales.writes); diff != "" {
		t.Fatalf("after the interval (-want +got):\n%s", diff)
	}
}

// TestStepStuckReleaseNeverDownOnStaleData: with a pod's figures stale the remedy adds a pod,
// within maxReplicas; at maxReplicas it does nothing.
func TestStepStuckReleaseNeverDownOnStaleData(t *testing.T) {
	cfg := testConfig()
	cfg.MaxReplicas = 4
	r := newRig(t, cfg, hold())
	r.pods.pods[0].NodeState = "WAITING"
	r.pods.pods[1].Known = false // no usable scrape: stale
	r.stepFor(t, 6*time.Minute)
	if diff := cmp.Diff([]write{{3, 4}}, r.scales.writes); diff != "" {
		t.Fatalf("writes (-want +got):\n%s", diff)
	}
}

// TestStepStuckReleaseForNewOccurrence: a pod stuck after the last change (one a new pod left) is
// not the same occurrence: it gets its change at once, after the settle time.
func TestStepStuckReleaseForNewOccurrence(t *testing.T) {
	cfg := testConfig()
	cfg.MinReplicas = 3
	r := newRig(t, cfg, hold())
	r.pods.pods[0].NodeState = "WAITING"
	r.stepFor(t, 61*time.Second)
	if diff := cmp.Diff([]write{{3, 4}}, r.scales.writes); diff != "" {
		t.Fatalf("writes (-want +got):\n%s", diff)
	}
	r.pods.pods[0].NodeState = "READY" // released by the change
	r.pods.pods[1].NodeState = "WAITING"
	r.clock.Step(time.Second)
	r.stepFor(t, 40*time.Second) // stuck for 40 s: not yet
	if len(r.scales.writes) != 1 {
		t.Fatalf("before the threshold: writes %v", r.scales.writes)
	}
	r.stepFor(t, 21*time.Second)
	if diff := cmp.Diff([]write{{3, 4}, {4, 3}}, r.scales.writes); diff != "" {
		t.Fatalf("a new stuck pod waited for the interval (-want +got):\n%s", diff)
	}
}

// TestStepStuckAfterReady: a pod seen READY that goes WAITING is stuck after stuckAfterReady
// (20 s), not stuckNotReady (60 s), and released then.
func TestStepStuckAfterReady(t *testing.T) {
	cfg := testConfig()
	cfg.MinReplicas, cfg.MaxReplicas = 2, 5
	r := newRig(t, cfg, hold())
	r.stepFor(t, 5*time.Second) // READY
	r.pods.pods[0].NodeState = "WAITING"
	r.clock.Step(time.Second)
	if o := r.stepFor(t, 19*time.Second); len(o.Stuck) != 0 {
		t.Fatalf("19 s after READY: stuck %v", o.Stuck)
	}
	r.clock.Step(time.Second)
	o := r.step(t)
	if diff := cmp.Diff([]string{"a"}, o.Stuck); diff != "" {
		t.Fatalf("20 s after READY (-want +got):\n%s", diff)
	}
	if !strings.Contains(strings.Join(r.events.messages(), "\n"), "for 20s after being READY (threshold 20s)") {
		t.Errorf("the Event does not name the after-READY threshold: %v", r.events.messages())
	}
}

// TestStepStuckReleaseWaitsForStartingPods: while another pod is on its way (scheduled and
// Pending, then Running but not yet READY) the remedy waits: one pod fewer would remove that pod
// (the ReplicaSet deletes Pending and not-Ready pods first, the newest first), not the stuck one,
// and its joining the roster releases the stuck node anyway. Once no pod is starting, it acts.
func TestStepStuckReleaseWaitsForStartingPods(t *testing.T) {
	cfg := testConfig()
	cfg.MinReplicas, cfg.MaxReplicas = 2, 5
	r := newRig(t, cfg, hold())
	r.pods.pods[0].NodeState = "WAITING"
	r.pods.pods = append(r.pods.pods, heuristics.PodSample{Name: "new", Phase: heuristics.PodPending, Scheduled: true, Created: r.clock.Now()})
	if o := r.stepFor(t, 90*time.Second); len(o.Stuck) != 1 || len(r.scales.writes) != 0 {
		t.Fatalf("a Pending pod: want stuck a and no write, got stuck %v, writes %v", o.Stuck, r.scales.writes)
	}
	r.pods.pods[len(r.pods.pods)-1] = with(pod("new"), func(p *heuristics.PodSample) { p.NodeState = "WAITING" })
	r.clock.Step(time.Second)
	if o := r.stepFor(t, 30*time.Second); len(o.Stuck) != 1 || len(r.scales.writes) != 0 {
		t.Fatalf("a starting pod (not READY for 30 s): want no write, got stuck %v, writes %v", o.Stuck, r.scales.writes)
	}
	r.pods.pods = r.pods.pods[:len(r.pods.pods)-1] // it went away; a is still stuck
	r.clock.Step(time.Second)
	o := r.step(t)
	if !o.Released || o.Desired != o.Current-1 {
		t.Fatalf("nothing starting: want one pod fewer, got %+v", o)
	}
}

// TestStepStuckReleaseOff: with releaseStuck off and no deletion, stuck pods are only reported.
func TestStepStuckReleaseOff(t *testing.T) {
	cfg := testConfig()
	cfg.Guards.ReleaseStuck = false
	r := newRig(t, cfg, hold())
	r.pods.pods[0].NodeState = "WAITING"
	o := r.stepFor(t, 5*time.Minute)
	if len(o.Stuck) != 1 || len(r.scales.writes) != 0 || len(r.deleter.deleted) != 0 {
		t.Fatalf("remedy off: stuck %v, writes %v, deletes %v", o.Stuck, r.scales.writes, r.deleter.deleted)
	}
}

func TestStepErrors(t *testing.T) {
	cfg := testConfig()
	cfg.SettledAtStart = true
	r := newRig(t, cfg, want(5))
	r.scales.getErr = errors.New("boom")
	if _, err := r.c.Step(context.Background()); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("want read error, got %v", err)
	}
	r.scales.getErr = nil
	r.scales.setErr = errors.New("forbidden")
	_, err := r.c.Step(context.Background())
	if err == nil || !strings.Contains(err.Error(), "from 3 to 5") {
		t.Fatalf("want write error with numbers, got %v", err)
	}
	if diff := cmp.Diff([]string{"Deployment/hsds:ScaleFailed"}, r.events.reasons()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if got := testutil.ToFloat64(r.c.deps.Metrics.actuationErrors.WithLabelValues("default/hsds", "update-scale")); got != 1 {
		t.Errorf("actuation_errors_total{op=update-scale} = %v, want 1", got)
	}
}

func TestNewControllerValidates(t *testing.T) {
	cfg := ControllerConfig{MinReplicas: 5, MaxReplicas: 2, Guards: DefaultGuards()}
	cfg.Guards.Tick = heuristics.D(0)
	cfg.Guards.DeleteStuckPods = true
	_, err := NewController(cfg, Deps{})
	if err == nil {
		t.Fatal("want an error")
	}
	for _, s := range []string{"target.name: required", "maxReplicas", "guards.tick", "Scales is required", "Pods is required",
		"Recommender is required", "Deleter is required"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q:\n%v", s, err)
		}
	}
}

func TestRunTicksOnClock(t *testing.T) {
	cfg := testConfig()
	cfg.SettledAtStart = true
	r := newRig(t, cfg, want(3))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.c.Run(ctx) }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			cancel()
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("Run after cancel: %v", err)
			}
		}
	})
	for i := range 3 {
		testwait.For(t, "the condition", func() bool { return r.clock.HasWaiters() && r.rec.calls() == i+1 })
		r.clock.Step(time.Second)
	}
	testwait.For(t, "the condition", func() bool { return r.rec.calls() == 4 })
	cancel()
	stopped = true
	if err := <-done; err != nil {
		t.Errorf("Run returned %v", err)
	}
}

// With Deps.Fresh, Run decides as soon as the pod source has new figures, without waiting for the
// tick: the fake clock never moves here.
func TestRunStepsOnFreshFigures(t *testing.T) {
	cfg := testConfig()
	cfg.SettledAtStart = true
	r := newRig(t, cfg, want(3))
	var mu sync.Mutex
	ch := make(chan struct{})
	r.c.deps.Fresh = func() <-chan struct{} { mu.Lock(); defer mu.Unlock(); return ch }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.c.Run(ctx) }()
	for i := range 3 {
		testwait.For(t, "the condition", func() bool { return r.rec.calls() == i+1 })
		mu.Lock()
		close(ch) // a scrape round completed
		ch = make(chan struct{})
		mu.Unlock()
	}
	testwait.For(t, "the condition", func() bool { return r.rec.calls() == 4 })
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run returned %v", err)
	}
}

// Run hands every Step's outcome and error to Deps.OnStep (the HSDSAutoscaler status).
func TestRunReportsEveryStep(t *testing.T) {
	cfg := testConfig()
	cfg.SettledAtStart = true
	r := newRig(t, cfg, want(5))
	r.scales.setErr = errors.New("forbidden")
	var mu sync.Mutex
	var got []string
	r.c.deps.OnStep = func(o Outcome, err error) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, fmt.Sprintf("%d->%d %s err=%v", o.Current, o.Desired, o.Reason, err != nil))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.c.Run(ctx) }()
	testwait.For(t, "the first report", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 1 })
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run returned %v", err)
	}
	if diff := cmp.Diff([]string{"3->5 fake err=true"}, got); diff != "" {
		t.Errorf("reports (-want +got):\n%s", diff)
	}
}

func BenchmarkStep(b *testing.B) {
	cfg := testConfig()
	cfg.SettledAtStart = true
	clk := clocktesting.NewFakeClock(t0)
	pods := &fakePods{fresh: true}
	for range 50 {
		pods.pods = append(pods.pods, pod("p"))
	}
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	c, err := NewController(cfg, Deps{Scales: &fakeScales{scale: Scale{SpecReplicas: 50, Selector: "app=hsds"}}, Pods: pods,
		Recommender: want(50), Metrics: m, Clock: clk})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := c.Step(context.Background()); err != nil {
			b.Fatal(err)
		}
		clk.Step(time.Second)
	}
}
