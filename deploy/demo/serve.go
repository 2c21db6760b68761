package main

import (
	"context"
	_ "embed"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/demo/internal/proc"
)

// demoPolicy is deploy/demo/policy.yaml, the policy for fake pods.
//
//go:embed policy.yaml
var demoPolicy []byte

// demoPolicyReal is deploy/demo/policy-real.yaml, the policy for real pods (--hsds real).
//
//go:embed policy-real.yaml
var demoPolicyReal []byte

// serveConfig says how to run `hsds-autoscaler serve`.
type serveConfig struct {
	Binary     string
	Kubeconfig string
	Policy     string
	// DefaultPolicy is written and used when Policy is empty.
	DefaultPolicy []byte
	CertDir       string
	SecurePort    int
	MetricsPort   int
	Log           string
}

// serveArgs are serve's flags: adapter on 127.0.0.1:SecurePort with delegated authn/authz to the
// local cluster, scaler without leader election, metrics on 127.0.0.1:MetricsPort. The rate
// windows are shortened to match the time-compressed replay.
func serveArgs(c serveConfig) []string {
	return []string{
		"serve",
		"--secure-port=" + strconv.Itoa(c.SecurePort),
		"--bind-address=127.0.0.1",
		"--cert-dir=" + c.CertDir,
		"--authentication-kubeconfig=" + c.Kubeconfig,
		"--authorization-kubeconfig=" + c.Kubeconfig,
		"--lister-kubeconfig=" + c.Kubeconfig,
		"--policy=" + c.Policy,
		"--metrics-bind-address=127.0.0.1:" + strconv.Itoa(c.MetricsPort),
		"--leader-elect=false",
		"--hsds-namespaces=" + namespace,
		"--rate-window=10s",
		"--short-rate-window=5s",
		"-v=2", // every decision with its figures in serve.log
	}
}

// startServe writes the default policy (when none was given), starts serve and waits until its metrics
// listener answers.
func startServe(ctx context.Context, c serveConfig, tmp string) (*proc.Process, error) {
	if c.Policy == "" {
		c.Policy = filepath.Join(tmp, "policy.yaml")
		if err := os.WriteFile(c.Policy, c.DefaultPolicy, 0o644); err != nil {
			return nil, fmt.Errorf("writing the demo policy: %w", err)
		}
	}
	p, err := proc.Start("hsds-autoscaler serve", c.Binary, serveArgs(c), c.Log)
	if err != nil {
		return nil, err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", c.MetricsPort)
	if err := waitHTTP(ctx, p, url, 60*time.Second); err != nil {
		_ = p.Stop(5 * time.Second)
		return nil, fmt.Errorf("hsds-autoscaler serve did not come up (log %s): %w", c.Log, err)
	}
	return p, nil
}

// waitHTTP polls url until it answers 200, the process exits, or timeout passes.
func waitHTTP(ctx context.Context, p *proc.Process, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		if exited, err := p.Exited(); exited {
			return fmt.Errorf("%s exited: %w", p.Name, err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if rsp, err := client.Do(req); err == nil {
			_ = rsp.Body.Close()
			if rsp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", url, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// freePorts returns n distinct free TCP ports on 127.0.0.1.
func freePorts(n int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, l := range lns {
			_ = l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("picking a free port: %w", err)
		}
		lns = append(lns, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
