package provider_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	testclock "k8s.io/utils/clock/testing"
	cmprovider "sigs.k8s.io/custom-metrics-apiserver/pkg/provider"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/agentmetrics"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/provider"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/store"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

// benchStore holds n known pods with 30 s of one-second readings.
func benchStore(n int) *store.Store {
	st := store.New(store.Config{Window: 30 * time.Second, ShortWindow: 10 * time.Second, StaleAfter: time.Hour})
	for i := range n {
		m := store.PodMeta{Namespace: "hsds", Name: fmt.Sprintf("hsds-5d8f-%05d", i), UID: types.UID(fmt.Sprint(i)),
			Phase: heuristics.PodRunning, Labels: map[string]string{"app": "hsds"}, Deployment: "hsds"}
		st.UpsertPod(m)
		for s := 0; s <= 30; s++ {
			rd := agentmetrics.Reading{Responses: float64(100 * s), Rejected: [3]float64{float64(s), 0, 0},
				InFlight: 50, Limit: 100, HasLimit: true, Up: true}
			st.Record(m.Key(), m.UID, t0.Add(time.Duration(s)*time.Second), rd)
		}
	}
	return st
}

// concurrentP99 runs total calls of f from workers goroutines and returns the 99th percentile
// latency.
func concurrentP99(b *testing.B, workers, total int, f func() error) time.Duration {
	lat := make([]time.Duration, total)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	next := make(chan int, total)
	for i := range total {
		next <- i
	}
	close(next)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				start := time.Now()
				err := f()
				lat[i] = time.Since(start)
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	slices.Sort(lat)
	return lat[total*99/100]
}

const (
	benchPods    = 1000
	benchWorkers = 200
	benchCalls   = 2000
)

// BenchmarkProviderList1000: the provider path alone (what the API handler calls), 200 at once,
// with no cache: every request computes the answer.
func BenchmarkProviderList1000(b *testing.B) {
	benchmarkProviderList(b, &provider.Provider{Source: benchStore(benchPods), Clock: testclock.NewFakeClock(t0.Add(31 * time.Second))})
}

func benchmarkProviderList(b *testing.B, p cmprovider.CustomMetricsProvider) {
	sel := labels.SelectorFromSet(labels.Set{"app": "hsds"})
	info := pods(provider.Metric503Rate)
	call := func() error {
		l, err := p.GetMetricBySelector(context.Background(), "hsds", sel, info, labels.Everything())
		if err == nil && len(l.Items) != benchPods {
			err = fmt.Errorf("got %d items", len(l.Items))
		}
		return err
	}
	report(b, call)
}

// report measures p99 latency at 200 concurrent requests and at 1 (what one HPA controller
// sees), and the mean cost of one request.
func report(b *testing.B, call func() error) {
	var p99, p99c1 time.Duration
	start := time.Now()
	for b.Loop() {
		p99 = max(p99, concurrentP99(b, benchWorkers, benchCalls, call))
	}
	per := time.Since(start) / time.Duration(b.N*benchCalls)
	p99c1 = concurrentP99(b, 1, 200, call)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(p99), "p99-c200-ms")
	b.ReportMetric(ms(p99c1), "p99-c1-ms")
	b.ReportMetric(ms(per), "ms/request")
}

// BenchmarkAPIList1000: the whole HTTP path through the custom-metrics-apiserver handler chain,
// JSON encoding included, 200 requests at once over keep-alive connections, with no cache.
func BenchmarkAPIList1000(b *testing.B) {
	benchmarkAPIList(b, serve(b, &provider.Provider{Source: benchStore(benchPods), Clock: testclock.NewFakeClock(t0.Add(31 * time.Second))}))
}

// BenchmarkBodyCachedAPIList1000 is BenchmarkAPIList1000 as the adapter serves it: through the
// encoded-answer cache.
func BenchmarkBodyCachedAPIList1000(b *testing.B) {
	st := benchStore(benchPods)
	clk := testclock.NewFakeClock(t0.Add(31 * time.Second))
	bc, err := provider.NewBodyCache(st, clk, provider.DefaultMaxAge, prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	benchmarkAPIList(b, serveWith(b, &provider.Provider{Source: st, Clock: clk}, bc, false))
}

func benchmarkAPIList(b *testing.B, ts *httptest.Server) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchWorkers}}
	b.Cleanup(client.CloseIdleConnections)
	url := ts.URL + "/apis/custom.metrics.k8s.io/v1beta2/namespaces/hsds/pods/%2A/hsds_503_rate?labelSelector=app%3Dhsds"
	call := func() error {
		resp, err := client.Get(url)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		n, _ := io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusOK || n < 100*benchPods {
			return fmt.Errorf("status %d, %d bytes", resp.StatusCode, n)
		}
		return nil
	}
	report(b, call)
}

// BenchmarkProviderListSerial1000: the CPU cost of one 1000-pod list, no concurrency.
func BenchmarkProviderListSerial1000(b *testing.B) {
	p := &provider.Provider{Source: benchStore(benchPods), Clock: testclock.NewFakeClock(t0.Add(31 * time.Second))}
	sel := labels.SelectorFromSet(labels.Set{"app": "hsds"})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.GetMetricBySelector(context.Background(), "hsds", sel, pods(provider.Metric503Rate), labels.Everything()); err != nil {
			b.Fatal(err)
		}
	}
}
