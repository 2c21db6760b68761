package provider

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/metrics/pkg/apis/custom_metrics"
	"k8s.io/utils/clock"
	cmprovider "sigs.k8s.io/custom-metrics-apiserver/pkg/provider"
)

// Instrumented wraps a CustomMetricsProvider and observes each request's latency in
// hsds_adapter_api_request_duration_seconds{metric,resource,result}.
type Instrumented struct {
	Next    cmprovider.CustomMetricsProvider
	Clock   clock.PassiveClock
	latency *prometheus.HistogramVec
}

var _ cmprovider.CustomMetricsProvider = (*Instrumented)(nil)

// NewInstrumented registers the latency histogram on reg.
func NewInstrumented(next cmprovider.CustomMetricsProvider, clk clock.PassiveClock, reg prometheus.Registerer) (*Instrumented, error) {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "hsds_adapter_api_request_duration_seconds",
		Help:    "Time the custom-metrics provider took to answer one request, by metric, resource and result (ok, not_found, error).",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1},
	}, []string{"metric", "resource", "result"})
	if err := reg.Register(h); err != nil {
		return nil, fmt.Errorf("register provider metrics: %w", err)
	}
	return &Instrumented{Next: next, Clock: clk, latency: h}, nil
}

// observe records one request; unknown metric names share one label value to bound cardinality.
func (i *Instrumented) observe(info cmprovider.CustomMetricInfo, start time.Time, err error) {
	metric := info.Metric
	if !slices.Contains(Names, metric) {
		metric = "other"
	}
	resource := "other"
	if info.GroupResource == Pods || info.GroupResource == Deployments {
		resource = info.GroupResource.String()
	}
	result := "ok"
	switch {
	case apierrors.IsNotFound(err):
		result = "not_found"
	case err != nil:
		result = "error"
	}
	i.latency.WithLabelValues(metric, resource, result).Observe(i.Clock.Since(start).Seconds())
}

// GetMetricByName implements CustomMetricsProvider.
func (i *Instrumented) GetMetricByName(ctx context.Context, name types.NamespacedName, info cmprovider.CustomMetricInfo, sel labels.Selector) (*custom_metrics.MetricValue, error) {
	start := i.Clock.Now()
	v, err := i.Next.GetMetricByName(ctx, name, info, sel)
	i.observe(info, start, err)
	return v, err
}

// GetMetricBySelector implements CustomMetricsProvider.
func (i *Instrumented) GetMetricBySelector(ctx context.Context, namespace string, selector labels.Selector, info cmprovider.CustomMetricInfo, sel labels.Selector) (*custom_metrics.MetricValueList, error) {
	start := i.Clock.Now()
	v, err := i.Next.GetMetricBySelector(ctx, namespace, selector, info, sel)
	i.observe(info, start, err)
	return v, err
}

// ListAllMetrics implements CustomMetricsProvider.
func (i *Instrumented) ListAllMetrics() []cmprovider.CustomMetricInfo { return i.Next.ListAllMetrics() }
