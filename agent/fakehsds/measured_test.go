package fakehsds

import (
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// Tests of the behaviours measured on the real HSDS 0.9.4. Each names its source: a line of
// docs/hsds.md "Measured on the real HSDS 0.9.4" or a run against the real server (docs/fake-hsds.md
// "Calibration against real HSDS 0.9.4").

// docs/hsds.md (measured): 404 for a missing domain. Measured run (curl -i, real SN): GET
// /?domain=/does/not/exist answers 404 "404: Not Found" with aiohttp's own headers; the SN logs 2
// WARNs ("Object: .../domains not found", "domain: ... not found") and counts the GET; PUT
// /?domain= creates the domain (201), after which GET answers 200.
func TestDomain_MissingIs404UntilCreated(t *testing.T) {
	p, _ := newTestPod(t, func(c *Config) { c.ServiceTime = Fixed(0) })
	rec := do(p.SN(), "GET", "/?domain=/home/a.h5")
	if rec.Code != http.StatusNotFound || rec.Body.String() != "404: Not Found" {
		t.Fatalf("missing domain: %d %q, want 404 \"404: Not Found\"", rec.Code, rec.Body)
	}
	if got := rec.Header().Get("Server"); got != serverAIOHTTP {
		t.Errorf("404 Server header %q, want %q (aiohttp writes raised errors)", got, serverAIOHTTP)
	}
	in := infoOf(t, p.SN())
	if in.LogStats.Warn != 2 || in.ReqCount.Get != 1 {
		t.Errorf("after one 404: WARN %d GET %d, want 2 and 1", in.LogStats.Warn, in.ReqCount.Get)
	}
	if got := do(p.SN(), "PUT", "/?domain=/home/a.h5").Code; got != http.StatusCreated {
		t.Errorf("PUT /?domain=: %d, want 201", got)
	}
	if got := do(p.SN(), "GET", "/?domain=/home/a.h5").Code; got != http.StatusOK {
		t.Errorf("GET of the created domain: %d, want 200", got)
	}
	p2, _ := newTestPod(t, func(c *Config) { c.ServiceTime = Fixed(0); c.Domains = []string{"/home/b.h5"} })
	if got := do(p2.SN(), "GET", "/?domain=/home/b.h5").Code; got != http.StatusOK {
		t.Errorf("GET of a Config.Domains domain: %d, want 200", got)
	}
	if got := do(p2.SN(), "GET", "/datasets/d1/value").Code; got != http.StatusOK {
		t.Errorf("a request without ?domain= keeps its old answer: %d, want 200", got)
	}
}

// docs/hsds.md (measured): "An unreachable DN makes the SN answer 500 (not 503) for the keys that DN
// owns, while the SN stays READY: ~24 s after a DN stopped in head-node mode (until the head
// drops it from the roster), forever in standalone mode"; Kubernetes mode "a scale-down 9-20 s".
// Measured run (head mode, one pod): 500 "500: Internal Server Error", 1 WARN per 500; after the
// drop, node_count 0, the SN WAITING and 503 to every request.
func TestDNLoss_500UntilTheRosterDropsTheDN(t *testing.T) {
	for _, tc := range []struct {
		name, roster string
		set          time.Duration // Config.DNDropAfter
		dropAfter    time.Duration // want; 0: never, -1: drawn in [lo, hi]
		lo, hi       time.Duration
	}{
		{"head", RosterHead, 0, -1, HeadDNDropMin, HeadDNDropMax}, // the head's mechanism (config.go)
		{"head configured", RosterHead, 24 * time.Second, 24 * time.Second, 0, 0},
		{"standalone", RosterStandalone, 0, 0, 0, 0},
		{"kubernetes", RosterKubernetes, 0, -1, KubeDNDropMin, KubeDNDropMax},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, clk := newTestPod(t, func(c *Config) { c.ServiceTime = Fixed(0); c.Roster = tc.roster; c.DNDropAfter = tc.set })
			p.StopDN()
			rec := do(p.SN(), "GET", "/datasets/d1/value")
			if rec.Code != http.StatusInternalServerError || rec.Body.String() != "500: Internal Server Error" {
				t.Fatalf("key of the stopped DN: %d %q, want 500", rec.Code, rec.Body)
			}
			if in := infoOf(t, p.SN()); in.Node.State != schema.StateReady || in.LogStats.Warn != 1 {
				t.Errorf("SN %s WARN %d, want READY and 1 WARN", in.Node.State, in.LogStats.Warn)
			}
			if got := do(p.DN(), "GET", "/info").Code; got != http.StatusBadGateway {
				t.Errorf("stopped DN answered %d (off a socket the fake answers 502; on one it closes)", got)
			}
			var dropped time.Duration
			for step := time.Second; step <= time.Minute; step += time.Second {
				clk.Step(time.Second)
				if do(p.SN(), "GET", "/datasets/d1/value").Code != http.StatusInternalServerError {
					dropped = step
					break
				}
			}
			switch {
			case tc.dropAfter == 0 && dropped != 0:
				t.Errorf("standalone: the 500s ended after %v, want never", dropped)
			case tc.dropAfter > 0 && dropped != tc.dropAfter:
				t.Errorf("the 500s ended after %v, want %v", dropped, tc.dropAfter)
			case tc.dropAfter < 0 && (dropped < tc.lo || dropped > tc.hi):
				t.Errorf("the 500s ended after %v, want within [%v, %v]", dropped, tc.lo, tc.hi)
			}
			if dropped == 0 {
				return
			}
			if in := infoOf(t, p.SN()); in.Node.State != schema.StateWaiting || in.Node.NodeCount != 0 {
				t.Errorf("after the drop: SN %s node_count %d, want WAITING and 0", in.Node.State, in.Node.NodeCount)
			}
			p.StartDN()
			if in := infoOf(t, p.SN()); in.Node.State != schema.StateReady || in.Node.NodeCount != 1 {
				t.Errorf("after StartDN: SN %s node_count %d, want READY and 1", in.Node.State, in.Node.NodeCount)
			}
			if got := do(p.SN(), "GET", "/datasets/d1/value").Code; got != http.StatusOK {
				t.Errorf("after StartDN: %d, want 200", got)
			}
		})
	}
}

