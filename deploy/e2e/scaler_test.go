//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/internal/fakekubelet"
)

// Settings of the test policy (policyFile) the assertions depend on.
const (
	settle        = 3 * time.Second // guards.settle
	stabilization = 8 * time.Second // policy.stabilizationWindow
	dwellDown     = 3 * time.Second // policy.dwellDown
)

// assertSpacing checks that consecutive replica changes are at least settle apart.
func assertSpacing(t *testing.T, changes []change) {
	t.Helper()
	for i := 1; i < len(changes); i++ {
		// 25 ms polling on both ends, and the first write after a change may come exactly at settle
		if gap := changes[i].at.Sub(changes[i-1].at); gap < settle-200*time.Millisecond {
			t.Errorf("changes %d->%d and %d->%d only %s apart, want >= settle %s",
				changes[i-1].from, changes[i-1].to, changes[i].from, changes[i].to, gap, settle)
		}
	}
}

// metricAtLeast waits until the serve process's metric (series matching labels) reaches min.
func metricAtLeast(ctx context.Context, t *testing.T, s *serveProc, name string, labels map[string]string, min float64, timeout time.Duration) {
	t.Helper()
	eventually(ctx, t, timeout, name+" >= threshold on "+s.name, func(ctx context.Context) (bool, error) {
		v, ok, err := s.metric(ctx, name, labels)
		return err == nil && ok && v >= min, nil
	})
}

// TestScenario4ScalerUpSettleWaitDown: our scaler scales up under overload; the new pods do not
// fit (one pod slot) and it waits with an Event WaitingForCapacity instead of piling on more;
// once the slots exist it holds each rescale for the settle time; after the load drops it scales
// down only after its stabilization window.
func TestScenario4ScalerUpSettleWaitDown(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	const ns = "e2e-s4"
	w := newWorkload(ctx, t, ns, 1, func(c *fakekubelet.Config) { c.Slots = 1 })
	logRescalesOnFailure(t, ns)
	l := w.startLoad(t, lightRate)
	s := startServe(t, "serve", serveArgs(ns, policyFile(t, ns, nil, nil))...)
	rec := w.record(t)
	up := overloadOnePod(ctx, t, rec, l)
	msgs := waitEvent(ctx, t, ns, "WaitingForCapacity", 30*time.Second)
	t.Logf("scaled %d -> %d; %d pods unschedulable; WaitingForCapacity: %q", up.from, up.to, len(w.kubelet.Unschedulable()), msgs)
	metricAtLeast(ctx, t, s, "hsds_scaler_guard_active", map[string]string{"guard": "pending-pods"}, 1, 10*time.Second)
	held := time.Now()
	time.Sleep(4 * time.Second)
	if changes, _ := rec.snapshot(); changes[len(changes)-1].at.After(held) || changes[len(changes)-1].to != up.to {
		t.Errorf("replicas changed while pods were unschedulable: %+v", changes)
	}

	w.kubelet.AddSlots(20) // the cluster autoscaler delivers
	w.waitAtLeast(ctx, t, int(up.to))
	time.Sleep(2 * settle) // a further scale-up, if any, lands

	l.set(lightRate)
	calm := time.Now()
	// Retries of requests shed earlier may still push it up a step first; wait for the way down.
	down := rec.waitChangeWhere(ctx, t, calm, 90*time.Second, "a scale-down after the load dropped",
		func(c change) bool { return c.to < c.from })
	if took := down.at.Sub(calm); took < stabilization {
		t.Errorf("scaled down %s after the load dropped, before the stabilization window %s", took, stabilization)
	}
	changes, _ := rec.snapshot()
	assertSpacing(t, changes)
	metricAtLeast(ctx, t, s, "hsds_scaler_decisions_total", map[string]string{"reason": "settling"}, 1, time.Second)
	rescales, err := events(ctx, ns, "Rescaled")
	if err != nil {
		t.Fatal(err)
	}
	rescaleChain(t, rescales, 1)
	t.Logf("changes: %+v", changes)
}

