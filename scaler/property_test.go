package scaler

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

// randomPods draws a pod list: some pending, some unscraped, some old, some not READY.
func randomPods(rng *rand.Rand, now time.Time) []heuristics.PodSample {
	n := rng.IntN(7)
	pods := make([]heuristics.PodSample, n)
	for i := range pods {
		p := pod(fmt.Sprintf("p%d", i))
		p.SampleTime = now.Add(-time.Duration(rng.IntN(90)) * time.Second)
		p.Known = rng.IntN(8) != 0
		if rng.IntN(5) == 0 {
			p.NodeState = "WAITING"
		}
		if rng.IntN(6) == 0 {
			p = heuristics.PodSample{Name: p.Name, Phase: heuristics.PodPending, Scheduled: rng.IntN(2) == 0, Created: now.Add(-time.Duration(rng.IntN(600)) * time.Second)}
		}
		p.Rejected503.Overload = float64(rng.IntN(20))
		pods[i] = p
	}
	return pods
}

// oracleFresh restates "figures known and young enough" independently of markFresh.
func oracleFresh(p heuristics.PodSample, now time.Time, maxAge time.Duration) bool {
	return p.Known && !p.SampleTime.IsZero() && now.Sub(p.SampleTime) <= maxAge
}

// oracleStale restates "missing or stale data" independently of staleData.
func oracleStale(pods []heuristics.PodSample, spec int32, now time.Time, maxAge time.Duration) bool {
	if len(pods) == 0 {
		return spec > 0
	}
	for _, p := range pods {
		if p.Phase == heuristics.PodRunning && !oracleFresh(p, now, maxAge) {
			return true
		}
	}
	return false
}

// checkSnapshot: the recommender sees the envelope exactly as the scaler's one record and one
// configuration have it: the step's time, the bounds, the last change, settling by guards.settle,
// freshness by guards.maxSampleAge.
func checkSnapshot(s heuristics.Snapshot, cfg ControllerConfig, pods []heuristics.PodSample, now, lastChange, settleFrom time.Time) error {
	settle, maxAge := cfg.Guards.Settle.Duration, cfg.Guards.MaxSampleAge.Duration
	settling := !settleFrom.IsZero() && now.Sub(settleFrom) < settle
	switch {
	case !s.Time.Equal(now):
		return fmt.Errorf("snapshot time %v, step at %v", s.Time, now)
	case s.MinReplicas != cfg.MinReplicas || s.MaxReplicas != cfg.MaxReplicas:
		return fmt.Errorf("snapshot bounds [%d, %d], config [%d, %d]", s.MinReplicas, s.MaxReplicas, cfg.MinReplicas, cfg.MaxReplicas)
	case !s.LastChange.Equal(lastChange):
		return fmt.Errorf("at %s snapshot LastChange %v, last change %v", now.Sub(t0), s.LastChange, lastChange)
	case s.Settling != settling:
		return fmt.Errorf("at %s snapshot Settling %t, want %t (last change %s ago, settle %s)", now.Sub(t0), s.Settling, settling, now.Sub(lastChange), settle)
	case len(s.Pods) != len(pods):
		return fmt.Errorf("snapshot has %d pods, source %d", len(s.Pods), len(pods))
	}
	for i, p := range s.Pods {
		if want := oracleFresh(pods[i], now, maxAge); p.Fresh != want {
			return fmt.Errorf("at %s pod %s Fresh %t, want %t (age %s, known %t)", now.Sub(t0), p.Name, p.Fresh, want, now.Sub(pods[i].SampleTime), pods[i].Known)
		}
	}
	return nil
}

// TestPropertyGuards drives Step through random scenarios (random settle time and sample-age
// limit too) and checks, for every write: it stays in [min, max]; it is never a scale-down while
// a Running pod's figures are missing or stale; it comes at least guards.settle after the
// previous replica change (ours or anyone's): no change while settling. And every snapshot the
// recommender gets carries the envelope as the scaler has it (checkSnapshot).
func TestPropertyGuards(t *testing.T) {
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 42))
		if _, err := runScenario(rng, randomRecommender(rng)); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
}

