package sim

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/adapter/store"
)

// Epoch is simulated time zero, as a wall-clock instant (fixed so runs are reproducible).
func Epoch() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }

// LoadFunc is the offered load: logical client requests per second at simulated second t.
type LoadFunc func(t float64) float64

// Sim is one simulated HSDS cluster under one load. It is not safe for concurrent use: the
// caller alternates Tick and the control methods on one goroutine.
type Sim struct {
	sc   Scenario
	rng  *rand.Rand
	load LoadFunc
	tick int64

	spec      int32
	pods      []*pod // live pods in creation order
	endpoints []*pod // started pods: the Service's endpoints and the HSDS roster
	nextPod   int
	nodes     []*node
	store     *store.Store // the adapter's store, fed by the simulated agents

	notReadyUntil float64  // RescaleNotReady: cluster-wide not-ready 503s until then
	mismatch      mismatch // RescalePartition: the partition mismatch in force
	stuckPods     int      // serving pods stuck WAITING
	routes        routes   // client connections' spread over the pods
	routeDirty    bool     // routes must be rebuilt
	retries       retryQueue
	releaseLen    int
	scrapeEvery   float64
	scrapes       int64     // scrape rounds so far
	pollEvery     float64   // ticks between agent polls of HSDS (AgentInfo), may be fractional
	rated         []float64 // rated ClusterCapacity(n), computed once per n (Status)
	dnOverride    int       // > 0: the DN count requests fan out over, whatever the roster (MeasureCapacity)
	free          []float64 // scratch of admit's makespan
	stats         Stats
}

// New builds a simulator whose first `initial` replicas are already running and READY on
// enough ready nodes. seed fixes every random draw.
func New(sc Scenario, load LoadFunc, initial int32, seed uint64) (*Sim, error) {
	if err := sc.Validate(); err != nil {
		return nil, fmt.Errorf("new simulator: %w", err)
	}
	if initial < sc.MinReplicas || initial > sc.MaxReplicas {
		return nil, fmt.Errorf("new simulator: initial replicas %d outside [%d, %d]", initial, sc.MinReplicas, sc.MaxReplicas)
	}
	if load == nil {
		return nil, errors.New("new simulator: nil load")
	}
	maxWait := math.Max(sc.BackoffMaxSeconds, sc.RetryAfterSeconds)
	s := &Sim{
		sc:          sc,
		rng:         rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		load:        load,
		spec:        initial,
		retries:     newRetryQueue(int(math.Ceil(maxWait/sc.TickSeconds)) + 2),
		releaseLen:  int(math.Ceil(sc.longestHold()/sc.TickSeconds)) + 2,
		scrapeEvery: PeriodTicks(sc.ScrapeIntervalSeconds, sc.TickSeconds),
		pollEvery:   PeriodTicks(sc.AgentPollSeconds, sc.TickSeconds),
		stats:       newStats(),
		store:       newStore(sc),
	}
	for range (int(initial) + sc.PodsPerNode - 1) / sc.PodsPerNode {
		s.nodes = append(s.nodes, &node{readyAt: 0, emptySince: -1})
	}
	for range initial {
		p := s.newPod(0)
		n := s.nodes[len(s.pods)/sc.PodsPerNode]
		n.pods++
		p.node, p.scheduledAt, p.startedAt = n, 0, 0
		s.pods = append(s.pods, p)
	}
	s.rosterChanged(math.Inf(-1), 0, 0)
	return s, nil
}

// Scenario returns the scenario the simulator runs.
func (s *Sim) Scenario() Scenario { return s.sc }

// Seconds is the simulated time in seconds since Epoch.
func (s *Sim) Seconds() float64 { return float64(s.tick) * s.sc.TickSeconds }

// Now is the simulated time.
func (s *Sim) Now() time.Time { return At(s.Seconds()) }

// At converts simulated seconds to a time.
func At(seconds float64) time.Time { return Epoch().Add(time.Duration(seconds * float64(time.Second))) }

// Tick advances the simulation by one step of TickSeconds.
func (s *Sim) Tick() {
	t := s.Seconds()
	s.stepCluster(t)
	slot := int(s.tick % int64(s.releaseLen))
	for _, p := range s.endpoints {
		p.inFlight -= int(p.release[slot])
		p.release[slot] = 0
		if p.hung > 0 && t >= p.hungUntil {
			p.inFlight -= p.hung
			p.hung = 0
		}
	}
	s.stepTraffic(t)
	s.account(t)
	if s.polls() {
		s.pollAgents(t)
	}
	if PeriodStarts(s.tick, s.scrapeEvery) {
		s.scrape(t)
	}
	s.tick++
}

// polls reports whether this tick polls the agents' HSDS (AgentInfo only).
func (s *Sim) polls() bool { return s.sc.AgentSource == AgentInfo && PeriodStarts(s.tick, s.pollEvery) }

