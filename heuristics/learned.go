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
	// At is when the figures were last updated.
	At time.Time `json:"at"`
}

// Validate reports a Learned that no policy could have written.
func (l Learned) Validate() error {
	var errs []error
	if math.IsNaN(l.PodCapacity) || math.IsInf(l.PodCapacity, 0) || l.PodCapacity < 0 {
		errs = append(errs, fmt.Errorf("podCapacity: %v is not a finite rate >= 0", l.PodCapacity))
	}
	if l.PodCapacity > 0 && l.At.IsZero() {
		errs = append(errs, errors.New("at: missing"))
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
// podCapacity is configuration, not learning).
func (h *HSDS) Learned() (Learned, bool) {
	c1, ok := h.capacity.Value()
	if !ok || c1 <= 0 {
		return Learned{}, false
	}
	return Learned{PodCapacity: c1, At: h.capacity.Last()}, true
}

// Restore implements Learner.
func (h *HSDS) Restore(l Learned) error {
	if err := l.Validate(); err != nil {
		return fmt.Errorf("restore learned state: %w", err)
	}
	if _, ok := h.capacity.Value(); ok || l.PodCapacity == 0 {
		return nil
	}
	h.capacity.Update(l.At, l.PodCapacity)
	return nil
}
