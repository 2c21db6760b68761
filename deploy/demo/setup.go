package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/provider"
	"github.com/hsds-autoscaler/hsds-autoscaler/bench/loadgen"
	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/demo/internal/replay"
	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/demo/internal/view"
	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/internal/controlplane"
)

// env is what setUp brought up.
type env struct {
	cluster  *controlplane.Cluster
	node     Node
	serveURL string      // serve's /metrics
	prom     *prometheus // nil without Prometheus
	load     *load
	header   view.Header
}

// setUp starts the control plane, the hsds Deployment and its fake node, serve, the APIService
// registration and Prometheus; each step registers its own cleanup first.
func (d *demo) setUp(ctx context.Context, plan replay.Plan) (*env, error) {
	t0 := time.Now()
	e := &env{}
	if err := d.startCluster(ctx, e); err != nil {
		return nil, err
	}
	d.timings.ControlPlane = time.Since(t0)
	d.say("control plane ready in %s (kubeconfig %s)", d.timings.ControlPlane.Round(100*time.Millisecond), e.cluster.Kubeconfig)
	t1 := time.Now()
	if err := d.startPods(ctx, e); err != nil {
		return nil, err
	}
	domains, err := d.writeDomains(ctx, e)
	if err != nil {
		return nil, err
	}
	d.say("offering the slice's first rate (%.1f req/s) to the pods", plan.Rate(0))
	l, err := startLoad(ctx, e.node, plan, d.o.Seed, domains)
	if err != nil {
		return nil, err
	}
	d.onCleanup(l.Stop)
	e.load = l
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	d.say("starting hsds-autoscaler serve (adapter https://127.0.0.1:%d, metrics http://127.0.0.1:%d/metrics)", ports[0], ports[1])
	policy := demoPolicy
	if d.o.HSDS == HSDSReal {
		policy = demoPolicyReal
	}
	serve, err := startServe(ctx, serveConfig{Binary: filepath.Join(d.o.Bin, "hsds-autoscaler"), Kubeconfig: e.cluster.Kubeconfig,
		Policy: d.o.Policy, DefaultPolicy: policy, CertDir: filepath.Join(d.tmp, "serve-certs"), SecurePort: ports[0], MetricsPort: ports[1],
		Log: filepath.Join(d.o.Out, "serve.log")}, d.tmp)
	if err != nil {
		return nil, err
	}
	d.onCleanup(func() error { return serve.Stop(10 * time.Second) })
	e.serveURL = fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[1])
	d.say("registering custom.metrics.k8s.io (ExternalName Service -> localhost:%d)", ports[0])
	if err := registerAPIService(ctx, e.cluster, ports[0], 90*time.Second); err != nil {
		return nil, fmt.Errorf("APIService not Available (serve log %s): %w", filepath.Join(d.o.Out, "serve.log"), err)
	}
	d.startPrometheus(ctx, e, ports[1])
	d.timings.Setup = time.Since(t1)
	e.header = d.header(e)
	for _, l := range e.header {
		fmt.Fprintln(d.term.W, l)
	}
	return e, nil
}

func (d *demo) startCluster(ctx context.Context, e *env) error {
	cfg := controlplane.DefaultConfig()
	if d.o.K8sBin != "" {
		cfg.BinDir = d.o.K8sBin
	}
	cfg.Progress, cfg.Keep = d.term.W, d.o.Keep || cfg.Keep
	d.say("starting the local control plane (etcd, kube-apiserver, kube-controller-manager); the first run builds the Kubernetes binaries (7-10 min)")
	c, err := controlplane.Start(ctx, cfg)
	if err != nil {
		return fmt.Errorf("control plane: %w", err)
	}
	d.onCleanup(c.Stop)
	e.cluster = c
	return nil
}

