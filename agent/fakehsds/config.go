// Package fakehsds is a faithful fake of one HSDS pod (a service node and a data node) for unit
// tests, the agent's tests, bench calibration, the end-to-end tests and the demo. Every behaviour
// follows a fact of docs/hsds.md (and, where found, HSDS's own source); docs/fake-hsds.md
// lists them. Real HSDS cannot run on the project's machines; this stands in for it.
package fakehsds

import (
	"errors"
	"fmt"
	"time"

	"k8s.io/utils/clock"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// HSDS versions the fake knows how to present.
const (
	// Version1 is the 1.0.x line: serves Prometheus /metrics.
	Version1 = "1.0.1"
	// Version09 is the 0.9.x line: no /metrics, only /info counters.
	Version09 = "0.9.4"
)

// Defaults (HSDS admin/config/config.yml: max_task_count 100, node_sleep_time 10).
const (
	DefaultMaxTaskCount  = 100
	DefaultDNCount       = 1
	DefaultServiceTime   = 5 * time.Millisecond
	DefaultRescaleSettle = 10 * time.Second
	DefaultNodeID        = "fake"
	DefaultSeed          = 1
)

// Config describes one fake HSDS pod.
type Config struct {
	// MaxTaskCount is the SN task gate limit (HSDS max_task_count, default 100). 0 disables the
	// gate, as in HSDS ("if max_task_count and active_tasks > max_task_count").
	MaxTaskCount int
	// DNCount is the node_count the nodes report (data nodes in the cluster), default 1.
	DNCount int
	// ServiceTime is the time one fan-out task takes; default a fixed 5ms.
	ServiceTime Distribution
	// Version is "1.0.1" (default) or "0.9.4"; any other "x.y.z" is reported as is.
	Version string
	// Metrics serves 1.x /metrics (Prometheus text); false acts as 0.9.x (404).
	Metrics bool
	// InitialState is "READY" (default), "WAITING" or "TERMINATING", for both nodes.
	InitialState string
	// StickyWaiting reproduces HSDS issue 423: once WAITING, a node stays WAITING until Restart().
	StickyWaiting bool
	// NodeID is the base of the node ids ("sn-<NodeID>", "dn-<NodeID>"), default "fake".
	NodeID string
	// RescaleSettle is how long both nodes stay WAITING after a DN count change or a Restart
	// (1.0.1's rescale: about one health-check interval, default 10s). 0 disables it.
	RescaleSettle time.Duration
	// Seed seeds the service-time samples: same seed and request order, same samples.
	Seed uint64
	// Clock drives service times, durations and the settle timer; nil means the real clock.
	Clock clock.WithDelayedExecution

	// Measured on the real HSDS 0.9.4 (docs/hsds.md "Measured on the real HSDS 0.9.4"; Measured094
	// sets all of these; DefaultConfig keeps them off so older tests see what they saw).

	// BackgroundTasks are the SN's own always-running asyncio tasks, which its gate counts too:
	// 2 on 0.9.4 (aiohttp run_app's main task and healthCheck), so it admits 2 fewer requests.
	BackgroundTasks int
	// LoopCost is the time one pass of a gated SN request through the SN's single event loop
	// takes (parse, log, gate, handler up to the DN call; then the DN reply and the response).
	// Passes are served one at a time in arrival order, so under load every request, a gate 503
	// included, waits for the passes queued before it. 0 turns the event-loop model off.
	LoopCost time.Duration
	// Roster is how the nodes learn the set of DNs: "kubernetes" (default; pods listed from the
	// API server), "head" (a head node, as under Docker) or "standalone" (fixed --dn_urls).
	Roster string
	// DNDropAfter is how long the roster keeps a DN that stopped (StopDN): meanwhile the SN answers
	// 500 for the keys that DN owns. 0 takes the roster's default: head and kubernetes a uniform
	// draw (seeded) in [10 s, 30 s] and [9 s, 20 s], standalone never. Negative: never.
	DNDropAfter time.Duration
	// Domains exist from the start; GET /?domain= of any other domain answers 404 until a
	// PUT /?domain= creates it.
	Domains []string

	// GateJamChance is the chance that a scale-down (SetDNCount lowering the DN count) jams the SN's
	// task gate, measured on 0.9.4 in Kubernetes mode with pods without a preStop sleep (docs/hsds.md,
	// "The simulator's kubernetes rescale preset (the default) comes from these runs": 8 of 9
	// scale-downs): requests the SN routed to the departed DN hang on its vanished IP until HSDS's
	// timeout, and their tasks fill the gate. A jam adds MaxTaskCount hung tasks to the SN's live task
	// count for a uniform draw in [GateJamMin, GateJamMax] (seeded), so every gated request gets the
	// gate's overload 503 while /info and /about still answer. A further scale-down during a jam may
	// extend it; Restart clears it. 0 (DefaultConfig, Measured094) turns the jam off; with
	// MaxTaskCount 0 (no gate) there is nothing to jam.
	GateJamChance float64
	// GateJamMin and GateJamMax bound how long a jam lasts (measured: 28-32 s).
	GateJamMin, GateJamMax time.Duration
}

// Rosters (Config.Roster).
const (
	RosterKubernetes = "kubernetes"
	RosterHead       = "head"
	RosterStandalone = "standalone"
)

// Defaults of how long a stopped DN stays in the roster (docs/hsds.md "Measured on the real HSDS
// 0.9.4"; standalone forever). Head mode: the head drops a DN whose last check-in is
// 2 x node_sleep_time (20 s) old, that check-in came up to one node_sleep_time before the DN
// stopped, and the SN learns at its next health check, up to one more later (upstream
// hsds/headnode.py Node.is_healthy, basenode.py healthCheck): 10-30 s, measured ~24 s in hsds.md
// and 10.5-29.7 s by bench's TestRealRescaleHeadNode. Kubernetes mode: 9-20 s measured on
// scale-down.
const (
	HeadDNDropMin       = 10 * time.Second
	HeadDNDropMax       = 30 * time.Second
	KubeDNDropMin       = 9 * time.Second
	KubeDNDropMax       = 20 * time.Second
	Measured094Bg       = 2                       // SN background tasks on 0.9.4
	Measured094DN       = 1500 * time.Microsecond // median SN->DN domain GET round trip (calibration)
	Measured094LoopCost = 500 * time.Microsecond  // event-loop time per pass (calibration)
)

// The scale-down gate jam measured on 0.9.4 in Kubernetes mode, pods without a preStop sleep
// (docs/hsds.md, "Measured on the real HSDS 0.9.4", Kubernetes mode under a scaler's load, and
// "The simulator's kubernetes rescale preset (the default) comes from these runs"): in 8 of 9
// scale-downs each remaining SN shed ~100 % of its requests with overload 503s for 28-32 s. The
// simulator's default preset kubernetes (bench/sim/rescale.go) uses the same figures
// (TestRealRescaleCostMatchesPreset keeps them equal).
const (
	MeasuredKube094GateJamChance = 0.9
	MeasuredKube094GateJamMin    = 28 * time.Second
	MeasuredKube094GateJamMax    = 32 * time.Second
)

// Measured094 returns a pod configured as the real HSDS 0.9.4 measured here (head-node roster,
// 2 background tasks, event-loop model, no /metrics); docs/fake-hsds.md "Calibration against
// real HSDS 0.9.4" gives the figures behind it.
func Measured094() Config {
	c := DefaultConfig()
	c.Version = Version09
	c.Metrics = false
	c.BackgroundTasks = Measured094Bg
	c.LoopCost = Measured094LoopCost
	c.ServiceTime = Fixed(Measured094DN)
	c.Roster = RosterHead
	return c
}

// MeasuredKube094 returns Measured094 in Kubernetes mode as users run it, pods without a preStop
// sleep (docs/hsds.md, "Measured on the real HSDS 0.9.4", Kubernetes mode, and "The simulator's
// kubernetes rescale preset (the default) comes from these runs"): the kubernetes roster (a stopped
// DN's keys answer 500 for 9-20 s), the scale-down gate jam on (chance 0.9, 28-32 s), and no
// rescale settle, because in Kubernetes mode the nodes stayed READY through every measured scale-up
// and scale-down: a settle would turn the jam's first 10 s into not-READY 503s, which the real SNs
// never gave. A Restart is therefore READY at once too (real pods: READY within ~2 s).
func MeasuredKube094() Config {
	c := Measured094()
	c.Roster = RosterKubernetes
	c.RescaleSettle = 0
	c.GateJamChance = MeasuredKube094GateJamChance
	c.GateJamMin = MeasuredKube094GateJamMin
	c.GateJamMax = MeasuredKube094GateJamMax
	return c
}

// DefaultConfig returns the configuration of a default HSDS 1.0.1 pod.
func DefaultConfig() Config {
	return Config{
		MaxTaskCount:  DefaultMaxTaskCount,
		DNCount:       DefaultDNCount,
		ServiceTime:   Fixed(DefaultServiceTime),
		Version:       Version1,
		Metrics:       true,
		InitialState:  schema.StateReady,
		NodeID:        DefaultNodeID,
		RescaleSettle: DefaultRescaleSettle,
		Seed:          DefaultSeed,
	}
}

// MetricsByDefault reports whether an HSDS version serves /metrics (1.x does, 0.9.x does not).
func MetricsByDefault(version string) bool {
	return len(version) > 0 && version[0] != '0'
}

// complete fills the fields whose zero value is not meaningful with their defaults.
// MaxTaskCount, Metrics, StickyWaiting, RescaleSettle and Seed keep their zero values.
func (c Config) complete() Config {
	d := DefaultConfig()
	if c.DNCount == 0 {
		c.DNCount = d.DNCount
	}
	if c.ServiceTime == nil {
		c.ServiceTime = d.ServiceTime
	}
	if c.Version == "" {
		c.Version = d.Version
	}
	if c.InitialState == "" {
		c.InitialState = d.InitialState
	}
	if c.NodeID == "" {
		c.NodeID = d.NodeID
	}
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
	if c.Roster == "" {
		c.Roster = RosterKubernetes
	}
	return c
}

// Validate returns every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if c.MaxTaskCount < 0 {
		errs = append(errs, fmt.Errorf("max task count %d: must be >= 0 (0 disables the gate)", c.MaxTaskCount))
	}
	if c.DNCount < 1 {
		errs = append(errs, fmt.Errorf("dn count %d: must be >= 1", c.DNCount))
	}
	if c.ServiceTime == nil {
		errs = append(errs, errors.New("service time: no distribution"))
	}
	if c.Version == "" {
		errs = append(errs, errors.New("version: empty"))
	}
	if !validState(c.InitialState) {
		errs = append(errs, fmt.Errorf("initial state %q: want one of %v", c.InitialState, schema.States))
	}
	if c.RescaleSettle < 0 {
		errs = append(errs, fmt.Errorf("rescale settle %v: must be >= 0", c.RescaleSettle))
	}
	if c.BackgroundTasks < 0 {
		errs = append(errs, fmt.Errorf("background tasks %d: must be >= 0", c.BackgroundTasks))
	}
	if c.LoopCost < 0 || c.LoopCost > time.Second {
		errs = append(errs, fmt.Errorf("loop cost %v: must be in [0, 1s]", c.LoopCost))
	}
	switch c.Roster {
	case "", RosterKubernetes, RosterHead, RosterStandalone:
	default:
		errs = append(errs, fmt.Errorf("roster %q: want %q, %q or %q", c.Roster, RosterKubernetes, RosterHead, RosterStandalone))
	}
	if !(c.GateJamChance >= 0 && c.GateJamChance <= 1) {
		errs = append(errs, fmt.Errorf("gate jam chance %g: must be in [0, 1]", c.GateJamChance))
	}
	if c.GateJamMin < 0 || c.GateJamMax < c.GateJamMin {
		errs = append(errs, fmt.Errorf("gate jam window [%v, %v]: want 0 <= min <= max", c.GateJamMin, c.GateJamMax))
	}
	return errors.Join(errs...)
}

func validState(s string) bool {
	for _, v := range schema.States {
		if s == v {
			return true
		}
	}
	return false
}
