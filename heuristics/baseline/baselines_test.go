package baseline

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics/internal/snapshots"
)

func mustKEDA(t *testing.T, c KEDAConfig) *KEDA {
	t.Helper()
	k, err := NewKEDA(c)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustKPA(t *testing.T, c KPAConfig) *KPA {
	t.Helper()
	k, err := NewKPA(c)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// feed calls r at every step of [from, t1] and returns the decisions keyed by second.
func feed(r heuristics.Recommender, from, t1, dt float64, snap func(now time.Time) heuristics.Snapshot) map[float64]got {
	out := map[float64]got{}
	for s := from; s <= t1+1e-9; s += dt {
		d := r.Recommend(snap(snapshots.At(s)))
		out[s] = got{d.Valid, d.Replicas, d.Reason}
	}
	return out
}

func checkAt(t *testing.T, ds map[float64]got, want map[float64]got) {
	t.Helper()
	for s, w := range want {
		if diff := cmp.Diff(w, ds[s]); diff != "" {
			t.Errorf("t=%vs (-want +got):\n%s", s, diff)
		}
	}
}

func TestKEDABaseline(t *testing.T) {
	t.Run("503 trigger dominates", func(t *testing.T) {
		l := snapshots.Load{InFlight: 90, Limit: 100, Rate: 10, Rej: heuristics.ByCause{Overload: 3}}
		ds := feed(mustKEDA(t, DefaultKEDAConfig()), 0, 120, 15, func(now time.Time) heuristics.Snapshot { return snapshots.Uniform(2, l, now) })
		checkAt(t, ds, map[float64]got{
			// No rate yet (0); utilization 0.9/0.8 -> 2.
			0: {true, 2, CodeMetrics},
			// Sum of rates 2 x 3 = 6 503/s against 1 per pod on 2 status replicas: ratio 3 ->
			// ceil(6000/1000) = 6; utilization -> 2; max 6, rate limit max(4, 6).
			120: {true, 6, CodeMetrics},
		})
	})
	t.Run("utilization trigger shrinks a busy cluster to 2 after 300 s", func(t *testing.T) {
		l := snapshots.Load{InFlight: 90, Limit: 100, Rate: 10}
		ds := feed(mustKEDA(t, DefaultKEDAConfig()), 0, 300, 15, func(now time.Time) heuristics.Snapshot { return snapshots.Uniform(5, l, now) })
		checkAt(t, ds, map[float64]got{285: {true, 5, CodeMetrics}, 300: {true, 2, CodeMetrics}})
	})
	t.Run("scale to zero after cooldown, and activation", func(t *testing.T) {
		c := DefaultKEDAConfig()
		c.MinReplicas = 0
		k := mustKEDA(t, c)
		ds := feed(k, 0, 360, 15, func(now time.Time) heuristics.Snapshot {
			l := snapshots.Load{InFlight: 0, Limit: 100}
			if now.Before(snapshots.At(45)) {
				// Busy until 45: each pod's scrape (hsds-0 at :10, hsds-1 at :11 of each 30 s,
				// taken at the next call) before then sees it active; the poll at 30 is the
				// last active one, the one at 60 sees both scrapes of 45 inactive.
				l.InFlight = 10
			}
			return snapshots.Uniform(2, l, now)
		})
		checkAt(t, ds, map[float64]got{360: {true, 0, CodeKEDACooldown}})
		if ds[330].Reason == CodeKEDACooldown {
			t.Errorf("t=330: scaled to zero before cooldown: %+v", ds[330])
		}
		wake := snapshots.Uniform(1, snapshots.Load{InFlight: 10, Limit: 100}, snapshots.At(400)) // hsds-0 scraped at 370, poll at 390
		wake.SpecReplicas = 0
		d := k.Recommend(wake)
		if diff := cmp.Diff(got{true, 1, CodeKEDAActivate}, got{d.Valid, d.Replicas, d.Reason}); diff != "" {
			t.Errorf("activation (-want +got):\n%s", diff)
		}
	})
}

func TestKPABaseline(t *testing.T) {
	total := func(n int, each float64) func(time.Time) heuristics.Snapshot {
		return func(now time.Time) heuristics.Snapshot {
			return snapshots.Uniform(n, snapshots.Load{InFlight: each, Limit: 100}, now)
		}
	}
	t.Run("stable: ceil(400/70) = 6", func(t *testing.T) {
		ds := feed(mustKPA(t, DefaultKPAConfig()), 0, 60, 2, total(4, 100))
		checkAt(t, ds, map[float64]got{60: {true, 6, CodeKPAStable}})
	})
	t.Run("max scale down rate 2: 10 pods -> 5", func(t *testing.T) {
		ds := feed(mustKPA(t, DefaultKPAConfig()), 0, 60, 2, total(10, 7))
		checkAt(t, ds, map[float64]got{60: {true, 5, CodeKPAStable}})
	})
	t.Run("panic and its stable-window hold", func(t *testing.T) {
		snap := func(now time.Time) heuristics.Snapshot {
			s := now.Sub(snapshots.T0).Seconds()
			if s > 60 && s <= 66 {
				return total(4, 140)(now) // 560 in flight
			}
			return total(4, 10)(now) // 40 in flight
		}
		ds := feed(mustKPA(t, DefaultKPAConfig()), 0, 130, 1, snap)
		checkAt(t, ds, map[float64]got{
			// Panic window (60, 66] all 560: ceil(560/70) = 8 >= 2 x 4 pods: panic, 8.
			66: {true, 8, CodeKPAPanic},
			// Panic value (4x560+2x40)/6 -> 6 < 8: below threshold, but panic holds 8 for 60 s.
			68: {true, 8, CodeKPAPanic},
			// 128: 66 + 60 s passed: stable ceil(40/70) = 1, floored at 4/2 = 2.
			128: {true, 2, CodeKPAStable},
			// Between ticks (every 2 s) no change is proposed.
			67: {true, 4, CodeBetweenSyncs},
		})
	})
	t.Run("no ready pod: no data", func(t *testing.T) {
		s := total(2, 50)(snapshots.At(0))
		for i := range s.Pods {
			s.Pods[i].Ready = false
		}
		d := mustKPA(t, DefaultKPAConfig()).Recommend(s)
		if diff := cmp.Diff(got{false, 2, CodeNoMetrics}, got{d.Valid, d.Replicas, d.Reason}); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}
