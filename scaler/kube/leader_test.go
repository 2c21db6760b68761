package kube

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/hsds-autoscaler/hsds-autoscaler/internal/testwait"
	"github.com/hsds-autoscaler/hsds-autoscaler/scaler"
)

// loops counts the loops running at once and who ran.
type loops struct {
	mu               sync.Mutex
	running, maxSeen int
	ran              []string
}

func (l *loops) run(id string) func(ctx context.Context) {
	return func(ctx context.Context) {
		l.mu.Lock()
		l.running++
		l.maxSeen = max(l.maxSeen, l.running)
		l.ran = append(l.ran, id)
		l.mu.Unlock()
		<-ctx.Done()
		l.mu.Lock()
		l.running--
		l.mu.Unlock()
	}
}

func (l *loops) snapshot() (running, maxSeen int, ran []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.running, l.maxSeen, append([]string(nil), l.ran...)
}

func fastLease(id string) scaler.LeaderElectionOptions {
	return scaler.LeaderElectionOptions{Enabled: true, Namespace: "default", Name: "hsds-autoscaler", Identity: id,
		LeaseDuration: time.Second, RenewDeadline: 500 * time.Millisecond, RetryPeriod: 100 * time.Millisecond}
}

// stableLease is fastLease with margins a loaded CI machine keeps: with a 500 ms renew deadline
// a leader starved of CPU for that long (4 busy loops on 2 cores here) lost its lease while its
// loop still ran, and the test saw two loops at once. client-go's leader election is not a fence;
// exclusivity holds while the leader renews within RenewDeadline (< LeaseDuration).
func stableLease(id string) scaler.LeaderElectionOptions {
	o := fastLease(id)
	o.LeaseDuration, o.RenewDeadline, o.RetryPeriod = 4*time.Second, 3*time.Second, 250*time.Millisecond
	return o
}

func TestLeaderElectionOneLeader(t *testing.T) {
	cs := fake.NewClientset()
	var l loops
	type cand struct {
		cancel context.CancelFunc
		done   chan error
	}
	cands := map[string]*cand{}
	for _, id := range []string{"a", "b"} {
		ctx, cancel := context.WithCancel(context.Background())
		c := &cand{cancel: cancel, done: make(chan error, 1)}
		cands[id] = c
		go func() {
			c.done <- RunWithLeaderElection(ctx, LeaderElectionConfig{Client: cs, Options: stableLease(id)}, l.run(id))
		}()
	}
	t.Cleanup(func() {
		for _, c := range cands {
			c.cancel()
		}
		for _, c := range cands {
			if err := <-c.done; err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, ErrLeadershipLost) {
				t.Errorf("candidate stopped with %v", err)
			}
		}
	})
	testwait.For(t, "the condition", func() bool { r, _, _ := l.snapshot(); return r == 1 })
	time.Sleep(stableLease("").LeaseDuration + 500*time.Millisecond) // longer than the lease: the follower must still wait
	running, maxSeen, ran := l.snapshot()
	if running != 1 || maxSeen != 1 || len(ran) != 1 {
		t.Fatalf("running %d, max %d, ran %v: want exactly one leader", running, maxSeen, ran)
	}
	leader, follower := ran[0], map[string]string{"a": "b", "b": "a"}[ran[0]]
	cands[leader].cancel()
	if err := <-cands[leader].done; err != nil {
		t.Errorf("leader returned %v on cancel, want nil", err)
	}
	cands[leader].done <- nil // for Cleanup
	testwait.For(t, "the condition", func() bool { _, _, r := l.snapshot(); return len(r) == 2 })
	_, maxSeen, ran = l.snapshot()
	if ran[1] != follower || maxSeen != 1 {
		t.Errorf("after the leader left: ran %v, max concurrent %d; want %s to take over alone", ran, maxSeen, follower)
	}
}

func TestLeaderElectionDisabledRunsAtOnce(t *testing.T) {
	var changes []bool
	ctx, cancel := context.WithCancel(context.Background())
	ran := false
	err := RunWithLeaderElection(ctx, LeaderElectionConfig{OnLeaderChange: func(b bool) { changes = append(changes, b) }},
		func(context.Context) { ran = true; cancel() })
	if err != nil || !ran {
		t.Fatalf("err %v, ran %v", err, ran)
	}
	if len(changes) != 2 || !changes[0] || changes[1] {
		t.Errorf("leader changes = %v, want [true false]", changes)
	}
}

func TestLeaderElectionLostReturnsError(t *testing.T) {
	cs := fake.NewClientset()
	var failing atomic.Bool // reactors must be installed before use: the fake does not lock them
	cs.PrependReactor("update", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
		if failing.Load() {
			return true, nil, errors.New("apiserver unavailable")
		}
		return false, nil, nil
	})
	var l loops
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	done := make(chan error, 1)
	var leading []bool
	var mu sync.Mutex
	cfg := LeaderElectionConfig{Client: cs, Options: fastLease("a"), OnLeaderChange: func(b bool) { mu.Lock(); leading = append(leading, b); mu.Unlock() }}
	go func() { done <- RunWithLeaderElection(ctx, cfg, l.run("a")) }()
	testwait.For(t, "the condition", func() bool { r, _, _ := l.snapshot(); return r == 1 })
	// The API server stops accepting renewals: after RenewDeadline leadership is lost.
	failing.Store(true)
	select {
	case err := <-done:
		if !errors.Is(err, ErrLeadershipLost) {
			t.Errorf("want ErrLeadershipLost, got %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("did not notice the lost lease within 5s")
	}
	if r, _, _ := l.snapshot(); r != 0 {
		t.Error("loop still running after leadership was lost")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(leading) != 2 || !leading[0] || leading[1] {
		t.Errorf("leader changes = %v, want [true false]", leading)
	}
}
