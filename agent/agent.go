package agent

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/utils/clock"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
	"github.com/hsds-autoscaler/hsds-autoscaler/internal/version"
)

// Agent is one configured agent: a poll loop, the registry it exports, and (source proxy) the
// proxy handler.
type Agent struct {
	Loop     *Loop
	Registry *prometheus.Registry
	// Proxy is the counting reverse proxy; nil unless the source is proxy.
	Proxy http.Handler
}

// New builds an agent from validated options.
func New(o Options, clk clock.WithTicker) (*Agent, error) {
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("invalid options: %w", err)
	}
	f := NewFetcher(o.Timeout, o.MaxBody)
	sn, dn := strings.TrimSuffix(o.SNURL, "/"), strings.TrimSuffix(o.DNURL, "/")
	a := &Agent{Registry: prometheus.NewRegistry()}
	var p Poller
	var st *Store
	switch o.Source {
	case schema.SourceMetrics:
		p, st = NewMetricsSource(f, sn, dn, clk)
	case schema.SourceInfo:
		p, st = NewInfoSource(f, sn, dn, o.infoConfig(), clk)
	case schema.SourceProxy:
		target, err := url.Parse(sn)
		if err != nil {
			return nil, fmt.Errorf("--sn-url: %w", err)
		}
		cfg := ProxyConfig{Target: target, RetryAfter: o.RetryAfter, MaxIdleConns: o.ProxyIdleConns,
			Limit: o.MaxTaskCount, IdleTimeout: o.ProxyIdleTime}
		ps, pst := NewProxySource(f, sn, dn, o.infoConfig(), cfg, clk)
		p, st, a.Proxy = ps, pst, ps.Handler()
	}
	if err := a.Registry.Register(NewCollector(st)); err != nil {
		return nil, fmt.Errorf("register collector: %w", err)
	}
	build := version.Get().NewCollector(schema.BuildInfo, "Always 1: the version, source revision and Go version hsds-agent was built from.")
	if err := a.Registry.Register(build); err != nil {
		return nil, fmt.Errorf("register build info: %w", err)
	}
	// A poll makes up to four sequential reads, each bounded by the timeout.
	a.Loop = NewLoop(p, st, clk, o.PollInterval, 3*o.PollInterval+4*o.Timeout)
	return a, nil
}

func (o Options) infoConfig() InfoConfig {
	return InfoConfig{Limit: float64(o.MaxTaskCount), InFlightMaxAge: o.InFlightMaxAge, GateHold: o.GateHold}
}

// Run polls HSDS until ctx ends.
func (a *Agent) Run(ctx context.Context) { a.Loop.Run(ctx) }

// Handler serves the agent's /metrics, /healthz and /readyz.
func (a *Agent) Handler() http.Handler { return a.Loop.Handler(a.Registry) }
