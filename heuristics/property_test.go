package heuristics_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics/internal/snapshots"
)

// hasStaleOrMissing: a Running pod without fresh figures, or no pod with fresh figures at all.
// Pending and terminating pods cannot be scraped and serve nothing, so they do not count.
func hasStaleOrMissing(s heuristics.Snapshot, now time.Time, maxAge time.Duration) bool {
	known := 0
	for _, p := range s.Pods {
		fresh := p.Known && !p.SampleTime.IsZero() && now.Sub(p.SampleTime) <= maxAge
		if p.Phase == heuristics.PodRunning && !fresh {
			return true
		}
		if fresh {
			known++
		}
	}
	return known == 0
}

// TestHSDSProperties runs seeded random sequences, applying every decision, and checks the
// invariants: bounds, no scale-down on stale or missing data, dwell times between changes.
func TestHSDSProperties(t *testing.T) {
	changes := map[string]int{}
	defer func() {
		// The invariants mean something only if the sequences exercise every kind of change.
		for _, reason := range []string{heuristics.CodeOverload, heuristics.CodeUtilization, heuristics.CodeScaleDown, heuristics.CodePanic, heuristics.CodeBounds} {
			if changes[reason] == 0 {
				t.Errorf("no %q change in any sequence: %v", reason, changes)
			}
		}
		t.Logf("changes by reason: %v", changes)
	}()
	for seed := uint64(1); seed <= 40; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 7))
			p := heuristics.DefaultPolicy()
			p.MinReplicas, p.MaxReplicas = 2, int32(3+r.IntN(20))
			if seed%2 == 0 {
				p.PodCapacity = 5 + 20*r.Float64()
			}
			h, err := heuristics.NewHSDS(p)
			if err != nil {
				t.Fatal(err)
			}
			spec := int32(1 + r.IntN(int(p.MaxReplicas)+3)) // may start outside the bounds
			now, level := snapshots.T0, r.Float64()
			var lastChange time.Time
			for i := 0; i < 1500; i++ {
				now = now.Add(time.Duration(1+r.IntN(20)) * time.Second)
				level = snapshots.Walk(r, level)
				snap := snapshots.Random(r, spec, now, level)
				d := h.Recommend(snap, now)
				checkHSDSDecision(t, p, snap, d, now, lastChange)
				if d.Valid && d.Replicas != d.Current {
					changes[d.Reason]++
					if d.Reason != heuristics.CodeBounds {
						lastChange = now
					}
					h.Applied(d.Replicas, now)
					spec = d.Replicas
				}
			}
		})
	}
}

func checkHSDSDecision(t *testing.T, p heuristics.Policy, snap heuristics.Snapshot, d heuristics.Decision, now, lastChange time.Time) {
	t.Helper()
	if d.Current != snap.SpecReplicas {
		t.Fatalf("Current %d != spec %d", d.Current, snap.SpecReplicas)
	}
	if d.Reason == "" || d.Message == "" && d.Reason != heuristics.CodeNoData {
		t.Fatalf("decision without reason or message: %+v", d)
	}
	if !d.Valid {
		if d.Replicas != d.Current {
			t.Fatalf("invalid decision recommends a change: %+v", d)
		}
		return
	}
	if d.Replicas < p.MinReplicas || d.Replicas > p.MaxReplicas {
		t.Fatalf("%d outside [%d, %d]: %+v", d.Replicas, p.MinReplicas, p.MaxReplicas, d)
	}
	if d.Replicas == d.Current || d.Reason == heuristics.CodeBounds {
		return
	}
	if d.Replicas < d.Current && hasStaleOrMissing(snap, now, p.MaxSampleAge.Duration) {
		t.Fatalf("scale down with stale or missing data: %+v", d)
	}
	if lastChange.IsZero() {
		return
	}
	gap := now.Sub(lastChange)
	switch {
	case d.Replicas < d.Current && gap < p.DwellDown.Duration:
		t.Fatalf("scale down %s after the last change (dwellDown %s): %+v", gap, p.DwellDown.Duration, d)
	case d.Replicas > d.Current && d.Reason != heuristics.CodePanic && gap < p.DwellUp.Duration:
		t.Fatalf("scale up %s after the last change (dwellUp %s): %+v", gap, p.DwellUp.Duration, d)
	case d.Replicas > d.Current && gap < p.SettleTime.Duration:
		t.Fatalf("panic %s after the last change (settleTime %s): %+v", gap, p.SettleTime.Duration, d)
	}
}
