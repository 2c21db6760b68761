package frontier

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hsds-autoscaler/hsds-autoscaler/bench/trace"
)

// small is a 1..2-pod problem of 10 s intervals whose optimum is computed by hand below.
func small(fail [][]float64, rate []float64, up float64) Problem {
	return Problem{Min: 1, Max: 2, Initial: 1, Step: 10, Fail: fail, Rate: rate, Up: up, Down: up}
}

func TestSolveHandComputed(t *testing.T) {
	tests := []struct {
		name   string
		p      Problem
		lambda float64
		want   []int32
	}{
		// 1 pod: 10 pod-s + 5 failures x 1 = 15 < 2 pods: 20. Stay at 1.
		{"cheap failures", small([][]float64{{5, 0}, {0, 0}}, []float64{2, 2}, 0), 1, []int32{1, 1}},
		// λ 3: 1 pod 10 + 15 = 25 > 2 pods 20; then back to 1 (10 < 20, the change free).
		{"dear failures", small([][]float64{{5, 0}, {0, 0}}, []float64{2, 2}, 0), 3, []int32{2, 1}},
		// The change up costs 3 x 1 x 2 = 6: 2 pods 26 > 25. Stay at 1.
		{"change cost", small([][]float64{{5, 0}, {0, 0}}, []float64{2, 2}, 1), 3, []int32{1, 1}},
		// Two bad intervals: 2 x 25 = 50 at 1 pod; 2 pods 20 + 20 + 6 up + 6 down = 52 -> stay;
		// but a third bad one: 75 vs 60 + 12 = 72 -> 2 pods throughout, then down.
		{"long enough to pay the changes", small([][]float64{{5, 0}, {5, 0}, {5, 0}, {0, 0}}, []float64{2, 2, 2, 2}, 1), 3, []int32{2, 2, 2, 1}},
		{"short burst not worth it", small([][]float64{{5, 0}, {5, 0}, {0, 0}}, []float64{2, 2, 2}, 1), 3, []int32{1, 1, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Solve(tc.p, tc.lambda)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got.Levels); diff != "" {
				t.Errorf("levels (-want +got):\n%s", diff)
			}
		})
	}
}

// Start-up: a level above the initial one is out of reach for Lead intervals, and every added pod
// costs Startup pod-seconds.
func TestSolveLeadAndStartup(t *testing.T) {
	p := small([][]float64{{100, 0}, {100, 0}, {100, 0}}, []float64{1, 1, 1}, 0)
	p.Lead, p.Startup = 2, 30
	got, err := Solve(p, 1)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int32{1, 1, 2}, got.Levels); diff != "" {
		t.Errorf("levels (-want +got):\n%s", diff)
	}
	if got.PodSeconds != 10+10+20+30 || got.Failures != 200 || got.Changes != 1 {
		t.Errorf("model %+v: want 70 pod-s, 200 failures, 1 change", got)
	}
}

// On random small problems the DP finds the optimum of an exhaustive search.
func TestSolveMatchesExhaustiveSearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		p := randomProblem(rng, 5, 1, 3)
		lambda := math.Pow(10, rng.Float64()*3-1)
		got, err := Solve(p, lambda)
		if err != nil {
			t.Fatal(err)
		}
		best := math.Inf(1)
		levels := make([]int32, len(p.Fail))
		var walk func(i int)
		walk = func(i int) {
			if i == len(levels) {
				m := p.Evaluate(levels)
				best = math.Min(best, m.PodSeconds+lambda*m.Failures)
				return
			}
			for n := p.Min; n <= p.Max; n++ {
				if i < p.Lead && n > p.Initial {
					continue
				}
				levels[i] = n
				walk(i + 1)
			}
		}
		walk(0)
		if v := got.PodSeconds + lambda*got.Failures; math.Abs(v-best) > 1e-9*math.Max(1, best) {
			t.Fatalf("trial %d: DP objective %g, exhaustive optimum %g (levels %v)", trial, v, best, got.Levels)
		}
	}
}

func randomProblem(rng *rand.Rand, k int, minR, maxR int32) Problem {
	p := Problem{Min: minR, Max: maxR, Initial: minR + int32(rng.IntN(int(maxR-minR+1))), Step: 15,
		Startup: 30 * rng.Float64(), Lead: rng.IntN(3), Up: 2 * rng.Float64(), Down: 2 * rng.Float64()}
	for range k {
		rate := 20 * rng.Float64()
		row := make([]float64, maxR-minR+1)
		for n := range row {
			row[n] = rate * 15 * 0.3 * math.Exp(-float64(n)*rng.Float64()*2) // fewer failures with more pods
		}
		p.Fail, p.Rate = append(p.Fail, row), append(p.Rate, rate)
	}
	return p
}

// More failure budget, no more cost: along the λ sweep the model's failures never rise and its
// pod-seconds never fall (a larger λ buys fewer failures with more pods).
func TestSolveMonotoneInLambda(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		p := randomProblem(rng, 40, 2, 8)
		var last Plan
		for i, l := range DefaultLambdas() {
			got, err := Solve(p, l)
			if err != nil {
				t.Fatal(err)
			}
			if i > 0 && (got.Failures > last.Failures+1e-9 || got.PodSeconds < last.PodSeconds-1e-9) {
				t.Fatalf("λ %g: %g failures / %g pod-s after %g / %g", l, got.Failures, got.PodSeconds, last.Failures, last.PodSeconds)
			}
			last = got
		}
	}
}

// NewProblem spreads each bin over the intervals it overlaps and prices each level on the curve.
func TestNewProblem(t *testing.T) {
	c := Costs{StepSeconds: 15, StartupSeconds: 30, PerPodRPS: []float64{0, 10}, FailedFraction: []float64{0, 0.1}, UpFailures: 1, DownFailures: 2}
	s := trace.Series{Step: 10, Rates: []float64{10, 20, 20}} // 30 s: two intervals
	p, err := NewProblem(s, c, 1, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Interval 0: 10 s at 10 req/s (1 pod: 1%/req/s... 0.1 x 10/10), 5 s at 20 (over the curve: 0.1).
	want0 := []float64{10*10*0.1 + 20*5*0.1, 10*10*0.05 + 20*5*0.1}
	if diff := cmp.Diff(want0, p.Fail[0]); diff != "" {
		t.Errorf("interval 0 failures (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]float64{(10*10 + 20*5) / 15.0, 20}, p.Rate); diff != "" {
		t.Errorf("rates (-want +got):\n%s", diff)
	}
	if p.Lead != 2 || p.Up != 1 || p.Down != 2 {
		t.Errorf("problem %+v: want lead 2 and the costs' change prices", p)
	}
}