// TestPropertyGuardsWithHSDSPolicy: the same properties with the real hsds policy (short windows,
// so that it changes the count often) deciding on the random pods.
func TestPropertyGuardsWithHSDSPolicy(t *testing.T) {
	p := heuristics.DefaultPolicy()
	p.PodCapacity, p.ShortWindow, p.OverloadSustain = 10, heuristics.D(20*time.Second), heuristics.D(5*time.Second)
	p.StabilizationWindow, p.DwellUp, p.DwellDown = heuristics.D(time.Minute), heuristics.D(0), heuristics.D(10*time.Second)
	writes := 0
	for seed := range uint64(100) {
		h, err := heuristics.NewHSDS(p)
		if err != nil {
			t.Fatal(err)
		}
		n, err := runScenario(rand.New(rand.NewPCG(seed, 43)), h.Recommend)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		writes += n
	}
	t.Logf("%d writes", writes)
	if writes < 100 {
		t.Errorf("the hsds policy wrote only %d times in 100 scenarios: the properties were hardly exercised", writes)
	}
}

// randomRecommender answers anything, valid or not, in or out of any bounds.
func randomRecommender(rng *rand.Rand) func(heuristics.Snapshot) heuristics.Decision {
	return func(heuristics.Snapshot) heuristics.Decision {
		return heuristics.Decision{Valid: rng.IntN(5) != 0, Replicas: int32(rng.IntN(30) - 5), Reason: "random"}
	}
}

// runScenario steps a controller whose recommender is decide through 300 random steps and
// returns how many writes it made, or the first property it broke.
func runScenario(rng *rand.Rand, decide func(heuristics.Snapshot) heuristics.Decision) (int, error) {
	cfg := testConfig()
	cfg.MinReplicas = int32(1 + rng.IntN(4))
	cfg.MaxReplicas = cfg.MinReplicas + int32(rng.IntN(8))
	cfg.SettledAtStart = rng.IntN(2) == 0
	cfg.Guards.Settle = heuristics.D(time.Duration(rng.IntN(90)) * time.Second)
	cfg.Guards.MaxSampleAge = heuristics.D(time.Duration(1+rng.IntN(80)) * time.Second)
	clk := clocktesting.NewFakeClock(t0)
	scales := &fakeScales{scale: Scale{SpecReplicas: int32(rng.IntN(15)), Selector: "app=hsds"}}
	pods := &fakePods{}
	rec := &fakeRecommender{fn: decide}
	c, err := NewController(cfg, Deps{Scales: scales, Pods: pods, Recommender: rec, Clock: clk})
	if err != nil {
		return 0, err
	}
	settle, maxAge := cfg.Guards.Settle.Duration, cfg.Guards.MaxSampleAge.Duration
	// lastChange is the last known change (the snapshot's LastChange, the dwell times' origin);
	// settleFrom the origin of the settle time: the last change, or the start unless SettledAtStart.
	lastChange, settleFrom := time.Time{}, time.Time{}
	if !cfg.SettledAtStart {
		settleFrom = t0
	}
	for i := range 300 {
		now := clk.Now()
		if i > 0 && rng.IntN(40) == 0 { // someone else scales (after the controller's first look)
			if n := int32(rng.IntN(15)); n != scales.scale.SpecReplicas {
				scales.scale.SpecReplicas, lastChange, settleFrom = n, now, now
			}
		}
		pods.pods = randomPods(rng, now)
		before, nWrites, nSeen := scales.scale.SpecReplicas, len(scales.writes), rec.calls()
		if _, err := c.Step(context.Background()); err != nil && !errors.Is(err, ErrScaleChanged) {
			return 0, err
		}
		if rec.calls() > nSeen {
			if err := checkSnapshot(rec.seen[len(rec.seen)-1], cfg, pods.pods, now, lastChange, settleFrom); err != nil {
				return 0, err
			}
		}
		if len(scales.writes) > nWrites {
			w := scales.writes[len(scales.writes)-1]
			switch {
			case w.To < cfg.MinReplicas || w.To > cfg.MaxReplicas:
				return 0, fmt.Errorf("at %s wrote %d outside [%d, %d]", now.Sub(t0), w.To, cfg.MinReplicas, cfg.MaxReplicas)
			case w.To < w.From && oracleStale(pods.pods, before, now, maxAge):
				return 0, fmt.Errorf("at %s scaled down %d -> %d on stale data (%d pods)", now.Sub(t0), w.From, w.To, len(pods.pods))
			case !settleFrom.IsZero() && now.Sub(settleFrom) < settle:
				return 0, fmt.Errorf("at %s wrote %d -> %d only %s after the last change (or start)", now.Sub(t0), w.From, w.To, now.Sub(settleFrom))
			}
			lastChange, settleFrom = now, now
		}
		clk.Step(time.Duration(1+rng.IntN(20)) * time.Second)
	}
	return len(scales.writes), nil
}
