//go:build e2e

package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/internal/controlplane"
	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/internal/objects"
)

// repoRoot is the repository checkout the tests run in.
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

// render renders a kustomization directory relative to the repository root.
func render(ctx context.Context, t *testing.T, rel string) []byte {
	t.Helper()
	out, err := controlplane.Kustomize(ctx, cluster.Binaries.Kubectl, filepath.Join(repoRoot(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// decodeObjects splits a multi-document YAML stream into objects.
func decodeObjects(t *testing.T, data []byte) []unstructured.Unstructured {
	t.Helper()
	objs, err := objects.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// eventually polls cond every 200 ms until it is true or timeout, then fails with what last said.
func eventually(ctx context.Context, t *testing.T, timeout time.Duration, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, cond)
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// testContext is a context cancelled at the end of the test.
func testContext(t *testing.T, timeout time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return ctx
}
