//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/hsds-autoscaler/hsds-autoscaler/api/v1alpha1"
)

// installCRD applies the generated HSDSAutoscaler CRD (deploy/base/crd) as kubectl apply -k
// deploy/base does (client side: it also adopts a CRD helm install created, which carries no
// last-applied annotation) and waits until it is served. It stays installed: later tests may use
// it too.
func installCRD(ctx context.Context, t *testing.T) {
	t.Helper()
	path := filepath.Join(repoRoot(t), "deploy/base/crd/hsds-autoscaler.io_hsdsautoscalers.yaml")
	if _, err := cluster.Kubectl(ctx, "apply", "-f", path); err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.Kubectl(ctx, "wait", "--for=condition=Established", "--timeout=30s", "crd/hsdsautoscalers.hsds-autoscaler.io"); err != nil {
		t.Fatal(err)
	}
}

// autoscalerYAML is an HSDSAutoscaler manifest for ns/name targeting the Deployment hsds, with
// the scenarios' short windows and guards; spec overrides or adds top-level spec fields.
func autoscalerYAML(t *testing.T, ns, name string, spec map[string]any) []byte {
	t.Helper()
	s := map[string]any{
		"scaleTarget": map[string]any{"name": "hsds"},
		"policy": map[string]any{"shortWindow": "10s", "overloadSustain": "1s", "podStartupTime": "2s",
			"dwellUp": "0s", "dwellDown": "3s"},
		"guards": map[string]any{"tick": "1s", "settle": "3s", "hpaCheckInterval": "2s", "maxSampleAge": "5s"},
	}
	for k, v := range spec {
		s[k] = v
	}
	b, err := yaml.Marshal(map[string]any{"apiVersion": "hsds-autoscaler.io/v1alpha1", "kind": "HSDSAutoscaler",
		"metadata": map[string]any{"namespace": ns, "name": name}, "spec": s})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// applyAutoscaler applies a manifest with kubectl (strict field validation, its default).
func applyAutoscaler(ctx context.Context, manifest []byte) error {
	_, _, err := cluster.KubectlInput(ctx, manifest, "apply", "-f", "-")
	return err
}

// getAutoscaler reads ns/name as the typed object.
func getAutoscaler(ctx context.Context, dc dynamic.Interface, ns, name string) (*v1alpha1.HSDSAutoscaler, error) {
	u, err := dc.Resource(v1alpha1.GroupVersionResource()).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	var o v1alpha1.HSDSAutoscaler
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &o); err != nil {
		return nil, err
	}
	return &o, nil
}

// waitAutoscaler waits until the object's status satisfies cond and returns the object.
func waitAutoscaler(ctx context.Context, t *testing.T, dc dynamic.Interface, ns, name, what string, timeout time.Duration,
	cond func(*v1alpha1.HSDSAutoscaler) bool) *v1alpha1.HSDSAutoscaler {
	t.Helper()
	var last *v1alpha1.HSDSAutoscaler
	eventually(ctx, t, timeout, ns+"/"+name+": "+what, func(ctx context.Context) (bool, error) {
		o, err := getAutoscaler(ctx, dc, ns, name)
		if err != nil {
			return false, err
		}
		last = o
		return cond(o), nil
	})
	return last
}