// TestScenario4WithdrawsUnscheduledPods: a scale-up whose new pods do not fit (one pod slot),
// and a load that is gone before the cluster autoscaler delivers: the scaler gives the
// unscheduled pods back (reason withdraw-unscheduled, docs/policy.md rule 4a) long before its
// stabilization window and dwellDown (5 minutes each here) would let it scale down, and the real
// ReplicaSet controller removes those pods, not the one that runs: the HSDS pod set never changes.
func TestScenario4WithdrawsUnscheduledPods(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	const ns = "e2e-s4w"
	w := newWorkload(ctx, t, ns, 1, func(c *fakekubelet.Config) { c.Slots = 1 })
	logRescalesOnFailure(t, ns)
	pods := w.kubelet.Pods()
	if len(pods) != 1 {
		t.Fatalf("%d running pods, want 1", len(pods))
	}
	first := pods[0].Name
	l := w.startLoad(t, lightRate)
	policy := policyFile(t, ns, map[string]any{"stabilizationWindow": "5m", "dwellDown": "5m"}, nil)
	startServe(t, "serve", serveArgs(ns, policy)...)
	rec := w.record(t)
	up := overloadOnePod(ctx, t, rec, l)
	waitEvent(ctx, t, ns, "WaitingForCapacity", 30*time.Second)
	l.set(lightRate)
	calm := time.Now()
	eventually(ctx, t, 60*time.Second, "spec.replicas back to 1", func(ctx context.Context) (bool, error) {
		n, err := w.replicas(ctx)
		return err == nil && n == 1, nil
	})
	took := time.Since(calm)
	changes, _ := rec.snapshot()
	t.Logf("scaled %d -> %d, back to 1 %s after the load dropped; changes: %+v", up.from, up.to, took.Round(time.Millisecond), changes)

	rescales, err := events(ctx, ns, "Rescaled")
	if err != nil {
		t.Fatal(err)
	}
	downs := 0
	for _, m := range rescales {
		if strings.Contains(m, "withdraw-unscheduled") {
			downs++
			t.Logf("withdrawal: %s", m)
		} else if !strings.Contains(m, "to "+fmt.Sprint(up.to)) {
			t.Errorf("a change other than the scale-up and the withdrawal: %q", m)
		}
	}
	if downs == 0 {
		t.Errorf("no Rescaled Event with reason withdraw-unscheduled: %q", rescales)
	}
	// The ReplicaSet removed the unscheduled pods: the one pod left is the one that ran all along,
	// and the fake node never stopped it.
	eventually(ctx, t, 30*time.Second, "one pod left, the first", func(ctx context.Context) (bool, error) {
		list, err := cluster.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=hsds"})
		if err != nil {
			return false, err
		}
		return len(list.Items) == 1 && list.Items[0].Name == first, nil
	})
	if p := w.kubelet.Pod(first); p == nil {
		t.Errorf("pod %s no longer runs on the fake node", first)
	}
	if n := len(w.kubelet.Pods()); n != 1 {
		t.Errorf("%d pods run on the fake node, want 1", n)
	}
}

// overloadOnePod lets a freshly started serve settle, then puts ~3.5 pods' worth of load on the
// one pod and returns the scale-up it answers with.
func overloadOnePod(ctx context.Context, t *testing.T, rec *recorder, l *load) change {
	t.Helper()
	time.Sleep(settle + time.Second)
	armed := rec.arm()
	l.set(150)
	up := rec.waitChange(ctx, t, armed, 30*time.Second, "a scale-up")
	if up.to <= up.from {
		t.Fatalf("first change %d -> %d, want up", up.from, up.to)
	}
	return up
}

// logRescalesOnFailure prints the Rescaled Events (they carry the recommender's figures) when the
// test fails.
func logRescalesOnFailure(t *testing.T, ns string) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		msgs, err := events(context.Background(), ns, "Rescaled")
		t.Logf("Rescaled Events (err %v):\n%s", err, strings.Join(msgs, "\n"))
	})
}

// leaderArgs are the flags of one leader-elected serve instance with short lease timings.
func leaderArgs(ns, policy, identity string) []string {
	return []string{"--hsds-namespaces=" + ns, "--policy=" + policy, "--leader-elect=true", "--rate-window=10s", "--short-rate-window=5s",
		"--leader-elect-namespace=" + ns, "--leader-elect-identity=" + identity,
		"--leader-elect-lease-duration=5s", "--leader-elect-renew-deadline=3s", "--leader-elect-retry-period=1s"}
}

