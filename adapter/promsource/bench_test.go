package promsource_test

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
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/collector"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/internal/fakeagent"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/promsource"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/store"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

func TestMain(m *testing.M) {
	if fakeagent.ServeManyIfChild() {
		return
	}
	os.Exit(m.Run())
}

// benchScrapeInterval is Prometheus's scrape interval in the benchmark: a common production
// setting (kube-prometheus uses 30 s); --prometheus-stale-after's default (45 s) covers it.
const benchScrapeInterval = 15 * time.Second

// BenchmarkDecisionRound10000 measures what one decision round costs this process for 10,000
// pods, for each source: a collection round (direct: scrape every agent; prometheus: the one
// query) and the scaler's read of the store (PodSamples). The agents (fake, the realistic 37-line
// exposition) run in child processes; Prometheus, with all 10,000 as file_sd targets, in its own
// process. Run each source alone, so that peak RSS is its own:
//
//	go test -run '^$' -bench 'DecisionRound10000/direct' -benchtime 5x ./adapter/promsource/
//	go test -run '^$' -bench 'DecisionRound10000/prometheus' -benchtime 5x ./adapter/promsource/
//
// Both rounds are built by adapter.NewRounder from the service's defaults, as serve builds them;
// Prometheus mode with --prometheus-interval=15s (Prometheus scrapes every 15 s). Reported per round: CPU and wall time, data age at the end of the round (mean and max over
// the pods), pods known; for the process: peak RSS and the largest heap in use after a round; for
// Prometheus: its RSS, its CPU while only scraping, and its extra CPU per round.
func BenchmarkDecisionRound10000(b *testing.B) {
	const n = 10000
	b.Run("direct", func(b *testing.B) { benchmarkDecisionRound(b, n, false) })
	b.Run("prometheus", func(b *testing.B) { benchmarkDecisionRound(b, n, true) })
}

func benchmarkDecisionRound(b *testing.B, n int, viaProm bool) {
	runtime.GC()
	baseRSS := fakeagent.StatusKB(0, "VmRSS") / 1024
	addrs := fakeagent.StartMany(b, n)
	o := adapter.NewOptions() // the service's defaults
	stale := o.StaleAfter
	if viaProm {
		stale = o.PrometheusStaleAfter
	}
	st := store.New(store.Config{Window: o.Window, ShortWindow: o.ShortWindow, StaleAfter: stale})
	targets := make([]promTarget, n)
	for i, a := range addrs {
		host, port, _ := net.SplitHostPort(a)
		p, _ := strconv.Atoi(port)
		name := fmt.Sprintf("hsds-%d", i)
		st.UpsertPod(store.PodMeta{Namespace: "hsds", Name: name, UID: types.UID(strconv.Itoa(i)),
			Phase: heuristics.PodRunning, Labels: map[string]string{"app": "hsds"}, IP: host, Port: p})
		targets[i] = promTarget{addr: a, namespace: "hsds", pod: name}
	}
	m, err := collector.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	var prom *realProm
	if viaProm {
		prom = startProm(b, targets, benchScrapeInterval)
		prom.waitTargets(b, n)
		// --prometheus-interval=15s: querying more often than Prometheus scrapes reads the same
		// data again. The query's timeout is the interval (adapter.NewRounder).
		// $HSDS_BENCH_PROMETHEUS_INTERVAL sets another (5s is the flag's default).
		o.PrometheusURL, o.PrometheusInterval, o.Namespaces = prom.URL, benchScrapeInterval, []string{"hsds"}
		if v := os.Getenv("HSDS_BENCH_PROMETHEUS_INTERVAL"); v != "" {
			if o.PrometheusInterval, err = time.ParseDuration(v); err != nil {
				b.Fatal(err)
			}
		}
	}
	series := 0 // samples one query returns
	if prom != nil {
		if series, err = prom.count(context.Background(), promsource.Query(o.PrometheusNamespaceLabel, o.Namespaces)); err != nil {
			b.Fatal(err)
		}
	}
	round, err := adapter.NewRounder(*o, st, clock.RealClock{}, m)
	if err != nil {
		b.Fatal(err)
	}
	// Steady state: keep-alive connections open, two readings of every pod in the store (rates
	// need two), the second one scrape interval after the first through Prometheus.
	round.Round(context.Background())
	var promIdle float64 // Prometheus's CPU while it only scrapes, in cores
	if prom != nil {
		cpu0, t0 := fakeagent.ProcCPU(prom.Pid), time.Now()
		time.Sleep(benchScrapeInterval)
		promIdle = float64(fakeagent.ProcCPU(prom.Pid)-cpu0) / float64(time.Since(t0))
	}
	round.Round(context.Background())
	var promCPU0 time.Duration
	if prom != nil {
		promCPU0 = fakeagent.ProcCPU(prom.Pid)
	}
	errsBefore := errorCount(m)
	var ageSum, ageMax time.Duration
	var known, samples int
	var heapMax uint64
	var ms runtime.MemStats
	cpu0, wall0 := fakeagent.CPUTime(), time.Now()
	b.ResetTimer()
	for b.Loop() {
		round.Round(context.Background())
		now := time.Now()
		for _, s := range st.PodSamples("hsds", labels.Everything(), now) {
			samples++
			if s.Known {
				known++
				age := now.Sub(s.SampleTime)
				ageSum, ageMax = ageSum+age, max(ageMax, age)
			}
		}
		runtime.ReadMemStats(&ms)
		heapMax = max(heapMax, ms.HeapInuse)
	}
	b.StopTimer()
	wall := time.Since(wall0)
	rounds := float64(b.N)
	b.ReportMetric(float64((fakeagent.CPUTime()-cpu0).Milliseconds())/rounds, "cpu-ms/round")
	b.ReportMetric(float64(wall.Milliseconds())/rounds, "wall-ms/round")
	b.ReportMetric(baseRSS, "base-rss-MiB")
	b.ReportMetric(fakeagent.StatusKB(0, "VmHWM")/1024, "peak-rss-MiB")
	b.ReportMetric(float64(heapMax)/(1<<20), "max-heap-inuse-MiB")
	if known > 0 {
		b.ReportMetric((ageSum / time.Duration(known)).Seconds(), "mean-age-s")
	}
	b.ReportMetric(ageMax.Seconds(), "max-age-s")
	b.ReportMetric(float64(known)/float64(max(samples, 1)), "known-fraction")
	b.ReportMetric((errorCount(m)-errsBefore)/rounds, "errors/round")
	if prom != nil {
		extra := fakeagent.ProcCPU(prom.Pid) - promCPU0 - time.Duration(promIdle*float64(wall))
		b.ReportMetric(float64(extra.Milliseconds())/rounds, "prom-query-cpu-ms/round")
		b.ReportMetric(promIdle, "prom-scrape-cores")
		b.ReportMetric(fakeagent.StatusKB(prom.Pid, "VmRSS")/1024, "prom-rss-MiB")
		b.ReportMetric(float64(series), "series/round")
	}
}

func errorCount(m *collector.Metrics) float64 {
	total := 0.0
	for _, r := range []string{collector.ScrapeErrorTimeout, collector.ScrapeErrorConnect, collector.ScrapeErrorStatus,
		collector.ScrapeErrorParse, collector.ScrapeErrorInvalid, collector.ScrapeErrorAgentDown,
		promsource.ReadFailureQuery, promsource.ReadFailureMissing} {
		total += testutil.ToFloat64(m.ScrapeErrors.WithLabelValues(r))
	}
	return total
}
