package agentmetrics

import (
	"errors"
	"fmt"
	"math"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// Cause indexes of Reading.Rejected, in schema.Causes order.
const (
	CauseOverload = iota
	CauseNotReady
	CauseUpstream
	NumCauses
)

// Reading is one agent exposition reduced to what the store needs. Counters are cumulative.
type Reading struct {
	// Responses is the sum of hsds_agent_responses_total over every code and cause.
	Responses float64
	// Rejected is hsds_agent_responses_total{code="503"} by cause (schema.Causes order).
	Rejected [NumCauses]float64
	// InFlight and Limit are hsds_agent_in_flight and hsds_agent_in_flight_limit. HasInFlight is
	// false when the agent exports no in-flight figure (HSDS 0.9.x /info with no recent gated
	// request: its sample is frozen, docs/metrics.md). HasLimit is false when the agent exports no
	// limit (then utilization is unknown, never infinite).
	InFlight    float64
	HasInFlight bool
	Limit       float64
	HasLimit    bool
	// NodeState is the SN state whose hsds_agent_node_state{node="sn"} is 1, "" if none is.
	NodeState string
	// NodeCount is hsds_agent_data_nodes{node="sn"}.
	NodeCount int
	// Up is hsds_agent_up == 1.
	Up bool
	// Exact, Source and Version come from hsds_agent_info.
	Exact   bool
	Source  string
	Version string
}

// Error kinds a caller can tell apart with errors.Is; each maps to a scrape-error reason label.
var (
	// ErrParse: the body is not valid Prometheus text exposition.
	ErrParse = errors.New("parse")
	// ErrInvalid: a value is NaN, infinite or negative, or a required metric is missing.
	ErrInvalid = errors.New("invalid")
)

// CauseIndex returns the Rejected index of a schema cause, or -1 for an unknown cause.
func CauseIndex(cause string) int {
	for i, c := range schema.Causes {
		if c == cause {
			return i
		}
	}
	return -1
}

// checkValue rejects values that cannot be a counter or gauge of the agent.
func checkValue(name string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return fmt.Errorf("%w: %s has value %v", ErrInvalid, name, v)
	}
	return nil
}
