package baseline

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

// The snapshot generator is the one heuristics' property tests use (heuristics/property_test.go);
// an in-package test there cannot import a helper package that imports heuristics.

// randomSnapshot builds a snapshot of spec replicas with random pod states and loads. Loads are
// correlated through level (0..1.5) so that overload, busy and idle phases all occur.
func randomSnapshot(r *rand.Rand, spec int32, now time.Time, level float64) heuristics.Snapshot {
	s := heuristics.Snapshot{Time: now, SpecReplicas: spec, StatusReplicas: spec}
	for i := 0; i < int(spec); i++ {
		l := podLoad{limit: 100, inFlight: min(100, 100*level*(0.8+0.4*r.Float64()))}
		l.rate = 20 * level * (0.5 + r.Float64())
		if level > 1 {
			l.rej.Overload = l.rate * (level - 1) * r.Float64()
		}
		if r.IntN(10) == 0 {
			l.rej.NotReady = r.Float64() * 5
		}
		p := readyPod(i, l, now)
		switch r.IntN(25) {
		case 0:
			p.Known = false
		case 1:
			p.SampleTime = now.Add(-time.Duration(r.IntN(300)) * time.Second)
		case 2:
			p = heuristics.PodSample{Name: p.Name, Phase: heuristics.PodPending}
		case 3:
			p.NodeState = "WAITING"
		case 4:
			p.Ready = false
		}
		s.Pods = append(s.Pods, p)
	}
	return s
}

// walk drives a level in [0, 1.5] with occasional jumps.
func walk(r *rand.Rand, level float64) float64 {
	if r.IntN(50) == 0 {
		return r.Float64() * 1.5
	}
	return min(1.5, max(0, level+(r.Float64()-0.5)*0.1))
}

// TestBaselineProperties: every baseline stays inside its bounds on random sequences.
func TestBaselineProperties(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		r := rand.New(rand.NewPCG(seed, 11))
		hc, kc, pc := DefaultHPAConfig(), DefaultKEDAConfig(), DefaultKPAConfig()
		hc.MaxReplicas, kc.MaxReplicas, pc.MaxReplicas = 12, 12, 12
		hc.MinReplicas, pc.MinReplicas = 2, 2
		kc.MinReplicas = int32(seed % 2) // exercise scale to zero too
		hpa, _ := NewHPA(hc)
		keda, _ := NewKEDA(kc)
		kpa, _ := NewKPA(pc)
		for _, tc := range []struct {
			r        heuristics.Recommender
			min, max int32
		}{{hpa, 2, 12}, {keda, kc.MinReplicas, 12}, {kpa, 2, 12}} {
			spec := int32(1 + r.IntN(14))
			now, level := t0, r.Float64()
			for i := 0; i < 1000; i++ {
				now = now.Add(time.Duration(1+r.IntN(15)) * time.Second)
				level = walk(r, level)
				d := tc.r.Recommend(randomSnapshot(r, spec, now, level), now)
				if !d.Valid {
					continue
				}
				if d.Replicas < tc.min || d.Replicas > tc.max {
					t.Fatalf("seed %d %s: %d outside [%d, %d]: %+v", seed, tc.r.Name(), d.Replicas, tc.min, tc.max, d)
				}
				spec = d.Replicas
			}
		}
	}
}
