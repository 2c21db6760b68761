package helm

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/internal/controlplane"
	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/internal/objects"
	"github.com/hsds-autoscaler/hsds-autoscaler/scaler"
)

// helmOnlyLabels are Helm's standard labels, which the chart adds to deploy/base's.
var helmOnlyLabels = []string{"helm.sh/chart", "app.kubernetes.io/managed-by", "app.kubernetes.io/instance", "app.kubernetes.io/version"}

const (
	// policyConfigMap is the policy ConfigMap's name; kustomize's generator appends a content hash.
	policyConfigMap = "hsds-autoscaler-policy"
	// checksumAnnotation on the chart's pod template rolls the pods when the policy changes.
	checksumAnnotation = "checksum/policy"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, err := controlplane.RepoRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// need returns a tool's path, or fails the test on CI (where `make test` provides every tool)
// and skips it elsewhere.
func need(t *testing.T, path string, err error, hint string) string {
	t.Helper()
	if err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%v; $CI is set (%s)", err, hint)
	}
	t.Skipf("%v (%s)", err, hint)
	return ""
}

func helmBin(t *testing.T) string {
	t.Helper()
	p, err := Binary(repoRoot(t))
	return need(t, p, err, "the Makefile exports "+EnvHelm)
}

// kubectlBin is the kubectl of the e2e harness ($HSDS_K8S_BIN, else .cache/k8s/<version>/bin):
// deploy/base is rendered with the kustomize it embeds, as deploy/e2e does.
func kubectlBin(t *testing.T) string {
	t.Helper()
	dir := os.Getenv(controlplane.EnvBinDir)
	if dir == "" {
		dir = controlplane.DefaultBinDir(repoRoot(t))
	}
	p := filepath.Join(dir, "kubectl")
	_, err := os.Stat(p)
	return need(t, p, err, "make k8s-bin builds it")
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// template renders the chart as release name with flags, its crds/ included (as helm install
// applies them); the error is helm's.
func template(t *testing.T, name string, flags ...string) ([]unstructured.Unstructured, error) {
	t.Helper()
	out, err := Template(testContext(t), helmBin(t), t.TempDir(), name, ChartDir(repoRoot(t)), append([]string{"--include-crds"}, flags...)...)
	if err != nil {
		return nil, err
	}
	return decode(t, out), nil
}

// render renders the chart and fails the test on an error.
func render(t *testing.T, name string, flags ...string) []unstructured.Unstructured {
	t.Helper()
	objs, err := template(t, name, flags...)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// kustomize renders a kustomization under the repository root with kubectl.
func kustomize(t *testing.T, rel string) []unstructured.Unstructured {
	t.Helper()
	out, err := controlplane.Kustomize(testContext(t), kubectlBin(t), filepath.Join(repoRoot(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, out)
}

func decode(t *testing.T, data []byte) []unstructured.Unstructured {
	t.Helper()
	objs, err := objects.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func key(o unstructured.Unstructured) string {
	return o.GetKind() + " " + o.GetNamespace() + "/" + o.GetName()
}

// find returns the object of kind and name, failing the test when there is none.
func find(t *testing.T, objs []unstructured.Unstructured, kind, name string) unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %s among %v", kind, name, keys(objs))
	return unstructured.Unstructured{}
}

func keys(objs []unstructured.Unstructured) []string {
	var ks []string
	for _, o := range objs {
		ks = append(ks, key(o))
	}
	slices.Sort(ks)
	return ks
}

// normalise removes what differs by construction between the chart and kustomize: Helm's
// labels, the chart's policy checksum annotation, the generator's name hash; and replaces the
// policy file by its decoded form (defaults applied), so that a file listing every default
// equals one listing none.
func normalise(t *testing.T, in unstructured.Unstructured) unstructured.Unstructured {
	t.Helper()
	o := *in.DeepCopy()
	for _, path := range [][]string{{"metadata", "labels"}, {"spec", "template", "metadata", "labels"}} {
		labels, ok, _ := unstructured.NestedStringMap(o.Object, path...)
		if !ok {
			continue
		}
		for _, l := range helmOnlyLabels {
			delete(labels, l)
		}
		setOrRemove(t, o.Object, labels, path...)
	}
	if ann, ok, _ := unstructured.NestedStringMap(o.Object, "spec", "template", "metadata", "annotations"); ok {
		delete(ann, checksumAnnotation)
		setOrRemove(t, o.Object, ann, "spec", "template", "metadata", "annotations")
	}
	switch o.GetKind() {
	case "CustomResourceDefinition":
		// The chart's crds/ are copied as they are (Helm templates no CRD): no part-of label.
		labels := o.GetLabels()
		delete(labels, "app.kubernetes.io/part-of")
		setOrRemove(t, o.Object, labels, "metadata", "labels")
	case "ConfigMap":
		o.SetName(unhash(o.GetName()))
		text, _, _ := unstructured.NestedString(o.Object, "data", "policy.yaml")
		if err := unstructured.SetNestedField(o.Object, decodedPolicy(t, text), "data", "policy.yaml"); err != nil {
			t.Fatal(err)
		}
	case "Deployment":
		volumes, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "volumes")
		for _, v := range volumes {
			if cm, ok := v.(map[string]any)["configMap"].(map[string]any); ok {
				cm["name"] = unhash(cm["name"].(string))
			}
		}
		if err := unstructured.SetNestedSlice(o.Object, volumes, "spec", "template", "spec", "volumes"); err != nil {
			t.Fatal(err)
		}
	}
	return o
}

func setOrRemove(t *testing.T, obj map[string]any, m map[string]string, path ...string) {
	t.Helper()
	if len(m) == 0 {
		unstructured.RemoveNestedField(obj, path...)
		return
	}
	if err := unstructured.SetNestedStringMap(obj, m, path...); err != nil {
		t.Fatal(err)
	}
}

// unhash strips the configMapGenerator's "-<10 characters>" suffix from the policy ConfigMap.
func unhash(name string) string {
	if rest, ok := strings.CutPrefix(name, policyConfigMap+"-"); ok && len(rest) == 10 {
		return policyConfigMap
	}
	return name
}

// decodedPolicy is a policy file as the server reads it (scaler.DecodePolicyFile, defaults
// applied), as a JSON object, so that a diff names the fields that differ.
func decodedPolicy(t *testing.T, text string) map[string]any {
	t.Helper()
	pf, err := scaler.DecodePolicyFile([]byte(text), scaler.TargetRequired)
	if err != nil {
		t.Fatalf("policy.yaml: %v\n%s", err, text)
	}
	b, err := json.Marshal(pf)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// diffObjects compares two renders object by object after normalise.
func diffObjects(t *testing.T, want, got []unstructured.Unstructured) {
	t.Helper()
	var w, g []unstructured.Unstructured
	for _, o := range want {
		w = append(w, normalise(t, o))
	}
	for _, o := range got {
		g = append(g, normalise(t, o))
	}
	if diff := cmp.Diff(keys(w), keys(g)); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	byKey := map[string]unstructured.Unstructured{}
	for _, o := range g {
		byKey[key(o)] = o
	}
	for _, o := range w {
		if got, ok := byKey[key(o)]; ok {
			if diff := cmp.Diff(o.Object, got.Object); diff != "" {
				t.Errorf("%s (-want +got):\n%s", key(o), diff)
			}
		}
	}
}
