package fakehsds

import (
	"fmt"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// node is one HSDS process (SN or DN) as its clients see it. Its fields are guarded by the
// owning Pod's mutex.
type node struct {
	pod       *Pod
	kind      string // schema.NodeSN or schema.NodeDN
	id        string
	startTime int64 // unix seconds, as HSDS app["start_time"]
	state     string
	stuck     bool // StickyWaiting engaged (HSDS issue 423)
	settling  bool // WAITING because of a rescale/restart; READY again when the settle ends
	req       reqCount
	logs      logCount
	// tasks is the live task count: open connections (socket path), request handler tasks and
	// their fan-out worker tasks. HSDS's gate counts unfinished asyncio tasks the same way.
	tasks   int
	metrics *nodeMetrics
}

// reqCount mirrors HSDS's req_count (hsds_logger.py).
type reqCount struct {
	Get      int64 `json:"GET"`
	Post     int64 `json:"POST"`
	Put      int64 `json:"PUT"`
	Delete   int64 `json:"DELETE"`
	NumTasks int64 `json:"num_tasks"`
}

// count adds one gated request of the method; other methods are not counted, as in HSDS.
func (r *reqCount) count(method string) {
	switch method {
	case "GET":
		r.Get++
	case "POST":
		r.Post++
	case "PUT":
		r.Put++
	case "DELETE":
		r.Delete++
	}
}

// logCount mirrors HSDS's log_count, exposed as /info log_stats. HSDS counts only messages at
// or above its log level (default INFO), so DEBUG stays 0.
type logCount struct {
	Debug int64 `json:"DEBUG"`
	Info  int64 `json:"INFO"`
	Warn  int64 `json:"WARN"`
	Error int64 `json:"ERROR"`
}

func newNode(p *Pod, kind string) *node {
	n := &node{pod: p, kind: kind}
	n.reset()
	return n
}

// reset gives the node what a fresh process has: id, start time, zero counters, new /metrics.
func (n *node) reset() {
	n.id = fmt.Sprintf("%s-%s", n.kind, n.pod.cfg.NodeID)
	if g := n.pod.generation; g > 0 {
		n.id = fmt.Sprintf("%s-r%d", n.id, g)
	}
	n.startTime = n.pod.clock.Now().Unix()
	n.req = reqCount{}
	n.logs = logCount{}
	n.metrics = newNodeMetrics(n)
}

// setState changes the state; HSDS logs every change at INFO. Entering WAITING with sticky set
// engages StickyWaiting.
func (n *node) setState(state string, sticky bool) {
	if state != n.state {
		n.logs.Info++
	}
	if state == schema.StateWaiting && sticky {
		n.stuck = true
	}
	n.state = state
}
