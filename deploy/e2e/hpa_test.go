//go:build e2e

package e2e

import (
	"context"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// overloadRate is the total request rate of the load step: about twice what two pods serve.
const overloadRate = 200.0

// createHPA creates an autoscaling/v2 HPA on deployment hsds: Pods metric hsds_503_rate,
// averageValue 1 (one 503 per second per pod).
func createHPA(ctx context.Context, t *testing.T, ns string, minR, maxR int32) {
	t.Helper()
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "hsds"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "hsds"},
			MinReplicas:    &minR,
			MaxReplicas:    maxR,
			Metrics: []autoscalingv2.MetricSpec{{
				Type: autoscalingv2.PodsMetricSourceType,
				Pods: &autoscalingv2.PodsMetricSource{
					Metric: autoscalingv2.MetricIdentifier{Name: "hsds_503_rate"},
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: resource.NewQuantity(1, resource.DecimalSI)},
				},
			}},
		},
	}
	if _, err := cluster.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).Create(ctx, hpa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// hpaReads waits until the HPA has read the metric successfully (ScalingActive True).
func hpaReads(ctx context.Context, t *testing.T, ns string, timeout time.Duration) {
	t.Helper()
	eventually(ctx, t, timeout, "the HPA reading hsds_503_rate (ScalingActive=True)", func(ctx context.Context) (bool, error) {
		h, err := cluster.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, "hsds", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, c := range h.Status.Conditions {
			if c.Type == autoscalingv2.ScalingActive && c.Status == "True" {
				return true, nil
			}
		}
		return false, nil
	})
}

// hpaReaction runs the HPA path on a 2-pod workload of ns: serve in dry-run (its scaler refuses
// the target anyway, it has an HPA) serves the metric, a real HPA reads it; a load step makes
// the pods shed. It returns the time from the first shed 503 to the replica change, and the change.
func hpaReaction(ctx context.Context, t *testing.T, ns string) (time.Duration, change) {
	t.Helper()
	w := newWorkload(ctx, t, ns, 2, nil)
	s := startServe(t, "serve", serveArgs(ns, policyFile(t, ns, nil, nil), "--dry-run")...)
	registerAdapter(ctx, t, ns, s)
	createHPA(ctx, t, ns, 2, 8)
	l := w.startLoad(t, 2*lightRate)
	hpaReads(ctx, t, ns, 2*hpaSyncPeriod+30*time.Second)
	rec := w.record(t)
	armed := rec.arm()
	l.set(overloadRate)
	c := rec.waitChange(ctx, t, armed, 3*hpaSyncPeriod+30*time.Second, "the HPA to change the replicas")
	_, shed := rec.snapshot()
	if shed.IsZero() || c.to <= c.from {
		t.Fatalf("HPA change %d -> %d, first shed at %v: want a scale-up after shedding", c.from, c.to, shed)
	}
	return c.at.Sub(shed), c
}

// TestScenario3RealHPAScalesOnOurMetric: a real HPA (autoscaling/v2, Pods metric hsds_503_rate,
// averageValue 1) in the real kube-controller-manager reads our adapter through the aggregator
// and scales the hsds Deployment up when the fake pods shed load.
func TestScenario3RealHPAScalesOnOurMetric(t *testing.T) {
	ctx := testContext(t, 4*time.Minute)
	took, c := hpaReaction(ctx, t, "e2e-s3")
	t.Logf("real HPA (sync period %s) scaled %d -> %d, %s after the pods started shedding", hpaSyncPeriod, c.from, c.to, took.Round(time.Millisecond))
	msgs := waitEvent(ctx, t, "e2e-s3", "ScalingReplicaSet", 10*time.Second)
	if len(msgs) == 0 {
		t.Error("no ScalingReplicaSet Event after the HPA's change")
	}
}

// ourReaction runs our scaler on a 2-pod workload of ns and returns the time from the first shed
// 503 to its replica change, and the change.
func ourReaction(ctx context.Context, t *testing.T, ns string) (time.Duration, change) {
	t.Helper()
	w := newWorkload(ctx, t, ns, 2, nil)
	l := w.startLoad(t, 2*lightRate)
	startServe(t, "serve", serveArgs(ns, policyFile(t, ns, noScaleDown, nil))...)
	rec := w.record(t)
	time.Sleep(5 * time.Second) // past the start-up settle (3 s); the windows see the light load
	armed := rec.arm()
	l.set(overloadRate)
	c := rec.waitChange(ctx, t, armed, 30*time.Second, "our scaler to change the replicas")
	_, shed := rec.snapshot()
	if shed.IsZero() || c.to <= c.from {
		t.Fatalf("our change %d -> %d, first shed at %v: want a scale-up after shedding", c.from, c.to, shed)
	}
	return c.at.Sub(shed), c
}

// TestReactionTimeOurScalerVsHPA measures, in one run, the time from the moment the fake pods
// start shedding to the replica change: our scaler (agents polled and adapter scraping every
// 1 s, tick 1 s) and a real HPA reading our adapter at the default 15 s sync period.
func TestReactionTimeOurScalerVsHPA(t *testing.T) {
	ctx := testContext(t, 5*time.Minute)
	ours, oc := ourReaction(ctx, t, "e2e-react-ours")
	hpa, hc := hpaReaction(ctx, t, "e2e-react-hpa")
	t.Logf("reaction time: our scaler %s (%d -> %d); HPA at %s sync %s (%d -> %d); ratio %.1fx",
		ours.Round(time.Millisecond), oc.from, oc.to, hpaSyncPeriod, hpa.Round(time.Millisecond), hc.from, hc.to,
		hpa.Seconds()/ours.Seconds())
	if ours > 3*time.Second {
		t.Logf("GOAL MISSED: ours %s > 3 s by %s", ours.Round(time.Millisecond), (ours - 3*time.Second).Round(time.Millisecond))
	}
	if hpa < 10*ours {
		t.Logf("GOAL MISSED: HPA/ours = %.1fx < 10x", hpa.Seconds()/ours.Seconds())
	}
	// Hard bounds, with room for a loaded 2-core machine: one HPA sync is the floor of the HPA path.
	if ours > 6*time.Second || ours >= hpa {
		t.Errorf("our reaction %s: want <= 6 s and faster than the HPA's %s", ours, hpa)
	}
}
