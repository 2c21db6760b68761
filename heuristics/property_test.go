package heuristics_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics/internal/snapshots"
)

// TestHSDSProperties runs seeded random sequences through an envelope that plays the scaler
// (snapshots.Envelope), applying every decision clamped to the bounds as the scaler's bounds
// guard would, and checks the policy's own invariants: a decision from inside the bounds stays
// inside them, dwell times between changes (a withdrawal of unscheduled pods has none, and removes
// no other pod), an invalid snapshot is an invalid decision. The
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
	case d.Reason == heuristics.CodeWithdraw:
		// Giving back pods that wait for a node is no rescale of HSDS, so it has no dwell time;
		// it may remove those pods and no others.
		unscheduled := 0
		for _, pod := range snap.Pods {
			if pod.Phase == heuristics.PodPending && !pod.Scheduled {
				unscheduled++
			}
		}
		if d.Replicas > d.Current || d.Replicas < d.Current-int32(unscheduled) {
			t.Fatalf("withdrawal from %d to %d with %d unscheduled pods: %+v", d.Current, d.Replicas, unscheduled, d)
		}
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
		// Every pod has an in-flight figure here: the floor is utilization. Take some figures
		// away (0.9.x: no gated request within --in-flight-max-age): the floor never rises
		// above utilization nor below 0, and the figured pods are among the capacity pods.
		if want.UtilizationOK && math.Abs(want.UtilizationFloor-want.Utilization) > 1e-12 {
			t.Fatalf("every pod with a figure, yet floor %v != utilization %v", want.UtilizationFloor, want.Utilization)
		}
		partial := spoiled
		partial.Pods = append([]heuristics.PodSample(nil), snap.Pods...)
		for k := range partial.Pods {
			if r.IntN(3) == 0 {
				partial.Pods[k].NoInFlight, partial.Pods[k].InFlight = true, 0
			}
		}
		s := heuristics.Measure(partial, p)
		if s.UtilizationOK && (s.UtilizationFloor < 0 || s.UtilizationFloor > s.Utilization+1e-12) || s.Figured > s.Capacity {
			t.Fatalf("figures taken away: floor %v, utilization %v (ok %t), figured %d of %d capacity pods",
				s.UtilizationFloor, s.Utilization, s.UtilizationOK, s.Figured, s.Capacity)
		}
	}
}

// TestHSDSCapacityFloorUnderIdleKeepAlive: idle keep-alive connections (each an SN task, HSDS
// counts them; docs/hsds.md) hold a random share of every pod's gate while the pods serve little,
// unevenly and without overload, on any number of pods (1-30), limits 10-200, for up to two
// hours, with or without fan-out. The property, per snapshot:
//
//   - the learned c1 is never below the stated floor (limit - backgroundTasks) /
//     maxRequestTaskTime (3.27 req/s at the default limit 100 and 30 s);
//   - a c1 learned before stays within [min(c1 before, floor), max(c1 before, true capacity)]
//     (true capacity: net limit / the requests' own task-time): idle tasks can never pull it
//     further down than the floor, i.e. by more than a factor c1 before / floor; and when every
//     snapshot's idle tasks dominate (implied task-time above the bound) it does not move at all.
func TestHSDSCapacityFloorUnderIdleKeepAlive(t *testing.T) {
	for seed := uint64(1); seed <= 60; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 13))
			p := heuristics.DefaultPolicy()
			if seed%3 == 0 {
				p.FanoutShare = 0.1 * r.Float64()
			}
			pods := 1 + r.IntN(30)
			limit := float64(10 + r.IntN(191))
			net := limit - p.BackgroundTasks
			floor := net / p.MaxRequestTaskTime.Seconds()
			w := 0.05 + 4.95*r.Float64() // the requests' own task-seconds: true capacity net / w
			trueCap := net / w
			onlyIdle := seed%2 == 0 // served so little that no snapshot implies <= maxRequestTaskTime
			before := 0.0
			h, err := heuristics.NewHSDS(p)
			if err != nil {
				t.Fatal(err)
			}
			if seed%4 < 2 {
				before = floor * (1 + 9*r.Float64())
				if err := h.Restore(heuristics.Learned{PodCapacity: before, At: snapshots.T0}); err != nil {
					t.Fatal(err)
				}
			}
			idle := make([]float64, pods) // idle connections per pod, drifting
			for i := range idle {
				idle[i] = net * r.Float64()
			}
			env := snapshots.NewEnvelope(1, 30)
			now := snapshots.T0
			end := now.Add(time.Duration(10+r.IntN(110)) * time.Minute)
			for now.Before(end) {
				now = now.Add(time.Duration(1+r.IntN(20)) * time.Second)
				snap := heuristics.Snapshot{Time: now, SpecReplicas: int32(pods), StatusReplicas: int32(pods)}
				for i := range idle {
					idle[i] = min(net, max(0, idle[i]+net*0.05*r.NormFloat64()))
					rate := r.Float64() * (net - idle[i]) / w // what fits beside the idle tasks
					if onlyIdle {
						// served so low that even the least utilization a sample needs
						// (capacityLearnUtilization) implies more than maxRequestTaskTime
						rate = r.Float64() * 0.99 * p.CapacityLearnUtilization * floor
					}
					inFlight := p.BackgroundTasks + min(net, idle[i]+rate*w)
					snap.Pods = append(snap.Pods, snapshots.ReadyPod(i, snapshots.Load{InFlight: inFlight, Limit: limit, Rate: rate}, now))
				}
				h.Recommend(env.Fill(snap))
				l, ok := h.Learned()
				if !ok {
					continue
				}
				c1 := l.PodCapacity
				lo, hi := floor, max(before, trueCap*fanoutDivisorAt(p.FanoutShare, pods))
				if before > 0 {
					lo = min(before, floor)
				}
				if c1 < lo*(1-1e-9) || c1 > hi*(1+1e-9) {
					t.Fatalf("%s: c1 %.3f outside [%.3f, %.3f] (before %.3f, floor %.3f, %d pods, limit %g)",
						now.Sub(snapshots.T0), c1, lo, hi, before, floor, pods, limit)
				}
				if onlyIdle && before > 0 && math.Abs(c1-before) > 1e-9*before {
					t.Fatalf("%s: idle tasks only, yet c1 moved %.3f -> %.3f", now.Sub(snapshots.T0), before, c1)
				}
			}
		})
	}
}

func fanoutDivisorAt(f float64, n int) float64 { return 1 - f + f*float64(n) }
