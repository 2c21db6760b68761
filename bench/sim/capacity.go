package sim

import "math"

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

// retried reports whether h5pyd retries this kind on 503 (POST never is: HSDS.md).
func (k kind) retried() bool { return k != kindPost }

// Tasks is what one request of kind k adds to its SN's task count when the cluster has dnCount
// data nodes: chunk requests fan out to min(ChunksPerRequest, TasksPerNodePerRequest x dnCount)
// tasks, a domain crawl to CrawlTasks, anything else to one (HSDS.md, "Where 503 comes from").
func (s Scenario) tasks(k kind, dnCount int) int {
	switch k {
	case kindChunkGet, kindChunkPut, kindPost:
		return min(s.ChunksPerRequest, s.TasksPerNodePerRequest*max(dnCount, 1))
	case kindCrawl:
		return s.CrawlTasks
	default:
		return 1
	}
}

// MeanTasks is the mean task count of a request of the mix with dnCount data nodes.
func (s Scenario) MeanTasks(dnCount int) float64 {
	m := 0.0
	for k, f := range s.Mix.fractions() {
		m += f * float64(s.tasks(kind(k), dnCount))
	}
	return m
}

// MeanServiceSeconds is how long a request holds its tasks on average: the mean of the
// log-normal service time (exp(mu + sigma^2/2), ignoring the cap) plus half a tick, because
// tasks are released at the first tick boundary after the service time ends.
func (s Scenario) MeanServiceSeconds() float64 {
	return math.Min(s.ServiceMedianSeconds*math.Exp(s.ServiceSigma*s.ServiceSigma/2), s.ServiceMaxSeconds) + s.TickSeconds/2
}

// PodCapacity is the rated request rate (requests/s) of one pod of an n-pod cluster:
// RatedUtilization x the rate at which the pod would hold max_task_count tasks on average
// (Little's law: rate x mean tasks x mean service time = limit).
func (s Scenario) PodCapacity(n int) float64 {
	return s.RatedUtilization * float64(s.MaxTaskCount) / (s.MeanTasks(n) * s.MeanServiceSeconds())
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
