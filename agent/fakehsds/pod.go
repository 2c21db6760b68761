package fakehsds

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// ErrStuckWaiting is returned by SetState when a node held WAITING by StickyWaiting (HSDS issue
// 423) is asked to become READY; only Restart clears it.
var ErrStuckWaiting = errors.New("node stuck WAITING (HSDS issue 423): only a restart clears it")

// Pod is one HSDS pod: a service node (SN, client-facing) and a data node (DN). It is safe for
// concurrent use. One mutex guards all of its mutable state.
type Pod struct {
	cfg   Config
	clock clock.WithDelayedExecution

	mu         sync.Mutex
	rng        *rand.Rand
	dnCount    int
	generation int // restarts so far
	settleGen  int // bumps on every rescale/restart; a stale settle timer does nothing
	sn, dn     *node
	truth      truthCounters
	servers    sync.WaitGroup

	loop               *eventLoop
	snRouter, dnRouter http.Handler
	domains            map[string]bool // domains that exist (?domain=)
	dnURL              string          // the DN's URL once ListenAndServe listens
	// StopDN / StartDN: the DN is stopped; the roster dropped it; the drop emptied the roster and
	// made the SN WAITING; dnGen makes a stale drop timer do nothing.
	dnDown, dnDropped, rosterEmptied bool
	dnGen                            int
	// The scale-down gate jam (jam.go): hung tasks added to the SN's count, when they go, and a
	// generation that makes a stale jam timer do nothing.
	jamHung  int
	jamUntil time.Time
	jamGen   int
}

// Truth is the fake's exact ground truth, for tests. Requests and Rejected are cumulative over
// the pod's life (Restart does not clear them, unlike HSDS's own counters).
type Truth struct {
	// Requests counts client-facing SN responses by status code text ("200", "503", ...).
	// The fake's /fake/ control endpoints are not counted.
	Requests map[string]int64 `json:"requests"`
	// Rejected counts SN 503s by cause: "overload", "not_ready", "upstream".
	Rejected map[string]int64 `json:"rejected"`
	// TasksActive is the live task count of the SN right now, without its background tasks
	// (what its gate compares is TasksActive + Config.BackgroundTasks); the hung tasks of a gate
	// jam included.
	TasksActive int `json:"tasks_active"`
	// State is the SN state.
	State string `json:"state"`
	// GateJamUntil is when the SN's scale-down gate jam ends (Config.GateJamChance); zero when
	// its gate is not jammed.
	GateJamUntil time.Time `json:"gate_jam_until,omitzero"`
}

type truthCounters struct {
	requests map[string]int64
	rejected map[string]int64
}

// New builds a pod. Zero DNCount, nil ServiceTime, empty Version, InitialState and NodeID and a
// nil Clock take their defaults; MaxTaskCount 0 disables the gate and RescaleSettle 0 disables the
// settle. The configuration is validated and every problem reported.
func New(cfg Config) (*Pod, error) {
	cfg = cfg.complete()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("fake hsds config: %w", err)
	}
	p := &Pod{
		cfg:     cfg,
		clock:   cfg.Clock,
		rng:     rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		dnCount: cfg.DNCount,
		truth:   truthCounters{requests: map[string]int64{}, rejected: map[string]int64{}},
	}
	p.loop = &eventLoop{clock: cfg.Clock, cost: cfg.LoopCost}
	p.domains = map[string]bool{}
	for _, d := range cfg.Domains {
		p.domains[d] = true
	}
	p.sn = newNode(p, schema.NodeSN)
	p.dn = newNode(p, schema.NodeDN)
	p.snRouter = p.newSNRouter()
	p.dnRouter = p.newDNRouter()
	for _, n := range p.nodes() {
		n.state = cfg.InitialState
		n.stuck = cfg.StickyWaiting && cfg.InitialState == schema.StateWaiting
	}
	return p, nil
}

// SN is the client-facing service node (port 5101 in real HSDS). It serves the fake's /fake/
// control endpoints too. On this plain handler path only request tasks are counted; use
// ListenAndServe to have open connections count as tasks.
func (p *Pod) SN() http.Handler { return http.HandlerFunc(p.serveSN) }

