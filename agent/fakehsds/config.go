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
