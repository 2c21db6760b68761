package sim

import (
	"math"
	"math/rand/v2"

	"github.com/hsds-autoscaler/hsds-autoscaler/bench/loadgen"
)

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

// attempt sends one attempt of r at t to a random endpoint (kube-proxy picks uniformly).
// Order of checks as in HSDS: node state first (not_ready), then the SN task gate (overload).
func (s *Sim) attempt(t float64, r request) {
	s.stats.Attempts++
	if len(s.endpoints) == 0 {
		s.stats.NoEndpoint++
		s.retryOrFail(r)
		return
	}
	p := s.endpoints[s.rng.IntN(len(s.endpoints))]
	switch {
	case !s.ready(t):
		p.counts.notReady++
		s.stats.Rejected.NotReady++
		s.retryOrFail(r)
	case p.inFlight+s.sc.OverheadTasks > s.sc.MaxTaskCount:
		p.counts.overload++
		s.stats.Rejected.Overload++
		s.retryOrFail(r)
	default:
		longest := s.admit(p, r.kind)
		p.counts.ok++
		s.stats.Succeeded++
		s.stats.Latency.Add(t - r.first + longest)
	}
}

// admit starts an admitted request of kind k on p (docs/hsds.md, "Where 503 comes from"): each of its
// worker tasks holds one task for its own service-time draw, its OverheadTasks (handler and
// connection) until the slowest draw ends; a request without workers takes one draw. It returns
// the request's service time.
func (s *Sim) admit(p *pod, k kind) float64 {
	workers := s.sc.tasks(k, s.dnCount())
	longest := 0.0
	for i := range max(workers, 1) {
		svc := s.serviceTime()
		longest = math.Max(longest, svc)
		if i < workers {
			s.hold(p, svc, 1)
		}
	}
	s.hold(p, longest, s.sc.OverheadTasks)
	return longest
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

// retryOrFail applies h5pyd's retry policy to a rejected attempt (docs/hsds.md, "What clients do on
// 503"): POST never retried; others retried up to Retries times after Backoff.
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
