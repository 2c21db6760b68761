package provider

import (
	"context"
	"math"
	"slices"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/metrics/pkg/apis/custom_metrics"
	"k8s.io/utils/clock"
	cmprovider "sigs.k8s.io/custom-metrics-apiserver/pkg/provider"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/store"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

// Resources the provider serves.
var (
	Pods        = schema.GroupResource{Resource: "pods"}
	Deployments = schema.GroupResource{Group: "apps", Resource: "deployments"}
)

// Source is what the provider reads: the store.
type Source interface {
	Visit(namespace string, selector labels.Selector, now time.Time, w store.Window, f func(v *store.PodView))
	Get(namespace, name string, now time.Time, w store.Window) (store.PodView, bool)
	ListDeployment(namespace, deployment string, now time.Time, w store.Window) []store.PodView
}

// Provider implements provider.CustomMetricsProvider from a Source.
type Provider struct {
	Source Source
	Clock  clock.PassiveClock
	// Namespaces, when not empty, are the only namespaces answered for (the watched ones);
	// every other namespace is "not found", whatever the store holds.
	Namespaces []string

	lastLen atomic.Int64 // size of the last list answer: preallocates the next one
}

var _ cmprovider.CustomMetricsProvider = (*Provider)(nil)

// ListAllMetrics lists every metric for pods and for Deployments.
func (p *Provider) ListAllMetrics() []cmprovider.CustomMetricInfo {
	out := make([]cmprovider.CustomMetricInfo, 0, 2*len(Names))
	for _, gr := range []schema.GroupResource{Pods, Deployments} {
		for _, n := range Names {
			out = append(out, cmprovider.CustomMetricInfo{GroupResource: gr, Namespaced: true, Metric: n})
		}
	}
	return out
}

// GetMetricByName answers for one pod or one Deployment.
func (p *Provider) GetMetricByName(_ context.Context, name types.NamespacedName, info cmprovider.CustomMetricInfo, metricSelector labels.Selector) (*custom_metrics.MetricValue, error) {
	q, err := resolve(info.Metric, metricSelector)
	if err != nil || !info.Namespaced || !p.answers(name.Namespace) {
		return nil, cmprovider.NewMetricNotFoundForSelectorError(info.GroupResource, info.Metric, name.Name, metricSelector)
	}
	msel := metricLabelSelector(metricSelector)
	now := p.Clock.Now()
	switch info.GroupResource {
	case Pods:
		v, ok := p.Source.Get(name.Namespace, name.Name, now, q.window)
		val, known := q.podValue(&v)
		if !ok || !known {
			return nil, cmprovider.NewMetricNotFoundForError(info.GroupResource, info.Metric, name.Name)
		}
		mv := value(podRef(name.Namespace, name.Name), q.metric, msel, v.SampleTime, new(windowSeconds).of(v.Window), val)
		return &mv, nil
	case Deployments:
		agg, ok := aggregate(q, p.Source.ListDeployment(name.Namespace, name.Name, now, q.window))
		if !ok {
			return nil, cmprovider.NewMetricNotFoundForError(info.GroupResource, info.Metric, name.Name)
		}
		ref := custom_metrics.ObjectReference{Kind: "Deployment", APIVersion: "apps/v1", Namespace: name.Namespace, Name: name.Name}
		mv := value(ref, q.metric, msel, agg.time, new(windowSeconds).of(agg.window), agg.value)
		return &mv, nil
	default:
		return nil, cmprovider.NewMetricNotFoundForError(info.GroupResource, info.Metric, name.Name)
	}
}

// GetMetricBySelector answers for every pod matching selector. Pods without a usable figure are
// left out (honest absence), never reported as zero. Deployments are served by name only.
func (p *Provider) GetMetricBySelector(_ context.Context, namespace string, selector labels.Selector, info cmprovider.CustomMetricInfo, metricSelector labels.Selector) (*custom_metrics.MetricValueList, error) {
	q, err := resolve(info.Metric, metricSelector)
	if err != nil || info.GroupResource != Pods || !info.Namespaced || !p.answers(namespace) {
		return nil, cmprovider.NewMetricNotFoundError(info.GroupResource, info.Metric)
	}
	msel := metricLabelSelector(metricSelector)
	items := make([]custom_metrics.MetricValue, 0, p.lastLen.Load())
	var ws windowSeconds
	p.Source.Visit(namespace, selector, p.Clock.Now(), q.window, func(v *store.PodView) {
		if val, ok := q.podValue(v); ok {
			items = append(items, value(podRef(v.Namespace, v.Name), q.metric, msel, v.SampleTime, ws.of(v.Window), val))
		}
	})
	p.lastLen.Store(int64(len(items)))
	return &custom_metrics.MetricValueList{Items: items}, nil
}

// answers reports whether namespace is one the provider answers for.
func (p *Provider) answers(namespace string) bool {
	return len(p.Namespaces) == 0 || slices.Contains(p.Namespaces, namespace)
}

func podRef(namespace, name string) custom_metrics.ObjectReference {
	return custom_metrics.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: namespace, Name: name}
}

