package fakehsds

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// maxSample caps every service-time sample so that heavy tails cannot overflow a Duration.
const maxSample = time.Hour

// Distribution draws the time one fan-out task takes. Implementations must be deterministic for
// a given *rand.Rand state.
type Distribution interface {
	Sample(r *rand.Rand) time.Duration
}

// Fixed returns a distribution that always takes d.
func Fixed(d time.Duration) Distribution { return fixed{d: clamp(d)} }

// Exponential returns an exponential distribution with the given mean.
func Exponential(mean time.Duration) Distribution { return exponential{mean: clamp(mean)} }

// LogNormal returns a log-normal distribution with the given median (exp(mu)) and sigma (the
// standard deviation of the log).
func LogNormal(median time.Duration, sigma float64) Distribution {
	return logNormal{median: clamp(median), sigma: sigma}
}

type fixed struct{ d time.Duration }

func (f fixed) Sample(*rand.Rand) time.Duration { return f.d }
func (f fixed) String() string                  { return "fixed:" + f.d.String() }

type exponential struct{ mean time.Duration }

func (e exponential) Sample(r *rand.Rand) time.Duration {
	return fromFloat(r.ExpFloat64() * float64(e.mean))
}
func (e exponential) String() string { return "exp:" + e.mean.String() }

type logNormal struct {
	median time.Duration
	sigma  float64
}

func (l logNormal) Sample(r *rand.Rand) time.Duration {
	return fromFloat(float64(l.median) * math.Exp(l.sigma*r.NormFloat64()))
}
func (l logNormal) String() string {
	return "lognormal:" + l.median.String() + "," + strconv.FormatFloat(l.sigma, 'g', -1, 64)
}

func clamp(d time.Duration) time.Duration {
	return min(max(d, 0), maxSample)
}

func fromFloat(ns float64) time.Duration {
	if math.IsNaN(ns) || ns <= 0 {
		return 0
	}
	if ns >= float64(maxSample) {
		return maxSample
	}
	return time.Duration(ns)
}

// ParseDistribution parses the --service-time syntax: "fixed:5ms", "exp:5ms" (mean) or
// "lognormal:5ms,0.5" (median, sigma). Durations must be in [0, 1h]; sigma in [0, 10].
func ParseDistribution(s string) (Distribution, error) {
	kind, args, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return nil, fmt.Errorf("service time %q: want kind:args, e.g. fixed:5ms, exp:5ms or lognormal:5ms,0.5", s)
	}
	switch kind {
	case "fixed", "exp":
		d, err := parseSampleDuration(args)
		if err != nil {
			return nil, fmt.Errorf("service time %q: %w", s, err)
		}
		if kind == "fixed" {
			return Fixed(d), nil
		}
		return Exponential(d), nil
	case "lognormal":
		return parseLogNormal(s, args)
	default:
		return nil, fmt.Errorf("service time %q: unknown kind %q (want fixed, exp or lognormal)", s, kind)
	}
}

func parseLogNormal(s, args string) (Distribution, error) {
	ds, ss, ok := strings.Cut(args, ",")
	if !ok {
		return nil, fmt.Errorf("service time %q: lognormal wants median,sigma", s)
	}
	d, err := parseSampleDuration(ds)
	if err != nil {
		return nil, fmt.Errorf("service time %q: %w", s, err)
	}
	sigma, err := strconv.ParseFloat(strings.TrimSpace(ss), 64)
	if err != nil {
		return nil, fmt.Errorf("service time %q: sigma: %w", s, err)
	}
	if math.IsNaN(sigma) || sigma < 0 || sigma > 10 {
		return nil, fmt.Errorf("service time %q: sigma %v out of [0, 10]", s, sigma)
	}
	return LogNormal(d, sigma), nil
}

func parseSampleDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("duration: %w", err)
	}
	if d < 0 || d > maxSample {
		return 0, fmt.Errorf("duration %v out of [0, %v]", d, maxSample)
	}
	return d, nil
}
