package trace

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

// FuzzParse checks that Parse never panics, that every error is a *ParseError or a wrapped
// read error, and that every accepted trace is well formed.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		Header + "\n0,1\n60,2\n",
		Header + "\n0,1\n1,NaN\n",
		Header + "\n0,1\n2,1\n3,1\n",
		"t,v\n",
		Header + "\r\n0,0\r\n1,1e308\r\n",
	} {
		f.Add([]byte(seed), 4)
	}
	f.Fuzz(func(t *testing.T, data []byte, maxBins int) {
		opts := ParseOptions{MaxBins: 2 + abs(maxBins)%64, MaxLineBytes: 128}
		s, err := Parse(bytes.NewReader(data), "fuzz", opts)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			return
		}
		if len(s.Rates) < 1 || len(s.Rates) > opts.MaxBins || !(s.Step > 0) {
			t.Fatalf("accepted a malformed series: %d bins, step %g", len(s.Rates), s.Step)
		}
		for _, r := range s.Rates {
			if r < 0 || math.IsNaN(r) {
				t.Fatalf("accepted rate %g", r)
			}
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
