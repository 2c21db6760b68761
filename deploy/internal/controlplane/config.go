package controlplane

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// KubernetesVersion is the version of kube-apiserver, kube-controller-manager and kubectl the
// harness builds and expects.
const KubernetesVersion = "v1.36.3"

// Environment variables read by DefaultConfig.
const (
	// EnvBinDir names a directory holding kube-apiserver, kube-controller-manager and kubectl.
	EnvBinDir = "HSDS_K8S_BIN"
	// EnvKeep, when "1", keeps the cluster's temporary directory (logs, certs, etcd data) after Stop.
	EnvKeep = "HSDS_E2E_KEEP"
)

// Default values of Config.
const (
	DefaultHPASyncPeriod = 5 * time.Second
	DefaultStartTimeout  = 90 * time.Second
	DefaultStopTimeout   = 5 * time.Second
	// DefaultServiceClusterIPRange is never routed: no kube-proxy runs.
	DefaultServiceClusterIPRange = "10.0.0.0/24"
)

// Config says how to start a Cluster. Build one with DefaultConfig and override fields.
type Config struct {
	// BinDir holds kube-apiserver, kube-controller-manager and kubectl. Empty: $HSDS_K8S_BIN, or
	// <repo root>/.cache/k8s/<KubernetesVersion>/bin.
	BinDir string
	// EtcdPath is the etcd binary. Empty: BinDir/etcd if present, else etcd on $PATH.
	EtcdPath string
	// Build runs deploy/internal/build-k8s.sh when the Kubernetes binaries are missing.
	Build bool
	// HPASyncPeriod is kube-controller-manager's --horizontal-pod-autoscaler-sync-period.
	HPASyncPeriod time.Duration
	// StartTimeout bounds the wait for each component to become healthy.
	StartTimeout time.Duration
	// StopTimeout is how long Stop waits after SIGTERM before it sends SIGKILL.
	StopTimeout time.Duration
	// TempDir is the parent of the cluster's temporary directory. Empty: os.TempDir().
	TempDir string
	// Keep leaves the cluster's temporary directory in place after Stop (for debugging).
	Keep bool
	// ExtraAPIServerArgs and ExtraControllerManagerArgs are appended to the generated flags.
	ExtraAPIServerArgs         []string
	ExtraControllerManagerArgs []string
	// Progress receives human-readable progress lines (binary build, start-up). Nil: discarded.
	Progress io.Writer
}

// DefaultConfig returns the defaults, reading EnvBinDir and EnvKeep.
func DefaultConfig() Config {
	return Config{
		BinDir:        os.Getenv(EnvBinDir),
		Build:         true,
		HPASyncPeriod: DefaultHPASyncPeriod,
		StartTimeout:  DefaultStartTimeout,
		StopTimeout:   DefaultStopTimeout,
		Keep:          os.Getenv(EnvKeep) == "1",
		Progress:      io.Discard,
	}
}

// Validate returns every problem with c at once.
func (c Config) Validate() error {
	var errs []error
	if c.HPASyncPeriod <= 0 {
		errs = append(errs, fmt.Errorf("HPASyncPeriod must be positive, got %s", c.HPASyncPeriod))
	}
	if c.StartTimeout <= 0 {
		errs = append(errs, fmt.Errorf("StartTimeout must be positive, got %s", c.StartTimeout))
	}
	if c.StopTimeout <= 0 {
		errs = append(errs, fmt.Errorf("StopTimeout must be positive, got %s", c.StopTimeout))
	}
	return errors.Join(errs...)
}

func (c Config) progress() io.Writer {
	if c.Progress == nil {
		return io.Discard
	}
	return c.Progress
}
