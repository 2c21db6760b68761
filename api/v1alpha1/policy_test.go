package v1alpha1_test

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hsds-autoscaler/hsds-autoscaler/api/v1alpha1"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
	"github.com/hsds-autoscaler/hsds-autoscaler/internal/crdschema"
)

// schemaProps returns the properties of the object at path (property names) in the CRD's schema.
func schemaProps(t *testing.T, path ...string) map[string]map[string]any {
	t.Helper()
	props, err := crdschema.Props(repoRoot(t), path...)
	if err != nil {
		t.Fatal(err)
	}
	return props
}

// schemaDefaults is the object the schema's defaults of the properties at path make.
func schemaDefaults(t *testing.T, path ...string) []byte {
	t.Helper()
	defaults := map[string]any{}
	for name, prop := range schemaProps(t, path...) {
		d, ok := prop["default"]
		if !ok {
			t.Errorf("%v.%s: no default in the CRD", path, name)
			continue
		}
		defaults[name] = d
	}
	b, err := json.Marshal(defaults)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCRDPolicyDefaultsAreTheFileDefaults: an HSDSAutoscaler with no spec.policy runs
// heuristics.DefaultPolicy, the defaults of the policy file.
func TestCRDPolicyDefaultsAreTheFileDefaults(t *testing.T) {
	var p v1alpha1.Policy
	if err := json.Unmarshal(schemaDefaults(t, "spec", "policy"), &p); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(heuristics.DefaultPolicy(), p.Heuristics()); diff != "" {
		t.Errorf("CRD defaults of spec.policy differ from heuristics.DefaultPolicy (-want +got):\n%s", diff)
	}
}

// TestPolicyMirrorsHeuristics: v1alpha1.Policy has exactly heuristics.Policy's JSON fields, and
// the conversions lose nothing.
func TestPolicyMirrorsHeuristics(t *testing.T) {
	h := heuristics.DefaultPolicy()
	h.PodCapacity, h.FanoutShare, h.DwellUp = 123.5, 0.25, heuristics.D(7*time.Second)
	h.UtilizationWindow, h.UtilizationSustain = heuristics.D(30*time.Second), heuristics.D(5*time.Second)
	keys := func(v any) []string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]any{}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return slices.Sorted(maps.Keys(m))
	}
	api := v1alpha1.PolicyFrom(h)
	if diff := cmp.Diff(keys(h), keys(api)); diff != "" {
		t.Errorf("JSON fields (-heuristics.Policy +v1alpha1.Policy):\n%s", diff)
	}
	if diff := cmp.Diff(keys(h), slices.Sorted(maps.Keys(schemaProps(t, "spec", "policy")))); diff != "" {
		t.Errorf("JSON fields (-heuristics.Policy +CRD spec.policy):\n%s", diff)
	}
	if diff := cmp.Diff(h, api.Heuristics()); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

// TestLearnedRoundTrip: status.learned carries heuristics.Learned through JSON (at second
// precision, as metav1.Time does).
func TestLearnedRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 4, 22, 0, 1, 0, time.UTC)
	want := heuristics.Learned{PodCapacity: 41.372918, At: at, Throughput: []heuristics.SizeThroughput{
		{Pods: 2, Served: 34.5, Samples: 12, First: at.Add(-time.Minute), Last: at.Add(-30 * time.Second)},
		{Pods: 4, Served: 35.6, Samples: 3, First: at.Add(-20 * time.Second), Last: at}}}
	b, err := json.Marshal(v1alpha1.LearnedFrom(want))
	if err != nil {
		t.Fatal(err)
	}
	var l *v1alpha1.Learned
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatal(err)
	}
	got, ok := l.Heuristics()
	if !ok || !cmp.Equal(got, want) {
		t.Errorf("round trip = %+v, %v; want %+v", got, ok, want)
	}
	if _, ok := (*v1alpha1.Learned)(nil).Heuristics(); ok {
		t.Error("nil Learned: ok = true, want false")
	}
}
