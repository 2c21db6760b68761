package main

import (
	"context"
	"fmt"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/fakehsds"
	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/internal/fakekubelet"
)

// Endpoint is one running HSDS pod as the demo uses it.
type Endpoint struct {
	Name, IP  string
	ClientURL string // where clients send requests (the SN, or the agent's proxy)
	AgentURL  string // the agent's base URL (/metrics)
	// SetDNCount tells the pod's HSDS how many data nodes the cluster has (a rescale).
	SetDNCount func(n int)
}

// Node plays kubelet (and the cluster autoscaler) for the demo's HSDS pods.
type Node interface {
	Start(ctx context.Context) error
	Stop()
	Endpoints() []Endpoint
}

// fakeNode is a Node backed by deploy/internal/fakekubelet.
type fakeNode struct{ k *fakekubelet.Kubelet }

func newFakeNode(client kubernetes.Interface, namespace string, o *Options) (*fakeNode, error) {
	cfg := fakekubelet.DefaultConfig(namespace)
	cfg.Slots, cfg.ScaleUpDelay = o.Slots, o.ScaleUpDelay
	cfg.HSDS = hsdsConfig(o)
	k, err := fakekubelet.New(client, cfg)
	if err != nil {
		return nil, err
	}
	return &fakeNode{k: k}, nil
}

// hsdsConfig is the fake HSDS configuration of every pod.
func hsdsConfig(o *Options) fakehsds.Config {
	c := fakehsds.DefaultConfig()
	c.MaxTaskCount = o.MaxTaskCount
	c.ServiceTime, _ = fakehsds.ParseDistribution(o.ServiceTime) // validated by Options.Validate
	c.RescaleSettle = o.RescaleSettle
	c.Seed = o.Seed
	return c
}

func (n *fakeNode) Start(ctx context.Context) error { return n.k.Start(ctx) }
func (n *fakeNode) Stop()                           { n.k.Stop() }

func (n *fakeNode) Endpoints() []Endpoint {
	pods := n.k.Pods()
	out := make([]Endpoint, len(pods))
	for i, p := range pods {
		out[i] = Endpoint{Name: p.Name, IP: p.IP, ClientURL: p.ClientURL(), AgentURL: p.AgentURL, SetDNCount: p.HSDS.SetDNCount}
	}
	return out
}

// runRoster plays HSDS's own cluster membership: whenever the set of running pods changes, every
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

// waitEndpoints waits until node runs n pods.
func waitEndpoints(ctx context.Context, node Node, n int) error {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		if len(node.Endpoints()) >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d running HSDS pods (have %d): %w", n, len(node.Endpoints()), ctx.Err())
		case <-t.C:
		}
	}
}
