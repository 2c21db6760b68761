package heuristics

import "testing"

// BenchmarkRecommend (the hsds policy beside the baselines) is in heuristics/baseline.

func BenchmarkMeasure(b *testing.B) {
	s := uniform(1000, podLoad{inFlight: 50, limit: 100, rate: 20}, t0)
	p := DefaultPolicy()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Measure(s, p)
	}
}
