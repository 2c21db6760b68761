package provider_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/metrics/pkg/apis/custom_metrics"
	testclock "k8s.io/utils/clock/testing"
	cmprovider "sigs.k8s.io/custom-metrics-apiserver/pkg/provider"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/agentmetrics"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/provider"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/store"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

// counting counts the list answers its provider computes; block, when set, holds each one.
type counting struct {
	cmprovider.CustomMetricsProvider
	calls atomic.Int64
	block chan struct{}
}

func (c *counting) GetMetricBySelector(ctx context.Context, ns string, sel labels.Selector, info cmprovider.CustomMetricInfo, msel labels.Selector) (*custom_metrics.MetricValueList, error) {
	c.calls.Add(1)
	if c.block != nil {
		<-c.block
	}
	return c.CustomMetricsProvider.GetMetricBySelector(ctx, ns, sel, info, msel)
}

// cacheFixture is a store with pods a and b read at t0 (a: 1 overload 503/s) and a provider over
// it behind a counting wrapper, on a fake clock at t0+1s.
type cacheFixture struct {
	st   *store.Store
	clk  *testclock.FakeClock
	next *counting
}

func newCacheFixture(t *testing.T) *cacheFixture {
	t.Helper()
	f := &cacheFixture{clk: testclock.NewFakeClock(t0.Add(time.Second)),
		st: store.New(store.Config{Window: 30 * time.Second, ShortWindow: 10 * time.Second, StaleAfter: 5 * time.Second})}
	for _, name := range []string{"a", "b"} {
		f.st.UpsertPod(store.PodMeta{Namespace: "ns", Name: name, UID: types.UID(name), Phase: heuristics.PodRunning,
			Labels: map[string]string{"app": "hsds"}})
		f.record(name, -1, 0)
		f.record(name, 0, 1)
	}
	f.next = &counting{CustomMetricsProvider: &provider.Provider{Source: f.st, Clock: f.clk}}
	return f
}

// record adds a reading of pod name at t0+s with overload 503s total.
func (f *cacheFixture) record(name string, s float64, overload float64) {
	f.st.Record(store.Key{Namespace: "ns", Name: name}, types.UID(name), at(s),
		agentmetrics.Reading{Responses: 10 * overload, Rejected: [3]float64{overload}, InFlight: 1, Up: true})
}

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
