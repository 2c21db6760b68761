package heuristics

import (
	"fmt"
	"testing"
	"time"
)

func benchRecommend(b *testing.B, r Recommender, pods int) {
	l := podLoad{inFlight: 50, limit: 100, rate: 20, rej: ByCause{Overload: 0.1}}
	snaps := make([]Snapshot, 64)
	for i := range snaps {
		snaps[i] = uniform(pods, l, t0)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		now := t0.Add(time.Duration(i) * 5 * time.Second)
		s := snaps[i%len(snaps)]
		s.Time = now
		for j := range s.Pods {
			s.Pods[j].SampleTime = now
		}
		r.Recommend(s, now)
	}
}

func BenchmarkRecommend(b *testing.B) {
	for _, pods := range []int{100, 1000} {
		p := DefaultPolicy()
		p.MaxReplicas = 2000
		r := mustHSDS(p)
		b.Run(fmt.Sprintf("%s/pods=%d", r.Name(), pods), func(b *testing.B) { benchRecommend(b, r, pods) })
	}
}

func BenchmarkMeasure(b *testing.B) {
	s := uniform(1000, podLoad{inFlight: 50, limit: 100, rate: 20}, t0)
	p := DefaultPolicy()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Measure(s, t0, p, false)
	}
}
