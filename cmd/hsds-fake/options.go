package main

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/spf13/pflag"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/fakehsds"
)

// Options are the command-line flags of hsds-fake.
type Options struct {
	SNListen      string
	DNListen      string
	MaxTaskCount  int
	DNCount       int
	Version       string
	Metrics       bool
	NoMetrics     bool
	State         string
	StickyWaiting bool
	ServiceTime   string
	RescaleSettle time.Duration
	Seed          uint64
	NodeID        string
	// Measured on the real HSDS 0.9.4 (docs/fake-hsds.md); off by default.
	BackgroundTasks int
	LoopCost        time.Duration
	Roster          string
	DNDropAfter     time.Duration
	Domains         []string
	// The scale-down gate jam measured on 0.9.4 in Kubernetes mode (docs/fake-hsds.md); off
	// (chance 0) by default, its window the measured 28-32 s.
	GateJamChance          float64
	GateJamMin, GateJamMax time.Duration

	metricsSet bool // --metrics given explicitly
}

// NewOptions returns the defaults: a READY HSDS 1.0.1 pod on HSDS's ports at 127.0.0.1.
func NewOptions() *Options {
	d := fakehsds.DefaultConfig()
	return &Options{
		SNListen:      "127.0.0.1:5101",
		DNListen:      "127.0.0.1:6101",
		MaxTaskCount:  d.MaxTaskCount,
		DNCount:       d.DNCount,
		Version:       d.Version,
		State:         d.InitialState,
		ServiceTime:   "fixed:" + fakehsds.DefaultServiceTime.String(),
		RescaleSettle: d.RescaleSettle,
		Seed:          d.Seed,
		NodeID:        d.NodeID,
		GateJamMin:    fakehsds.MeasuredKube094GateJamMin,
		GateJamMax:    fakehsds.MeasuredKube094GateJamMax,
	}
}

// AddFlags registers the flags on fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.SNListen, "sn-listen", o.SNListen, "address of the service node (HSDS port 5101); port 0 picks a free one")
	fs.StringVar(&o.DNListen, "dn-listen", o.DNListen, "address of the data node (HSDS port 6101); port 0 picks a free one")
	fs.IntVar(&o.MaxTaskCount, "max-task-count", o.MaxTaskCount, "SN task gate limit (HSDS max_task_count); 0 disables the gate")
	fs.IntVar(&o.DNCount, "dn-count", o.DNCount, "data nodes in the cluster (node_count)")
	fs.StringVar(&o.Version, "version", o.Version, `HSDS version to present ("1.0.1" or "0.9.4")`)
	fs.BoolVar(&o.Metrics, "metrics", false, "serve 1.x /metrics (default: on for 1.x versions, off for 0.x)")
	fs.BoolVar(&o.NoMetrics, "no-metrics", false, "do not serve /metrics (0.9.x behaviour)")
	fs.StringVar(&o.State, "state", o.State, "initial node state: READY, WAITING or TERMINATING")
	fs.BoolVar(&o.StickyWaiting, "sticky-waiting", o.StickyWaiting, "HSDS issue 423: once WAITING, stay WAITING until restarted (POST /fake/restart)")
	fs.StringVar(&o.ServiceTime, "service-time", o.ServiceTime, `time one fan-out task takes: "fixed:5ms", "exp:5ms" (mean) or "lognormal:5ms,0.5" (median,sigma)`)
	fs.DurationVar(&o.RescaleSettle, "rescale-settle", o.RescaleSettle, "how long nodes stay WAITING after a DN count change or restart; 0 disables")
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "seed of the service-time samples")
	fs.StringVar(&o.NodeID, "node-id", o.NodeID, `base of the node ids ("sn-<id>", "dn-<id>")`)
	fs.IntVar(&o.BackgroundTasks, "background-tasks", o.BackgroundTasks, "SN background tasks its gate counts (real 0.9.4: 2)")
	fs.DurationVar(&o.LoopCost, "loop-cost", o.LoopCost, "SN event-loop time per request pass; passes queue one at a time (0: no event-loop model; calibrated 0.9.4: 500us)")
	fs.StringVar(&o.Roster, "roster", o.Roster, `how nodes learn the DNs: "kubernetes", "head" or "standalone" (empty: kubernetes)`)
	fs.DurationVar(&o.DNDropAfter, "dn-drop-after", o.DNDropAfter, "how long a stopped DN (PUT /fake/dn?up=false) stays in the roster, its keys answering 500; 0: the roster's default (head 10-30s, kubernetes 9-20s, standalone never); negative: never")
	fs.StringSliceVar(&o.Domains, "domain", o.Domains, "a domain that exists from the start (repeatable); GET /?domain= of any other answers 404 until PUT creates it")
	fs.Float64Var(&o.GateJamChance, "gate-jam-chance", o.GateJamChance, "chance that a scale-down (PUT /fake/dncount to a lower n) jams the SN's gate for a draw in [--gate-jam-min, --gate-jam-max]: every gated request 503s (overload); 0 off (measured 0.9.4 in Kubernetes mode, pods without a preStop sleep: 0.9)")
	fs.DurationVar(&o.GateJamMin, "gate-jam-min", o.GateJamMin, "shortest scale-down gate jam (measured: 28s)")
	fs.DurationVar(&o.GateJamMax, "gate-jam-max", o.GateJamMax, "longest scale-down gate jam (measured: 32s)")
}

// Complete records which flags were set explicitly; call it after parsing.
func (o *Options) Complete(fs *pflag.FlagSet) {
	o.metricsSet = fs.Changed("metrics")
}

// Validate returns every problem at once: flags, addresses and the resulting Config.
func (o *Options) Validate() error {
	var errs []error
	for name, addr := range map[string]string{"--sn-listen": o.SNListen, "--dn-listen": o.DNListen} {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", name, addr, err))
		}
	}
	if o.metricsSet && o.Metrics && o.NoMetrics {
		errs = append(errs, errors.New("--metrics and --no-metrics both given"))
	}
	cfg, err := o.Config()
	if err != nil {
		errs = append(errs, err)
		cfg.ServiceTime = fakehsds.Fixed(0) // still check every other field
	}
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Config turns the options into a fakehsds.Config. On a bad --service-time it returns the error
// with the rest of the Config filled in (ServiceTime nil).
func (o *Options) Config() (fakehsds.Config, error) {
	dist, err := fakehsds.ParseDistribution(o.ServiceTime)
	if err != nil {
		err = fmt.Errorf("--service-time: %w", err)
	}
	metrics := fakehsds.MetricsByDefault(o.Version)
	if o.metricsSet {
		metrics = o.Metrics
	}
	if o.NoMetrics {
		metrics = false
	}
	return fakehsds.Config{
		MaxTaskCount:  o.MaxTaskCount,
		DNCount:       o.DNCount,
		ServiceTime:   dist,
		Version:       o.Version,
		Metrics:       metrics,
		InitialState:  o.State,
		StickyWaiting: o.StickyWaiting,
		NodeID:        o.NodeID,
		RescaleSettle: o.RescaleSettle,
		Seed:          o.Seed,

		BackgroundTasks: o.BackgroundTasks,
		LoopCost:        o.LoopCost,
		Roster:          o.Roster,
		DNDropAfter:     o.DNDropAfter,
		Domains:         o.Domains,
		GateJamChance:   o.GateJamChance,
		GateJamMin:      o.GateJamMin,
		GateJamMax:      o.GateJamMax,
	}, err
}