// TestHSDSAutoscalerObjects: one serve, no policy file, two HSDSAutoscaler objects in two
// namespaces. Both targets are scaled and both statuses written; a lowered maxReplicas is
// enforced; a deleted object's target is no longer touched; invalid objects are refused by the
// apiserver with a message naming the problem; a restarted serve restores the learned capacity
// it saved in status.learned; an HPA on a target shows as condition Conflict.
func TestHSDSAutoscalerObjects(t *testing.T) {
	ctx := testContext(t, 6*time.Minute)
	const nsA, nsB = "e2e-crd-a", "e2e-crd-b"
	installCRD(ctx, t)
	dc, err := dynamic.NewForConfig(cluster.RESTConfig)
	if err != nil {
		t.Fatal(err)
	}
	wa := newWorkload(ctx, t, nsA, 1, nil)
	wb := newWorkload(ctx, t, nsB, 1, nil)
	logRescalesOnFailure(t, nsA)
	l := wa.startLoad(t, 150) // ~3.5 pods' worth on one pod: a scales up and learns the capacity
	wb.startLoad(t, lightRate)

	// a: learns the pod capacity (podCapacity 0); b: raised to its minReplicas.
	if err := applyAutoscaler(ctx, autoscalerYAML(t, nsA, "a", map[string]any{"maxReplicas": 6})); err != nil {
		t.Fatal(err)
	}
	if err := applyAutoscaler(ctx, autoscalerYAML(t, nsB, "b", map[string]any{"minReplicas": 2, "maxReplicas": 4})); err != nil {
		t.Fatal(err)
	}
	args := []string{"--hsds-namespaces=" + nsA + "," + nsB, "--policy=", "--leader-elect=false", "--rate-window=10s", "--short-rate-window=5s"}
	s := startServe(t, "serve", args...)

	a := waitAutoscaler(ctx, t, dc, nsA, "a", "scaled up", 60*time.Second, func(o *v1alpha1.HSDSAutoscaler) bool {
		return o.Status.ObservedReplicas > 1 && o.Status.LastScaleTime != nil
	})
	b := waitAutoscaler(ctx, t, dc, nsB, "b", "raised to minReplicas", 60*time.Second, func(o *v1alpha1.HSDSAutoscaler) bool {
		return o.Status.ObservedReplicas == 2 && o.Status.LastDecision != nil
	})
	for _, o := range []*v1alpha1.HSDSAutoscaler{a, b} {
		checkStatus(t, o)
	}
	if got, err := wb.replicas(ctx); err != nil || got != 2 {
		t.Errorf("%s/hsds replicas = %d, %v; want 2", nsB, got, err)
	}
	out, err := cluster.Kubectl(ctx, "get", "hsdsautoscalers", "-A")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("kubectl get hsdsautoscalers -A:\n%s", out)
	if !regexp.MustCompile(`(?m)^` + nsB + `\s+b\s+hsds\s+2\s+4\s+2\s+2\s+\S+`).MatchString(out) {
		t.Errorf("kubectl get hsdsautoscalers does not show b as hsds 2 4 2 2:\n%s", out)
	}

	// Update: b's bounds lowered to [1, 1]: clamped.
	if err := applyAutoscaler(ctx, autoscalerYAML(t, nsB, "b", map[string]any{"minReplicas": 1, "maxReplicas": 1})); err != nil {
		t.Fatal(err)
	}
	waitAutoscaler(ctx, t, dc, nsB, "b", "clamped to the new maxReplicas", 30*time.Second, func(o *v1alpha1.HSDSAutoscaler) bool {
		return o.Status.ObservedGeneration == o.Generation && o.Status.ObservedReplicas == 1
	})
	if got, err := wb.replicas(ctx); err != nil || got != 1 {
		t.Errorf("%s/hsds replicas = %d, %v; want 1", nsB, got, err)
	}
	if out, err := cluster.Kubectl(ctx, "get", "hsdsautoscalers", "-A"); err == nil {
		t.Logf("after the update of b:\n%s", out)
	}

	// Invalid objects: refused by the apiserver, each with a message naming the problem.
	checkRefused(ctx, t, nsB)

	// Delete: b's controller stops; its target is left alone (a running one would clamp 3 to 1).
	if _, err := cluster.Kubectl(ctx, "delete", "hsdsautoscaler", "-n", nsB, "b"); err != nil {
		t.Fatal(err)
	}
	eventually(ctx, t, 10*time.Second, "b's controller stopped", func(context.Context) (bool, error) {
		return s.logContains(`"HSDSAutoscaler controller stopped" object="` + nsB + `/b"`), nil
	})
	if _, err := cluster.Kubectl(ctx, "scale", "deployment", "-n", nsB, "hsds", "--replicas=3"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second) // 5 ticks
	if got, err := wb.replicas(ctx); err != nil || got != 3 {
		t.Errorf("%s/hsds replicas = %d, %v after the object's deletion; want 3 (untouched)", nsB, got, err)
	}

	// Restart: the capacity saved in status.learned is what the new serve restores.
	waitAutoscaler(ctx, t, dc, nsA, "a", "a learned capacity in status", 90*time.Second, func(o *v1alpha1.HSDSAutoscaler) bool {
		return o.Status.Learned != nil && o.Status.Learned.PodCapacity > 0
	})
	l.set(lightRate)
	s.stop()
	saved := mustGet(ctx, t, dc, nsA, "a").Status.Learned // the last write before the stop
	restarted := time.Now()
	s2 := startServe(t, "serve-2", args...)
	eventually(ctx, t, 30*time.Second, "the restored capacity in serve-2's log", func(context.Context) (bool, error) {
		return s2.logContains(`object="` + nsA + `/a"`), nil
	})
	got := restoredCapacity(t, s2, nsA+"/a")
	if got != saved.PodCapacity {
		t.Errorf("restored podCapacity %v, saved %v", got, saved.PodCapacity)
	}
	// The first decision with figures: serve-2 may tick before its first scrape of the pods and
	// decide no-data (a CI rehearsal saw "no pod with fresh figures (6 pods)"), which holds.
	after := waitAutoscaler(ctx, t, dc, nsA, "a", "a decision with figures after the restart", 30*time.Second, func(o *v1alpha1.HSDSAutoscaler) bool {
		return o.Status.LastDecision != nil && o.Status.LastDecision.Time.After(restarted) && o.Status.LastDecision.Reason != "no-data"
	})
	if after.Status.Learned == nil || after.Status.Learned.PodCapacity <= 0 {
		t.Errorf("status.learned after the restart = %+v", after.Status.Learned)
	}
	// The first decision with figures after the restart sizes with the saved capacity (light load:
	// nothing new is learned), as the last one before the stop did.
	if want := fmt.Sprintf("pod capacity c1 %.2f req/s", saved.PodCapacity); !strings.Contains(after.Status.LastDecision.Message, want) {
		t.Errorf("first decision with figures after the restart: %q, want it to size with %q", after.Status.LastDecision.Message, want)
	}
	t.Logf("learned podCapacity saved %v at %s, restored %v; after the restart %+v", saved.PodCapacity, saved.At, got, after.Status.Learned)

	// An HPA on a's target: condition Conflict, nothing written.
	createHPA(ctx, t, nsA, 1, 8)
	conflict := waitAutoscaler(ctx, t, dc, nsA, "a", "Conflict=True", 30*time.Second, func(o *v1alpha1.HSDSAutoscaler) bool {
		return meta.IsStatusConditionTrue(o.Status.Conditions, v1alpha1.ConditionConflict)
	})
	if o := conflict.Status; o.LastDecision == nil || o.LastDecision.Reason != "hpa-conflict" ||
		meta.IsStatusConditionTrue(o.Conditions, v1alpha1.ConditionActive) {
		t.Errorf("status with an HPA: decision %+v, conditions %+v", o.LastDecision, o.Conditions)
	}
}

