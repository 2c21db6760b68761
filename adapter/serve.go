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

// Server is the adapter behind its custom-metrics API server (custom.metrics.k8s.io v1beta1 and
// v1beta2). NewServer builds it; nothing runs until the caller starts the adapter (Start, then
// Wait once its context ends) and serves the API (Serve), typically as siblings of the scaler in
// one errgroup.
type Server struct {
	*Adapter
	base *cmcmd.AdapterBase
}

// NewServer builds the adapter from the lister kubeconfig (or in-cluster config) and the API
// server around its provider, anonymous requests refused except the probes' (refuseAnonymous),
// with encoded list answers cached (Adapter.BodyCache, inside the
// filter chain, after authentication and authorization) and the collection probes added to
// /livez and /readyz.
func NewServer(o *ServeOptions, reg prometheus.Registerer) (*Server, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	cfg, err := o.Base.ClientConfig()
	if err != nil {
		return nil, err
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	a, err := New(*o.Adapter, client, reg, clock.RealClock{})
	if err != nil {
		return nil, err
	}
	o.Base.WithCustomMetrics(a.Provider)
	srvCfg, err := o.Base.Config()
	if err != nil {
		return nil, fmt.Errorf("custom-metrics server config: %w", err)
	}
	// The body cache wraps the API handler; the default chain (authn, authz, audit, ...) is
	// then built around it, so every caller is authorized before a cached body is written.
	srvCfg.GenericConfig.BuildHandlerChainFunc = a.BodyCache.BuildHandlerChain(srvCfg.GenericConfig.BuildHandlerChainFunc)
	if authn := srvCfg.GenericConfig.Authentication.Authenticator; authn != nil {
		srvCfg.GenericConfig.Authentication.Authenticator = refuseAnonymous(authn, ProbePaths)
	}
	srv, err := o.Base.Server()
	if err != nil {
		return nil, fmt.Errorf("build custom-metrics server: %w", err)
	}
	if err := srv.GenericAPIServer.AddLivezChecks(0, a.LivenessChecks()...); err != nil {
		return nil, fmt.Errorf("add livez checks: %w", err)
	}
	if err := srv.GenericAPIServer.AddReadyzChecks(a.ReadinessChecks()...); err != nil {
		return nil, fmt.Errorf("add readyz checks: %w", err)
	}
	return &Server{Adapter: a, base: o.Base}, nil
}

// Serve serves custom.metrics.k8s.io until ctx ends. Answers come from the store: empty until
// the adapter is started and its first round completes (/readyz says when).
func (s *Server) Serve(ctx context.Context) error {
	if err := s.base.Run(ctx); err != nil {
		return fmt.Errorf("serve custom metrics: %w", err)
	}
	return nil
}