// docs/hsds.md "Topology": placement is hash(id) % dn_count, so with several DNs only the stopped DN's
// keys get 500 (scale-down measured: "every request for the departed DN's keys got 500").
func TestDNLoss_OnlyTheStoppedDNsKeys(t *testing.T) {
	p, _ := newTestPod(t, func(c *Config) { c.ServiceTime = Fixed(0); c.DNCount = 4 })
	p.StopDN()
	codes := map[int]int{}
	for i := range 400 {
		codes[do(p.SN(), "GET", "/datasets/d"+strings.Repeat("x", i%50)+string(rune('a'+i%26))+"/value").Code]++
	}
	if codes[500] == 0 || codes[200] == 0 || codes[500] > codes[200] {
		t.Errorf("4 DNs, one stopped: %v, want some 500s (about a quarter) and mostly 200s", codes)
	}
}

// docs/hsds.md (measured): "The SN has 2 background asyncio tasks of its own that count against
// max_task_count" (real-hsds README: "it admits 2 fewer requests than a gate that counts only
// requests").
func TestBackgroundTasks_AdmitTwoFewer(t *testing.T) {
	for _, bg := range []int{0, 2} {
		p, clk := newTestPod(t, func(c *Config) { c.MaxTaskCount = 10; c.BackgroundTasks = bg })
		var held []<-chan *httptest.ResponseRecorder
		admitted := 0
		for range 12 {
			ch := inflight(p.SN(), "GET", "/groups/g1")
			select {
			case rec := <-ch:
				if rec.Code != http.StatusServiceUnavailable {
					t.Fatalf("bg %d: a request ended with %d before the clock moved", bg, rec.Code)
				}
			case <-time.After(50 * time.Millisecond):
				admitted++
				held = append(held, ch)
				waitTasks(t, p, admitted)
			}
		}
		if admitted != 10-bg {
			t.Errorf("background tasks %d: %d requests admitted with limit 10, want %d", bg, admitted, 10-bg)
		}
		clk.Step(DefaultServiceTime)
		for _, ch := range held {
			<-ch
		}
		if n := infoOf(t, p.SN()).ReqCount.NumTasks; n != 11 {
			t.Errorf("background tasks %d: num_tasks of the last (rejected) request %d, want 11", bg, n)
		}
	}
}

