package window

import (
	"testing"
	"time"
)

func BenchmarkExtremumRecordValue(b *testing.B) {
	e := NewMax(10 * time.Minute)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		now := t0.Add(time.Duration(i) * time.Second)
		e.Record(now, float64((i*7919)%1000))
		e.Value(now)
	}
}

func BenchmarkBucketsRecordAverage(b *testing.B) {
	w := NewBuckets(time.Minute, time.Second)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		now := t0.Add(time.Duration(i) * time.Second)
		w.Record(now, float64(i%100))
		w.WindowAverage(now)
	}
}

func BenchmarkSeriesSlope(b *testing.B) {
	s := NewSeries(time.Minute)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		now := t0.Add(time.Duration(i) * 5 * time.Second)
		s.Record(now, float64(i%100))
		s.Slope(now)
	}
}

func BenchmarkEWMAUpdate(b *testing.B) {
	e := NewEWMA(time.Minute)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		e.Update(t0.Add(time.Duration(i)*time.Second), float64(i%100))
	}
}
