package collector_test

import (
	"context"
	"errors"
	"testing"
	"time"

	testclock "k8s.io/utils/clock/testing"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/collector"
)

// gate is a Rounder whose rounds finish only when the test lets them.
type gate struct{ started, finish chan struct{} }

func (g gate) Round(ctx context.Context) {
	g.started <- struct{}{}
	select {
	case <-g.finish:
	case <-ctx.Done():
	}
}

func TestLoopProbes(t *testing.T) {
	clk := testclock.NewFakeClock(t0)
	g := gate{started: make(chan struct{}), finish: make(chan struct{})}
	l := collector.NewLoop(g, clk, time.Second, 0.1, 1)
	if err := l.Live(); !errors.Is(err, collector.ErrNotStarted) {
		t.Errorf("Live before start = %v, want ErrNotStarted", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); l.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	<-g.started
	if err := l.Ready(); !errors.Is(err, collector.ErrNoRound) {
		t.Errorf("Ready during the first round = %v, want ErrNoRound", err)
	}
	g.finish <- struct{}{}
	for !clk.HasWaiters() { // the loop now waits for its jittered interval
		time.Sleep(time.Millisecond)
	}
	if err := l.Ready(); err != nil {
		t.Errorf("Ready after one round = %v", err)
	}
	if err := l.Live(); err != nil {
		t.Errorf("Live = %v", err)
	}
	clk.Step(1100 * time.Millisecond) // past the longest jittered wait
	<-g.started
	// The second round hangs: liveness fails once more than 3 intervals pass without a tick.
	clk.Step(2 * time.Second)
	if err := l.Live(); err != nil {
		t.Errorf("Live 2 s into a round = %v, want nil", err)
	}
	clk.Step(1500 * time.Millisecond)
	if err := l.Live(); !errors.Is(err, collector.ErrLate) {
		t.Errorf("Live 3.5 s into a round = %v, want ErrLate", err)
	}
	if n := l.Rounds(); n != 1 {
		t.Errorf("Rounds = %d, want 1", n)
	}
}

// NextRound's channel closes when the round in progress completes, and a new one is handed out.
func TestLoopNextRound(t *testing.T) {
	clk := testclock.NewFakeClock(t0)
	g := gate{started: make(chan struct{}), finish: make(chan struct{})}
	l := collector.NewLoop(g, clk, time.Second, 0, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); l.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	<-g.started
	next := l.NextRound()
	stillOpen(t, next, "NextRound closed before the round completed")
	g.finish <- struct{}{}
	closesWithin(t, next, "NextRound not closed after the round completed")
	if l.NextRound() == next {
		t.Error("NextRound returned the closed channel again")
	}
}

// FirstRound is closed when the first round completes and stays closed; asked for after it, it is
// closed at once (the scaler waits on it before its first decisions).
func TestLoopFirstRound(t *testing.T) {
	clk := testclock.NewFakeClock(t0)
	g := gate{started: make(chan struct{}), finish: make(chan struct{})}
	l := collector.NewLoop(g, clk, time.Second, 0.1, 1)
	first := l.FirstRound()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); l.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	<-g.started
	stillOpen(t, first, "FirstRound closed during the first round")
	g.finish <- struct{}{}
	closesWithin(t, first, "FirstRound not closed after the first round")
	for !clk.HasWaiters() {
		time.Sleep(time.Millisecond)
	}
	clk.Step(1100 * time.Millisecond)
	<-g.started
	g.finish <- struct{}{} // a second round: the channel stays closed, no double close
	select {
	case <-l.FirstRound():
	default:
		t.Error("FirstRound asked for after the first round is not closed")
	}
}

// stillOpen fails the test with msg if ch is closed now.
func stillOpen(t *testing.T, ch <-chan struct{}, msg string) {
	t.Helper()
	select {
	case <-ch:
		t.Fatal(msg)
	default:
	}
}

// closesWithin fails the test with msg unless ch is closed within 5 s.
func closesWithin(t *testing.T, ch <-chan struct{}, msg string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal(msg)
	}
}
