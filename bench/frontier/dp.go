package frontier

import (
	"errors"
	"fmt"
	"math"

	"github.com/hsds-autoscaler/hsds-autoscaler/bench/trace"
)

// Problem is one replay as the DP sees it: levels Min..Max per interval of Step seconds.
type Problem struct {
	Min, Max, Initial int32
	// Step is the interval; Startup the pod-seconds an added pod costs before it serves.
	Step, Startup float64
	// Lead is how many intervals a pod ordered at the start of an interval takes to serve
	// (ceil(start-up / step)); levels above Initial are out of reach before it.
	Lead int
	// Fail[i][n-Min] is the expected failed requests of interval i with n pods serving.
	Fail [][]float64
	// Rate[i] is the mean offered load of interval i (requests/s).
	Rate []float64
	// Up and Down are failures per request/s of load that one change up or down costs.
	Up, Down float64
}

// NewProblem builds the DP's view of the scaled series s (from t = 0) with c.
func NewProblem(s trace.Series, c Costs, minR, maxR, initial int32) (Problem, error) {
	if err := c.Validate(); err != nil {
		return Problem{}, fmt.Errorf("frontier problem: %w", err)
	}
	if minR < 1 || maxR < minR || initial < minR || initial > maxR || len(s.Rates) == 0 || !(s.Step > 0) {
		return Problem{}, fmt.Errorf("frontier problem: replicas %d..%d from %d, %d bins of %g s: invalid", minR, maxR, initial, len(s.Rates), s.Step)
	}
	k := int(math.Ceil(s.Duration()/c.StepSeconds - 1e-9))
	p := Problem{Min: minR, Max: maxR, Initial: initial, Step: c.StepSeconds, Startup: c.StartupSeconds,
		Lead: int(math.Ceil(c.StartupSeconds/c.StepSeconds - 1e-9)), Up: c.UpFailures, Down: c.DownFailures,
		Fail: make([][]float64, k), Rate: make([]float64, k)}
	for i := range k {
		p.Fail[i] = make([]float64, maxR-minR+1)
		from, to := float64(i)*p.Step, float64(i+1)*p.Step
		for b := max(int(from/s.Step), 0); b < len(s.Rates) && float64(b)*s.Step < to; b++ {
			overlap := math.Min(to, float64(b+1)*s.Step) - math.Max(from, float64(b)*s.Step)
			if overlap <= 0 {
				continue
			}
			rate := s.Rates[b]
			p.Rate[i] += rate * overlap / p.Step
			for n := minR; n <= maxR; n++ {
				p.Fail[i][n-minR] += rate * overlap * c.Failed(rate/float64(n))
			}
		}
	}
	return p, nil
}

// Validate returns every problem with p.
func (p Problem) Validate() error {
	var errs []error
	if p.Min < 1 || p.Max < p.Min || p.Initial < p.Min || p.Initial > p.Max {
		errs = append(errs, fmt.Errorf("replicas %d..%d from %d: invalid", p.Min, p.Max, p.Initial))
	}
	if !(p.Step > 0) || !(p.Startup >= 0) || p.Lead < 0 || !(p.Up >= 0) || !(p.Down >= 0) {
		errs = append(errs, fmt.Errorf("step %g, start-up %g, lead %d, change costs %g/%g: invalid", p.Step, p.Startup, p.Lead, p.Up, p.Down))
	}
	if len(p.Fail) == 0 || len(p.Fail) != len(p.Rate) {
		errs = append(errs, fmt.Errorf("%d failure rows, %d rates: want as many, at least one", len(p.Fail), len(p.Rate)))
	}
	for i, row := range p.Fail {
		if len(row) != int(p.Max-p.Min+1) {
			errs = append(errs, fmt.Errorf("failure row %d: %d levels, want %d", i, len(row), p.Max-p.Min+1))
			break
		}
	}
	return errors.Join(errs...)
}

// Plan is one DP solution: the serving level of every interval and what the model expects.
type Plan struct {
	Levels     []int32
	PodSeconds float64 // levels x step, + start-up per added pod
	Failures   float64 // expected, curve + changes
	Changes    int
}

// Solve returns the levels minimising pod-seconds + lambda x expected failures over p: every
// interval costs level x Step pod-seconds and Fail at that level; a change from a to b costs
// (b-a) x Startup pod-seconds when b > a, and Up (b > a) or Down (b < a) x the interval's Rate
// failures; the level before interval 0 is Initial, and no interval before Lead is above it.
// Ties go to the lower level.
func Solve(p Problem, lambda float64) (Plan, error) {
	if err := p.Validate(); err != nil {
		return Plan{}, fmt.Errorf("frontier solve: %w", err)
	}
	if !(lambda >= 0) {
		return Plan{}, fmt.Errorf("frontier solve: lambda %g must be >= 0", lambda)
	}
	k, l := len(p.Fail), int(p.Max-p.Min+1)
	from := make([][]int16, k) // best previous level index per interval and level
	prev, cur := make([]float64, l), make([]float64, l)
	for a := range prev {
		prev[a] = math.Inf(1)
	}
	prev[p.Initial-p.Min] = 0
	for i := range k {
		from[i] = make([]int16, l)
		for b := range l {
			cur[b] = math.Inf(1)
			if i < p.Lead && int32(b)+p.Min > p.Initial {
				continue
			}
			stay := float64(int32(b)+p.Min)*p.Step + lambda*p.Fail[i][b]
			for a := range l {
				if math.IsInf(prev[a], 1) {
					continue
				}
				v := prev[a] + stay + p.change(a, b, i, lambda)
				if v < cur[b] {
					cur[b], from[i][b] = v, int16(a)
				}
			}
		}
		prev, cur = cur, prev
	}
	best := 0
	for b := range l {
		if prev[b] < prev[best] {
			best = b
		}
	}
	levels := make([]int32, k)
	for i := k - 1; i >= 0; i-- {
		levels[i] = int32(best) + p.Min
		best = int(from[i][best])
	}
	return p.Evaluate(levels), nil
}

// change is the cost of going from level index a to b at interval i.
func (p Problem) change(a, b, i int, lambda float64) float64 {
	switch {
	case b > a:
		return float64(b-a)*p.Startup + lambda*p.Up*p.Rate[i]
	case b < a:
		return lambda * p.Down * p.Rate[i]
	}
	return 0
}

// Evaluate is what the model expects of levels (one per interval, within Min..Max).
func (p Problem) Evaluate(levels []int32) Plan {
	out := Plan{Levels: levels}
	last := p.Initial
	for i, n := range levels {
		out.PodSeconds += float64(n) * p.Step
		out.Failures += p.Fail[i][n-p.Min]
		if n != last {
			out.Changes++
			a, b := int(last-p.Min), int(n-p.Min)
			out.Failures += p.change(a, b, i, 1) - p.change(a, b, i, 0)
			out.PodSeconds += p.change(a, b, i, 0)
		}
		last = n
	}
	return out
}
