package fakehsds

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// durationBuckets returns HSDS 1.x's request duration buckets (hsds/metrics.py BUCKETS).
func durationBuckets() []float64 {
	return []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0}
}

// nodeMetrics is one node's 1.x /metrics: a registry of its own (never the global one), rebuilt
// on Restart so counters start again from zero as in a new process.
type nodeMetrics struct {
	requests *prometheus.CounterVec
	duration prometheus.Histogram
	handler  http.Handler
}

func newNodeMetrics(n *node) *nodeMetrics {
	reg := prometheus.NewRegistry()
	m := &nodeMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hsds_http_requests_total",
			Help: "HTTP requests by method and status",
		}, []string{"method", "status"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hsds_http_request_duration_seconds",
			Help:    "HTTP request latency",
			Buckets: durationBuckets(),
		}),
	}
	reg.MustRegister(m.requests, m.duration, &stateCollector{n: n})
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return m
}

// observe records one response, as HSDS 1.x's metrics_middleware does for every request.
func (m *nodeMetrics) observe(method string, status int, d time.Duration) {
	m.requests.WithLabelValues(method, strconv.Itoa(status)).Inc()
	m.duration.Observe(d.Seconds())
}

// stateCollector exposes node state read at scrape time (HSDS 1.x AppStateCollector).
type stateCollector struct{ n *node }

var (
	descInfo = prometheus.NewDesc("hsds_info", "Node identity: type, id and hsds version",
		[]string{"node_type", "node_id", "version"}, nil)
	descReady     = prometheus.NewDesc("hsds_node_ready", "1 if node state is READY, 0 otherwise", nil, nil)
	descStart     = prometheus.NewDesc("hsds_start_time_seconds", "Unix time the node started", nil, nil)
	descDNCount   = prometheus.NewDesc("hsds_active_dn_count", "Data nodes this node currently knows about", nil, nil)
	descTasks     = prometheus.NewDesc("hsds_tasks_active", "Current asyncio task count", nil, nil)
	descTasksMax  = prometheus.NewDesc("hsds_tasks_max", "Task count above which SN nodes return 503", nil, nil)
	descLogEvents = prometheus.NewDesc("hsds_log_events_total", "Log events by level", []string{"level"}, nil)
)

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descInfo, descReady, descStart, descDNCount, descTasks, descTasksMax, descLogEvents} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	p := c.n.pod
	p.mu.Lock()
	n := *c.n
	dnCount := p.dnCount
	p.mu.Unlock()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(descInfo, 1, n.kind, n.id, p.cfg.Version)
	ready := 0.0
	if n.state == schema.StateReady {
		ready = 1
	}
	gauge(descReady, ready)
	gauge(descStart, float64(n.startTime))
	gauge(descDNCount, float64(dnCount))
	gauge(descTasks, float64(n.tasks))
	if p.cfg.MaxTaskCount > 0 {
		gauge(descTasksMax, float64(p.cfg.MaxTaskCount))
	}
	ch <- prometheus.MustNewConstMetric(descLogEvents, prometheus.CounterValue, float64(n.logs.Warn), "WARN")
	ch <- prometheus.MustNewConstMetric(descLogEvents, prometheus.CounterValue, float64(n.logs.Error), "ERROR")
}
