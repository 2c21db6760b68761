package sim

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/hsds-autoscaler/hsds-autoscaler/bench/loadgen"
	"github.com/hsds-autoscaler/hsds-autoscaler/internal/crawler"
)

// stuckUnroutedAfter is how long a stuck pod keeps getting client attempts: until its readiness
// probe on the node state (deploy/examples/hsds: every 5 s, 3 failures) takes it out of the
// Service's endpoints. Its DN stays in the HSDS roster (HSDS lists pods, not endpoints).
const stuckUnroutedAfter = 15.0

// routes spread attempts over the pods in proportion to their weights (their shares of client
// connections): every serving pod but those stuck for stuckUnroutedAfter.
type routes struct {
	pods  []*pod
	cum   []float64 // cumulative weights
	until float64   // when the set changes by itself next (a stuck pod's probe fails)
}

// build sets the routes over endpoints at t.
func (r *routes) build(endpoints []*pod, t float64) {
	r.pods, r.cum, r.until = r.pods[:0], r.cum[:0], math.Inf(1)
	sum := 0.0
	for _, p := range endpoints {
		if p.stuck() {
			out := p.stuckSince + stuckUnroutedAfter
			if t >= out {
				continue
			}
			r.until = math.Min(r.until, out)
		}
		sum += p.weight
		r.pods, r.cum = append(r.pods, p), append(r.cum, sum)
	}
}

// pick returns the pod at u in [0, 1) of the total weight, nil when there is none.
func (r *routes) pick(u float64) *pod {
	if len(r.pods) == 0 {
		return nil
	}
	i, _ := slices.BinarySearch(r.cum, u*r.cum[len(r.cum)-1])
	return r.pods[min(i, len(r.pods)-1)]
}

// request is one logical client request (an h5pyd call), across its attempts.
type request struct {
	first   float64 // when the first attempt was sent
	kind    kind
	attempt uint8 // retries already made
}

// retryQueue holds requests waiting to retry, bucketed by the tick they retry at.
type retryQueue struct{ buckets [][]request }

func newRetryQueue(n int) retryQueue { return retryQueue{buckets: make([][]request, n)} }

func (q *retryQueue) push(tick int64, r request) {
	i := tick % int64(len(q.buckets))
	q.buckets[i] = append(q.buckets[i], r)
}

// stepTraffic sends this tick's retries and new arrivals (Poisson, rate = load(t)).
func (s *Sim) stepTraffic(t float64) {
	i := s.tick % int64(len(s.retries.buckets))
	due := s.retries.buckets[i]
	for _, r := range due {
		s.attempt(t, r)
	}
	s.retries.buckets[i] = due[:0] // retries land in other buckets: delay is 1..len-2 ticks
	n := poisson(s.rng, s.load(t)*s.sc.TickSeconds)
	s.stats.Requests += int64(n)
	for range n {
		s.attempt(t, request{first: t, kind: s.pickKind()})
	}
}

// attempt sends one attempt of r at t to a pod picked by the clients' connections (routes).
// Order of checks as in HSDS: node state first (not_ready, not counted in req_count), then the SN
// task gate (overload), then the data nodes the request touches (a 500 in a partition mismatch,
// a 503 passed on from a stuck DN). Every rejection and error logs one WARN (docs/hsds.md).
func (s *Sim) attempt(t float64, r request) {
	s.stats.Attempts++
	if s.routeDirty || t >= s.routes.until {
		s.routes.build(s.endpoints, t)
		s.routeDirty = false
	}
	p := s.routes.pick(s.rng.Float64())
	if p == nil {
		s.stats.NoEndpoint++
		s.retryOrFail(r)
		return
	}
	if !s.podReady(p, t) {
		p.counts.notReady++
		p.agent.warnings++
		s.stats.Rejected.NotReady++
		s.retryOrFail(r)
		return
	}
	p.agent.requests++
	p.agent.numTasks = float64(p.inFlight + s.sc.OverheadTasks)
	if p.inFlight+s.sc.OverheadTasks > s.sc.MaxTaskCount {
		p.counts.overload++
		p.agent.warnings++
		s.stats.Rejected.Overload++
		s.retryOrFail(r)
		return
	}
	if p500, p503 := s.dnFailure(t, s.dnsTouched(r.kind)); p500+p503 > 0 {
		switch u := s.rng.Float64(); {
		case u < p500:
			p.counts.err500++
			p.agent.warnings++
			s.stats.Errors500++
			s.retryOrFail(r)
			return
		case u < p500+p503:
			p.counts.upstream++
			p.agent.warnings++
			s.stats.Rejected.Upstream++
			s.retryOrFail(r)
			return
		}
	}
	longest := s.admit(p, r.kind)
	p.counts.ok++
	s.stats.Succeeded++
	s.stats.Latency.Add(t - r.first + longest)
}

