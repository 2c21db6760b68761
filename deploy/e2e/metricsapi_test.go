//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	cmv1beta2 "k8s.io/metrics/pkg/apis/custom_metrics/v1beta2"

	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/internal/fakekubelet"
)

var apiServiceGVR = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}

var customMetricsVersions = []string{"v1beta1", "v1beta2"}

// registerAdapter points custom.metrics.k8s.io (v1beta1 and v1beta2) at a serve process on the
// host through an ExternalName Service (docs/e2e.md), waits until both APIServices are Available,
// and removes them at the end of the test (they are cluster-wide: a stale one breaks discovery).
func registerAdapter(ctx context.Context, t *testing.T, ns string, s *serveProc) {
	t.Helper()
	var manifest string
	manifest += fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: hsds-autoscaler, namespace: %s}
spec: {type: ExternalName, externalName: localhost, ports: [{port: %d}]}
`, ns, s.securePort)
	for _, v := range customMetricsVersions {
		manifest += fmt.Sprintf(`---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: %s.custom.metrics.k8s.io}
spec: {service: {name: hsds-autoscaler, namespace: %s, port: %d}, group: custom.metrics.k8s.io, version: %s,
  insecureSkipTLSVerify: true, groupPriorityMinimum: 100, versionPriority: 200}
