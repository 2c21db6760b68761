package bench

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/fakehsds"
	"github.com/hsds-autoscaler/hsds-autoscaler/bench/loadgen"
	"github.com/hsds-autoscaler/hsds-autoscaler/bench/sim"
)

// Calibration tolerances (docs/bench.md, "Calibration"): the simulator agrees with the fake HSDS
// pods within calOverloadAbs + calOverloadRel x the larger 503 fraction, and within calInFlightRel
// of the fake's mean in-flight.
const (
	calPods         = 4
	calWarmup       = 1 * time.Second
	calMeasure      = 8 * time.Second
	calOverloadAbs  = 0.02
	calOverloadRel  = 0.25
	calInFlightRel  = 0.20
	calSimSeconds   = 1800
	calSampleEvery  = 5 * time.Millisecond
	calMaxInFlights = 4096
)

// TestCalibrationAgainstFakeHSDS drives the same offered load at real fake HSDS pods (loopback
// sockets, agent/fakehsds) through bench/loadgen and at the simulator, below, near and above
// capacity, and checks that the overload 503 fraction and the mean SN in-flight agree. Both sides
// use the default scenario's gate (its background tasks included), fan-out, request mix and
// service-time distribution; clients do not retry (a retry is load the comparison did not offer),
// open one connection per request (no idle keep-alive connections) and load every pod alike.
func TestCalibrationAgainstFakeHSDS(t *testing.T) {
	sc := calScenario()
	little := calPods * float64(sc.MaxTaskCount) / sc.MeanTaskSeconds(calPods) // gate full on average
	for _, load := range []struct {
		name  string
		share float64 // of the Little's-law rate at which the gates would be full on average
	}{{"below", 0.1}, {"near", 0.3}, {"above", 0.7}} {
		t.Run(load.name, func(t *testing.T) {
			t.Parallel() // wall-clock bound, not CPU bound: a few hundred requests/s in all
			fake := runFake(t, sc, load.share*little)
			st, err := sim.RunSteady(sc, sim.SteadyRun{Pods: calPods, Rate: fake.rate, WarmupSeconds: 60, Seconds: calSimSeconds, Seed: 1})
			if err != nil {
				t.Fatalf("RunSteady: %v", err)
			}
			simFrac := st.OverloadFraction()
			t.Logf("offered %.1f req/s: 503 fraction fake %.4f sim %.4f; mean in-flight per pod fake %.1f sim %.1f (%d fake attempts)",
				fake.rate, fake.overload, simFrac, fake.inFlight, st.MeanInFlight, fake.attempts)
			if tol := calOverloadAbs + calOverloadRel*math.Max(fake.overload, simFrac); math.Abs(fake.overload-simFrac) > tol {
				t.Errorf("503 fraction: fake %.4f, sim %.4f: differ by more than %.4f", fake.overload, simFrac, tol)
			}
			if d := math.Abs(fake.inFlight - st.MeanInFlight); d > calInFlightRel*fake.inFlight {
				t.Errorf("mean in-flight: fake %.2f, sim %.2f: differ by more than %.0f%%", fake.inFlight, st.MeanInFlight, 100*calInFlightRel)
			}
		})
	}
}

// calScenario is the default scenario with clients that do not retry (a retry is load the
// comparison did not offer), keep no idle connection and load every pod alike, as runFake does.
func calScenario() sim.Scenario {
	sc := sim.DefaultScenario()
	sc.Retries, sc.IdleConnectionsPerPod, sc.LoadSkew = 0, 0, 0
	return sc
}

// fakeResult is what the fake pods saw over the measured span.
type fakeResult struct {
	rate, overload, inFlight float64
	attempts                 int64
}

