package heuristics_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics/internal/snapshots"
)

// TestHSDSProperties runs seeded random sequences through an envelope that plays the scaler
// (snapshots.Envelope), applying every decision clamped to the bounds as the scaler's bounds
// guard would, and checks the policy's own invariants: a decision from inside the bounds stays
// inside them, dwell times between changes, an invalid snapshot is an invalid decision. The
// envelope's invariants (bounds enforcement, stale data, settling, pending) are the scaler's and
// are checked on the controller's writes in scaler/property_test.go.
func TestHSDSProperties(t *testing.T) {
	changes := map[string]int{}
	defer func() {
		// The invariants mean something only if the sequences exercise every kind of change.
		for _, reason := range []string{heuristics.CodeOverload, heuristics.CodeUtilization, heuristics.CodeScaleDown, heuristics.CodePanic} {
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
			env := snapshots.NewEnvelope(2, int32(3+r.IntN(20)))
			if seed%2 == 0 {
				p.PodCapacity = 5 + 20*r.Float64()
			}
			h, err := heuristics.NewHSDS(p)
			if err != nil {
				t.Fatal(err)
			}
			spec := int32(1 + r.IntN(int(env.Max)+3)) // may start outside the bounds
			now, level := snapshots.T0, r.Float64()
			for i := 0; i < 1500; i++ {
				now = now.Add(time.Duration(1+r.IntN(20)) * time.Second)
				level = snapshots.Walk(r, level)
				snap := env.Fill(snapshots.Random(r, spec, now, level))
				if r.IntN(100) == 0 {
					bad := snap
					bad.Time = time.Time{}
					checkInvalid(t, h.Recommend(bad), bad)
				}
				d := h.Recommend(snap)
				checkHSDSDecision(t, p, snap, d)
				if to := min(max(d.Replicas, env.Min), env.Max); d.Valid && to != d.Current {
					changes[d.Reason]++
					env.Applied(to, now)
					spec = to
				}
			}
		})
	}
}

func checkInvalid(t *testing.T, d heuristics.Decision, snap heuristics.Snapshot) {
	t.Helper()
	if d.Valid || d.Replicas != snap.SpecReplicas || d.Reason != heuristics.CodeInvalid {
		t.Fatalf("snapshot without time: want an invalid decision for no change, got %+v", d)
	}
}

func checkHSDSDecision(t *testing.T, p heuristics.Policy, snap heuristics.Snapshot, d heuristics.Decision) {
	t.Helper()
	if d.Current != snap.SpecReplicas {
		t.Fatalf("Current %d != spec %d", d.Current, snap.SpecReplicas)
	}
	if d.Reason == "" || d.Message == "" {
		t.Fatalf("decision without reason or message: %+v", d)
	}
	if !d.Valid {
		if d.Replicas != d.Current {
			t.Fatalf("invalid decision recommends a change: %+v", d)
		}
		return
	}
	inside := d.Current >= snap.MinReplicas && d.Current <= snap.MaxReplicas
	if inside && (d.Replicas < snap.MinReplicas || d.Replicas > snap.MaxReplicas) {
		t.Fatalf("from %d inside the bounds, %d outside [%d, %d]: %+v", d.Current, d.Replicas, snap.MinReplicas, snap.MaxReplicas, d)
	}
	if d.Replicas == d.Current || snap.LastChange.IsZero() {
		return
	}
	gap := snap.Time.Sub(snap.LastChange)
	switch {
	case d.Replicas < d.Current && gap < p.DwellDown.Duration:
		t.Fatalf("scale down %s after the last change (dwellDown %s): %+v", gap, p.DwellDown.Duration, d)
	case d.Replicas > d.Current && d.Reason != heuristics.CodePanic && gap < p.DwellUp.Duration:
		t.Fatalf("scale up %s after the last change (dwellUp %s): %+v", gap, p.DwellUp.Duration, d)
	}
}

// TestMeasureProperties: signal filtering reads the envelope's flags and nothing else. While
// settling no 503 is overload; a pod that is not Fresh contributes no figure, whatever they are.
func TestMeasureProperties(t *testing.T) {
	p := heuristics.DefaultPolicy()
	env := snapshots.NewEnvelope(1, 30)
	r := rand.New(rand.NewPCG(3, 9))
	level := 1.0
	for i := 0; i < 3000; i++ {
		now := snapshots.At(float64(i))
		level = snapshots.Walk(r, level)
		snap := env.Fill(snapshots.Random(r, int32(1+r.IntN(20)), now, level))
		if snap.Settling = r.IntN(2) == 0; snap.Settling && heuristics.Measure(snap, p).Overloaded {
			t.Fatalf("settling, yet overloaded: %+v", heuristics.Measure(snap, p))
		}
		want := heuristics.Measure(snap, p)
		spoiled := snap
		spoiled.Pods = append([]heuristics.PodSample(nil), snap.Pods...)
		for k := range spoiled.Pods {
			if !spoiled.Pods[k].Fresh {
				spoiled.Pods[k].RequestRate, spoiled.Pods[k].InFlight = 1e6, 1e6
				spoiled.Pods[k].Rejected503 = heuristics.ByCause{Overload: 1e5}
			}
		}
		if got := heuristics.Measure(spoiled, p); got != want {
			t.Fatalf("a pod that is not Fresh changed the signals:\n%+v\n%+v", want, got)
		}
	}
}
