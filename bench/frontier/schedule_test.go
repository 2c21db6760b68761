package frontier

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

func TestEmit(t *testing.T) {
	vm := Timing{Lead: 1, NodeLead: 2, PodsPerNode: 2, MinNodes: 1, InitialNodes: 1, RemoveAfter: 60}
	tests := []struct {
		name   string
		levels []int32
		t      Timing
		want   []int32
	}{
		{"ordered lead ahead", []int32{1, 1, 1, 3, 3}, Timing{Lead: 2}, []int32{1, 3, 3, 3, 3}},
		{"down at once", []int32{3, 3, 1, 1}, Timing{Lead: 2}, []int32{3, 3, 1, 1}},
		{"short dip kept", []int32{3, 1, 3, 3}, Timing{Lead: 2}, []int32{3, 3, 3, 3}},
		// 2 pods fit on the initial VM: start-up lead only.
		{"fits", []int32{1, 1, 1, 1, 2}, vm, []int32{1, 1, 1, 2, 2}},
		// 4 pods need a second VM: ordered Lead + NodeLead ahead, kept until needed.
		{"needs a VM", []int32{1, 1, 1, 1, 4}, vm, []int32{1, 4, 4, 4, 4}},
		// The VM bought for the first burst is still there for the second: start-up lead again.
		{"kept VM", []int32{4, 1, 1, 1, 1, 4}, vm, []int32{4, 1, 1, 1, 4, 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Emit(tc.levels, tc.t)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// The frontier holds every fixed count from min to max and no DP schedule twice.
func TestSchedulesIncludeFixedCounts(t *testing.T) {
	p := small([][]float64{{5, 0}, {0, 0}}, []float64{2, 2}, 0)
	p.Max = 4
	for i := range p.Fail {
		p.Fail[i] = append(p.Fail[i], 0, 0)
	}
	got, err := Schedules(p, Timing{}, []float64{0.1, 0.2, 100})
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, s := range got {
		labels = append(labels, s.Label)
	}
	// λ 0.1 and 0.2 give the same schedule (1 pod): listed once.
	want := []string{"dp λ=0.1", "dp λ=100", "fixed 1", "fixed 2", "fixed 3", "fixed 4"}
	if diff := cmp.Diff(want, labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int32{3, 3}, got[4].Spec); diff != "" {
		t.Errorf("fixed 3 (-want +got):\n%s", diff)
	}
}

func TestRecommender(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := NewRecommender("dp", []int32{2, 5}, start, 15*time.Second)
	snap := heuristics.Snapshot{SpecReplicas: 3}
	for _, tc := range []struct {
		at    time.Duration
		valid bool
		want  int32
	}{{-time.Second, false, 3}, {0, true, 2}, {16 * time.Second, true, 5}, {time.Hour, true, 5}} {
		snap.Time = start.Add(tc.at)
		d := r.Recommend(snap)
		if d.Valid != tc.valid || d.Replicas != tc.want {
			t.Errorf("at %v: %+v, want valid %v, %d", tc.at, d, tc.valid, tc.want)
		}
	}
	if r.Name() != "dp" {
		t.Errorf("name %q", r.Name())
	}
}

func TestDistance(t *testing.T) {
	front := []Point{{"a", 0.10, 100}, {"b", 0.01, 300}, {"c", 0.001, 900}}
	if p, ok := CheapestNoWorse(front, 0.02); !ok || p.Label != "b" {
		t.Errorf("cheapest failing <= 2%%: %+v %v, want b", p, ok)
	}
	if _, ok := CheapestNoWorse(front, 0.0001); ok {
		t.Errorf("nothing fails <= 0.01%%: found one")
	}
	if p, ok := BestNoCostlier(front, 500); !ok || p.Label != "b" {
		t.Errorf("best at <= 500 pod-s: %+v %v, want b", p, ok)
	}
	// More failure budget, no more cost.
	last := 1e18
	for _, f := range []float64{0.001, 0.005, 0.01, 0.05, 0.1, 1} {
		p, _ := CheapestNoWorse(front, f)
		if p.PodSeconds > last {
			t.Errorf("budget %g: %g pod-s, more than %g at a smaller budget", f, p.PodSeconds, last)
		}
		last = p.PodSeconds
	}
}