func mustGet(ctx context.Context, t *testing.T, dc dynamic.Interface, ns, name string) *v1alpha1.HSDSAutoscaler {
	t.Helper()
	o, err := getAutoscaler(ctx, dc, ns, name)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// restoredCapacity reads restoredPodCapacity from the controller-started line of key.
func restoredCapacity(t *testing.T, s *serveProc, key string) float64 {
	t.Helper()
	m := regexp.MustCompile(`"HSDSAutoscaler controller started" object="` + regexp.QuoteMeta(key) + `".*restoredPodCapacity=(\S+)`).
		FindStringSubmatch(tailOf(s.logPath, 1000))
	if m == nil {
		t.Fatalf("no controller-started line for %s in %s", key, s.logPath)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// checkStatus: the status carries the decision, its figures and every condition.
func checkStatus(t *testing.T, o *v1alpha1.HSDSAutoscaler) {
	t.Helper()
	st := o.Status
	if st.ObservedGeneration != o.Generation || st.LastDecision == nil || st.LastDecision.Reason == "" ||
		st.LastDecision.Figures.CurrentReplicas != st.ObservedReplicas {
		t.Errorf("%s/%s: status %+v", o.Namespace, o.Name, st)
	}
	for _, c := range []string{v1alpha1.ConditionActive, v1alpha1.ConditionAbleToScale, v1alpha1.ConditionScalingLimited,
		v1alpha1.ConditionWaitingForCapacity, v1alpha1.ConditionConflict} {
		if meta.FindStatusCondition(st.Conditions, c) == nil {
			t.Errorf("%s/%s: no condition %s in %+v", o.Namespace, o.Name, c, st.Conditions)
		}
	}
	if c := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionConflict); c != nil && c.Status != metav1.ConditionFalse {
		t.Errorf("%s/%s: Conflict = %+v with no HPA", o.Namespace, o.Name, c)
	}
}

// checkRefused applies invalid objects; each must be refused with a message naming the problem.
func checkRefused(ctx context.Context, t *testing.T, ns string) {
	t.Helper()
	for _, tc := range []struct {
		name string
		spec map[string]any
		want string
	}{
		{"min-above-max", map[string]any{"minReplicas": 5, "maxReplicas": 2}, "minReplicas must be <= maxReplicas"},
		{"unknown-field", map[string]any{"policy": map[string]any{"bogus": 1}}, `unknown field "spec.policy.bogus"`},
		{"negative-step", map[string]any{"policy": map[string]any{"maxStepUpPods": -1}}, "spec.policy.maxStepUpPods: Invalid value: -1: spec.policy.maxStepUpPods in body should be greater than or equal to 1"},
		{"negative-duration", map[string]any{"guards": map[string]any{"settle": "-5s"}}, `spec.guards.settle: Invalid value: "-5s": must be a duration >= 0`},
		{"band", map[string]any{"policy": map[string]any{"targetUtilization": 0.9}}, "need scaleDownUtilization < targetUtilization < scaleUpUtilization"},
	} {
		err := applyAutoscaler(ctx, autoscalerYAML(t, ns, tc.name, tc.spec))
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: refused with %v\nwant the message to contain %q", tc.name, err, tc.want)
			continue
		}
		t.Logf("%s: refused: %s", tc.name, lastLine(err.Error()))
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, "\n"); i >= 0 {
		return s[i+1:]
	}
	return s
}
