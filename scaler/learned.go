package scaler

import (
	"context"
	"fmt"
	"time"

	"k8s.io/klog/v2"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

// LearnedStore keeps a policy's learned state across restarts and failovers (serve: a ConfigMap,
// scaler/kube.ConfigMapLearned). The HSDSAutoscaler objects keep theirs in their status instead.
type LearnedStore interface {
	// LoadLearned returns the saved state; ok is false when nothing is saved.
	LoadLearned(ctx context.Context) (l heuristics.Learned, ok bool, err error)
	SaveLearned(ctx context.Context, l heuristics.Learned) error
}

// LearnedKeeper saves what the policy file's policy learns: restored before the controller's
// first step, then written when it changed, at most every Interval, from the controller's own
// goroutine (Deps.OnStep: the policy is not safe for concurrent use), and once more when the
// controller stops. A failed load or save is logged; the scaler goes on without it.
type LearnedKeeper struct {
	Learner  heuristics.Learner
	Store    LearnedStore
	Interval time.Duration
	// DryRun: restore, never write.
	DryRun bool

	saved     heuristics.Learned
	lastWrite time.Time
}

// Run restores the saved state (a failure is logged: the loop starts from nothing), runs loop
// (the controller's Run, with OnStep as its Deps.OnStep) and saves once more when it ends.
func (k *LearnedKeeper) Run(ctx context.Context, loop func(context.Context) error) error {
	if err := k.Restore(ctx); err != nil {
		klog.ErrorS(err, "Not restoring the learned state")
	}
	err := loop(ctx)
	k.Flush(ctx)
	return err
}

// OnStep is a Deps.OnStep: it saves at the step's time (Step), within 5 s (the controller's loop
// waits for it).
func (k *LearnedKeeper) OnStep(o Outcome, _ error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	k.Step(ctx, o.Time)
}

// Restore seeds the policy with the saved state, if any.
func (k *LearnedKeeper) Restore(ctx context.Context) error {
	l, ok, err := k.Store.LoadLearned(ctx)
	if err != nil || !ok {
		return err
	}
	if err := k.Learner.Restore(l); err != nil {
		return err
	}
	k.saved = l
	klog.InfoS("Restored the learned state", "podCapacity", l.PodCapacity, "throughputSizes", len(l.Throughput), "at", l.At)
	return nil
}

// Step saves the learned state at now when it changed since the last save and Interval passed.
func (k *LearnedKeeper) Step(ctx context.Context, now time.Time) {
	if !k.lastWrite.IsZero() && now.Sub(k.lastWrite) < k.Interval {
		return
	}
	wrote, err := k.save(ctx)
	if err != nil {
		klog.ErrorS(err, "Saving the learned state failed")
		return
	}
	if wrote {
		k.lastWrite = now
	}
}

// Flush saves the learned state if it changed (the controller stopped: serve ends or lost the
// lease). It uses its own 5 s deadline, ctx's values only.
func (k *LearnedKeeper) Flush(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := k.save(ctx); err != nil {
		klog.ErrorS(err, "Saving the learned state failed")
	}
}

// save writes the learned state when it differs from the last one saved or restored.
func (k *LearnedKeeper) save(ctx context.Context) (bool, error) {
	l, ok := k.Learner.Learned()
	if !ok || k.DryRun || l.Same(k.saved) {
		return false, nil
	}
	if err := k.Store.SaveLearned(ctx, l); err != nil {
		return false, fmt.Errorf("save learned state: %w", err)
	}
	k.saved = l
	return true, nil
}
