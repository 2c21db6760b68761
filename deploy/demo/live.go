package main

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/fakehsds"
	"github.com/hsds-autoscaler/hsds-autoscaler/bench/loadgen"
	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/demo/internal/replay"
	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/demo/internal/report"
	"github.com/hsds-autoscaler/hsds-autoscaler/deploy/demo/internal/view"
)

// loadClient is the load generator's HTTP client: like an h5pyd requests session, a small pool
// of keep-alive connections per pod (HSDS counts each open connection as a task) that idle out.
func loadClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: 5 * time.Second}}
}

func clientURLs(eps []Endpoint) []string {
	out := make([]string, len(eps))
	for i, e := range eps {
		out[i] = e.ClientURL
	}
	return out
}

// load is the client side: started right after the pods, at the slice's first rate, so that the
// scaler starts on a loaded cluster (as when it is deployed next to a running HSDS); the replay
// proper begins when begin is called.
type load struct {
	gen   *loadgen.Generator
	plan  replay.Plan
	start atomic.Pointer[time.Time] // replay start; nil: not yet (offer the first rate)
	stop  context.CancelFunc
	done  chan struct{}
}

// realDomains is how many domains the load at real pods reads (as the real-pod e2e tests).
const realDomains = 8

// loadConfig is the load generator's configuration: loadgen.DefaultMix at the fake pods; with
// domains (real pods) h5pyd-like requests over them (loadgen.HSDSMix) as admin, each attempt to
// the next running pod (a new connection through the Service: no keep-alive, HSDS counts idle
// connections as tasks against its small max_task_count).
func loadConfig(node Node, seed uint64, domains []loadgen.HSDSDomain) loadgen.Config {
	c := loadgen.Config{Targets: clientURLs(node.Endpoints()), Retry: loadgen.H5pydRetry(),
		MaxOutstanding: 5000, Timeout: 30 * time.Second, Seed: seed, Client: loadClient()}
	if len(domains) > 0 {
		c.Targets, c.TargetFunc = nil, func() []string { return clientURLs(node.Endpoints()) }
		c.Mix, c.Username, c.Password = loadgen.HSDSMix(domains), loadgen.HSDSAdmin, loadgen.HSDSAdmin
		c.Client = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	}
	return c
}

// startLoad starts the load generator against the node's pods (real pods: over domains).
func startLoad(ctx context.Context, node Node, plan replay.Plan, seed uint64, domains []loadgen.HSDSDomain) (*load, error) {
	gen, err := loadgen.New(loadConfig(node, seed, domains))
	if err != nil {
		return nil, err
	}
	l := &load{gen: gen, plan: plan, done: make(chan struct{})}
	lctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	l.stop = stop
	go func() {
		defer close(l.done)
		gen.Run(lctx, 24*time.Hour, func(time.Duration) float64 { return l.rate(time.Now()) })
	}()
	return l, nil
}

// rate is the arrival rate at now: the slice's first rate before the replay starts.
func (l *load) rate(now time.Time) float64 {
	if s := l.start.Load(); s != nil && now.After(*s) {
		return l.plan.Rate(now.Sub(*s))
	}
	return l.plan.Rate(0)
}

// Stop ends the load (requests waiting to retry are cut short) and waits for it.
func (l *load) Stop() error {
	l.stop()
	<-l.done
	return nil
}

// replay runs the warm-up and the plan's replay and refreshes the view every second until the
// plan ends or ctx does; it returns the recorded timeline.
func (d *demo) replay(ctx context.Context, plan replay.Plan, e *env) report.Result {
	res := report.Result{Plan: plan.Describe()}
	col := newCollector(e.cluster.Client, e.node, e.serveURL, d.podCapacity())
	errs := &clientErrors{}
	duration, warm := d.o.Duration, d.o.Warmup
	d.say("warm-up %s at the slice's first rate (%.1f req/s), then the replay for %s; Ctrl-C stops and cleans up", warm, plan.Rate(0), duration)
	began := time.Now()
	start := began.Add(warm)
	e.load.start.Store(&start)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for first := true; ; first = false {
		elapsed := time.Since(start)
		s := view.Snapshot{Elapsed: elapsed, Duration: duration, Offered: e.load.rate(time.Now())}
		eps := e.node.Endpoints()
		if len(eps) > 0 {
			e.load.gen.SetTargets(clientURLs(eps))
		}
		s.Client500, s.Client503 = errs.rates(time.Now(), e.load.gen.Stats().ByStatus)
		if e.prom != nil {
			_ = e.prom.UpdateTargets(eps)
		}
		col.collect(ctx, elapsed, &s)
		s.Clients = clients(e.load.gen.Stats())
		if ctx.Err() == nil {
			d.frame(e.header, s, first)
			res.Samples = append(res.Samples, report.FromSnapshot(s))
		}
		if elapsed >= duration || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	d.timings.Replay = time.Since(began)
	_ = e.load.Stop() // requests still waiting to retry are cut short (loadgen counts them failed)
	res.Clients = clients(e.load.gen.Stats())
	res.Changes = col.changes
	return res
}

// podCapacity is the nominal capacity of one READY pod for the view and the plot: the fake pod's
// from its task limit and service times, a real pod's as measured (realPodCapacity).
func (d *demo) podCapacity() float64 {
	if d.o.HSDS == HSDSReal {
		return realPodCapacity
	}
	dist, _ := fakehsds.ParseDistribution(d.o.ServiceTime) // validated by Options.Validate
	return nominalPodCapacity(d.o.MaxTaskCount, demoTasksPerReqst, demoWorkers, dist, d.o.Seed)
}

// clientErrors turns the clients' cumulative 500 and 503 counts into rates over rateWindow.
type clientErrors struct {
	hist []errCount
}

type errCount struct {
	at       time.Time
	c500, c5 int64
}

// rates records the counts of byStatus at now and returns the 500/s and 503/s over the last
// rateWindow (0 until two readings exist).
func (c *clientErrors) rates(now time.Time, byStatus map[int]int64) (r500, r503 float64) {
	c.hist = append(c.hist, errCount{at: now, c500: byStatus[http.StatusInternalServerError], c5: byStatus[http.StatusServiceUnavailable]})
	for len(c.hist) > 2 && now.Sub(c.hist[1].at) >= rateWindow {
		c.hist = c.hist[1:]
	}
	first := c.hist[0]
	dt := now.Sub(first.at).Seconds()
	if dt <= 0 {
		return 0, 0
	}
	return float64(byStatus[http.StatusInternalServerError]-first.c500) / dt, float64(byStatus[http.StatusServiceUnavailable]-first.c5) / dt
}

func clients(s loadgen.Stats) view.Clients {
	return view.Clients{Requests: s.Requests, Succeeded: s.Succeeded, Failed: s.Failed, Dropped: s.Dropped}
}
