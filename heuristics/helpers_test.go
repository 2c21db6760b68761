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
		Known: true, SampleTime: now, Window: 30 * time.Second,
		NodeState: nodeStateReady, NodeCount: 1,
		InFlight: l.inFlight, Limit: l.limit, RequestRate: l.rate, Rejected503: l.rej, Exact503: true,
	}
}

// uniform is a snapshot of n identical ready pods with spec replicas n.
func uniform(n int, l podLoad, now time.Time) Snapshot {
	s := Snapshot{Time: now, SpecReplicas: int32(n), StatusReplicas: int32(n)}
	for i := 0; i < n; i++ {
		s.Pods = append(s.Pods, readyPod(i, l, now))
	}
	return s
}

// testPolicy is the default policy with a fixed capacity and no fan-out, so hand figures stay
// simple: each pod serves 10 req/s at full utilization, 6 at the 0.6 target.
func testPolicy() Policy {
	p := DefaultPolicy()
	p.MaxReplicas = 20
	p.PodCapacity = 10
	p.FanoutShare = 0
	return p
}

func mustHSDS(p Policy) *HSDS {
	h, err := NewHSDS(p)
	if err != nil {
		panic(err)
	}
	return h
}
