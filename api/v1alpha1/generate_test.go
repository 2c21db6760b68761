package v1alpha1_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// repoRoot is two directories up from this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// controllerGen builds (once; then cached in .cache/bin) the controller-gen pinned in
// .ci/controller-gen/go.mod, as hack/controller-gen.sh does.
func controllerGen(t *testing.T, root string) string {
	t.Helper()
	mod, err := os.ReadFile(filepath.Join(root, ".ci/controller-gen/go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*sigs\.k8s\.io/controller-tools (v\S+)`).FindSubmatch(mod)
	if m == nil {
		t.Fatal(".ci/controller-gen/go.mod pins no sigs.k8s.io/controller-tools")
	}
	bin := filepath.Join(root, ".cache/bin/controller-gen-"+string(m[1]))
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	cmd := exec.Command("go", "build", "-o", bin, "sigs.k8s.io/controller-tools/cmd/controller-gen")
	cmd.Dir = filepath.Join(root, ".ci/controller-gen")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build controller-gen: %v\n%s", err, out)
	}
	return bin
}

// TestGeneratedFilesAreCurrent: the committed deepcopy code, CRD and the chart's copy of the CRD
// are what the pinned controller-gen writes from these types (fix: make generate).
func TestGeneratedFilesAreCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs controller-gen")
	}
	root := repoRoot(t)
	out := t.TempDir()
	cmd := exec.Command(controllerGen(t, root), "object", "paths=./api/...", "output:object:dir="+out,
		"crd:allowDangerousTypes=true", "output:crd:dir="+out)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("controller-gen: %v\n%s", err, b)
	}
	const crd = "hsds-autoscaler.io_hsdsautoscalers.yaml"
	for gen, committed := range map[string]string{
		"zz_generated.deepcopy.go": "api/v1alpha1/zz_generated.deepcopy.go",
		crd:                        "deploy/base/crd/" + crd,
		crd + " (chart)":           "deploy/helm/hsds-autoscaler/crds/" + crd,
	} {
		want, err := os.ReadFile(filepath.Join(out, filepath.Base(regexp.MustCompile(` \(.*\)$`).ReplaceAllString(gen, ""))))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(root, committed))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not what controller-gen writes from api/v1alpha1; run make generate", committed)
		}
	}
}
