package sim

import "testing"

// BenchmarkTick measures the simulator's step rate with 8 pods near their rated capacity
// (one op = one simulated hour).
func BenchmarkTick(b *testing.B) {
	sc := DefaultScenario()
	ticks := int(3600 / sc.TickSeconds)
	for b.Loop() {
		s, err := New(sc, constLoad(sc.ClusterCapacity(8)), 8, 1)
		if err != nil {
			b.Fatal(err)
		}
		for range ticks {
			s.Tick()
		}
	}
	b.ReportMetric(float64(ticks*b.N)/b.Elapsed().Seconds(), "ticks/s")
}
