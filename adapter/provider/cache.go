package provider

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/metrics/pkg/apis/custom_metrics"
	"k8s.io/utils/clock"
	cmprovider "sigs.k8s.io/custom-metrics-apiserver/pkg/provider"
)

// Cache defaults.
const (
	// DefaultMaxAge bounds how long a cached answer is served without a store change: a pod whose
	// last reading ages past stale-after leaves the answers within this time.
	DefaultMaxAge = 250 * time.Millisecond
	// DefaultMaxEntries bounds the number of cached answers (distinct list requests).
	DefaultMaxEntries = 256
)

// Versioned is a source that counts its changes (store.Store.Generation).
type Versioned interface {
	Generation() uint64
}

// Version names what an answer was computed from: the source's generation and the max-age period
// (wall time divided into MaxAge slices) it was computed in. An answer is served only while both
// are unchanged, so it is never older than one period and never survives a store change.
type Version struct {
	Gen    uint64
	Period int64
}

// Versioner tells the current Version.
type Versioner struct {
	Source Versioned
	Clock  clock.PassiveClock
	MaxAge time.Duration
}

// Now returns the current version. Read it before computing an answer: the answer then reflects
// the store at that version or later, and is valid while Now returns the same version.
func (v *Versioner) Now() Version {
	return Version{Gen: v.Source.Generation(), Period: v.Clock.Now().UnixNano() / int64(v.MaxAge)}
}

// Cached wraps a provider and caches its list answers (GetMetricBySelector) per request
// (namespace, pod selector, metric, metric selector; the window is part of the metric selector)
// until the store changes or the max-age period ends. Concurrent misses of one request compute
// the answer once and share it. Single-object answers are not cached: they are cheap.
//
// Answers are shared between callers: every caller gets its own MetricValueList whose Items slice
// is shared (capacity clipped) and must be treated as read-only. The custom-metrics-apiserver
// handler only reads it: the REST storage observes timestamps and the encoder converts the
// internal list into a new versioned one (k8s.io/metrics conversions copy every item).
type Cached struct {
	Next    cmprovider.CustomMetricsProvider
	Version *Versioner
	// MaxEntries bounds the number of cached answers; expired ones are dropped first when full.
	MaxEntries int

	requests *prometheus.CounterVec

	mu      sync.Mutex
	entries map[string]cachedList
	flights singleflight.Group
}

type cachedList struct {
	v    Version
	list *custom_metrics.MetricValueList
}

var _ cmprovider.CustomMetricsProvider = (*Cached)(nil)

// Cache results (the result label of hsds_adapter_api_cache_requests_total).
const (
	CacheHit    = "hit"    // served a cached answer
	CacheShared = "shared" // waited for another caller's computation of the same answer
	CacheMiss   = "miss"   // computed the answer
)

// NewCached wraps next; answers are keyed to src's generation and clk's max-age period. Its
// counter hsds_adapter_api_cache_requests_total{result} is registered on reg.
func NewCached(next cmprovider.CustomMetricsProvider, src Versioned, clk clock.PassiveClock, maxAge time.Duration, reg prometheus.Registerer) (*Cached, error) {
	if maxAge <= 0 {
		return nil, fmt.Errorf("cache max-age %s: want > 0", maxAge)
	}
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hsds_adapter_api_cache_requests_total",
		Help: "Custom-metrics list requests by cache result: hit (cached answer), shared (waited for a concurrent computation), miss (computed).",
	}, []string{"result"})
	if err := reg.Register(c); err != nil {
		return nil, fmt.Errorf("register cache metrics: %w", err)
	}
	for _, r := range []string{CacheHit, CacheShared, CacheMiss} {
		c.WithLabelValues(r)
	}
	return &Cached{Next: next, Version: &Versioner{Source: src, Clock: clk, MaxAge: maxAge},
		MaxEntries: DefaultMaxEntries, requests: c, entries: map[string]cachedList{}}, nil
}

// GetMetricByName implements CustomMetricsProvider; it is not cached.
func (c *Cached) GetMetricByName(ctx context.Context, name types.NamespacedName, info cmprovider.CustomMetricInfo, sel labels.Selector) (*custom_metrics.MetricValue, error) {
	return c.Next.GetMetricByName(ctx, name, info, sel)
}

// ListAllMetrics implements CustomMetricsProvider.
func (c *Cached) ListAllMetrics() []cmprovider.CustomMetricInfo { return c.Next.ListAllMetrics() }

// GetMetricBySelector implements CustomMetricsProvider from the cache.
func (c *Cached) GetMetricBySelector(ctx context.Context, namespace string, selector labels.Selector, info cmprovider.CustomMetricInfo, metricSelector labels.Selector) (*custom_metrics.MetricValueList, error) {
	key := listKey(namespace, selector, info, metricSelector)
	if l, ok := c.lookup(key, c.Version.Now()); ok {
		c.requests.WithLabelValues(CacheHit).Inc()
		return share(l), nil
	}
	leader := false
	res, err, _ := c.flights.Do(key, func() (any, error) {
		leader = true
		v := c.Version.Now()
		if l, ok := c.lookup(key, v); ok { // a flight that ended just before this one computed it
			return l, nil
		}
		l, err := c.Next.GetMetricBySelector(context.WithoutCancel(ctx), namespace, selector, info, metricSelector)
		if err != nil {
			return nil, err
		}
		for i := range l.Items {
			_ = l.Items[i].Value.String() // caches the formatted quantity, which every encoding needs
		}
		c.store(key, v, l)
		return l, nil
	})
	result := CacheShared
	if leader {
		result = CacheMiss
	}
	c.requests.WithLabelValues(result).Inc()
	if err != nil {
		return nil, err
	}
	return share(res.(*custom_metrics.MetricValueList)), nil
}

// share returns a caller's own list header over the shared, read-only items.
func share(l *custom_metrics.MetricValueList) *custom_metrics.MetricValueList {
	return &custom_metrics.MetricValueList{TypeMeta: l.TypeMeta, ListMeta: l.ListMeta, Items: slices.Clip(l.Items)}
}

func (c *Cached) lookup(key string, v Version) (*custom_metrics.MetricValueList, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || e.v != v {
		return nil, false
	}
	return e.list, true
}

// store keeps an answer computed at version v, dropping entries of older versions (and, if the
// cache is still full, one arbitrary entry) to stay within MaxEntries.
func (c *Cached) store(key string, v Version, l *custom_metrics.MetricValueList) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; !ok && len(c.entries) >= max(c.MaxEntries, 1) {
		for k, e := range c.entries {
			if e.v != v {
				delete(c.entries, k)
			}
		}
		for k := range c.entries {
			if len(c.entries) < max(c.MaxEntries, 1) {
				break
			}
			delete(c.entries, k)
		}
	}
	c.entries[key] = cachedList{v: v, list: l}
}

// listKey identifies a list request.
func listKey(namespace string, selector labels.Selector, info cmprovider.CustomMetricInfo, metricSelector labels.Selector) string {
	str := func(s labels.Selector) string {
		if s == nil {
			return ""
		}
		return s.String()
	}
	return strings.Join([]string{namespace, str(selector), info.GroupResource.String(),
		strconv.FormatBool(info.Namespaced), info.Metric, str(metricSelector)}, "\x00")
}