// runFake serves calPods fake HSDS pods on loopback, drives rate requests/s at them for
// calWarmup + calMeasure, and measures over calMeasure: achieved arrival rate, overload 503s per
// SN response, mean SN task count per pod (sampled every calSampleEvery).
func runFake(t *testing.T, sc sim.Scenario, rate float64) fakeResult {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pods, targets := startFakePods(t, ctx, sc)
	t.Cleanup(func() {
		cancel()
		for _, p := range pods {
			p.Wait()
		}
	})
	// One generator per pod at rate/calPods: kube-proxy picks a pod at random per connection, which
	// splits a Poisson load into independent Poisson loads (the simulator does the same); one
	// generator round-robin over the pods would smooth each pod's arrivals.
	var wg sync.WaitGroup
	gens := make([]*loadgen.Generator, len(targets))
	for i, target := range targets {
		gen, err := loadgen.New(loadgen.Config{
			Targets: []string{target}, Mix: loadMix(sc), Retry: loadgen.Retry{Retries: sc.Retries},
			MaxOutstanding: calMaxInFlights, Seed: uint64(i + 1),
			Client: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}},
		})
		if err != nil {
			t.Fatalf("loadgen: %v", err)
		}
		gens[i] = gen
		wg.Add(1)
		go func() {
			defer wg.Done()
			gen.Run(ctx, calWarmup+calMeasure, func(time.Duration) float64 { return rate / calPods })
		}()
	}
	time.Sleep(calWarmup)
	before, begin := truths(pods), time.Now()
	sum, n := 0.0, 0
	for time.Since(begin) < calMeasure {
		time.Sleep(calSampleEvery)
		for _, p := range pods {
			sum += float64(p.Truth().TasksActive + sc.BackgroundTasks) // the sim counts them in-flight
		}
		n += len(pods)
	}
	after, span := truths(pods), time.Since(begin)
	wg.Wait()
	attempts := after.responses - before.responses
	for _, gen := range gens {
		if dropped := gen.Stats().Dropped; dropped > 0 {
			t.Fatalf("loadgen dropped %d arrivals: the client side is saturated", dropped)
		}
	}
	return fakeResult{
		rate:     float64(after.arrivals-before.arrivals) / span.Seconds(),
		overload: float64(after.overload-before.overload) / float64(max(attempts, 1)),
		inFlight: sum / float64(max(n, 1)),
		attempts: attempts,
	}
}

// startFakePods starts calPods fake pods with the scenario's SN model and returns their SN URLs.
func startFakePods(t *testing.T, ctx context.Context, sc sim.Scenario) ([]*fakehsds.Pod, []string) {
	t.Helper()
	var pods []*fakehsds.Pod
	var targets []string
	for i := range calPods {
		cfg := fakehsds.DefaultConfig()
		cfg.MaxTaskCount, cfg.DNCount, cfg.RescaleSettle, cfg.Seed = sc.MaxTaskCount, calPods, 0, uint64(i+1)
		cfg.BackgroundTasks = sc.BackgroundTasks
		cfg.ServiceTime = fakehsds.LogNormal(time.Duration(sc.ServiceMedianSeconds*float64(time.Second)), sc.ServiceSigma)
		cfg.NodeID = fmt.Sprintf("cal%d", i)
		p, err := fakehsds.New(cfg)
		if err != nil {
			t.Fatalf("fake pod: %v", err)
		}
		sn, _, err := p.ListenAndServe(ctx, "127.0.0.1:0", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("fake pod: %v", err)
		}
		pods, targets = append(pods, p), append(targets, sn)
	}
	return pods, targets
}

// loadMix is the scenario's request mix as HTTP requests the fake fans out the same way: chunk
// requests touch ChunksPerRequest chunks, GET / is a domain crawl, GET /groups/{id} has no workers.
func loadMix(sc sim.Scenario) []loadgen.Request {
	value := fmt.Sprintf("/datasets/d-1/value?chunks=%d", sc.ChunksPerRequest)
	return []loadgen.Request{
		{Method: http.MethodGet, Path: value, Weight: sc.Mix.ChunkGet},
		{Method: http.MethodPut, Path: value, Weight: sc.Mix.ChunkPut},
		{Method: http.MethodPost, Path: value, Weight: sc.Mix.Post},
		{Method: http.MethodGet, Path: "/", Weight: sc.Mix.Crawl},
		{Method: http.MethodGet, Path: "/groups/g-1", Weight: sc.Mix.Small},
	}
}

// podTotals sums the fake pods' ground truth.
type podTotals struct{ responses, overload, arrivals int64 }

func truths(pods []*fakehsds.Pod) podTotals {
	var s podTotals
	for _, p := range pods {
		tr := p.Truth()
		for _, v := range tr.Requests {
			s.responses += v
		}
		s.overload += tr.Rejected["overload"]
	}
	s.arrivals = s.responses // no retries: one response per arrival
	return s
}
