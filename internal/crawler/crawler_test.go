package crawler

import (
	"testing"
	"time"
)

// Each item goes to the worker free first: draws 1, 2, 3 over two workers end at 4 (1 + 3); with
// as many workers as items the makespan is the largest draw.
func TestMakespan(t *testing.T) {
	for _, tc := range []struct {
		name    string
		workers int
		draws   []float64
		want    float64
	}{
		{"more items than workers", 2, []float64{1, 2, 3}, 4},
		{"one item per worker", 3, []float64{1, 5, 2}, 5},
		{"one worker", 1, []float64{1, 2, 3}, 6},
		{"no items", 2, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			i := 0
			next := func() float64 { i++; return tc.draws[i-1] }
			if got := Makespan(make([]float64, tc.workers), len(tc.draws), next); got != tc.want {
				t.Errorf("Makespan = %g, want %g", got, tc.want)
			}
		})
	}
	d := Makespan(make([]time.Duration, 2), 3, func() time.Duration { return time.Second })
	if d != 2*time.Second {
		t.Errorf("durations: %s, want 2s", d)
	}
}
