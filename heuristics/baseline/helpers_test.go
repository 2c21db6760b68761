package baseline

import (
	"fmt"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

// podLoad describes one ready pod's figures.
type podLoad struct {
	inFlight, limit, rate float64
	rej                   heuristics.ByCause
}

// readyPod is a Running, Ready, READY pod with fresh figures sampled at now. Its exposed
// counters are what its rates give since it started, an hour before t0.
func readyPod(i int, l podLoad, now time.Time) heuristics.PodSample {
	started := t0.Add(-time.Hour)
	age := now.Sub(started).Seconds()
	return heuristics.PodSample{
		Exposed: heuristics.Exposition{Time: now, Responses: l.rate * age,
			Rejected503: heuristics.ByCause{Overload: l.rej.Overload * age, NotReady: l.rej.NotReady * age, Upstream: l.rej.Upstream * age},
			InFlight:    l.inFlight, HasInFlight: true, Limit: l.limit},
		Name: fmt.Sprintf("hsds-%d", i), Phase: heuristics.PodRunning, Ready: true, Scheduled: true,
		Created: t0.Add(-time.Hour), Started: t0.Add(-time.Hour),
		Known: true, SampleTime: now, Window: 30 * time.Second,
		NodeState: "READY", NodeCount: 1,
		InFlight: l.inFlight, Limit: l.limit, RequestRate: l.rate, Rejected503: l.rej, Exact503: true,
	}
}

// uniform is a snapshot of n identical ready pods with spec replicas n.
func uniform(n int, l podLoad, now time.Time) heuristics.Snapshot {
	s := heuristics.Snapshot{Time: now, SpecReplicas: int32(n), StatusReplicas: int32(n)}
	for i := 0; i < n; i++ {
		s.Pods = append(s.Pods, readyPod(i, l, now))
	}
	return s
}

// got is the part of a Decision the tests compare.
type got struct {
	Valid    bool
	Replicas int32
	Reason   string
}
