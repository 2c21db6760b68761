package fakehsds

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
	"github.com/hsds-autoscaler/hsds-autoscaler/internal/crawler"
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

// samples draws k service times from the pod's seeded generator, in draw order.
func (p *Pod) samples(k int) []time.Duration {
	out := make([]time.Duration, k)
	p.mu.Lock()
	for i := range out {
		out[i] = p.cfg.ServiceTime.Sample(p.rng)
	}
	p.mu.Unlock()
	return out
}

// workItems is how many items an admitted request's workers share: a value request's ?chunks=N
// (capped workers at min(N, 16 x dnCount): the chunks beyond wait in the queue), else one per
// worker.
func workItems(r *http.Request, nWorkers int) int {
	if nWorkers == 0 || !isValuePath(r.URL.Path) {
		return nWorkers
	}
	if n, err := strconv.Atoi(r.URL.Query().Get("chunks")); err == nil && n > nWorkers {
		return n
	}
	return nWorkers
}

// makespan is how long nWorkers workers take for items ServiceTime samples, each worker taking the
// next item when it is free (HSDS's crawler queue); a request without workers takes one sample.
func (p *Pod) makespan(nWorkers, items int) time.Duration {
	draws := p.samples(max(items, 1))
	i := 0
	return crawler.Makespan(make([]time.Duration, max(nWorkers, 1)), len(draws), func() time.Duration { i++; return draws[i-1] })
}

// work runs an admitted request's tasks as HSDS's crawlers do (chunk_crawl.py, domain_crawl.py):
// nWorkers workers take its items off a queue, and every worker lives until the last item is done
// (the crawler cancels them only after the queue's join; measured on 0.9.4,
// TestRealChunkWorkersLiveUntilTheSelectionEnds: all 32 workers live while 14 of 32 chunks
// hang). So the live count holds the whole fan-out for the request's makespan and then drops at
// once. If ctx ends first, the workers are released at once.
func (p *Pod) work(ctx context.Context, nWorkers, items int) {
	if wait := p.makespan(nWorkers, items); wait > 0 {
		t := p.clock.NewTimer(wait)
		select {
		case <-t.C():
		case <-ctx.Done():
			t.Stop()
		}
	}
	p.release(p.sn, nWorkers)
}
