package replay

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hsds-autoscaler/hsds-autoscaler/bench/trace"
)

// flash is a flat series of `base` with a triangle peak of height `peak` centred at bin `at`.
func flash(n int, base, peak float64, at, halfWidth int) []float64 {
	r := make([]float64, n)
	for i := range r {
		r[i] = base
		if d := math.Abs(float64(i - at)); d < float64(halfWidth) {
			r[i] = base + (peak-base)*(1-d/float64(halfWidth))
		}
	}
	return r
}

func TestFlashCrowd(t *testing.T) {
	tests := []struct {
		name  string
		rates []float64
		n     int
		want  int
	}{
		// Window of 20 bins: the peak must sit at bins 4..9 of the window, so at bin 50 the
		// best windows start at 41..46; the highest ratio (calm edges) is the earliest of them.
		{"single flash", flash(100, 1, 10, 50, 3), 20, 41},
		{"sharper of two", append(flash(60, 1, 5, 30, 3), flash(60, 1, 9, 30, 3)...), 20, 81},
		{"flat: clamp to start", flash(30, 2, 2, 0, 0), 10, 0},
		{"window as long as the series", flash(10, 1, 5, 5, 2), 10, 0},
		{"peak too early for any window", flash(40, 1, 9, 0, 2), 20, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FlashCrowd(tt.rates, tt.n); got != tt.want {
				t.Errorf("FlashCrowd = %d, want %d", got, tt.want)
			}
		})
	}
}

func series() trace.Series {
	return trace.Series{Name: "t", Step: 60, Rates: flash(600, 10, 100, 300, 20)}
}

func TestNewPlanAuto(t *testing.T) {
	p, err := NewPlan(series(), Params{Duration: 3 * time.Minute, Compression: 60, PeakRPS: 40, Start: -1})
	if err != nil {
		t.Fatal(err)
	}
	// 3 min x 60 = 180 trace minutes = 180 bins of 60 s, replayed 1 bin per second.
	got := struct {
		Bins        int
		Step, Scale float64
		Peak        float64
		Auto        bool
	}{len(p.Series.Rates), p.Series.Step, p.Scale, p.Series.Peak(), p.Auto}
	want := got
	want.Bins, want.Step, want.Scale, want.Peak, want.Auto = 180, 1, 0.4, 40, true
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	peakAt := float64(argmax(p.Series.Rates)) / float64(len(p.Series.Rates))
	if peakAt < PeakFromFraction || peakAt > PeakToFraction {
		t.Errorf("peak at %.2f of the slice, want in [%g, %g]", peakAt, PeakFromFraction, PeakToFraction)
	}
	if got := p.Rate(time.Duration(argmax(p.Series.Rates)) * time.Second); got != 40 {
		t.Errorf("Rate at the peak = %g, want 40", got)
	}
	if got := p.Rate(200 * time.Second); got != 0 {
		t.Errorf("Rate after the slice = %g, want 0", got)
	}
}

func TestNewPlanExplicitStart(t *testing.T) {
	p, err := NewPlan(series(), Params{Duration: time.Minute, Compression: 60, PeakRPS: 20, Start: 3600})
	if err != nil {
		t.Fatal(err)
	}
	if p.Start != 3600 || p.Span != 3600 || p.Auto || p.Scale != 2 {
		t.Errorf("plan start %g span %g auto %v scale %g, want 3600 3600 false 2", p.Start, p.Span, p.Auto, p.Scale)
	}
	want := "trace t, slice t=d0+01:00..d0+02:00 (chosen), 60x time compression, scale x2 (peak 20.0 req/s, mean 20.0 req/s)"
	if got := p.Describe(); got != want {
		t.Errorf("Describe:\n got %s\nwant %s", got, want)
	}
}

func TestNewPlanErrors(t *testing.T) {
	tests := []struct {
		name string
		p    Params
		want []string
	}{
		{"all params bad at once", Params{Duration: 0, Compression: 0.5, PeakRPS: -1, Start: math.NaN()},
			[]string{"duration 0s", "compression 0.5", "peak rate -1", "start: must be a number"}},
		{"slice longer than trace", Params{Duration: time.Hour, Compression: 60, PeakRPS: 1, Start: -1},
			[]string{"longer than trace t"}},
		{"slice past the end", Params{Duration: time.Minute, Compression: 60, PeakRPS: 1, Start: 599 * 60},
			[]string{"runs past the end"}},
		{"fewer than 2 bins", Params{Duration: time.Second, Compression: 1, PeakRPS: 1, Start: 0},
			[]string{"fewer than 2 bins"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewPlan(series(), tt.p)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestNewPlanEmptySlice(t *testing.T) {
	s := trace.Series{Name: "zero", Step: 60, Rates: make([]float64, 100)}
	_, err := NewPlan(s, Params{Duration: time.Minute, Compression: 60, PeakRPS: 1, Start: 0})
	if err == nil || !strings.Contains(err.Error(), "no requests") {
		t.Errorf("err = %v, want 'no requests'", err)
	}
}

func BenchmarkFlashCrowd(b *testing.B) {
	rates := flash(30240, 300, 3000, 5000, 30)
	for b.Loop() {
		FlashCrowd(rates, 180)
	}
}