`, v, ns, s.securePort, v)
	}
	removeAPIServicesAtCleanup(t)
	if _, _, err := cluster.KubectlInput(ctx, []byte(manifest), "apply", "-f", "-"); err != nil {
		t.Fatal(err)
	}
	waitAPIServicesAvailable(ctx, t)
}

// removeAPIServicesAtCleanup deletes both custom-metrics APIServices at the end of the test:
// they are cluster-wide, and a stale one breaks discovery for every later test.
func removeAPIServicesAtCleanup(t *testing.T) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, v := range customMetricsVersions {
			if _, err := cluster.Kubectl(ctx, "delete", "apiservice", v+".custom.metrics.k8s.io", "--ignore-not-found", "--wait=false"); err != nil {
				t.Errorf("removing APIService %s: %v", v, err)
			}
		}
	})
}

// waitAPIServicesAvailable waits until both custom-metrics APIServices are Available: the
// aggregator reached the adapter (and trusted its certificate, unless they skip verification).
func waitAPIServicesAvailable(ctx context.Context, t *testing.T) {
	t.Helper()
	dyn, err := dynamic.NewForConfig(cluster.RESTConfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range customMetricsVersions {
		name := v + ".custom.metrics.k8s.io"
		eventually(ctx, t, 60*time.Second, "APIService "+name+" Available", func(ctx context.Context) (bool, error) {
			u, err := dyn.Resource(apiServiceGVR).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, nil
			}
			return conditionTrue(u, "Available"), nil
		})
	}
}

func conditionTrue(u *unstructured.Unstructured, typ string) bool {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if ok && m["type"] == typ && m["status"] == "True" {
			return true
		}
	}
	return false
}

// podMetric reads metric for the app=hsds pods of ns through the aggregator with kubectl get --raw.
func podMetric(ctx context.Context, ns, version, metric string) (map[string]float64, error) {
	path := fmt.Sprintf("/apis/custom.metrics.k8s.io/%s/namespaces/%s/pods/*/%s?labelSelector=app%%3Dhsds", version, ns, metric)
	out, err := cluster.Kubectl(ctx, "get", "--raw", path)
	if err != nil {
		return nil, err
	}
	var list cmv1beta2.MetricValueList // v1beta1 has the same describedObject and value fields
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", path, err)
	}
	got := map[string]float64{}
	for _, it := range list.Items {
		got[it.DescribedObject.Name] = it.Value.AsApproximateFloat64()
	}
	return got, nil
}

// agent503 is a pod agent's own cumulative count of client-facing 503s (all causes).
func agent503(ctx context.Context, t *testing.T, p *fakekubelet.Pod) float64 {
	t.Helper()
	s := &serveProc{metricsURL: p.AgentURL + "/metrics"}
	v, _, err := s.metric(ctx, "hsds_agent_responses_total", map[string]string{"code": "503"})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestScenario2APIServiceServesPerPodFigures: both custom-metrics APIServices registered
// against a running serve turn Available, and kubectl get --raw returns per-pod hsds_503_rate
// values that match the agents' own counts: one pod shed a burst, the other none.
func TestScenario2APIServiceServesPerPodFigures(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	const ns = "e2e-s2"
	w := newWorkload(ctx, t, ns, 2, nil)
	const window = 10 * time.Second
	s := startServe(t, "serve", serveArgs(ns, policyFile(t, ns, nil, nil), "--dry-run",
		"--rate-window="+window.String(), "--short-rate-window=5s")...)
	registerAdapter(ctx, t, ns, s)

	time.Sleep(window + 2*time.Second) // the pods are scraped for a whole window
	pods := w.kubelet.Pods()
	hot, cold := pods[0], pods[1]
	l := w.startLoad(t, 0)
	l.pin([]string{hot.ClientURL()})
	l.set(200) // far above one pod's ~45 requests/s
	time.Sleep(3 * time.Second)
	l.set(0)
	time.Sleep(3 * time.Second) // retries (served now) end, the last scrapes land

	for _, v := range customMetricsVersions {
		got, err := podMetric(ctx, ns, v, "hsds_503_rate")
		if err != nil {
			t.Fatal(err)
		}
		hot503, cold503 := agent503(ctx, t, hot), agent503(ctx, t, cold)
		if hot503 < 10 || hot.Truth().Rejected["overload"] == 0 {
			t.Fatalf("the hot pod shed too little to compare: agent 503s %g, truth %v", hot503, hot.Truth().Rejected)
		}
		want := hot503 / window.Seconds()
		if g := got[hot.Name]; math.Abs(g-want) > 0.2*want {
			t.Errorf("%s hsds_503_rate{pod=%s} = %g, want %g +-20%% (agent count %g over the %s window)", v, hot.Name, g, want, hot503, window)
		}
		if g, ok := got[cold.Name]; !ok || g != 0 || cold503 != 0 {
			t.Errorf("%s hsds_503_rate{pod=%s} = %g (present %v), agent count %g; want 0", v, cold.Name, g, ok, cold503)
		}
		t.Logf("%s: hsds_503_rate %v; agents: %s %g, %s %g 503s", v, got, hot.Name, hot503, cold.Name, cold503)
	}
}

// TestDeploymentOfferedLoadAfterScaleUp reads a Deployment's hsds_offered_load through the real
// aggregator right after a scale-up under a constant load: the new pods' first rates span a
// second or two while the old pods' 10 s windows still hold the share the new ones took over, so
// the pods' own figures sum well above the load; the Deployment figure weights each new pod by
// its span (heuristics.WindowShare, docs/custom-metrics.md) and stays at the load.
func TestDeploymentOfferedLoadAfterScaleUp(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	const ns = "e2e-deploy-rate"
	const rate = 20.0 // requests/s in all, far below two pods' capacity: no 503s, no retries
	w := newWorkload(ctx, t, ns, 2, nil)
	const window = 10 * time.Second
	s := startServe(t, "serve", serveArgs(ns, policyFile(t, ns, nil, nil), "--dry-run",
		"--rate-window="+window.String(), "--short-rate-window=5s")...)
	registerAdapter(ctx, t, ns, s)
	w.startLoad(t, rate)
	time.Sleep(window + 3*time.Second) // both pods scraped for a whole window at the load

	if got, err := deploymentMetric(ctx, ns, "hsds_offered_load"); err != nil || math.Abs(got-rate) > 0.25*rate {
		t.Fatalf("before the scale-up: Deployment hsds_offered_load %g (err %v), want %g +-25%%", got, err, rate)
	}
	if _, err := cluster.Kubectl(ctx, "scale", "-n", ns, "deployment/hsds", "--replicas=4"); err != nil {
		t.Fatal(err)
	}
	w.waitRunning(ctx, t, 4)
	var pods map[string]float64
	var dep, naive float64
	eventually(ctx, t, 8*time.Second, "figures of all 4 pods", func(ctx context.Context) (bool, error) {
		var err error
		if pods, err = podMetric(ctx, ns, "v1beta2", "hsds_offered_load"); err != nil || len(pods) < 4 {
			return false, nil
		}
		dep, err = deploymentMetric(ctx, ns, "hsds_offered_load")
		return err == nil, nil
	})
	for _, v := range pods {
		naive += v
	}
	t.Logf("offered load %g req/s; after the scale-up the pods read %v (sum %.1f), the Deployment %.1f", rate, pods, naive, dep)
	if math.Abs(dep-rate) > 0.25*rate {
		t.Errorf("Deployment hsds_offered_load %.1f req/s right after the scale-up, want %g +-25%%", dep, rate)
	}
	if naive-dep < 0.1*rate {
		t.Errorf("the pods' figures sum to %.1f against the Deployment's %.1f: no double count to remove, the test shows nothing", naive, dep)
	}
}

// deploymentMetric reads the hsds Deployment's metric through the aggregator (v1beta2).
func deploymentMetric(ctx context.Context, ns, metric string) (float64, error) {
	path := fmt.Sprintf("/apis/custom.metrics.k8s.io/v1beta2/namespaces/%s/deployments.apps/hsds/%s", ns, metric)
	out, err := cluster.Kubectl(ctx, "get", "--raw", path)
	if err != nil {
		return 0, err
	}
	var list cmv1beta2.MetricValueList
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		return 0, fmt.Errorf("decoding %s: %w", path, err)
	}
	if len(list.Items) != 1 {
		return 0, fmt.Errorf("%s: %d items, want 1", path, len(list.Items))
	}
	return list.Items[0].Value.AsApproximateFloat64(), nil
}
