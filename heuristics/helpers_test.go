package heuristics

import (
	"fmt"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

// podLoad describes one ready pod's figures.
type podLoad struct {
	inFlight, limit, rate float64
	rej                   ByCause
}

// readyPod is a Running, Ready, READY pod with fresh figures sampled at now.
func readyPod(i int, l podLoad, now time.Time) PodSample {
	return PodSample{
		Name: fmt.Sprintf("hsds-%d", i), Phase: PodRunning, Ready: true, Scheduled: true,
		Created: t0.Add(-time.Hour), Started: t0.Add(-time.Hour),
		Known: true, Fresh: true, SampleTime: now, Window: 30 * time.Second,
		NodeState: nodeStateReady, NodeCount: 1,
		InFlight: l.inFlight, Limit: l.limit, RequestRate: l.rate, Rejected503: l.rej, Exact503: true,
	}
}

// uniform is a snapshot of n identical ready pods with spec replicas n.
func uniform(n int, l podLoad, now time.Time) Snapshot {
	s := Snapshot{Time: now, SpecReplicas: int32(n), StatusReplicas: int32(n), MinReplicas: 1, MaxReplicas: 20}
	for i := 0; i < n; i++ {
		s.Pods = append(s.Pods, readyPod(i, l, now))
	}
	return s
}

// testPolicy is the default policy with a fixed capacity, no fan-out and target 0.6, so hand
// figures stay simple: each pod serves 10 req/s at full utilization, 6 at the target.
func testPolicy() Policy {
	p := DefaultPolicy()
	p.PodCapacity = 10
	p.FanoutShare = 0
	p.TargetUtilization = 0.6
	return p
}

func mustHSDS(p Policy) *HSDS {
	h, err := NewHSDS(p)
	if err != nil {
		panic(err)
	}
	return h
}

// envelope plays the scaler's part for the in-package tests (heuristics/internal/snapshots has
// the same as Envelope, which this package's own tests cannot import): bounds [1, 20], Fresh by
// the scaler's default 60 s sample-age limit, LastChange from spec changes and applied changes,
// Settling within the default 50 s settle time.
type envelope struct {
	lastChange time.Time
	spec       int32
	seen       bool
}

const (
	testSettle = 50 * time.Second
	testMaxAge = 60 * time.Second
)

func (e *envelope) fill(s Snapshot) Snapshot {
	if e.seen && s.SpecReplicas != e.spec {
		e.lastChange = s.Time
	}
	e.spec, e.seen = s.SpecReplicas, true
	if s.MaxReplicas == 0 {
		s.MinReplicas, s.MaxReplicas = 1, 20
	}
	s.LastChange = e.lastChange
	s.Settling = !e.lastChange.IsZero() && s.Time.Sub(e.lastChange) < testSettle
	pods := make([]PodSample, len(s.Pods))
	for i, p := range s.Pods {
		p.Fresh = p.Known && !p.SampleTime.IsZero() && s.Time.Sub(p.SampleTime) <= testMaxAge
		pods[i] = p
	}
	s.Pods = pods
	return s
}

func (e *envelope) applied(replicas int32, at time.Time) {
	e.lastChange, e.spec, e.seen = at, replicas, true
}
