package baseline

import (
	"fmt"
	"math"
	"sort"
	"testing"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics/internal/snapshots"
)

// samples builds a series from (second, value) pairs; a NaN value is a staleness marker.
func samples(pairs ...float64) []promSample {
	var out []promSample
	for i := 0; i+1 < len(pairs); i += 2 {
		if math.IsNaN(pairs[i+1]) {
			out = append(out, promSample{t: snapshots.At(pairs[i]), stale: true})
			continue
		}
		out = append(out, promSample{t: snapshots.At(pairs[i]), v: pairs[i+1]})
	}
	return out
}

// TestRangeRate pins rate(x[2m]) evaluated at t=120 s on hand-computed cases: the range
// selection (left-open, staleness markers and later samples dropped) and Prometheus'
// extrapolation.
func TestRangeRate(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name   string
		in     []promSample
		want   float64
		wantOK bool
	}{
		// 90 over 10..100; start gap 10 and end gap 20 are both < 1.1 x 30: extrapolated to
		// both edges; zero point 100/90 x 90 = 100 s back, not shorter. 90 x 120/90 / 120 = 1.
		{"both edges extrapolated", samples(10, 100, 40, 130, 70, 160, 100, 190), 1, true},
		// avg 10, threshold 11; start gap 50 and end gap 50 -> 5 each: 20 x (20+5+5)/20 / 120.
		{"both edges beyond 1.1 intervals: half an interval", samples(50, 10, 60, 20, 70, 30), 0.25, true},
		// Start gap 40 >= 33 -> 15; zero point 60 x 5/60 = 5 s back < 15 -> 5; end gap 20:
		// 60 x (60+5+20)/60 / 120.
		{"zero-point clamp", samples(40, 5, 70, 35, 100, 65), 85.0 / 120, true},
		// 50, 80, reset, 10, 40: increase 40-50+80 = 70; gaps 10 and 20: 70 x 120/90 / 120.
		{"counter reset", samples(10, 50, 40, 80, 70, 10, 100, 40), 70.0 / 90, true},
		// The sample at exactly 120 s before is out of the range (left-open, Prometheus 3):
		// 90 over 30..120, start gap 30 < 33: 90 x 120/90 / 120 = 1 (with it: 0.75).
		{"left-open range", samples(0, 100, 30, 100, 60, 130, 90, 160, 120, 190), 1, true},
		// A staleness marker is skipped, a sample after the evaluation time ignored.
		{"stale marker and a later sample", samples(10, 100, 40, 130, 55, nan, 70, 160, 100, 190, 130, 999), 1, true},
		{"one sample: no value", samples(100, 5), 0, false},
		{"no sample: no value", nil, 0, false},
		{"one sample and a marker: no value", samples(90, 5, 100, nan), 0, false},
	}
	for _, tc := range tests {
		got, ok := rangeRate(tc.in, snapshots.At(120), 2*time.Minute)
		if ok != tc.wantOK || math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: got %v, %v; want %v, %v", tc.name, got, ok, tc.want, tc.wantOK)
		}
	}
}

// exposed is a pod whose raw 503 counter is c at now.
func exposed(name string, c float64, now time.Time) heuristics.PodSample {
	p := snapshots.ReadyPod(0, snapshots.Load{Limit: 100}, now)
	p.Name = name
	p.Exposed = heuristics.Exposition{Time: now, Rejected503: heuristics.ByCause{Overload: c}, HasInFlight: true, Limit: 100}
	return p
}

// TestPrometheusScrapes pins the scrape schedule: each pod at its own phase (hsds-0 at :10 and
// :40, FNV-1a), from the first call, a failed scrape leaves a staleness marker, and a departed
// pod's samples stay in an unfiltered sum(rate()) until they leave the range.
func TestPrometheusScrapes(t *testing.T) {
	if o := scrapeOffset("hsds-0", 30*time.Second); o != 10*time.Second {
		t.Fatalf("scrapeOffset(hsds-0) = %v, want 10s", o)
	}
	p := newPrometheus(30*time.Second, 150*time.Second, time.Minute, total503)
	for s := 0; s <= 100; s++ {
		now := snapshots.At(float64(s))
		snap := heuristics.Snapshot{Time: now, Pods: []heuristics.PodSample{exposed("hsds-0", float64(s), now)}}
		if s == 70 {
			snap.Pods[0].Exposed = heuristics.Exposition{} // no figures at this scrape: failed
		}
		p.scrape(snap, now)
	}
	var got []string
	for _, x := range p.series["hsds-0"].samples {
		got = append(got, fmt.Sprintf("%g:%v:%v", x.t.Sub(snapshots.T0).Seconds(), x.v, x.stale))
	}
	if want := "[10:10:false 40:40:false 70:0:true 100:100:false]"; fmt.Sprint(got) != want {
		t.Errorf("samples %v, want %s", got, want)
	}
	// rate at 100: 10, 40, 100 in (-20, 100] (the marker skipped): 90 over 90 s, avg 45; start
	// gap 30 < 49.5 but the zero point is 10 s back: 10; end gap 0: 90 x 100/90 / 120.
	if r, ok := p.rate("hsds-0", snapshots.At(100), 2*time.Minute); !ok || math.Abs(r-100.0/120) > 1e-9 {
		t.Errorf("rate at 100 = %v, %v; want %v", r, ok, 100.0/120)
	}
	// The pod leaves at 101: a marker, but its samples still count in sum(rate()) at 150
	// (40, 100 in (30, 150]) and no more at 221 (none in (101, 221]); the series is dropped
	// once its last sample is older than the retention (150 s).
	for s := 101; s <= 251; s++ {
		p.scrape(heuristics.Snapshot{Time: snapshots.At(float64(s))}, snapshots.At(float64(s)))
		switch s {
		case 150:
			if r, ok := p.sumRate(snapshots.At(150), 2*time.Minute); !ok || r <= 0 {
				t.Errorf("sum(rate()) at 150 = %v, %v; want the departed pod's rate", r, ok)
			}
		case 221:
			if _, ok := p.sumRate(snapshots.At(221), 2*time.Minute); ok {
				t.Errorf("sum(rate()) at 221 still has a value")
			}
		}
	}
	if len(p.series) != 0 {
		t.Errorf("departed series kept past retention: %d", len(p.series))
	}
}

