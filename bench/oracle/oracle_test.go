package oracle

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hsds-autoscaler/hsds-autoscaler/bench/trace"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

// perPod is a capacity model of c requests/s per pod, at least min pods.
type perPod struct {
	c   float64
	min int32
}

func (m perPod) ReplicasFor(rate float64) int32 { return max(m.min, int32(math.Ceil(rate/m.c))) }

func TestSchedule(t *testing.T) {
	m := perPod{c: 10, min: 1}
	vm := func(p Plan) Plan { p.PodsPerNode, p.MinNodes, p.InitialNodes, p.NodeRemove = 2, 1, 1, 600; return p }
	tests := []struct {
		name  string
		rates []float64 // 10 s bins
		plan  Plan
		want  []int32
	}{
		{"constant", []float64{25, 25, 25}, Plan{Step: 10, Duration: 30}, []int32{3, 3, 3}},
		{"scale up lead seconds early", []float64{5, 5, 5, 35, 35}, Plan{Step: 10, Duration: 50, Lead: 20, NodeLead: 20}, []int32{1, 4, 4, 4, 4}},
		{"short dip is held", []float64{30, 5, 30, 30}, Plan{Step: 10, Duration: 40, Hold: 20}, []int32{3, 3, 3, 3}},
		{"long dip scales down after hold", []float64{30, 5, 5, 5, 5}, Plan{Step: 10, Duration: 50, Hold: 20}, []int32{3, 3, 3, 1, 1}},
		// A busy bin inside a quiet step is shed by the gate: the step needs its peak.
		{"step takes the peak of finer bins", []float64{0, 40, 0, 0}, Plan{Step: 20, Duration: 40}, []int32{4, 1}},
		{"past the trace end", []float64{15}, Plan{Step: 10, Duration: 30}, []int32{2, 1, 1}},
		// Pods that fit on the VM at hand are ordered Lead ahead.
		{"fits: start-up lead", []float64{5, 5, 5, 5, 15}, vm(Plan{Step: 10, Duration: 50, Lead: 10, NodeLead: 30}), []int32{1, 1, 1, 2, 2}},
		// 4 pods need a second VM (2 per VM): ordered NodeLead ahead.
		{"needs a VM: node lead", []float64{5, 5, 5, 5, 35}, vm(Plan{Step: 10, Duration: 50, Lead: 10, NodeLead: 30}), []int32{1, 4, 4, 4, 4}},
		// The VM bought for the first burst is kept NodeRemove seconds: the second burst fits.
		{"kept VM: start-up lead again", []float64{35, 5, 5, 5, 5, 35}, vm(Plan{Step: 10, Duration: 60, Lead: 10, NodeLead: 30}), []int32{4, 1, 1, 1, 4, 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := trace.Series{Step: 10, Rates: tc.rates}
			got, err := Schedule(s, m, tc.plan)
			if err != nil {
				t.Fatalf("Schedule: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// On random small traces the schedule is minimal and clairvoyant: at every step it covers the
// need of every step within the lead, and with no hold and no VM limit it is exactly that maximum.
func TestScheduleCoversLead(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	m := perPod{c: 7, min: 2}
	for range 200 {
		n := 1 + r.IntN(30)
		rates := make([]float64, n)
		for i := range rates {
			rates[i] = r.Float64() * 100
		}
		lead := float64(r.IntN(5)) * 10
		got, err := Schedule(trace.Series{Step: 10, Rates: rates}, m, Plan{Step: 10, Duration: float64(n) * 10, Lead: lead, NodeLead: lead})
		if err != nil {
			t.Fatalf("Schedule: %v", err)
		}
		for i := range got {
			want := int32(0)
			for j := i; j < n && float64(j-i)*10 <= lead; j++ {
				want = max(want, m.ReplicasFor(rates[j]))
			}
			if got[i] != want {
				t.Fatalf("rates %v lead %g: step %d = %d, want %d", rates, lead, i, got[i], want)
			}
		}
	}
}

func TestScheduleErrors(t *testing.T) {
	m := perPod{c: 1, min: 1}
	if _, err := Schedule(trace.Series{Step: 1}, m, Plan{Step: 1, Duration: 10}); err == nil {
		t.Errorf("empty series: no error")
	}
	if _, err := Schedule(trace.Series{Step: 1, Rates: []float64{1}}, m, Plan{Step: 0, Duration: 10, Lead: -1}); err == nil {
		t.Errorf("zero step, negative lead: no error")
	}
	if _, err := Schedule(trace.Series{Step: 1, Rates: []float64{1}}, m, Plan{Step: 1, Duration: 10, Lead: 20, NodeLead: 10}); err == nil {
		t.Errorf("node lead below lead: no error")
	}
}

func TestRecommender(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := NewRecommender([]int32{2, 5, 3}, start, 15*time.Second)
	snap := heuristics.Snapshot{SpecReplicas: 2}
	tests := []struct {
		at        time.Duration
		wantValid bool
		want      int32
	}{
		{-time.Second, false, 2},
		{0, true, 2},
		{16 * time.Second, true, 5},
		{44 * time.Second, true, 3},
		{time.Hour, true, 3},
	}
	for _, tc := range tests {
		d := r.Recommend(snap, start.Add(tc.at))
		if d.Valid != tc.wantValid || d.Replicas != tc.want || d.Current != 2 {
			t.Errorf("at %v: %+v, want valid %t replicas %d", tc.at, d, tc.wantValid, tc.want)
		}
	}
	if r.Name() != Name {
		t.Errorf("Name = %q", r.Name())
	}
}
