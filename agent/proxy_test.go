package agent

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/clock"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
	"github.com/hsds-autoscaler/hsds-autoscaler/internal/testwait"
)

// stubSN is a small SN stand-in: /info with a settable state and gate task sample, /about, /busy
// answers 503 (the gate), /dn503 answers 503 as a DN that is not READY would (passed on), /hold
// blocks until released.
type stubSN struct {
	mu      sync.Mutex
	state   string
	tasks   int    // req_count.num_tasks in /info
	gets    int    // req_count.GET: every request but /info, /about and /metrics
	start   int    // node.start_time
	mreads  int    // /metrics requests
	metrics string // "" -> 404
	release chan struct{}
	srv     *httptest.Server
}

func newStubSN(t *testing.T) *stubSN {
	s := &stubSN{state: schema.StateReady, release: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		s.unblock()
		s.srv.Close()
	})
	return s
}

func (s *stubSN) unblock() {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.release:
	default:
		close(s.release)
	}
}

// setTasks sets the task sample the next gated request leaves in /info.
func (s *stubSN) setTasks(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tasks = n
}

func (s *stubSN) set(state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state = state
}

func (s *stubSN) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	state, metrics, release, tasks, gets, start := s.state, s.metrics, s.release, s.tasks, s.gets, s.start
	if r.URL.Path == "/metrics" {
		s.mreads++
	}
	if r.URL.Path != "/info" && r.URL.Path != "/about" && r.URL.Path != "/metrics" {
		s.gets++
	}
	s.mu.Unlock()
	switch r.URL.Path {
	case "/info":
		_, _ = fmt.Fprintf(w, `{"node":{"state":"%s","node_count":3,"start_time":%d},"req_count":{"GET":%d,"POST":0,"PUT":0,"DELETE":0,"num_tasks":%d},"log_stats":{"WARN":0}}`,
			state, start, gets, tasks)
		return
	case "/about":
		_, _ = io.WriteString(w, `{"state":"`+state+`","hsds_version":"0.9.4"}`)
		return
	case "/metrics":
		if metrics == "" {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, metrics)
		return
	}
	switch {
	case state != schema.StateReady, r.URL.Path == "/busy":
		http.Error(w, "503: Service Unavailable", http.StatusServiceUnavailable)
	case r.URL.Path == "/dn503":
		http.Error(w, "503: Service Unavailable", http.StatusServiceUnavailable)
	case r.URL.Path == "/hold":
		<-release
	default:
		_, _ = io.WriteString(w, "ok")
	}
}

type proxyEnv struct {
	sn    *stubSN
	src   *ProxySource
	store *Store
	front *httptest.Server
}

