package collector_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	testclock "k8s.io/utils/clock/testing"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/collector"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/internal/fakeagent"
	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/store"
	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

type rig struct {
	clk    *testclock.FakeClock
	store  *store.Store
	coll   *collector.Collector
	reg    *prometheus.Registry
	agents map[string]*fakeagent.Agent
}

// newRig starts one fake agent per name on its own httptest server and registers the pods.
func newRig(t *testing.T, names ...string) *rig {
	t.Helper()
	r := &rig{clk: testclock.NewFakeClock(t0), agents: map[string]*fakeagent.Agent{}, reg: prometheus.NewRegistry()}
	r.store = store.New(store.Config{Window: 30 * time.Second, ShortWindow: 10 * time.Second, StaleAfter: 5 * time.Second})
	m, err := collector.NewMetrics(r.reg)
	if err != nil {
		t.Fatal(err)
	}
	client := collector.NewHTTPClient(time.Second)
	t.Cleanup(client.CloseIdleConnections)
	r.coll = &collector.Collector{Sink: r.store, Clock: r.clk, Workers: 4, Path: "/metrics", Metrics: m,
		Scraper: &collector.Scraper{Client: client, Timeout: 200 * time.Millisecond, MaxBodyBytes: 64 << 10}}
	for _, name := range names {
		a := fakeagent.New(fakeagent.Default())
		srv := httptest.NewServer(a)
		t.Cleanup(srv.Close)
		t.Cleanup(a.Release)
		host, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
		p, _ := strconv.Atoi(port)
		r.agents[name] = a
		r.store.UpsertPod(store.PodMeta{Namespace: "ns", Name: name, UID: types.UID(name), Phase: heuristics.PodRunning,
			Labels: map[string]string{"app": "hsds"}, IP: host, Port: p, Deployment: "hsds"})
	}
	return r
}

// round advances the fake clock by one second and scrapes.
func (r *rig) round() {
	r.clk.Step(time.Second)
	r.coll.Round(context.Background())
}

func (r *rig) sample(t *testing.T, name string) heuristics.PodSample {
	t.Helper()
	v, ok := r.store.Get("ns", name, r.clk.Now(), store.Long)
	if !ok {
		t.Fatalf("pod %s not in store", name)
	}
	return v.PodSample
}

type figures struct {
	Known    bool
	Rate     float64
	Overload float64
	InFlight float64
	Window   time.Duration
}

func figs(p heuristics.PodSample) figures {
	return figures{p.Known, p.RequestRate, p.Rejected503.Overload, p.InFlight, p.Window}
}

func TestCollectorRates(t *testing.T) {
	r := newRig(t, "a", "b")
	for i := 1; i <= 5; i++ {
		r.agents["a"].Update(func(s *fakeagent.State) { s.OK += 10; s.Rejected[schema.CauseOverload] += 2; s.InFlight = 50 })
		r.agents["b"].Update(func(s *fakeagent.State) { s.OK += 1 })
		r.round()
	}
	// Five readings one second apart: four intervals.
	if diff := cmp.Diff(figures{true, 12, 2, 50, 4 * time.Second}, figs(r.sample(t, "a"))); diff != "" {
		t.Errorf("pod a (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(figures{true, 1, 0, 0, 4 * time.Second}, figs(r.sample(t, "b"))); diff != "" {
		t.Errorf("pod b (-want +got):\n%s", diff)
	}
	if got := testutil.ToFloat64(r.coll.Metrics.Targets); got != 2 {
		t.Errorf("targets = %v, want 2", got)
	}
}

func TestCollectorFailures(t *testing.T) {
	tests := []struct {
		name       string
		break_     func(a *fakeagent.Agent)
		wantReason string
	}{
		{"agent hangs: timeout", func(a *fakeagent.Agent) { a.Hang() }, collector.ScrapeErrorTimeout},
		{"NaN sample", func(a *fakeagent.Agent) {
			a.Update(func(s *fakeagent.State) { s.Raw = "hsds_agent_up 1\nhsds_agent_in_flight NaN\n" })
		}, collector.ScrapeErrorInvalid},
		{"negative counter", func(a *fakeagent.Agent) {
			a.Update(func(s *fakeagent.State) {
				s.Raw = "hsds_agent_up 1\nhsds_agent_in_flight 1\nhsds_agent_responses_total{code=\"200\"} -3\n"
			})
		}, collector.ScrapeErrorInvalid},
		{"garbage", func(a *fakeagent.Agent) { a.Update(func(s *fakeagent.State) { s.Raw = "<html>" }) }, collector.ScrapeErrorParse},
		{"too large", func(a *fakeagent.Agent) {
			a.Update(func(s *fakeagent.State) { s.Raw = "# " + strings.Repeat("x", 70<<10) + "\n" })
		}, collector.ScrapeErrorTooLarge},
		{"agent cannot read HSDS", func(a *fakeagent.Agent) { a.Update(func(s *fakeagent.State) { s.Up = false }) }, collector.ScrapeErrorAgentDown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, "a")
			r.round()
			r.agents["a"].Update(func(s *fakeagent.State) { s.OK = 10; s.InFlight = 99 })
			r.round()
			if !r.sample(t, "a").Known {
				t.Fatal("pod should be known after two good rounds")
			}
			tt.break_(r.agents["a"])
			start := time.Now()
			r.round()
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("round took %s despite the 200ms timeout", took)
			}
			got := r.sample(t, "a")
			if diff := cmp.Diff(figures{}, figs(got)); diff != "" {
				t.Errorf("a failed pod must be unknown with no figures (-want +got):\n%s", diff)
			}
			if _, reason, _ := r.store.Health("ns", "a"); reason != tt.wantReason {
				t.Errorf("reason = %q, want %q", reason, tt.wantReason)
			}
			if n := testutil.ToFloat64(r.coll.Metrics.ScrapeErrors.WithLabelValues(tt.wantReason)); n != 1 {
				t.Errorf("scrape errors{reason=%q} = %v, want 1", tt.wantReason, n)
			}
		})
	}
}

