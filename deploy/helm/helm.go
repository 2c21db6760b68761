// Package helm finds the pinned helm binary (built from helm.sh/helm/v4 by `make helm` into
// .cache/bin/helm, see .ci/helm/go.mod) and renders the chart in hsds-autoscaler/. Its tests
// keep the chart's default objects equal to deploy/base; deploy/e2e installs the chart.
package helm

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// EnvHelm names the helm binary (the Makefile exports it). Empty: <repo root>/.cache/bin/helm.
const EnvHelm = "HSDS_HELM"

// Release is the release name under which the chart's objects are named exactly as deploy/base's.
const Release = "hsds-autoscaler"

// ChartDir is the chart's directory under the repository root.
func ChartDir(root string) string {
	return filepath.Join(root, "deploy", "helm", "hsds-autoscaler")
}

// Binary returns $HSDS_HELM, or else root/.cache/bin/helm, once it is an executable file.
func Binary(root string) (string, error) {
	p := os.Getenv(EnvHelm)
	if p == "" {
		p = filepath.Join(root, ".cache", "bin", "helm")
	}
	st, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("helm: %w (make helm builds it)", err)
	}
	if st.IsDir() || st.Mode().Perm()&0o111 == 0 {
		return "", fmt.Errorf("helm: %s is not an executable file", p)
	}
	return p, nil
}

// Run runs helm with args and returns its standard output; the error carries standard error.
// HELM_* caches and configuration go to a directory of the caller's choosing (home), so that
// nothing is read from or written to the user's own.
func Run(ctx context.Context, bin, home string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("helm %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errOut.String()))
	}
	return out.Bytes(), nil
}

// Template renders the chart in chartDir as release name with the extra helm template flags
// (--set, --set-file, --values, --namespace ...).
func Template(ctx context.Context, bin, home, name, chartDir string, flags ...string) ([]byte, error) {
	return Run(ctx, bin, home, append([]string{"template", name, chartDir}, flags...)...)
}
