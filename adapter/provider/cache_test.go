package provider_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
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

// cacheFixture is a store with pods a and b read at t0 (a: 1 overload 503/s), a provider over it
// behind a counting wrapper and a cache with the default max-age, on a fake clock at t0+1s.
type cacheFixture struct {
	st    *store.Store
	clk   *testclock.FakeClock
	next  *counting
	cache *provider.Cached
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
	c, err := provider.NewCached(f.next, f.st, f.clk, provider.DefaultMaxAge, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	f.cache = c
	return f
}

// record adds a reading of pod name at t0+s with overload 503s total.
func (f *cacheFixture) record(name string, s float64, overload float64) {
	f.st.Record(store.Key{Namespace: "ns", Name: name}, types.UID(name), at(s),
		agentmetrics.Reading{Responses: 10 * overload, Rejected: [3]float64{overload}, InFlight: 1, Up: true})
}

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

type item struct {
	Pod   string
	Milli int64
	Time  time.Time
}

func (f *cacheFixture) list(t *testing.T, msel string) []item {
	t.Helper()
	sel, err := labels.Parse(msel)
	if err != nil {
		t.Fatal(err)
	}
	l, err := f.cache.GetMetricBySelector(context.Background(), "ns", labels.SelectorFromSet(labels.Set{"app": "hsds"}), pods(provider.Metric503Rate), sel)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	var out []item
	for _, it := range l.Items {
		out = append(out, item{it.DescribedObject.Name, it.Value.MilliValue(), it.Timestamp.UTC()})
	}
	return out
}

func TestCacheHitMissInvalidation(t *testing.T) {
	f := newCacheFixture(t)
	both := []item{{"a", 1000, at(0)}, {"b", 1000, at(0)}}
	steps := []struct {
		name      string
		do        func()
		msel      string
		want      []item
		wantCalls int64
	}{
		{name: "first call computes", want: both, wantCalls: 1},
		{name: "second call is a hit", want: both, wantCalls: 1},
		{name: "another metric selector is another answer", msel: "cause=overload", want: both, wantCalls: 2},
		{name: "a store write invalidates", do: func() { f.record("a", 1, 4) }, want: []item{{"a", 2000, at(1)}, {"b", 1000, at(0)}}, wantCalls: 3},
		{name: "hit after the write", want: []item{{"a", 2000, at(1)}, {"b", 1000, at(0)}}, wantCalls: 3},
		{name: "a failure invalidates", do: func() { f.st.RecordFailure(store.Key{Namespace: "ns", Name: "b"}, "b", at(1.1), "timeout") },
			want: []item{{"a", 2000, at(1)}}, wantCalls: 4},
		{name: "a deletion invalidates", do: func() { f.st.DeletePod("ns", "a") }, wantCalls: 5},
		{name: "within the max-age period: hit", do: func() { f.clk.Step(100 * time.Millisecond) }, wantCalls: 5},
		{name: "next max-age period: recomputed", do: func() { f.clk.Step(provider.DefaultMaxAge) }, wantCalls: 6},
	}
	for _, st := range steps {
		if st.do != nil {
			st.do()
		}
		got := f.list(t, st.msel)
		if diff := cmp.Diff(st.want, got); diff != "" {
			t.Errorf("%s: (-want +got):\n%s", st.name, diff)
		}
		if n := f.next.calls.Load(); n != st.wantCalls {
			t.Errorf("%s: %d computations, want %d", st.name, n, st.wantCalls)
		}
	}
}

// TestCacheStalePodLeaves: a pod whose reading ages past stale-after leaves the cached answer
// within one max-age, with no store write.
func TestCacheStalePodLeaves(t *testing.T) {
	f := newCacheFixture(t)
	f.record("b", 4, 2)  // b is fresher than a (last read at t0)
	f.clk.SetTime(at(5)) // a is exactly stale-after old: still served
	if got := f.list(t, ""); len(got) != 2 {
		t.Fatalf("at stale-after: got %v, want a and b", got)
	}
	gen := f.st.Generation()
	f.clk.SetTime(at(5).Add(provider.DefaultMaxAge))
	want := []item{{"b", 400, at(4)}} // 2 overload 503s over [-1 s, 4 s]
	if diff := cmp.Diff(want, f.list(t, "")); diff != "" {
		t.Errorf("one max-age later (-want +got):\n%s", diff)
	}
	if f.st.Generation() != gen {
		t.Error("the store changed; the test wants no write")
	}
}

// TestCacheConcurrentMisses: callers that miss while an answer is computed wait for it and share
// it: one computation, every caller the same correct items, each with its own list header.
func TestCacheConcurrentMisses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newCacheFixture(t)
		reg := prometheus.NewRegistry()
		f.next.block = make(chan struct{})
		c, err := provider.NewCached(f.next, f.st, f.clk, provider.DefaultMaxAge, reg)
		if err != nil {
			t.Fatal(err)
		}
		f.cache = c
		const callers = 20
		got := make([][]item, callers)
		lists := make([]*custom_metrics.MetricValueList, callers)
		var wg sync.WaitGroup
		for i := range callers {
			wg.Go(func() {
				l, err := c.GetMetricBySelector(context.Background(), "ns", labels.Everything(), pods(provider.Metric503Rate), labels.Everything())
				if err != nil {
					t.Error(err)
					return
				}
				lists[i] = l
				for _, it := range l.Items {
					got[i] = append(got[i], item{it.DescribedObject.Name, it.Value.MilliValue(), it.Timestamp.UTC()})
				}
			})
		}
		synctest.Wait() // every caller is blocked: one in the computation, the others waiting for it
		close(f.next.block)
		wg.Wait()
		want := []item{{"a", 1000, at(0)}, {"b", 1000, at(0)}}
		for i := range callers {
			if diff := cmp.Diff(want, got[i]); diff != "" {
				t.Errorf("caller %d (-want +got):\n%s", i, diff)
			}
			if i > 0 && lists[i] == lists[0] {
				t.Errorf("caller %d shares caller 0's list header", i)
			}
			if cap(lists[i].Items) != len(lists[i].Items) {
				t.Errorf("caller %d: items capacity %d > length %d: an append would write into the shared answer", i, cap(lists[i].Items), len(lists[i].Items))
			}
		}
		if n := f.next.calls.Load(); n != 1 {
			t.Errorf("%d computations, want 1", n)
		}
		wantCounts := `
# HELP hsds_adapter_api_cache_requests_total Custom-metrics list requests by cache result: hit (cached answer), shared (waited for a concurrent computation), miss (computed).
# TYPE hsds_adapter_api_cache_requests_total counter
hsds_adapter_api_cache_requests_total{result="hit"} 0
hsds_adapter_api_cache_requests_total{result="miss"} 1
hsds_adapter_api_cache_requests_total{result="shared"} 19
`
		if err := testutil.GatherAndCompare(reg, strings.NewReader(wantCounts)); err != nil {
			t.Error(err)
		}
	})
}

