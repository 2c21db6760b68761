package dashboards

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/metrics/pkg/apis/custom_metrics"
	"k8s.io/utils/clock"
	cmprovider "sigs.k8s.io/custom-metrics-apiserver/pkg/provider"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/collector"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/provider"
	"github.com/hsds-autoscaler/hsds-autoscaler/agent"
	"github.com/hsds-autoscaler/hsds-autoscaler/agent/fakehsds"
	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
	"github.com/hsds-autoscaler/hsds-autoscaler/scaler"
)

// scrapeTarget is one Prometheus scrape target with the labels Kubernetes relabeling would set.
type scrapeTarget struct {
	Job       string
	Addr      string // host:port serving /metrics
	Namespace string
	Pod       string
}

const liveNamespace = "hsds-it"

// goGroup runs goroutines that a test's cleanup stops and waits for.
func goGroup(t *testing.T, ctx context.Context) (context.Context, func(func(context.Context))) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	return ctx, func(f func(context.Context)) { wg.Add(1); go func() { defer wg.Done(); f(ctx) }() }
}

// startFakePod starts a fake HSDS pod on loopback; cleanup stops it.
func startFakePod(t *testing.T, ctx context.Context, cfg fakehsds.Config) (pod *fakehsds.Pod, snURL, dnURL string) {
	t.Helper()
	pod, err := fakehsds.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	snURL, dnURL, err = pod.ListenAndServe(ctx, "127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); pod.Wait() })
	return pod, snURL, dnURL
}

// startAgent runs an hsds-agent against snURL/dnURL and serves its /metrics on loopback.
func startAgent(t *testing.T, ctx context.Context, source, snURL, dnURL, podName string) scrapeTarget {
	t.Helper()
	o := agent.NewOptions()
	o.Source, o.SNURL, o.DNURL = source, snURL, dnURL
	o.PollInterval, o.Timeout = 250*time.Millisecond, 500*time.Millisecond
	a, err := agent.New(*o, clock.RealClock{})
	if err != nil {
		t.Fatal(err)
	}
	_, run := goGroup(t, ctx)
	run(a.Run)
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return scrapeTarget{Job: "hsds-agent", Addr: srv.Listener.Addr().String(), Namespace: liveNamespace, Pod: podName}
}

// closedURL returns the URL of a loopback port nothing listens on.
func closedURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return "http://" + addr
}

// drive sends requests to url from `workers` goroutines, pausing `pause` after each, until ctx
// ends or `limit` requests were sent. It returns at once; cleanup stops it.
func drive(t *testing.T, ctx context.Context, url string, workers int, pause time.Duration, limit int) {
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	t.Cleanup(client.CloseIdleConnections)
	var mu sync.Mutex
	sent := 0
	_, run := goGroup(t, ctx)
	for range workers {
		run(func(ctx context.Context) {
			for {
				mu.Lock()
				sent++
				done := sent > limit
				mu.Unlock()
				if done || ctx.Err() != nil {
					return
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				if resp, err := client.Do(req); err == nil {
					_ = resp.Body.Close()
				}
				select {
				case <-ctx.Done():
				case <-time.After(pause):
				}
			}
		})
	}
}

// startHSDSPods stages four HSDS pods, each behind an hsds-agent:
//   - hsds-ok: light load, healthy;
//   - hsds-busy: max_task_count 4 and concurrent load: overload 503s;
//   - hsds-stuck: HSDS WAITING (issue 423), read through /info so the WAITING series exists;
//   - hsds-down: the agent's SN does not answer (hsds_agent_up 0).
func startHSDSPods(t *testing.T, ctx context.Context) []scrapeTarget {
	ok := fakehsds.DefaultConfig()
	ok.NodeID = "ok"
	_, okSN, okDN := startFakePod(t, ctx, ok)
	drive(t, ctx, okSN+"/datasets/d/value?chunks=1", 1, 50*time.Millisecond, 2000)

	busy := fakehsds.DefaultConfig()
	busy.NodeID, busy.MaxTaskCount, busy.ServiceTime = "busy", 4, fakehsds.Fixed(200*time.Millisecond)
	_, busySN, busyDN := startFakePod(t, ctx, busy)
	drive(t, ctx, busySN+"/datasets/d/value?chunks=1", 6, 50*time.Millisecond, 20000)

	stuck := fakehsds.DefaultConfig()
	stuck.NodeID, stuck.InitialState, stuck.StickyWaiting = "stuck", schema.StateWaiting, true
	_, stuckSN, stuckDN := startFakePod(t, ctx, stuck)

	return []scrapeTarget{
		startAgent(t, ctx, schema.SourceMetrics, okSN, okDN, "hsds-ok"),
		startAgent(t, ctx, schema.SourceMetrics, busySN, busyDN, "hsds-busy"),
		startAgent(t, ctx, schema.SourceInfo, stuckSN, stuckDN, "hsds-stuck"),
		startAgent(t, ctx, schema.SourceMetrics, closedURL(t), "", "hsds-down"),
	}
}

// nullProvider answers every custom-metrics request with "not found".
type nullProvider struct{}

func (nullProvider) GetMetricByName(context.Context, types.NamespacedName, cmprovider.CustomMetricInfo, labels.Selector) (*custom_metrics.MetricValue, error) {
	return nil, cmprovider.NewMetricNotFoundError(provider.Pods, "hsds_503_rate")
}

func (nullProvider) GetMetricBySelector(context.Context, string, labels.Selector, cmprovider.CustomMetricInfo, labels.Selector) (*custom_metrics.MetricValueList, error) {
	return nil, cmprovider.NewMetricNotFoundError(provider.Pods, "hsds_503_rate")
}

func (nullProvider) ListAllMetrics() []cmprovider.CustomMetricInfo { return nil }

// startServeStandIn serves the metrics of `hsds-autoscaler serve` from registries built by the
// adapter and scaler packages themselves, fed by a ticker: adapter scrapes (one in two fails with
// reason timeout), rounds, one custom-metrics request per tick, and leader = 1. The scaler's
// per-target series stay absent (they need a running controller), so the queries that read them
// are checked for parsing only.
//
// TODO(serve): when cmd/hsds-autoscaler serve exists, replace this with a target that runs it.
func startServeStandIn(t *testing.T, ctx context.Context) scrapeTarget {
	t.Helper()
	reg := prometheus.NewRegistry()
	cm, err := collector.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := provider.NewInstrumented(nullProvider{}, clock.RealClock{}, reg)
	if err != nil {
		t.Fatal(err)
	}
	sm, err := scaler.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	sm.SetLeader(true)
	_, run := goGroup(t, ctx)
	run(func(ctx context.Context) {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		info := cmprovider.CustomMetricInfo{GroupResource: provider.Pods, Namespaced: true, Metric: provider.Names[0]}
		for i := 0; ; i++ {
			cm.ScrapeDuration.Observe(0.002)
			if i%2 == 0 {
				cm.ScrapeErrors.WithLabelValues(collector.ScrapeErrorTimeout).Inc()
			}
			cm.RoundDuration.Observe(0.004)
			cm.LastRound.Set(float64(time.Now().UnixNano()) / 1e9)
			cm.Pods.Set(4)
			cm.Targets.Set(4)
			_, _ = inst.GetMetricByName(ctx, types.NamespacedName{Namespace: liveNamespace, Name: "hsds-ok"}, info, labels.Everything())
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	t.Cleanup(srv.Close)
	return scrapeTarget{Job: "hsds-autoscaler", Addr: srv.Listener.Addr().String(), Namespace: "hsds-autoscaler", Pod: "hsds-autoscaler-0"}
}
