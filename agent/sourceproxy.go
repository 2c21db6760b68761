package agent

import (
	"context"
	"net/http"

	"k8s.io/utils/clock"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// ProxySource polls the SN (and DN) /info for state, node count and the gate's task samples, the SN
// /metrics for max_task_count and the version when HSDS serves it (1.x), else /about for the
// version; its Proxy counts the traffic.
type ProxySource struct {
	fetch   *Fetcher
	snURL   string
	dnURL   string
	limit   float64 // --max-task-count, used when the SN has no /metrics (404)
	clk     clock.PassiveClock
	store   *Store
	status  *snStatus
	proxy   *Proxy
	watch   gateWatch
	version versionReader
	// noMetrics is set when the SN answered /metrics with 404 (HSDS 0.9.x); it is not asked again
	// until the SN restarts (a new start_time), so a 0.9.x SN is not sent a 404 every poll.
	noMetrics      bool
	noMetricsStart float64
}

// NewProxySource returns the proxy source, its store and the proxy handler. info.Limit is
// --max-task-count; info.GateHold how long an over-limit /info sample marks the gate busy.
func NewProxySource(f *Fetcher, snURL, dnURL string, info InfoConfig, cfg ProxyConfig, clk clock.PassiveClock) (*ProxySource, *Store) {
	st := NewStore(schema.SourceProxy, true, initialKeys(schema.Causes[:]...))
	status := &snStatus{}
	status.limit.Store(int64(info.Limit))
	if cfg.Limit == 0 {
		cfg.Limit = int(info.Limit)
	}
	s := &ProxySource{fetch: f, snURL: snURL, dnURL: dnURL, limit: info.Limit, clk: clk, store: st, status: status,
		watch: gateWatch{limit: info.Limit, hold: info.GateHold}, version: versionReader{fetch: f, snURL: snURL}}
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
	busyBefore := s.status.gateBusy.Load()
	if err != nil {
		r.Errors = append(r.Errors, err)
		s.status.readiness.Store(readinessUnknown)
		s.status.gateBusy.Store(false)
		s.proxy.settle503s(settleCause(false, false, busyBefore, false))
	} else {
		r.Up = true
		s.status.readiness.Store(readinessOf(sn.State))
		limit, version, err := s.readLimit(ctx, sn.StartTime)
		if err != nil {
			r.Errors = append(r.Errors, err)
		}
		if limit.Valid {
			s.status.limit.Store(int64(limit.Value))
			s.watch.limit = limit.Value
		}
		s.watch.observe(s.clk.Now(), sn)
		busyNow := s.watch.busy(s.clk.Now())
		s.status.gateBusy.Store(busyNow)
		s.proxy.settle503s(settleCause(true, sn.State == schema.StateReady, busyBefore, busyNow))
		if version == "" {
			if version, err = s.version.read(ctx, sn.StartTime); err != nil {
				r.Errors = append(r.Errors, err)
			}
		}
		r.Gauges = Gauges{
			Limit:     limit,
			NodeCount: known(sn.NodeCount),
			Nodes:     map[string]NodeState{schema.NodeSN: stateOf(sn.State)},
		}
		r.Version = version
	}
	addDNState(ctx, s.fetch, s.dnURL, &r)
	r.Duration = s.clk.Since(start)
	logErrors(r.Errors)
	s.store.Commit(s.clk.Now(), r)
}

// readLimit returns hsds_tasks_max from the SN /metrics (HSDS 1.x), or the flag when the SN has no
// /metrics (404: HSDS 0.9.x; remembered until the SN restarts). Any other failure leaves the
// limit unknown.
func (s *ProxySource) readLimit(ctx context.Context, startTime float64) (Gauge, string, error) {
	if s.noMetrics && s.noMetricsStart == startTime {
		return known(s.limit), "", nil
	}
	body, err := s.fetch.Get(ctx, s.snURL+"/metrics", metricsAccept)
	if isStatus(err, http.StatusNotFound) {
		s.noMetrics, s.noMetricsStart = true, startTime
		return known(s.limit), "", nil
	}
	s.noMetrics = false
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
