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
		p.SampleTime = now.Add(-time.Duration(rng.IntN(30)) * time.Second)
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

// oracleStale restates "missing or stale data" independently of staleData.
func oracleStale(pods []heuristics.PodSample, spec int32, now time.Time, maxAge time.Duration) bool {
	if len(pods) == 0 {
		return spec > 0
	}
	for _, p := range pods {
		if p.Phase != heuristics.PodRunning {
			continue
		}
		if !p.Known || now.Sub(p.SampleTime) > maxAge {
			return true
		}
	}
	return false
}

// TestPropertyGuards drives Step through random scenarios and checks, for every write:
// it stays in [min, max]; it is never a scale-down while data is missing or stale; and it comes
// at least guards.settle after the previous replica change (ours or anyone's).
func TestPropertyGuards(t *testing.T) {
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 42))
		if err := runScenario(rng); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
}

func runScenario(rng *rand.Rand) error {
	cfg := testConfig()
	cfg.MinReplicas = int32(1 + rng.IntN(4))
	cfg.MaxReplicas = cfg.MinReplicas + int32(rng.IntN(8))
	cfg.SettledAtStart = rng.IntN(2) == 0
	clk := clocktesting.NewFakeClock(t0)
	scales := &fakeScales{scale: Scale{SpecReplicas: int32(rng.IntN(15)), Selector: "app=hsds"}}
	pods := &fakePods{}
	rec := &fakeRecommender{fn: func(heuristics.Snapshot) heuristics.Decision {
		return heuristics.Decision{Valid: rng.IntN(5) != 0, Replicas: int32(rng.IntN(30) - 5), Reason: "random"}
	}}
	c, err := NewController(cfg, Deps{Scales: scales, Pods: pods, Recommender: rec, Clock: clk})
	if err != nil {
		return err
	}
	settle, maxAge := cfg.Guards.Settle.Duration, cfg.Guards.MaxSampleAge.Duration
	lastChange := time.Time{}
	if !cfg.SettledAtStart {
		lastChange = t0
	}
	for i := range 300 {
		now := clk.Now()
		if i > 0 && rng.IntN(40) == 0 { // someone else scales (after the controller's first look)
			if n := int32(rng.IntN(15)); n != scales.scale.SpecReplicas {
				scales.scale.SpecReplicas, lastChange = n, now
			}
		}
		pods.pods = randomPods(rng, now)
		before, nWrites := scales.scale.SpecReplicas, len(scales.writes)
		if _, err := c.Step(context.Background()); err != nil && !errors.Is(err, ErrScaleChanged) {
			return err
		}
		if len(scales.writes) > nWrites {
			w := scales.writes[len(scales.writes)-1]
			switch {
			case w.To < cfg.MinReplicas || w.To > cfg.MaxReplicas:
				return fmt.Errorf("at %s wrote %d outside [%d, %d]", now.Sub(t0), w.To, cfg.MinReplicas, cfg.MaxReplicas)
			case w.To < w.From && oracleStale(pods.pods, before, now, maxAge):
				return fmt.Errorf("at %s scaled down %d -> %d on stale data %+v", now.Sub(t0), w.From, w.To, pods.pods)
			case !lastChange.IsZero() && now.Sub(lastChange) < settle:
				return fmt.Errorf("at %s wrote %d -> %d only %s after the last change", now.Sub(t0), w.From, w.To, now.Sub(lastChange))
			}
			lastChange = now
		}
		clk.Step(time.Duration(1+rng.IntN(20)) * time.Second)
	}
	return nil
}
