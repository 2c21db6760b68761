package fakehsds

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseDistribution(t *testing.T) {
	tests := []struct {
		in      string
		want    string // String() of the result; "" when an error is expected
		wantErr bool
	}{
		{"fixed:5ms", "fixed:5ms", false},
		{" exp:1.5ms ", "exp:1.5ms", false},
		{"lognormal:5ms,0.5", "lognormal:5ms,0.5", false},
		{"lognormal:5ms, 0.25", "lognormal:5ms,0.25", false},
		{"fixed:0s", "fixed:0s", false},
		{"fixed", "", true},
		{"fixed:-1ms", "", true},
		{"fixed:2h", "", true},
		{"exp:abc", "", true},
		{"gamma:5ms", "", true},
		{"lognormal:5ms", "", true},
		{"lognormal:5ms,-1", "", true},
		{"lognormal:5ms,NaN", "", true},
		{"lognormal:x,0.5", "", true},
	}
	for _, tc := range tests {
		d, err := ParseDistribution(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("ParseDistribution(%q): err %v, wantErr %v", tc.in, err, tc.wantErr)
			continue
		}
		if err == nil {
			if got := fmt.Sprint(d); got != tc.want {
				t.Errorf("ParseDistribution(%q) = %s, want %s", tc.in, got, tc.want)
			}
		}
	}
}

// Deterministic for a seed: two pods with the same seed and the same request order draw the
// same samples; another seed draws others.
func TestDistribution_DeterministicForSeed(t *testing.T) {
	draw := func(seed uint64, d Distribution) []time.Duration {
		p, _ := newTestPod(t, func(c *Config) { c.Seed = seed; c.ServiceTime = d })
		return p.samples(8)
	}
	for _, d := range []Distribution{Exponential(5 * time.Millisecond), LogNormal(5*time.Millisecond, 0.5)} {
		a, b, c := draw(7, d), draw(7, d), draw(8, d)
		if diff := cmp.Diff(a, b); diff != "" {
			t.Errorf("%v: same seed differs (-a +b):\n%s", d, diff)
		}
		if cmp.Equal(a, c) {
			t.Errorf("%v: seeds 7 and 8 drew the same samples", d)
		}
	}
}

func TestDistribution_Means(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const n = 20000
	tests := []struct {
		d        Distribution
		min, max time.Duration // bounds on the sample mean
	}{
		{Fixed(5 * time.Millisecond), 5 * time.Millisecond, 5 * time.Millisecond},
		{Exponential(5 * time.Millisecond), 4800 * time.Microsecond, 5200 * time.Microsecond},
		// log-normal mean = median * exp(sigma^2/2) = 5ms * 1.1331
		{LogNormal(5*time.Millisecond, 0.5), 5500 * time.Microsecond, 5830 * time.Microsecond},
	}
	for _, tc := range tests {
		var sum time.Duration
		for i := 0; i < n; i++ {
			s := tc.d.Sample(r)
			if s < 0 || s > maxSample {
				t.Fatalf("%v: sample %v out of range", tc.d, s)
			}
			sum += s
		}
		if mean := sum / n; mean < tc.min || mean > tc.max {
			t.Errorf("%v: mean %v, want in [%v, %v]", tc.d, mean, tc.min, tc.max)
		}
	}
}

func FuzzParseDistribution(f *testing.F) {
	for _, s := range []string{"fixed:5ms", "exp:5ms", "lognormal:5ms,0.5", "lognormal:1h,10", "x:", ":", "fixed:"} {
		f.Add(s)
	}
	r := rand.New(rand.NewPCG(1, 1))
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDistribution(s)
		if err != nil {
			return
		}
		if v := d.Sample(r); v < 0 || v > maxSample {
			t.Fatalf("%q: sample %v out of [0, %v]", s, v, maxSample)
		}
		again, err := ParseDistribution(fmt.Sprint(d))
		if err != nil || fmt.Sprint(again) != fmt.Sprint(d) {
			t.Fatalf("%q: String %q does not round-trip: %v", s, fmt.Sprint(d), err)
		}
	})
}
