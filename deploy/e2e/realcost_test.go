//go:build e2e

package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/fakehsds"
	"github.com/hsds-autoscaler/hsds-autoscaler/bench/sim"
)

// costLoad is the load of TestRealRescaleCostMatchesPreset: two or three real pods serve it
// without a 503 (one pod serves 40-80 requests/s of the mix: realscaler_test.go).
const costLoad = 40.0

// TestRealRescaleCostMatchesPreset holds the simulator's default rescale preset ("kubernetes" in
// bench/sim, the figures the bench's tables are made with) against real HSDS 0.9.4 pods in
// Kubernetes mode without a preStop sleep, as TestRealRescaleHeadNode holds "head" (and with it
// the fake HSDS's scale-down jam, fakehsds.MeasuredKube094, which must equal the preset): the test
// itself scales a Deployment of real pods 2 -> 3 -> 2 -> 3 -> 2 under a steady load (no scaler)
// and measures each change as the preset models it.
//   - Scale-down (preset Down: a gate jam of MinSeconds-MaxSeconds on each remaining SN with chance
//     GateJamFraction, KeyErrorFraction 500s): a jam is a run of seconds in which most attempts are
//     503s; its end (from the change) must fall in [0.6 x MinSeconds, 1.5 x MaxSeconds], most of
//     its attempts must be 503s, and the agents must export them as overload (the simulated
//     agents do); 500s at most 10x the preset's share. At least one of the two scale-downs jams
//     (the preset says 9 in 10; none of two has chance 0.01).
//   - Scale-up (preset Up: 10-12 s at KeyErrorFraction 500s, a jam on GateJamFraction of the SNs):
//     the cost is over within the preset's window: no second in which most attempts failed ends
//     later than 1.5 x MaxSeconds after the change. How much of the window is lost varies more
//     than two samples can test against a mean (503 shares measured here: 0.22, 0.26, 0.03, 0,
//     0.05-0.15, and on loaded machines 0.70 and 0.90, a whole-cluster jam of ~11 s; the preset's
//     mean ~0.15 of the SNs); the shares are logged for docs/hsds.md.
//
// What clients saw per second around each change is logged for docs/hsds.md.
func TestRealRescaleCostMatchesPreset(t *testing.T) {
	ctx := testContext(t, 8*time.Minute)
	const ns = "e2e-real-cost"
	preset, err := sim.RescalePreset("kubernetes")
	if err != nil {
		t.Fatal(err)
	}
	// The fake HSDS's measured Kubernetes-mode jam (fakehsds.MeasuredKube094) is the same model:
	// what this test holds against real pods holds for both.
	if fk := fakehsds.MeasuredKube094(); fk.GateJamChance != preset.Down.GateJamFraction ||
		fk.GateJamMin.Seconds() != preset.Down.MinSeconds || fk.GateJamMax.Seconds() != preset.Down.MaxSeconds {
		t.Fatalf("fakehsds.MeasuredKube094 jam %g %v-%v, the simulator's %+v: keep them equal", fk.GateJamChance, fk.GateJamMin, fk.GateJamMax, preset.Down)
	}
	w := newRealWorkload(ctx, t, ns, "hsdsj", "10.77.26.0/24", 2, nil)
	l := startRealLoad(t, w.kubelet, w.domains, costLoad)
	t0 := time.Now()
	time.Sleep(10 * time.Second)
	if as := l.between(t0.Add(5*time.Second), time.Now()); count(as, http.StatusOK) < len(as)*9/10 {
		t.Fatalf("2 pods do not serve %g req/s before any change: %s", costLoad, formatCodes(codes(as)))
	}

	jams := 0
	for i, n := range []int{3, 2, 3, 2} {
		if i > 0 {
			// The last jam's tail (requests still hanging on the departed DN) must not count as
			// this change's cost: wait for 3 s of clean serving first (once, on a loaded machine,
			// the scale-up after a jam started while a third of the attempts still failed).
			if !l.waitClean(ctx, 3*time.Second, 60*time.Second) {
				t.Fatalf("change %d: clients not served cleanly for 3 s within 60 s of the last change", i+1)
			}
		}
		at := time.Now()
		scaleTo(ctx, t, ns, n)
		if n == 3 {
			waitConverged(ctx, t, w.kubelet, 3)
			time.Sleep(time.Until(at.Add(time.Duration(preset.Up.MaxSeconds*float64(time.Second)) + 3*time.Second)))
			in := l.between(at, at.Add(time.Duration(preset.Up.MaxSeconds*float64(time.Second))))
			share := float64(count(in, http.StatusInternalServerError)) / float64(max(1, len(in)))
			s503 := float64(count(in, http.StatusServiceUnavailable)) / float64(max(1, len(in)))
			t.Logf("change %d: 2 -> 3 at t+%.1fs: first %gs: clients %s (500 share %.3f, preset %g; 503 share %.3f, preset's jam %g of SNs); agents %s\n%s",
				i+1, at.Sub(t0).Seconds(), preset.Up.MaxSeconds, formatCodes(codes(in)), share, preset.Up.KeyErrorFraction, s503,
				preset.Up.GateJamFraction, w.agents.deltas(at, time.Now()), l.perSecond(t0, at.Add(-2*time.Second), time.Now()))
			if len(in) == 0 {
				t.Fatalf("scale-up %d: no attempts in the %gs after it", i+1, preset.Up.MaxSeconds)
			}
			// The cost's end: the end of the last second in which most attempts failed.
			end, served := l.waitServed(ctx, 60*time.Second)
			if !served {
				t.Fatalf("scale-up %d: clients not served again %.0fs after it", i+1, end.Sub(at).Seconds())
			}
			costEnd := l.lastBad(at, end, func(as []attempt) bool { return 2*count(as, http.StatusOK) < len(as) })
			if costEnd.IsZero() {
				costEnd = at
			}
			t.Logf("scale-up %d: errors over by %.0fs after the change (preset %g-%gs)", i+1, costEnd.Sub(at).Seconds(), preset.Up.MinSeconds, preset.Up.MaxSeconds)
			if costEnd.Sub(at).Seconds() > 1.5*preset.Up.MaxSeconds {
				t.Errorf("scale-up %d: most attempts failed until %.0fs after the change, want within %.0f s (1.5 x the preset's %g s)",
					i+1, costEnd.Sub(at).Seconds(), 1.5*preset.Up.MaxSeconds, preset.Up.MaxSeconds)
			}
			continue
		}
		time.Sleep(3 * time.Second) // a jam builds as requests to the departed DN hang
		end, served := l.waitServed(ctx, 90*time.Second)
		if !served {
			t.Fatalf("scale-down %d: clients not served again %.0fs after it", i+1, end.Sub(at).Seconds())
		}
		time.Sleep(2 * time.Second)
		// The jam: from the change to the end of the last second in which most attempts were 503s.
		jamEnd := l.lastBad(at, end, func(as []attempt) bool { return 2*count(as, http.StatusServiceUnavailable) > len(as) })
		window := l.between(at, at.Add(time.Duration(preset.Down.MaxSeconds*float64(time.Second))))
		e500 := float64(count(window, http.StatusInternalServerError)) / float64(max(1, len(window)))
		t.Logf("change %d: 3 -> 2 at t+%.1fs, served again %.1fs later: clients %s; agents %s\n%s", i+1, at.Sub(t0).Seconds(), end.Sub(at).Seconds(),
			formatCodes(codes(l.between(at, end))), w.agents.deltas(at, end), l.perSecond(t0, at.Add(-2*time.Second), end.Add(2*time.Second)))
		if e500 > 10*preset.Down.KeyErrorFraction {
			t.Errorf("scale-down %d: 500 share %.3f over the preset's %gs, want <= %g (10 x the preset's %g)", i+1, e500,
				preset.Down.MaxSeconds, 10*preset.Down.KeyErrorFraction, preset.Down.KeyErrorFraction)
		}
		if jamEnd.IsZero() {
			t.Logf("scale-down %d: no jam (the preset's 1 in 10)", i+1)
			continue
		}
		length := jamEnd.Sub(at).Seconds()
		if length < 0.6*preset.Down.MinSeconds {
			// Seen once in three runs on 2026-12-05 (7 s): the hung requests were let go early.
			// The preset has no short jams; at least one scale-down must show the full one.
			t.Logf("scale-down %d: a short jam of %.0fs (preset %g-%gs), not counted", i+1, length, preset.Down.MinSeconds, preset.Down.MaxSeconds)
			continue
		}
		jams++
		jam := l.between(at.Add(2*time.Second), jamEnd.Add(-time.Second))
		share := float64(count(jam, http.StatusServiceUnavailable)) / float64(max(1, len(jam)))
		overload := w.agents.delta("503/overload", at, jamEnd)
		t.Logf("scale-down %d: jam %.0fs (preset %g-%gs), 503 share %.2f of %d attempts, agents' overload 503s %g of the clients' %d", i+1, length,
			preset.Down.MinSeconds, preset.Down.MaxSeconds, share, len(jam), overload, count(l.between(at, jamEnd), http.StatusServiceUnavailable))
		if length > 1.5*preset.Down.MaxSeconds {
			t.Errorf("scale-down %d: jam of %.0fs, want at most %.0f s (the preset's %g-%g s)", i+1, length,
				1.5*preset.Down.MaxSeconds, preset.Down.MinSeconds, preset.Down.MaxSeconds)
		}
		if share < 0.8 {
			t.Errorf("scale-down %d: 503 share %.2f during the jam, want >= 0.8 (the preset sheds everything)", i+1, share)
		}
		if c503 := float64(count(l.between(at, jamEnd), http.StatusServiceUnavailable)); overload < 0.8*c503 {
			t.Errorf("scale-down %d: the agents exported %g overload 503s of the clients' %g, want >= 80 %% (the jam is the gate's)", i+1, overload, c503)
		}
	}
	if jams == 0 {
		t.Errorf("neither scale-down jammed the gates for the preset's time; the preset jams each SN with chance %g (measured: 8 of 9 scale-downs jammed)",
			preset.Down.GateJamFraction)
	}
}
