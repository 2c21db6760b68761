// Package schema names the metric set that hsds-agent exports and that the adapter, the bench
// simulator and the dashboards read. These names are the project's public contract: they are
// documented in docs/metrics.md, checked by promtool, and never renamed.
//
// Every source of the agent (HSDS 1.x /metrics, HSDS 0.9.x /info, the counting proxy) exports
// exactly these names, so a consumer never needs to know which source produced them; the
// Info metric's "source" and "exact" labels say how much to trust the 503 split.
package schema

// Metric names exported by hsds-agent.
const (
	// Responses is a counter of client-facing responses at the service node, by status code
	// (label Code) and, for 503s, by cause (label Cause; empty for every other status).
	Responses = "hsds_agent_responses_total"
	// InFlight is a gauge of what the SN task gate compares with its limit: unfinished tasks
	// (sources metrics and info) or requests in flight through the proxy (source proxy).
	InFlight = "hsds_agent_in_flight"
	// InFlightLimit is a gauge of the configured limit, max_task_count.
	InFlightLimit = "hsds_agent_in_flight_limit"
	// NodeState is a state set: 1 for the node's current state, 0 for the others, per node type.
	NodeState = "hsds_agent_node_state"
	// NodeCount is a gauge of the data-node count as the node sees it (HSDS node_count).
	NodeCount = "hsds_agent_data_nodes"
	// Up is 1 when the agent's last read of HSDS succeeded, 0 otherwise.
	Up = "hsds_agent_up"
	// ScrapeDuration is a gauge of how long the agent's last read of HSDS took, in seconds.
	ScrapeDuration = "hsds_agent_scrape_duration_seconds"
	// ScrapeErrors is a counter of failed reads of HSDS, by reason (label Reason).
	ScrapeErrors = "hsds_agent_scrape_errors_total"
	// Info is always 1 and carries the source, whether its 503 split is exact, and HSDS's version.
	Info = "hsds_agent_info"
	// BuildInfo is always 1 and carries the agent's own version, source revision and Go version
	// (labels version, revision, goversion; package internal/version).
	BuildInfo = "hsds_agent_build_info"
)

// Label names.
const (
	LabelCode    = "code"    // HTTP status code as text ("200", "503"), or CodeOther
	LabelCause   = "cause"   // 503 cause: CauseOverload, CauseNotReady, CauseUpstream; "" otherwise
	LabelNode    = "node"    // NodeSN or NodeDN
	LabelState   = "state"   // StateReady, StateWaiting, StateTerminating
	LabelReason  = "reason"  // scrape error reason: "timeout", "connect", "status", "parse", "invalid", "too_large"
	LabelSource  = "source"  // SourceMetrics, SourceInfo, SourceProxy
	LabelExact   = "exact"   // "true" when the 503 count is exact; "false" when it is an upper bound
	LabelVersion = "version" // HSDS version as reported by /about or hsds_info, "" when unknown
)

// Values of LabelCode that are not a status code.
const (
	// CodeOther stands for "a response whose status the source cannot tell" (HSDS 0.9.x /info
	// counts requests but not their status).
	CodeOther = "other"
	// Code503 is the status of every rejection counted by cause.
	Code503 = "503"
)

// Values of LabelCause.
const (
	CauseOverload = "overload"  // the SN task gate: more than max_task_count tasks
	CauseNotReady = "not_ready" // the SN (or the cluster roster) not READY
	CauseUpstream = "upstream"  // a DN 503 or SN->DN timeout passed through the SN
)

// Causes lists every 503 cause in a fixed order.
var Causes = [...]string{CauseOverload, CauseNotReady, CauseUpstream}

// Values of LabelNode.
const (
	NodeSN = "sn"
	NodeDN = "dn"
)

// HSDS node states (docs/hsds.md, "Node states"). SCALING exists only in HSDS's design document.
const (
	StateWaiting     = "WAITING"
	StateReady       = "READY"
	StateTerminating = "TERMINATING"
)

// States lists every node state in a fixed order.
var States = [...]string{StateWaiting, StateReady, StateTerminating}

// Values of LabelSource.
const (
	SourceMetrics = "metrics" // HSDS 1.x /metrics
	SourceInfo    = "info"    // HSDS 0.9.x /info
	SourceProxy   = "proxy"   // counting reverse proxy in front of the SN
)

// DefaultAgentPort is the port hsds-agent serves /metrics on inside the HSDS pod.
const DefaultAgentPort = 9090
