package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter"
	"github.com/hsds-autoscaler/hsds-autoscaler/bench"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
	"github.com/hsds-autoscaler/hsds-autoscaler/scaler"
	"github.com/hsds-autoscaler/hsds-autoscaler/scaler/kube"
)

// dryRunOptions are the flags of `dry-run`: a trace replay (--trace) or a live read (--live).
type dryRunOptions struct {
	policy     string
	trace      string
	live       bool
	output     string
	plot       string
	all        bool
	seed       uint64
	kubeconfig string
	observe    time.Duration
	adapter    *adapter.Options
	bench      bench.Config
}

func (o *dryRunOptions) validate() error {
	var errs []error
	if o.live == (o.trace != "") {
		errs = append(errs, errors.New("give exactly one of --trace FILE and --live"))
	}
	if o.output != "text" && o.output != "json" {
		errs = append(errs, fmt.Errorf("--output %q: want text or json", o.output))
	}
	if o.live {
		if o.policy == "" {
			errs = append(errs, errors.New("--live needs --policy (it names the target)"))
		}
		if o.plot != "" {
			errs = append(errs, errors.New("--plot goes with --trace"))
		}
		if o.observe < 2*o.adapter.Interval {
			errs = append(errs, fmt.Errorf("--observe %s: want at least two scrape intervals (%s)", o.observe, 2*o.adapter.Interval))
		}
		errs = append(errs, o.adapter.Validate())
	}
	return errors.Join(errs...)
}

func newDryRunCommand() *cobra.Command {
	o := &dryRunOptions{output: "text", seed: 1, observe: 15 * time.Second, adapter: adapter.NewOptions(), bench: bench.NewConfig()}
	cmd := &cobra.Command{
		Use:   "dry-run (--trace FILE | --live) [--policy FILE]",
		Short: "Print what a policy would do, on a recorded trace or on a live cluster, writing nothing",
		Long: "With --trace, replay the trace through the simulated HSDS cluster (as bench does) and print every\n" +
			"decision and a summary. With --live, watch the policy's target for --observe (scraping its pods'\n" +
			"agents, or Prometheus with --prometheus-url) and print what the scaler would do now; nothing is written.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDryRun(cmd.Context(), o, cmd.OutOrStdout()) },
	}
	fs := cmd.Flags()
	fs.StringVar(&o.policy, "policy", o.policy, "ScalingPolicy file (default: the built-in defaults, for --trace only).")
	fs.StringVar(&o.trace, "trace", o.trace, "Trace file (t_seconds,requests_per_second) to replay.")
	fs.BoolVar(&o.live, "live", o.live, "Read the live cluster (kubeconfig) and print what the scaler would do now.")
	fs.StringVar(&o.output, "output", o.output, "Output format: text or json.")
	fs.StringVar(&o.plot, "plot", o.plot, "With --trace: write a PNG of load, capacity and replicas over time.")
	fs.BoolVar(&o.all, "all", o.all, "Print every control step, not only those that want a change.")
	fs.Uint64Var(&o.seed, "seed", o.seed, "With --trace: simulator seed.")
	fs.StringVar(&o.kubeconfig, "kubeconfig", o.kubeconfig, "With --live: kubeconfig (default: $KUBECONFIG, ~/.kube/config, or in-cluster).")
	fs.DurationVar(&o.observe, "observe", o.observe, "With --live: how long to scrape before answering (rates need at least two scrapes).")
	o.adapter.AddFlags(fs)
	simFlags := pflag.NewFlagSet("sim", pflag.ContinueOnError)
	o.bench.AddFlags(simFlags)
	simFlags.VisitAll(func(f *pflag.Flag) {
		if strings.HasPrefix(f.Name, "sim-") || f.Name == "scenario" {
			fs.AddFlag(f)
		}
	})
	return cmd
}

