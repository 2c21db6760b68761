package sim

import "math"

// Stats are one run's client-side and cost figures.
type Stats struct {
	// Requests are logical client requests; each ends Succeeded, Failed, or still waiting to
	// retry when the run ends (Unfinished).
	Requests, Succeeded, Failed int64
	// Attempts counts every try, retries included; Rejected the 503s among them by cause;
	// Errors500 the 500s (partition mismatch after a rescale, retried like a 503); NoEndpoint the
	// tries that found no serving pod (connection refused, retried like a 503).
	Attempts   int64
	Rejected   Rejections
	Errors500  int64
	NoEndpoint int64
	// PodSeconds integrates scheduled pods (starting or serving); NodeSeconds integrates VMs.
	PodSeconds, NodeSeconds float64
	// TaskSeconds integrates the SN task counts of the serving pods (mean in-flight = TaskSeconds
	// / Duration / pods).
	TaskSeconds float64
	// ReplicaChanges counts writes of spec.replicas that changed it.
	ReplicaChanges int
	// Duration is the simulated time covered, in seconds.
	Duration float64
	// Events counts the Kubernetes Events the controller emitted, by reason.
	Events map[string]int
	// Latency of succeeded requests, first attempt to response, retry waits included.
	Latency  Histogram
	Timeline []Point
}

// Rejections counts 503s by cause (agent/schema causes; upstream: passed on from a stuck DN).
type Rejections struct {
	Overload, NotReady, Upstream int64
}

// Total is every 503.
func (r Rejections) Total() int64 { return r.Overload + r.NotReady + r.Upstream }

// Unfinished counts requests still waiting to retry.
func (s Stats) Unfinished() int64 { return s.Requests - s.Succeeded - s.Failed }

// FailedFraction is the client-visible failure fraction of the finished requests.
func (s Stats) FailedFraction() float64 { return ratio(s.Failed, s.Succeeded+s.Failed) }

// RejectedFraction is 503s per attempt.
func (s Stats) RejectedFraction() float64 { return ratio(s.Rejected.Total(), s.Attempts) }

// ErrorFraction is 500s per attempt.
func (s Stats) ErrorFraction() float64 { return ratio(s.Errors500, s.Attempts) }

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Point is one timeline sample.
type Point struct {
	T        float64 // simulated seconds
	Load     float64 // offered logical requests/s, mean since the previous point
	Capacity float64 // serving capacity, requests/s (0 while not READY)
	Spec     int     // spec.replicas
	Running  int     // serving pods
}

func newStats() Stats { return Stats{Latency: newHistogram()} }

// Histogram counts values in log-spaced buckets (histPerDecade per decade from histMin).
type Histogram struct{ Counts []int64 }

const (
	histMin       = 1e-3
	histPerDecade = 20
	histDecades   = 6
)

func newHistogram() Histogram { return Histogram{Counts: make([]int64, histPerDecade*histDecades+1)} }

// Add counts v (seconds).
func (h *Histogram) Add(v float64) {
	i := 0
	if v > histMin {
		i = int(math.Ceil(math.Log10(v/histMin) * histPerDecade))
	}
	h.Counts[min(i, len(h.Counts)-1)]++
}

// Quantile is the upper edge of the bucket holding quantile q (0 when empty); the edges are 12%
// apart, so that is the resolution.
func (h Histogram) Quantile(q float64) float64 {
	total := int64(0)
	for _, c := range h.Counts {
		total += c
	}
	if total == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(total)))
	seen := int64(0)
	for i, c := range h.Counts {
		seen += c
		if seen >= rank {
			return histMin * math.Pow(10, float64(i)/histPerDecade)
		}
	}
	return math.Inf(1)
}
