package store

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// pts builds points at the given second offsets with the given responses and overload 503s.
func pts(secs []float64, resp []float64, over []float64) []point {
	out := make([]point, len(secs))
	for i := range secs {
		out[i] = point{t: t0.Add(time.Duration(secs[i] * float64(time.Second))), responses: resp[i]}
		out[i].rejected[0] = over[i]
	}
	return out
}

func TestWindowRates(t *testing.T) {
	tests := []struct {
		name   string
		pts    []point
		window time.Duration
		want   Rates
		wantOK bool
	}{
		{
			name:   "steady 10/s over 30s",
			pts:    pts([]float64{0, 10, 20, 30}, []float64{0, 100, 200, 300}, []float64{0, 10, 20, 30}),
			window: 30 * time.Second, wantOK: true,
			want: Rates{Requests: 10, Rejected: [3]float64{1, 0, 0}, Span: 30 * time.Second},
		},
		{
			name:   "window shorter than history uses only recent points",
			pts:    pts([]float64{0, 10, 20, 30}, []float64{0, 100, 400, 700}, []float64{0, 0, 0, 0}),
			window: 10 * time.Second, wantOK: true,
			want: Rates{Requests: 30, Span: 10 * time.Second},
		},
		{
			name:   "counter reset re-bases: no negative rate",
			pts:    pts([]float64{0, 10, 20}, []float64{1000, 1100, 50}, []float64{40, 50, 5}),
			window: 30 * time.Second, wantOK: true,
			// 100 before the reset, 50 after it, over 20 s.
			want: Rates{Requests: 7.5, Rejected: [3]float64{0.75, 0, 0}, Span: 20 * time.Second},
		},
		{
			name:   "missed scrapes stretch the interval to the real timestamps",
			pts:    pts([]float64{0, 1, 2, 9}, []float64{0, 10, 20, 90}, []float64{0, 0, 0, 7}),
			window: 5 * time.Second, wantOK: true,
			want: Rates{Requests: 10, Rejected: [3]float64{1, 0, 0}, Span: 7 * time.Second},
		},
		{
			name:   "a gap longer than twice the window is no rate",
			pts:    pts([]float64{0, 25}, []float64{0, 100}, []float64{0, 0}),
			window: 10 * time.Second,
		},
		{
			name:   "one point is no rate",
			pts:    pts([]float64{0}, []float64{5}, []float64{0}),
			window: 10 * time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := windowRates(tt.pts, tt.window, 2*tt.window)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("windowRates (-want +got):\n%s", diff)
			}
			if got.Requests < 0 || got.Rejected[0] < 0 {
				t.Errorf("negative rate %+v", got)
			}
		})
	}
}

func TestPrune(t *testing.T) {
	in := pts([]float64{0, 10, 20, 30, 40, 50}, make([]float64, 6), make([]float64, 6))
	got := prune(in, 25*time.Second)
	var secs []float64
	for _, p := range got {
		secs = append(secs, p.t.Sub(t0).Seconds())
	}
	// 30, 40, 50 are within 25 s of 50; 20 is kept as the one point before the window.
	if diff := cmp.Diff([]float64{20, 30, 40, 50}, secs); diff != "" {
		t.Errorf("prune (-want +got):\n%s", diff)
	}
}
