// Package crawler is HSDS's crawler queue, the one fact the fake HSDS (agent/fakehsds) and the
// simulator (bench/sim) both model: a request's workers start at once, each takes the next item
// off a queue when it is free, and every worker lives until the last item is done (HSDS 0.9.4's
// chunk_crawl.py and domain_crawl.py cancel their workers only after the queue's join; measured
// by agent/fakehsds TestRealChunkWorkersLiveUntilTheSelectionEnds).
package crawler

// Makespan is when the last of items draws ends with len(free) workers (at least one), each item
// going to the worker free first; draw gives the items' times in queue order. free is scratch
// space, cleared first.
func Makespan[D ~int64 | ~float64](free []D, items int, draw func() D) D {
	clear(free)
	var end D
	for range items {
		i := 0
		for j := range free {
			if free[j] < free[i] {
				i = j
			}
		}
		free[i] += draw()
		end = max(end, free[i])
	}
	return end
}
