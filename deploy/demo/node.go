package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/fakehsds"
	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/internal/controlplane"
	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/internal/fakekubelet"
)

// Endpoint is one running HSDS pod as the demo uses it.
type Endpoint struct {
	Name, IP  string
	ClientURL string // where clients send requests (the SN, or the agent's proxy)
	AgentURL  string // the agent's base URL (/metrics)
	// Ready is the pod's Ready condition as the node wrote it (real pods: the SN is READY).
	Ready bool
	// SetDNCount tells the pod's fake HSDS how many data nodes the cluster has (a rescale); nil
	// for real pods, which find their data nodes themselves through the API server.
	SetDNCount func(n int)
}

// Node plays kubelet (and the cluster autoscaler) for the demo's HSDS pods.
type Node interface {
	Start(ctx context.Context) error
	Stop()
	Endpoints() []Endpoint
}

// kubeletNode is a Node backed by deploy/internal/fakekubelet: fake HSDS pods, or real ones.
type kubeletNode struct{ k *fakekubelet.Kubelet }

// Real pods' network (a bridge and a namespace per pod, named from realPrefix): their own /24 and
// prefix, apart from the real-pod e2e tests' (10.77.14-24.0/24; fakekubelet removes a killed
// run's leftovers by prefix at Start), so that the demo and a test never touch each other's.
const (
	realPrefix = "hsdsd"
	realCIDR   = "10.77.60.0/24"
)

// newNode returns the fake node of the demo's pods: fake HSDS pods, or with --hsds real real
// HSDS 0.9.4 pods that reach the cluster's API server (c) and keep their logs in <out>/pods.
func newNode(c *controlplane.Cluster, o *Options) (*kubeletNode, error) {
	cfg := fakekubelet.DefaultConfig(namespace)
	if o.HSDS == HSDSReal {
		cfg = fakekubelet.DefaultRealConfig(namespace, filepath.Join(o.Bin, "hsds-agent"), c.APIServerURL, c.PKI.ServingCA)
		cfg.Real.Prefix, cfg.Real.CIDR, cfg.Real.MaxTaskCount = realPrefix, realCIDR, o.MaxTaskCount
		cfg.Real.LogDir = filepath.Join(o.Out, "pods")
		cfg.Agent.PollInterval = 250 * time.Millisecond // as the real-pod e2e tests
		if err := os.MkdirAll(cfg.Real.LogDir, 0o755); err != nil {
			return nil, err
		}
	} else {
		cfg.HSDS = hsdsConfig(o)
	}
	cfg.Slots, cfg.ScaleUpDelay = o.Slots, o.ScaleUpDelay
	k, err := fakekubelet.New(c.Client, cfg)
	if err != nil {
		return nil, err
	}
	return &kubeletNode{k: k}, nil
}

// hsdsConfig is the fake HSDS configuration of every pod.
func hsdsConfig(o *Options) fakehsds.Config {
	c := fakehsds.DefaultConfig()
	c.MaxTaskCount = o.MaxTaskCount
	c.ServiceTime, _ = fakehsds.ParseDistribution(o.ServiceTime) // validated by Options.Validate
	c.RescaleSettle = o.RescaleSettle
	c.GateJamChance = o.GateJamChance
	c.GateJamMin, c.GateJamMax = fakehsds.MeasuredKube094GateJamMin, fakehsds.MeasuredKube094GateJamMax
	c.Seed = o.Seed
	return c
}

func (n *kubeletNode) Start(ctx context.Context) error { return n.k.Start(ctx) }
func (n *kubeletNode) Stop()                           { n.k.Stop() }

func (n *kubeletNode) Endpoints() []Endpoint {
	pods := n.k.Pods()
	out := make([]Endpoint, len(pods))
	for i, p := range pods {
		out[i] = Endpoint{Name: p.Name, IP: p.IP, ClientURL: p.ClientURL(), AgentURL: p.AgentURL, Ready: p.Ready()}
		if p.HSDS != nil {
			out[i].SetDNCount = p.HSDS.SetDNCount
		}
	}
	return out
}

// runRoster plays HSDS's own cluster membership for fake pods (real ones list the pods
// themselves): whenever the set of running pods changes, every
// pod learns the new data-node count (HSDS 1.0.1: its nodes go WAITING for the rescale settle,
// then READY). It returns when ctx ends.
func runRoster(ctx context.Context, node Node, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	known := map[string]bool{}
	for {
		eps := node.Endpoints()
		if rosterChanged(known, eps) {
			known = map[string]bool{}
			for _, e := range eps {
				known[e.Name] = true
			}
			for _, e := range eps {
				e.SetDNCount(len(eps))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// rosterChanged reports whether eps names a different set of pods than known. An empty roster
// never counts as a change (nothing to tell).
func rosterChanged(known map[string]bool, eps []Endpoint) bool {
	if len(eps) == 0 {
		return false
	}
	if len(eps) != len(known) {
		return true
	}
	for _, e := range eps {
		if !known[e.Name] {
			return true
		}
	}
	return false
}

// waitEndpoints waits until node runs n Ready pods.
func waitEndpoints(ctx context.Context, node Node, n int) error {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	ready := func() int {
		r := 0
		for _, e := range node.Endpoints() {
			if e.Ready {
				r++
			}
		}
		return r
	}
	for {
		if ready() >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d Ready HSDS pods (have %d): %w", n, ready(), ctx.Err())
		case <-t.C:
		}
	}
}
