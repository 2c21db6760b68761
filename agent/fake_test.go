package agent

import (
	"context"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/clock"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/fakehsds"
	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// startFake serves a fake HSDS pod on loopback until the test ends.
func startFake(t testing.TB, cfg fakehsds.Config) (pod *fakehsds.Pod, snURL, dnURL string) {
	t.Helper()
	pod, err := fakehsds.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	snURL, dnURL, err = pod.ListenAndServe(ctx, "127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		pod.Wait()
	})
	return pod, snURL, dnURL
}

// startProxy runs the proxy source in front of snURL and returns it and the proxy's base URL.
func startProxy(t testing.TB, snURL, dnURL string, cfg ProxyConfig, clk clock.PassiveClock) (*ProxySource, *Store, string) {
	t.Helper()
	u, err := url.Parse(snURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Target = u
	src, st := NewProxySource(NewFetcher(time.Second, DefaultMaxBody), snURL, dnURL, InfoConfig{Limit: 100, InFlightMaxAge: time.Second, GateHold: time.Second}, cfg, clk)
	front := httptest.NewServer(src.Handler())
	t.Cleanup(front.Close)
	src.Poll(context.Background())
	return src, st, front.URL
}

// TestProxyExactAgainstFake: 500 concurrent requests through the proxy into a fake HSDS with
// max_task_count=20, the agent polling as it does in a pod. The agent's counts by status equal
// what the clients saw and what the fake answered, to the request; most of the gate's 503s count
// as overload and none is called not_ready; in-flight returns to 0. Some of the rejections here
// come from fan-out workers, not connections, and then the only evidence is the /info task
// sample, which the last admitted request of a poll interval overwrites: the cause is inferred
// (75-100 % over eight runs; asserted >= 70 %). The test polls every 10 ms: at 50 ms, beside other CPU
// load (a CI rehearsal's parallel packages), 2 of 10 runs fell to 55-60 %; at 10 ms 12 of 12 gave 85-100 %. The >= 95 % goal of issue 10 is for the
// connection-driven bursts of TestRealGateBurst, on the real server.
func TestProxyExactAgainstFake(t *testing.T) {
	cfg := fakehsds.DefaultConfig()
	cfg.MaxTaskCount = 20
	cfg.ServiceTime = fakehsds.Fixed(2 * time.Millisecond)
	pod, snURL, dnURL := startFake(t, cfg)
	src, st, proxyURL := startProxy(t, snURL, dnURL, ProxyConfig{MaxIdleConns: 16}, clock.RealClock{})
	pollCtx, stopPolls := context.WithCancel(context.Background())
	polled := make(chan struct{})
	go func() { // the agent's poll loop (250 ms in a pod; faster here, the burst is short)
		defer close(polled)
		for pollCtx.Err() == nil {
			src.Poll(pollCtx)
			time.Sleep(10 * time.Millisecond)
		}
	}()

	before := pod.Truth() // the proxy source's first poll read /info and /metrics
	const n = 500
	paths := []struct{ method, path string }{
		{http.MethodGet, "/datasets/d1/value"}, {http.MethodPost, "/groups"},
		{http.MethodGet, "/about"}, {http.MethodPut, "/datasets/d2/value"}, {http.MethodGet, "/other"},
	}
	client := &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64}}
	t.Cleanup(client.CloseIdleConnections)
	seen := map[string]float64{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			time.Sleep(time.Duration(i%250) * time.Millisecond) // staggered: some get through the gate
			p := paths[i%len(paths)]
			req, _ := http.NewRequest(p.method, proxyURL+p.path, nil)
			resp, err := client.Do(req)
			code := "error"
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				code = strconv.Itoa(resp.StatusCode)
			}
			mu.Lock()
			seen[code]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	stopPolls()
	<-polled
	src.Poll(context.Background()) // the last interval's undecided 503s

	got := map[string]float64{}
	byCause := map[string]float64{}
	for k, v := range st.Snapshot().Responses {
		got[k.Code] += v
		if k.Code == schema.Code503 {
			byCause[k.Cause] = v
		}
	}
	removeZero(got)
	if diff := cmp.Diff(seen, got); diff != "" {
		t.Errorf("agent counts vs what clients saw (-clients +agent):\n%s", diff)
	}
	truth := pod.Truth()
	fromFake := map[string]float64{}
	for code, v := range truth.Requests {
		fromFake[code] = float64(v - before.Requests[code])
	}
	// The fake also answered the agent's own polls (/info, /metrics, /about: 200s); compare the
	// other codes.
	delete(fromFake, "200")
	gotNo200 := maps.Clone(got)
	delete(gotNo200, "200")
	removeZero(fromFake)
	if diff := cmp.Diff(fromFake, gotNo200); diff != "" {
		t.Errorf("agent counts vs the fake's truth (-fake +agent):\n%s", diff)
	}
	gate := float64(truth.Rejected[schema.CauseOverload])
	if byCause[schema.CauseOverload] < 0.7*gate || byCause[schema.CauseOverload] > gate || byCause[schema.CauseNotReady] != 0 {
		t.Errorf("503 causes %v, the fake's truth %v: want overload in [0.7, 1] x %g, no not_ready", byCause, truth.Rejected, gate)
	}
	if seen["503"] == 0 || seen["200"] == 0 {
		t.Errorf("the burst should see both 200s and 503s: %v", seen)
	}
	if v := st.Snapshot().LiveInFlight; !v.Valid || v.Value != 0 {
		t.Errorf("in flight after the burst = %+v, want 0", v)
	}
	t.Logf("clients saw %v; 503 causes %v", seen, byCause)
}

