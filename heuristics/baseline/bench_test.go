package baseline

import (
	"fmt"
	"testing"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics/internal/snapshots"
)

func benchRecommend(b *testing.B, r heuristics.Recommender, pods int) {
	l := snapshots.Load{InFlight: 50, Limit: 100, Rate: 20, Rej: heuristics.ByCause{Overload: 0.1}}
	snaps := make([]heuristics.Snapshot, 64)
	for i := range snaps {
		snaps[i] = snapshots.Uniform(pods, l, snapshots.T0)
		snaps[i].MinReplicas, snaps[i].MaxReplicas = 1, 2000 // the scaler's part, for hsds
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		now := snapshots.T0.Add(time.Duration(i) * 5 * time.Second)
		s := snaps[i%len(snaps)]
		s.Time = now
		for j := range s.Pods {
			s.Pods[j].SampleTime, s.Pods[j].Fresh = now, true
		}
		r.Recommend(s)
	}
}

// BenchmarkRecommend: one decision of each policy, the hsds policy beside the baselines.
func BenchmarkRecommend(b *testing.B) {
	for _, pods := range []int{100, 1000} {
		p := heuristics.DefaultPolicy()
		hc, kc, pc := DefaultHPAConfig(), DefaultKEDAConfig(), DefaultKPAConfig()
		hc.MaxReplicas, kc.MaxReplicas, pc.MaxReplicas = 2000, 2000, 2000
		makers := []func() heuristics.Recommender{
			func() heuristics.Recommender { r, _ := heuristics.NewHSDS(p); return r },
			func() heuristics.Recommender { r, _ := NewHPA(hc); return r },
			func() heuristics.Recommender { r, _ := NewKEDA(kc); return r },
			func() heuristics.Recommender { r, _ := NewKPA(pc); return r },
		}
		for _, mk := range makers {
			r := mk()
			b.Run(fmt.Sprintf("%s/pods=%d", r.Name(), pods), func(b *testing.B) { benchRecommend(b, r, pods) })
		}
	}
}
