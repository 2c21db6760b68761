package sim

import (
	"math"
	"math/rand/v2"

	"github.com/hsds-autoscaler/hsds-autoscaler/internal/crawler"
)

// kind is a request kind of the mix.
type kind uint8

const (
	kindChunkGet kind = iota
	kindChunkPut
	kindPost
	kindCrawl
	kindSmall
	numKinds
)

// retried reports whether h5pyd retries this kind on 503 (POST never is: docs/hsds.md).
func (k kind) retried() bool { return k != kindPost }

// tasks is how many worker tasks one request of kind k fans out to when the cluster has dnCount
// data nodes: chunk requests to min(ChunksPerRequest, TasksPerNodePerRequest x dnCount), a domain
// crawl to CrawlTasks, anything else to none (its handler task does the work) (docs/hsds.md, "Where
// 503 comes from"). Every request also holds OverheadTasks.
func (s Scenario) tasks(k kind, dnCount int) int {
	switch k {
	case kindChunkGet, kindChunkPut, kindPost:
		return min(s.ChunksPerRequest, s.TasksPerNodePerRequest*max(dnCount, 1))
	case kindCrawl:
		return s.CrawlTasks
	default:
		return 0
	}
}

// MeanTasks is the mean task count of a request of the mix with dnCount data nodes, workers and
// overhead tasks.
func (s Scenario) MeanTasks(dnCount int) float64 {
	m := 0.0
	for k, f := range s.Mix.fractions() {
		m += f * float64(s.tasks(kind(k), dnCount)+s.OverheadTasks)
	}
	return m
}

// items is how many work items one request of kind k hands its workers: a chunk request's
// ChunksPerRequest chunks, a crawl's CrawlTasks objects (one per worker), none otherwise.
func (s Scenario) items(k kind) int {
	switch k {
	case kindChunkGet, kindChunkPut, kindPost:
		return s.ChunksPerRequest
	case kindCrawl:
		return s.CrawlTasks
	default:
		return 0
	}
}

// MeanTaskSeconds is the mean of the task-seconds one request of the mix holds with dnCount data
// nodes. HSDS's crawlers (chunk_crawl.py, domain_crawl.py) start all their workers at once, each
// takes the next item off a queue until it is empty, and every worker is cancelled only after
// the queue's join: so all of a request's workers and its overhead tasks are held until its last
// item is done (measured on 0.9.4: TestRealChunkWorkersLiveUntilTheSelectionEnds). That time is
// the makespan of its items' service-time draws over its workers (the largest draw when there
// are no more items than workers); a request without workers takes one draw. Every task is
// released at the first tick boundary after (half a tick later on average).
func (s Scenario) MeanTaskSeconds(dnCount int) float64 {
	m := 0.0
	for k, f := range s.Mix.fractions() {
		w := s.tasks(kind(k), dnCount)
		held := float64(w + s.OverheadTasks)
		m += f * held * (s.meanMakespan(s.items(kind(k)), w) + s.TickSeconds/2)
	}
	return m
}

// meanMakespan is the mean time workers take to finish items draws, each worker taking the next
// draw when it is free: the largest of max(items, 1) draws when there are no more items than
// workers (meanMaxService), else a seeded Monte Carlo estimate (deterministic).
func (s Scenario) meanMakespan(items, workers int) float64 {
	if items <= max(workers, 1) {
		return s.meanMaxService(max(items, 1))
	}
	const reps = 4000
	r := rand.New(rand.NewPCG(1, uint64(items)<<16|uint64(workers)))
	draw := func() float64 {
		return math.Min(s.ServiceMedianSeconds*math.Exp(s.ServiceSigma*r.NormFloat64()), s.ServiceMaxSeconds)
	}
	free := make([]float64, workers)
	sum := 0.0
	for range reps {
		sum += crawler.Makespan(free, items, draw)
	}
	return sum / reps
}

// longestHold bounds how long one request holds its tasks. Each item's draw is at most
// ServiceMaxSeconds (M), and the worker that takes the last of k items over w workers was free
// first, after at most (k-1) M / w: so (k-1) M / w + M. The fewest workers a chunk request has is
// TasksPerNodePerRequest (one DN); a crawl has one item per worker.
func (s Scenario) longestHold() float64 {
	k, w := float64(max(s.ChunksPerRequest, 1)), float64(max(min(s.ChunksPerRequest, s.TasksPerNodePerRequest), 1))
	return ((k-1)/w + 1) * s.ServiceMaxSeconds
}

// meanMaxService is the mean of the largest of m service-time draws (log-normal, capped at
// ServiceMaxSeconds): the integral of min(cap, median e^(sigma z)) over the density of the
// largest of m standard normals, m phi(z) Phi(z)^(m-1), by the midpoint rule on [-9, 9].
func (s Scenario) meanMaxService(m int) float64 {
	const lo, hi, steps = -9.0, 9.0, 3600
	dz := (hi - lo) / steps
	sum := 0.0
	for i := range steps {
		z := lo + (float64(i)+0.5)*dz
		phi := math.Exp(-z*z/2) / math.Sqrt(2*math.Pi)
		cdf := 0.5 * math.Erfc(-z/math.Sqrt2)
		v := math.Min(s.ServiceMedianSeconds*math.Exp(s.ServiceSigma*z), s.ServiceMaxSeconds)
		sum += v * float64(m) * phi * math.Pow(cdf, float64(m-1)) * dz
	}
	return sum
}

// PodCapacity is the rated request rate (requests/s) of one pod of an n-pod cluster:
// RatedUtilization x the rate at which the pod's requests would hold the tasks the gate leaves
// them on average: max_task_count less the background and mean idle-connection tasks (Little's
// law: rate x mean task-seconds per request = room). It sets the replay's scale
// (PeakFactor) and the timelines' capacity line; the oracle uses the measured capacity
// (MeasureCapacity) instead.
func (s Scenario) PodCapacity(n int) float64 {
	room := float64(s.MaxTaskCount-s.BackgroundTasks) - s.IdleConnectionsPerPod
	return s.RatedUtilization * room / s.MeanTaskSeconds(n)
}

// ClusterCapacity is n x PodCapacity(n).
func (s Scenario) ClusterCapacity(n int) float64 { return float64(n) * s.PodCapacity(n) }

// ReplicasFor is the smallest replica count in [MinReplicas, MaxReplicas] whose rated capacity
// covers rate (MaxReplicas when none does).
func (s Scenario) ReplicasFor(rate float64) int32 {
	for n := s.MinReplicas; n < s.MaxReplicas; n++ {
		if s.ClusterCapacity(int(n)) >= rate {
			return n
		}
	}
	return s.MaxReplicas
}
