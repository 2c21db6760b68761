package dashboards

import (
	"regexp"
	"slices"
	"strings"

	"github.com/hsds-autoscaler/hsds-autoscaler/agent/schema"
)

// Exporter names the program (and Go package) that exports a metric.
type Exporter string

// Exporters of the metrics the dashboards and alerts read.
const (
	// ExporterAgent is hsds-agent (package agent, names in agent/schema).
	ExporterAgent Exporter = "hsds-agent"
	// ExporterAdapter is `hsds-autoscaler serve`, packages adapter/collector and adapter/provider.
	ExporterAdapter Exporter = "adapter"
	// ExporterScaler is `hsds-autoscaler serve`, package scaler.
	ExporterScaler Exporter = "scaler"
)

// Metric names used by the dashboards and rules. This block and Metrics are the one list to
// update when an exporter renames a metric; TestMetricsExist checks it against the exporters' code.
const (
	AgentResponses      = schema.Responses
	AgentInFlight       = schema.InFlight
	AgentInFlightLimit  = schema.InFlightLimit
	AgentNodeState      = schema.NodeState
	AgentNodeCount      = schema.NodeCount
	AgentUp             = schema.Up
	AgentScrapeDuration = schema.ScrapeDuration
	AgentScrapeErrors   = schema.ScrapeErrors
	AgentInfo           = schema.Info

	AdapterScrapeDuration = "hsds_adapter_scrape_duration_seconds"
	AdapterScrapeErrors   = "hsds_adapter_scrape_errors_total"
	AdapterRoundDuration  = "hsds_adapter_round_duration_seconds"
	AdapterLastRound      = "hsds_adapter_last_successful_round_timestamp_seconds"
	AdapterPods           = "hsds_adapter_pods"
	AdapterTargets        = "hsds_adapter_scrape_targets"
	AdapterAPIDuration    = "hsds_adapter_api_request_duration_seconds"

	ScalerDesired         = "hsds_scaler_desired_replicas"
	ScalerCurrent         = "hsds_scaler_current_replicas"
	ScalerReady           = "hsds_scaler_ready_replicas"
	ScalerPending         = "hsds_scaler_pending_replicas"
	ScalerDecisions       = "hsds_scaler_decisions_total"
	ScalerGuardActive     = "hsds_scaler_guard_active"
	ScalerLastDecision    = "hsds_scaler_last_decision_timestamp_seconds"
	ScalerActuationErrors = "hsds_scaler_actuation_errors_total"
	ScalerStuckPods       = "hsds_scaler_stuck_pods"
	ScalerLeader          = "hsds_scaler_leader"
)

// Metric is one exported metric the dashboards or rules read.
type Metric struct {
	Name     string
	Exporter Exporter
	// Histogram is true for histograms: queries read Name+"_bucket", "_sum" and "_count".
	Histogram bool
}

// Metrics returns every metric the dashboards and rules read, in a fixed order.
func Metrics() []Metric {
	a, d, s := ExporterAgent, ExporterAdapter, ExporterScaler
	return []Metric{
		{AgentResponses, a, false}, {AgentInFlight, a, false}, {AgentInFlightLimit, a, false},
		{AgentNodeState, a, false}, {AgentNodeCount, a, false}, {AgentUp, a, false},
		{AgentScrapeDuration, a, false}, {AgentScrapeErrors, a, false}, {AgentInfo, a, false},

		{AdapterScrapeDuration, d, true}, {AdapterScrapeErrors, d, false}, {AdapterRoundDuration, d, true},
		{AdapterLastRound, d, false}, {AdapterPods, d, false}, {AdapterTargets, d, false},
		{AdapterAPIDuration, d, true},

		{ScalerDesired, s, false}, {ScalerCurrent, s, false}, {ScalerReady, s, false},
		{ScalerPending, s, false}, {ScalerDecisions, s, false}, {ScalerGuardActive, s, false},
		{ScalerLastDecision, s, false}, {ScalerActuationErrors, s, false}, {ScalerStuckPods, s, false},
		{ScalerLeader, s, false},
	}
}

// seriesNames returns every series name Metrics allows in a query (histograms expanded).
func seriesNames() []string {
	var out []string
	for _, m := range Metrics() {
		if m.Histogram {
			out = append(out, m.Name+"_bucket", m.Name+"_sum", m.Name+"_count")
			continue
		}
		out = append(out, m.Name)
	}
	return out
}

// identRE matches a PromQL identifier; string literals are removed before matching.
var identRE = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)

// stringRE matches a PromQL string literal (double, single or back quotes).
var stringRE = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")

// labelListRE matches a grouping or matching label list: by (...), on (...), and the like.
var labelListRE = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)`)

// bracesRE matches a label matcher list; stringRE has already emptied its string literals.
var bracesRE = regexp.MustCompile(`\{[^{}]*\}`)

// MetricNames returns the project metric names (identifiers containing "hsds_", which includes
// recording rules named level:hsds_...:op) that a PromQL expression refers to, sorted and without
// duplicates. String literals, label matchers and label lists (by, on, ...) never count.
func MetricNames(expr string) []string {
	bare := stringRE.ReplaceAllString(expr, `""`)
	bare = labelListRE.ReplaceAllString(bracesRE.ReplaceAllString(bare, "{}"), "$1 ()")
	var out []string
	for _, id := range identRE.FindAllString(bare, -1) {
		if strings.Contains(id, "hsds_") && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}
