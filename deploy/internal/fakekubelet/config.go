package fakekubelet

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent"
	"github.com/hsds-autoscaler/hsds-autoscaler/agent/fakehsds"
	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/internal/controlplane"
)

// AgentPortAnnotation is the pod annotation the adapter reads for the agent port
// (adapter/discovery.AgentPortAnnotation). The fake kubelet writes it when AgentPort is 0.
const AgentPortAnnotation = "hsds-autoscaler.io/agent-port"

// Config configures a Kubelet. Build one with DefaultConfig (or DefaultRealConfig) and override
// fields.
type Config struct {
	// Mode is ModeFake (default when empty) or ModeReal; Real configures ModeReal.
	Mode string
	Real RealConfig
	// Workers is how many pods are started or stopped at once. 0: 1 in ModeFake, 4 in ModeReal
	// (a real pod takes seconds to start).
	Workers int
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
	// free port (ModeReal: 5101, 6101, 9090 and 5190). With AgentPort 0 the pod gets
	// AgentPortAnnotation so the adapter finds its agent. ProxyPort is used only with
	// Agent.Source "proxy".
	SNPort, DNPort, AgentPort, ProxyPort int
	// HSDS is the fake HSDS configuration of every pod (ModeFake); NodeID is set to the pod name.
	HSDS fakehsds.Config
	// Agent is the agent configuration of every pod; SNURL, DNURL, Listen and ProxyListen are
	// set per pod (and MaxTaskCount in ModeReal, from RealConfig).
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

// DefaultRealConfig is DefaultConfig in ModeReal: the agent reads 0.9.4's /info (source info),
// the pods' hsds-agent is agentBin, and the pods reach the API server at apiServerURL (verified
// with caFile), e.g. controlplane.Cluster.APIServerURL and .PKI.ServingCA.
func DefaultRealConfig(namespace, agentBin, apiServerURL, caFile string) Config {
	c := DefaultConfig(namespace)
	c.Mode = ModeReal
	c.Agent.Source = schema.SourceInfo
	c.Real = RealConfig{AgentBin: agentBin, APIServerURL: apiServerURL, CAFile: caFile}
	return c
}

func (c Config) mode() string {
	if c.Mode == "" {
		return ModeFake
	}
	return c.Mode
}

func (c Config) workers() int {
	switch {
	case c.Workers > 0:
		return c.Workers
	case c.mode() == ModeReal:
		return 4
	default:
		return 1
	}
}

// AgentFlags returns the hsds-agent command line that configures it as o (every flag, --name=value).
func AgentFlags(o agent.Options) []string {
	fs := pflag.NewFlagSet("hsds-agent", pflag.ContinueOnError)
	o.AddFlags(fs)
	var args []string
	fs.VisitAll(func(f *pflag.Flag) { args = append(args, "--"+f.Name+"="+f.Value.String()) })
	return args
}

// Validate returns every problem with c at once.
func (c Config) Validate() error {
	var errs []error
	switch c.mode() {
	case ModeFake:
	case ModeReal:
		errs = append(errs, c.validateReal())
	default:
		errs = append(errs, fmt.Errorf("mode %q: want %s or %s", c.Mode, ModeFake, ModeReal))
	}
	if c.Workers < 0 {
		errs = append(errs, errors.New("workers must be >= 0"))
	}
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
	if err := c.HSDS.Validate(); err != nil && c.mode() == ModeFake {
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
