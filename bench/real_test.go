package bench

// The simulator's rescale cost held against the real HSDS 0.9.4 (../shared/real-hsds, started by
// internal/realhsds), the way agent/fakehsds is calibrated: the same change under the same load
// on both. Fails, never skips, when real HSDS is missing; .ci/run installs it.

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/bench/sim"
	"github.com/hsds-autoscaler/hsds-autoscaler/internal/realhsds"
)

const (
	realDomains = 48   // domain objects the load reads: 1/n of them on each DN
	realRate    = 40.0 // domain GETs per second, spread over the SNs and the domains
)

// realReply is one request the load sent: when (since the load began), to which domain, what came
// back.
type realReply struct {
	at     time.Duration
	domain int
	code   int
}

// realLoad sends realRate domain GETs per second round-robin over sns and the domains until ctx
// ends, one connection per request, no retries, and returns every reply.
func realLoad(ctx context.Context, sns []string, domains []string, begin time.Time) []realReply {
	var (
		mu      sync.Mutex
		replies []realReply
		wg      sync.WaitGroup
	)
	cl := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	tick := time.NewTicker(time.Duration(float64(time.Second) / realRate))
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			wg.Wait()
			return replies
		case <-tick.C:
		}
		d := (i / len(sns)) % len(domains)
		url := sns[i%len(sns)] + "/?domain=" + domains[d]
		sent := time.Since(begin)
		wg.Go(func() {
			code := 0
			if req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodGet, url, nil); err == nil {
				if resp, err := cl.Do(req); err == nil {
					code = resp.StatusCode
					_ = resp.Body.Close()
				}
			}
			mu.Lock()
			replies = append(replies, realReply{at: sent, domain: d, code: code})
			mu.Unlock()
		})
	}
}

