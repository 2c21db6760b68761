package collector_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/collector"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/internal/fakeagent"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/store"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

func TestMain(m *testing.M) {
	if fakeagent.ServeManyIfChild() {
		return
	}
	os.Exit(m.Run())
}

func benchmarkRound(b *testing.B, n int) {
	runtime.GC()
	baseRSS := fakeagent.StatusKB(0, "VmRSS") / 1024
	addrs := fakeagent.StartMany(b, n)
	st := store.New(store.Config{Window: 30 * time.Second, ShortWindow: 10 * time.Second, StaleAfter: 5 * time.Second})
	for i, a := range addrs {
		host, port, _ := net.SplitHostPort(a)
		p, _ := strconv.Atoi(port)
		st.UpsertPod(store.PodMeta{Namespace: "hsds", Name: fmt.Sprintf("hsds-%d", i), UID: types.UID(strconv.Itoa(i)),
			Phase: heuristics.PodRunning, Labels: map[string]string{"app": "hsds"}, IP: host, Port: p})
	}
	m, err := collector.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	client := collector.NewHTTPClient(time.Second)
	b.Cleanup(client.CloseIdleConnections)
	c := &collector.Collector{Sink: st, Clock: clock.RealClock{}, Workers: 64, Path: "/metrics", Metrics: m,
		Scraper: &collector.Scraper{Client: client, Timeout: time.Second, MaxBodyBytes: 1 << 20}}
	c.Round(context.Background()) // open the keep-alive connections, as in steady state
	errsBefore := errorCount(m)
	cpu0, wall0 := fakeagent.CPUTime(), time.Now()
	b.ResetTimer()
	for b.Loop() {
		c.Round(context.Background())
	}
	b.StopTimer()
	rounds := float64(b.N)
	b.ReportMetric(float64((fakeagent.CPUTime()-cpu0).Milliseconds())/rounds, "cpu-ms/round")
	b.ReportMetric(float64(time.Since(wall0).Milliseconds())/rounds, "wall-ms/round")
	b.ReportMetric(fakeagent.StatusKB(0, "VmRSS")/1024, "rss-MiB")
	b.ReportMetric(baseRSS, "base-rss-MiB")
	b.ReportMetric(fakeagent.StatusKB(0, "VmHWM")/1024, "peak-rss-MiB")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-inuse-MiB")
	b.ReportMetric(float64(ms.StackInuse)/(1<<20), "stack-MiB")
	// Errors are reported, not fatal: on a loaded shared machine a few 1 s timeouts happen.
	b.ReportMetric((errorCount(m)-errsBefore)/rounds, "errors/round")
}

func errorCount(m *collector.Metrics) float64 {
	total := 0.0
	for _, r := range []string{collector.ScrapeErrorTimeout, collector.ScrapeErrorConnect, collector.ScrapeErrorStatus, collector.ScrapeErrorParse, collector.ScrapeErrorInvalid} {
		total += testutil.ToFloat64(m.ScrapeErrors.WithLabelValues(r))
	}
	return total
}

func BenchmarkRound1000(b *testing.B) { benchmarkRound(b, 1000) }
func BenchmarkRound5000(b *testing.B) { benchmarkRound(b, 5000) }