func removeZero(m map[string]float64) {
	for k, v := range m {
		if v == 0 {
			delete(m, k)
		}
	}
}

// threeSources reads one fake pod with every source; traffic goes through the proxy so that all
// three see the same requests.
type threeSources struct {
	pod      *fakehsds.Pod
	proxyURL string
	pollers  map[string]Poller
	stores   map[string]*Store
}

func newThreeSources(t *testing.T, cfg fakehsds.Config) *threeSources {
	pod, snURL, dnURL := startFake(t, cfg)
	f := NewFetcher(time.Second, DefaultMaxBody)
	m, mst := NewMetricsSource(f, snURL, dnURL, clock.RealClock{})
	i, ist := NewInfoSource(f, snURL, dnURL, InfoConfig{Limit: float64(cfg.MaxTaskCount), InFlightMaxAge: time.Second, GateHold: time.Second}, clock.RealClock{})
	p, pst, proxyURL := startProxy(t, snURL, dnURL, ProxyConfig{}, fakeClock())
	ts := &threeSources{
		pod: pod, proxyURL: proxyURL,
		pollers: map[string]Poller{schema.SourceMetrics: m, schema.SourceInfo: i, schema.SourceProxy: p},
		stores:  map[string]*Store{schema.SourceMetrics: mst, schema.SourceInfo: ist, schema.SourceProxy: pst},
	}
	ts.poll()
	return ts
}

func (ts *threeSources) poll() {
	for _, p := range ts.pollers {
		p.Poll(context.Background())
	}
}