// TestRealRescaleHeadNode: the "head" preset against the real server in head-node mode, 3 -> 4 ->
// 3 pods under 40 domain GETs/s over 48 domains, no retries; the simulator gets the same load and
// changes (one-key GETs, 8 seeds). The model says: a scale-up costs a few 500s; a scale-down gives
// a 10-30 s window of 500s for the departed DN's keys (about 1/4 of the domains), no 503. The real
// server must show a window in that range (3 s of slack below, 5 s above), about 1/4 of the
// domains failing most of their requests in it, no 503, 500s per second of the scale-down's window
// within a factor of 2 of the simulator's mean, and 500s per scale-up within 3x or 20 requests of
// its mean.
func TestRealRescaleHeadNode(t *testing.T) {
	c := realhsds.Start(t, realhsds.Options{Pods: 3})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	domains := make([]string, realDomains)
	for i := range domains {
		domains[i] = fmt.Sprintf("/home/cal%02d.h5", i)
		if err := realhsds.CreateDomainAt(ctx, c.Pods[0].SN.URL(), domains[i]); err != nil {
			t.Fatalf("create %s: %v\n%s", domains[i], err, c.Logs())
		}
	}
	sns := []string{c.Pods[0].SN.URL(), c.Pods[1].SN.URL(), c.Pods[2].SN.URL()}

	loadCtx, stopLoad := context.WithCancel(ctx)
	begin := time.Now()
	done := make(chan []realReply)
	go func() { done <- realLoad(loadCtx, sns, domains, begin) }()

	time.Sleep(5 * time.Second)
	upAt := time.Since(begin)
	added, err := c.AddPod(realhsds.FreePort(t), realhsds.FreePort(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WaitReady(ctx, 4); err != nil {
		t.Fatalf("scale-up: %v\n%s", err, c.Logs())
	}
	time.Sleep(20 * time.Second)
	downAt := time.Since(begin)
	var wg sync.WaitGroup
	wg.Go(added.SN.Stop)
	wg.Go(added.DN.Stop)
	wg.Wait()
	time.Sleep(45 * time.Second)
	stopLoad()
	replies := <-done

	up, down := realSplit(replies, upAt, downAt)
	window := down.last500 - downAt
	departed := 0
	for _, n := range down.perDomain {
		if 2*n.failed >= n.inWindow {
			departed++
		}
	}
	share := float64(departed) / realDomains
	simUp, simDown, simDownRate := simHeadChanges(t)
	t.Logf("real: scale-up codes %v; scale-down codes %v, last 500 %.1f s after the DN stopped, %d of %d domains failing most requests (%.2f)",
		up.codes, down.codes, window.Seconds(), departed, realDomains, share)
	t.Logf("500s per change, real vs simulator mean: up %d vs %.1f, down %d vs %.1f",
		up.codes[http.StatusInternalServerError], simUp, down.codes[http.StatusInternalServerError], simDown)
	if n := up.codes[http.StatusServiceUnavailable] + down.codes[http.StatusServiceUnavailable]; n != 0 {
		t.Errorf("%d 503s: the SNs stay READY in a head-node rescale", n)
	}
	model, _ := sim.RescalePreset("head")
	// Slack: 3 s below; 5 s above, where the preset's 30 s is three node_sleep_time periods
	// (the DN's last check-in, the head's 20 s, the last SN's next check), each of which runs
	// longer by its health check's own duration and by a loaded machine's scheduling (two runs
	// beside a Kubernetes build: 29.1 and 29.7 s).
	if w := window.Seconds(); w < model.Down.MinSeconds-3 || w > model.Down.MaxSeconds+5 {
		t.Errorf("500 window %.1f s, model %g-%g s", w, model.Down.MinSeconds, model.Down.MaxSeconds)
	}
	if math.Abs(share-0.25) > 0.15 {
		t.Errorf("%.2f of the domains failed most requests in the window, want about 1/4 (the departed DN's)", share)
	}
	// The window's length is a draw within the preset's range on both sides (checked above); what
	// the model must match within it is the rate of 500s (the departed DN's share of the load). A
	// count comparison failed on a 10.5 s window (81 500s against the simulator's mean 180.4 over
	// its mean window) at the same 7.7 per second as the other runs.
	perSecond := float64(down.codes[http.StatusInternalServerError]) / window.Seconds()
	t.Logf("500s per second of the scale-down's window: real %.1f, simulator %.1f", perSecond, simDownRate)
	if window <= 0 || perSecond < simDownRate/2 || perSecond > 2*simDownRate {
		t.Errorf("500s per second of the scale-down's window: real %.1f (%d in %.1f s), simulator %.1f: more than a factor 2 apart",
			perSecond, down.codes[http.StatusInternalServerError], window.Seconds(), simDownRate)
	}
	if r := float64(up.codes[http.StatusInternalServerError]); math.Abs(r-simUp) > max(20, 2*simUp) {
		t.Errorf("500s per scale-up: real %.0f, simulator %.1f: too far apart", r, simUp)
	}
}

// realPhase is what the clients saw in one phase.
type realPhase struct {
	total          int
	codes          map[int]int
	last500        time.Duration
	failingDomains map[int]bool
	perDomain      map[int]*domainCount
}

type domainCount struct{ inWindow, failed int }

// realSplit splits the replies into the scale-up phase [upAt, downAt) and the scale-down phase
// [downAt, end), and finds the scale-down's 500 window and failing domains.
func realSplit(replies []realReply, upAt, downAt time.Duration) (up, down realPhase) {
	up.codes, down.codes = map[int]int{}, map[int]int{}
	down.failingDomains, down.perDomain = map[int]bool{}, map[int]*domainCount{}
	for _, r := range replies {
		switch {
		case r.at >= upAt && r.at < downAt:
			up.total++
			up.codes[r.code]++
		case r.at >= downAt:
			down.total++
			down.codes[r.code]++
			if r.code == http.StatusInternalServerError {
				down.failingDomains[r.domain] = true
				down.last500 = max(down.last500, r.at)
			}
		}
	}
	for _, r := range replies {
		if r.at < downAt || r.at > down.last500 || !down.failingDomains[r.domain] {
			continue
		}
		n := down.perDomain[r.domain]
		if n == nil {
			n = &domainCount{}
			down.perDomain[r.domain] = n
		}
		n.inWindow++
		if r.code == http.StatusInternalServerError {
			n.failed++
		}
	}
	return up, down
}

// simHeadChanges runs the simulator's head preset through the same changes and load (3 -> 4
// pods, then 4 -> 3; realRate one-key GETs/s, no retries) for 8 seeds and returns the mean 500s
// per scale-up and per scale-down.
func simHeadChanges(t *testing.T) (up, down, downRate float64) {
	t.Helper()
	sc := sim.DefaultScenario()
	sc.Rescale, _ = sim.RescalePreset("head")
	sc.Mix, sc.Retries, sc.LoadSkew = sim.Mix{Small: 1}, 0, 0
	const seeds = 8
	for seed := range uint64(seeds) {
		s, err := sim.New(sc, func(float64) float64 { return realRate }, 3, seed)
		if err != nil {
			t.Fatal(err)
		}
		run := func(seconds float64) {
			for range int(seconds / sc.TickSeconds) {
				s.Tick()
			}
		}
		run(5)
		s.SetSpec(4)
		run(sc.StartupSeconds + 20)
		upErrors := s.Stats().Errors500
		s.SetSpec(3)
		// The scale-down's window: from the change to the tick of its last 500.
		last, n := 0.0, upErrors
		for i := range int(45 / sc.TickSeconds) {
			s.Tick()
			if e := s.Stats().Errors500; e > n {
				last, n = float64(i+1)*sc.TickSeconds, e
			}
		}
		downErrors := float64(n - upErrors)
		up, down = up+float64(upErrors), down+downErrors
		if last > 0 {
			downRate += downErrors / last
		}
	}
	return up / seeds, down / seeds, downRate / seeds
}
