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

// startLoad starts the load generator against the node's pods.
func startLoad(ctx context.Context, node Node, plan replay.Plan, seed uint64) (*load, error) {
	gen, err := loadgen.New(loadgen.Config{Targets: clientURLs(node.Endpoints()), Retry: loadgen.H5pydRetry(),
		MaxOutstanding: 5000, Timeout: 30 * time.Second, Seed: seed, Client: loadClient()})
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
	dist, _ := fakehsds.ParseDistribution(d.o.ServiceTime) // validated by Options.Validate
	col := newCollector(e.cluster.Client, e.node, e.serveURL,
		nominalPodCapacity(d.o.MaxTaskCount, demoTasksPerReqst, demoWorkers, dist, d.o.Seed))
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

func clients(s loadgen.Stats) view.Clients {
	return view.Clients{Requests: s.Requests, Succeeded: s.Succeeded, Failed: s.Failed, Dropped: s.Dropped}
}
