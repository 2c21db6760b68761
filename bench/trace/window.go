package trace

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// ReadFile parses the trace file at path; the series is named after the file without extension.
func ReadFile(path string, opts ParseOptions) (Series, error) {
	f, err := os.Open(path)
	if err != nil {
		return Series{}, fmt.Errorf("open trace: %w", err)
	}
	defer f.Close()
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	s, err := Parse(f, name, opts)
	if err != nil {
		return Series{}, fmt.Errorf("trace %s: %w", path, err)
	}
	return s, nil
}

// Busiest returns the window of the series at most `span` seconds long with the most requests
// (the earliest such window on ties), as a new series whose Start is the window's offset within
// s. The whole series is returned when it is no longer than span.
func Busiest(s Series, span float64) Series {
	n := int(math.Floor(span / s.Step))
	if n <= 0 || n >= len(s.Rates) {
		return s
	}
	sum := 0.0
	for _, r := range s.Rates[:n] {
		sum += r
	}
	best, bestAt := sum, 0
	for i := n; i < len(s.Rates); i++ {
		sum += s.Rates[i] - s.Rates[i-n]
		if sum > best+1e-9 {
			best, bestAt = sum, i-n+1
		}
	}
	out := s
	out.Start = float64(bestAt) * s.Step
	out.Rates = append([]float64(nil), s.Rates[bestAt:bestAt+n]...)
	return out
}

// Compress replays the series `factor` times faster: each bin lasts Step/factor seconds. Rates
// are unchanged (the replay's scale factor sets the absolute level).
func Compress(s Series, factor float64) Series {
	out := s
	out.Step = s.Step / factor
	out.Start = s.Start / factor
	return out
}

// Scale multiplies every rate by k.
func Scale(s Series, k float64) Series {
	out := s
	out.Rates = make([]float64, len(s.Rates))
	for i, r := range s.Rates {
		out.Rates[i] = r * k
	}
	return out
}

// PeakMean is the highest mean rate over `span` seconds (a sliding window of whole bins, at
// least one): the peak of a per-second trace without its single-second jitter.
func (s Series) PeakMean(span float64) float64 {
	n := max(1, int(math.Round(span/s.Step)))
	if n >= len(s.Rates) {
		return s.Mean()
	}
	sum := 0.0
	for _, r := range s.Rates[:n] {
		sum += r
	}
	best := sum
	for i := n; i < len(s.Rates); i++ {
		sum += s.Rates[i] - s.Rates[i-n]
		best = math.Max(best, sum)
	}
	return best / float64(n)
}
