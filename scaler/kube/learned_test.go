package kube

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
	"github.com/hsds-autoscaler/hsds-autoscaler/scaler"
)

// TestConfigMapLearned: nothing saved at first; a save creates the ConfigMap, a second one
// updates its key and leaves another target's key alone; a load returns what was saved; a value
// that is not a valid Learned is an error, not a restore.
func TestConfigMapLearned(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset()
	key := LearnedKey(scaler.Target{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "hsds", Name: "hsds"})
	if key != "hsds.deployment.hsds" {
		t.Fatalf("LearnedKey = %q", key)
	}
	s := &ConfigMapLearned{Client: cs, Namespace: "hsds-autoscaler", Name: "learned", Key: key}
	if _, ok, err := s.LoadLearned(ctx); ok || err != nil {
		t.Fatalf("no ConfigMap: ok %v, err %v", ok, err)
	}
	at := time.Date(2026, 12, 5, 1, 2, 3, 0, time.UTC)
	for _, c1 := range []float64{17.5, 18.25} {
		if err := s.SaveLearned(ctx, heuristics.Learned{PodCapacity: c1, At: at}); err != nil {
			t.Fatalf("save %g: %v", c1, err)
		}
		if c1 == 17.5 { // another target's key beside ours
			cm, _ := cs.CoreV1().ConfigMaps("hsds-autoscaler").Get(ctx, "learned", metav1.GetOptions{})
			cm.Data["b.deployment.hsds"] = `{"podCapacity":3,"at":"2026-12-05T00:00:00Z"}`
			if _, err := cs.CoreV1().ConfigMaps("hsds-autoscaler").Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	l, ok, err := s.LoadLearned(ctx)
	if err != nil || !ok {
		t.Fatalf("load: ok %v, err %v", ok, err)
	}
	if diff := cmp.Diff(heuristics.Learned{PodCapacity: 18.25, At: at}, l); diff != "" {
		t.Errorf("loaded (-want +got):\n%s", diff)
	}
	cm, _ := cs.CoreV1().ConfigMaps("hsds-autoscaler").Get(ctx, "learned", metav1.GetOptions{})
	if _, ok := cm.Data["b.deployment.hsds"]; !ok || len(cm.Data) != 2 {
		t.Errorf("the other key was lost: %v", cm.Data)
	}
	for _, bad := range []string{"not json", `{"podCapacity":-1,"at":"2026-12-05T00:00:00Z"}`, `{"podCapacity":5}`} {
		cm.Data[key] = bad
		if _, err := cs.CoreV1().ConfigMaps("hsds-autoscaler").Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := s.LoadLearned(ctx); ok || err == nil {
			t.Errorf("value %q: ok %v, err %v; want an error", bad, ok, err)
		}
	}
}
