package snapshots

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/heuristics"
)

// T0 is the tests' epoch.
var T0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// At is T0 plus s seconds.
func At(s float64) time.Time { return T0.Add(time.Duration(s * float64(time.Second))) }

// Load is one ready pod's figures.
type Load struct {
	InFlight, Limit, Rate float64
	Rej                   heuristics.ByCause
}

// ReadyPod is a Running, Ready, READY pod named hsds-<i> with fresh figures sampled at now. Its
// exposed counters are what its rates give since it started, an hour before T0.
func ReadyPod(i int, l Load, now time.Time) heuristics.PodSample {
	age := now.Sub(T0.Add(-time.Hour)).Seconds()
	return heuristics.PodSample{
		Exposed: heuristics.Exposition{Time: now, Responses: l.Rate * age,
			Rejected503: heuristics.ByCause{Overload: l.Rej.Overload * age, NotReady: l.Rej.NotReady * age, Upstream: l.Rej.Upstream * age},
			InFlight:    l.InFlight, HasInFlight: true, Limit: l.Limit},
		Name: fmt.Sprintf("hsds-%d", i), Phase: heuristics.PodRunning, Ready: true, Scheduled: true,
		Created: T0.Add(-time.Hour), Started: T0.Add(-time.Hour),
		Known: true, SampleTime: now, Window: 30 * time.Second,
		NodeState: "READY", NodeCount: 1,
		InFlight: l.InFlight, Limit: l.Limit, RequestRate: l.Rate, Rejected503: l.Rej, Exact503: true,
	}
}

// Uniform is a snapshot of n identical ready pods with spec replicas n.
func Uniform(n int, l Load, now time.Time) heuristics.Snapshot {
	s := heuristics.Snapshot{Time: now, SpecReplicas: int32(n), StatusReplicas: int32(n)}
	for i := 0; i < n; i++ {
		s.Pods = append(s.Pods, ReadyPod(i, l, now))
	}
	return s
}

// Random builds a snapshot of spec replicas with random pod states and loads. Loads are
// correlated through level (0..1.5) so that overload, busy and idle phases all occur.
func Random(r *rand.Rand, spec int32, now time.Time, level float64) heuristics.Snapshot {
	s := heuristics.Snapshot{Time: now, SpecReplicas: spec, StatusReplicas: spec}
	for i := 0; i < int(spec); i++ {
		l := Load{Limit: 100, InFlight: min(100, 100*level*(0.8+0.4*r.Float64()))}
		l.Rate = 20 * level * (0.5 + r.Float64())
		if level > 1 {
			l.Rej.Overload = l.Rate * (level - 1) * r.Float64()
		}
		if r.IntN(10) == 0 {
			l.Rej.NotReady = r.Float64() * 5
		}
		p := ReadyPod(i, l, now)
		switch r.IntN(25) {
		case 0:
			p.Known = false
		case 1:
			p.SampleTime = now.Add(-time.Duration(r.IntN(300)) * time.Second)
		case 2:
			p = heuristics.PodSample{Name: p.Name, Phase: heuristics.PodPending}
		case 3:
			p.NodeState = "WAITING"
		case 4:
			p.Ready = false
		}
		s.Pods = append(s.Pods, p)
	}
	return s
}

// Walk drives a level in [0, 1.5] with occasional jumps.
func Walk(r *rand.Rand, level float64) float64 {
	if r.IntN(50) == 0 {
		return r.Float64() * 1.5
	}
	return min(1.5, max(0, level+(r.Float64()-0.5)*0.1))
}

// Envelope plays the scaler's part for tests that drive a policy alone: it fills a snapshot's
// envelope fields the way scaler.Controller does (bounds; Fresh by MaxAge; LastChange from
// spec.replicas changes and Applied; Settling within Settle of it).
type Envelope struct {
	Min, Max       int32
	Settle, MaxAge time.Duration
	LastChange     time.Time
	spec           int32
	seen           bool
}

// NewEnvelope is an Envelope with the scaler's default settle time (50 s) and sample-age limit
// (60 s), scaler.DefaultGuards, which this package may not import.
func NewEnvelope(minReplicas, maxReplicas int32) *Envelope {
	return &Envelope{Min: minReplicas, Max: maxReplicas, Settle: 50 * time.Second, MaxAge: 60 * time.Second}
}

// Fill returns s with the envelope's fields set at s.Time; a spec.replicas different from the
// last one seen counts as a change at s.Time (someone else scaled).
func (e *Envelope) Fill(s heuristics.Snapshot) heuristics.Snapshot {
	if e.seen && s.SpecReplicas != e.spec {
		e.LastChange = s.Time
	}
	e.spec, e.seen = s.SpecReplicas, true
	s.MinReplicas, s.MaxReplicas, s.LastChange = e.Min, e.Max, e.LastChange
	s.Settling = !e.LastChange.IsZero() && s.Time.Sub(e.LastChange) < e.Settle
	pods := make([]heuristics.PodSample, len(s.Pods))
	for i, p := range s.Pods {
		p.Fresh = p.Known && !p.SampleTime.IsZero() && s.Time.Sub(p.SampleTime) <= e.MaxAge
		pods[i] = p
	}
	s.Pods = pods
	return s
}

// Applied records a replica change written at at.
func (e *Envelope) Applied(replicas int32, at time.Time) {
	e.LastChange, e.spec, e.seen = at, replicas, true
}