func newProxyEnv(t *testing.T, cfg ProxyConfig) *proxyEnv {
	t.Helper()
	sn := newStubSN(t)
	u, err := url.Parse(sn.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Target = u
	src, st := NewProxySource(NewFetcher(time.Second, 1<<20), sn.srv.URL, "", InfoConfig{Limit: 100, InFlightMaxAge: time.Second, GateHold: time.Millisecond}, cfg, clock.RealClock{})
	src.Poll(context.Background())
	return &proxyEnv{sn: sn, src: src, store: st, front: newFront(t, src)}
}

func newFront(t *testing.T, src *ProxySource) *httptest.Server {
	front := httptest.NewServer(src.Handler())
	t.Cleanup(front.Close)
	return front
}

func (e *proxyEnv) get(t *testing.T, path string) *http.Response {
	t.Helper()
	resp, err := http.Get(e.front.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func responses(t *testing.T, st *Store) map[string]float64 {
	out := map[string]float64{}
	for k, v := range series(t, st) {
		if strings.HasPrefix(k, schema.Responses) {
			out[strings.TrimPrefix(k, schema.Responses)] = v
		}
	}
	return out
}

// TestProxyCountsByStatusAndCause: statuses exact; a 503 is overload only while the gate is seen
// busy (an /info task sample above the limit), upstream otherwise, not_ready when the SN is not
// READY. Latency plays no part: on the real server gate 503s queue like everything else.
func TestProxyCountsByStatusAndCause(t *testing.T) {
	e := newProxyEnv(t, ProxyConfig{})
	e.get(t, "/a")
	e.get(t, "/b")
	e.get(t, "/dn503") // gate idle (tasks 0 of 100): passed on from a DN, decided by the next poll
	e.src.Poll(context.Background())
	e.sn.setTasks(150)
	e.get(t, "/busy") // leaves the over-limit sample in /info: the next poll calls it overload
	e.src.Poll(context.Background())
	e.get(t, "/busy")
	e.get(t, "/busy")
	e.sn.setTasks(3)
	e.get(t, "/a") // a fresh sample under the limit; the hold (1 ms in this env) has passed
	time.Sleep(5 * time.Millisecond)
	e.src.Poll(context.Background())
	e.sn.set(schema.StateWaiting)
	e.src.Poll(context.Background())
	e.get(t, "/c")
	e.src.Poll(context.Background())
	want := map[string]float64{
		`{cause="",code="200"}`:          3,
		`{cause="overload",code="503"}`:  3,
		`{cause="upstream",code="503"}`:  1,
		`{cause="not_ready",code="503"}`: 1,
	}
	if diff := cmp.Diff(want, responses(t, e.store)); diff != "" {
		t.Errorf("responses (-want +got):\n%s", diff)
	}
	got := series(t, e.store)
	if got[schema.NodeState+`{node="sn",state="WAITING"}`] != 1 || got[schema.InFlightLimit+"{}"] != 100 {
		t.Errorf("state/limit: %v", got)
	}
}

func TestProxyInFlightIsExact(t *testing.T) {
	e := newProxyEnv(t, ProxyConfig{})
	const n = 7
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { e.get(t, "/hold") })
	}
	testwait.For(t, "proxied requests in flight", func() bool { return series(t, e.store)[schema.InFlight+"{}"] == n })
	e.sn.unblock()
	wg.Wait()
	if got := series(t, e.store)[schema.InFlight+"{}"]; got != 0 {
		t.Errorf("in flight after all answered = %g, want 0", got)
	}
	if got := responses(t, e.store)[`{cause="",code="200"}`]; got != n {
		t.Errorf("200s = %g, want %d", got, n)
	}
}

func TestProxyRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		name       string
		retryAfter time.Duration
		want       string
	}{{"off by default", 0, ""}, {"rounded up to whole seconds", 1500 * time.Millisecond, "2"}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newProxyEnv(t, ProxyConfig{RetryAfter: tc.retryAfter})
			if got := e.get(t, "/busy").Header.Get("Retry-After"); got != tc.want {
				t.Errorf("Retry-After = %q, want %q", got, tc.want)
			}
			if got := e.get(t, "/ok").Header.Get("Retry-After"); got != "" {
				t.Errorf("Retry-After on a 200 = %q", got)
			}
		})
	}
}

func TestProxySNDown(t *testing.T) {
	e := newProxyEnv(t, ProxyConfig{})
	e.sn.srv.Close()
	if code := e.get(t, "/x").StatusCode; code != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", code)
	}
	e.src.Poll(context.Background())
	got := series(t, e.store)
	if got[schema.Responses+`{cause="",code="502"}`] != 1 || got[schema.Up+"{}"] != 0 ||
		got[schema.ScrapeErrors+`{reason="connect"}`] != 1 || got[schema.InFlight+"{}"] != 0 {
		t.Errorf("after SN down: %v", got)
	}
	if _, ok := got[schema.InFlightLimit+"{}"]; ok {
		t.Errorf("limit exported while the SN cannot be read")
	}
}

// TestProxyLimitFromMetrics: a 0.9.x SN (no /metrics) is asked once per start, not every poll;
// after a restart into 1.x the limit and version come from its /metrics.
func TestProxyLimitFromMetrics(t *testing.T) {
	e := newProxyEnv(t, ProxyConfig{}) // one poll: /metrics 404
	e.src.Poll(context.Background())
	e.src.Poll(context.Background())
	e.sn.mu.Lock()
	reads := e.sn.mreads
	e.sn.metrics = "hsds_node_ready 1\nhsds_tasks_max 20\nhsds_info{version=\"1.0.1\"} 1\n"
	e.sn.start++ // the SN restarted (upgraded)
	e.sn.mu.Unlock()
	if reads != 1 {
		t.Errorf("/metrics read %d times in 3 polls of a 0.9.x SN, want 1", reads)
	}
	e.src.Poll(context.Background())
	got := series(t, e.store)
	if got[schema.InFlightLimit+"{}"] != 20 || got[schema.Info+`{exact="true",source="proxy",version="1.0.1"}`] != 1 {
		t.Errorf("limit/info: %v", got)
	}
}
