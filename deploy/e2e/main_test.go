//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/internal/controlplane"
)

// cluster is the control plane every test of this package shares. It is set once by TestMain
// before any test runs and only read afterwards.
var cluster *controlplane.Cluster

// serveBin is the hsds-autoscaler binary, built once on first use.
var serveBin = &binary{pkg: "./cmd/hsds-autoscaler", name: "hsds-autoscaler"}

// hpaSyncPeriod is kube-controller-manager's HPA sync period for the whole package.
const hpaSyncPeriod = 15 * time.Second

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	cfg := controlplane.DefaultConfig()
	cfg.Progress = os.Stderr
	// Kubernetes' default HPA sync period, so that the reaction-time test compares our scaler
	// with an HPA as it runs in production (docs/e2e.md, "Reaction time").
	cfg.HPASyncPeriod = hpaSyncPeriod
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute) // includes a cold build
	defer cancel()
	start := time.Now()
	c, err := controlplane.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "starting the control plane: %v\n", err)
		if os.Getenv("CI") == "" {
			fmt.Fprintln(os.Stderr, "hint: make k8s-bin builds the binaries; apt-get install etcd-server installs etcd")
		}
		return 1
	}
	fmt.Fprintf(os.Stderr, ">>> control plane ready in %s (%s)\n", time.Since(start).Round(time.Millisecond), c.APIServerURL)
	cluster = c
	code := m.Run()
	serveBin.cleanup()
	if code != 0 {
		for _, comp := range []string{controlplane.ComponentAPIServer, controlplane.ComponentControllerManager} {
			fmt.Fprintf(os.Stderr, "--- last lines of %s:\n%s\n", comp, c.LogTail(comp, 20))
		}
	}
	if err := c.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "stopping the control plane: %v\n", err)
		return 1
	}
	return code
}
