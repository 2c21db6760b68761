package helm

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// scaleRule returns the scale subresource rules of the Role (or ClusterRole) kind/name among
// objs, which must be in namespace ns.
func scaleRule(t *testing.T, objs []unstructured.Unstructured, kind, ns, name string) []any {
	t.Helper()
	r := find(t, objs, kind, name)
	if r.GetNamespace() != ns {
		t.Errorf("%s %s in namespace %q, want %q", kind, name, r.GetNamespace(), ns)
	}
	rules, _, _ := unstructured.NestedSlice(r.Object, "rules")
	var scale []any
	for _, x := range rules {
		if res, _ := x.(map[string]any)["resources"].([]any); len(res) == 1 && strings.HasSuffix(res[0].(string), "/scale") {
			scale = append(scale, x)
		}
	}
	return scale
}

// rule is one scale rule: get and update on group's resource, of name only.
func rule(group, resource, name string) []any {
	return []any{map[string]any{"apiGroups": []any{group}, "resources": []any{resource}, "resourceNames": []any{name}, "verbs": []any{"get", "update"}}}
}

// TestHSDSAutoscalersRendersTheExample: policy.enabled=false with two namespaces and a target in
// each (hsdsAutoscalers.targets) renders deploy/examples/hsds-autoscalers: no policy file, serve
// --policy="", and a Role per namespace resizing only the target named there.
func TestHSDSAutoscalersRendersTheExample(t *testing.T) {
	diffObjects(t, kustomize(t, "deploy/examples/hsds-autoscalers"), render(t, Release, "--set", "policy.enabled=false",
		"--set", "hsds.namespaces={hsds,hsds-b}",
		"--set", "hsdsAutoscalers.targets[0].namespace=hsds,hsdsAutoscalers.targets[0].name=hsds",
		"--set", "hsdsAutoscalers.targets[1].namespace=hsds-b,hsdsAutoscalers.targets[1].name=hsds"))
}

// TestRBACNamesHSDSAutoscalerTargets: hsdsAutoscalers.targets add, in each target's namespace,
// one scale rule per kind naming its targets (the policy's target named again stays one name);
// with policy.enabled=false and no targets nothing may be resized; with every namespace watched,
// the targets' namespaces get a Role <fullname>-scale.
func TestRBACNamesHSDSAutoscalerTargets(t *testing.T) {
	objs := render(t, Release, "--set", "hsds.namespaces={hsds,data}",
		"--set", "hsdsAutoscalers.targets[0].namespace=data,hsdsAutoscalers.targets[0].name=a",
		"--set", "hsdsAutoscalers.targets[1].namespace=data,hsdsAutoscalers.targets[1].name=b",
		"--set", "hsdsAutoscalers.targets[2].namespace=data,hsdsAutoscalers.targets[2].name=dn,hsdsAutoscalers.targets[2].kind=StatefulSet",
		"--set", "hsdsAutoscalers.targets[3].namespace=hsds,hsdsAutoscalers.targets[3].name=hsds")
	want := append(rule("apps", "deployments/scale", "a"), rule("apps", "statefulsets/scale", "dn")...)
	want[0].(map[string]any)["resourceNames"] = []any{"a", "b"}
	inNS := func(ns string) []unstructured.Unstructured {
		var in []unstructured.Unstructured
		for _, o := range objs {
			if o.GetNamespace() == ns {
				in = append(in, o)
			}
		}
		return in
	}
	if diff := cmp.Diff(want, scaleRule(t, inNS("data"), "Role", "data", Release)); diff != "" {
		t.Errorf("scale rules in data (-want +got):\n%s", diff)
	}
	// The policy's target (hsds/hsds) named again: one rule, one name.
	if diff := cmp.Diff(rule("apps", "deployments/scale", "hsds"), scaleRule(t, inNS("hsds"), "Role", "hsds", Release)); diff != "" {
		t.Errorf("scale rules in hsds (-want +got):\n%s", diff)
	}
	none := render(t, Release, "--set", "policy.enabled=false")
	if got := scaleRule(t, none, "Role", "hsds", Release); len(got) != 0 {
		t.Errorf("policy.enabled=false and no targets: scale rules %v, want none", got)
	}
	every := render(t, Release, "--set", "hsds.namespaces=null,policy.enabled=false",
		"--set", "hsdsAutoscalers.targets[0].namespace=x,hsdsAutoscalers.targets[0].name=hsds")
	if diff := cmp.Diff(rule("apps", "deployments/scale", "hsds"), scaleRule(t, every, "Role", "x", Release+"-scale")); diff != "" {
		t.Errorf("every namespace: scale Role (-want +got):\n%s", diff)
	}
}
