package provider

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/store"
	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// Served metric names.
const (
	// Metric503Rate is client-facing 503s per second, all causes unless the metric selector
	// restricts them (cause=overload, cause in (overload,upstream), cause!=not_ready, ...).
	Metric503Rate = "hsds_503_rate"
	// MetricInFlight is what the SN task gate counts (tasks, or proxied requests).
	MetricInFlight = "hsds_in_flight"
	// MetricUtilization is in-flight / max_task_count.
	MetricUtilization = "hsds_utilization"
	// MetricRequestRate is served (non-503) client-facing responses per second.
	MetricRequestRate = "hsds_request_rate"
	// MetricOfferedLoad is served + rejected responses per second: every client-facing response.
	MetricOfferedLoad = "hsds_offered_load"
)

// Metric label names a metric selector may use.
const (
	LabelCause  = "cause"  // hsds_503_rate only: schema causes
	LabelWindow = "window" // "long" (default) or "short"
)

// Window label values.
const (
	WindowLong  = "long"
	WindowShort = "short"
)

// Names lists every served metric in a fixed order.
var Names = []string{Metric503Rate, MetricInFlight, MetricUtilization, MetricRequestRate, MetricOfferedLoad}

// query is a metric request resolved against its metric selector.
type query struct {
	metric string
	window store.Window
	causes [len(schema.Causes)]bool // hsds_503_rate: which causes to sum
}

var windows = []struct {
	name string
	w    store.Window
}{{WindowLong, store.Long}, {WindowShort, store.Short}}

// resolve checks the metric name and its selector. The long window wins when the selector allows
// both. A selector that matches no series of the metric is an error: summing nothing would
// report a made-up zero.
func resolve(metric string, sel labels.Selector) (query, error) {
	if !slices.Contains(Names, metric) {
		return query{}, fmt.Errorf("unknown metric %q", metric)
	}
	if sel == nil {
		sel = labels.Everything()
	}
	for _, w := range windows {
		q := query{metric: metric, window: w.w}
		if metric != Metric503Rate {
			if sel.Matches(labels.Set{LabelWindow: w.name}) {
				return q, nil
			}
			continue
		}
		any := false
		for i, c := range schema.Causes {
			q.causes[i] = sel.Matches(labels.Set{LabelCause: c, LabelWindow: w.name})
			any = any || q.causes[i]
		}
		if any {
			return q, nil
		}
	}
	return query{}, fmt.Errorf("metric selector %q matches no series of %s", sel.String(), metric)
}

// podValue is the query's figure for one pod; ok is false when the pod has none (unknown pod,
// or no limit for utilization).
// isRate reports whether q's figure is a per-second rate over a window (503s, served or offered
// requests), not an instantaneous reading (in-flight, utilization).
func (q query) isRate() bool {
	return q.metric == Metric503Rate || q.metric == MetricRequestRate || q.metric == MetricOfferedLoad
}

func (q query) podValue(v *store.PodView) (float64, bool) {
	if !v.Known {
		return 0, false
	}
	r := v.Rejected503
	switch q.metric {
	case Metric503Rate:
		sum := 0.0
		for i, c := range []float64{r.Overload, r.NotReady, r.Upstream} {
			if q.causes[i] {
				sum += c
			}
		}
		return sum, true
	case MetricInFlight:
		return v.InFlight, !v.NoInFlight
	case MetricUtilization:
		if !v.HasLimit || v.Limit <= 0 || v.NoInFlight {
			return 0, false
		}
		return v.InFlight / v.Limit, true
	case MetricRequestRate:
		return max(0, v.RequestRate-r.Total()), true
	default: // MetricOfferedLoad
		return v.RequestRate, true
	}
}
