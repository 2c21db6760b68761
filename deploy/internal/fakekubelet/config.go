package fakekubelet

import (
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent"
	"github.com/hsds-autoscaler/hsds-autoscaler/agent/fakehsds"
	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/internal/controlplane"
)

// AgentPortAnnotation is the pod annotation the adapter reads for the agent port
// (adapter/discovery.AgentPortAnnotation). The fake kubelet writes it when AgentPort is 0.
const AgentPortAnnotation = "hsds-autoscaler.io/agent-port"

// Config configures a Kubelet. Build one with DefaultConfig and override fields.
type Config struct {
	// Namespace whose pods this node runs (required).
	Namespace string
	// Selector picks the pods (kubectl syntax). Default "app=hsds".
	Selector string
	// Slots is how many pods fit on the node; <= 0 means unlimited.
	Slots int
	// ScaleUpDelay is the simulated cluster autoscaler: once a pod has been Unschedulable this
	// long, one slot is added for it. 0 means no cluster autoscaler (only AddSlots adds slots).
	ScaleUpDelay time.Duration
	// StartDelay is how long a pod that got a slot takes to become Running (image pull and
	// start-up). 0: at once.
	StartDelay time.Duration
	// SNPort, DNPort, AgentPort and ProxyPort are the ports on each pod's address; 0 picks a
	// free port. With AgentPort 0 the pod gets AgentPortAnnotation so the adapter finds its agent.
	// ProxyPort is used only with Agent.Source "proxy".
	SNPort, DNPort, AgentPort, ProxyPort int
	// HSDS is the fake HSDS configuration of every pod; NodeID is set to the pod name.
	HSDS fakehsds.Config
	// Agent is the agent configuration of every pod; SNURL, DNURL, Listen and ProxyListen are
	// set per pod.
	Agent agent.Options
	// IPs hands out the pods' addresses. Nil: a new pool (127.0.0.2 up). Share one pool between
	// Kubelets of one process so that their pods never get the same address.
	IPs *controlplane.IPPool
	// Resync is the pod informer's resync period (0: none).
	Resync time.Duration
}

// DefaultConfig returns a Config for the pods app=hsds of namespace: unlimited slots, free ports,
// fakehsds.DefaultConfig() and agent.NewOptions() (source metrics).
func DefaultConfig(namespace string) Config {
	return Config{
		Namespace: namespace,
		Selector:  "app=hsds",
		HSDS:      fakehsds.DefaultConfig(),
		Agent:     *agent.NewOptions(),
	}
}

// Validate returns every problem with c at once.
func (c Config) Validate() error {
	var errs []error
	if c.Namespace == "" {
		errs = append(errs, errors.New("namespace is required"))
	}
	if c.Selector == "" {
		errs = append(errs, errors.New("selector: want a non-empty label selector"))
	} else if _, err := labels.Parse(c.Selector); err != nil {
		errs = append(errs, fmt.Errorf("selector %q: %w", c.Selector, err))
	}
	if c.ScaleUpDelay < 0 || c.StartDelay < 0 || c.Resync < 0 {
		errs = append(errs, errors.New("scaleUpDelay, startDelay and resync must be >= 0"))
	}
	ports := []struct {
		name string
		port int
	}{{"snPort", c.SNPort}, {"dnPort", c.DNPort}, {"agentPort", c.AgentPort}, {"proxyPort", c.ProxyPort}}
	for _, p := range ports {
		if p.port < 0 || p.port > 65535 {
			errs = append(errs, fmt.Errorf("%s %d: want 0-65535", p.name, p.port))
		}
	}
	if err := c.HSDS.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("hsds: %w", err))
	}
	ao := c.podAgentOptions("127.0.0.2", "http://127.0.0.2:1", "http://127.0.0.2:2")
	if err := ao.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("agent: %w", err))
	}
	return errors.Join(errs...)
}

// podAgentOptions is the agent configuration of the pod on ip.
func (c Config) podAgentOptions(ip, snURL, dnURL string) agent.Options {
	o := c.Agent
	o.SNURL, o.DNURL = snURL, dnURL
	o.Listen = fmt.Sprintf("%s:%d", ip, c.AgentPort)
	o.ProxyListen = fmt.Sprintf("%s:%d", ip, c.ProxyPort)
	return o
}
