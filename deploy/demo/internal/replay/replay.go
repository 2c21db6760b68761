package replay

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/bench/trace"
)

// Where the peak of an automatically chosen slice may sit, as a fraction of the slice: early
// enough that the scale-down after it fits in the demo, late enough to show the calm before.
const (
	PeakFromFraction = 0.2
	PeakToFraction   = 0.45
	// EdgeFraction is the share of the slice at each end whose mean load counts as "calm".
	EdgeFraction = 0.15
)

// Params say how to cut, compress and scale a trace.
type Params struct {
	// Duration of the replay (wall time).
	Duration time.Duration
	// Compression is trace seconds per replay second.
	Compression float64
	// PeakRPS is the request rate the slice's highest bin is scaled to.
	PeakRPS float64
	// Start is the slice's offset into the trace, in trace seconds; < 0 chooses it (FlashCrowd).
	Start float64
}

// Validate returns every problem with p.
func (p Params) Validate() error {
	var errs []error
	if p.Duration <= 0 {
		errs = append(errs, fmt.Errorf("duration %s: must be > 0", p.Duration))
	}
	if !(p.Compression >= 1) || math.IsInf(p.Compression, 0) {
		errs = append(errs, fmt.Errorf("compression %g: must be >= 1", p.Compression))
	}
	if !(p.PeakRPS > 0) || math.IsInf(p.PeakRPS, 0) {
		errs = append(errs, fmt.Errorf("peak rate %g: must be > 0", p.PeakRPS))
	}
	if math.IsNaN(p.Start) {
		errs = append(errs, errors.New("start: must be a number"))
	}
	return errors.Join(errs...)
}

// Plan is a slice ready to replay.
type Plan struct {
	Trace       string  // series name (file name without extension)
	Start       float64 // slice offset in the trace, trace seconds
	Span        float64 // slice length, trace seconds
	Compression float64 // trace seconds per replay second
	Scale       float64 // factor applied to the trace's rates
	Auto        bool    // the slice was chosen by FlashCrowd
	// Series is the slice, compressed and scaled: Start 0, Step in replay seconds, Rates in req/s.
	Series trace.Series
}

// NewPlan cuts s as p says.
func NewPlan(s trace.Series, p Params) (Plan, error) {
	if err := p.Validate(); err != nil {
		return Plan{}, err
	}
	span := p.Duration.Seconds() * p.Compression
	bins := int(math.Round(span / s.Step))
	if bins < 2 {
		return Plan{}, fmt.Errorf("slice of %.0f trace seconds holds fewer than 2 bins of %g s: raise the duration or the compression", span, s.Step)
	}
	if bins > len(s.Rates) {
		return Plan{}, fmt.Errorf("slice of %.0f trace seconds is longer than trace %s (%.0f s)", span, s.Name, s.Duration())
	}
	auto := p.Start < 0
	first := int(math.Floor(p.Start / s.Step))
	if auto {
		first = FlashCrowd(s.Rates, bins)
	}
	if first+bins > len(s.Rates) {
		return Plan{}, fmt.Errorf("slice [%g s, +%.0f s) runs past the end of trace %s (%.0f s)", p.Start, span, s.Name, s.Duration())
	}
	cut := trace.Series{Name: s.Name, Step: s.Step, Rates: append([]float64(nil), s.Rates[first:first+bins]...)}
	peak := cut.Peak()
	if peak <= 0 {
		return Plan{}, fmt.Errorf("slice at %d s of trace %s has no requests", first*int(s.Step), s.Name)
	}
	k := p.PeakRPS / peak
	out := trace.Scale(trace.Compress(cut, p.Compression), k)
	out.Start = 0
	return Plan{Trace: s.Name, Start: float64(first) * s.Step, Span: float64(bins) * s.Step,
		Compression: p.Compression, Scale: k, Auto: auto, Series: out}, nil
}

// Rate is the request rate to offer at elapsed replay time.
func (p Plan) Rate(elapsed time.Duration) float64 { return p.Series.At(elapsed.Seconds()) }

// Describe says in one line which slice is replayed, how compressed and how scaled.
func (p Plan) Describe() string {
	how := "chosen"
	if p.Auto {
		how = "auto: flash crowd"
	}
	return fmt.Sprintf("trace %s, slice t=%s..%s (%s), %gx time compression, scale x%.4g (peak %.1f req/s, mean %.1f req/s)",
		p.Trace, clock(p.Start), clock(p.Start+p.Span), how, p.Compression, p.Scale, p.Series.Peak(), p.Series.Mean())
}

// clock formats trace seconds as day+hh:mm from the trace's first row.
func clock(sec float64) string {
	s := int64(sec)
	return fmt.Sprintf("d%d+%02d:%02d", s/86400, s%86400/3600, s%3600/60)
}

// FlashCrowd returns the first bin of the window of n bins that looks most like a flash crowd:
// the highest ratio of its peak bin to the larger of the mean of its first and last EdgeFraction,
// among windows whose peak lies between PeakFromFraction and PeakToFraction of the window (the
// earliest on ties). With no such window (n too small, or a flat series) it returns the window
// holding the highest bin at the earliest allowed position, clamped to the series.
func FlashCrowd(rates []float64, n int) int {
	if n >= len(rates) {
		return 0
	}
	edge := max(1, int(float64(n)*EdgeFraction))
	from, to := int(float64(n)*PeakFromFraction), int(float64(n)*PeakToFraction)
	best, bestAt := 0.0, -1
	for i := 0; i+n <= len(rates); i++ {
		pk := argmax(rates[i+from : i+to+1])
		calm := math.Max(mean(rates[i:i+edge]), mean(rates[i+n-edge:i+n]))
		peak := rates[i+from+pk]
		score := peak / math.Max(calm, 1e-9)
		if peak > 0 && argmax(rates[i:i+n]) == from+pk && score > best*(1+1e-9) {
			best, bestAt = score, i
		}
	}
	if bestAt >= 0 {
		return bestAt
	}
	at := argmax(rates) - from
	return min(max(0, at), len(rates)-n)
}

func argmax(v []float64) int {
	at := 0
	for i, x := range v {
		if x > v[at] {
			at = i
		}
	}
	return at
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