// leaseHolder reads the holder of the scaler's Lease in ns.
func leaseHolder(ctx context.Context, ns string) string {
	l, err := cluster.Client.CoordinationV1().Leases(ns).Get(ctx, "hsds-autoscaler", metav1.GetOptions{})
	if err != nil || l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

func waitLeader(ctx context.Context, t *testing.T, ns, identity string, timeout time.Duration) {
	t.Helper()
	eventually(ctx, t, timeout, "Lease held by "+identity, func(ctx context.Context) (bool, error) {
		return leaseHolder(ctx, ns) == identity, nil
	})
}

// TestScenario5LeaderElectionFailover: of two serve instances only the Lease holder decides and
// writes; SIGKILL of the leader hands the Lease to the other within 15 s, and it carries on
// without a duplicate or conflicting write.
func TestScenario5LeaderElectionFailover(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	const ns = "e2e-s5"
	w := newWorkload(ctx, t, ns, 1, nil)
	l := w.startLoad(t, lightRate)
	pol := policyFile(t, ns, map[string]any{"maxReplicas": 10}, nil)
	a := startServe(t, "serve-a", leaderArgs(ns, pol, "serve-a")...)
	waitLeader(ctx, t, ns, "serve-a", 30*time.Second)
	b := startServe(t, "serve-b", leaderArgs(ns, pol, "serve-b")...)
	rec := w.record(t)
	time.Sleep(settle + time.Second)

	armed := rec.arm()
	l.set(150)
	first := rec.waitChange(ctx, t, armed, 30*time.Second, "the leader's scale-up")
	if v, _, _ := a.metric(ctx, "hsds_scaler_leader", nil); v != 1 {
		t.Errorf("serve-a hsds_scaler_leader = %g, want 1", v)
	}
	if v, _, _ := b.metric(ctx, "hsds_scaler_leader", nil); v != 0 {
		t.Errorf("serve-b hsds_scaler_leader = %g, want 0", v)
	}
	if v, ok, _ := b.metric(ctx, "hsds_scaler_decisions_total", nil); ok && v > 0 {
		t.Errorf("follower serve-b made %g decisions, want none", v)
	}
	if v, _, _ := a.metric(ctx, "hsds_scaler_decisions_total", map[string]string{"direction": "up"}); v < 1 {
		t.Errorf("leader serve-a counted %g scale-up decisions, want >= 1", v)
	}
	w.waitAtLeast(ctx, t, int(first.to))

	a.kill()
	killed := time.Now()
	waitLeader(ctx, t, ns, "serve-b", 20*time.Second)
	took := time.Since(killed)
	t.Logf("serve-b took the Lease %s after serve-a was killed", took.Round(time.Millisecond))
	if took > 15*time.Second {
		t.Errorf("takeover took %s, want <= 15 s", took)
	}
	metricAtLeast(ctx, t, b, "hsds_scaler_leader", nil, 1, 5*time.Second)

	l.set(float64(first.to) * 80) // twice what the scaled cluster serves
	second := rec.waitChange(ctx, t, first.at, 40*time.Second, "the new leader's scale-up")
	if second.from != first.to || second.to <= second.from {
		t.Errorf("new leader's change %d -> %d, want up from %d", second.from, second.to, first.to)
	}
	metricAtLeast(ctx, t, b, "hsds_scaler_decisions_total", map[string]string{"direction": "up"}, 1, 5*time.Second)
	rescales, err := events(ctx, ns, "Rescaled")
	if err != nil {
		t.Fatal(err)
	}
	rescaleChain(t, rescales, 1)
	if len(rescales) < 2 {
		t.Errorf("Rescaled Events %q: want one per leader", rescales)
	}
}

// noScaleDown overrides the e2e policy's 8 s stabilization window with one longer than any test,
// for tests that wait for a scale-up from a lightly loaded workload above minReplicas.
var noScaleDown = map[string]any{"stabilizationWindow": "1h"}

// TestScenario6APIServerRestart: kube-apiserver restarts under a running serve; the process
// stays up, recovers by itself and still scales afterwards.
func TestScenario6APIServerRestart(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	const ns = "e2e-s6"
	w := newWorkload(ctx, t, ns, 2, nil)
	l := w.startLoad(t, 2*lightRate)
	// The light load is below the scale-down threshold: with the short e2e window a slow restart
	// would let a legitimate scale-down come first. This test is about the scale-up after it.
	s := startServe(t, "serve", serveArgs(ns, policyFile(t, ns, noScaleDown, nil))...)
	time.Sleep(settle)
	before, _, err := s.metric(ctx, "hsds_scaler_decisions_total", nil)
	if err != nil || before < 1 {
		t.Fatalf("decisions before the restart = %g, %v; want >= 1", before, err)
	}
	start := time.Now()
	if err := cluster.RestartAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("kube-apiserver restarted in %s", time.Since(start).Round(time.Millisecond))
	if s.exited() {
		t.Fatalf("serve exited during the restart: %v", s.waitErr)
	}
	errs, _, _ := s.metric(ctx, "hsds_scaler_actuation_errors_total", nil)
	t.Logf("actuation errors during the restart: %g", errs)

	rec := w.record(t)
	armed := rec.arm()
	l.set(overloadRate)
	c := rec.waitChange(ctx, t, armed, 45*time.Second, "a scale-up after the restart")
	if c.to <= c.from {
		t.Errorf("change after the restart %d -> %d, want up", c.from, c.to)
	}
	if s.exited() {
		t.Errorf("serve exited: %v", s.waitErr)
	}
}

// TestScenario7AgentsSilentNoScaleDown: while agents do not answer (their scrapes hang), no
// scale-down happens, neither with every agent silent nor with one; once all answer, the idle
// workload is scaled down.
func TestScenario7AgentsSilentNoScaleDown(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	const ns = "e2e-s7"
	w := newWorkload(ctx, t, ns, 3, nil)
	w.startLoad(t, 3*lightRate)
	pods := w.kubelet.Pods()
	for _, p := range pods {
		p.SetAgentHang(true)
	}
	s := startServe(t, "serve", serveArgs(ns, policyFile(t, ns, nil, nil))...)
	rec := w.record(t)
	quiet := stabilization + dwellDown + settle + 2*time.Second

	time.Sleep(quiet)
	if changes, _ := rec.snapshot(); len(changes) > 0 {
		t.Fatalf("replicas changed while every agent hung: %+v", changes)
	}
	for _, p := range pods[1:] {
		p.SetAgentHang(false)
	}
	time.Sleep(quiet)
	if changes, _ := rec.snapshot(); len(changes) > 0 {
		t.Fatalf("replicas changed while agent of %s hung: %+v", pods[0].Name, changes)
	}
	reasons := decisionReasons(ctx, t, s)
	if reasons["hold-stale"]+reasons["stale-data"] == 0 {
		t.Errorf("decisions by reason %v: want hold-stale or stale-data while an agent hung", reasons)
	}

	pods[0].SetAgentHang(false)
	down := rec.waitChange(ctx, t, time.Now(), 45*time.Second, "a scale-down once every agent answers")
	if down.to >= down.from {
		t.Errorf("change %d -> %d, want down", down.from, down.to)
	}
	t.Logf("decisions by reason: %v", reasons)
}

// decisionReasons returns hsds_scaler_decisions_total summed by reason.
func decisionReasons(ctx context.Context, t *testing.T, s *serveProc) map[string]float64 {
	t.Helper()
	fams, err := s.metrics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	if mf := fams["hsds_scaler_decisions_total"]; mf != nil {
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "reason" {
					out[lp.GetValue()] += m.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}

// TestScenario8HPAConflictRefused: with an HPA on the same Deployment our scaler refuses the
// target: Event HPAConflict naming the HPA, the hpa-conflict guard metric, an error log, and no
// write even under overload.
func TestScenario8HPAConflictRefused(t *testing.T) {
	ctx := testContext(t, 2*time.Minute)
	const ns = "e2e-s8"
	w := newWorkload(ctx, t, ns, 2, nil)
	createHPA(ctx, t, ns, 2, 8) // no custom-metrics API registered: the HPA itself cannot act
	l := w.startLoad(t, overloadRate)
	s := startServe(t, "serve", serveArgs(ns, policyFile(t, ns, nil, nil))...)
	rec := w.record(t)

	msgs := waitEvent(ctx, t, ns, "HPAConflict", 30*time.Second)
	if !strings.Contains(strings.Join(msgs, " "), "hsds") {
		t.Errorf("HPAConflict Events %q do not name the HPA hsds", msgs)
	}
	metricAtLeast(ctx, t, s, "hsds_scaler_guard_active", map[string]string{"guard": "hpa-conflict"}, 1, 10*time.Second)
	time.Sleep(settle + 3*time.Second) // overloaded all along: our scaler would have scaled by now
	if changes, _ := rec.snapshot(); len(changes) > 0 {
		t.Errorf("replicas changed despite the HPA: %+v", changes)
	}
	if rescales, _ := events(ctx, ns, "Rescaled"); len(rescales) > 0 {
		t.Errorf("Rescaled Events despite the HPA: %q", rescales)
	}
	if w.overloadRejected() == 0 {
		t.Error("the pods never shed: the test proves nothing")
	}
	if !s.logContains("HPA") {
		t.Error("serve's log never mentions the HPA")
	}
	l.set(0)
}
