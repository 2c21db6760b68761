package baseline

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics/internal/snapshots"
)

// Hand-computed cases of replica_calculator.go's calcPlainMetricReplicas (target 1 = 1000m).
func TestCalcPlainMetricReplicas(t *testing.T) {
	tests := []struct {
		name    string
		g       hpaPods
		current int32
		want    int32
		wantErr error
	}{
		{"ratio 2 on 2 pods", hpaPods{metrics: map[string]int64{"a": 2000, "b": 2000}}, 2, 4, nil},
		{"inside tolerance: mean 1025m", hpaPods{metrics: map[string]int64{"a": 1050, "b": 1000}}, 2, 2, nil},
		{"integer mean truncates: (1000+1001+1001)/3 = 1000", hpaPods{metrics: map[string]int64{"a": 1000, "b": 1001, "c": 1001}}, 3, 3, nil},
		// Scale-down: missing pod counted at target: (0+0+1000)/3 = 333m -> ceil(0.333*3) = 1.
		{"missing pod assumed 100% when scaling down", hpaPods{metrics: map[string]int64{"a": 0, "b": 0}, missing: []string{"c"}}, 3, 1, nil},
		// Scale-up: missing pod counted at 0: (3000+0)/2 = 1.5 -> ceil(1.5*2) = 3.
		{"missing pod assumed 0 when scaling up", hpaPods{metrics: map[string]int64{"a": 3000}, missing: []string{"b"}}, 2, 3, nil},
		{"unready pod 0 when scaling up", hpaPods{metrics: map[string]int64{"a": 3000}, unready: []string{"b"}}, 2, 3, nil},
		// 1200m with a missing pod at 0: 600m < 1: the direction flips: no change.
		{"direction flip: no change", hpaPods{metrics: map[string]int64{"a": 1200}, missing: []string{"b"}}, 2, 2, nil},
		// Unready pods are ignored when not scaling up: 0.5 x 2 ready = 1.
		{"unready ignored when scaling down", hpaPods{metrics: map[string]int64{"a": 500, "b": 500}, unready: []string{"c"}}, 3, 1, nil},
		// (0 + 1000)/2 = 0.5 -> ceil(0.5*2) = 1 would be below... then n=1 < current 4 with ratio<1: fine.
		{"scale down with a missing pod", hpaPods{metrics: map[string]int64{"a": 0}, missing: []string{"b"}}, 4, 1, nil},
		{"no metrics", hpaPods{metrics: map[string]int64{}, missing: []string{"a"}}, 2, 0, errNoMetrics},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := calcPlainMetricReplicas(tc.g, tc.current, 1000, 0.1)
			if got != tc.want || !errors.Is(err, tc.wantErr) {
				t.Errorf("got %d, %v; want %d, %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestGroupHPAPods(t *testing.T) {
	pods := []heuristics.PodSample{
		{Name: "run-ready", Phase: heuristics.PodRunning, Ready: true},
		{Name: "run-unready", Phase: heuristics.PodRunning, Ready: false}, // counted as ready: plain metric
		{Name: "pending", Phase: heuristics.PodPending},
		{Name: "gone", Phase: heuristics.PodOther},
		{Name: "no-metric", Phase: heuristics.PodRunning, Ready: true},
	}
	g := groupHPAPods(pods, func(p heuristics.PodSample) (int64, bool) { return 7, p.Name != "no-metric" })
	want := hpaPods{metrics: map[string]int64{"run-ready": 7, "run-unready": 7}, unready: []string{"pending"}, missing: []string{"no-metric"}}
	if diff := cmp.Diff(want, g, cmp.AllowUnexported(hpaPods{})); diff != "" {
		t.Errorf("groupHPAPods (-want +got):\n%s", diff)
	}
}

func TestExternalPerPodReplicas(t *testing.T) {
	tests := []struct {
		name          string
		status        int32
		usage, target int64
		want          int32
	}{
		{"6 503/s against 1 per pod", 2, 6000, 1000, 6},
		{"inside tolerance keeps status replicas", 3, 3100, 1000, 3},
		// The recipe's utilization trigger: max 0.9 against 0.8 means 2 pods, whatever the size.
		{"max utilization 0.9 / 0.8 on 5 pods", 5, 900, 800, 2},
		{"idle: 0", 4, 0, 1000, 0},
	}
	for _, tc := range tests {
		if got := externalPerPodReplicas(tc.status, tc.usage, tc.target, 0.1); got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestHPANormalizer(t *testing.T) {
	newN := func() *hpaNormalizer { return &hpaNormalizer{behavior: DefaultHPABehavior(), min: 1, max: 100} }
	t.Run("scale-up limit max(2x, +4) per 15s", func(t *testing.T) {
		n := newN()
		if got, _ := n.reconcile(snapshots.At(0), 2, 50); got != 6 { // max(ceil(2*2)=4, 2+4=6)
			t.Errorf("from 2: %d, want 6", got)
		}
		if got, _ := n.reconcile(snapshots.At(5), 6, 50); got != 6 { // period start 6-4 = 2: limit still 6
			t.Errorf("5s later from 6: %d, want 6", got)
		}
		if got, _ := n.reconcile(snapshots.At(16), 6, 50); got != 12 { // event aged out: max(12, 10)
			t.Errorf("16s later from 6: %d, want 12", got)
		}
	})
	t.Run("scale-down stabilization 300s: max over the window", func(t *testing.T) {
		n := newN()
		seq := []struct {
			t        float64
			cur, rec int32
			want     int32
		}{
			{0, 10, 10, 10},
			{15, 10, 2, 10},  // the window holds 10 (t=0) and the seed (10)
			{299, 10, 2, 10}, // t=0 is still inside (-1, 299]
			{300, 10, 3, 3},  // (0, 300] holds 2, 2, 3: max 3; 100 %/15 s allows it
			{301, 3, 1, 3},   // 3 is still in the window
		}
		for _, s := range seq {
			if got, _ := n.reconcile(snapshots.At(s.t), s.cur, s.rec); got != s.want {
				t.Errorf("t=%v cur=%d rec=%d: got %d, want %d", s.t, s.cur, s.rec, got, s.want)
			}
		}
	})
	t.Run("bounds first", func(t *testing.T) {
		n := newN()
		n.max = 5
		if got, r := n.reconcile(snapshots.At(0), 8, 8); got != 5 || r != CodeBounds {
			t.Errorf("above max: %d %s", got, r)
		}
		if got, _ := n.reconcile(snapshots.At(20), 5, 40); got != 5 {
			t.Errorf("at max: %d, want 5", got)
		}
	})
}

func TestExtrapolatedRate(t *testing.T) {
	s := func(pairs ...float64) []promSample {
		var out []promSample
		for i := 0; i+1 < len(pairs); i += 2 {
			out = append(out, promSample{t: snapshots.At(pairs[i]), v: pairs[i+1]})
		}
		return out
	}
	tests := []struct {
		name   string
		in     []promSample
		want   float64
		wantOK bool
	}{
		// Range (0,120], samples 30..120 at 1/s from 30: start gap 30 < 1.1*30: extrapolate
		// fully; zero point 30 s back: not shorter. (90+30+0)/90 * 90 / 120 = 1.
		{"steady 1/s", s(30, 30, 60, 60, 90, 90, 120, 120), 1, true},
		// Same slope but the counter starts at 0 at 30: no extrapolation below zero:
		// 90 * (90+0+0)/90 / 120 = 0.75.
		{"new series: no extrapolation below zero", s(30, 0, 60, 30, 90, 60, 120, 90), 0.75, true},
		// Two samples at 60, 90: avg 30; to start 60 >= 33: 15; to end 30 < 33: 30; zero point
		// 60*(60/30)=... (60 at 60 with increase 30: 60 s > 15). 30*(30+15+30)/30/120 = 0.625.
		{"sparse", s(60, 60, 90, 90), 0.625, true},
		// Reset at 90: the increase is 30 + 10 + 30 = 70 (-10 plus the pre-reset 80).
		{"counter reset", s(30, 50, 60, 80, 90, 10, 120, 40), 70 * (90 + 30.0) / 90 / 120, true},
		{"one sample", s(120, 5), 0, false},
	}
	for _, tc := range tests {
		got, ok := extrapolatedRate(tc.in, snapshots.At(0), snapshots.At(120), 2*time.Minute)
		if ok != tc.wantOK || math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: got %v, %v; want %v, %v", tc.name, got, ok, tc.want, tc.wantOK)
		}
	}
}

// TestHPABaseline drives the whole recipe: 2 pods at 3 503/s (counters from an hour before snapshots.T0),
// called every second. Prometheus scrapes hsds-0 at :10 and :40 of each minute, hsds-1 at :11 and
// :41 (scrapeOffset); the HPA syncs at 0, 15, 30, ...
func TestHPABaseline(t *testing.T) {
	h, err := NewHPA(DefaultHPAConfig())
	if err != nil {
		t.Fatal(err)
	}
	l := snapshots.Load{InFlight: 100, Limit: 100, Rate: 10, Rej: heuristics.ByCause{Overload: 3}}
	// The spec stays 2 (decisions not applied), so the points below are independent.
	want := map[int]got{
		0:  {false, 2, CodeNoMetrics}, // no scrape yet
		30: {false, 2, CodeNoMetrics}, // one sample each (10, 11): no rate yet
		// t=45: hsds-0 has 10, 40 in (-75, 45]: increase 90 over 30 s; start gap 85 >= 33 -> 15,
		// end gap 5: 90*(30+15+5)/30/120 = 1.25; hsds-1 (11, 41, end gap 4) 1.225. Mean
		// 1.2375 > 1.1: ceil(2*1.2375) = 3.
		45: {true, 3, CodeMetrics},
		// t=120: hsds-0 has 10..100 in (0, 120]: 270 over 90 s, start gap 10, end gap 20, both
		// < 33: 270*(90+10+20)/90/120 = 3; hsds-1 the same (11, 19). Desired 6, limit
		// max(2*2, 2+4) = 6.
		120: {true, 6, CodeMetrics},
		121: {true, 2, CodeBetweenSyncs},
	}
	for s := 0; s <= 121; s++ {
		d := h.Recommend(snapshots.Uniform(2, l, snapshots.At(float64(s))))
		if w, ok := want[s]; ok {
			if diff := cmp.Diff(w, got{d.Valid, d.Replicas, d.Reason}); diff != "" {
				t.Errorf("t=%ds (-want +got):\n%s (%s)", s, diff, d.Message)
			}
		}
	}
}
