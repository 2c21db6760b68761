package fakehsds

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// Fan-out of one admitted request into worker tasks (docs/hsds.md "Where 503 comes from").
const (
	// TasksPerDNPerRequest is HSDS's max_tasks_per_node_per_request: a chunk read, write or
	// selection fans out to up to this many workers per data node.
	TasksPerDNPerRequest = 16
	// CrawlTasks is the fan-out of a domain crawl (GET /, every h5pyd.File(..., "r")).
	CrawlTasks = 40
)

// workers returns how many worker tasks a request fans out to, besides its own handler task:
// 16 x dnCount for GET/PUT/POST /datasets/{id}/value (capped by ?chunks=N when given), 40 for
// GET / without ?domain= (a crawl), none otherwise (GET /?domain=X is one round trip) (the handler task does the work itself).
func workers(method, path string, query map[string][]string, dnCount int) int {
	if _, ok := query["domain"]; ok && path == "/" {
		return 0 // a domain GET/PUT is one SN->DN round trip (measured on 0.9.4)
	}
	if method == http.MethodGet && path == "/" {
		return CrawlTasks
	}
	if !isValuePath(path) || (method != http.MethodGet && method != http.MethodPut && method != http.MethodPost) {
		return 0
	}
	w := TasksPerDNPerRequest * dnCount
	if c, ok := query["chunks"]; ok && len(c) > 0 {
		if n, err := strconv.Atoi(c[0]); err == nil && n >= 1 {
			w = min(w, n)
		}
	}
	return w
}

// isValuePath reports whether path is /datasets/{id}/value.
func isValuePath(path string) bool {
	rest, ok := strings.CutPrefix(path, "/datasets/")
	if !ok {
		return false
	}
	id, ok := strings.CutSuffix(rest, "/value")
	return ok && id != "" && !strings.Contains(id, "/")
}

// arrive counts a request's own task on n from the moment it arrives (aiohttp creates one task per
// request before HSDS's gate runs in it; a request still queued for the event loop is a task).
func (p *Pod) arrive(n *node) {
	p.mu.Lock()
	n.tasks++
	p.mu.Unlock()
}

// admitSN runs HSDS's request gate on the SN (hsds_logger.request): not READY -> 503 without
// counting the request; otherwise req_count.<METHOD> += 1, num_tasks sampled, and above
// max_task_count -> 503. The count is every live task: the SN's background tasks, open
// connections (socket path), request tasks (this one included, see arrive) and workers. Every
// rejection logs one WARN. On admission the workers are added to the live task count. It returns
// the rejection cause ("" if admitted) and the number of workers.
func (p *Pod) admitSN(r *http.Request) (cause string, nWorkers int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.sn
	if n.state != schema.StateReady {
		n.logs.Warn++ // "returning 503 - node_state: ..."
		return schema.CauseNotReady, 0
	}
	n.req.count(r.Method)
	count := n.tasks + p.cfg.BackgroundTasks
	n.req.NumTasks = int64(count)
	if p.cfg.MaxTaskCount > 0 && count > p.cfg.MaxTaskCount {
		n.logs.Warn++ // "more than {max_task_count} tasks, returning 503"
		return schema.CauseOverload, 0
	}
	nWorkers = workers(r.Method, r.URL.Path, r.URL.Query(), p.dnCount)
	n.tasks += nWorkers
	return "", nWorkers
}

// admitDN runs the same gate on the DN, which has no task limit (HSDS applies max_task_count to
// SN nodes only). hold keeps one DN task busy until released.
func (p *Pod) admitDN(method string, hold bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.dn
	if n.state != schema.StateReady {
		n.logs.Warn++
		return false
	}
	n.req.count(method)
	n.req.NumTasks = int64(n.tasks + 1)
	if hold {
		n.tasks++
	}
	return true
}

func (p *Pod) release(n *node, k int) {
	if k <= 0 {
		return
	}
	p.mu.Lock()
	n.tasks -= k
	p.mu.Unlock()
}

// samples draws k service times from the pod's seeded generator, sorted ascending.
func (p *Pod) samples(k int) []time.Duration {
	out := make([]time.Duration, k)
	p.mu.Lock()
	for i := range out {
		out[i] = p.cfg.ServiceTime.Sample(p.rng)
	}
	p.mu.Unlock()
	slices.Sort(out)
	return out
}

// work runs an admitted request's tasks: each of nWorkers workers takes one ServiceTime sample
// and its task ends when the sample has elapsed (so the live count falls as workers finish);
// the request ends with its slowest worker. A request without workers takes one sample in its
// handler task. Workers are not goroutines: one timer walks the sorted samples. If ctx ends
// first, the remaining workers are released at once.
func (p *Pod) work(ctx context.Context, nWorkers int) {
	samples := p.samples(max(nWorkers, 1))
	// Every worker's end is timed from the request's start (not from the previous timer), so
	// scheduling delays do not add up over up to 40 sequential timers.
	start := p.clock.Now()
	for i, s := range samples {
		if wait := s - p.clock.Since(start); wait > 0 {
			t := p.clock.NewTimer(wait)
			select {
			case <-t.C():
			case <-ctx.Done():
				t.Stop()
				if nWorkers > 0 {
					p.release(p.sn, nWorkers-i)
				}
				return
			}
		}
		if nWorkers > 0 {
			p.release(p.sn, 1)
		}
	}
}