func TestCacheEvictsWhenFull(t *testing.T) {
	f := newCacheFixture(t)
	f.cache.MaxEntries = 2
	for _, msel := range []string{"", "cause=overload", "cause=upstream", "cause=not_ready"} {
		f.list(t, msel)
	}
	if n := f.next.calls.Load(); n != 4 {
		t.Fatalf("%d computations, want 4", n)
	}
	f.list(t, "cause=not_ready") // the newest entry is kept
	if n := f.next.calls.Load(); n != 4 {
		t.Errorf("newest answer recomputed: %d computations, want 4", n)
	}
}

func TestNewCachedRejectsZeroMaxAge(t *testing.T) {
	if _, err := provider.NewCached(&provider.Provider{}, store.New(store.Config{}), testclock.NewFakeClock(t0), 0, prometheus.NewRegistry()); err == nil {
		t.Error("NewCached with max-age 0 succeeded; want an error")
	}
}

// TestCacheThroughAPIServer serves one cached answer to many concurrent HTTP requests through the
// custom-metrics-apiserver handler chain (run with -race): every body is the same, and the
// shared items are unchanged afterwards (the handler chain never writes them).
func TestCacheThroughAPIServer(t *testing.T) {
	f := newCacheFixture(t)
	ts := serve(t, f.cache)
	before := f.list(t, "")
	shared, err := f.cache.GetMetricBySelector(context.Background(), "ns", labels.SelectorFromSet(labels.Set{"app": "hsds"}), pods(provider.Metric503Rate), labels.Everything())
	if err != nil {
		t.Fatal(err)
	}
	snapshot := shared.DeepCopy()
	client := &http.Client{}
	t.Cleanup(client.CloseIdleConnections)
	const requests = 32
	bodies := make([]string, requests)
	var wg sync.WaitGroup
	for i := range requests {
		version := []string{"v1beta1", "v1beta2"}[i%2]
		wg.Go(func() {
			resp, err := client.Get(ts.URL + "/apis/custom.metrics.k8s.io/" + version + "/namespaces/ns/pods/%2A/hsds_503_rate?labelSelector=app%3Dhsds")
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("status %d: %s", resp.StatusCode, b)
			}
			bodies[i] = version + string(b)
		})
	}
	wg.Wait()
	for i := 2; i < requests; i++ {
		if bodies[i] != bodies[i%2] {
			t.Errorf("body %d differs from body %d", i, i%2)
		}
	}
	if diff := cmp.Diff(snapshot, shared); diff != "" {
		t.Errorf("shared answer changed while served (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(before, f.list(t, "")); diff != "" {
		t.Errorf("answer changed (-before +after):\n%s", diff)
	}
	if n := f.next.calls.Load(); n != 1 {
		t.Errorf("%d computations for %d requests, want 1", n, requests+2)
	}
}
