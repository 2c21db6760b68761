package agent

import (
	"context"
	"net/http"

	"k8s.io/utils/clock"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// ProxySource polls the SN (and DN) /info for state and node count, and the SN /metrics for
// max_task_count when HSDS serves it; its Proxy counts the traffic.
type ProxySource struct {
	fetch  *Fetcher
	snURL  string
	dnURL  string
	limit  float64 // --max-task-count, used when the SN has no /metrics (404)
	clk    clock.PassiveClock
	store  *Store
	status *snStatus
	proxy  *Proxy
}

// NewProxySource returns the proxy source, its store and the proxy handler.
func NewProxySource(f *Fetcher, snURL, dnURL string, limit float64, cfg ProxyConfig, clk clock.PassiveClock) (*ProxySource, *Store) {
	st := NewStore(schema.SourceProxy, true, initialKeys(schema.Causes[:]...))
	status := &snStatus{}
	s := &ProxySource{fetch: f, snURL: snURL, dnURL: dnURL, limit: limit, clk: clk, store: st, status: status}
	s.proxy = newProxy(cfg, st, status, clk)
	return s, st
}

// Handler is the proxy to serve on --proxy-listen.
func (s *ProxySource) Handler() http.Handler { return s.proxy }

// Poll reads HSDS once and commits the result.
func (s *ProxySource) Poll(ctx context.Context) {
	start := s.clk.Now()
	var r Result
	sn, err := readInfo(ctx, s.fetch, s.snURL)
	latency := s.clk.Since(start)
	if err != nil {
		r.Errors = append(r.Errors, err)
		s.status.readiness.Store(readinessUnknown)
	} else {
		r.Up = true
		s.status.readiness.Store(readinessOf(sn.State))
		s.status.infoLatency.Store(int64(latency))
		r.Gauges = Gauges{
			NodeCount: known(sn.NodeCount),
			Nodes:     map[string]NodeState{schema.NodeSN: stateOf(sn.State)},
		}
		limit, version, err := s.readLimit(ctx)
		if err != nil {
			r.Errors = append(r.Errors, err)
		}
		r.Gauges.Limit, r.Version = limit, version
	}
	addDNState(ctx, s.fetch, s.dnURL, &r)
	r.Duration = s.clk.Since(start)
	logErrors(r.Errors)
	s.store.Commit(s.clk.Now(), r)
}

// readLimit returns hsds_tasks_max from the SN /metrics (HSDS 1.x), or the flag when the SN has no
// /metrics (404: HSDS 0.9.x). Any other failure leaves the limit unknown.
func (s *ProxySource) readLimit(ctx context.Context) (Gauge, string, error) {
	body, err := s.fetch.Get(ctx, s.snURL+"/metrics", metricsAccept)
	if isStatus(err, http.StatusNotFound) {
		return known(s.limit), "", nil
	}
	if err != nil {
		return Gauge{}, "", err
	}
	m, err := parseMetrics(body)
	if err != nil {
		return Gauge{}, "", err
	}
	if !m.TasksMax.Valid {
		return known(s.limit), m.Version, nil
	}
	return m.TasksMax, m.Version, nil
}

func readinessOf(state string) int32 {
	if state == schema.StateReady {
		return readinessReady
	}
	return readinessNotReady
}