// dnsTouched is how many data nodes a request of kind k touches: its workers' chunks spread
// over the DNs, at least the one that owns the object it names.
func (s *Sim) dnsTouched(k kind) int {
	n := s.dnCount()
	return max(1, min(s.sc.tasks(k, n), n))
}

// admit starts an admitted request of kind k on p (docs/hsds.md, "Where 503 comes from"): its
// workers take its items off a queue, each the next one when it is free, and every worker and its
// OverheadTasks (handler and connection) are held until the last item is done (HSDS cancels its
// crawlers' workers after the queue's join: measured, TestRealChunkWorkersLiveUntilTheSelectionEnds);
// a request without workers takes one draw. It returns the request's service time.
func (s *Sim) admit(p *pod, k kind) float64 {
	workers := s.sc.tasks(k, s.dnCount())
	var svc float64
	switch items := s.sc.items(k); {
	case workers == 0:
		svc = s.serviceTime()
	case items <= workers:
		for range max(items, 1) {
			svc = math.Max(svc, s.serviceTime())
		}
	default:
		if cap(s.free) < workers {
			s.free = make([]float64, workers)
		}
		svc = crawler.Makespan(s.free[:workers], items, s.serviceTime)
	}
	s.hold(p, svc, workers+s.sc.OverheadTasks)
	return svc
}

// hold adds n tasks to p for svc seconds (released at the first tick boundary after).
func (s *Sim) hold(p *pod, svc float64, n int) {
	if n <= 0 {
		return
	}
	ticks := max(1, int64(math.Ceil(svc/s.sc.TickSeconds)))
	p.inFlight += n
	p.release[(s.tick+ticks)%int64(len(p.release))] += int32(n)
}

// dnCount is the DN count the SNs fan out over: the roster, or the override a capacity
// measurement sets.
func (s *Sim) dnCount() int {
	if s.dnOverride > 0 {
		return s.dnOverride
	}
	return len(s.endpoints)
}

// retryOrFail applies h5pyd's retry policy to an attempt answered 500 or 503 (docs/hsds.md, "What
// clients do on 503"): POST never retried; others retried up to Retries times after Backoff.
func (s *Sim) retryOrFail(r request) {
	if !r.kind.retried() || int(r.attempt) >= s.sc.Retries {
		s.stats.Failed++
		return
	}
	r.attempt++
	wait := s.sc.Backoff(int(r.attempt))
	s.retries.push(s.tick+max(1, int64(math.Ceil(wait/s.sc.TickSeconds))), r)
}

// Backoff is the wait before the n-th retry (n >= 1): the server's Retry-After when it sends one
// (urllib3 honours it for 503), else urllib3's backoff: 0 before the first retry, then
// BackoffFactor x 2^(n-1) capped at BackoffMax (0, 2, 4, 8, ... 120 s for factor 1).
func (s Scenario) Backoff(n int) float64 {
	if s.RetryAfterSeconds > 0 {
		return s.RetryAfterSeconds
	}
	r := loadgen.Retry{BackoffFactor: seconds(s.BackoffFactorSeconds), BackoffMax: seconds(s.BackoffMaxSeconds)}
	return r.Backoff(n).Seconds()
}

func (s *Sim) pickKind() kind {
	u := s.rng.Float64()
	for k, f := range s.sc.Mix.fractions() {
		if u < f {
			return kind(k)
		}
		u -= f
	}
	return kindSmall
}

// serviceTime draws a log-normal service time, capped at ServiceMaxSeconds.
func (s *Sim) serviceTime() float64 {
	v := s.sc.ServiceMedianSeconds * math.Exp(s.sc.ServiceSigma*s.rng.NormFloat64())
	return math.Min(v, s.sc.ServiceMaxSeconds)
}

// poisson draws a Poisson variate: Knuth's product method below 30, a rounded normal above.
func poisson(r *rand.Rand, lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda < 30 {
		l, k, p := math.Exp(-lambda), 0, 1.0
		for {
			p *= r.Float64()
			if p <= l {
				return k
			}
			k++
		}
	}
	return max(0, int(math.Round(lambda+math.Sqrt(lambda)*r.NormFloat64())))
}
