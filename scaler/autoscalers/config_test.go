package autoscalers_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hsds-autoscaler/hsds-autoscaler/api/v1alpha1"
	"github.com/hsds-autoscaler/hsds-autoscaler/internal/crdschema"
	"github.com/hsds-autoscaler/hsds-autoscaler/scaler"
	"github.com/hsds-autoscaler/hsds-autoscaler/scaler/autoscalers"
)

func guardsFrom(g scaler.Guards) v1alpha1.Guards {
	return v1alpha1.Guards{
		Tick: v1alpha1.Pos(g.Tick.Duration), Settle: v1alpha1.NonNeg(g.Settle.Duration),
		PendingTimeout: v1alpha1.NonNeg(g.PendingTimeout.Duration), StuckNotReady: v1alpha1.Pos(g.StuckNotReady.Duration),
		StuckAfterReady: v1alpha1.Pos(g.StuckAfterReady.Duration),
		ReleaseStuck:    g.ReleaseStuck, DeleteStuckPods: g.DeleteStuckPods, StuckRemedyInterval: v1alpha1.Pos(g.StuckRemedyInterval.Duration),
		MaxSampleAge: v1alpha1.Pos(g.MaxSampleAge.Duration), HPACheckInterval: v1alpha1.NonNeg(g.HPACheckInterval.Duration),
	}
}

// TestCRDGuardsDefaultsAreTheFileDefaults: an HSDSAutoscaler with no spec.guards (the CRD's
// defaults applied by the apiserver) runs scaler.DefaultGuards, with the policy file's bounds.
func TestCRDDefaultsAreTheFileDefaults(t *testing.T) {
	props, err := crdschema.Props(filepath.Join("..", ".."), "spec")
	if err != nil {
		t.Fatal(err)
	}
	guardProps, err := crdschema.Props(filepath.Join("..", ".."), "spec", "guards")
	if err != nil {
		t.Fatal(err)
	}
	spec := map[string]any{"scaleTarget": map[string]any{"name": "hsds"}, "minReplicas": props["minReplicas"]["default"], "maxReplicas": props["maxReplicas"]["default"]}
	guards := map[string]any{}
	for name, p := range guardProps {
		guards[name] = p["default"]
	}
	spec["guards"] = guards
	b, err := json.Marshal(map[string]any{"metadata": map[string]any{"namespace": "hsds"}, "spec": spec})
	if err != nil {
		t.Fatal(err)
	}
	var obj v1alpha1.HSDSAutoscaler
	if err := json.Unmarshal(b, &obj); err != nil {
		t.Fatal(err)
	}
	got := autoscalers.ControllerConfig(&obj, autoscalers.Options{})
	want := scaler.ControllerConfig{
		Target:      scaler.Target{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "hsds", Name: "hsds"},
		MinReplicas: scaler.DefaultMinReplicas, MaxReplicas: scaler.DefaultMaxReplicas, Guards: scaler.DefaultGuards(),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("config of a defaulted object (-policy file defaults +got):\n%s", diff)
	}
}

// The options apply as serve's flags do: --dry-run, --delete-stuck-pods.
func TestControllerConfigOptions(t *testing.T) {
	obj := object("ns", "a", 1, 1, 3)
	got := autoscalers.ControllerConfig(obj, autoscalers.Options{DryRun: true, DeleteStuckPods: true})
	if !got.DryRun || !got.Guards.DeleteStuckPods || got.Target.Namespace != "ns" {
		t.Errorf("config = %+v, want dry-run, deleteStuckPods, namespace ns", got)
	}
}

// An object naming the policy file's target is refused: one loop per target.
func TestBuildRefusesThePolicyFileTarget(t *testing.T) {
	r := newRigWith(t, map[string]int32{"ns/hsds": 2}, autoscalers.Options{Exclude: "ns/hsds"})
	r.h.Upsert(object("ns", "a", 1, 3, 5))
	st := r.waitStatus(t, "ns/a", "refused", func(v1alpha1.HSDSAutoscalerStatus) bool { return true })
	if c := st.Conditions; len(c) != 1 || c[0].Reason != autoscalers.ReasonInvalidSpec || !strings.Contains(c[0].Message, "policy file") {
		t.Errorf("conditions = %+v, want Active=False/InvalidSpec naming the policy file", c)
	}
	if got := r.scales.spec("ns/hsds"); got != 2 {
		t.Errorf("spec = %d, want 2 (untouched)", got)
	}
}
