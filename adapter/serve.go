package adapter

import (
	"context"
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"
	cmcmd "sigs.k8s.io/custom-metrics-apiserver/pkg/cmd"
)

// ServeOptions are the options of `hsds-autoscaler serve`'s metrics side: the custom-metrics
// API server (secure serving, delegated authn/authz, --lister-kubeconfig, from
// custom-metrics-apiserver's AdapterBase) and the adapter's own Options.
type ServeOptions struct {
	Base    *cmcmd.AdapterBase
	Adapter *Options
}

// NewServeOptions returns the defaults.
func NewServeOptions() *ServeOptions {
	return &ServeOptions{Base: &cmcmd.AdapterBase{Name: "hsds-autoscaler"}, Adapter: NewOptions()}
}

// AddFlags adds every flag (AdapterBase's and the adapter's) to fs.
func (o *ServeOptions) AddFlags(fs *pflag.FlagSet) {
	o.Base.FlagSet = fs
	o.Base.InstallFlags()
	o.Adapter.AddFlags(fs)
}

// Validate returns every problem at once. Call it after flags are parsed.
func (o *ServeOptions) Validate() error {
	errs := []error{o.Adapter.Validate()}
	if o.Base.CustomMetricsAdapterServerOptions != nil {
		errs = append(errs, o.Base.Validate()...)
	}
	return errors.Join(errs...)
}

// Run builds the adapter from the lister kubeconfig (or in-cluster config), starts discovery and
// collection, and serves custom.metrics.k8s.io (v1beta1 and v1beta2), with encoded list answers
// cached (Adapter.BodyCache) and the collection probes added to /livez and /readyz, until ctx
// ends. It returns the Adapter through started (may be nil)
// as soon as it is collecting, so the caller can hand Adapter.Store to the scaler.
func Run(ctx context.Context, o *ServeOptions, reg prometheus.Registerer, started func(*Adapter)) error {
	if err := o.Validate(); err != nil {
		return err
	}
	cfg, err := o.Base.ClientConfig()
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("kubernetes client: %w", err)
	}
	a, err := New(*o.Adapter, client, reg, clock.RealClock{})
	if err != nil {
		return err
	}
	o.Base.WithCustomMetrics(a.Provider)
	srvCfg, err := o.Base.Config()
	if err != nil {
		return fmt.Errorf("custom-metrics server config: %w", err)
	}
	// The body cache wraps the API handler; the default chain (authn, authz, audit, ...) is
	// then built around it, so every caller is authorized before a cached body is written.
	srvCfg.GenericConfig.BuildHandlerChainFunc = a.BodyCache.BuildHandlerChain(srvCfg.GenericConfig.BuildHandlerChainFunc)
	srv, err := o.Base.Server()
	if err != nil {
		return fmt.Errorf("build custom-metrics server: %w", err)
	}
	if err := srv.GenericAPIServer.AddLivezChecks(0, a.LivenessChecks()...); err != nil {
		return fmt.Errorf("add livez checks: %w", err)
	}
	if err := srv.GenericAPIServer.AddReadyzChecks(a.ReadinessChecks()...); err != nil {
		return fmt.Errorf("add readyz checks: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := a.Start(ctx); err != nil {
		return err
	}
	defer func() { cancel(); a.Wait() }()
	if started != nil {
		started(a)
	}
	if err := o.Base.Run(ctx); err != nil {
		return fmt.Errorf("serve custom metrics: %w", err)
	}
	return nil
}
