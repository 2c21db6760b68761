package agent

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// Snapshotter gives the collector a consistent copy of the agent's state.
type Snapshotter interface {
	Snapshot() State
}

// Collector exports the agent's state as the metric set named in agent/schema.
type Collector struct {
	src Snapshotter

	responses, inFlight, limit, nodeState, nodeCount *prometheus.Desc
	up, duration, errors, info                       *prometheus.Desc
}

// NewCollector returns a collector over src. Register it on a non-global registry.
func NewCollector(src Snapshotter) *Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &Collector{
		src: src,
		responses: d(schema.Responses, "Client-facing responses of the HSDS service node, by status code and, for 503s, cause.",
			schema.LabelCode, schema.LabelCause),
		inFlight: d(schema.InFlight, "What the SN task gate compares with its limit: SN tasks (sources metrics, info) or requests in flight through the proxy (source proxy)."),
		limit:    d(schema.InFlightLimit, "The SN task gate limit, HSDS max_task_count."),
		nodeState: d(schema.NodeState, "HSDS node state: 1 for the current state, 0 for the others, per node type.",
			schema.LabelNode, schema.LabelState),
		nodeCount: d(schema.NodeCount, "Data-node count as the node sees it (HSDS node_count)."),
		up:        d(schema.Up, "1 when the agent's last read of the HSDS service node succeeded, 0 otherwise."),
		duration:  d(schema.ScrapeDuration, "How long the agent's last read of HSDS took, in seconds."),
		errors:    d(schema.ScrapeErrors, "Failed reads of HSDS by the agent, by reason.", schema.LabelReason),
		info: d(schema.Info, "Always 1: the agent's source, whether its 503 count is exact, and HSDS's version.",
			schema.LabelSource, schema.LabelExact, schema.LabelVersion),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.responses, c.inFlight, c.limit, c.nodeState, c.nodeCount,
		c.up, c.duration, c.errors, c.info} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	s := c.src.Snapshot()
	for k, v := range s.Responses {
		ch <- prometheus.MustNewConstMetric(c.responses, prometheus.CounterValue, v, k.Code, k.Cause)
	}
	inFlight := s.Gauges.InFlight
	if s.LiveInFlight.Valid {
		inFlight = s.LiveInFlight
	}
	c.gauge(ch, c.inFlight, inFlight)
	c.gauge(ch, c.limit, s.Gauges.Limit)
	c.gauge(ch, c.nodeCount, s.Gauges.NodeCount)
	for node, ns := range s.Gauges.Nodes {
		c.collectState(ch, node, ns)
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, b2f(s.Up))
	c.gauge(ch, c.duration, s.ScrapeDuration)
	for reason, v := range s.ScrapeErrors {
		ch <- prometheus.MustNewConstMetric(c.errors, prometheus.CounterValue, v, reason)
	}
	ch <- prometheus.MustNewConstMetric(c.info, prometheus.GaugeValue, 1,
		s.Source, strconv.FormatBool(s.Exact), s.Version)
}

// gauge exports g only when it is known.
func (c *Collector) gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, g Gauge) {
	if g.Valid {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, g.Value)
	}
}

// collectState exports one node's state set; a ReadyOnly node exports only its READY series.
func (c *Collector) collectState(ch chan<- prometheus.Metric, node string, ns NodeState) {
	if ns.ReadyOnly {
		ch <- prometheus.MustNewConstMetric(c.nodeState, prometheus.GaugeValue, b2f(ns.Ready), node, schema.StateReady)
		return
	}
	for _, st := range schema.States {
		ch <- prometheus.MustNewConstMetric(c.nodeState, prometheus.GaugeValue, b2f(st == ns.State), node, st)
	}
}
