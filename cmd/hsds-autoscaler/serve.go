package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
	"github.com/hsds-autoscaler/hsds-autoscaler/internal/version"
	"github.com/hsds-autoscaler/hsds-autoscaler/scaler"
	"github.com/hsds-autoscaler/hsds-autoscaler/scaler/autoscalers"
	"github.com/hsds-autoscaler/hsds-autoscaler/scaler/kube"
)

// serveOptions are the flags of `serve`: the adapter's (custom-metrics API server, discovery,
// scraping), the scaler's (policy, dry-run, leader election) and the metrics listener.
type serveOptions struct {
	adapter     *adapter.ServeOptions
	scaler      *scaler.Options
	metricsAddr string
	// objects: reconcile the HSDSAutoscaler objects of the watched namespaces (--hsds-autoscalers).
	objects bool
}

func newServeOptions() *serveOptions {
	o := &serveOptions{adapter: adapter.NewServeOptions(), scaler: scaler.NewOptions(), metricsAddr: ":8080", objects: true}
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
		o.scaler.LeaderElection.Namespace = ns
	}
	return o
}

func (o *serveOptions) validate() error {
	rule := scaler.PolicyRequired
	if o.objects {
		rule = scaler.PolicyOptional
	}
	errs := []error{o.adapter.Validate(), o.scaler.ValidateFor(rule)}
	if _, _, err := net.SplitHostPort(o.metricsAddr); err != nil {
		errs = append(errs, fmt.Errorf("--metrics-bind-address %q: %w", o.metricsAddr, err))
	}
	return errors.Join(errs...)
}

func newServeCommand() *cobra.Command {
	o := newServeOptions()
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve custom.metrics.k8s.io from the agents' figures and scale the target by the policy",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runServe(cmd.Context(), o) },
	}
	fs := cmd.Flags()
	o.adapter.AddFlags(fs)
	o.scaler.AddFlags(fs)
	fs.BoolVar(&o.objects, "hsds-autoscalers", o.objects, "Scale the target of every HSDSAutoscaler object in the watched namespaces (--hsds-namespaces), if the CRD is installed; --policy=\"\" then scales no other target.")
	fs.StringVar(&o.metricsAddr, "metrics-bind-address", o.metricsAddr, "Plain-HTTP address of /metrics (the adapter's and scaler's own metrics) for Prometheus.")
	gofs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(gofs)
	fs.AddGoFlagSet(gofs)
	return cmd
}

// runServe loads the policy file if one is given (refusing to start on any problem), builds the
// adapter and its API server, starts collection, then runs three siblings in one errgroup: the
// metrics listener, the custom-metrics API server and the scaler (under leader election: the
// policy file's target and the HSDSAutoscaler objects'). The first of them to fail stops the
// others, and its error is returned.
func runServe(ctx context.Context, o *serveOptions) error {
	if err := o.validate(); err != nil {
		return fmt.Errorf("invalid flags:\n%w", err)
	}
	pf, err := loadPolicy(o)
	if err != nil {
		return err
	}
	reg := newMetricsRegistry()
	m, err := scaler.NewMetrics(reg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.metricsAddr)
	if err != nil {
		return fmt.Errorf("metrics listener: %w", err)
	}
	klog.InfoS("Starting hsds-autoscaler", "version", versionString(), "policy", o.scaler.PolicyFile,
		"target", policyTarget(pf), "hsdsAutoscalers", o.objects, "dryRun", o.scaler.DryRun, "metrics", ln.Addr().String())

	srv, err := adapter.NewServer(o.adapter, reg)
	if err != nil {
		_ = ln.Close()
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, ctx := errgroup.WithContext(ctx)
	if err := srv.Start(ctx); err != nil { // pod informers synced, collection rounds running
		_ = ln.Close()
		return err
	}
	g.Go(func() error { return serveMetrics(ctx, ln, reg) })
	g.Go(func() error { return srv.Serve(ctx) })
	g.Go(func() error { return runScaler(ctx, o, pf, m, srv.Adapter) })
	err = g.Wait()
	cancel()
	srv.Wait()
	return err
}

// loadPolicy loads and checks --policy; none given (only with --hsds-autoscalers): nil.
func loadPolicy(o *serveOptions) (*scaler.PolicyFile, error) {
	if o.scaler.PolicyFile == "" {
		return nil, nil
	}
	pf, err := scaler.LoadPolicyFile(o.scaler.PolicyFile, scaler.TargetRequired)
	if err != nil {
		return nil, err
	}
	if err := pf.Spec.Policy.Validate(); err != nil {
		return nil, fmt.Errorf("policy %s: %w", o.scaler.PolicyFile, err)
	}
	if err := targetWatched(pf.Spec.Target, o.adapter.Adapter.Namespaces); err != nil {
		return nil, fmt.Errorf("policy %s: %w", o.scaler.PolicyFile, err)
	}
	return pf, nil
}

func policyTarget(pf *scaler.PolicyFile) string {
	if pf == nil {
		return ""
	}
	return pf.Spec.Target.String()
}

// targetWatched refuses a target outside the watched namespaces (none given: all are watched):
// the adapter would never see its pods, and the namespaced RBAC shipped for those namespaces
// would not let the scaler touch it.
func targetWatched(t scaler.Target, namespaces []string) error {
	if len(namespaces) == 0 || slices.Contains(namespaces, t.Namespace) {
		return nil
	}
	return fmt.Errorf("spec.target.namespace %q is not among --hsds-namespaces %v", t.Namespace, namespaces)
}

// newMetricsRegistry is the registry of serve's /metrics with the Go runtime, process and build
// collectors; the adapter and the scaler add theirs.
func newMetricsRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		version.Get().NewCollector(buildInfoMetric, "Always 1: the version, source revision and Go version hsds-autoscaler was built from."))
	return reg
}

