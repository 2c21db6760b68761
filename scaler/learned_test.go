package scaler

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

type memLearned struct {
	saved   *heuristics.Learned
	writes  int
	loadErr error
	saveErr error
}

func (m *memLearned) LoadLearned(context.Context) (heuristics.Learned, bool, error) {
	if m.loadErr != nil || m.saved == nil {
		return heuristics.Learned{}, false, m.loadErr
	}
	return *m.saved, true, nil
}

func (m *memLearned) SaveLearned(_ context.Context, l heuristics.Learned) error {
	if m.saveErr != nil {
		return m.saveErr
	}
	m.saved, m.writes = &l, m.writes+1
	return nil
}

// fakeLearner is a Learner whose learned figure the test sets.
type fakeLearner struct {
	l        heuristics.Learned
	ok       bool
	restored *heuristics.Learned
}

func (f *fakeLearner) Learned() (heuristics.Learned, bool) { return f.l, f.ok }
func (f *fakeLearner) Restore(l heuristics.Learned) error {
	if err := l.Validate(); err != nil {
		return err
	}
	f.restored = &l
	return nil
}

// TestLearnedKeeper: the saved state is restored before the loop, a change is written from the
// steps at most every Interval, the last change once more when the loop ends; nothing in dry-run.
func TestLearnedKeeper(t *testing.T) {
	ctx := context.Background()
	old := heuristics.Learned{PodCapacity: 20, At: t0}
	store := &memLearned{saved: &old}
	lr := &fakeLearner{}
	k := &LearnedKeeper{Learner: lr, Store: store, Interval: 30 * time.Second}
	var steps []time.Time
	err := k.Run(ctx, func(context.Context) error {
		if lr.restored == nil || !cmp.Equal(*lr.restored, old) {
			t.Errorf("loop started before the restore: %v", lr.restored)
		}
		lr.l, lr.ok = heuristics.Learned{PodCapacity: 20, At: t0}, true // what was restored: no write
		k.OnStep(Outcome{Time: t0.Add(time.Second)}, nil)
		lr.l = heuristics.Learned{PodCapacity: 25, At: t0.Add(2 * time.Second)}
		k.OnStep(Outcome{Time: t0.Add(2 * time.Second)}, nil) // written
		steps = append(steps, t0.Add(2*time.Second))
		lr.l = heuristics.Learned{PodCapacity: 26, At: t0.Add(10 * time.Second)}
		k.OnStep(Outcome{Time: t0.Add(10 * time.Second)}, nil) // within the interval: not yet
		if store.writes != 1 || store.saved.PodCapacity != 25 {
			t.Errorf("during the loop: writes %d, saved %+v; want 1 write of 25", store.writes, *store.saved)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(heuristics.Learned{PodCapacity: 26, At: t0.Add(10 * time.Second)}, *store.saved); diff != "" || store.writes != 2 {
		t.Errorf("after the loop (flush) writes %d (-want +got):\n%s", store.writes, diff)
	}

	dry := &memLearned{}
	k = &LearnedKeeper{Learner: &fakeLearner{l: old, ok: true}, Store: dry, Interval: time.Second, DryRun: true}
	_ = k.Run(ctx, func(context.Context) error { k.OnStep(Outcome{Time: t0}, nil); return nil })
	if dry.writes != 0 {
		t.Errorf("dry-run wrote %d times", dry.writes)
	}
}

// TestLearnedKeeperStoreErrors: a store that fails to load or save stops nothing.
func TestLearnedKeeperStoreErrors(t *testing.T) {
	store := &memLearned{loadErr: errors.New("forbidden"), saveErr: errors.New("forbidden")}
	lr := &fakeLearner{l: heuristics.Learned{PodCapacity: 9, At: t0}, ok: true}
	k := &LearnedKeeper{Learner: lr, Store: store, Interval: time.Second}
	ran := false
	if err := k.Run(context.Background(), func(context.Context) error {
		ran = true
		k.OnStep(Outcome{Time: t0}, nil)
		return nil
	}); err != nil || !ran || lr.restored != nil {
		t.Errorf("run: err %v, ran %v, restored %v", err, ran, lr.restored)
	}
}
