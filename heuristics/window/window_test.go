package window

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

type rec struct {
	t float64
	v float64
}

func TestBucketsWindowAverage(t *testing.T) {
	tests := []struct {
		name   string
		window time.Duration
		recs   []rec
		now    float64
		want   float64
		wantOK bool
	}{
		{"empty", 10 * time.Second, nil, 5, 0, false},
		{"partial window since first write", 10 * time.Second, []rec{{0, 2}, {1, 4}, {2, 6}}, 2, 4, true},
		{"full window slides", 3 * time.Second, []rec{{0, 100}, {1, 1}, {2, 2}, {3, 3}}, 3, 2, true},
		{"gap counts as zero", 4 * time.Second, []rec{{0, 4}, {3, 4}}, 3, 2, true},
		{"stale data: average up to last write", 10 * time.Second, []rec{{0, 2}, {1, 4}}, 5, 3, true},
		{"a whole window without data", 3 * time.Second, []rec{{0, 2}}, 3, 0, false},
		{"same bucket sums", 10 * time.Second, []rec{{0, 1}, {0.5, 2}}, 0.9, 3, true},
		{"reset after silence", 3 * time.Second, []rec{{0, 9}, {10, 1}, {11, 3}}, 11, 2, true},
		{"too-old write dropped", 3 * time.Second, []rec{{10, 3}, {5, 100}}, 10, 3, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBuckets(tc.window, time.Second)
			for _, r := range tc.recs {
				b.Record(at(r.t), r.v)
			}
			got, ok := b.WindowAverage(at(tc.now))
			if diff := cmp.Diff([]any{tc.want, tc.wantOK}, []any{got, ok}); diff != "" {
				t.Errorf("WindowAverage (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExtremum(t *testing.T) {
	recs := []rec{{0, 5}, {1, 3}, {2, 4}, {3, 1}, {4, 2}, {10, 0}}
	tests := []struct {
		name   string
		max    bool
		upTo   int // records applied
		now    float64
		want   float64
		wantOK bool
	}{
		{"max all in window", true, 5, 4, 5, true},
		{"max window (1,4]", true, 5, 4.0, 4, true},
		{"max window (2,5]: 4 at 2s left", true, 5, 5, 2, true},
		{"max window (3,6]", true, 5, 6, 2, true},
		{"max empty window", true, 5, 9, 0, false},
		{"min window (1,4]", false, 5, 4, 1, true},
		{"min window (4,7]", false, 5, 7, 0, false},
		{"max after big gap", true, 6, 10, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := NewMin(3 * time.Second)
			if tc.max {
				e = NewMax(3 * time.Second)
			}
			if tc.name == "max all in window" {
				e = NewMax(10 * time.Second)
			}
			for _, r := range recs[:tc.upTo] {
				e.Record(at(r.t), r.v)
			}
			got, ok := e.Value(at(tc.now))
			if diff := cmp.Diff([]any{tc.want, tc.wantOK}, []any{got, ok}); diff != "" {
				t.Errorf("Value (-want +got):\n%s", diff)
			}
		})
	}
}

// TestExtremumValueAt: the time returned is the newest recording of the extremum (equal values:
// the newest), so the value leaves the window at that time + window.
func TestExtremumValueAt(t *testing.T) {
	e := NewMax(3 * time.Second)
	for _, r := range []rec{{0, 5}, {1, 3}, {2, 5}, {3, 4}} {
		e.Record(at(r.t), r.v)
	}
	for _, tc := range []struct {
		now, want, wantAt float64
		wantOK            bool
	}{
		{3, 5, 2, true},   // 5 at 0 and at 2: the newer
		{4.5, 5, 2, true}, // (1.5, 4.5]
		{5.5, 4, 3, true}, // the 5 at 2 has left
		{7, 0, 0, false},
	} {
		v, when, ok := e.ValueAt(at(tc.now))
		wantWhen := time.Time{}
		if tc.wantOK {
			wantWhen = at(tc.wantAt)
		}
		if v != tc.want || ok != tc.wantOK || !when.Equal(wantWhen) {
			t.Errorf("ValueAt(%g) = %g, %s, %t; want %g at %g, %t", tc.now, v, when, ok, tc.want, tc.wantAt, tc.wantOK)
		}
	}
}

// TestExtremumMatchesBruteForce checks the deque against a scan on a seeded random sequence.
func TestExtremumMatchesBruteForce(t *testing.T) {
	var recs []rec
	mx, mn := NewMax(7*time.Second), NewMin(7*time.Second)
	x := uint32(12345)
	next := func() float64 { x = x*1664525 + 1013904223; return float64(x>>16) / 65536 }
	ts := 0.0
	for i := 0; i < 2000; i++ {
		ts += next() * 2
		v := math.Floor(next() * 50)
		recs = append(recs, rec{ts, v})
		mx.Record(at(ts), v)
		mn.Record(at(ts), v)
		wantMax, wantMin := math.Inf(-1), math.Inf(1)
		for _, r := range recs {
			if r.t > ts-7 {
				wantMax, wantMin = math.Max(wantMax, r.v), math.Min(wantMin, r.v)
			}
		}
		gotMax, _ := mx.Value(at(ts))
		gotMin, _ := mn.Value(at(ts))
		if gotMax != wantMax || gotMin != wantMin {
			t.Fatalf("step %d at %.3fs: max %v want %v, min %v want %v", i, ts, gotMax, wantMax, gotMin, wantMin)
		}
	}
	if mx.Len() > 2000 {
		t.Errorf("deque kept %d samples", mx.Len())
	}
}

func TestAlpha(t *testing.T) {
	tests := []struct {
		dt, hl time.Duration
		want   float64
	}{
		{0, time.Minute, 0},
		{-time.Second, time.Minute, 0},
		{time.Minute, time.Minute, 0.5},
		{2 * time.Minute, time.Minute, 0.75},
		{time.Second, 0, 1},
	}
	for _, tc := range tests {
		if got := Alpha(tc.dt, tc.hl); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("Alpha(%s, %s) = %v, want %v", tc.dt, tc.hl, got, tc.want)
		}
	}
}

func TestEWMA(t *testing.T) {
	e := NewEWMA(10 * time.Second)
	if _, ok := e.Value(); ok {
		t.Fatal("empty EWMA reports a value")
	}
	steps := []struct {
		t, v, want float64
	}{
		{0, 100, 100},  // first value sets it
		{10, 0, 50},    // one half-life: halfway
		{10, 1000, 50}, // same timestamp: ignored
		{30, 50, 50},   // value equal to average: unchanged
		{50, 130, 110}, // two half-lives: 3/4 of the way
	}
	for _, s := range steps {
		e.Update(at(s.t), s.v)
		got, _ := e.Value()
		if math.Abs(got-s.want) > 1e-9 {
			t.Errorf("after update at %vs with %v: got %v, want %v", s.t, s.v, got, s.want)
		}
	}
}

func TestSeriesSlope(t *testing.T) {
	tests := []struct {
		name   string
		recs   []rec
		now    float64
		want   float64
		wantOK bool
	}{
		{"line", []rec{{0, 1}, {10, 3}, {20, 5}}, 20, 0.2, true},
		{"least squares", []rec{{0, 0}, {1, 1}, {2, 0}, {3, 1}}, 3, 0.2, true},
		{"old points leave the window", []rec{{0, 100}, {50, 0}, {60, 10}}, 60, 1, true},
		{"one point", []rec{{0, 1}}, 0, 0, false},
		{"flat", []rec{{0, 4}, {5, 4}, {9, 4}}, 9, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSeries(30 * time.Second)
			for _, r := range tc.recs {
				s.Record(at(r.t), r.v)
			}
			got, ok := s.Slope(at(tc.now))
			if ok != tc.wantOK || math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("Slope = %v, %v; want %v, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestSeriesDurationAtLeast(t *testing.T) {
	s := NewSeries(30 * time.Second)
	for _, r := range []rec{{0, 1}, {10, 1}, {20, 0}, {25, 1}, {40, 1}, {45, -1}} {
		s.Record(at(r.t), r.v)
	}
	// Window (15, 45]: sample 25 covers (20,25] = 5s, sample 40 covers (25,40] = 15s,
	// sample 20 (value 0) and 45 (value -1) do not count; sample 10 is the anchor.
	if got, want := s.DurationAtLeast(at(45), 1), 20*time.Second; got != want {
		t.Errorf("DurationAtLeast = %s, want %s", got, want)
	}
	// Clipping: recorded up to 25, at 35 the window is (5, 35]; sample 10 covers (5,10] = 5s
	// (its anchor 0 is older), sample 25 covers (20,25] = 5s.
	s = NewSeries(30 * time.Second)
	for _, r := range []rec{{0, 1}, {10, 1}, {20, 0}, {25, 1}} {
		s.Record(at(r.t), r.v)
	}
	if got, want := s.DurationAtLeast(at(35), 1), 10*time.Second; got != want {
		t.Errorf("DurationAtLeast(35) = %s, want %s", got, want)
	}
}

func TestSeriesMean(t *testing.T) {
	s := NewSeries(30 * time.Second)
	if _, ok := s.Mean(at(0)); ok {
		t.Error("empty series: ok")
	}
	for _, r := range []rec{{0, 9}, {10, 1}, {20, 2}, {40, 6}} {
		s.Record(at(r.t), r.v)
	}
	// Window (10, 40]: 20 and 40 (10 is the anchor, outside): (2 + 6) / 2.
	if got, ok := s.Mean(at(40)); !ok || got != 4 {
		t.Errorf("Mean(40) = %g, %v; want 4", got, ok)
	}
	// At 75 the window (45, 75] holds nothing.
	if got, ok := s.Mean(at(75)); ok {
		t.Errorf("Mean(75) = %g, want none", got)
	}
}
