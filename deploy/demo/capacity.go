package main

import (
	"math/rand/v2"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/fakehsds"
)

// realPodCapacity is one real HSDS 0.9.4 pod's capacity in requests/s of loadgen.HSDSMix on 2
// shared cores (docs/e2e.md, "Real pods"; the real demo policy's
// podCapacity).
const realPodCapacity = 120

// Request shape of the demo load (loadgen.DefaultMix: chunk reads, writes and POST selections of
// 2 chunks each): tasks one request holds at the SN gate and its fan-out workers.
const (
	demoWorkers       = 2                   // ?chunks=2: min(16 x dn_count, 2) worker tasks
	demoTasksPerReqst = 1 + demoWorkers + 1 // handler + workers + the request's connection
)

// nominalPodCapacity is one READY pod's capacity in requests/s with its task gate full:
// limit / tasks per request requests fit at once (Little's law), each lasting as long as its
// slowest of `workers` service-time samples (mean estimated from 20000 seeded draws). It is a
// reference line for the plot, not what the scaler uses (the scaler learns capacity itself).
func nominalPodCapacity(limit, tasksPerRequest, workers int, d fakehsds.Distribution, seed uint64) float64 {
	if limit <= 0 || tasksPerRequest <= 0 || workers <= 0 || d == nil {
		return 0
	}
	r := rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d))
	const draws = 20000
	total := 0.0
	for range draws {
		slowest := 0.0
		for range workers {
			slowest = max(slowest, d.Sample(r).Seconds())
		}
		total += slowest
	}
	mean := total / draws
	if mean <= 0 {
		return 0
	}
	return float64(limit) / float64(tasksPerRequest) / mean
}
