package baseline

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics/internal/snapshots"
)

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
			now, level := snapshots.T0, r.Float64()
			for i := 0; i < 1000; i++ {
				now = now.Add(time.Duration(1+r.IntN(15)) * time.Second)
				level = snapshots.Walk(r, level)
				d := tc.r.Recommend(snapshots.Random(r, spec, now, level))
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
