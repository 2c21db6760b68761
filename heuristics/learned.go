package heuristics

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Learned is what a policy has learned that should outlive the process: a restart or a failover
// to another replica starts from it instead of from nothing. It is plain data (JSON: the
// HSDSAutoscaler status stores it) and carries the time it was taken, so a stale copy can be
// weighed down or refused by the caller.
type Learned struct {
	// PodCapacity is the learned one-pod capacity c1 in req/s (0: nothing learned).
	PodCapacity float64 `json:"podCapacity,omitempty"`
	// Throughput is the cluster's served rate per size while its gates shed, the figures of the
	// fan-out ceiling (fanoutMemory): without them a restart forgets a ceiling and probes again.
	Throughput []SizeThroughput `json:"throughput,omitempty"`
	// At is when the figures were last updated.
	At time.Time `json:"at"`
}

// MaxLearnedSizes bounds Learned.Throughput (the status and ConfigMap stay small): the most
// recently measured sizes are kept.
const MaxLearnedSizes = 64

// SizeThroughput is one cluster size's served rate under shedding, as the policy keeps it.
type SizeThroughput struct {
	// Pods is the cluster size.
	Pods int32 `json:"pods"`
	// Served is the smoothed served rate of all its pods, req/s.
	Served float64 `json:"served"`
	// Samples is how many shedding snapshots made it, First and Last when the first and the last
	// were taken (a figure counts from 2 samples over 10 s, and is forgotten fanoutMemory after Last).
	Samples int32     `json:"samples"`
	First   time.Time `json:"first"`
	Last    time.Time `json:"last"`
}

// Same reports whether l carries the figures of o as far as a save needs to know: the same
// capacity, the same number of sizes and the same At (the newest figure's time, so an updated
// figure moves it). The keepers of the learned state (ConfigMap, status) write only when not.
func (l Learned) Same(o Learned) bool {
	return l.PodCapacity == o.PodCapacity && l.At.Equal(o.At) && len(l.Throughput) == len(o.Throughput)
}

// Validate reports a Learned that no policy could have written.
func (l Learned) Validate() error {
	var errs []error
	if math.IsNaN(l.PodCapacity) || math.IsInf(l.PodCapacity, 0) || l.PodCapacity < 0 {
		errs = append(errs, fmt.Errorf("podCapacity: %v is not a finite rate >= 0", l.PodCapacity))
	}
	if (l.PodCapacity > 0 || len(l.Throughput) > 0) && l.At.IsZero() {
		errs = append(errs, errors.New("at: missing"))
	}
	if len(l.Throughput) > MaxLearnedSizes {
		errs = append(errs, fmt.Errorf("throughput: %d sizes, want at most %d", len(l.Throughput), MaxLearnedSizes))
	}
	seen := map[int32]bool{}
	for i, t := range l.Throughput {
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("throughput[%d]: %s", i, fmt.Sprintf(format, args...)))
		}
		switch {
		case t.Pods < 1:
			bad("pods %d: want >= 1", t.Pods)
		case seen[t.Pods]:
			bad("pods %d: a second figure for the same size", t.Pods)
		}
		seen[t.Pods] = true
		if math.IsNaN(t.Served) || math.IsInf(t.Served, 0) || t.Served < 0 {
			bad("served: %v is not a finite rate >= 0", t.Served)
		}
		if t.Samples < 1 {
			bad("samples %d: want >= 1", t.Samples)
		}
		if t.Last.IsZero() || t.First.IsZero() || t.Last.Before(t.First) {
			bad("first %v, last %v: want both, first <= last", t.First, t.Last)
		}
	}
	return errors.Join(errs...)
}

// Learner is a Recommender whose learned figures can be saved and restored.
type Learner interface {
	// Learned returns the figures learned so far; ok is false when nothing has been learned.
	Learned() (l Learned, ok bool)
	// Restore seeds the policy with figures saved by Learned (an empty history only: a policy
	// that has learned something itself keeps its own). It refuses an invalid Learned.
	Restore(l Learned) error
}

var _ Learner = (*HSDS)(nil)

// Learned implements Learner: the learned capacity, when the policy learns one (a pinned
// podCapacity is configuration, not learning), and the fan-out ceiling's throughput figures
// (sizes, smallest first; those older than fanoutMemory before the newest are left out).
func (h *HSDS) Learned() (Learned, bool) {
	var l Learned
	if c1, ok := h.capacity.Value(); ok && c1 > 0 {
		l.PodCapacity, l.At = c1, h.capacity.Last()
	}
	l.Throughput = h.fanout.export()
	for _, t := range l.Throughput {
		if t.Last.After(l.At) {
			l.At = t.Last
		}
	}
	if l.PodCapacity == 0 && len(l.Throughput) == 0 {
		return Learned{}, false
	}
	return l, true
}

// Restore implements Learner. Each figure is restored only where the policy has none of its own.
func (h *HSDS) Restore(l Learned) error {
	if err := l.Validate(); err != nil {
		return fmt.Errorf("restore learned state: %w", err)
	}
	if _, ok := h.capacity.Value(); !ok && l.PodCapacity > 0 {
		h.capacity.Update(l.At, l.PodCapacity)
	}
	if h.p.FanoutMemory.Duration > 0 {
		h.fanout.restore(l.Throughput)
	}
	return nil
}