// runScaler runs, on the leader only, the control loop of the policy file's target and one per
// HSDSAutoscaler object. Each decides on every tick and as soon as a scrape round completes.
func runScaler(ctx context.Context, o *serveOptions, pf *scaler.PolicyFile, m *scaler.Metrics, a *adapter.Adapter) error {
	cfg, err := o.adapter.Base.ClientConfig()
	if err != nil {
		return err
	}
	live, err := kube.NewLive(cfg, "hsds-autoscaler")
	if err != nil {
		return err
	}
	defer live.Close()
	var loops []func(context.Context) error
	if pf != nil {
		rec, err := heuristics.NewHSDS(pf.Spec.Policy.Policy)
		if err != nil {
			return fmt.Errorf("policy %s: %w", o.scaler.PolicyFile, err)
		}
		deps := live.Deps(a.Store, rec, m)
		deps.Fresh = a.Loop.NextRound
		run := keepLearned(o, pf, live.Client, rec, &deps)
		ctrl, err := scaler.NewController(o.scaler.ControllerConfig(pf), deps)
		if err != nil {
			return err
		}
		loops = append(loops, func(ctx context.Context) error { return run(ctx, ctrl.Run) })
	}
	if o.objects {
		loop, err := objectsLoop(cfg, o, pf, live.Deps(a.Store, nil, m), a)
		if err != nil {
			return err
		}
		if loop != nil {
			loops = append(loops, loop)
		}
	}
	if len(loops) == 0 {
		return errors.New("nothing to scale: no --policy, and no HSDSAutoscaler CRD installed (deploy/base/crd)")
	}
	run := func(ctx context.Context) error {
		waitFirstRound(ctx, a.Loop.FirstRound(), firstRoundWait)
		g, ctx := errgroup.WithContext(ctx)
		for _, loop := range loops {
			g.Go(func() error { return loop(ctx) })
		}
		return g.Wait()
	}
	if !o.scaler.LeaderElection.Enabled {
		m.SetLeader(true)
		return run(ctx)
	}
	var runErr error
	err = kube.RunWithLeaderElection(ctx, kube.LeaderElectionConfig{Client: live.Client, Options: o.scaler.LeaderElection, OnLeaderChange: m.SetLeader},
		func(ctx context.Context) { runErr = run(ctx) })
	return errors.Join(err, runErr)
}

// keepLearned wires --learned-configmap: the returned run restores the saved state before the
// controller's loop, saves it from the loop's steps (deps.OnStep) and once more when the loop ends.
// Without the flag, run is the loop alone.
func keepLearned(o *serveOptions, pf *scaler.PolicyFile, client kubernetes.Interface, rec heuristics.Learner, deps *scaler.Deps) func(context.Context, func(context.Context) error) error {
	if o.scaler.LearnedConfigMap == "" {
		return func(ctx context.Context, loop func(context.Context) error) error { return loop(ctx) }
	}
	k := &scaler.LearnedKeeper{Learner: rec, Interval: autoscalers.LearnedWriteInterval, DryRun: o.scaler.DryRun,
		Store: &kube.ConfigMapLearned{Client: client, Namespace: o.scaler.LeaderElection.Namespace,
			Name: o.scaler.LearnedConfigMap, Key: kube.LearnedKey(pf.Spec.Target)}}
	deps.OnStep = k.OnStep
	return k.Run
}

// firstRoundWait bounds how long the scaler waits for the first collection round before its
// first decisions.
const firstRoundWait = 30 * time.Second

// waitFirstRound waits until first is closed (the first collection round completed), at most
// limit: decisions before it would all be no-data (and each HSDSAutoscaler's status would show
// that after every restart). After limit the loops start anyway (their guards hold on no data);
// when ctx ends first, they start and stop at once.
func waitFirstRound(ctx context.Context, first <-chan struct{}, limit time.Duration) {
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-first:
	case <-ctx.Done():
	case <-t.C:
		klog.InfoS("No complete collection round yet; the scaler starts without one", "waited", limit)
	}
}

// objectsLoop is the loop of the HSDSAutoscaler objects in the watched namespaces, or nil when
// the CRD is not installed (then only the policy file's target is scaled).
func objectsLoop(cfg *rest.Config, o *serveOptions, pf *scaler.PolicyFile, deps scaler.Deps, a *adapter.Adapter) (func(context.Context) error, error) {
	src, err := kube.NewAutoscalers(cfg, o.adapter.Adapter.Namespaces)
	if err != nil {
		return nil, err
	}
	installed, err := src.Installed()
	if err != nil {
		return nil, err
	}
	if !installed {
		klog.InfoS("The HSDSAutoscaler CRD is not installed; scaling the policy file's target only")
		return nil, nil
	}
	deps.Fresh = a.Loop.NextRound
	opts := autoscalers.Options{DryRun: o.scaler.DryRun, DeleteStuckPods: o.scaler.DeleteStuckPods}
	if pf != nil {
		opts.Exclude = pf.Spec.Target.Key()
	}
	mgr := autoscalers.NewManager(deps, src, opts)
	return func(ctx context.Context) error { return mgr.Run(ctx, src) }, nil
}

// serveMetrics serves reg on ln until ctx ends.
func serveMetrics(ctx context.Context, ln net.Listener, reg *prometheus.Registry) error {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("metrics listener: %w", err)
	}
	return nil
}