func (ts *threeSources) send(t *testing.T, n int, path string) {
	t.Helper()
	for range n {
		resp, err := http.Get(ts.proxyURL + path)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// TestSourcesExportSameNames: for the same fake HSDS state the three sources export the same
// metric names, and agree on what each of them can read exactly.
func TestSourcesExportSameNames(t *testing.T) {
	cfg := fakehsds.DefaultConfig()
	cfg.MaxTaskCount = 20
	cfg.DNCount = 3
	ts := newThreeSources(t, cfg)
	ts.send(t, 10, "/datasets/d/value")
	ts.poll()

	want := names(t, ts.stores[schema.SourceMetrics])
	if len(want) != len(schemaNames()) {
		t.Errorf("metrics source exports %d names, want all %d of agent/schema: %v", len(want), len(schemaNames()), want)
	}
	for src, st := range ts.stores {
		if diff := cmp.Diff(want, names(t, st)); diff != "" {
			t.Errorf("source %s names (-metrics +%s):\n%s", src, src, diff)
		}
		got := series(t, st)
		for _, s := range []string{schema.Up + "{}", schema.NodeState + `{node="sn",state="READY"}`, schema.NodeState + `{node="dn",state="READY"}`} {
			if got[s] != 1 {
				t.Errorf("source %s: %s = %g, want 1", src, s, got[s])
			}
		}
		if got[schema.NodeCount+"{}"] != 3 || got[schema.InFlightLimit+"{}"] != 20 {
			t.Errorf("source %s: node_count=%g limit=%g, want 3 and 20", src, got[schema.NodeCount+"{}"], got[schema.InFlightLimit+"{}"])
		}
	}
}

// TestSourcesNotReadyAgainstFake: while the SN is WAITING, the proxy counts every 503 as
// not_ready exactly, the metrics source attributes the interval's 503s to not_ready, and the info
// source (req_count skips them; each logs one WARN) counts the WARNs of the interval as not_ready:
// an upper bound, never overload.
func TestSourcesNotReadyAgainstFake(t *testing.T) {
	ts := newThreeSources(t, fakehsds.DefaultConfig())
	ts.send(t, 5, "/groups/g")
	ts.poll()
	if err := ts.pod.SetState(schema.NodeSN, schema.StateWaiting); err != nil {
		t.Fatal(err)
	}
	ts.poll() // the proxy learns the state before the traffic
	ts.send(t, 7, "/datasets/d/value")
	ts.poll()
	notReady := schema.Responses + `{cause="not_ready",code="503"}`
	wantTruth := float64(ts.pod.Truth().Rejected[schema.CauseNotReady])
	if wantTruth != 7 {
		t.Fatalf("fake rejected %g as not_ready, want 7", wantTruth)
	}
	for _, src := range []string{schema.SourceProxy, schema.SourceMetrics} {
		if got := series(t, ts.stores[src])[notReady]; got != wantTruth {
			t.Errorf("source %s: not_ready 503s = %g, want %g", src, got, wantTruth)
		}
	}
	info := series(t, ts.stores[schema.SourceInfo])
	if got := info[notReady]; got < wantTruth {
		t.Errorf("info source: not_ready 503s = %g, want an upper bound of %g", got, wantTruth)
	}
	if got := info[schema.Responses+`{cause="overload",code="503"}`]; got != 0 {
		t.Errorf("info source: overload 503s = %g while the SN is WAITING", got)
	}
	if info[schema.NodeState+`{node="sn",state="WAITING"}`] != 1 {
		t.Errorf("info source: sn WAITING not set: %v", info)
	}
	if info[schema.Responses+`{cause="",code="other"}`] != 5 {
		t.Errorf("info source: other = %g, want the 5 gated requests", info[schema.Responses+`{cause="",code="other"}`])
	}
}

// TestInfoSourceUpperBound: against the fake, with the gate seen busy (requests held 300 ms, so
// every late arrival samples more tasks than the limit), the info source's overload count is at
// least the true overload count, and its responses sum to the gated requests.
func TestInfoSourceUpperBound(t *testing.T) {
	cfg := fakehsds.DefaultConfig()
	cfg.MaxTaskCount = 20
	cfg.ServiceTime = fakehsds.Fixed(300 * time.Millisecond)
	pod, snURL, _ := startFake(t, cfg)
	src, st := NewInfoSource(NewFetcher(time.Second, DefaultMaxBody), snURL, "", InfoConfig{Limit: 20, InFlightMaxAge: time.Second, GateHold: time.Second}, clock.RealClock{})
	src.Poll(context.Background())
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Go(func() {
			time.Sleep(time.Duration(i%20) * time.Millisecond)
			resp, err := http.Get(snURL + "/datasets/d/value")
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	src.Poll(context.Background())
	got := series(t, st)
	truth := pod.Truth()
	over := got[schema.Responses+`{cause="overload",code="503"}`]
	if over < float64(truth.Rejected[schema.CauseOverload]) || over == 0 {
		t.Errorf("info 503s = %g, want >= true overload %d and > 0", over, truth.Rejected[schema.CauseOverload])
	}
	if sum := over + got[schema.Responses+`{cause="",code="other"}`]; sum != 60 {
		t.Errorf("info responses sum to %g, want the 60 gated requests", sum)
	}
}

// TestMetricsSourceIgnoresOwnScrapes: HSDS 1.x counts the agent's own GET /metrics in
// hsds_http_requests_total; with no client traffic the agent still reports no responses.
func TestMetricsSourceIgnoresOwnScrapes(t *testing.T) {
	pod, snURL, dnURL := startFake(t, fakehsds.DefaultConfig())
	src, st := NewMetricsSource(NewFetcher(time.Second, DefaultMaxBody), snURL, dnURL, clock.RealClock{})
	for range 5 {
		src.Poll(context.Background())
	}
	if pod.Truth().Requests["200"] < 5 {
		t.Fatalf("the fake did not count the scrapes: %v", pod.Truth().Requests)
	}
	resp, err := http.Get(snURL + "/groups/g")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	src.Poll(context.Background())
	src.Poll(context.Background())
	got := map[string]float64{}
	for k, v := range st.Snapshot().Responses {
		if v != 0 {
			got[k.Code+"/"+k.Cause] = v
		}
	}
	if diff := cmp.Diff(map[string]float64{"200/": 1}, got); diff != "" {
		t.Errorf("responses (-want +got):\n%s", diff)
	}
}

// TestSourcesGateJamAgainstFake: docs/hsds.md, measured on real 0.9.4 pods in Kubernetes mode (no
// preStop sleep): after a scale-down the SNs' gates jam and shed everything with 503s that the
// agents count as overload. Against the fake's model of it (fakehsds Config.GateJamChance), every
// source counts the jam's 503s as overload, none as not_ready or upstream.
func TestSourcesGateJamAgainstFake(t *testing.T) {
	cfg := fakehsds.DefaultConfig()
	cfg.MaxTaskCount, cfg.DNCount, cfg.RescaleSettle = 20, 3, 0
	cfg.GateJamChance, cfg.GateJamMin, cfg.GateJamMax = 1, time.Hour, time.Hour // outlasts the test
	ts := newThreeSources(t, cfg)
	ts.send(t, 3, "/groups/g")
	ts.poll()
	ts.pod.SetDNCount(2)
	ts.poll()
	ts.send(t, 10, "/datasets/d/value")
	ts.poll()
	truth := ts.pod.Truth()
	if truth.Rejected[schema.CauseOverload] != 10 || truth.GateJamUntil.IsZero() {
		t.Fatalf("fake: %+v, want a jam and 10 overload 503s", truth)
	}
	for src, st := range ts.stores {
		got := series(t, st)
		over := got[schema.Responses+`{cause="overload",code="503"}`]
		if over < 10 || (src != schema.SourceInfo && over != 10) {
			t.Errorf("source %s: overload 503s = %g, want 10 (info: an upper bound)", src, over)
		}
		for _, cause := range []string{schema.CauseNotReady, schema.CauseUpstream} {
			if n := got[schema.Responses+`{cause="`+cause+`",code="503"}`]; n != 0 {
				t.Errorf("source %s: %s 503s = %g in a gate jam, want 0", src, cause, n)
			}
		}
	}
}