// docs/hsds.md (measured): "Gate 503s are not fast: they queue in the SN's single event loop like
// everything else (p50 ~70 ms at 60 concurrent)". With LoopCost c, n requests arriving together
// leave the loop one per c: the k-th answer (503 or not) comes no sooner than k*c, so a 503's
// latency grows with the queue in front of it. Real clock: 30 requests, c = 2 ms.
func TestEventLoop_Gate503sQueueLikeOtherRequests(t *testing.T) {
	cfg := Measured094()
	cfg.MaxTaskCount = 10
	cfg.LoopCost = 2 * time.Millisecond
	cfg.ServiceTime = Fixed(time.Millisecond)
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const n = 30
	var (
		mu   sync.Mutex
		lat  = map[int][]time.Duration{}
		wg   sync.WaitGroup
		gate = make(chan struct{})
	)
	start := time.Now()
	for range n {
		wg.Go(func() {
			<-gate
			rec := do(p.SN(), "GET", "/groups/g1")
			mu.Lock()
			lat[rec.Code] = append(lat[rec.Code], time.Since(start))
			mu.Unlock()
		})
	}
	close(gate)
	wg.Wait()
	l503 := lat[http.StatusServiceUnavailable]
	if len(l503) < n/2 {
		t.Fatalf("%v: want most of %d concurrent requests rejected", lat, n)
	}
	sort.Slice(l503, func(i, j int) bool { return l503[i] < l503[j] })
	if last := l503[len(l503)-1]; last < time.Duration(len(l503))*cfg.LoopCost {
		t.Errorf("slowest of %d 503s after %v: want >= %v (one loop pass each, in turn)", len(l503), last, time.Duration(len(l503))*cfg.LoopCost)
	}
	if med := l503[len(l503)/2]; med < 10*cfg.LoopCost {
		t.Errorf("median 503 after %v: want it queued (>= %v), not instant", med, 10*cfg.LoopCost)
	}
}

// Measured run (curl -i against a real SN and DN): JSON answers carry "Server: Highly Scalable
// Data Service (HSDS)" and "X-XSS-Protection: 1; mode=block" and Python's json.dumps spacing;
// raised errors carry aiohttp's "Server: Python/3.11 aiohttp/3.8.4" and text/plain.
func TestHeaders_AsTheRealServerSendsThem(t *testing.T) {
	p, _ := newTestPod(t, func(c *Config) { c.MaxTaskCount = 1 })
	rec := do(p.SN(), "GET", "/about")
	h := rec.Header()
	if h.Get("Server") != serverHSDS || h.Get("X-XSS-Protection") != "1; mode=block" || h.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("/about headers %v", h)
	}
	if body := rec.Body.String(); !strings.HasPrefix(body, `{"start_time": 1700000000, "state": "READY", "hsds_version": "1.0.1"`) {
		t.Errorf("/about body %q: want Python's json.dumps spacing and HSDS's key order", body)
	}
	p.arrive(p.sn) // one more live task: the next gated request is above the limit of 1
	rec = do(p.SN(), "GET", "/groups/g1")
	h = rec.Header()
	if rec.Code != http.StatusServiceUnavailable || h.Get("Server") != serverAIOHTTP || h.Get("Content-Length") != "24" ||
		h.Get("Content-Type") != "text/plain; charset=utf-8" || h.Get("X-XSS-Protection") != "" {
		t.Errorf("gate 503: %d headers %v", rec.Code, h)
	}
}

// Python writes a float with a fraction; the JSON spacing is json.dumps's; strings keep their
// commas and colons.
func TestPythonJSON(t *testing.T) {
	got := string(pythonJSON([]byte(`{"a":"x,y:z\"","b":[1,2],"c":{"d":0.5}}`)))
	if want := `{"a": "x,y:z\"", "b": [1, 2], "c": {"d": 0.5}}`; got != want {
		t.Errorf("pythonJSON = %s, want %s", got, want)
	}
	for f, want := range map[pyFloat]string{0: "0.0", 19: "19.0", 99.7: "99.7"} {
		if b, _ := f.MarshalJSON(); string(b) != want {
			t.Errorf("pyFloat(%v) = %s, want %s", float64(f), b, want)
		}
	}
}