// DN is the data node (port 6101 in real HSDS).
func (p *Pod) DN() http.Handler { return http.HandlerFunc(p.serveDN) }

func (p *Pod) nodes() []*node { return []*node{p.sn, p.dn} }

func (p *Pod) node(name string) (*node, error) {
	switch name {
	case schema.NodeSN:
		return p.sn, nil
	case schema.NodeDN:
		return p.dn, nil
	}
	return nil, fmt.Errorf("node %q: want %q or %q", name, schema.NodeSN, schema.NodeDN)
}

// SetState sets the state of node "sn" or "dn". With StickyWaiting, entering WAITING sticks and
// a later READY fails with ErrStuckWaiting until Restart.
func (p *Pod) SetState(node, state string) error {
	n, err := p.node(node)
	if err != nil {
		return err
	}
	if !validState(state) {
		return fmt.Errorf("state %q: want one of %v", state, schema.States)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	n.settling = false
	if state == schema.StateReady && n.stuck {
		return fmt.Errorf("set %s READY: %w", node, ErrStuckWaiting)
	}
	n.setState(state, p.cfg.StickyWaiting)
	return nil
}

// SetDNCount changes the node_count both nodes report, as a 1.0.1 rescale does: nodes that are
// READY go WAITING for Config.RescaleSettle, then READY again (unless StickyWaiting holds them).
// A lower count (a scale-down) jams the SN's gate with chance Config.GateJamChance (measured on
// 0.9.4 in Kubernetes mode; jam.go). n < 1 is refused (logged); the same count is a no-op.
func (p *Pod) SetDNCount(n int) {
	if n < 1 {
		klog.ErrorS(nil, "Fake HSDS: ignoring DN count below 1", "dnCount", n)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if n == p.dnCount {
		return
	}
	down := n < p.dnCount
	p.dnCount = n
	p.sn.logs.Info++ // "number of dn nodes has changed"
	if down {
		p.jamOnScaleDownLocked()
	}
	if p.cfg.RescaleSettle <= 0 {
		return
	}
	for _, nd := range p.nodes() {
		if nd.state == schema.StateReady || nd.settling {
			nd.setState(schema.StateWaiting, p.cfg.StickyWaiting)
			nd.settling = true
		}
	}
	p.armSettleLocked()
}

// Restart does what restarting the container does: new node ids and start times, HSDS's own
// counters (req_count, log_stats, /metrics) reset, a sticky WAITING cleared, a gate jam cleared
// (the hung requests die with the process); the nodes are WAITING for Config.RescaleSettle and then
// READY. Truth keeps counting; open connections stay open.
func (p *Pod) Restart() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.generation++
	p.clearJamLocked()
	for _, n := range p.nodes() {
		n.reset()
		n.stuck = false
		n.settling = p.cfg.RescaleSettle > 0
		n.state = schema.StateReady
		if n.settling {
			n.state = schema.StateWaiting
		}
	}
	if p.cfg.RescaleSettle > 0 {
		p.armSettleLocked()
	}
}

// armSettleLocked starts the settle timer; an older timer becomes stale. Callers hold p.mu.
func (p *Pod) armSettleLocked() {
	p.settleGen++
	gen := p.settleGen
	p.clock.AfterFunc(p.cfg.RescaleSettle, func() { p.settleDone(gen) })
}

func (p *Pod) settleDone(gen int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if gen != p.settleGen {
		return
	}
	for _, n := range p.nodes() {
		if !n.settling {
			continue
		}
		n.settling = false
		if !n.stuck {
			n.setState(schema.StateReady, false)
		}
	}
}

// Truth returns a copy of the ground-truth counters.
func (p *Pod) Truth() Truth {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Truth{
		Requests:     copyMap(p.truth.requests),
		Rejected:     copyMap(p.truth.rejected),
		TasksActive:  p.sn.tasks,
		State:        p.sn.state,
		GateJamUntil: p.jamUntil,
	}
}

func copyMap(m map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
