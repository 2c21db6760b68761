package promsource_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/agentmetrics"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/collector"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/promsource"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/store"
	"github.com/hsds-autoscaler/hsds-autoscaler/agent"
	"github.com/hsds-autoscaler/hsds-autoscaler/agent/fakehsds"
	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
	"github.com/hsds-autoscaler/hsds-autoscaler/internal/testwait"
)

// realPod is one fake HSDS pod with the real hsds-agent (source metrics) in front of it, on
// loopback. The agent can be stopped and started again on the same address (a container
// restart: its counters start from zero).
type realPod struct {
	ns, name string
	snURL    string
	dnURL    string
	fake     *fakehsds.Pod
	addr     string // the agent's host:port

	mu     sync.Mutex
	stop   context.CancelFunc
	server *http.Server
	done   sync.WaitGroup
}

func startRealPod(t *testing.T, ns, name string, cfg fakehsds.Config) *realPod {
	t.Helper()
	fake, err := fakehsds.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	snURL, dnURL, err := fake.ListenAndServe(ctx, "127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	p := &realPod{ns: ns, name: name, snURL: snURL, dnURL: dnURL, fake: fake, addr: "127.0.0.1:0"}
	t.Cleanup(func() {
		p.stopAgent()
		cancel()
		fake.Wait()
	})
	p.startAgent(t)
	return p
}

// startAgent runs a new agent process-equivalent on p.addr (the first time on a free port).
func (p *realPod) startAgent(t *testing.T) {
	t.Helper()
	o := *agent.NewOptions()
	o.SNURL, o.DNURL, o.Listen, o.PollInterval = p.snURL, p.dnURL, p.addr, 100*time.Millisecond
	a, err := agent.New(o, clock.RealClock{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 5 * time.Second}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.addr, p.stop, p.server = ln.Addr().String(), cancel, srv
	p.done.Add(2)
	go func() { defer p.done.Done(); a.Run(ctx) }()
	go func() { defer p.done.Done(); _ = srv.Serve(ln) }()
}

// stopAgent kills the agent: its listener and every connection close at once.
func (p *realPod) stopAgent() {
	p.mu.Lock()
	stop, srv := p.stop, p.server
	p.stop, p.server = nil, nil
	p.mu.Unlock()
	if stop == nil {
		return
	}
	stop()
	_ = srv.Close()
	p.done.Wait()
}

func (p *realPod) meta() store.PodMeta {
	host, port, _ := net.SplitHostPort(p.addr)
	n, _ := strconv.Atoi(port)
	return store.PodMeta{Namespace: p.ns, Name: p.name, UID: types.UID(p.ns + "/" + p.name), Phase: heuristics.PodRunning,
		Labels: map[string]string{"app": "hsds"}, IP: host, Port: n}
}

// hold sends n requests that the fake keeps in flight until the test ends. Each is sent again
// while the gate refuses it (open connections and the agent's reads are tasks too, as in HSDS).
func (p *realPod) hold(t *testing.T, n int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var held atomic.Bool
	var waiting, returned atomic.Int64 // requests sent and not answered; answers
	t.Cleanup(func() { cancel(); wg.Wait() })
	for range n {
		wg.Go(func() {
			for ctx.Err() == nil && !held.Load() {
				waiting.Add(1)
				_ = get(ctx, p.snURL+"/groups/g")
				waiting.Add(-1)
				returned.Add(1)
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
	testwait.For(t, "held requests in flight on "+p.name, func() bool {
		r := returned.Load()
		if waiting.Load() != int64(n) {
			return false
		}
		time.Sleep(300 * time.Millisecond) // held, not a refused request on its way back
		return waiting.Load() == int64(n) && returned.Load() == r
	})
	held.Store(true)
}

// hammer sends requests back to back (one client) until stop is closed.
func (p *realPod) hammer(stop <-chan struct{}) *sync.WaitGroup {
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			_ = get(ctx, p.snURL+"/groups/g")
			cancel()
			time.Sleep(5 * time.Millisecond)
		}
	})
	return &wg
}

func get(ctx context.Context, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// recorded is one reading a store accepted.
type recorded struct {
	at time.Time
	rd agentmetrics.Reading
}

// recordingSink is a store that also keeps every accepted reading by pod.
type recordingSink struct {
	*store.Store
	mu   sync.Mutex
	hist map[store.Key][]recorded
}

func (r *recordingSink) Record(k store.Key, uid types.UID, t time.Time, rd agentmetrics.Reading) bool {
	ok := r.Store.Record(k, uid, t, rd)
	if ok {
		r.mu.Lock()
		r.hist[k] = append(r.hist[k], recorded{t, rd})
		r.mu.Unlock()
	}
	return ok
}

func (r *recordingSink) history(k store.Key) []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.hist[k]...)
}

// namespaceSpy is the Prometheus API with the namespaces of every sample Query returned.
type namespaceSpy struct {
	promv1.API
	mu   sync.Mutex
	seen map[string]int
}

func (s *namespaceSpy) Query(ctx context.Context, q string, ts time.Time, opts ...promv1.Option) (model.Value, promv1.Warnings, error) {
	v, w, err := s.API.Query(ctx, q, ts, opts...)
	if vec, ok := v.(model.Vector); ok {
		s.mu.Lock()
		for _, smp := range vec {
			s.seen[string(smp.Metric["namespace"])]++
		}
		s.mu.Unlock()
	}
	return v, w, err
}

func newSink(stale time.Duration) *recordingSink {
	return &recordingSink{Store: store.New(store.Config{Window: 10 * time.Second, ShortWindow: 4 * time.Second, StaleAfter: stale}),
		hist: map[store.Key][]recorded{}}
}

// TestRealPrometheus: the real Prometheus scrapes real agents in front of fake HSDS pods every
// second; one store is filled through promsource (watching namespace hsds only), another by the
// direct collector scraping the same agents. Checked:
//   - every reading promsource recorded lies, counter by counter (responses, 503s by cause),
//     between two direct readings taken before and after Prometheus's scrape: the same figures,
//     only as old as the scrape; and its age at the round is at most one scrape interval plus
//     the scrape timeout;
//   - at rest, the latest figures of both stores are equal (503s by cause, in-flight, limit,
//     node state and data-node count), and the 503 rates by cause are positive in the same places;
//   - namespace filter: Prometheus holds the agent of namespace other, no query returns a series
//     of it, and that pod (put into the store on purpose) stays unknown (missing);
//   - counter reset: an agent restarted under load (counters from zero) keeps, in both stores, a
//     503 count over the rate's window that matches the clients' own count within it (checkReset);
//   - dead agent: a stopped agent makes its pod unknown in both stores (missing / connect).
func TestRealPrometheus(t *testing.T) {
	requireProm(t)
	const interval = time.Second
	cfgA := fakehsds.DefaultConfig()
	cfgA.MaxTaskCount, cfgA.ServiceTime = 3, fakehsds.Fixed(time.Hour)
	cfgC := fakehsds.DefaultConfig()
	cfgC.ServiceTime = fakehsds.Fixed(time.Hour)
	a := startRealPod(t, "hsds", "a", cfgA)                     // gate full: overload 503s
	b := startRealPod(t, "hsds", "b", fakehsds.DefaultConfig()) // WAITING: not_ready 503s
	c := startRealPod(t, "hsds", "c", cfgC)                     // two requests in flight, no 503s
	x := startRealPod(t, "other", "x", cfgA)                    // another namespace
	if err := b.fake.SetState(schema.NodeSN, schema.StateWaiting); err != nil {
		t.Fatal(err)
	}
	a.hold(t, 1)
	c.hold(t, 2)
	x.hold(t, 1)
	pods := []*realPod{a, b, c, x}
	var targets []promTarget
	for _, p := range pods {
		targets = append(targets, promTarget{addr: p.addr, namespace: p.ns, pod: p.name})
	}
	prom := startProm(t, targets, interval)
	ctx := context.Background()
	prom.waitTargets(t, 4)

	direct, viaProm := newSink(2*time.Second), newSink(interval+3*time.Second)
	for _, p := range pods[:3] {
		direct.UpsertPod(p.meta())
		viaProm.UpsertPod(p.meta())
	}
	viaProm.UpsertPod(x.meta()) // as if discovery had let it in: the query still keeps it out
	mDirect, err := collector.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	mProm, err := collector.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	col := &collector.Collector{Sink: direct, Clock: clock.RealClock{}, Workers: 4, Path: "/metrics", Metrics: mDirect,
		Scraper: &collector.Scraper{Client: collector.NewHTTPClient(500 * time.Millisecond), Timeout: 500 * time.Millisecond, MaxBodyBytes: 1 << 20}}
	spy := &namespaceSpy{API: prom.API, seen: map[string]int{}}
	src := &promsource.Source{API: spy, Sink: viaProm, Clock: clock.RealClock{}, Timeout: 2 * time.Second,
		PodLabel: "pod", NamespaceLabel: "namespace", Namespaces: []string{"hsds"}, Metrics: mProm}

	loopCtx, stopLoops := context.WithCancel(ctx)
	var loops sync.WaitGroup
	var agesMu sync.Mutex
	var ages []time.Duration // of Prometheus's figures at each round
	loops.Go(func() {
		for loopCtx.Err() == nil {
			col.Round(loopCtx)
			time.Sleep(100 * time.Millisecond)
		}
	})
	loops.Go(func() {
		for loopCtx.Err() == nil {
			src.Round(loopCtx)
			now := time.Now()
			for _, s := range viaProm.PodSamples("hsds", labels.Everything(), now) {
				if s.Known {
					agesMu.Lock()
					ages = append(ages, now.Sub(s.SampleTime))
					agesMu.Unlock()
				}
			}
			time.Sleep(interval / 2)
		}
	})
	t.Cleanup(func() { stopLoops(); loops.Wait() })

	// Load for 6 s, then rest (the held requests stay).
	stopLoad := make(chan struct{})
	loads := []*sync.WaitGroup{a.hammer(stopLoad), b.hammer(stopLoad), x.hammer(stopLoad)}
	time.Sleep(6 * time.Second)
	close(stopLoad)
	for _, wg := range loads {
		wg.Wait()
	}
	rest := time.Now()
	waitBoth(t, direct, viaProm, rest.Add(interval+500*time.Millisecond))

	t.Run("same figures at rest", func(t *testing.T) {
		now := time.Now()
		d, p := byName(direct.PodSamples("hsds", labels.Everything(), now)), byName(viaProm.PodSamples("hsds", labels.Everything(), now))
		for _, name := range []string{"a", "b", "c"} {
			dx, px := d[name].Exposed, p[name].Exposed
			dx.Time, px.Time = time.Time{}, time.Time{}
			if dx != px || d[name].NodeState != p[name].NodeState || d[name].NodeCount != p[name].NodeCount {
				k := store.Key{Namespace: "hsds", Name: name}
				hd, hp := direct.history(k), viaProm.history(k)
				for _, r := range hd[max(0, len(hd)-10):] {
					t.Logf("direct %s %g", r.at.Format(time.StampMilli), r.rd.Responses)
				}
				for _, r := range hp[max(0, len(hp)-4):] {
					t.Logf("prom %s %g", r.at.Format(time.StampMilli), r.rd.Responses)
				}
				t.Logf("rest %s", rest.Format(time.StampMilli))
				t.Errorf("pod %s: direct %+v %s, via Prometheus %+v %s", name, dx, d[name].NodeState, px, p[name].NodeState)
			}
			for cause, rate := range map[string][2]float64{
				"overload":  {d[name].Rejected503.Overload, p[name].Rejected503.Overload},
				"not_ready": {d[name].Rejected503.NotReady, p[name].Rejected503.NotReady},
			} {
				if (rate[0] > 0) != (rate[1] > 0) {
					t.Errorf("pod %s: %s 503 rate direct %g, via Prometheus %g", name, cause, rate[0], rate[1])
				}
			}
		}
		if p["a"].Exposed.Rejected503.Overload == 0 || p["b"].Exposed.Rejected503.NotReady == 0 ||
			p["a"].Exposed.InFlight < 2 || p["c"].Exposed.InFlight < 4 || p["a"].Exposed.Limit != 3 {
			t.Errorf("the load did not show: a %+v, b %+v, c %+v", p["a"].Exposed, p["b"].Exposed, p["c"].Exposed)
		}
		// The metrics source knows readiness only: a not-ready SN has no state at 1.
		if p["a"].NodeState != schema.StateReady || p["b"].NodeState == schema.StateReady {
			t.Errorf("node state via Prometheus: a %q, b %q; want READY, not READY", p["a"].NodeState, p["b"].NodeState)
		}
	})

	t.Run("between direct readings", func(t *testing.T) {
		for _, pod := range pods[:3] {
			k := store.Key{Namespace: pod.ns, Name: pod.name}
			checkBracketed(t, pod.name, viaProm.history(k), direct.history(k), interval)
		}
		agesMu.Lock()
		n, worst := len(ages), slices.Max(append(ages, 0))
		agesMu.Unlock()
		// A scrape is at most one interval old when the next one starts, plus the scrape itself
		// and the query round trip (a scrape timeout covers both here).
		if limit := interval + interval*9/10; n == 0 || worst > limit {
			t.Errorf("age of Prometheus's figures at the round: worst %s over %d samples, want <= %s", worst, n, limit)
		}
	})

	t.Run("namespace filter", func(t *testing.T) {
		if n, err := prom.count(ctx, `hsds_agent_up{namespace="other"}`); err != nil || n != 1 {
			t.Fatalf("Prometheus holds %d agents of namespace other (%v), want 1", n, err)
		}
		spy.mu.Lock()
		seen := spy.seen["other"]
		spy.mu.Unlock()
		if seen != 0 {
			t.Errorf("queries returned %d samples of namespace other", seen)
		}
		if s := viaProm.PodSamples("other", labels.Everything(), time.Now()); len(s) != 1 || s[0].Known {
			t.Errorf("pod other/x: %+v, want unknown", s)
		}
		if _, reason, _ := viaProm.Health("other", "x"); reason != promsource.ReadFailureMissing {
			t.Errorf("pod other/x reason %q, want %q", reason, promsource.ReadFailureMissing)
		}
	})

	t.Run("counter reset", func(t *testing.T) { checkReset(t, a, direct, viaProm, interval) })

	t.Run("dead agent", func(t *testing.T) {
		c.stopAgent()
		testwait.For(t, "pod c unknown in both stores", func() bool {
			_, rd, _ := direct.Health("hsds", "c")
			_, rp, _ := viaProm.Health("hsds", "c")
			return rd == collector.ScrapeErrorConnect && rp == promsource.ReadFailureMissing
		})
		now := time.Now()
		for name, st := range map[string]*recordingSink{"direct": direct, "prometheus": viaProm} {
			if s := byName(st.PodSamples("hsds", labels.Everything(), now)); s["c"].Known || !s["b"].Known {
				t.Errorf("%s: c known %t (stopped agent), b known %t", name, s["c"].Known, s["b"].Known)
			}
		}
	})
}

// checkReset restarts pod's agent under load: the counters start again from zero, which both
// stores must take as a reset, not as a negative or huge rate. The clients' own 503s are the
// yardstick: each store's figure (rate x window, ending at its sample time) must lie between what
// the clients saw within that window, shrunk by a second at each end, x resetKeep, and what they
// saw within it grown by a second at each end (the agent's poll and Prometheus's extrapolation
// to the window's edges, which is up to 1.1 scrape intervals: promql's extrapolatedRate). The
// clients start long enough before the restart that the window holds only their load.
func checkReset(t *testing.T, pod *realPod, direct, viaProm *recordingSink, interval time.Duration) {
	// resetKeep: a rate that lost the counts before the reset (or after it) would hold about half
	// of them; the counts between the last scrape before the restart and the restart are lost by
	// design (store.windowRates), a few hundred ms of them.
	const resetKeep = 0.7
	k := store.Key{Namespace: pod.ns, Name: pod.name}
	before := len(viaProm.history(k))
	var mu sync.Mutex
	var got []time.Time // overload 503s the client saw
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			resp, err := http.Get(pod.snURL + "/groups/g")
			if err == nil {
				_ = resp.Body.Close()
				if resp.StatusCode == http.StatusServiceUnavailable {
					mu.Lock()
					got = append(got, time.Now())
					mu.Unlock()
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	defer func() { close(stop); wg.Wait() }()
	loadStart := time.Now()
	// The stores' windows end at least 2 intervals after the restart (waitBoth) and span 10 s:
	// 9 s of load before it put their start, less a second, inside the load.
	time.Sleep(9 * time.Second)
	pod.stopAgent()
	pod.startAgent(t)
	restarted := time.Now()
	waitBoth(t, direct, viaProm, restarted.Add(2*interval))
	time.Sleep(2 * interval)
	now := time.Now()
	resets, h := 0, viaProm.history(k)[max(0, before-1):]
	for i := 1; i < len(h); i++ {
		if h[i].rd.Rejected[0] < h[i-1].rd.Rejected[0] {
			resets++
		}
	}
	if resets != 1 {
		t.Fatalf("overload 503 counter through Prometheus went down %d times over the restart, want once", resets)
	}
	// seen counts the clients' 503s in (from, to].
	seen := func(from, to time.Time) int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, at := range got {
			if at.After(from) && !at.After(to) {
				n++
			}
		}
		return n
	}
	for name, st := range map[string]*recordingSink{"direct": direct, "prometheus": viaProm} {
		s := byName(st.PodSamples(pod.ns, labels.Everything(), now))[pod.name]
		if !s.Known {
			t.Errorf("%s: pod %s unknown after the restart", name, pod.name)
			continue
		}
		from, to := s.SampleTime.Add(-s.Window), s.SampleTime
		if from.Add(-time.Second).Before(loadStart) || !from.Before(restarted) {
			t.Errorf("%s: window (%s, %s] does not hold the restart inside the load (started %s, restarted %s)",
				name, from.Format("15:04:05.000"), to.Format("15:04:05.000"), loadStart.Format("15:04:05.000"), restarted.Format("15:04:05.000"))
			continue
		}
		counted := s.Rejected503.Overload * s.Window.Seconds()
		inner, outer := seen(from.Add(time.Second), to.Add(-time.Second)), seen(from.Add(-time.Second), to.Add(time.Second))
		t.Logf("%s: overload rate %.2f/s over %s = %.0f 503s; the clients saw %d in the window less a second at each end, %d in it plus one",
			name, s.Rejected503.Overload, s.Window, counted, inner, outer)
		if counted < resetKeep*float64(inner) || counted > float64(outer) {
			t.Errorf("%s: %.0f overload 503s over the restart, want between %.0f (%.1f x %d) and %d",
				name, counted, resetKeep*float64(inner), resetKeep, inner, outer)
		}
	}
}

// checkBracketed: each reading through Prometheus, counter by counter, is no less than the last
// direct reading finished before Prometheus's scrape began, and no more than the first direct
// reading that started after that scrape ended (the scrape timeout bounds it).
func checkBracketed(t *testing.T, name string, viaProm, direct []recorded, interval time.Duration) {
	t.Helper()
	const directTimeout = 500 * time.Millisecond
	checked := 0
	for _, p := range viaProm {
		var lo, hi *recorded
		for i := range direct {
			d := &direct[i]
			if d.at.Before(p.at) {
				lo = d
			}
			if hi == nil && d.at.After(p.at.Add(interval*9/10+directTimeout)) {
				hi = d
			}
		}
		if lo == nil || hi == nil {
			continue
		}
		checked++
		for i := range 1 + agentmetrics.NumCauses {
			l, v, h := lo.rd.Responses, p.rd.Responses, hi.rd.Responses
			if i > 0 {
				l, v, h = lo.rd.Rejected[i-1], p.rd.Rejected[i-1], hi.rd.Rejected[i-1]
			}
			if v < l || v > h {
				t.Errorf("pod %s, counter %d: via Prometheus %g at %s, direct %g at %s and %g at %s",
					name, i, v, p.at.Format(time.StampMilli), l, lo.at.Format(time.StampMilli), h, hi.at.Format(time.StampMilli))
			}
		}
		if p.rd.Limit != lo.rd.Limit || p.rd.Limit != hi.rd.Limit {
			t.Errorf("pod %s: limit via Prometheus %g, direct %g, %g", name, p.rd.Limit, lo.rd.Limit, hi.rd.Limit)
		}
	}
	if checked < 3 {
		t.Errorf("pod %s: only %d of %d Prometheus readings had direct readings on both sides", name, checked, len(viaProm))
	}
}

// waitBoth waits until both stores hold, for every pod they know, a reading taken after t.
func waitBoth(t *testing.T, direct, viaProm *recordingSink, after time.Time) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		ok := true
		for _, st := range []*recordingSink{direct, viaProm} {
			for _, s := range st.PodSamples("hsds", labels.Everything(), time.Now()) {
				ok = ok && s.Known && s.SampleTime.After(after)
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(errors.New("timed out waiting for readings of every pod in both stores"))
		}
	}
}

func byName(samples []heuristics.PodSample) map[string]heuristics.PodSample {
	out := make(map[string]heuristics.PodSample, len(samples))
	for _, s := range samples {
		out[s.Name] = s
	}
	return out
}