func runDryRun(ctx context.Context, o *dryRunOptions, w io.Writer) error {
	if err := o.validate(); err != nil {
		return fmt.Errorf("invalid flags:\n%w", err)
	}
	quietLogs()
	if o.trace != "" {
		if err := o.bench.Complete(nil); err != nil {
			return err
		}
		_, err := bench.DryRunTrace(ctx, bench.DryRunOptions{Trace: o.trace, PolicyFile: o.policy, Scenario: o.bench.Scenario,
			Seed: o.seed, All: o.all, Output: o.output, Plot: o.plot}, w)
		return err
	}
	return runDryRunLive(ctx, o, w)
}

// quietLogs keeps the scaler's and the adapter's info lines (one per decision) out of dry-run's
// output: the printed steps say the same once, in one format. Errors still reach stderr (klog's
// stderr threshold), where they belong.
func quietLogs() {
	klog.LogToStderr(false)
	klog.SetOutput(io.Discard)
}

// runDryRunLive scrapes the target's pods for --observe while stepping a dry-run controller every
// tick (so windowed rules have history), then prints the last outcome (every one with --all).
func runDryRunLive(ctx context.Context, o *dryRunOptions, w io.Writer) error {
	pf, err := scaler.LoadPolicyFile(o.policy, scaler.TargetRequired)
	if err != nil {
		return err
	}
	rec, err := heuristics.NewHSDS(pf.Spec.Policy.Policy)
	if err != nil {
		return err
	}
	if err := targetWatched(pf.Spec.Target, o.adapter.Namespaces); err != nil {
		return fmt.Errorf("policy %s: %w", o.policy, err)
	}
	restCfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: o.kubeconfig, Precedence: clientcmd.NewDefaultClientConfigLoadingRules().Precedence},
		&clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	store, err := startCollection(ctx, o.adapter, restCfg)
	if err != nil {
		return err
	}
	live, err := kube.NewLive(restCfg, "hsds-autoscaler-dry-run")
	if err != nil {
		return err
	}
	defer live.Close()
	cfg := pf.ControllerConfig(true)
	cfg.SettledAtStart = true
	ctrl, err := scaler.NewController(cfg, live.Deps(store, rec, nil))
	if err != nil {
		return err
	}
	return observe(ctx, ctrl, cfg.Guards.Tick.Duration, o.observe, o.all, o.output, w)
}

// startCollection runs the adapter's discovery and scraping (no API server) and returns its store.
func startCollection(ctx context.Context, o *adapter.Options, cfg *rest.Config) (scaler.PodSource, error) {
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	a, err := adapter.New(*o, client, prometheus.NewRegistry(), clock.RealClock{})
	if err != nil {
		return nil, err
	}
	if err := a.Start(ctx); err != nil {
		return nil, err
	}
	go func() { <-ctx.Done(); a.Wait() }()
	return a.Store, nil
}

// latest is what the scaler would do now: the last step that wanted a change (a dry-run
// controller holds the settle time after each would-be change, so later steps say "settling"), or
// the last step when none did.
func latest(outs []scaler.Outcome) scaler.Outcome {
	for i := len(outs) - 1; i >= 0; i-- {
		if outs[i].Desired != outs[i].Current {
			return outs[i]
		}
	}
	return outs[len(outs)-1]
}

// observe steps ctrl every tick for the observation period and prints outcomes.
func observe(ctx context.Context, ctrl *scaler.Controller, tick, period time.Duration, all bool, format string, w io.Writer) error {
	start := time.Now()
	deadline := start.Add(period)
	t := time.NewTicker(tick)
	defer t.Stop()
	var outs []scaler.Outcome
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		o, err := ctrl.Step(ctx)
		if err != nil {
			klog.ErrorS(err, "Dry-run step failed")
			continue
		}
		outs = append(outs, o)
	}
	if len(outs) == 0 {
		return errors.New("no successful step during --observe")
	}
	if !all {
		outs = []scaler.Outcome{latest(outs)}
	}
	steps := make([]scaler.DryRunStep, len(outs))
	for i, o := range outs {
		steps[i] = scaler.NewDryRunStep(o, start, true)
	}
	return scaler.WriteDryRunSteps(w, format, steps)
}