// stepRun drives the HPA recipe (bounds [2, 10], called every second) through a step at step
// seconds from no 503s to 5/s (5x the target of 1) on each of the two original pods, pods added
// by the HPA serving at once without 503s. It returns the seconds from the step to the first
// replica change and to 10 replicas (-1: never within 400 s).
func stepRun(t *testing.T, step float64) (first, ten float64) {
	t.Helper()
	c := DefaultHPAConfig()
	c.MinReplicas, c.MaxReplicas = 2, 10
	h, err := NewHPA(c)
	if err != nil {
		t.Fatal(err)
	}
	spec := int32(2)
	first, ten = -1, -1
	for s := 0.0; s <= step+400 && ten < 0; s++ {
		now := snapshots.At(s)
		snap := heuristics.Snapshot{Time: now, SpecReplicas: spec, StatusReplicas: spec}
		for i := range int(spec) {
			c := 0.0
			if i < 2 {
				c = 5 * max(0, s-step)
			}
			snap.Pods = append(snap.Pods, exposed(fmt.Sprintf("hsds-%d", i), c, now))
		}
		d := h.Recommend(snap)
		if !d.Valid || d.Replicas == spec {
			continue
		}
		if s < step {
			t.Fatalf("step at %v: change to %d before the step (t=%v): %s", step, d.Replicas, s, d.Message)
		}
		spec = d.Replicas
		if first < 0 {
			first = s - step
		}
		if spec == 10 {
			ten = s - step
		}
	}
	return first, ten
}

// TestHPARecipeStepTiming replays the step the upstream recipe was timed on with a real control
// plane (issue 12: 2 pods, a step to 5x the target 503 rate; first replica change 35-41 s after
// the step, 10 replicas after about 131 s), at every phase of the step against the 30 s scrape
// and 15 s sync grids. docs/bench.md reports the figures.
func TestHPARecipeStepTiming(t *testing.T) {
	var firsts, tens []float64
	var pairs [][3]float64
	for phase := 0.0; phase < 30; phase++ {
		f, ten := stepRun(t, 300+phase)
		if f < 0 || ten < 0 {
			t.Fatalf("phase %v: first change %v s, 10 replicas %v s", phase, f, ten)
		}
		firsts, tens = append(firsts, f), append(tens, ten)
		pairs = append(pairs, [3]float64{phase, f, ten})
	}
	sort.Float64s(firsts)
	sort.Float64s(tens)
	med := func(x []float64) float64 { return (x[len(x)/2-1] + x[len(x)/2]) / 2 }
	t.Logf("first change: %v..%v s (median %v); 10 replicas: %v..%v s (median %v)",
		firsts[0], firsts[len(firsts)-1], med(firsts), tens[0], tens[len(tens)-1], med(tens))
	// The emulation's envelope over the 30 phases (pinned: a change to the feed shows here).
	if firsts[0] != 30 || firsts[len(firsts)-1] != 56 || tens[0] != 109 || tens[len(tens)-1] != 133 {
		t.Errorf("envelope changed: first %v..%v s, 10 replicas %v..%v s; was 30..56 and 109..133",
			firsts[0], firsts[len(firsts)-1], tens[0], tens[len(tens)-1])
	}
	// The measured run is one phase: some phases must reproduce both of its figures.
	var match []float64
	for _, p := range pairs {
		if p[1] >= 35 && p[1] <= 41 && math.Abs(p[2]-131) <= 5 {
			match = append(match, p[0])
		}
	}
	t.Logf("phases reproducing 35-41 s and 131 +- 5 s: %v", match)
	if len(match) == 0 {
		t.Errorf("no phase reproduces the measured timing: %v", pairs)
	}
}
