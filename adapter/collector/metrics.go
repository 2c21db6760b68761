package collector

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the collector's self-metrics (prefix hsds_adapter_).
type Metrics struct {
	ScrapeDuration prometheus.Histogram
	ScrapeErrors   *prometheus.CounterVec
	RoundDuration  prometheus.Histogram
	LastRound      prometheus.Gauge
	Pods           prometheus.Gauge
	Targets        prometheus.Gauge
}

// NewMetrics creates the collector's metrics and registers them on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		ScrapeDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hsds_adapter_scrape_duration_seconds",
			Help:    "Duration of one scrape of one pod's agent (or one Prometheus query round), failed ones included.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
		ScrapeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hsds_adapter_scrape_errors_total",
			Help: "Failed scrapes by reason (timeout, connect, status, too_large, parse, invalid, agent_down, query, missing).",
		}, []string{"reason"}),
		RoundDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hsds_adapter_round_duration_seconds",
			Help:    "Duration of one complete scrape round over every target.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2, 4, 8},
		}),
		LastRound: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hsds_adapter_last_successful_round_timestamp_seconds",
			Help: "Unix time at which the last complete scrape round ended.",
		}),
		Pods: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hsds_adapter_pods",
			Help: "Pods in the store (every pod matching the selector, Pending ones included).",
		}),
		Targets: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hsds_adapter_scrape_targets",
			Help: "Pods scraped in the last round (Running pods with an IP).",
		}),
	}
	for _, c := range []prometheus.Collector{m.ScrapeDuration, m.ScrapeErrors, m.RoundDuration, m.LastRound, m.Pods, m.Targets} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register collector metrics: %w", err)
		}
	}
	for _, r := range []string{ScrapeErrorTimeout, ScrapeErrorConnect, ScrapeErrorStatus, ScrapeErrorTooLarge, ScrapeErrorParse, ScrapeErrorInvalid, ScrapeErrorAgentDown} {
		m.ScrapeErrors.WithLabelValues(r)
	}
	return m, nil
}
