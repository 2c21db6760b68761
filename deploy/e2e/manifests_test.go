//go:build e2e

package e2e

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/hsds-autoscaler/hsds-autoscaler/scaler"
)

// policyDir holds the scaler's policy file, which is not a Kubernetes object (scaler/ tests it).
const policyDir = "deploy/policy"

// certManagerGroup is served only where cert-manager is installed; the test installs stub CRDs
// (schema: any object) so the API server can dry-run these objects. Their spec is therefore NOT
// checked against cert-manager's schema here; TestScenario1CertManagerWiring checks the fields
// our manifests depend on.
const certManagerGroup = "cert-manager.io"

// kustomizations returns the directories under deploy/ holding a kustomization.yaml, split into
// Kustomizations and Components (relative to root, sorted).
func kustomizations(t *testing.T, root string) (builds, components []string) {
	t.Helper()
	err := filepath.WalkDir(filepath.Join(root, "deploy"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "kustomization.yaml" {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var k struct{ Kind string }
		if err := yaml.Unmarshal(data, &k); err != nil {
			t.Errorf("%s: %v", path, err)
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		if k.Kind == "Component" {
			components = append(components, rel)
		} else {
			builds = append(builds, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(builds)
	slices.Sort(components)
	return builds, components
}

// looseManifests are YAML files under deploy/ outside any kustomization directory.
func looseManifests(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(filepath.Join(root, "deploy"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && isChart(path) {
			return filepath.SkipDir // templates, not objects: dry-run as helm renders them
		}
		if err != nil || d.IsDir() || (!strings.HasSuffix(path, ".yaml") && !strings.HasSuffix(path, ".yml")) {
			return err
		}
		dir, _ := filepath.Rel(root, filepath.Dir(path))
		if dir == policyDir {
			return nil
		}
		if isPolicyFile(t, path) {
			// Our own ScalingPolicy format, not a Kubernetes object: it must load and validate.
			if _, err := scaler.LoadPolicyFile(path, scaler.TargetRequired); err != nil {
				t.Errorf("%s: %v", path, err)
			}
			return nil
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(path), "kustomization.yaml")); err == nil {
			return nil
		}
		files = append(files, path)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// isChart reports whether dir is a Helm chart.
func isChart(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "Chart.yaml"))
	return err == nil
}

// isPolicyFile reports whether path holds a ScalingPolicy (scaler.LoadPolicyFile's format).
func isPolicyFile(t *testing.T, path string) bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(data), "\nkind: ScalingPolicy\n")
}

func toYAML(t *testing.T, objs []unstructured.Unstructured) []byte {
	t.Helper()
	var b strings.Builder
	for _, o := range objs {
		data, err := yaml.Marshal(o.Object)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("---\n")
		b.Write(data)
	}
	return []byte(b.String())
}

// serverDryRun creates the Namespaces among objs for real (namespaced objects need them), then
// dry-runs every object on the server and checks that each was accepted without a warning.
func serverDryRun(ctx context.Context, t *testing.T, objs []unstructured.Unstructured) {
	t.Helper()
	var namespaces []unstructured.Unstructured
	needStubs := false
	for _, o := range objs {
		if o.GetKind() == "Namespace" {
			namespaces = append(namespaces, o)
		}
		needStubs = needStubs || o.GroupVersionKind().Group == certManagerGroup
	}
	if needStubs {
		installCertManagerStubs(ctx, t)
	}
	if len(namespaces) > 0 {
		if _, _, err := cluster.KubectlInput(ctx, toYAML(t, namespaces), "apply", "-f", "-"); err != nil {
			t.Fatal(err)
		}
	}
	createForeignNamespaces(ctx, t, objs, namespaces)
	stdout, stderr, err := cluster.KubectlInput(ctx, toYAML(t, objs), "apply", "--dry-run=server", "-f", "-")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(stdout, "(server dry run)"); got != len(objs) {
		t.Errorf("%d objects accepted, want %d:\n%s", got, len(objs), stdout)
	}
	if strings.Contains(stderr, "Warning") {
		t.Errorf("the API server warned (e.g. Pod Security restricted):\n%s", stderr)
	}
}

// createForeignNamespaces creates, for the test, the namespaces objs put objects in without
// creating them: the user's HSDS namespace, where deploy/base's Roles go.
func createForeignNamespaces(ctx context.Context, t *testing.T, objs, namespaces []unstructured.Unstructured) {
	t.Helper()
	own := map[string]bool{}
	for _, n := range namespaces {
		own[n.GetName()] = true
	}
	for _, o := range objs {
		ns := o.GetNamespace()
		if ns == "" || own[ns] {
			continue
		}
		own[ns] = true
		if n, err := cluster.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err != nil || n.DeletionTimestamp != nil {
			createNamespace(ctx, t, ns)
		}
	}
}

// TestScenario1ManifestsServerDryRun: every manifest in deploy/ (and the Helm chart, rendered
// in each TLS mode) is accepted by the real kube-apiserver (schema, defaulting, admission including Pod Security) without being stored.
func TestScenario1ManifestsServerDryRun(t *testing.T) {
	ctx := testContext(t, 2*time.Minute)
	root := repoRoot(t)
	builds, components := kustomizations(t, root)
	createNamespace(ctx, t, baseHSDSNamespace) // once for every subtest: base's Roles go there
	installCRD(ctx, t)                         // adopted by kubectl if helm install made it: no warning
	for _, want := range []string{"deploy/base", "deploy/examples/hsds", "deploy/examples/hsds-proxy", "deploy/examples/hpa"} {
		if !slices.Contains(builds, want) {
			t.Errorf("kustomization %s not found (have %v)", want, builds)
		}
	}
	for _, comp := range components {
		if !usedBySome(t, root, comp, builds) {
			t.Errorf("component %s is used by no kustomization, so nothing renders it", comp)
		}
	}
	for _, dir := range builds {
		t.Run(dir, func(t *testing.T) {
			objs := decodeObjects(t, render(ctx, t, dir))
			if len(objs) == 0 {
				t.Fatal("renders no objects")
			}
			serverDryRun(ctx, t, objs)
		})
	}
	for _, mode := range []string{"secret", "selfSigned", "certManager"} {
		t.Run("deploy/helm/hsds-autoscaler tls.mode="+mode, func(t *testing.T) {
			serverDryRun(ctx, t, decodeObjects(t, helmTemplate(ctx, t, "--set", "tls.mode="+mode)))
		})
	}
	for _, file := range looseManifests(t, root) {
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			serverDryRun(ctx, t, decodeObjects(t, data))
		})
	}
}

// usedBySome reports whether a kustomization in builds lists comp under components.
func usedBySome(t *testing.T, root, comp string, builds []string) bool {
	t.Helper()
	for _, b := range builds {
		data, err := os.ReadFile(filepath.Join(root, b, "kustomization.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		var k struct{ Components []string }
		if err := yaml.Unmarshal(data, &k); err != nil {
			t.Fatal(err)
		}
		for _, c := range k.Components {
			if filepath.Clean(filepath.Join(b, c)) == comp {
				return true
			}
		}
	}
	return false
}

// TestScenario1Labels: HSDS takes every pod labelled app=hsds in its namespace for a data node.
func TestScenario1Labels(t *testing.T) {
	ctx := testContext(t, time.Minute)
	for _, o := range decodeObjects(t, render(ctx, t, "deploy/base")) {
		for _, path := range [][]string{
			{"metadata", "labels"}, {"spec", "selector"}, {"spec", "selector", "matchLabels"},
			{"spec", "template", "metadata", "labels"},
		} {
			labels, _, _ := unstructured.NestedStringMap(o.Object, path...)
			if labels["app"] == "hsds" {
				t.Errorf("%s %s carries app=hsds at %v", o.GetKind(), o.GetName(), path)
			}
		}
	}
	for _, dir := range []string{"deploy/examples/hsds", "deploy/examples/hsds-proxy"} {
		for _, o := range decodeObjects(t, render(ctx, t, dir)) {
			if o.GetKind() != "Deployment" {
				continue
			}
			got, _, _ := unstructured.NestedStringMap(o.Object, "spec", "template", "metadata", "labels")
			if diff := cmp.Diff(map[string]string{"app": "hsds"}, got); diff != "" {
				t.Errorf("%s: pod labels (-want +got):\n%s", dir, diff)
			}
		}
	}
}
