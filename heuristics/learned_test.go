package heuristics

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestLearnedRoundTrip(t *testing.T) {
	h, err := NewHSDS(DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h.Learned(); ok {
		t.Fatal("a new policy reports learned figures")
	}
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	if err := h.Restore(Learned{PodCapacity: 18.5, At: at}); err != nil {
		t.Fatal(err)
	}
	l, ok := h.Learned()
	if !ok || l.PodCapacity != 18.5 || !l.At.Equal(at) {
		t.Fatalf("Learned after Restore = %+v, %v; want 18.5 at %v", l, ok, at)
	}
	// A second Restore does not overwrite what the policy holds.
	if err := h.Restore(Learned{PodCapacity: 3, At: at.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if l, _ := h.Learned(); l.PodCapacity != 18.5 {
		t.Fatalf("second Restore replaced the capacity: %v", l.PodCapacity)
	}
}

func TestLearnedRefusesGarbage(t *testing.T) {
	h, _ := NewHSDS(DefaultPolicy())
	t1 := time.Unix(1000, 0)
	ok1 := SizeThroughput{Pods: 2, Served: 3, Samples: 2, First: t1.Add(-10 * time.Second), Last: t1}
	if err := (Learned{At: t1, Throughput: []SizeThroughput{ok1}}).Validate(); err != nil {
		t.Fatalf("a valid figure refused: %v", err)
	}
	for _, l := range []Learned{
		{PodCapacity: math.NaN(), At: time.Unix(1, 0)},
		{PodCapacity: math.Inf(1), At: time.Unix(1, 0)},
		{PodCapacity: -1, At: time.Unix(1, 0)},
		{PodCapacity: 5},
		{Throughput: []SizeThroughput{ok1}},
		{At: t1, Throughput: []SizeThroughput{ok1, ok1}},
		{At: t1, Throughput: []SizeThroughput{{Pods: 0, Served: 3, Samples: 2, First: t1, Last: t1}}},
		{At: t1, Throughput: []SizeThroughput{{Pods: 2, Served: math.NaN(), Samples: 2, First: t1, Last: t1}}},
		{At: t1, Throughput: []SizeThroughput{{Pods: 2, Served: -1, Samples: 2, First: t1, Last: t1}}},
		{At: t1, Throughput: []SizeThroughput{{Pods: 2, Served: 3, Samples: 0, First: t1, Last: t1}}},
		{At: t1, Throughput: []SizeThroughput{{Pods: 2, Served: 3, Samples: 2, First: t1.Add(time.Second), Last: t1}}},
		{At: t1, Throughput: []SizeThroughput{{Pods: 2, Served: 3, Samples: 2, Last: t1}}},
		{At: t1, Throughput: make([]SizeThroughput, MaxLearnedSizes+1)},
	} {
		err := h.Restore(l)
		if err == nil || !strings.Contains(err.Error(), "restore learned state") {
			t.Errorf("Restore(%+v) = %v, want an error", l, err)
		}
	}
	if _, ok := h.Learned(); ok {
		t.Fatal("a refused Restore left figures behind")
	}
}

// TestLearnedSame: a save is due when the capacity, the set of sizes or the newest figure's time
// moved, and not when nothing did.
func TestLearnedSame(t *testing.T) {
	base := Learned{PodCapacity: 7, At: at(100),
		Throughput: []SizeThroughput{{Pods: 2, Served: 9, Samples: 3, First: at(10), Last: at(100)}}}
	more := base
	more.Throughput = append([]SizeThroughput{{Pods: 1, Served: 5, Samples: 2, First: at(5), Last: at(50)}}, base.Throughput...)
	later := base
	later.At = at(115)
	capacity := base
	capacity.PodCapacity = 8
	for name, tc := range map[string]struct {
		o    Learned
		want bool
	}{
		"identical": {base, true}, "a size more": {more, false}, "a newer figure": {later, false},
		"another capacity": {capacity, false}, "nothing saved": {Learned{}, false},
	} {
		if got := base.Same(tc.o); got != tc.want {
			t.Errorf("%s: Same = %v, want %v", name, got, tc.want)
		}
	}
}