// startPods creates the hsds Deployment and the fake node that runs its pods and, for fake pods,
// keeps HSDS's data-node count in step with the running pods (real HSDS finds its data nodes
// itself, through the API server).
func (d *demo) startPods(ctx context.Context, e *env) error {
	kind := "fake HSDS pods"
	if d.o.HSDS == HSDSReal {
		kind = fmt.Sprintf("real HSDS 0.9.4 pods (a network namespace each on %s, logs in %s)", realCIDR, filepath.Join(d.o.Out, "pods"))
	}
	d.say("creating Deployment %s/%s (%d replicas, label app=hsds); fake node running %s with %d pod slots, cluster autoscaler adds a slot after %s",
		namespace, deploymentName, d.o.InitialReplicas, kind, d.o.Slots, d.o.ScaleUpDelay)
	if err := createDeployment(ctx, e.cluster, d.o.InitialReplicas, d.o.HSDS == HSDSReal); err != nil {
		return err
	}
	node, err := newNode(e.cluster, d.o)
	if err != nil {
		return err
	}
	if err := node.Start(ctx); err != nil {
		return fmt.Errorf("fake node: %w", err)
	}
	d.onCleanup(func() error { node.Stop(); return nil })
	e.node = node
	wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if err := waitEndpoints(wctx, node, min(d.o.InitialReplicas, d.o.Slots)); err != nil {
		return err
	}
	if d.o.HSDS == HSDSReal {
		return nil
	}
	rctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { runRoster(rctx, node, 250*time.Millisecond) })
	d.onCleanup(func() error { stop(); wg.Wait(); return nil })
	// The roster's first data-node count is a rescale: let the pods settle READY before the load.
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d.o.RescaleSettle + time.Second):
	}
	return nil
}

// writeDomains writes the domains the load at real pods reads, through the first pod; none for
// fake pods (they serve any path).
func (d *demo) writeDomains(ctx context.Context, e *env) ([]loadgen.HSDSDomain, error) {
	if d.o.HSDS != HSDSReal {
		return nil, nil
	}
	sn := e.node.Endpoints()[0].ClientURL // waitEndpoints: at least one Ready pod
	d.say("writing %d domains through %s (h5pyd-like requests: domain GETs, dataset reads, POST selections)", realDomains, sn)
	ds, err := loadgen.CreateHSDSDomains(ctx, sn, "/home/demo", realDomains)
	if err != nil {
		return nil, fmt.Errorf("HSDS domains: %w", err)
	}
	return ds, nil
}

// startPrometheus runs Prometheus when its binary exists; without it the demo goes on.
func (d *demo) startPrometheus(ctx context.Context, e *env, serveMetricsPort int) {
	if d.o.Prometheus == "" || !isExecutable(d.o.Prometheus) {
		d.say("Prometheus not found (%q): running without it", d.o.Prometheus)
		return
	}
	p, err := startPrometheus(ctx, d.o.Prometheus, d.tmp, filepath.Join(d.o.Out, "prometheus.log"), serveMetricsPort)
	if err != nil {
		d.say("Prometheus failed to start, running without it: %v", err)
		return
	}
	d.onCleanup(func() error { return p.Proc.Stop(5 * time.Second) })
	if err := p.UpdateTargets(e.node.Endpoints()); err != nil {
		d.say("Prometheus targets: %v", err)
	}
	e.prom = p
}

// header lists what the user can look at while the demo runs.
func (d *demo) header(e *env) view.Header {
	kubectl := e.cluster.Binaries.Kubectl
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, kubectl); err == nil && !strings.HasPrefix(rel, "..") {
			kubectl = rel
		}
	}
	h := view.Header{
		fmt.Sprintf("try:   %s --kubeconfig=%s get --raw '%s'", kubectl, e.cluster.Kubeconfig, customMetricsPath(provider.Metric503Rate)),
		fmt.Sprintf("       %s --kubeconfig=%s get deploy,pods,events", kubectl, e.cluster.Kubeconfig),
	}
	if e.prom != nil {
		h = append(h, fmt.Sprintf("prometheus: %s  (e.g. sum by (cause) (rate(hsds_agent_responses_total{code=\"503\"}[10s])))", e.prom.URL))
	}
	return h
}