// metricLabelSelector echoes the metric selector in the answer. A selector the LabelSelector type
// cannot express (e.g. "cause!=not_ready", possible with kubectl get --raw but not from an HPA) is
// still honoured, only not echoed.
func metricLabelSelector(sel labels.Selector) *metav1.LabelSelector {
	if sel == nil || sel.Empty() {
		return nil
	}
	ls, err := metav1.ParseToLabelSelector(sel.String())
	if err != nil {
		return nil
	}
	return ls
}

// windowSeconds hands out *int64 window lengths, sharing one pointer between consecutive items of
// the same length (they are read-only), which saves an allocation per item of a long list.
type windowSeconds struct{ last *int64 }

func (w *windowSeconds) of(d time.Duration) *int64 {
	s := int64(math.Round(d.Seconds()))
	if w.last == nil || *w.last != s {
		w.last = &s
	}
	return w.last
}

// value builds one MetricValue; the quantity keeps three decimals (milli-units).
func value(ref custom_metrics.ObjectReference, metric string, sel *metav1.LabelSelector, t time.Time, ws *int64, v float64) custom_metrics.MetricValue {
	q := resource.Quantity{Format: resource.DecimalSI}
	q.SetMilli(int64(math.Round(v * 1000)))
	return custom_metrics.MetricValue{
		DescribedObject: ref,
		Metric:          custom_metrics.MetricIdentifier{Name: metric, Selector: sel},
		Timestamp:       metav1.NewTime(t),
		WindowSeconds:   ws,
		Value:           q,
	}
}

// aggregated is a Deployment's figure.
type aggregated struct {
	value  float64
	time   time.Time     // the oldest sample time among the pods summed
	window time.Duration // the shortest window among them
}

// aggregate sums a Deployment's known pods; utilization is sum(in-flight) / sum(limit) over pods
// that export a limit (the load-weighted mean). A rate of a pod that started within the longest
// window is weighted by heuristics.WindowShare, as the scaler's sums are: otherwise a scale-up's
// new pods count the load they took over a second time for one window (the older pods' windows
// still hold it), and the pod's figure then stands for that longest window.
func aggregate(q query, views []store.PodView) (aggregated, bool) {
	var a aggregated
	var inFlight, limit float64
	var longest time.Duration
	for i := range views {
		if _, ok := q.podValue(&views[i]); ok {
			longest = max(longest, views[i].Window)
		}
	}
	n := 0
	for i := range views {
		v := &views[i]
		val, ok := q.podValue(v)
		if !ok {
			continue
		}
		n++
		share, window := 1.0, v.Window
		if q.isRate() {
			if share = heuristics.WindowShare(v.PodSample, longest); share < 1 {
				window = longest
			}
		}
		a.value += share * val
		inFlight += v.InFlight
		limit += v.Limit
		if a.time.IsZero() || v.SampleTime.Before(a.time) {
			a.time = v.SampleTime
		}
		if a.window == 0 || window < a.window {
			a.window = window
		}
	}
	if n == 0 {
		return aggregated{}, false
	}
	if q.metric == MetricUtilization {
		a.value = inFlight / limit
	}
	return a, true
}