// PeriodTicks is a period of seconds in ticks (the agents' polls, the scrapes, the bench's
// control steps), at least one, rounded to 1e-6 tick (0.25 / 0.02 is 12.5, not 12.4999...).
func PeriodTicks(seconds, tick float64) float64 {
	return math.Max(1, math.Round(seconds/tick*1e6)/1e6)
}

// PeriodStarts reports whether tick k starts a new period of p ticks (k = 0 does). A fractional p
// alternates: 12.5 ticks (a 0.25 s poll on 0.02 s ticks) is 13, 12, 13, 12 ..., 0.25 s on
// average, where rounding p to 13 had made every poll 0.26 s apart. An integral p is k % p == 0.
func PeriodStarts(k int64, p float64) bool {
	return k == 0 || math.Floor(float64(k)/p) > math.Floor(float64(k-1)/p)
}

// account adds this tick's cost to the stats.
func (s *Sim) account(t float64) {
	dt := s.sc.TickSeconds
	scheduled := 0
	for _, p := range s.endpoints {
		s.stats.TaskSeconds += float64(p.inFlight) * dt
	}
	for _, p := range s.pods {
		if p.node != nil {
			scheduled++
		}
	}
	s.stats.PodSeconds += float64(scheduled) * dt
	s.stats.NodeSeconds += float64(len(s.nodes)) * dt
	s.stats.Duration = t + dt
}

// ready reports whether the HSDS cluster is READY at t: no cluster-wide not-ready window
// (RescaleNotReady) in force.
func (s *Sim) ready(t float64) bool { return t >= s.notReadyUntil }

// podReady reports whether p's nodes are READY at t.
func (s *Sim) podReady(p *pod, t float64) bool { return s.ready(t) && !p.stuck() }

// rosterChanged rebuilds the endpoint list after `grew` pods started and `shrank` serving pods
// left at t, and applies the rescale cost (podSetChanged).
func (s *Sim) rosterChanged(t float64, grew, shrank int) {
	s.endpoints = s.endpoints[:0]
	for _, p := range s.pods {
		if p.started() {
			s.endpoints = append(s.endpoints, p)
		}
	}
	s.routeDirty = true
	if grew+shrank > 0 {
		s.podSetChanged(t, grew, shrank)
	}
}

// Stats returns a copy of the run's figures so far.
func (s *Sim) Stats() Stats {
	st := s.stats
	st.Timeline = append([]Point(nil), s.stats.Timeline...)
	st.Latency.Counts = append([]int64(nil), s.stats.Latency.Counts...)
	st.Events = maps.Clone(s.stats.Events)
	return st
}

// Status is the cluster's state at one instant, for timelines.
type Status struct {
	Spec, Pods, Running, Nodes int
	Ready                      bool
	// Capacity is (Running - stuck pods) x PodCapacity(Running), requests/s; 0 while not READY.
	Capacity float64
}

// Status reports the cluster's state now.
func (s *Sim) Status() Status {
	st := Status{Spec: int(s.spec), Pods: len(s.pods), Running: len(s.endpoints), Nodes: len(s.nodes), Ready: s.ready(s.Seconds())}
	if st.Ready && st.Running > 0 {
		st.Capacity = s.ratedCapacity(st.Running) * float64(st.Running-s.stuckPods) / float64(st.Running)
	}
	return st
}

// ratedCapacity is s.sc.ClusterCapacity(n), memoized (it integrates numerically).
func (s *Sim) ratedCapacity(n int) float64 {
	for len(s.rated) <= n {
		s.rated = append(s.rated, math.NaN())
	}
	if math.IsNaN(s.rated[n]) {
		s.rated[n] = s.sc.ClusterCapacity(n)
	}
	return s.rated[n]
}

// Record appends a timeline point (the caller decides how often). Its Load is the mean offered
// load since the previous point (at the first, the load at that instant): a plot of a per-second
// trace recorded every control interval then shows its level, not the few instants that fell on
// a record.
func (s *Sim) Record() {
	st := s.Status()
	t := s.Seconds()
	load := s.load(t)
	if n := len(s.stats.Timeline); n > 0 {
		load = meanLoad(s.load, s.stats.Timeline[n-1].T, t)
	}
	s.stats.Timeline = append(s.stats.Timeline, Point{
		T: t, Load: load, Capacity: st.Capacity, Spec: st.Spec, Running: st.Running,
	})
}

// meanLoad is the mean of load over (from, to], sampled at the midpoints of steps of at most
// a quarter second (finer than any trace's bins).
func meanLoad(load LoadFunc, from, to float64) float64 {
	if !(to > from) {
		return load(to)
	}
	n := int(math.Ceil((to - from) / 0.25))
	step, sum := (to-from)/float64(n), 0.0
	for i := range n {
		sum += load(from + (float64(i)+0.5)*step)
	}
	return sum / float64(n)
}
