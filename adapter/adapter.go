package adapter

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apiserver/pkg/server/healthz"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"
	cmprovider "sigs.k8s.io/custom-metrics-apiserver/pkg/provider"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/collector"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/discovery"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/promsource"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/provider"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/store"
)

// Adapter is the collection side: discovery, the collection loop and the store, plus the
// custom-metrics provider that reads the store.
type Adapter struct {
	// Store holds every watched pod's figures; give it to the scaler (Store.PodSamples).
	Store *store.Store
	// Provider answers custom.metrics.k8s.io from Store, with latency self-metrics. List answers
	// are cached encoded, by BodyCache.
	Provider cmprovider.CustomMetricsProvider
	// BodyCache caches encoded list answers; NewServer installs it inside the API server's filter
	// chain, after authentication and authorization.
	BodyCache *provider.BodyCache
	// Loop runs collection rounds; its checks are the probes.
	Loop *collector.Loop

	discovery *discovery.Discovery
	wg        sync.WaitGroup
}

// New builds an adapter; nothing runs until Start. Self-metrics are registered on reg.
func New(o Options, client kubernetes.Interface, reg prometheus.Registerer, clk clock.Clock) (*Adapter, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	stale, interval := o.StaleAfter, o.Interval
	if o.PrometheusURL != "" {
		stale, interval = o.PrometheusStaleAfter, o.PrometheusInterval
	}
	st := store.New(store.Config{Window: o.Window, ShortWindow: o.ShortWindow, StaleAfter: stale})
	disc, err := discovery.New(client, discovery.Config{Namespaces: o.Namespaces, LabelSelector: o.LabelSelector, AgentPort: o.AgentPort}, st)
	if err != nil {
		return nil, err
	}
	m, err := collector.NewMetrics(reg)
	if err != nil {
		return nil, err
	}
	rounder, err := NewRounder(o, st, clk, m)
	if err != nil {
		return nil, err
	}
	prov, err := provider.NewInstrumented(&provider.Provider{Source: st, Clock: clk, Namespaces: o.Namespaces}, clk, reg)
	if err != nil {
		return nil, err
	}
	bodies, err := provider.NewBodyCache(st, clk, o.APICacheMaxAge, reg)
	if err != nil {
		return nil, err
	}
	loop := collector.NewLoop(rounder, clk, interval, o.Jitter, uint64(clk.Now().UnixNano()))
	loop.LateAfter = 3*interval + o.ScrapeTimeout
	return &Adapter{Store: st, Provider: prov, BodyCache: bodies, Loop: loop, discovery: disc}, nil
}

// NewRounder builds the collection round New uses: the direct collector, or the Prometheus source
// when o.PrometheusURL is set (restricted to o.Namespaces). Benchmarks measure it as serve runs it.
func NewRounder(o Options, st *store.Store, clk clock.Clock, m *collector.Metrics) (collector.Rounder, error) {
	if o.PrometheusURL == "" {
		return &collector.Collector{Sink: st, Clock: clk, Workers: o.Workers, Path: o.MetricsPath, Metrics: m,
			Scraper: &collector.Scraper{Client: collector.NewHTTPClient(o.ScrapeTimeout), Timeout: o.ScrapeTimeout, MaxBodyBytes: o.MaxBodyBytes}}, nil
	}
	c, err := api.NewClient(api.Config{Address: o.PrometheusURL})
	if err != nil {
		return nil, fmt.Errorf("prometheus client for %s: %w", o.PrometheusURL, err)
	}
	return &promsource.Source{API: promv1.NewAPI(c), Sink: st, Clock: clk, Timeout: max(o.PrometheusInterval, time.Second),
		PodLabel: o.PrometheusPodLabel, NamespaceLabel: o.PrometheusNamespaceLabel, Namespaces: o.Namespaces, Metrics: m}, nil
}

// Start starts the pod informers, waits for them to sync, then runs collection rounds in the
// background until ctx ends. Call Wait after ctx ends to wait for every goroutine to stop.
func (a *Adapter) Start(ctx context.Context) error {
	if err := a.discovery.Start(ctx); err != nil {
		return fmt.Errorf("start pod discovery: %w", err)
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.Loop.Run(ctx)
	}()
	return nil
}

// Wait blocks until the loop and the informers have stopped (after Start's ctx ended).
func (a *Adapter) Wait() {
	a.wg.Wait()
	a.discovery.Shutdown()
}

// LivenessChecks fail when collection rounds run late (no round start within 3 intervals plus
// the scrape timeout).
func (a *Adapter) LivenessChecks() []healthz.HealthChecker {
	return []healthz.HealthChecker{a.Loop.LivenessCheck()}
}

// ReadinessChecks fail until the first complete collection round.
func (a *Adapter) ReadinessChecks() []healthz.HealthChecker {
	return []healthz.HealthChecker{a.Loop.ReadinessCheck()}
}