func TestCollectorResetAndGap(t *testing.T) {
	r := newRig(t, "a")
	a := r.agents["a"]
	a.Update(func(s *fakeagent.State) { s.OK = 1000 })
	r.round() // t=1
	a.Update(func(s *fakeagent.State) { s.OK = 1010 })
	r.round()                                       // t=2
	a.Update(func(s *fakeagent.State) { s.OK = 4 }) // agent restarted
	r.round()                                       // t=3
	// 10 + 4 over 2 s: re-based, no negative rate.
	if diff := cmp.Diff(figures{true, 7, 0, 0, 2 * time.Second}, figs(r.sample(t, "a"))); diff != "" {
		t.Errorf("after reset (-want +got):\n%s", diff)
	}
	a.Hang()
	r.round() // t=4: timeout
	r.round() // t=5: timeout
	a.Release()
	a.Update(func(s *fakeagent.State) { s.OK = 34 })
	r.round() // t=6
	// 10 + 4 + 30 over the real 5 s between the first and the last good reading.
	if diff := cmp.Diff(figures{true, 44.0 / 5, 0, 0, 5 * time.Second}, figs(r.sample(t, "a"))); diff != "" {
		t.Errorf("after gap (-want +got):\n%s", diff)
	}
}

// vanishing deletes its pod from the store while the scrape is in flight.
type vanishing struct {
	st   *store.Store
	next http.Handler
}

func (v vanishing) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v.st.DeletePod("ns", "gone")
	v.next.ServeHTTP(w, r)
}

func TestPodVanishesMidScrape(t *testing.T) {
	r := newRig(t, "a")
	srv := httptest.NewServer(vanishing{r.store, fakeagent.New(fakeagent.Default())})
	t.Cleanup(srv.Close)
	host, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	p, _ := strconv.Atoi(port)
	r.store.UpsertPod(store.PodMeta{Namespace: "ns", Name: "gone", UID: "g", Phase: heuristics.PodRunning, IP: host, Port: p})
	r.round()
	r.round()
	got := r.store.PodSamples("ns", labels.Everything(), r.clk.Now())
	if len(got) != 1 || got[0].Name != "a" || !got[0].Known {
		t.Errorf("want only pod a, known; got %+v", got)
	}
}

func TestConnectRefused(t *testing.T) {
	r := newRig(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().(*net.TCPAddr)
	l.Close()
	r.store.UpsertPod(store.PodMeta{Namespace: "ns", Name: "x", UID: "x", Phase: heuristics.PodRunning, IP: "127.0.0.1", Port: addr.Port})
	r.round()
	if _, reason, _ := r.store.Health("ns", "x"); reason != collector.ScrapeErrorConnect {
		t.Errorf("reason = %q, want connect", reason)
	}
}
